"""Letters sent by email: one row per letter, written before it is sent (`caseclock send`).

A row is `pending` before the email goes, `sent` once the SMTP server accepted it, and `recorded` in the
transaction that records the letter's event on the case. A retry after a crash finds the `sent` row and
records the event without sending the letter again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracker.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "letter_sends",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(200), nullable=False, unique=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("event_seq", sa.Integer),
    )
    op.create_index("ix_letter_sends_ref_kind", "letter_sends", ["ref", "kind", "status"])


def downgrade() -> None:
    op.drop_index("ix_letter_sends_ref_kind", table_name="letter_sends")
    op.drop_table("letter_sends")
