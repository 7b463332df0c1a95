"""A compliance report read straight from a SQLite file with the standard library: the JSON export's start.

Importing SQLAlchemy takes about a third of a second, as long as reading a year's counts. So when the
database is a SQLite file at the schema revision this release expects, with its report tables caught up
(no case noted since the last catch-up, every pack counted with its latest version), the report is read
here with `sqlite3`, through the same plain SQL as the store's (`tracker.report_sql`), in one read
transaction, and computed by the same `compute_tallies`. Anything else (PostgreSQL, a URL with options, a
file that does not exist, another revision, a catch-up to do, counts of another pack version) gives
None, and the caller goes through the store, which catches up or refuses as usual.
`tests/test_sqlite_report.py` keeps the two paths equal.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from tracker.compliance import ComplianceReport, compute_tallies
from tracker.compliance.selection import report_version
from tracker.driver_rows import dates_for
from tracker.errors import StoreUnavailable
from tracker.periods import Period
from tracker.report_sql import NOTED_QUERY, PlainClockLines, Run, counted_tallies, counts_made_with
from tracker.revision import SCHEMA_HEAD
from tracker.sqlite_read import sqlite_file
from tracker.workflow import Rules


@contextmanager
def sqlite_report(
    url: str, rules: Rules, pack_id: str | None, period: Period, as_of: dt.date, *, suppress: bool = True
) -> Iterator[ComplianceReport | None]:
    """The compliance report of `tracker.reporting.compliance_report` (clock lines read when iterated,
    inside the block), or None when this path cannot answer for the database.

    Raises:
        InvalidValue: `pack_id` is not an enabled pack.
        StoreUnavailable: the file cannot be read (locked for longer than the busy timeout, damaged).
    """
    path = sqlite_file(url)
    if path is None or not path.expanduser().is_file():
        yield None
        return
    try:
        # mode=rw: never create a file here (`caseclock init` creates new databases, with mode 0600); this
        # path only reads, and a catch-up (a write) is the store's.
        connection = sqlite3.connect(
            f"file:{quote(str(path.expanduser()))}?mode=rw", uri=True, timeout=30, isolation_level=None
        )
    except sqlite3.Error:
        yield None
        return
    try:
        run = _run(connection)
        try:
            connection.execute("BEGIN")  # one snapshot for the checks, the figures and the lines
            report = _report(run, rules, pack_id, period, as_of, suppress)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"database unavailable: {error}") from None
        yield report
    finally:
        connection.close()


def _report(
    run: Run, rules: Rules, pack_id: str | None, period: Period, as_of: dt.date, suppress: bool
) -> ComplianceReport | None:
    try:
        revision = list(run("SELECT version_num FROM alembic_version", {}))
    except sqlite3.OperationalError:
        return None  # no caseclock tables: the store refuses it with the fix
    if revision != [(SCHEMA_HEAD,)]:
        return None  # the store names the revision and the fix
    if list(run(NOTED_QUERY, {})) or not counts_made_with(run, rules.packs):
        return None  # a catch-up to do first: the store's
    pack = report_version(rules.packs, pack_id, period)
    dates = dates_for("sqlite")
    tallies = counted_tallies(run, dates, pack, period, as_of)
    if tallies is None:
        return None
    total = sum(group.instances for group in tallies.clocks)
    lines = PlainClockLines(run, dates, pack, period, as_of, total)
    return compute_tallies(pack, period, as_of, tallies, lines, suppress=suppress, calendar=rules.calendar)


def _run(connection: sqlite3.Connection) -> Run:
    """A `Run` on a sqlite3 connection: dates bound as ISO text, as SQLAlchemy stores them."""

    def run(sql: str, params: Mapping[str, Any]) -> Iterable[Sequence[Any]]:
        bound = {name: v.isoformat() if isinstance(v, dt.date) else v for name, v in params.items()}
        return connection.execute(sql, bound)  # a cursor: its rows come a step at a time, in C

    return run
