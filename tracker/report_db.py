"""Reading for reports: one read snapshot for a whole report, and rows as the driver returns them.

`snapshot` pins one read transaction for every report read of this thread inside it (`reading`), so a
report's figures and the clock lines a format reads later come from one view of the database.
`fetch_rows`/`stream_rows` skip SQLAlchemy's per-value processing (a year's reads are a million values);
`Values` converts what the driver returns (SQLite: dates as ISO text) once per distinct value. Used by
`tracker.report_reads` and `tracker.report_lines`; an adapter (SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import Executable

from tracker.db import error_summary, transaction
from tracker.errors import StoreUnavailable
from tracker.report_tables import catch_up
from tracker.rules import PackRegistry

_pinned: ContextVar[Connection | None] = ContextVar("caseclock_report_snapshot", default=None)


@contextmanager
def snapshot(engine: Engine, packs: PackRegistry) -> Iterator[None]:
    """Make every report read inside the block (in this thread) share one read transaction.

    SQLite's read transaction sees one snapshot (WAL: writers carry on meanwhile); PostgreSQL's is
    REPEATABLE READ for the same effect. Nested use shares the outer snapshot. The outermost first brings
    the report tables up to date (`tracker.report_tables.catch_up`), so the snapshot sees every write
    committed before it began.
    """
    if _pinned.get() is not None:
        yield
        return
    catch_up(engine, packs)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                token = _pinned.set(connection)
                try:
                    yield
                finally:
                    _pinned.reset(token)
    except OperationalError as error:
        raise StoreUnavailable(f"database unavailable: {error_summary(error)}") from None


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """The open `snapshot`'s connection, else a read transaction of its own."""
    pinned = _pinned.get()
    if pinned is not None:
        yield pinned
        return
    with transaction(engine, write=False) as connection:
        yield connection


def fetch_rows(connection: Connection, query: Executable) -> list[Sequence[Any]]:
    """Every row, as the driver returns it (no per-value processing: see `_Values`)."""
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
