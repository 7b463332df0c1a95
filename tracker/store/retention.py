"""Which cases' personal data a retention policy has made due for erasure, as of a date.

A case ends when it reaches a terminal state of its pack (`cases.closed_on`: closed, withdrawn, ...); its
personal data is due `years` whole years later. Cases already erased are left out. Read by `caseclock
retention` and `watch`'s daily retention job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.engine import Engine

from tracker.domain.personal import years_after
from tracker.domain.rules import PackRegistry
from tracker.store import schema
from tracker.store.engine import transaction


@dataclass(frozen=True, slots=True)
class Due:
    """A case whose personal data the policy says to erase: no personal data in it."""

    ref: str
    ended_on: dt.date
    due_since: dt.date


def due_for_erasure(engine: Engine, packs: PackRegistry, years: int, as_of: dt.date) -> list[Due]:
    """The cases that ended at least `years` years before `as_of` and are not yet erased, oldest first."""
    c, e = schema.cases.c, schema.events.c
    erase_events = sorted(
        {
            name
            for pack_id in packs
            for version in packs.versions(pack_id)
            if (name := version.event_with_role("erase")) is not None
        }
    )
    # A day's slack for 29 February; the exact test is `years_after` below.
    latest_end = dt.date(as_of.year - years, as_of.month, min(as_of.day, 28)) + dt.timedelta(days=3)
    erased = exists().where(e.case_id == c.id, e.type.in_(erase_events))
    query = (
        select(c.ref, c.closed_on)
        .where(c.closed_on.is_not(None), c.closed_on <= latest_end, ~erased)
        .order_by(c.closed_on, c.ref)
    )
    with transaction(engine, write=False) as connection:
        rows = connection.execute(query).all()
    due = [Due(ref, ended, years_after(ended, years)) for ref, ended in rows]
    return [d for d in due if d.due_since <= as_of]
