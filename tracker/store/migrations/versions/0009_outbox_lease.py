"""The alert outbox claims rows with a lease, honours Retry-After, and records who acknowledged a failure.

A delivery pass no longer keeps a transaction open while an alert is on the wire: it claims a few rows
(`status = 'sending'`, `claimed_by`, `lease_until`) and commits, sends with no transaction open, then marks
each row in a short transaction of its own. A sender that dies leaves its rows `sending` until the lease
runs out (or, on the same machine, until its process is seen to be gone), and they are sent again with the
same id.

`not_before` is the time a receiver's `Retry-After` asked for: no pass, `check` included, tries the row
earlier. `acknowledged_at` and `acknowledged_by` record `caseclock alerts --ack ID` on a failed alert:
`check` exits 1 while a failed alert is not acknowledged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracker.store.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = ("lease_until", "claimed_by", "not_before", "acknowledged_at", "acknowledged_by")


def upgrade() -> None:
    op.add_column("alert_outbox", sa.Column("lease_until", UTCDateTime))
    op.add_column("alert_outbox", sa.Column("claimed_by", sa.String(120)))
    op.add_column("alert_outbox", sa.Column("not_before", UTCDateTime))
    op.add_column("alert_outbox", sa.Column("acknowledged_at", UTCDateTime))
    op.add_column("alert_outbox", sa.Column("acknowledged_by", sa.String(120)))


def downgrade() -> None:
    # A row claimed when the downgrade runs goes back to pending: the older code knows no `sending`.
    op.execute("UPDATE alert_outbox SET status = 'pending' WHERE status = 'sending'")
    op.execute("UPDATE alert_outbox SET status = 'cancelled' WHERE status = 'superseded'")
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy of the table would reflect `cases`
    # through the foreign key, and SQLAlchemy cannot reflect its expression index.
    for name in reversed(_COLUMNS):
        op.execute(f"ALTER TABLE alert_outbox DROP COLUMN {name}")
