"""A day's JSON clock lines joined in one text (`report_day_lines`), so a year's export reads 365 rows.

A final clock's JSON line is rendered as its report row is copied (`report_clocks.line`); reading a year's
183,000 lines one by one still takes a third of a second. Periods are whole days, so the catch-up also
keeps, for each pack and due date, the day's lines joined by ", " in report order (reference, clock,
number): exactly the text the JSON export writes for them. A day with a clock still open (whose line
depends on the as-of date) has no text, and its lines are read one by one. `rejoin` rewrites the days of
the report rows just rewritten; `rejoin_all` every day. Used by `tracker.report_tables` inside the
catch-up's transaction; read by `tracker.report_sql`. An adapter (SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.engine import Connection

from tracker import schema
from tracker.driver_rows import Values, fetch_rows, stream_rows

_R, _D = schema.report_clocks.c, schema.report_day_lines
_ORDER = (_R.pack, _R.due_on, _R.ref, _R.clock, _R.number)
_CHUNK = 500
"""Days rejoined per statement (a bounded IN list)."""

Day = tuple[str, dt.date]
"""(pack, due date)."""


def days_of(connection: Connection, case_ids: Sequence[int]) -> set[Day]:
    """The (pack, due date) of every report clock row of some cases."""
    dates = Values(connection).dates
    query = select(_R.pack, _R.due_on).where(_R.case_id.in_(case_ids)).distinct()
    return {(pack, dates[due]) for pack, due in fetch_rows(connection, query)}


def rejoin(connection: Connection, days: Iterable[Day]) -> None:
    """Rewrite the joined lines of some days from their report clock rows."""
    wanted = sorted(days)
    for first in range(0, len(wanted), _CHUNK):
        chunk = wanted[first : first + _CHUNK]
        connection.execute(delete(_D).where(tuple_(_D.c.pack, _D.c.due_on).in_(chunk)))
        query = select(*_ORDER[:2], _R.line).where(tuple_(_R.pack, _R.due_on).in_(chunk)).order_by(*_ORDER)
        _insert(connection, fetch_rows(connection, query))


def rejoin_all(connection: Connection) -> None:
    """Rewrite the joined lines of every day."""
    connection.execute(delete(_D))
    _insert(connection, stream_rows(connection, select(*_ORDER[:2], _R.line).order_by(*_ORDER)))


def _insert(connection: Connection, rows: Iterable[Sequence[Any]]) -> None:
    """Join each day's lines (rows of pack, due date, line in report order); a day with an open one: NULL."""
    dates = Values(connection).dates
    batch: list[dict[str, Any]] = []
    for (pack, due), lines in groupby(rows, key=itemgetter(0, 1)):
        texts = [line for _pack, _due, line in lines]
        joined = None if None in texts else ", ".join(texts)
        batch.append({"pack": pack, "due_on": dates[due], "lines": joined})
        if len(batch) >= _CHUNK:
            connection.execute(insert(_D), batch)
            batch = []
    if batch:
        connection.execute(insert(_D), batch)
