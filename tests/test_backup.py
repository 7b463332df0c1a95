"""`caseclock backup` and `restore`: copies taken while the database is in use restore to the same cases."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.alert_servers import WAIT, HttpServer, write_config
from tests.conftest import NOW, Result, shared_rules
from tests.test_watch import Watch, add_cases
from tracker.cli import main
from tracker.store import Store, schema
from tracker.store.engine import make_engine, upgrade
from tracker.store.revision import SCHEMA_HEAD

AS_OF = "2026-03-10"


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`caseclock --as-of AS_OF ARGS...` in-process (each call names its own --db)."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(["--as-of", AS_OF, *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def source(tmp_path: Path, run: Callable[..., Result]) -> str:
    """A SQLite database with demo cases."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    assert run("--db", url, "demo", "--cases", "40", "--seed", "5").code == 0
    return url


def export(run: Callable[..., Result], url: str) -> str:
    result = run("--db", url, "export", "--period", "FY2025", "--format", "json")
    assert result.code == 0, result.err
    return result.out


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_then_restore_gives_the_same_cases(
    tmp_path: Path, run: Callable[..., Result], source: str
) -> None:
    backup = tmp_path / "backups" / "caseclock.db"
    backup.parent.mkdir()
    result = run("--db", source, "backup", str(backup))
    assert result.code == 0, result.err
    assert str(backup) in result.out
    assert f"schema {SCHEMA_HEAD}" in result.out
    assert f"{backup.stat().st_size} bytes" in result.out
    assert mode(backup) == 0o600
    assert [p.name for p in backup.parent.iterdir()] == ["caseclock.db"]  # no temporary file left

    restored = tmp_path / "restored.db"
    result = run("--db", f"sqlite:///{restored}", "restore", str(backup))
    assert result.code == 0, result.err
    assert mode(restored) == 0o600
    assert export(run, f"sqlite:///{restored}") == export(run, source)
    assert '"M-' in export(run, source)


def test_restore_into_an_initialised_database_without_cases(
    tmp_path: Path, run: Callable[..., Result], source: str
) -> None:
    backup = tmp_path / "copy.db"
    assert run("--db", source, "backup", str(backup)).code == 0
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert run("--db", empty, "init").code == 0
    assert run("--db", empty, "restore", str(backup)).code == 0
    assert export(run, empty) == export(run, source)


def test_a_backup_ignores_a_write_transaction_left_open(
    tmp_path: Path, run: Callable[..., Result], source: str
) -> None:
    writer = sqlite3.connect(tmp_path / "live.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM clocks")
    try:
        result = run("--db", source, "backup", str(tmp_path / "copy.db"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.code == 0, result.err
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert run("--db", restored, "restore", str(tmp_path / "copy.db")).code == 0
    assert export(run, restored) == export(run, source)


def test_a_backup_taken_while_events_are_recorded_restores_whole(
    tmp_path: Path, run: Callable[..., Result], source: str
) -> None:
    engine = make_engine(source, create=False)
    store = Store(engine, shared_rules())
    today = dt.date.fromisoformat(AS_OF)
    started = threading.Event()
    opened: list[str] = []

    def record() -> None:
        for number in range(200):
            ref = f"B-{number}"
            store.open_case(ref, "mediation", today, {"caseworker": "Jo Smith"}, "tester", NOW, today)
            opened.append(ref)
            started.set()

    thread = threading.Thread(target=record)
    thread.start()
    started.wait()
    result = run("--db", source, "backup", str(tmp_path / "copy.db"))
    thread.join()
    engine.dispose()
    assert result.code == 0, result.err
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert run("--db", restored, "restore", str(tmp_path / "copy.db")).code == 0
    copied = sqlite3.connect(tmp_path / "restored.db")
    refs = [row[0] for row in copied.execute("SELECT ref FROM cases WHERE ref LIKE 'B-%' ORDER BY id")]
    events = copied.execute(
        "SELECT count(*) FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref LIKE 'B-%'"
    ).fetchone()[0]
    copied.close()
    assert refs == opened[: len(refs)]  # a prefix of what was written: each case whole, or not at all
    assert events == len(refs)
    assert len(opened) == 200


def test_backup_refuses_an_existing_file_unless_forced(
    tmp_path: Path, run: Callable[..., Result], source: str
) -> None:
    backup = tmp_path / "copy.db"
    backup.write_text("keep me")
    result = run("--db", source, "backup", str(backup))
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert f"PATH={backup}" in result.err
    assert "--force" in result.err
    assert backup.read_text() == "keep me"
    assert run("--db", source, "backup", str(backup), "--force").code == 0
    assert mode(backup) == 0o600
    assert backup.read_bytes().startswith(b"SQLite format 3")


def test_restore_refuses_a_database_with_cases(
    tmp_path: Path, run: Callable[..., Result], source: str
) -> None:
    backup = tmp_path / "copy.db"
    assert run("--db", source, "backup", str(backup)).code == 0
    before = (tmp_path / "live.db").read_bytes()
    result = run("--db", source, "restore", str(backup))
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "--db=" in result.err
    assert "empty database" in result.err
    assert (tmp_path / "live.db").read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100])
def test_restore_refuses_a_file_that_is_not_a_caseclock_backup(
    tmp_path: Path, run: Callable[..., Result], content: bytes
) -> None:
    other = tmp_path / "other.db"
    if content:
        other.write_bytes(content)
    else:
        sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.close()
    target = tmp_path / "restored.db"
    result = run("--db", f"sqlite:///{target}", "restore", str(other))
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert f"PATH={other}" in result.err
    assert "caseclock backup" in result.err
    assert not target.exists()


def test_restore_refuses_a_backup_from_a_newer_release(
    tmp_path: Path, run: Callable[..., Result], source: str
) -> None:
    backup = tmp_path / "copy.db"
    assert run("--db", source, "backup", str(backup)).code == 0
    with sqlite3.connect(backup) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.close()
    target = tmp_path / "restored.db"
    result = run("--db", f"sqlite:///{target}", "restore", str(backup))
    assert result.code == 2
    assert "9999_from_the_future" in result.err
    assert "newer" in result.err
    assert not target.exists()


def test_restore_upgrades_an_older_backup(tmp_path: Path, run: Callable[..., Result]) -> None:
    from alembic import command
    from alembic.config import Config

    old = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{old}")
    config = Config()
    config.set_main_option("script_location", "tracker.store:migrations")
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.commit()
    engine.dispose()
    target = tmp_path / "restored.db"
    result = run("--db", f"sqlite:///{target}", "restore", str(old))
    assert result.code == 0, result.err
    engine = make_engine(f"sqlite:///{target}", create=False)
    assert upgrade(engine) == SCHEMA_HEAD
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgres_is_refused_with_the_tool_to_use(
    cli: Callable[..., Result], db_url: str, tmp_path: Path, command: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL refusal")
    path = tmp_path / "copy.dump"
    if command == "restore":
        path.write_bytes(b"")
    result = cli(command, str(path))
    assert result.code == 2
    assert result.err.count("\n") == 1
    tool = "pg_dump" if command == "backup" else "pg_restore"
    assert tool in result.err
    assert "server " in result.err
    if command == "backup":
        assert not path.exists()


def test_verify_accepts_a_consistent_database(cli: Callable[..., Result]) -> None:
    assert cli("demo", "--cases", "30", "--seed", "2").code == 0
    result = cli("verify")
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "integrity",
        "schema",
        "guards",
        "hash chain",
        "projections",
    ]
    assert all("FAILED" not in line for line in lines)


def test_verify_names_a_case_whose_clock_was_tampered_with(cli: Callable[..., Result], db_url: str) -> None:
    from sqlalchemy import text

    assert cli("demo", "--cases", "30", "--seed", "2").code == 0
    engine = make_engine(db_url, create=False)
    with engine.begin() as connection:
        case_id, ref = connection.execute(
            text("SELECT c.id, c.ref FROM cases c JOIN clocks k ON k.case_id = c.id ORDER BY c.id LIMIT 1")
        ).one()
        clocks = schema.clocks
        connection.execute(
            clocks.update().where(clocks.c.case_id == case_id).values(due_on=dt.date(2031, 1, 1))
        )
    engine.dispose()
    result = cli("verify")
    assert result.code == 1
    assert "projections: FAILED" in result.out
    assert ref in result.out
    assert "integrity: ok" in result.out
    assert "schema: ok" in result.out
    assert cli("rebuild").code == 0
    assert cli("verify").code == 0


def test_verify_accepts_a_restored_backup(tmp_path: Path, run: Callable[..., Result], source: str) -> None:
    backup = tmp_path / "copy.db"
    assert run("--db", source, "backup", str(backup)).code == 0
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert run("--db", restored, "restore", str(backup)).code == 0
    result = run("--db", restored, "verify")
    assert result.code == 0, result.out


def test_a_backup_taken_while_watch_and_a_writer_run_restores_and_verifies(
    tmp_path: Path, run: Callable[..., Result], source: str
) -> None:
    engine = make_engine(source, create=False)
    store = Store(engine, shared_rules())
    add_cases(store, 1)  # a breached clock: watch's first pass has an alert to send
    web = HttpServer()
    release = threading.Event()
    web.hold = release  # watch's pass keeps its alert on the wire while the backup is taken
    config = write_config(tmp_path / "c.toml", f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n')
    watch = Watch(source, config, as_of=AS_OF)
    today = dt.date.fromisoformat(AS_OF)
    writing = threading.Event()

    def record() -> None:
        for number in range(100):
            store.open_case(
                f"W-{number}", "mediation", today, {"caseworker": "Jo Smith"}, "tester", NOW, today
            )
            writing.set()

    writer = threading.Thread(target=record)
    try:
        web.take(1)  # watch is mid-pass, its claim committed
        writer.start()
        writing.wait(WAIT)
        result = run("--db", source, "backup", str(tmp_path / "copy.db"))
        writer.join()
        release.set()
        assert watch.stop() == 0
    finally:
        release.set()
        watch.kill()
        web.stop()
        engine.dispose()
    assert result.code == 0, result.err
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert run("--db", restored, "restore", str(tmp_path / "copy.db")).code == 0
    verified = run("--db", restored, "verify")
    assert verified.code == 0, verified.out
