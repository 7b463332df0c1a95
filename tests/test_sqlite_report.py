"""The export's direct SQLite read (`tracker.sqlite_report`) against the store: one report, or no answer."""

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
from tracker.errors import InvalidValue
from tracker.exporters import json_text
from tracker.periods import parse_period
from tracker.reporting import compliance_report, report_snapshot
from tracker.sqlite_report import sqlite_report
from tracker.store import Store

AS_OF = dt.date(2026, 11, 20)
PERIODS = ("FY2025", "FY2026-H1", "2026-10", "2026-11", "2025-12-01..2026-02-14", "2030-01")


@pytest.fixture
def demo_db(tmp_path: Path) -> tuple[str, Store]:
    """A SQLite file of 80 demo cases (voids and exceptions included), its report tables caught up."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store = Store(engine, shared_rules())
    store.import_histories(generate(store.rules, 80, 5, AS_OF, NOW), NOW)
    ref = store.cases(AS_OF, view="all")[0].ref
    note, _ = store.record(ref, "note", AS_OF, {"note": "called the family"}, "Jo Smith", NOW, AS_OF)
    store.void(ref, note.seq, "entered on the wrong case", "Jo Smith", NOW, AS_OF)
    compliance_report(store, None, parse_period("2026-11"), AS_OF)  # catches up
    return url, store


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2026, 6, 15)])
def test_the_report_reads_exactly_as_the_store_reads_it(demo_db: tuple[str, Store], as_of: dt.date) -> None:
    url, store = demo_db
    for name in PERIODS:
        period = parse_period(name)
        with sqlite_report(url, store.rules, None, period, as_of) as direct:
            assert direct is not None, name
            with report_snapshot(store):
                through_store = compliance_report(store, None, period, as_of, lazy_clocks=True)
                assert direct == through_store, name  # every figure, and every line in order
                assert list(direct.clocks.listed()) == list(through_store.clocks.listed())
                assert json_text(direct) == json_text(through_store)


def test_no_suppression_and_another_pack_read_as_the_store_reads_them(demo_db: tuple[str, Store]) -> None:
    url, store = demo_db
    period = parse_period("FY2026")
    with sqlite_report(url, store.rules, None, period, AS_OF, suppress=False) as direct:
        assert direct == compliance_report(store, None, period, AS_OF, suppress=False)
    with pytest.raises(InvalidValue) as refused, sqlite_report(url, store.rules, "no-such", period, AS_OF):
        pass
    assert "--pack" in str(refused.value)


def test_a_catch_up_to_do_leaves_the_report_to_the_store(demo_db: tuple[str, Store]) -> None:
    url, store = demo_db
    period = parse_period("2026-11")
    ref = store.cases(AS_OF, view="all")[1].ref
    store.record(ref, "note", AS_OF, {"note": "rang back"}, "Jo Smith", NOW, AS_OF)
    with sqlite_report(url, store.rules, None, period, AS_OF) as direct:
        assert direct is None  # the write's note: the store catches up first
    compliance_report(store, None, period, AS_OF)
    with sqlite_report(url, store.rules, None, period, AS_OF) as direct:
        assert direct is not None


def test_counts_made_with_another_pack_version_leave_the_report_to_the_store(
    demo_db: tuple[str, Store],
) -> None:
    url, store = demo_db
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE report_count_packs SET fingerprint = 'another'")
    with sqlite_report(url, store.rules, None, parse_period("2026-11"), AS_OF) as direct:
        assert direct is None


def test_what_it_cannot_answer_for_is_left_to_the_store(tmp_path: Path) -> None:
    rules, period = shared_rules(), parse_period("2026-11")
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('0005')")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    for url in (
        f"sqlite:///{old}",
        f"sqlite:///{empty}",
        f"sqlite:///{tmp_path / 'missing.db'}",
        f"sqlite:///{old}?timeout=5",
        "postgresql://localhost/caseclock",
    ):
        with sqlite_report(url, rules, None, period, AS_OF) as direct:
            assert direct is None, url
    assert not (tmp_path / "missing.db").exists()  # never created here


def test_export_answers_without_importing_sqlalchemy(demo_db: tuple[str, Store], tmp_path: Path) -> None:
    url, store = demo_db
    script = (
        "import sys\n"
        "from tracker.cli import main\n"
        f"code = main(['--db', {url!r}, '--as-of', {AS_OF.isoformat()!r}, 'export', '--period', 'FY2026',"
        " '--format', 'json'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    exported, imported = run.stdout.rsplit("\n", 2)[:2]
    assert imported == "[]"
    expected = json_text(compliance_report(store, None, parse_period("FY2026"), AS_OF))
    assert json.loads(exported) == json.loads(expected)
    assert exported + "\n" == expected
