"""Reports read the projections themselves: the report tables, their notes and running counts go.

Migrations 0004 to 0006 kept copies of the clocks and events for reports, a note per write, running sums
and rendered JSON lines, caught up before each report. Reports now read `cases`, `clocks` and `events` as
the append writes them (`tracker.reports.queries`), so those tables and the triggers that noted writes are
dropped.

A clock's status as of a date now follows from its own dates, so `clocks` gains `excepted_on`, the date of
its exception. Two indexes serve the report's queries: the events of a type dated in a range now carry
their case and number (a count of cases per step reads the index alone), and cases are indexed by pack and
opening date. `projection_rules` holds the fingerprint of the rules the projections were computed with:
left with a marker that matches no rules where cases exist, so that `caseclock init` refolds every case
(which fills `excepted_on`) before the first report.

The downgrade rebuilds the 0006 tables as those migrations made them (copying the projections into the
report tables and noting every case for a recount) and drops what this one added.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NEEDS_REBUILD = "needs-rebuild"
"""The fingerprint of projections computed before this migration: matches no rules."""

_REPORT_TABLES = (
    "report_clocks",
    "report_events",
    "report_stale",
    "report_day_lines",
    "report_counts",
    "report_cases",
    "report_count_packs",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS report_stale_event")
        op.execute("DROP TRIGGER IF EXISTS report_stale_case")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_stale_event ON events")
        op.execute("DROP TRIGGER IF EXISTS report_stale_case ON cases")
        op.execute("DROP FUNCTION IF EXISTS caseclock_report_stale_event()")
        op.execute("DROP FUNCTION IF EXISTS caseclock_report_stale_case()")
    for table in _REPORT_TABLES:
        op.drop_table(table)
    op.add_column("clocks", sa.Column("excepted_on", sa.Date()))
    op.drop_index("ix_events_type_occurred_on", table_name="events")
    op.create_index("ix_events_type_occurred_on", "events", ["type", "occurred_on", "case_id", "seq"])
    op.create_index("ix_cases_pack_opened_on", "cases", ["pack", "opened_on"])
    op.create_table(
        "projection_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )
    op.execute(
        f"INSERT INTO projection_rules (id, fingerprint) SELECT 1, '{NEEDS_REBUILD}' "
        "WHERE EXISTS (SELECT 1 FROM cases)"
    )


def downgrade() -> None:
    op.drop_table("projection_rules")
    op.drop_index("ix_cases_pack_opened_on", table_name="cases")
    op.drop_index("ix_events_type_occurred_on", table_name="events")
    op.create_index("ix_events_type_occurred_on", "events", ["type", "occurred_on"])
    op.execute("ALTER TABLE clocks DROP COLUMN excepted_on")  # SQLite 3.35+ and PostgreSQL alike
    for name in ("0004_report_tables", "0005_report_catch_up", "0006_report_counts"):
        _earlier(name).upgrade()


def _earlier(name: str) -> object:
    """An earlier migration's module, whose `upgrade` remakes the tables this one dropped."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"caseclock_migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
