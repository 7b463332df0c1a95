"""Reading for reports: one read snapshot for a whole report.

`snapshot` pins one read transaction for every report read of this thread inside it (`reading`), so a
report's figures and the clock lines a format reads later come from one view of the database. Used by
`tracker.report_reads` and `tracker.report_lines`; an adapter (SQLAlchemy).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from tracker.db import error_summary, transaction
from tracker.driver_rows import rows_on
from tracker.errors import StoreUnavailable
from tracker.report_sql import Run
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


def rows_of(engine: Engine) -> Run:
    """A `tracker.report_sql.Run` reading in the open `snapshot` (else in a transaction of its own)."""

    def run(sql: str, params: Mapping[str, Any]) -> Iterator[Sequence[Any]]:
        with reading(engine) as connection:
            yield from rows_on(connection)(sql, params)

    return run


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """The open `snapshot`'s connection, else a read transaction of its own."""
    pinned = _pinned.get()
    if pinned is not None:
        yield pinned
        return
    with transaction(engine, write=False) as connection:
        yield connection
