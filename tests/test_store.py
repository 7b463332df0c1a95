"""The event store on SQLite and PostgreSQL: transactions, concurrency, append-only history, rebuild."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from tests.conftest import NOW, POSTGRES_URL, reset_postgres, shared_rules
from tracker.domain.errors import ConcurrencyError, Refused, StoreUnavailable
from tracker.domain.rules import FieldType
from tracker.domain.workflow import CaseState, allowed_events
from tracker.store import Store, schema
from tracker.store.engine import make_engine, upgrade

D = dt.date.fromisoformat
TODAY = D("2026-06-30")


def open_case(store: Store, ref: str = "M-1", on: str = "2026-03-02") -> CaseState:
    return store.open_case(ref, "mediation", D(on), {"caseworker": "Jo Smith"}, "tester", NOW, TODAY)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table except the projection's wall-clock column, in a stable order."""
    tables = {}
    with engine.connect() as connection:
        for table in (schema.cases, schema.events, schema.clocks):
            columns = [c for c in table.c if c.name != "updated_at"]
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            tables[table.name] = [tuple(row) for row in rows]
    return tables


def test_record_appends_with_the_next_seq(store: Store) -> None:
    open_case(store)
    event, state = store.record("M-1", "mediation_requested", D("2026-03-02"), {}, "tester", NOW, TODAY)
    assert event.seq == 2
    assert state.state == "mediation_requested"
    assert [e.seq for e in store.case("M-1").events] == [1, 2]


def test_a_refused_event_changes_nothing(store: Store, engine: Engine) -> None:
    open_case(store)
    before = snapshot(engine)
    with pytest.raises(Refused):
        store.record("M-1", "la_notified", D("2026-03-03"), {}, "tester", NOW, TODAY)
    with pytest.raises(Refused):
        store.open_case("M-1", "mediation", D("2026-03-02"), {}, "tester", NOW, TODAY)
    assert snapshot(engine) == before


def test_a_stale_expected_version_is_a_conflict(store: Store, engine: Engine) -> None:
    state = open_case(store)
    store.record(
        "M-1", "mediation_requested", D("2026-03-02"), {}, "a", NOW, TODAY, expected_version=state.last_seq
    )
    before = snapshot(engine)
    with pytest.raises(ConcurrencyError, match="changed since it was read"):
        store.record(
            "M-1", "la_notified", D("2026-03-03"), {}, "b", NOW, TODAY, expected_version=state.last_seq
        )
    assert snapshot(engine) == before


def test_a_write_by_another_connection_is_seen_by_the_next_write(
    store: Store, engine: Engine, db_url: str
) -> None:
    open_case(store)
    store.record("M-1", "mediation_requested", D("2026-03-02"), {}, "a", NOW, TODAY)
    other_engine = make_engine(db_url)
    try:
        other = Store(other_engine, shared_rules())
        other.record("M-1", "la_notified", D("2026-03-03"), {}, "b", NOW, TODAY)
    finally:
        other_engine.dispose()
    # The first store folded the case at seq 2 when it wrote it; the case is at seq 3 now.
    appended, state = store.record("M-1", "note", D("2026-03-04"), {"note": "called"}, "a", NOW, TODAY)
    assert (appended.seq, state.state, state.last_seq) == (4, "la_notified", 4)
    with pytest.raises(Refused, match="la_notified"):
        store.record("M-1", "la_notified", D("2026-03-05"), {}, "a", NOW, TODAY)
    incremental = snapshot(engine)
    store.rebuild(NOW)
    assert snapshot(engine) == incremental


def test_a_refused_or_conflicting_write_leaves_the_next_one_right(store: Store, engine: Engine) -> None:
    state = open_case(store)
    with pytest.raises(Refused):
        store.record("M-1", "la_notified", D("2026-03-03"), {}, "a", NOW, TODAY)
    with pytest.raises(ConcurrencyError):
        store.record("M-1", "mediation_requested", D("2026-03-02"), {}, "a", NOW, TODAY, expected_version=9)
    with pytest.raises(Refused, match="M-2"):
        store.record_many(
            [("M-1", "mediation_requested", D("2026-03-02"), {}), ("M-2", "note", D("2026-03-02"), {})],
            "a",
            NOW,
            TODAY,
        )
    _, after = store.record("M-1", "mediation_requested", D("2026-03-02"), {}, "a", NOW, TODAY)
    assert (after.state, after.last_seq) == ("mediation_requested", state.last_seq + 1)
    incremental = snapshot(engine)
    store.rebuild(NOW)
    assert snapshot(engine) == incremental


def test_a_locked_sqlite_database_is_unavailable_and_nothing_is_written(store: Store, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock; PostgreSQL writers queue on the case row instead")
    open_case(store)
    # Give up on a busy database at once instead of after the configured 30 seconds.
    event.listen(
        store.engine, "connect", lambda dbapi_connection, _: dbapi_connection.execute("PRAGMA busy_timeout=0")
    )
    store.engine.dispose()
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="database unavailable: database is locked"):
            store.record("M-1", "mediation_requested", D("2026-03-02"), {}, "a", NOW, TODAY)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [e.seq for e in store.case("M-1").events] == [1]


def test_events_are_append_only_in_the_database(store: Store, engine: Engine) -> None:
    open_case(store)
    for statement in ("UPDATE events SET type = 'x'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert len(store.case("M-1").events) == 1


def _append_at_the_same_moment(url: str, expected: int | None, barrier: Any, results: Any) -> None:
    """One of two processes: wait for the other, then append to M-1."""
    engine = make_engine(url)
    store = Store(engine, shared_rules())
    barrier.wait(timeout=30)
    try:
        event, _ = store.record(
            "M-1",
            "note",
            D("2026-03-03"),
            {"note": "from a process"},
            "p",
            NOW,
            TODAY,
            expected_version=expected,
        )
        results.put(("ok", event.seq))
    except ConcurrencyError as error:
        results.put(("conflict", error.message))
    finally:
        engine.dispose()


def _race(url: str, expected: int | None) -> list[tuple[str, object]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(target=_append_at_the_same_moment, args=(url, expected, barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    outcome = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return outcome


def test_two_processes_appending_on_one_version_exactly_one_wins(store: Store, db_url: str) -> None:
    state = open_case(store)
    outcome = _race(db_url, expected=state.last_seq)
    assert sorted(kind for kind, _ in outcome) == ["conflict", "ok"]
    history = store.case("M-1").events
    assert [e.seq for e in history] == [1, 2]  # nothing lost, nothing duplicated


def test_two_processes_appending_without_a_version_both_land_in_order(store: Store, db_url: str) -> None:
    open_case(store)
    outcome = _race(db_url, expected=None)
    assert sorted(outcome) == [("ok", 2), ("ok", 3)]
    assert [e.seq for e in store.case("M-1").events] == [1, 2, 3]


# ------------------------------------------------------------------ incremental projection == rebuild


def _field_value(
    data: st.DataObject, spec: Any, name: str, on: dt.date, state: CaseState, pack: Any
) -> object:
    if spec.type is FieldType.DATE:
        return (on + dt.timedelta(days=data.draw(st.integers(0, 40), label=name))).isoformat()
    if spec.type is FieldType.CHOICE:
        return data.draw(st.sampled_from(pack.choices_of(spec)), label=name)
    if spec.type is FieldType.BOOLEAN:
        return data.draw(st.booleans(), label=name)
    if spec.type is FieldType.CLOCK:
        live = [c.clock for c in state.clocks if c.live and c.spec.exception_reasons]
        return live[0] if live else "none"
    if spec.type is FieldType.EXCEPTION_REASON:
        live = [c for c in state.clocks if c.live and c.spec.exception_reasons]
        return data.draw(st.sampled_from(live[0].spec.exception_reasons), label=name) if live else "none"
    return "words"


def _random_history(store: Store, data: st.DataObject, engine: Engine) -> None:
    rules = store.rules
    on = D("2026-01-05") + dt.timedelta(days=data.draw(st.integers(0, 30), label="opened"))
    case_type = data.draw(st.sampled_from(rules.packs.case_types), label="type")
    state = store.open_case("M-1", case_type, on, {}, "t", NOW, TODAY)
    for _ in range(data.draw(st.integers(1, 12), label="steps")):
        on = on + dt.timedelta(days=data.draw(st.integers(0, 9), label="gap"))
        if on > TODAY:
            break
        action = data.draw(st.sampled_from(["record", "record", "record", "void", "refused"]), label="action")
        pack = rules.pack(state)
        if action == "void" and state.last_seq > 1:
            seq = data.draw(st.integers(2, state.last_seq), label="void")
            with contextlib.suppress(Refused):  # a void that would orphan a later event is refused
                _, state = store.void("M-1", seq, "test", "t", NOW, TODAY)
            continue
        if action == "refused":
            before = snapshot(engine)
            with pytest.raises(Refused):
                store.record("M-1", "no_such_event", on, {}, "t", NOW, TODAY)
            with pytest.raises(Refused):
                store.record("M-1", "note", TODAY + dt.timedelta(days=1), {"note": "x"}, "t", NOW, TODAY)
            assert snapshot(engine) == before
            continue
        choices = allowed_events(rules, state, on)
        if not choices:
            break
        event_type = data.draw(st.sampled_from(choices), label="event")
        fields = {
            name: _field_value(data, spec, name, on, state, pack)
            for name, spec in pack.event_fields(event_type).items()
            if (spec.required or name in pack.events[event_type].required_fields)
        }
        with contextlib.suppress(Refused):  # e.g. an exception dated before its clock started
            _, state = store.record("M-1", event_type, on, fields, "t", NOW, TODAY)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_incremental_projection_equals_rebuild_sqlite(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('h') / 'cases.db'}")
    try:
        upgrade(engine)
        store = Store(engine, shared_rules())
        _random_history(store, data, engine)
        incremental = snapshot(engine)
        store.rebuild(NOW)
        assert snapshot(engine) == incremental
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="no PostgreSQL server: set CASECLOCK_TEST_DATABASE_URL")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_incremental_projection_equals_rebuild_postgres(data: st.DataObject) -> None:
    assert POSTGRES_URL is not None
    engine = make_engine(POSTGRES_URL)
    try:
        reset_postgres(engine)
        upgrade(engine)
        store = Store(engine, shared_rules())
        _random_history(store, data, engine)
        incremental = snapshot(engine)
        store.rebuild(NOW)
        assert snapshot(engine) == incremental
    finally:
        engine.dispose()


def test_rebuild_after_a_rule_change_moves_due_dates(store: Store, engine: Engine) -> None:
    open_case(store)
    store.record("M-1", "mediation_requested", D("2026-03-02"), {}, "t", NOW, TODAY)
    closure = Store(
        engine, type(store.rules)(store.rules.packs, type(store.rules.calendar)([D("2026-03-04")]))
    )
    closure.rebuild(NOW)
    kpi2 = next(c for c in closure.case("M-1").state.clocks if c.clock == "kpi2")
    assert kpi2.due_on == D("2026-03-06")
    with engine.connect() as connection:
        due = connection.execute(
            select(schema.clocks.c.due_on).where(schema.clocks.c.clock == "kpi2")
        ).scalar_one()
    assert due == D("2026-03-06")


def test_record_many_is_one_transaction_all_or_nothing(store: Store, engine: Engine) -> None:
    open_case(store, "M-1")
    open_case(store, "M-2")
    written = store.record_many(
        [
            ("M-1", "mediation_requested", D("2026-03-02"), {}),
            ("M-2", "mediation_requested", D("2026-03-03"), {}),
            ("M-1", "la_notified", D("2026-03-04"), {}),
        ],
        "t",
        NOW,
        TODAY,
    )
    assert [(e.type, e.seq) for e in written] == [
        ("mediation_requested", 2),
        ("mediation_requested", 2),
        ("la_notified", 3),
    ]
    assert store.case("M-1").state.state == "la_notified"
    before = snapshot(engine)
    with pytest.raises(Refused, match="M-2"):
        store.record_many(
            [
                ("M-1", "note", D("2026-03-05"), {"note": "x"}),
                ("M-2", "certificate_issued", D("2026-03-05"), {}),
            ],
            "t",
            NOW,
            TODAY,
        )
    assert snapshot(engine) == before
    incremental = snapshot(engine)
    store.rebuild(NOW)
    assert snapshot(engine) == incremental
