"""Which cases' personal data a retention policy has made due for erasure, as of a date.

A case ends when it reaches a terminal state of its pack (`cases.closed_on`: closed, withdrawn, ...); its
personal data is due `years` whole years later. Only cases that hold personal data are due: one erased
(with nothing recorded apart since) is left out. Read by `caseclock
retention` and `watch`'s daily retention job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.engine import Engine

from tracker.domain.personal import years_after
from tracker.store import schema
from tracker.store.engine import transaction


@dataclass(frozen=True, slots=True)
class Due:
    """A case whose personal data the policy says to erase: no personal data in it."""

    ref: str
    ended_on: dt.date
    due_since: dt.date


def due_for_erasure(engine: Engine, years: int, as_of: dt.date) -> list[Due]:
    """The cases that ended at least `years` years before `as_of` and hold personal data, oldest first."""
    c, p = schema.cases.c, schema.personal_values.c
    # A day's slack for 29 February; the exact test is `years_after` below.
    latest_end = dt.date(as_of.year - years, as_of.month, min(as_of.day, 28)) + dt.timedelta(days=3)
    held = exists().where(p.case_id == c.id)
    query = (
        select(c.ref, c.closed_on)
        .where(c.closed_on.is_not(None), c.closed_on <= latest_end, held)
        .order_by(c.closed_on, c.ref)
    )
    with transaction(engine, write=False) as connection:
        rows = connection.execute(query).all()
    due = [Due(ref, ended, years_after(ended, years)) for ref, ended in rows]
    return [d for d in due if d.due_since <= as_of]
