"""The case list's index: cases in the list's order (dated clocks first, by due date, then by reference).

The TUI and `caseclock cases` read a page at a time, most urgent first, often with a search on the
reference or the caseworker. With this index the database walks the cases in that order and stops once a
page is full, testing the search on the index entries rather than reading every case row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_list",
        "cases",
        [sa.text("(next_due_on IS NULL)"), "next_due_on", "ref", "owner", "closed_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_list", table_name="cases")
