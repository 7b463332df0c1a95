"""Personal data apart from the append-only log: erasure leaves no byte of it and every figure as it was.

On SQLite and PostgreSQL: the events hold markers, never values; a rebuild with the personal store empty
gives the same projections; after `erase` no personal string of the case is in the SQLite file (-wal, -shm)
or in any column of any PostgreSQL table, while another case's still is (so the search can find them);
every export is byte for byte the one before; `show`, `cases`, `check`, letters work and say "erased"; a
second erase writes nothing; a reason naming the person is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import String, Text, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import JSON

from tracker.domain.personal import ERASED, HELD_APART
from tracker.store import Store
from tracker.store.engine import make_engine

AS_OF = "2026-11-30"
PERIOD = "FY2026"

NAME = "Zebediah Quonset-Farthing"
SECRETS = {
    "name": NAME,
    "contact": "07700 900461",
    "email": "zq.farthing@example.org",
    "note": "Xylophone lessons clash on Tuesdays",
    "meeting_place": "Quillington Community Hall",
    "exception note": "Grandmother visiting from Vladivostok",
    "comment": "Mediator Pemberton-Oyelaran was kind",
    "detail": "Carpet smelled of marzipan",
    "story": "Now thriving at Upper Wobbleton",
    "void reason": "Recorded against the Brambleford household",
}
OTHER = {"name": "Ottoline Vexworthy-Pim", "reason": "Relocated to Fenwick-upon-Tyne"}


def run_ok(cli: Any, *args: str) -> Any:
    result = cli("--as-of", AS_OF, *args)
    assert result.code == 0, result.err
    return result


@pytest.fixture
def cases(cli: Any) -> None:
    """M-1 with every kind of personal value and free text; M-2 with its own; M-3 with none."""
    run_ok(
        cli,
        "open",
        "M-1",
        "--on",
        "2026-04-01",
        "--field",
        "caseworker=Jo Smith",
        "--field",
        "district=norwich",
        "--field",
        "source=school",
        "--name",
        NAME,
        "--contact",
        SECRETS["contact"],
        "--email",
        SECRETS["email"],
    )
    s = SECRETS
    for args in (
        ["mediation_requested", "--on", "2026-04-02"],
        ["la_notified", "--on", "2026-04-09"],
        ["note", "--on", "2026-04-09", "--note", s["note"]],
        ["exception", "--on", "2026-04-10", "--clock", "kpi5", "--reason", "school_holiday"],
        ["meeting_scheduled", "--on", "2026-04-10", "--meeting-date", "2026-04-24"],
        ["meeting_scheduled", "--on", "2026-04-13", "--meeting-date", "2026-04-24"],
        ["confirmation_sent", "--on", "2026-04-14"],
        ["meeting_held", "--on", "2026-04-24", "--outcome", "agreed"],
        ["certificate_issued", "--on", "2026-04-29", "--kind", "after_mediation"],
        ["closed", "--on", "2026-04-30"],
        ["survey", "--on", "2026-05-05", "--field", "satisfied=agree", "--field", f"comment={s['comment']}"],
        ["feedback", "--on", "2026-05-06", "--kind", "complaint", "--detail", s["detail"]],
        ["impact_story", "--on", "2026-05-07", "--story", s["story"]],
    ):
        run_ok(cli, "record", "M-1", *args)
    # the exception (event 5) carries a note; the first schedule (event 6) is voided with a reason
    run_ok(cli, "void", "M-1", "5", "--reason", "wrong clock")
    run_ok(
        cli,
        "record",
        "M-1",
        "exception",
        "--on",
        "2026-04-10",
        "--clock",
        "kpi5",
        "--reason",
        "school_holiday",
        "--note",
        s["exception note"],
    )
    run_ok(cli, "void", "M-1", "6", "--reason", s["void reason"])
    run_ok(
        cli,
        "record",
        "M-1",
        "meeting_scheduled",
        "--on",
        "2026-04-15",
        "--meeting-date",
        "2026-04-24",
        "--meeting-place",
        s["meeting_place"],
    )
    run_ok(cli, "open", "M-2", "--on", "2026-06-01", "--field", "district=breckland", "--name", OTHER["name"])
    run_ok(cli, "record", "M-2", "mediation_requested", "--on", "2026-06-01")
    run_ok(cli, "record", "M-2", "withdrawn", "--on", "2026-06-10", "--reason", OTHER["reason"])
    run_ok(cli, "open", "M-3", "--type", "disagreement_resolution", "--on", "2026-08-03")
    run_ok(cli, "record", "M-3", "closed", "--on", "2026-09-01", "--outcome", "resolved")


def db_engine(db_url: str) -> Engine:
    return make_engine(db_url, create=False)


def every_text(db_url: str) -> str:
    """Every text and JSON column of every table, as text (PostgreSQL and SQLite alike)."""
    engine = db_engine(db_url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            parts: list[str] = []
            for table in inspector.get_table_names():
                for column in inspector.get_columns(table):
                    if isinstance(column["type"], String | Text | JSON) or "JSON" in str(column["type"]):
                        quoted = f'"{column["name"]}"'
                        cast = f"CAST({quoted} AS TEXT)"
                        rows = connection.execute(text(f'SELECT {cast} FROM "{table}"')).scalars()
                        parts += [str(row) for row in rows if row is not None]
    finally:
        engine.dispose()
    # JSON text escapes non-ASCII characters; these secrets are ASCII, so the raw text is enough
    return "\n".join(parts)


def sqlite_bytes(db_url: str) -> bytes:
    path = Path(db_url.removeprefix("sqlite:///"))
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


def exports(cli: Any, tmp_path: Path, tag: str) -> dict[str, Any]:
    """Every export format of the period: json, csv and html as bytes, xlsx as every sheet's cells."""
    found: dict[str, Any] = {
        "json": run_ok(cli, "export", "--period", PERIOD, "--format", "json").out.encode()
    }
    for fmt in ("csv", "html", "xlsx"):
        path = tmp_path / f"{tag}.{fmt}"
        run_ok(cli, "export", "--period", PERIOD, "--format", fmt, "--out", str(path))
        found[fmt] = path.read_bytes()
    if found["csv"][:2] == b"PK":  # a zip of one file per sheet: compare the files, not the zip's dates
        with zipfile.ZipFile(tmp_path / f"{tag}.csv") as archive:
            found["csv"] = {name: archive.read(name) for name in archive.namelist()}
    workbook = load_workbook(tmp_path / f"{tag}.xlsx")
    found["xlsx"] = {
        sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()]
        for sheet in workbook.worksheets
    }
    return found


def test_the_events_hold_markers_and_a_case_reads_its_values_back(cli, cases, db_url) -> None:
    engine = db_engine(db_url)
    with engine.connect() as connection:
        stored = "\n".join(
            json.dumps(data) for data in connection.execute(text("SELECT data FROM events")).scalars()
        )
    store_text = every_text(db_url)
    for secret in SECRETS.values():
        assert secret not in stored
        assert secret in store_text  # in the personal store
    assert HELD_APART in stored
    shown = json.loads(run_ok(cli, "show", "M-1", "--json", "--personal").out)
    assert shown["personal"] == {"name": NAME, "contact": SECRETS["contact"], "email": SECRETS["email"]}
    words = json.dumps(shown)
    for secret in SECRETS.values():
        assert secret in words
    exception = next(c["exception"] for c in shown["clocks"] if c["clock"] == "kpi5")
    assert exception["note"] == SECRETS["exception note"]
    assert shown["erased"] is None
    engine.dispose()


def test_a_rebuild_with_the_personal_store_empty_gives_the_same_projections(
    store: Store, engine: Engine, cli, cases, db_url
) -> None:
    def projections() -> tuple[list[Any], list[Any]]:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT * FROM cases ORDER BY id")).mappings().all()
            case_rows = [{k: v for k, v in row.items() if k != "updated_at"} for row in rows]
            clock_rows = [
                dict(row)
                for row in connection.execute(text("SELECT * FROM clocks ORDER BY 1, 2, 3")).mappings()
            ]
        return case_rows, clock_rows

    before = projections()
    with engine.begin() as connection:
        held = connection.execute(text("DELETE FROM personal_values")).rowcount
    assert held >= len(SECRETS)
    store.rebuild(dt_now())
    assert projections() == before
    assert store.differing_projections(dt_now()) == []


def test_after_erase_no_personal_string_of_the_case_remains_and_every_export_is_the_same(
    cli, cases, db_url, tmp_path
) -> None:
    before = exports(cli, tmp_path, "before")
    sqlite = db_url.startswith("sqlite")
    everything = sqlite_bytes(db_url) if sqlite else every_text(db_url).encode()
    assert NAME.encode() in everything  # the search finds what is there

    result = run_ok(cli, "erase", "M-1", "--reason", "request of the data subject")
    assert result.out.startswith("M-1: personal data erased (")

    everything = sqlite_bytes(db_url) if sqlite else every_text(db_url).encode()
    for what, secret in SECRETS.items():
        assert secret.encode() not in everything, what
    for secret in OTHER.values():  # another case's personal data stays
        assert secret.encode() in everything
    assert exports(cli, tmp_path, "after") == before


def test_every_view_works_after_erasure_and_says_erased(cli, cases, db_url, tmp_path) -> None:
    run_ok(cli, "erase", "M-1", "--reason", "request of the data subject")
    shown = json.loads(run_ok(cli, "show", "M-1", "--json", "--personal").out)
    assert shown["personal"] == {"name": ERASED, "contact": ERASED, "email": ERASED}
    assert shown["erased"]["reason"] == "request of the data subject"
    assert shown["erased"]["by"]
    assert shown["erased"]["event"] > 1
    notes = [e["data"].get("note") for e in shown["events"] if e["type"] == "note"]
    assert notes == [ERASED]
    kpi5 = [c for c in shown["clocks"] if c["clock"] == "kpi5"]
    assert kpi5[0]["exception"]["note"] == ERASED
    words = run_ok(cli, "show", "M-1", "--personal").out
    assert "personal data erased on" in words
    assert "request of the data subject" in words
    assert "Name: erased" in words
    listed = json.loads(run_ok(cli, "cases", "--all", "--json").out)
    assert "M-1" in [c["ref"] for c in listed]
    config = tmp_path / "alerts.toml"
    config.write_text('[[webhooks]]\nname = "team"\nurl = "http://127.0.0.1:9/hook"\n', encoding="utf-8")
    checked = run_ok(cli, "--config", str(config), "check", "--dry-run", "--json")
    assert NAME not in checked.out
    assert ERASED not in checked.out
    letter = tmp_path / "letter.docx"
    run_ok(cli, "letter", "M-1", "certificate_after_mediation", "--format", "docx", "--out", str(letter))
    with zipfile.ZipFile(letter) as archive:
        body = archive.read("word/document.xml").decode()
    assert ERASED in body
    assert NAME not in body


def test_a_second_erase_writes_nothing_and_a_reason_naming_the_person_is_refused(cli, cases, db_url) -> None:
    def events() -> int:
        engine = db_engine(db_url)
        with engine.connect() as connection:
            count = int(connection.execute(text("SELECT count(*) FROM events")).scalar_one())
        engine.dispose()
        return count

    count = events()
    for reason, field in (
        ("asked by Zebediah himself", "name"),
        ("see: xylophone lessons clash on tuesdays", "note"),
    ):
        refused = cli("--as-of", AS_OF, "erase", "M-1", "--reason", reason)
        assert refused.code == 2
        assert refused.err.count("\n") == 1
        assert f"the case's {field}" in refused.err
        assert "Zebediah" not in refused.err
        assert "ylophone" not in refused.err
    assert events() == count
    assert NAME in run_ok(cli, "show", "M-1", "--personal").out

    run_ok(cli, "erase", "M-1", "--reason", "request of the data subject")
    assert events() == count + 1
    again = run_ok(cli, "erase", "M-1", "--reason", "again")
    assert again.out.startswith("M-1: already erased on ")
    assert "nothing written" in again.out
    assert events() == count + 1
    shown = json.loads(run_ok(cli, "show", "M-1", "--json").out)
    assert shown["erased"]["reason"] == "request of the data subject"
    recorded = cli("--as-of", AS_OF, "record", "M-1", "personal_data_erased")
    assert recorded.code == 2
    assert "caseclock erase M-1" in recorded.err
    voided = cli("--as-of", AS_OF, "void", "M-1", str(shown["erased"]["event"]), "--reason", "undo")
    assert voided.code == 2
    assert "cannot be undone" in voided.err


def test_erase_deletes_the_case_letters_in_the_documents_folder(cli, cases, tmp_path, monkeypatch) -> None:
    docs = tmp_path / "documents"
    docs.mkdir()
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(docs))
    mine = docs / "M-1-certificate_after_mediation.pdf"
    others = [docs / "M-2-la_notification.pdf", docs / "M-1-holiday-photos.pdf"]
    for path in (mine, *others):
        path.write_bytes(b"%PDF")
    result = run_ok(cli, "erase", "M-1", "--reason", "request of the data subject", "--json")
    assert json.loads(result.out)["documents_removed"] == [str(mine)]
    assert not mine.exists()
    assert all(path.exists() for path in others)


def test_the_search_by_name_reads_the_personal_store_until_erasure(store: Store, cli, cases) -> None:
    today = dt_now().date()
    found = store.cases(today, view="all", search="quonset", search_fields=("name",))
    assert [c.ref for c in found] == ["M-1"]
    assert [c.ref for c in store.cases(today, view="all", search="quonset")] == []  # names not asked for
    run_ok(cli, "erase", "M-1", "--reason", "request of the data subject")
    assert store.cases(today, view="all", search="quonset", search_fields=("name",)) == []
    run_ok(cli, "open", "M-9", "--on", "2026-06-01", "--name", "Zoë Ångström")
    assert [c.ref for c in store.cases(today, view="all", search="zoë", search_fields=("name",))] == ["M-9"]


def dt_now() -> dt.datetime:
    return dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def test_values_recorded_after_an_erasure_are_erased_by_the_next_one(cli, cases, db_url) -> None:
    run_ok(cli, "erase", "M-1", "--reason", "request of the data subject")
    later = "Quarrendon telephoned about Wibblesby school"
    run_ok(cli, "record", "M-1", "note", "--note", later)
    assert later in every_text(db_url)
    again = json.loads(run_ok(cli, "erase", "M-1", "--reason", "request of the data subject", "--json").out)
    assert (again["erased"], again["values"]) == (True, 1)
    assert later not in every_text(db_url)
    if db_url.startswith("sqlite"):
        assert later.encode() not in sqlite_bytes(db_url)
    last = run_ok(cli, "erase", "M-1", "--reason", "request of the data subject")
    assert "already erased" in last.out


def test_an_erase_while_another_connection_reads_says_the_log_is_not_rewritten_yet(
    cli, cases, db_url
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log")
    reader = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchone()  # a read snapshot holds the log
    try:
        erased = run_ok(cli, "erase", "M-1", "--reason", "request of the data subject")
        assert "another caseclock program" in erased.out
        assert NAME.encode() in sqlite_bytes(db_url)  # the old pages are still in the log
    finally:
        reader.close()
    again = run_ok(cli, "erase", "M-1", "--reason", "request of the data subject")
    assert "already erased" in again.out
    assert "another caseclock program" not in again.out
    for value in SECRETS.values():
        assert value.encode() not in sqlite_bytes(db_url)
