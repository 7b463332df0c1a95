"""`show`'s direct SQLite read (`tracker.sqlite_read`) against the store: the same case, or no answer."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NOW, shared_rules
from tracker.db import make_engine, upgrade
from tracker.demo import generate
from tracker.errors import UnknownCase
from tracker.sqlite_read import read_history, sqlite_file
from tracker.store import Store

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Store]:
    """A SQLite file of 60 demo cases (every path, voids and exceptions included)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('read') / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store = Store(engine, shared_rules())
    store.import_histories(generate(store.rules, 60, 3, AS_OF, NOW), NOW)
    refs = [summary.ref for summary in store.cases(AS_OF, view="all")]
    note, _ = store.record(refs[0], "note", AS_OF, {"note": "called the family"}, "Jo Smith", NOW, AS_OF)
    store.void(refs[0], note.seq, "entered on the wrong case", "Jo Smith", NOW, AS_OF)
    return url, store


def test_every_case_reads_exactly_as_the_store_reads_it(demo_db: tuple[str, Store]) -> None:
    url, store = demo_db
    summaries = store.cases(AS_OF, view="all")
    assert len(summaries) == 60
    for summary in summaries:
        history = read_history(url, summary.ref)
        assert history is not None
        assert tuple(history) == store.case(summary.ref).events


def test_an_unknown_case_is_refused_as_the_store_refuses_it(demo_db: tuple[str, Store]) -> None:
    url, store = demo_db
    with pytest.raises(UnknownCase) as direct:
        read_history(url, "NO-SUCH")
    with pytest.raises(UnknownCase) as through_store:
        store.case("NO-SUCH")
    assert direct.value.message == through_store.value.message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://localhost/caseclock",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///cases.db?mode=ro",
        "mysql:///cases.db",
    ],
)
def test_other_urls_are_left_to_the_store(url: str) -> None:
    assert sqlite_file(url) is None
    assert read_history(url, "M-1") is None


def test_a_missing_file_is_left_to_the_store_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    assert read_history(f"sqlite:///{path}", "M-1") is None
    assert not path.exists()


def test_another_schema_revision_is_left_to_the_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('0001')")
    assert read_history(f"sqlite:///{path}", "M-1") is None
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert read_history(f"sqlite:///{empty}", "M-1") is None


def test_show_answers_without_importing_sqlalchemy(demo_db: tuple[str, Store]) -> None:
    url, store = demo_db
    ref = store.cases(AS_OF, view="all")[0].ref
    script = (
        "import sys\n"
        "from tracker.cli import main\n"
        f"code = main(['--db', {url!r}, '--as-of', '2026-11-20', 'show', {ref!r}, '--json'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    shown, imported = run.stdout.rsplit("\n", 2)[:2]
    assert imported == "[]"
    body = json.loads(shown)
    assert body["ref"] == ref
    assert [e["seq"] for e in body["events"]] == [e.seq for e in store.case(ref).events]
