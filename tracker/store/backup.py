"""Copies of a SQLite database that restore: `caseclock backup` and `caseclock restore`.

Both go through SQLite's online backup API (`sqlite3.Connection.backup`), which copies a consistent snapshot
while other connections (`watch`, a clerk recording events) keep writing. A backup holds personal data, so
its file is created readable by its owner only (0600), as the database is. PostgreSQL has its own tools
(`pg_dump`, `pg_restore`); on it these commands are refused with the server's version, so that the client
tools of the matching version are used.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from tracker.domain.errors import InvalidValue, StoreUnavailable

_TABLES = ("alembic_version", "cases", "events", "clocks")
"""Tables every caseclock database has: a file without them is not a caseclock backup."""


@dataclass(frozen=True)
class BackupResult:
    """What `backup_sqlite` wrote."""

    path: Path
    size: int
    revision: str


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database (or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def postgres_refusal(engine: Engine, url: str, command: str, tool: str) -> InvalidValue:
    """The refusal of `backup`/`restore` on PostgreSQL, naming the server's version for the client tools."""
    from tracker.store.engine import safe_url

    with engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar())
    major = version.split(".")[0].split()[0]
    return InvalidValue(
        "--db",
        safe_url(url),
        f"caseclock {command} works on SQLite files; on PostgreSQL (server {version}) use {tool}"
        f" from the PostgreSQL {major} client tools",
    )


def backup_sqlite(database: Path, target: Path, *, force: bool) -> BackupResult:
    """Copy `database` to `target` through the online backup API: a temporary file beside it, then a rename.

    Raises InvalidValue for an existing `target` without `force`; nothing is written then.
    """
    target = target.expanduser()
    if target.exists() and not force:
        raise InvalidValue(
            "PATH", str(target), "choose a file that does not exist, or add --force to replace it"
        )
    if target.exists() and target.is_dir():
        raise InvalidValue(
            "PATH", str(target), "name a file, not a folder, e.g. backups/caseclock-2026-03-10.db"
        )
    if not target.parent.is_dir():
        raise InvalidValue("PATH", str(target), f"create the folder {target.parent} first")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    temporary.unlink(missing_ok=True)
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        source = sqlite3.connect(database, timeout=30)
        try:
            destination = sqlite3.connect(temporary)
            try:
                source.backup(destination)
                # One self-contained file: no WAL beside it.
                destination.execute("PRAGMA journal_mode=DELETE")
                revision = destination.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            finally:
                destination.close()
        finally:
            source.close()
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except sqlite3.Error as error:
        temporary.unlink(missing_ok=True)
        raise StoreUnavailable(f"backup of {database} failed: {error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, str(revision))


def backup_revision(backup: Path) -> str:
    """The schema revision of a caseclock backup file; raises InvalidValue for any other file."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    not_ours = "name a file written by caseclock backup"
    if not backup.is_file():
        raise InvalidValue("PATH", str(backup), "no such file: " + not_ours)
    try:
        connection = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        try:
            names = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            missing = [table for table in _TABLES if table not in names]
            if missing:
                raise InvalidValue(
                    "PATH", str(backup), f"not a caseclock database (no {missing[0]} table): {not_ours}"
                )
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        raise InvalidValue("PATH", str(backup), f"not a SQLite database: {not_ours}") from None
    if row is None:
        raise InvalidValue("PATH", str(backup), f"not a caseclock database (no schema revision): {not_ours}")
    revision = str(row[0])
    config = Config()
    config.set_main_option("script_location", "tracker.store:migrations")
    try:
        known = ScriptDirectory.from_config(config).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise InvalidValue(
            "PATH",
            str(backup),
            f"its schema revision {revision} is newer than this caseclock's: restore it with the release that"
            " wrote it, or a later one",
        )
    return revision


def restore_sqlite(backup: Path, database: Path) -> None:
    """Copy a checked backup into `database` (absent, empty, or without cases) through the backup API."""
    from tracker.store.engine import refuse_dangling_link

    if database.exists() and database.stat().st_size > 0 and _holds_data(database):
        raise InvalidValue(
            "--db",
            str(database),
            "restore goes into an empty database only: name a new file with --db, or move this one away",
        )
    refuse_dangling_link(database)
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not database.exists():
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(database, timeout=30)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    os.chmod(database, 0o600)


def _holds_data(database: Path) -> bool:
    """Whether a non-empty file holds anything but a caseclock schema without cases."""
    try:
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        try:
            names = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not names:
                return False
            if "cases" not in names:
                return True
            return connection.execute("SELECT 1 FROM cases LIMIT 1").fetchone() is not None
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return True
