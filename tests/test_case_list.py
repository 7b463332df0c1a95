"""The case list's reads (`Store.cases`, `Store.count_cases`) on SQLite and PostgreSQL: order, views, search
and pages, and on SQLite that a page is read in index order rather than by sorting every case."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from tests.conftest import NOW
from tracker.store import Store

D = dt.date.fromisoformat
TODAY = D("2026-03-10")

# (ref, caseworker, steps): a request starts the KPI clocks, so the cases get different next due dates.
CLOSE = [
    ("mediation_requested", "2026-01-05", {}),
    ("mediation_declined", "2026-01-07", {}),
    ("certificate_issued", "2026-01-08", {"kind": "advice_only"}),
    ("closed", "2026-01-09", {}),
]
CASES: list[tuple[str, str | None, list[tuple[str, str, dict[str, str]]]]] = [
    ("M-0001", "Jo Smith", [("mediation_requested", "2026-02-02", {})]),
    ("M-0002", "Sam Patel", [("mediation_requested", "2026-03-05", {})]),
    ("M-0003", "sam o'neil", [("mediation_requested", "2026-03-02", {})]),
    ("D-0004", "Priya Shah", []),
    ("M-0005", "Jo Smith", CLOSE),
    ("m-0006", None, [("mediation_requested", "2026-03-09", {})]),
    ("M-0107", "SAMIRA Khan", []),
]


@pytest.fixture
def listed(store: Store) -> Store:
    for ref, owner, steps in CASES:
        fields = {"caseworker": owner} if owner else {}
        case_type = "disagreement_resolution" if ref.startswith("D-") else "mediation"
        store.open_case(ref, case_type, D("2026-01-05"), fields, "tester", NOW, TODAY)
        for step, on, data in steps:
            store.record(ref, step, D(on), data, "tester", NOW, TODAY)
    return store


def refs(store: Store, view: str = "all", **options: object) -> list[str]:
    return [s.ref for s in store.cases(TODAY, view, **options)]  # type: ignore[arg-type]


def test_most_urgent_first_then_undated_by_reference(listed: Store) -> None:
    summaries = listed.cases(TODAY, "all")
    dated = [s for s in summaries if s.next_due_on is not None]
    undated = [s for s in summaries if s.next_due_on is None]
    assert summaries == dated + undated
    assert [(s.next_due_on, s.ref) for s in dated] == sorted((s.next_due_on, s.ref) for s in dated)
    assert [s.ref for s in undated] == sorted(s.ref for s in undated)
    assert len(summaries) == len(CASES) == listed.count_cases(TODAY, "all")


def test_search_matches_part_of_the_reference_or_the_caseworker_in_any_case(listed: Store) -> None:
    assert sorted(refs(listed, search="sam")) == ["M-0002", "M-0003", "M-0107"]
    assert sorted(refs(listed, search="SAM")) == ["M-0002", "M-0003", "M-0107"]
    assert sorted(refs(listed, search="m-000")) == ["M-0001", "M-0002", "M-0003", "M-0005", "m-0006"]
    assert refs(listed, search="0107") == ["M-0107"]
    assert refs(listed, search="nobody") == []
    assert listed.count_cases(TODAY, "all", search="Sam") == 3
    assert listed.count_cases(TODAY, "all", search="nobody") == 0


def test_search_keeps_the_order_and_combines_with_views_and_owner(listed: Store) -> None:
    everything = refs(listed)
    found = refs(listed, search="m")
    assert found == [ref for ref in everything if ref in found]
    assert "M-0005" not in refs(listed, "open", search="jo")
    assert refs(listed, "ended", search="jo") == ["M-0005"]
    assert refs(listed, "open", owner="Jo Smith", search="000") == ["M-0001"]
    for view in ("open", "ended", "overdue", "all"):
        assert listed.count_cases(TODAY, view, search="m") == len(refs(listed, view, search="m"))


def test_pages_follow_one_another(listed: Store) -> None:
    whole = refs(listed)
    pages = [refs(listed, limit=3, offset=offset) for offset in range(0, len(whole), 3)]
    assert [ref for page in pages for ref in page] == whole
    assert refs(listed, search="sam", limit=2, offset=2) == refs(listed, search="sam")[2:]


def test_sqlite_reads_a_page_in_the_order_of_the_case_list_index(listed: Store) -> None:
    if listed.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    statements: list[tuple[str, tuple[object, ...]]] = []

    def keep(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, tuple(parameters)))  # type: ignore[arg-type]

    event.listen(listed.engine, "before_cursor_execute", keep)
    try:
        for view in ("open", "ended", "overdue", "all"):
            listed.cases(TODAY, view, search="sam", limit=100)
            listed.cases(TODAY, view, limit=100, offset=100)
    finally:
        event.remove(listed.engine, "before_cursor_execute", keep)
    assert len(statements) == 8
    with listed.engine.connect() as connection:
        for statement, parameters in statements:
            plan = [
                str(row[-1])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            ]
            assert any("ix_cases_list" in step for step in plan), plan
            assert not any("TEMP B-TREE" in step for step in plan), plan


def test_percent_and_underscore_in_a_search_match_only_themselves(store: Store) -> None:
    for ref, owner in [("M-50%", "Ann Lee"), ("M-5000", "Bo_Ye"), ("M-5X00", "Bob Yeo")]:
        store.open_case(ref, "mediation", D("2026-01-05"), {"caseworker": owner}, "tester", NOW, TODAY)
    assert refs(store, search="50%") == ["M-50%"]
    assert refs(store, search="%") == ["M-50%"]
    assert refs(store, search="o_y") == ["M-5000"]
    assert refs(store, search="_") == ["M-5000"]
    assert refs(store, search="5_00") == []
    assert store.count_cases(TODAY, "all", search="%") == 1


def test_search_fields_match_a_case_field_and_the_personal_name_only_when_asked(store: Store) -> None:
    fields = {"caseworker": "Jo Smith", "la": "Suffolk", "name": "Alex 100% Doe"}
    store.open_case("M-0201", "mediation", D("2026-01-05"), fields, "tester", NOW, TODAY)
    store.open_case("M-0202", "mediation", D("2026-01-05"), {"la": "Norfolk"}, "tester", NOW, TODAY)
    assert refs(store, search="alex") == []  # the name is matched only where the caller asks for it
    assert refs(store, search="suffolk") == []
    assert refs(store, search="SUFFOLK", search_fields=("la",)) == ["M-0201"]
    assert refs(store, search="alex", search_fields=("la", "name")) == ["M-0201"]
    assert refs(store, search="100%", search_fields=("name",)) == ["M-0201"]
    assert store.count_cases(TODAY, "all", search="folk", search_fields=("la",)) == 2
