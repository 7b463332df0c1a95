"""Personal data apart from the append-only events: the per-case personal store.

Every personal value and free text an event's payload held (the pack's `personal` case fields, every `text`
field, a void's reason) moves to `personal_values`, and the payload keeps the marker
`tracker.domain.personal.HELD_APART` in its place: the facts (and so every clock, KPI and count) stay as
they were, and erasing a case becomes a DELETE of its rows there. The events' append-only triggers are
dropped and recreated around the rewrite, in this migration's transaction: nothing else rewrites an event.

Which keys are personal comes from the rule packs, which only the caller knows: `caseclock init` (and
`restore`) pass them as `config.attributes["personal_keys"]`, a function of (pack id, event type). A
database with events upgraded without them is refused, and nothing changes.

The projections' copies go: `cases.personal` and `clocks.exception_note` (a case's personal fields and an
exception's note are read from the personal store when the case is shown), and the projections are marked
for a refold, which `caseclock init` runs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tracker.domain.personal import HELD_APART, split

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NEEDS_REBUILD = "needs-rebuild"
"""The fingerprint of projections computed before this migration: matches no rules (as in 0007)."""

_events = sa.table(
    "events",
    sa.column("id", Id),
    sa.column("case_id", Id),
    sa.column("seq", sa.Integer),
    sa.column("type", sa.String),
    sa.column("data", Json),
)
_cases = sa.table("cases", sa.column("id", Id), sa.column("pack", sa.String))
_values = sa.table(
    "personal_values",
    sa.column("case_id", Id),
    sa.column("seq", sa.Integer),
    sa.column("key", sa.String),
    sa.column("value", Json),
)
_BATCH = 2000


def upgrade() -> None:
    op.create_table(
        "personal_values",
        sa.Column("case_id", Id, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(48), primary_key=True),
        sa.Column("value", Json, nullable=False),
    )
    bind = op.get_bind()
    has_events = bind.execute(sa.select(_events.c.id).limit(1)).first() is not None
    if has_events:
        keys = op.get_context().config.attributes.get("personal_keys")
        if keys is None:
            raise RuntimeError(
                "migration 0010 moves personal data out of the events and needs the rule packs: "
                "run caseclock init"
            )
        _move_out(bind, keys)
        bind.execute(sa.text("DELETE FROM projection_rules"))
        bind.execute(sa.text("INSERT INTO projection_rules (id, fingerprint) VALUES (1, :f)"), {"f": NEEDS_REBUILD})
    # Both columns are plain (no index or constraint), so both backends drop them in place.
    op.execute("ALTER TABLE cases DROP COLUMN personal")
    op.execute("ALTER TABLE clocks DROP COLUMN exception_note")


def _move_out(bind: sa.Connection, keys: Callable[[str, str], frozenset[str]]) -> None:
    """Rewrite each event holding a personal value: the value to `personal_values`, a marker in its place."""
    _allow_event_rewrite(bind, allowed=True)
    last_id = 0
    query = (
        sa.select(_events.c.id, _events.c.case_id, _events.c.seq, _events.c.type, _events.c.data, _cases.c.pack)
        .join(_cases, _cases.c.id == _events.c.case_id)
        .order_by(_events.c.id)
        .limit(_BATCH)
    )
    while True:
        rows = bind.execute(query.where(_events.c.id > last_id)).all()
        if not rows:
            break
        last_id = rows[-1].id
        updates: list[dict[str, Any]] = []
        values: list[dict[str, Any]] = []
        for row in rows:
            facts, apart = split(row.data or {}, keys(row.pack, row.type))
            if not apart:
                continue
            updates.append({"b_id": row.id, "data": facts})
            values += [{"case_id": row.case_id, "seq": row.seq, "key": k, "value": v} for k, v in apart.items()]
        if updates:
            bind.execute(
                _events.update().where(_events.c.id == sa.bindparam("b_id")).values(data=sa.bindparam("data")),
                updates,
            )
            bind.execute(_values.insert(), values)
    _allow_event_rewrite(bind, allowed=False)


def _allow_event_rewrite(bind: sa.Connection, *, allowed: bool) -> None:
    """Drop (allowed) or recreate the append-only triggers of migration 0001, in this transaction."""
    if bind.dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            if allowed:
                op.execute(f"DROP TRIGGER events_no_{action.lower()}")
            else:
                op.execute(
                    f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
                    "BEGIN SELECT RAISE(ABORT, 'events are append-only: void an event instead'); END"
                )
    elif bind.dialect.name == "postgresql":
        if allowed:
            op.execute("DROP TRIGGER events_append_only ON events")
        else:
            op.execute(
                "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
                "FOR EACH ROW EXECUTE FUNCTION caseclock_events_append_only()"
            )


def downgrade() -> None:
    """Put the values held apart back into their events' payloads (erased ones stay erased)."""
    bind = op.get_bind()
    op.add_column("cases", sa.Column("personal", Json, nullable=False, server_default=sa.text("'{}'")))
    op.add_column("clocks", sa.Column("exception_note", sa.Text))
    rows = bind.execute(sa.select(_values.c.case_id, _values.c.seq, _values.c.key, _values.c.value)).all()
    held: dict[tuple[int, int], dict[str, Any]] = {}
    for case_id, seq, key, value in rows:
        held.setdefault((case_id, seq), {})[key] = value
    if held:
        _allow_event_rewrite(bind, allowed=True)
        for (case_id, seq), values in held.items():
            data = bind.execute(
                sa.select(_events.c.data).where(_events.c.case_id == case_id, _events.c.seq == seq)
            ).scalar_one()
            restored = {k: (values.get(k, v) if v == HELD_APART else v) for k, v in data.items()}
            bind.execute(
                _events.update().where(_events.c.case_id == case_id, _events.c.seq == seq).values(data=restored)
            )
        _allow_event_rewrite(bind, allowed=False)
    bind.execute(sa.text("DELETE FROM projection_rules"))
    if bind.execute(sa.text("SELECT 1 FROM cases LIMIT 1")).first() is not None:
        bind.execute(sa.text("INSERT INTO projection_rules (id, fingerprint) VALUES (1, :f)"), {"f": NEEDS_REBUILD})
    op.drop_table("personal_values")
