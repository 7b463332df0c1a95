"""The clocks and events as reports read them: `report_clocks` and `report_events`, kept by triggers.

A year's compliance report reads ~200,000 clock rows and ~300,000 events. From `clocks` and `events` that
is a join to `cases` (pack, reference, caseworker, opening date) for every row, a sort, and reads scattered
over two wide tables. The report tables hold the same rows with those case columns, in the orders reports
read them: `report_clocks` by (pack, due date, reference, clock, number), a period's clocks in the order
they are listed; `report_events` by (pack, opening date, case, seq), the events of the cases opened in a
period, and indexed by (pack, type, date). Both are copies, so the database keeps them: triggers on
`clocks` (insert, update, delete), `events` (insert: events are append-only) and `cases` (a new
caseworker, say) write them in the transaction that writes what they copy, and every writer (open, record,
void, imports, rebuild) is covered without code of its own. The upgrade fills them from the existing rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
# Code-point order on PostgreSQL too, as on SQLite and in Python: reports list clocks in key order.
Ref = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")

_CLOCK_COLUMNS = (
    "pack, due_on, ref, clock, number, case_id, kpi, pack_version, starts_on, stopped_on, ended_on, "
    "ended_by, exception_reason, exception_until, final_status, owner"
)
_EVENT_COLUMNS = "pack, opened_on, case_id, seq, type, occurred_on, ref, data"


def _clock(row: str) -> str:
    """The report row of clock row `row` (NEW, or k in the fill), with its case's columns from c."""
    return (
        f"c.pack, {row}.due_on, c.ref, {row}.clock, {row}.number, {row}.case_id, {row}.kpi, "
        f"{row}.pack_version, {row}.starts_on, {row}.stopped_on, {row}.ended_on, {row}.ended_by, "
        f"{row}.exception_reason, {row}.exception_until, {row}.final_status, c.owner"
    )


def _event(row: str) -> str:
    """The report row of event row `row`, with its case's columns from c.

    The opening event's payload (the case's fields, names and contacts included: most of the events' bytes)
    is not copied: reports read case fields from `cases`.
    """
    return (
        f"c.pack, c.opened_on, {row}.case_id, {row}.seq, {row}.type, {row}.occurred_on, c.ref, "
        f"CASE WHEN {row}.seq = 1 THEN NULL ELSE {row}.data END"
    )


_INSERT_CLOCK = (
    f"INSERT INTO report_clocks ({_CLOCK_COLUMNS}) SELECT {_clock('NEW')} FROM cases c WHERE c.id = NEW.case_id"
)
_UPDATE_CLOCK = (
    "UPDATE report_clocks SET due_on = NEW.due_on, clock = NEW.clock, number = NEW.number, "
    "case_id = NEW.case_id, kpi = NEW.kpi, pack_version = NEW.pack_version, starts_on = NEW.starts_on, "
    "stopped_on = NEW.stopped_on, ended_on = NEW.ended_on, ended_by = NEW.ended_by, "
    "exception_reason = NEW.exception_reason, exception_until = NEW.exception_until, "
    "final_status = NEW.final_status "
    "WHERE case_id = OLD.case_id AND clock = OLD.clock AND number = OLD.number"
)
_DELETE_CLOCK = (
    "DELETE FROM report_clocks WHERE case_id = OLD.case_id AND clock = OLD.clock AND number = OLD.number"
)
_INSERT_EVENT = (
    f"INSERT INTO report_events ({_EVENT_COLUMNS}) SELECT {_event('NEW')} FROM cases c WHERE c.id = NEW.case_id"
)
_CASE_CHANGED = {
    "sqlite": "OLD.owner IS NOT NEW.owner OR OLD.ref IS NOT NEW.ref OR OLD.pack IS NOT NEW.pack "
    "OR OLD.opened_on IS NOT NEW.opened_on",
    "postgresql": "OLD.owner IS DISTINCT FROM NEW.owner OR OLD.ref IS DISTINCT FROM NEW.ref "
    "OR OLD.pack IS DISTINCT FROM NEW.pack OR OLD.opened_on IS DISTINCT FROM NEW.opened_on",
}
_CASE = (
    "UPDATE report_clocks SET pack = NEW.pack, ref = NEW.ref, owner = NEW.owner WHERE case_id = NEW.id; "
    "UPDATE report_events SET pack = NEW.pack, ref = NEW.ref, opened_on = NEW.opened_on WHERE case_id = NEW.id"
)


def upgrade() -> None:
    op.create_table(
        "report_clocks",
        sa.Column("pack", sa.String(48), primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column("ref", Ref, primary_key=True),
        sa.Column("clock", sa.String(48), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("kpi", sa.String(32), nullable=False),
        sa.Column("pack_version", sa.String(32), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("stopped_on", sa.Date),
        sa.Column("ended_on", sa.Date),
        sa.Column("ended_by", sa.String(48)),
        sa.Column("exception_reason", sa.String(48)),
        sa.Column("exception_until", sa.Date),
        sa.Column("final_status", sa.String(16)),
        sa.Column("owner", sa.String(200)),
        sqlite_with_rowid=False,
    )
    op.create_index("ux_report_clocks_clock", "report_clocks", ["case_id", "clock", "number"], unique=True)
    op.create_table(
        "report_events",
        sa.Column("pack", sa.String(48), primary_key=True),
        sa.Column("opened_on", sa.Date, primary_key=True),
        sa.Column("case_id", Id, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("data", Json),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_report_events_type", "report_events", ["pack", "type", "occurred_on", "case_id"])
    op.execute(
        f"INSERT INTO report_clocks ({_CLOCK_COLUMNS}) SELECT {_clock('k')} "
        "FROM clocks k JOIN cases c ON c.id = k.case_id ORDER BY c.pack, k.due_on, c.ref, k.clock, k.number"
    )
    op.execute(
        f"INSERT INTO report_events ({_EVENT_COLUMNS}) SELECT {_event('e')} "
        "FROM events e JOIN cases c ON c.id = e.case_id ORDER BY c.pack, c.opened_on, e.case_id, e.seq"
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"CREATE TRIGGER report_clocks_insert AFTER INSERT ON clocks BEGIN {_INSERT_CLOCK}; END")
        op.execute(f"CREATE TRIGGER report_clocks_update AFTER UPDATE ON clocks BEGIN {_UPDATE_CLOCK}; END")
        op.execute(f"CREATE TRIGGER report_clocks_delete AFTER DELETE ON clocks BEGIN {_DELETE_CLOCK}; END")
        op.execute(f"CREATE TRIGGER report_events_insert AFTER INSERT ON events BEGIN {_INSERT_EVENT}; END")
        op.execute(
            "CREATE TRIGGER report_tables_case AFTER UPDATE OF owner, ref, pack, opened_on ON cases "
            f"WHEN {_CASE_CHANGED['sqlite']} BEGIN {_CASE}; END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION caseclock_report_clocks() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'INSERT' THEN {_INSERT_CLOCK}; "
            f"ELSIF TG_OP = 'UPDATE' THEN {_UPDATE_CLOCK}; "
            f"ELSE {_DELETE_CLOCK}; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER report_clocks_sync AFTER INSERT OR UPDATE OR DELETE ON clocks "
            "FOR EACH ROW EXECUTE FUNCTION caseclock_report_clocks()"
        )
        op.execute(
            "CREATE FUNCTION caseclock_report_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{_INSERT_EVENT}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER report_events_insert AFTER INSERT ON events "
            "FOR EACH ROW EXECUTE FUNCTION caseclock_report_events()"
        )
        op.execute(
            "CREATE FUNCTION caseclock_report_tables_case() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{_CASE}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER report_tables_case AFTER UPDATE OF owner, ref, pack, opened_on ON cases "
            f"FOR EACH ROW WHEN ({_CASE_CHANGED['postgresql']}) "
            "EXECUTE FUNCTION caseclock_report_tables_case()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("clocks_insert", "clocks_update", "clocks_delete", "events_insert", "tables_case"):
            op.execute(f"DROP TRIGGER IF EXISTS report_{name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_tables_case ON cases")
        op.execute("DROP TRIGGER IF EXISTS report_events_insert ON events")
        op.execute("DROP TRIGGER IF EXISTS report_clocks_sync ON clocks")
        for name in ("report_tables_case", "report_events", "report_clocks"):
            op.execute(f"DROP FUNCTION IF EXISTS caseclock_{name}()")
    op.drop_index("ix_report_events_type", table_name="report_events")
    op.drop_table("report_events")
    op.drop_index("ux_report_clocks_clock", table_name="report_clocks")
    op.drop_table("report_clocks")
