"""Connecting to the database: SQLite by default, PostgreSQL for a team.

`make_engine(url)` returns a SQLAlchemy engine set up the way the store needs it:

* SQLite: the file (and its folder) created readable by its owner only (0600 / 0700) before SQLite opens
  it; WAL so a TUI can read while a scheduler writes; foreign keys on; a busy timeout so two writers wait
  for each other instead of failing; and real transactions (pysqlite's own transaction handling is turned
  off so that `BEGIN` covers the reads of a write too). Writes take `BEGIN IMMEDIATE`.
* PostgreSQL: `postgresql://` URLs use psycopg 3.

Only `caseclock init` and `caseclock demo` create a database: for every other command `make_engine(url,
create=False)` refuses a SQLite file that does not exist (creating neither it nor its folder), and
`check_schema(engine)` refuses a database without caseclock tables, so a mistyped path is an error, not a
new, empty database. `upgrade(engine)` runs the Alembic migrations (`caseclock init`); `check_schema` is the
cheap start-up check every other command makes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from tracker.domain.errors import InvalidValue, StoreUnavailable
from tracker.store.revision import SCHEMA_HEAD

_WRITE_OPTION = "caseclock_write"
"""Execution option of a connection that will write: SQLite takes the write lock at BEGIN."""


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for `url`, with the settings above; raises InvalidValue for a URL it cannot use.

    Args:
        url: A SQLAlchemy URL (`sqlite:///cases.db`, `postgresql://host/db`).
        create: Create a SQLite file (and its folder) that does not exist yet; when False such a file is
            refused with StoreUnavailable and nothing is created.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidValue(
            "--db", url, "use a SQLAlchemy URL such as sqlite:///cases.db or postgresql://host/db"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.database, create)
    if parsed.get_backend_name() != "postgresql":
        raise InvalidValue("--db", url, "caseclock runs on SQLite or PostgreSQL (postgresql://...)")
    return create_engine(parsed, pool_pre_ping=True)


_CHECKPOINT_PAGES = 8192


def _sqlite_engine(database: str | None, create: bool) -> Engine:
    if database and database != ":memory:":
        refuse_dangling_link(Path(database))
        if create:
            _create_private_file(Path(database))
        elif not Path(database).expanduser().exists():
            raise no_database(database)
    engine = create_engine(f"sqlite:///{database or ''}", connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # In WAL mode with synchronous=NORMAL a commit does not sync; a checkpoint syncs twice. An append
        # writes ~10 pages, so SQLite's default (a checkpoint every 1,000 pages) synced every ~100 events,
        # a third of an append's time on a virtual disk. Every 8,192 pages (32 MiB) syncs 8x less often; the
        # WAL file is cut back to 64 MiB after a checkpoint if it grew past that.
        cursor.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={64 * 2**20}")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Freed pages are overwritten, so a value erased (`caseclock erase`) or a row deleted leaves no byte
        # behind in the file; caseclock deletes rarely, so this costs next to nothing.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writing = connection.get_execution_options().get(_WRITE_OPTION, False)
        # Straight on the DBAPI cursor: every write pays for this statement, and SQLAlchemy's execution
        # machinery would cost more than SQLite takes to run it.
        cursor = connection.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE" if writing else "BEGIN")
        cursor.close()

    return engine


def refuse_dangling_link(path: Path) -> None:
    """Refuse a database path that is a symbolic link to no existing file.

    A link to an existing file is followed (a deployment may keep the database on another volume). A link to
    nothing would be followed by SQLite, which would create the file it names, somewhere `--db` does not say,
    with the umask's permissions (0644) instead of 0600: refused, so nothing is created.
    """
    path = path.expanduser()
    if not path.is_symlink():
        return
    target = os.readlink(path)
    if not path.exists():
        raise InvalidValue(
            "--db",
            str(path),
            f"is a symbolic link to {target}, which does not exist: point --db at the database file itself "
            "(caseclock init creates it there)",
        )
    if not path.is_file():
        raise InvalidValue("--db", str(path), f"is a symbolic link to {target}, which is not a file")


def _create_private_file(path: Path) -> None:
    """Create the database file with mode 0600 (and its folder 0700) before SQLite does, with its umask."""
    path = path.expanduser()
    if path.exists():
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise StoreUnavailable(f"--db {path}: cannot create the database file ({error.strerror})") from None
    os.close(descriptor)


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One transaction on a fresh connection; a writer takes SQLite's write lock at BEGIN.

    An unreachable or locked database becomes StoreUnavailable (exit 1) with its first line of detail.
    """
    try:
        connection = engine.connect()
        if write:
            connection = connection.execution_options(**{_WRITE_OPTION: True})
        with connection, connection.begin():
            yield connection
    except OperationalError as error:
        raise StoreUnavailable(f"database unavailable: {error_summary(error)}") from None


@contextmanager
def dbapi_transaction(engine: Engine, *, write: bool) -> Iterator[Any]:
    """One transaction straight on a pooled DBAPI connection; yields its cursor, for `tracker.store.prepared`.

    The store's per-event writes use it: a SQLAlchemy Connection and its transaction objects cost more per
    write than SQLite's own work. It behaves as `transaction` does: SQLite's write lock at BEGIN, commit on
    success, rollback on any error, and an unreachable or locked database as StoreUnavailable.
    """
    dbapi = engine.dialect.loaded_dbapi
    try:
        connection = engine.raw_connection()
    except OperationalError as error:
        raise StoreUnavailable(f"database unavailable: {error_summary(error)}") from None
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":  # PostgreSQL begins implicitly with the first statement
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        yield cursor
        cursor.close()
        connection.commit()
    except (dbapi.OperationalError, OperationalError) as error:
        _roll_back(connection)
        raise StoreUnavailable(f"database unavailable: {error_summary(error)}") from None
    except BaseException:
        _roll_back(connection)
        raise
    finally:
        connection.close()  # back to the pool


def _roll_back(connection: Any) -> None:
    """Roll back, keeping the error that brought us here even if the connection is gone by now."""
    try:
        connection.rollback()
    except Exception:  # the pool discards a broken connection; the first error is the news
        connection.invalidate()


def upgrade(engine: Engine, personal_keys: Callable[[str, str], frozenset[str]] | None = None) -> str | None:
    """Create or upgrade the schema to SCHEMA_HEAD (idempotent); returns the revision it started from.

    `personal_keys` (pack id, event type -> the payload keys held apart: `store.personal.PersonalKeys`)
    lets migration 0010 move the personal data of existing events out of them; a database with events
    needs it there.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "tracker.store:migrations")
    config.attributes["personal_keys"] = personal_keys
    before = current_revision(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
    return before


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, or None when it has no caseclock tables."""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as error:
        raise StoreUnavailable(f"database unreachable: {error_summary(error)}") from None
    except ProgrammingError:
        return None


def no_database(where: str) -> StoreUnavailable:
    """The error of a command run on a database that `caseclock init` has not created."""
    return StoreUnavailable(f"no database at {where}: run caseclock init")


def check_schema(engine: Engine, *, create: bool = False) -> None:
    """Refuse to run on a database at another revision, or without caseclock tables.

    With `create` (`caseclock demo`) a database without tables gets the schema instead.
    """
    revision = current_revision(engine)
    if revision == SCHEMA_HEAD:
        return
    if revision is None:
        if not create:
            sqlite = engine.url.get_backend_name() == "sqlite"
            raise no_database((engine.url.database or ":memory:") if sqlite else safe_url(engine.url))
        upgrade(engine)
        return
    raise StoreUnavailable(
        f"the database schema is at revision {revision}, this caseclock expects {SCHEMA_HEAD}: "
        "run `caseclock init` to upgrade it"
    )


def safe_url(url: str | URL) -> str:
    """The URL for messages, its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def error_summary(error: Exception) -> str:
    """The first line of a database error's own message, for one-line reports."""
    message = str(getattr(error, "orig", error)) or type(error).__name__
    return message.strip().splitlines()[0]
