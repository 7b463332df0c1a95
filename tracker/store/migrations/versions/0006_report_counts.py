"""Reports read running counts and rendered lines instead of grouping a year of rows each time.

A year's export of a large service grouped 200,000 clocks and 300,000 events and rendered 200,000 JSON
lines every time it was read: several seconds. The catch-up that brings the report tables up to date now
also keeps, for each pack, the sums of what its cases count (`report_counts`, and the pack version they
were made with in `report_count_packs`; `report_cases` keeps the case columns counted, so that a recount
can take off what a case counted before), and renders each final clock's JSON line into `report_clocks.line`, each day's lines joined into
`report_day_lines`.

Every case is noted here, and no pack has counts yet, so the first catch-up after the upgrade writes the
report tables and the counts afresh (seconds for 100,000 cases).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("report_clocks", sa.Column("line", sa.Text()))
    op.create_table(
        "report_day_lines",
        sa.Column("pack", sa.String(48), primary_key=True),
        sa.Column("due_on", sa.Date(), primary_key=True),
        sa.Column("lines", sa.Text()),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_counts",
        sa.Column("pack", sa.String(48), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("since", sa.Date()),
        sa.Column("n", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_cases",
        sa.Column("case_id", Id, primary_key=True),
        sa.Column("pack", sa.String(48), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("case_type", sa.String(48), nullable=False),
        sa.Column("state", sa.String(48), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date()),
        sa.Column("fields", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    )
    op.create_table(
        "report_count_packs",
        sa.Column("pack", sa.String(48), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
    )
    op.execute("INSERT INTO report_stale (case_id) SELECT id FROM cases")


def downgrade() -> None:
    raise NotImplementedError("caseclock upgrades only; restore a backup to go back")
