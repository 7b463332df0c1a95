"""Append-only guards on every path the database offers, and a hash chain over each case's events.

Adds `events.hash` and fills it for the events already stored, each case's chain in seq order (the UPDATE
guard is lifted for that alone, inside this migration's transaction), then installs every guard of
`tracker.store.guards`: SQLite's REPLACE/INSERT-conflict, case DELETE, INSERT and identity triggers;
PostgreSQL's TRUNCATE triggers and the rest, all `ENABLE ALWAYS`. The guards are the current release's
(`caseclock init` restores the same set), so this migration installs them through that module.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tracker.domain.chain import stored_event_hash
from tracker.store import guards
from tracker.store.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BATCH = 5000

_events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("type", sa.String),
    sa.column("occurred_on", sa.Date),
    sa.column("data", sa.JSON().with_variant(JSONB(), "postgresql")),
    sa.column("actor", sa.String),
    sa.column("recorded_at", UTCDateTime),
    sa.column("schema_version", sa.Integer),
    sa.column("hash", sa.String),
)
_cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("ref", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    # SQLite cannot add a NOT NULL column without a default: its insert trigger refuses a NULL hash instead.
    op.add_column("events", sa.Column("hash", sa.String(64), nullable=True))
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
    else:
        op.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    _fill_hashes(connection)
    if not sqlite:
        op.alter_column("events", "hash", nullable=False)
    guards.install_guards(connection)


def _fill_hashes(connection: Any) -> None:
    """Chain every case's stored events in seq order, a batch of cases at a time.

    Events left without a case row (deleted with foreign keys off, before these guards) are chained with an
    empty reference, so the column can be filled; `caseclock verify` names them.
    """
    e, c = _events.c, _cases.c
    update = _events.update().where(e.id == sa.bindparam("b_id")).values(hash=sa.bindparam("b_hash"))
    last_id = 0
    while True:
        case_ids = list(
            connection.execute(
                sa.select(e.case_id).distinct().where(e.case_id > last_id).order_by(e.case_id).limit(_BATCH)
            ).scalars()
        )
        if not case_ids:
            return
        first_id, last_id = case_ids[0], case_ids[-1]
        query = (
            sa.select(
                e.id,
                c.ref,
                e.case_id,
                e.seq,
                e.type,
                e.occurred_on,
                e.data,
                e.actor,
                e.recorded_at,
                e.schema_version,
            )
            .outerjoin_from(_events, _cases, c.id == e.case_id)
            .where(e.case_id.between(first_id, last_id))
            .order_by(e.case_id, e.seq)
        )
        previous: str | None = None
        case_id = None
        hashes: list[dict[str, Any]] = []
        for row in connection.execute(query).all():
            if row.case_id != case_id:
                case_id, previous = row.case_id, None
            previous = stored_event_hash(previous, row)
            hashes.append({"b_id": row.id, "b_hash": previous})
        connection.execute(update, hashes)


def downgrade() -> None:
    connection = op.get_bind()
    guards.drop_guards(connection)
    op.drop_column("events", "hash")
