"""`caseclock verify`'s check of the hash chain: every stored event against `tracker.domain.chain`.

Each case's events are read in seq order and their hashes recomputed from the rows as stored; the first event
of a case whose stored hash differs is where its history was changed outside caseclock (an edit, an insert or
a removal in the middle all break the chain there). A case whose `last_seq` is past its last event lost its
last events, and a case row with no event at all lost every one; events without a case row lost their case.
Read in batches of cases, streamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, exists, select
from sqlalchemy.engine import Engine

from tracker.domain.chain import stored_event_hash
from tracker.store import schema

_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Break:
    """Where a case's chain first fails: its reference (or `case #id` without a case row) and seq."""

    case: str
    seq: int
    why: str
    """`changed` (the stored hash differs), `missing` (events up to the case's last seq are gone),
    `orphaned` (the case row is gone)."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What the chain check found."""

    events: int
    cases: int
    breaks: list[Break] = field(default_factory=list)
    """The first failure of each failing case, in case order."""


def check_chain(engine: Engine) -> ChainReport:
    """Recompute every case's chain; a read-only pass over the events, a batch of cases at a time."""
    e, c = schema.events.c, schema.cases.c
    events = cases = 0
    found: list[tuple[int, Break]] = []  # by case id, to put the breaks in case order at the end
    last_id = 0
    with engine.connect() as connection:
        while True:
            case_ids = list(
                connection.execute(
                    select(e.case_id).distinct().where(e.case_id > last_id).order_by(e.case_id).limit(_BATCH)
                ).scalars()
            )
            if not case_ids:
                break
            first_id, last_id = case_ids[0], case_ids[-1]
            rows: Any = connection.execute(
                select(
                    e.case_id,
                    c.ref,
                    c.last_seq,
                    e.seq,
                    e.type,
                    e.occurred_on,
                    e.data,
                    e.actor,
                    e.recorded_at,
                    e.schema_version,
                    e.hash,
                )
                .outerjoin_from(schema.events, schema.cases, c.id == e.case_id)
                .where(e.case_id.between(first_id, last_id))
                .order_by(e.case_id, e.seq)
            )
            case_id: int | None = None
            previous: str | None = None
            broken = False
            last: Row[Any] | None = None
            for row in rows:
                events += 1
                if row.case_id != case_id:
                    _check_tail(last, broken, found)
                    cases += 1
                    case_id, previous, broken = row.case_id, None, False
                    if row.ref is None:
                        found.append((row.case_id, Break(f"case #{row.case_id}", row.seq, "orphaned")))
                        broken = True
                expected = stored_event_hash(previous, row)
                if expected != row.hash and not broken:
                    found.append((row.case_id, Break(row.ref, row.seq, "changed")))
                    broken = True
                previous = row.hash  # later events chain to what is stored: one break is reported per case
                last = row
            _check_tail(last, broken, found)
        # The scan above starts from the events, so it never meets a case all of whose events were removed;
        # every case is opened with an event, so a case row without one has lost its whole history.
        empty = connection.execute(
            select(c.id, c.ref).where(~exists().where(e.case_id == c.id)).order_by(c.id)
        )
        for row in empty:
            cases += 1
            found.append((row.id, Break(row.ref, 1, "missing")))
    found.sort(key=lambda item: item[0])  # in case order, the cases without events among the others
    return ChainReport(events, cases, [b for _, b in found])


def _check_tail(last: Row[Any] | None, broken: bool, found: list[tuple[int, Break]]) -> None:
    """A case's last stored event must be the one its row counts to: otherwise its last events are gone."""
    if last is None or broken:
        return
    if last.last_seq is not None and last.seq < last.last_seq:
        found.append((last.case_id, Break(last.ref, last.seq + 1, "missing")))
