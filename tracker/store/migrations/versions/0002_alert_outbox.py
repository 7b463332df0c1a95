"""The alert outbox: every alert recorded before it is sent, once per clock, level, channel and recipient.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tracker.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), nullable=False, unique=True),
        sa.Column("case_id", Id, sa.ForeignKey("cases.id")),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("clock", sa.String(48), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(80), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("decided_on", sa.Date, nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint(
            "ref", "clock", "number", "level", "channel", "recipient", name="uq_alert_outbox_key"
        ),
    )
    op.create_index("ix_alert_outbox_status_id", "alert_outbox", ["status", "id"])
    # The alert pass reads the open clocks due by a date: index only those (most clocks are closed).
    op.create_index(
        "ix_clocks_open_due_on",
        "clocks",
        ["due_on"],
        sqlite_where=sa.text("final_status IS NULL"),
        postgresql_where=sa.text("final_status IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_clocks_open_due_on", table_name="clocks")
    op.drop_index("ix_alert_outbox_status_id", table_name="alert_outbox")
    op.drop_table("alert_outbox")
