"""Rows as the database driver returns them, and its values made Python ones once per distinct value.

`fetch_rows`/`stream_rows` skip SQLAlchemy's per-value processing (a year's report reads, and counting
every case afresh, are a million values); `Values` converts what the driver returns (SQLite: dates as ISO
text) once per distinct value. Used by the report reads (`tracker.report_reads`, `tracker.report_lines`)
and the running counts (`tracker.report_counts`); an adapter (SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Executable


def fetch_rows(connection: Connection, query: Executable) -> list[Sequence[Any]]:
    """Every row, as the driver returns it (no per-value processing: see `Values`)."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def stream_rows(connection: Connection, query: Executable, size: int = 5000) -> Iterator[Sequence[Any]]:
    """Rows as the driver returns them, a batch at a time."""
    result = connection.execute(query)
    try:
        while batch := result.cursor.fetchmany(size):
            yield from batch
    finally:
        result.close()


class Values:
    """Driver values into Python ones: SQLite gives dates as ISO text.

    `dates[value]` is the date of a value (or None), parsed once per distinct value: a dict look-up, the
    cheapest call there is, for the ~1 million dates of a year's clock lines.
    """

    def __init__(self, connection: Connection | Engine) -> None:
        self.dates: dict[Any, Any] = _ParsedDates() if connection.dialect.name == "sqlite" else _SameDates()

    def date(self, value: Any) -> Any:
        """A date (or None)."""
        return self.dates[value]


class _ParsedDates(dict[Any, "dt.date | None"]):
    def __missing__(self, value: str | None) -> dt.date | None:
        day = self[value] = None if value is None else dt.date.fromisoformat(value)
        return day


class _SameDates(dict[Any, "dt.date | None"]):
    def __missing__(self, value: dt.date | None) -> dt.date | None:
        self[value] = value
        return value
