"""The append-only history holds against SQL, on real SQLite files and PostgreSQL.

Every bypass the database offers is refused (REPLACE and its cousins, UPDATE, DELETE, TRUNCATE, a case
deleted with foreign keys off or renumbered); a guard dropped by hand is found by `verify` and put back by
`init`; an edit made while a guard was off is named by the hash chain; migration 0011 chains the events
already stored exactly as the store chains new ones.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine, make_url

from tests.conftest import NO_POSTGRES, NOW, POSTGRES_URL, Result, reset_postgres
from tests.test_migrations import migrate
from tracker.cli import main
from tracker.store import Store, schema
from tracker.store.chain_check import Break, ChainReport, check_chain
from tracker.store.engine import current_revision, make_engine
from tracker.store.guards import missing_guards

D = dt.date.fromisoformat
TODAY = D("2026-06-30")
REFUSED = (sqlite3.DatabaseError, psycopg.Error)
EVENT_COLUMNS = "id, case_id, seq, type, occurred_on, data, actor, recorded_at, schema_version, hash"


def late_notification(store: Store, ref: str = "M-1") -> None:
    """A case whose LA was notified late: KPI 2 (due 5 March, 3 working days from 2 March) breached."""
    store.open_case(
        ref,
        "mediation",
        D("2026-03-02"),
        {"caseworker": "Jo Smith", "name": "Alice Example"},
        "tester",
        NOW,
        TODAY,
    )
    store.record(ref, "mediation_requested", D("2026-03-02"), {}, "tester", NOW, TODAY)
    store.record(ref, "la_notified", D("2026-03-10"), {}, "tester", NOW, TODAY)


def kpi2(engine: Engine, ref: str = "M-1") -> str | None:
    c, k = schema.cases.c, schema.clocks.c
    with engine.connect() as connection:
        return connection.execute(
            select(k.final_status)
            .join_from(schema.clocks, schema.cases, c.id == k.case_id)
            .where(c.ref == ref, k.clock == "kpi2")
        ).scalar_one()


def history(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(schema.events).order_by(schema.events.c.id))]


def run_sql(db_url: str, *statements: str) -> None:
    """Statements as someone at the database's own prompt would run them: the driver, no caseclock code."""
    if db_url.startswith("sqlite"):
        connection = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            for statement in statements:
                connection.execute(statement)
        finally:
            connection.close()
        return
    with psycopg.connect(db_url, autocommit=True) as pg:
        for statement in statements:
            pg.execute(statement)  # type: ignore[arg-type]


def backdated_copy(dialect: str, columns: str = EVENT_COLUMNS) -> str:
    """A SELECT of event 3 of every case (the late LA notification) dated 3 March: in time for KPI 2."""
    day = "'2026-03-03'" if dialect == "sqlite" else "DATE '2026-03-03'"
    return f"SELECT {columns.replace('occurred_on', day)} FROM events WHERE seq = 3"


def bypasses(dialect: str) -> list[tuple[str, ...]]:
    """Each way SQL could remove or change an event (or orphan one), as the statements that try it."""
    copy = backdated_copy(dialect)
    no_id = EVENT_COLUMNS.removeprefix("id, ")
    shared = [
        ("UPDATE events SET occurred_on = '2026-03-03' WHERE seq = 3",),
        ("DELETE FROM events WHERE seq = 3",),
        ("DELETE FROM cases",),
        ("UPDATE cases SET ref = 'M-9'",),
        (
            f"INSERT INTO events ({EVENT_COLUMNS}) {copy} "
            "ON CONFLICT (case_id, seq) DO UPDATE SET occurred_on = '2026-03-03'",
        ),
    ]
    if dialect == "sqlite":
        return [
            *shared,
            (f"INSERT OR REPLACE INTO events ({EVENT_COLUMNS}) {copy}",),
            (f"REPLACE INTO events ({no_id}) {backdated_copy(dialect, no_id)}",),
            ("PRAGMA foreign_keys=OFF", "DELETE FROM cases"),
            ("PRAGMA foreign_keys=OFF", "UPDATE cases SET id = id + 1000"),
            (
                "PRAGMA foreign_keys=OFF",
                "INSERT OR REPLACE INTO cases SELECT id + 1000, ref, pack, pack_version, case_type, "
                "state, opened_on, closed_on, owner, fields, last_seq, next_clock, next_due_on, "
                "updated_at FROM cases",
            ),
        ]
    return [
        *shared,
        ("TRUNCATE events",),
        ("TRUNCATE cases CASCADE",),
        ("TRUNCATE events, cases CASCADE",),
        ("SET session_replication_role = replica", "DELETE FROM events"),
        ("SET session_replication_role = replica", "TRUNCATE events"),
    ]


def test_every_bypass_of_the_history_is_refused(store: Store, engine: Engine, db_url: str) -> None:
    late_notification(store)
    before = history(engine)
    for statements in bypasses(engine.dialect.name):
        with pytest.raises(REFUSED, match="append-only"):
            run_sql(db_url, *statements)
        assert history(engine) == before, statements
    assert check_chain(engine).breaks == []
    with engine.connect() as connection:
        assert missing_guards(connection) == []


def test_a_refused_replace_leaves_the_kpi2_breach_after_a_rebuild(
    store: Store, engine: Engine, db_url: str
) -> None:
    late_notification(store)
    assert kpi2(engine) == "breached"
    dated_in_time = (
        f"INSERT OR REPLACE INTO events ({EVENT_COLUMNS}) {backdated_copy('sqlite')}"
        if engine.dialect.name == "sqlite"
        else f"INSERT INTO events ({EVENT_COLUMNS}) {backdated_copy('postgresql')} "
        "ON CONFLICT (id) DO UPDATE SET occurred_on = EXCLUDED.occurred_on"
    )
    with pytest.raises(REFUSED, match="append-only"):
        run_sql(db_url, dated_in_time)
    store.rebuild(NOW)
    assert kpi2(engine) == "breached"

    # The same statement with the guards dropped: the breach would turn into "met", and the chain says where.
    guards = (
        ("DROP TRIGGER events_no_replace",)
        if engine.dialect.name == "sqlite"
        else ("ALTER TABLE events DISABLE TRIGGER events_append_only",)
    )
    run_sql(db_url, *guards, dated_in_time)
    Store(engine, store.rules).rebuild(NOW)
    assert kpi2(engine) == "met"
    assert check_chain(engine).breaks == [Break("M-1", 3, "changed")]


@pytest.fixture
def opened(cli: Callable[..., Result]) -> Callable[..., Result]:
    """Three cases through `caseclock open`/`record`, the second with its LA notified late."""
    for ref in ("M-1", "M-2", "M-3"):
        assert (
            cli(
                "open",
                ref,
                "--type",
                "mediation",
                "--on",
                "2026-03-02",
                "--field",
                "caseworker=Jo Smith",
                "--field",
                "name=Alice Example",
            ).code
            == 0
        )
        assert cli("record", ref, "mediation_requested", "--on", "2026-03-02").code == 0
    assert cli("record", "M-2", "la_notified", "--on", "2026-03-10").code == 0
    return cli


def dropped_guard(dialect: str) -> tuple[str, list[str]]:
    """A guard removed by its owner (or switched off), and what `verify` calls it."""
    if dialect == "sqlite":
        return "DROP TRIGGER events_no_delete", ["events_no_delete"]
    return "ALTER TABLE events DISABLE TRIGGER events_append_only", ["events_append_only"]


def test_verify_finds_a_dropped_guard_and_init_restores_it(
    opened: Callable[..., Result], engine: Engine, db_url: str
) -> None:
    assert opened("--as-of", "2026-03-20", "verify").code == 0
    statement, names = dropped_guard(engine.dialect.name)
    run_sql(db_url, statement)

    result = opened("--as-of", "2026-03-20", "verify")
    assert result.code == 1
    line = next(line for line in result.out.splitlines() if line.startswith("guards:"))
    assert line == f"guards: FAILED (missing: {', '.join(names)}; run caseclock init to restore them)"
    assert "hash chain: ok (7 events of 3 cases match their hashes)" in result.out

    result = opened("init")
    assert result.code == 0, result.err
    assert f"restored the append-only guards that were missing: {', '.join(names)}" in result.out.splitlines()
    assert opened("--as-of", "2026-03-20", "verify").code == 0
    with pytest.raises(REFUSED, match="append-only"):
        run_sql(db_url, "DELETE FROM events")


@pytest.mark.postgres
def test_verify_finds_a_privilege_that_would_bypass_the_triggers(
    opened: Callable[..., Result], engine: Engine, db_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("privileges are PostgreSQL's")
    run_sql(db_url, "GRANT UPDATE, TRUNCATE ON events TO PUBLIC", "DROP TRIGGER cases_no_truncate ON cases")
    result = opened("verify", "--json")
    assert result.code == 1
    guards = next(check for check in json.loads(result.out)["checks"] if check["check"] == "guards")
    assert guards["missing"] == [
        "cases_no_truncate",
        "grant: PUBLIC may TRUNCATE events",
        "grant: PUBLIC may UPDATE events",
    ]
    assert opened("init").code == 0
    assert opened("verify").code == 0


def test_an_edit_made_with_the_guards_off_is_named_by_case_and_seq(
    opened: Callable[..., Result], engine: Engine, db_url: str
) -> None:
    sqlite = engine.dialect.name == "sqlite"
    off = (
        ["DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete"]
        if sqlite
        else ["ALTER TABLE events DISABLE TRIGGER events_append_only"]
    )
    case_2, case_3 = (f"(SELECT id FROM cases WHERE ref = '{ref}')" for ref in ("M-2", "M-3"))
    data = '\'{"note": "x"}\'' + ("" if sqlite else "::jsonb")
    run_sql(
        db_url,
        *off,
        f"UPDATE events SET occurred_on = '2026-03-04' WHERE case_id = {case_2} AND seq = 3",
        f"UPDATE events SET data = {data} WHERE case_id = {case_3} AND seq = 2",
    )
    assert opened("init").code == 0  # the guards back on: the edit stays, and only the chain can tell

    result = opened("--as-of", "2026-03-20", "verify", "--json")
    assert result.code == 1
    chain = next(check for check in json.loads(result.out)["checks"] if check["check"] == "hash chain")
    assert chain["breaks"] == [
        {"case": "M-2", "seq": 3, "why": "changed"},
        {"case": "M-3", "seq": 2, "why": "changed"},
    ]
    result = opened("--as-of", "2026-03-20", "verify")
    line = next(line for line in result.out.splitlines() if line.startswith("hash chain:"))
    assert line == (
        "hash chain: FAILED (2 cases were changed outside caseclock, "
        "first M-2 event 3 differs from its hash; "
        "compare with a backup before running rebuild, which would build on the changed events)"
    )
    assert "Alice" not in result.out + result.err


def test_events_removed_from_the_end_of_a_case_are_found(
    opened: Callable[..., Result], engine: Engine, db_url: str
) -> None:
    off = (
        "DROP TRIGGER events_no_delete"
        if engine.dialect.name == "sqlite"
        else ("ALTER TABLE events DISABLE TRIGGER events_append_only")
    )
    run_sql(
        db_url, off, "DELETE FROM events WHERE seq = 3 AND case_id = (SELECT id FROM cases WHERE ref = 'M-2')"
    )
    assert check_chain(engine).breaks == [Break("M-2", 3, "missing")]


def test_a_case_all_of_whose_events_were_removed_is_found(
    opened: Callable[..., Result], engine: Engine, db_url: str
) -> None:
    off = (
        "DROP TRIGGER events_no_delete"
        if engine.dialect.name == "sqlite"
        else ("ALTER TABLE events DISABLE TRIGGER events_append_only")
    )
    case_2, case_3 = (f"(SELECT id FROM cases WHERE ref = '{ref}')" for ref in ("M-2", "M-3"))
    run_sql(
        db_url,
        off,
        f"DELETE FROM events WHERE case_id = {case_2}",
        f"DELETE FROM events WHERE case_id = {case_3} AND seq = 2",
    )
    report = check_chain(engine)
    assert report.breaks == [Break("M-2", 1, "missing"), Break("M-3", 2, "missing")]  # in case order
    assert (report.events, report.cases) == (3, 3)


def test_0011_chains_the_stored_events_as_the_store_does(store: Store, engine: Engine) -> None:
    for ref in ("M-1", "M-2"):
        late_notification(store, ref)
    written = history(engine)
    assert [len(row[-1]) for row in written] == [64] * 6

    migrate(engine, "downgrade", "0010")
    with engine.connect() as connection:
        assert "hash" not in [column["name"] for column in inspect(connection).get_columns("events")]
        assert connection.execute(text("SELECT count(*) FROM events")).scalar() == 6
    migrate(engine, "upgrade", "head")
    assert history(engine) == written  # the same hashes the store wrote
    with engine.connect() as connection:
        assert missing_guards(connection) == []
    assert check_chain(engine).breaks == []
    # and the store chains the next event onto them
    store = Store(engine, store.rules)
    store.record("M-1", "note", D("2026-03-11"), {"note": "after the upgrade"}, "tester", NOW, TODAY)
    assert check_chain(engine) == ChainReport(events=7, cases=2)


@pytest.fixture
def owner_url() -> str:
    """An empty PostgreSQL database, as the owner (the test server's superuser) sees it."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    engine = make_engine(POSTGRES_URL)
    reset_postgres(engine)
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def app_role(owner_url: str) -> Iterator[str]:
    """A login role for the application (named after the test database: roles are the whole server's)."""
    role = f"{make_url(owner_url).database}_app"
    run_sql(owner_url, f"DROP OWNED BY {role}" if _role_exists(owner_url, role) else "SELECT 1")
    run_sql(owner_url, f"DROP ROLE IF EXISTS {role}", f"CREATE ROLE {role} LOGIN")
    yield role
    run_sql(owner_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def _role_exists(url: str, role: str) -> bool:
    with psycopg.connect(url) as pg:
        return pg.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def caseclock(url: str, *args: str) -> int:
    return main(["--db", url, "--as-of", "2026-03-20", *args])


@pytest.mark.postgres
def test_the_application_role_can_add_events_but_never_change_them(
    owner_url: str, app_role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert caseclock(owner_url, "init", "--app-role", app_role) == 0
    assert (
        f"role {app_role} may read and add events but never change or remove them" in capsys.readouterr().out
    )
    app_url = make_url(owner_url).set(username=app_role).render_as_string(hide_password=False)

    # Day to day, as the application's role: every command works.
    assert caseclock(app_url, "open", "M-1", "--type", "mediation", "--on", "2026-03-02") == 0
    assert caseclock(app_url, "record", "M-1", "mediation_requested", "--on", "2026-03-02") == 0
    assert caseclock(app_url, "void", "M-1", "2", "--reason", "wrong case") == 0
    assert caseclock(app_url, "rebuild") == 0
    assert caseclock(app_url, "init") == 0  # up to date, guards in place: nothing for it to do
    assert caseclock(app_url, "verify") == 0, capsys.readouterr().out

    # What it cannot do, whatever SQL it runs (and not being superuser, it cannot switch triggers off).
    for statement in (
        "UPDATE events SET type = 'note'",
        "DELETE FROM events",
        "TRUNCATE events",
        "DROP TRIGGER events_append_only ON events",
        "ALTER TABLE events DISABLE TRIGGER events_append_only",
        "SET session_replication_role = replica",
        "UPDATE alembic_version SET version_num = '0001'",
    ):
        with pytest.raises(psycopg.Error, match=r"permission denied|must be owner"):
            run_sql(app_url, statement)

    # A guard gone missing is for the owner to put back.
    run_sql(owner_url, "DROP TRIGGER events_no_truncate ON events")
    capsys.readouterr()
    assert caseclock(app_url, "init") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "events_no_truncate are missing and this role cannot put them back" in err
    assert "run caseclock init as the owner of the tables" in err
    assert caseclock(owner_url, "init") == 0
    assert caseclock(app_url, "verify") == 0


@pytest.mark.postgres
def test_an_app_role_that_cannot_be_used_is_refused(
    owner_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = make_url(owner_url).username or "postgres"
    for role, reason in (
        ("no_such_role_here", "no such role: create it first"),
        (owner, "that is the role running init, which owns the tables"),
    ):
        assert caseclock(owner_url, "init", "--app-role", role) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"caseclock: --app-role={role}: {reason}")
        assert err.count("\n") == 1
    engine = make_engine(owner_url)
    assert current_revision(engine) is None  # refused before anything was written
    engine.dispose()


def test_an_app_role_on_sqlite_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    assert caseclock(url, "init", "--app-role", "caseclock_app") == 2
    assert capsys.readouterr().err == (
        "caseclock: --app-role=caseclock_app: SQLite has no roles: the file's permissions (0600) are its "
        "access control; leave --app-role out\n"
    )
