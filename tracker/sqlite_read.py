"""One case's history read straight from a SQLite file with the standard library: `caseclock show`'s start.

`show` is typed many times a day, and importing SQLAlchemy takes longer than everything else the command
does. So for the default database, a SQLite file at the schema revision this release expects, the case's
events are read here with `sqlite3` and decoded exactly as SQLAlchemy stores them: dates as ISO text, JSON
as text, UTC timestamps as naive text. Anything else (PostgreSQL, a URL with options, a file that does not
exist, another revision) gives None, and the caller goes through the store as every other command does,
which then checks or refuses the database as usual (only `caseclock init` creates one).
`tests/test_sqlite_read.py` keeps the two paths equal.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from urllib.parse import quote

from tracker.errors import StoreUnavailable, UnknownCase
from tracker.events import Event, stored_event
from tracker.revision import SCHEMA_HEAD

_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
_HISTORY = """
    SELECT e.seq, e.type, e.occurred_on, e.data, e.actor, e.recorded_at, e.schema_version
    FROM events AS e JOIN cases AS c ON c.id = e.case_id
    WHERE c.ref = ?
    ORDER BY e.seq
"""


def sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL, or None for any other URL (options, memory, a server)."""
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            path = url.removeprefix(prefix)
            return Path(path) if path and "?" not in path and path != ":memory:" else None
    return None


def read_history(url: str, ref: str) -> list[Event] | None:
    """The events of case `ref`, oldest first; None when this path cannot answer for the database.

    Raises:
        UnknownCase: the database has no case `ref`.
        StoreUnavailable: the file cannot be read (locked for longer than the busy timeout, damaged).
    """
    path = sqlite_file(url)
    if path is None or not path.expanduser().is_file():
        return None
    try:
        # mode=rw: never create a file here; `caseclock init` creates new databases, with mode 0600.
        connection = sqlite3.connect(
            f"file:{quote(str(path.expanduser()))}?mode=rw", uri=True, timeout=30, isolation_level=None
        )
    except sqlite3.Error:
        return None
    try:
        connection.execute("BEGIN")  # the revision and the history from one snapshot
        try:
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None  # no caseclock tables: the store refuses it with the fix
        if revision is None or revision[0] != SCHEMA_HEAD:
            return None  # the store names the revision and the fix
        rows = connection.execute(_HISTORY, (ref,)).fetchall()
    except sqlite3.Error as error:
        raise StoreUnavailable(f"database unavailable: {error}") from None
    finally:
        connection.close()
    if not rows:  # every case has its opening event
        raise UnknownCase(ref)
    # Decoded as SQLAlchemy stores them on SQLite: ISO dates, JSON text, naive UTC timestamps.
    return [
        stored_event(
            seq,
            event_type,
            dt.date.fromisoformat(on),
            json.loads(data),
            actor,
            dt.datetime.fromisoformat(recorded_at).replace(tzinfo=dt.UTC),
            schema_version,
        )
        for seq, event_type, on, data, actor, recorded_at, schema_version in rows
    ]
