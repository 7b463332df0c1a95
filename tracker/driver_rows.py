"""Rows as the database driver returns them, and its values made Python ones once per distinct value.

`fetch_rows`/`stream_rows` skip SQLAlchemy's per-value processing (a year's report reads, and counting
every case afresh, are a million values); `Values` converts what the driver returns (SQLite: dates as ISO
text) once per distinct value. Used by the report reads (`tracker.report_reads`, `tracker.report_lines`)
and the running counts (`tracker.report_counts`); an adapter (SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not imported at run time: `dates_for` serves the export's SQLite path too
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.sql import Executable

    from tracker.report_sql import Run


def fetch_rows(connection: Connection, query: Executable) -> list[Sequence[Any]]:
    """Every row, as the driver returns it (no per-value processing: see `Values`)."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def stream_rows(
    connection: Connection, query: Executable, params: Mapping[str, Any] | None = None, size: int = 5000
) -> Iterator[Sequence[Any]]:
    """Rows as the driver returns them, a batch at a time."""
    result = connection.execute(query, params)
    try:
        while batch := result.cursor.fetchmany(size):
            yield from batch
    finally:
        result.close()


def rows_on(connection: Connection) -> Run:
    """A `tracker.report_sql.Run` on a SQLAlchemy connection: plain SQL, rows as the driver returns them."""
    from sqlalchemy import Date, bindparam, text

    def run(sql: str, params: Mapping[str, Any]) -> Iterator[Sequence[Any]]:
        dated = [bindparam(name, type_=Date) for name, value in params.items() if isinstance(value, dt.date)]
        return stream_rows(connection, text(sql).bindparams(*dated), params)

    return run


class Values:
    """Driver values into Python ones: SQLite gives dates as ISO text.

    `dates[value]` is the date of a value (or None), parsed once per distinct value: a dict look-up, the
    cheapest call there is, for the ~1 million dates of a year's clock lines.
    """

    def __init__(self, connection: Connection | Engine) -> None:
        self.dates = dates_for(connection.dialect.name)

    def date(self, value: Any) -> Any:
        """A date (or None)."""
        return self.dates[value]


def dates_for(dialect: str) -> dict[Any, Any]:
    """A driver's dates as dates, by look-up: SQLite's ISO text parsed once per distinct value."""
    return _ParsedDates() if dialect == "sqlite" else _SameDates()


class _ParsedDates(dict[Any, "dt.date | None"]):
    def __missing__(self, value: str | None) -> dt.date | None:
        day = self[value] = None if value is None else dt.date.fromisoformat(value)
        return day


class _SameDates(dict[Any, "dt.date | None"]):
    def __missing__(self, value: dt.date | None) -> dt.date | None:
        self[value] = value
        return value
