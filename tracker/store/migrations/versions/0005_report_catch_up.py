"""The report tables catch up before a report instead of being written with every event.

Migration 0004's triggers copied each event and each clock change into `report_events` and
`report_clocks` inside the transaction that wrote it: two more tables and their indexes on every append,
about a quarter of an append's time. Reports are read far less often than events are written, so the
copies are now made when a report is about to be read (`tracker.report_tables.catch_up`), for the cases
written since the last report. A write only notes its case in `report_stale`, one small row at the end of a
table; a trigger on `events` does it, so every writer of events is covered without code of its own, and
another on `cases` notes a case whose reference, pack, opening date or caseworker changed (`rebuild`
notes the cases whose clocks it moves). The notes of a catch-up are deleted in the transaction that
rewrites their cases' report rows.

`report_events` gains an index by case, for the catch-up's rewrite of one case's rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_NOTE_EVENT = "INSERT INTO report_stale (case_id) VALUES (NEW.case_id)"
_NOTE_CASE = "INSERT INTO report_stale (case_id) VALUES (NEW.id)"
_CASE_CHANGED = {
    "sqlite": "OLD.owner IS NOT NEW.owner OR OLD.ref IS NOT NEW.ref OR OLD.pack IS NOT NEW.pack "
    "OR OLD.opened_on IS NOT NEW.opened_on",
    "postgresql": "OLD.owner IS DISTINCT FROM NEW.owner OR OLD.ref IS DISTINCT FROM NEW.ref "
    "OR OLD.pack IS DISTINCT FROM NEW.pack OR OLD.opened_on IS DISTINCT FROM NEW.opened_on",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_copying_triggers(dialect)
    op.create_table(
        "report_stale",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("case_id", Id, nullable=False),
    )
    op.create_index("ix_report_events_case", "report_events", ["case_id", "seq"])
    if dialect == "sqlite":
        op.execute(f"CREATE TRIGGER report_stale_event AFTER INSERT ON events BEGIN {_NOTE_EVENT}; END")
        op.execute(
            "CREATE TRIGGER report_stale_case AFTER UPDATE OF owner, ref, pack, opened_on ON cases "
            f"WHEN {_CASE_CHANGED['sqlite']} BEGIN {_NOTE_CASE}; END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION caseclock_report_stale_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{_NOTE_EVENT}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER report_stale_event AFTER INSERT ON events "
            "FOR EACH ROW EXECUTE FUNCTION caseclock_report_stale_event()"
        )
        op.execute(
            "CREATE FUNCTION caseclock_report_stale_case() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{_NOTE_CASE}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER report_stale_case AFTER UPDATE OF owner, ref, pack, opened_on ON cases "
            f"FOR EACH ROW WHEN ({_CASE_CHANGED['postgresql']}) "
            "EXECUTE FUNCTION caseclock_report_stale_case()"
        )


def _drop_copying_triggers(dialect: str) -> None:
    """Migration 0004's triggers (the tables they kept are up to date at this point)."""
    if dialect == "sqlite":
        for name in ("clocks_insert", "clocks_update", "clocks_delete", "events_insert", "tables_case"):
            op.execute(f"DROP TRIGGER IF EXISTS report_{name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_tables_case ON cases")
        op.execute("DROP TRIGGER IF EXISTS report_events_insert ON events")
        op.execute("DROP TRIGGER IF EXISTS report_clocks_sync ON clocks")
        for name in ("report_tables_case", "report_events", "report_clocks"):
            op.execute(f"DROP FUNCTION IF EXISTS caseclock_{name}()")


def downgrade() -> None:
    raise NotImplementedError("caseclock upgrades only; restore a backup to go back")
