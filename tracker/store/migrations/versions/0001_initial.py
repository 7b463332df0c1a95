"""Cases, their append-only events, and the clock projection.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tracker.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(64), nullable=False, unique=True),
        sa.Column("pack", sa.String(48), nullable=False),
        sa.Column("pack_version", sa.String(32), nullable=False),
        sa.Column("case_type", sa.String(48), nullable=False),
        sa.Column("state", sa.String(48), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.Column("owner", sa.String(200)),
        sa.Column("fields", Json, nullable=False),
        sa.Column("personal", Json, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("next_clock", sa.String(48)),
        sa.Column("next_due_on", sa.Date),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_cases_next_due_on", "cases", ["next_due_on"])
    op.create_index("ix_cases_owner", "cases", ["owner"])
    op.create_index("ix_cases_opened_on", "cases", ["opened_on"])
    op.create_table(
        "events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),
    )
    op.create_index("ix_events_type_occurred_on", "events", ["type", "occurred_on"])
    op.create_table(
        "clocks",
        sa.Column("case_id", Id, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("clock", sa.String(48), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("kpi", sa.String(32), nullable=False),
        sa.Column("pack_version", sa.String(32), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("stopped_on", sa.Date),
        sa.Column("ended_on", sa.Date),
        sa.Column("ended_by", sa.String(48)),
        sa.Column("exception_reason", sa.String(48)),
        sa.Column("exception_until", sa.Date),
        sa.Column("exception_note", sa.Text),
        sa.Column("final_status", sa.String(16)),
    )
    op.create_index("ix_clocks_due_on", "clocks", ["due_on"])
    _forbid_event_changes()


def _forbid_event_changes() -> None:
    """Events are append-only: the database itself refuses UPDATE and DELETE on them."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
                "BEGIN SELECT RAISE(ABORT, 'events are append-only: void an event instead'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION caseclock_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'events are append-only: void an event instead'; END $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION caseclock_events_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS caseclock_events_append_only()")
    op.drop_table("clocks")
    op.drop_table("events")
    op.drop_table("cases")
