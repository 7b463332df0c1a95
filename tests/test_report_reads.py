"""The store's report reads against the fold, on SQLite and PostgreSQL.

A compliance report counts from `Tallies`. The store makes them with grouped SQL over the report tables
(`tracker.report_reads`); `tracker.compliance.tally` makes them from the facts of each case's folded history
(`case_facts`), the slow, obviously-right path. These tests hold the two to each other: on the hand-built
half year of `test_compliance`, and on random demo histories (both rule packs, random corrections, random
periods and as-of dates) found by hypothesis. They also hold the report tables, which catch up from the
notes of the writes before a report is read, to the projections they copy after every kind of write, and
check the upgrade that fills them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, select, text
from sqlalchemy.engine import Engine

import tracker.report_tables
from tests.conftest import shared_rules
from tests.test_compliance import H1, NOW, TODAY, Case, half_year_cases
from tests.test_store import _random_history
from tracker import schema
from tracker.calendar import WorkingCalendar
from tracker.compliance import (
    ComplianceReport,
    ReferralFact,
    ReferralTally,
    Tallies,
    clock_chunks,
    report_json,
    tally,
)
from tracker.compliance.counts import case_counts, tallies_from_counts
from tracker.compliance.facts import CaseFacts, case_facts, report_from_facts
from tracker.compliance.flow import FlowFact, flow_tally, waiting_times
from tracker.db import make_engine, upgrade
from tracker.demo import generate
from tracker.driver_rows import dates_for, rows_on
from tracker.errors import Refused, StoreUnavailable
from tracker.exporters import json_text
from tracker.periods import Period, parse_period
from tracker.report_counts import count_afresh
from tracker.report_days import rejoin_all
from tracker.report_lines import clock_lines
from tracker.report_reads import read_tallies
from tracker.report_sql import counted_tallies
from tracker.report_tables import catch_up as catch_up_with
from tracker.reporting import compliance_report, report_snapshot
from tracker.rules import RulePack, discover_packs
from tracker.store import Store
from tracker.workflow import Rules

D = dt.date.fromisoformat
BOTH = Rules(discover_packs(enabled=["send-mediation", "adoption-support"]), WorkingCalendar())
PERIODS = ("FY2026-H1", "FY2026-H2", "2026-03", "FY2026", "2026-04-03..2026-04-03", "2025-06")


# ---------------------------------------------------------------------------------------------- helpers


def fold_tallies(store: Store, pack: RulePack, period: Period) -> Tallies:
    """The tallies `tally` makes from the facts of every case of the pack in the store, each refolded."""
    facts = [case_facts(pack, r.state, r.events) for r in _records(store, pack.id)]
    return tally(
        pack,
        period,
        [k for f in facts for k in f.clocks],
        [s for f in facts for s in f.surveys],
        [f.referral for f in facts],
        [b for f in facts for b in f.feedback],
        flow=[x for f in facts for x in f.flow],
        activities=[x for f in facts for x in f.activities],
        waits=[x for f in facts for x in f.waits],
    )


def fold_report(store: Store, pack: RulePack, period: Period, as_of: dt.date) -> ComplianceReport:
    facts = [case_facts(pack, r.state, r.events) for r in _records(store, pack.id)]
    return report_from_facts(pack, period, as_of, facts, calendar=store.rules.calendar)


def _records(store: Store, pack_id: str) -> list[Any]:
    with store.engine.connect() as connection:
        refs = connection.execute(select(schema.cases.c.ref).where(schema.cases.c.pack == pack_id)).scalars()
        return [store.case(ref) for ref in list(refs)]


def comparable(t: Tallies, pack: RulePack, period: Period, as_of: dt.date, calendar: WorkingCalendar) -> dict:
    """Tallies in a form that compares regardless of row order and of what a rule never reads."""
    spec = pack.satisfaction
    keys, texts = set(), set()
    if spec is not None:
        keys = {spec.question, *spec.other_questions}
        texts = {n for n, f in pack.event_fields(spec.event).items() if f.type.value == "text"}
    clocks: Counter[Any] = Counter()
    for group in t.clocks:
        clocks[group._replace(instances=1)] += group.instances
    return {
        "clocks": clocks,
        # a survey is counted, never listed: its case and the words of its comment are not read
        "surveys": sorted(
            (
                s.on,
                sorted((k, v) for k, v in s.answers.items() if k in keys),
                sorted(k for k, v in s.answers.items() if k in texts and v),
                s.group,
            )
            for s in t.surveys
            for _ in range(s.instances)
        ),
        "referrals": _referrals(t.referrals),
        "feedback": sorted((f.ref, f.event, f.on, sorted(f.choices.items())) for f in t.feedback),
        "flow": dict(t.flow),
        "activities": sorted(t.activities, key=repr),
        # the waits are read already narrowed to those that can count: compare what they make
        "waits": waiting_times(pack, period, as_of, t.waits, calendar),
    }


def _referrals(r: ReferralTally) -> dict:
    def plain(counts: Iterable[tuple[Any, int]]) -> list[tuple[str, int]]:
        return sorted((repr(k), n) for k, n in counts if n)

    return {
        "opened": plain(r.opened.items()),
        "types": plain(r.case_types.items()),
        "fields": {name: plain(c.items()) for name, c in r.fields.items()},
        "outcomes": {name: plain(c.items()) for name, c in r.outcomes.items()},
        "steps": {name: plain(c.items()) for name, c in r.steps.items()},
    }


def assert_store_matches_fold(store: Store, pack_id: str, period: Period, as_of: dt.date) -> None:
    pack = store.rules.packs.in_force(pack_id, period.end)
    calendar = store.rules.calendar
    from_store = read_tallies(store.engine, store.rules.packs, pack, period, as_of)
    by_fold = fold_tallies(store, pack, period)
    assert comparable(from_store, pack, period, as_of, calendar) == comparable(
        by_fold, pack, period, as_of, calendar
    ), (pack_id, period, as_of)
    expected = fold_report(store, pack, period, as_of)
    assert compliance_report(store, pack_id, period, as_of) == expected
    with report_snapshot(store):
        lazy = compliance_report(store, pack_id, period, as_of, lazy_clocks=True)
        assert lazy == expected  # every line, in order
        for kpi in expected.kpis:
            assert list(lazy.clocks.of_clock(kpi.key)) == list(expected.clocks.of_clock(kpi.key))
        assert list(lazy.clocks.listed()) == list(expected.clocks.listed())
        assert json_text(lazy) == json.dumps(report_json(expected), ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------- hand-built


@pytest.mark.parametrize("as_of", ["2026-09-28", "2026-10-05", "2027-05-01"])
def test_the_half_years_tallies_from_the_store_are_the_folds(store: Store, as_of: str) -> None:
    cases = half_year_cases()
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    for period in PERIODS:
        assert_store_matches_fold(store, "send-mediation", parse_period(period), D(as_of))


def test_corrections_leave_the_voided_events_out_of_every_tally(store: Store) -> None:
    cases = half_year_cases()
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    by_ref = {c.ref: c for c in cases}

    def seq(ref: str, event_type: str) -> int:
        return next(e.seq for e in by_ref[ref].events if e.type == event_type)

    store.void("M-A", seq("M-A", "la_notified"), "wrong case", "jo", NOW, TODAY)  # a step and a clock's stop
    store.void("M-B", seq("M-B", "certificate_issued"), "not issued", "jo", NOW, TODAY)  # an outcome, a step
    store.void("M-B", seq("M-B", "meeting_held"), "not held", "jo", NOW, TODAY)  # an outcome, a flow step
    store.void("M-G", seq("M-G", "survey"), "entered twice", "jo", NOW, TODAY)
    store.void("M-F", seq("M-F", "feedback"), "not feedback", "jo", NOW, TODAY)
    for period in PERIODS[:4]:
        assert_store_matches_fold(store, "send-mediation", parse_period(period), TODAY)


def test_the_last_outcome_recorded_wins_and_a_correction_brings_back_the_one_before(store: Store) -> None:
    case_ = (
        Case("M-H", "2026-04-01")
        .rec("mediation_requested", "2026-04-01")
        .rec("la_notified", "2026-04-02")
        .rec("meeting_scheduled", "2026-04-03", meeting_date="2026-04-20")
        .rec("meeting_held", "2026-04-20", outcome="agreed")
        .rec("certificate_issued", "2026-04-21", kind="after_mediation")
        .rec(
            "closed", "2026-04-21", outcome="not_resolved"
        )  # a later outcome, the same day as the certificate
    )
    store.import_histories([(case_.ref, case_.events)], NOW)

    def outcome() -> dict:
        pack = store.rules.packs.in_force("send-mediation", H1.end)
        found = read_tallies(store.engine, store.rules.packs, pack, H1, TODAY).referrals.outcomes["outcome"]
        assert_store_matches_fold(store, "send-mediation", H1, TODAY)
        return dict(found)

    assert outcome() == {"not_resolved": 1}
    store.void("M-H", case_.events[-1].seq, "closed by mistake", "jo", NOW, TODAY)
    assert outcome() == {"agreed": 1}


def test_the_json_the_database_renders_is_what_json_dumps_writes(store: Store) -> None:
    odd = 'Zoë "Z" O\'Neil \\ tab\there\nline \x01\x1f \u2028 ☃ 😀 </script>'
    case_ = Case("M-Q", "2026-04-01", caseworker=odd).rec("mediation_requested", "2026-04-01")
    case_.rec("la_notified", "2026-04-02").rec("exception", "2026-04-02", clock="kpi5", reason="other_agreed")
    store.import_histories([(case_.ref, case_.events), *((c.ref, c.events) for c in half_year_cases())], NOW)
    for as_of in ("2026-04-02", "2026-10-05"):
        with report_snapshot(store):
            report = compliance_report(store, None, H1, D(as_of), lazy_clocks=True)
            rendered = report.clocks.rendered_json()
            assert rendered is not None
            text = ", ".join(rendered)  # each of its texts: a day's lines
            assert text == ", ".join(
                json.dumps(c, ensure_ascii=False) for chunk in clock_chunks(report.clocks) for c in chunk
            )
            assert any(odd in line["caseworker"] for line in json.loads(f"[{text}]"))


def test_a_clock_line_shows_its_caseworker_and_the_status_as_of_the_date(store: Store) -> None:
    cases = half_year_cases()
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    with report_snapshot(store):
        report = compliance_report(store, None, H1, D("2026-09-28"), lazy_clocks=True)
        line = next(x for x in report.clocks if (x.ref, x.clock) == ("M-E", "kpi2"))
        assert (line.status.value, line.owner) == ("running", "Jo Smith")
        assert len(report.clocks) == sum(k.total for k in report.kpis) == len(list(report.clocks))
        first = next(clock_chunks(report.clocks))[0]
        assert (first["ref"], first["due_on"]) == ("M-F", "2026-04-01")


# ---------------------------------------------------------------------------------------------- random


@st.composite
def periods(draw: st.DrawFn) -> Period:
    start = D("2025-01-01") + dt.timedelta(days=draw(st.integers(0, 900)))
    end = start + dt.timedelta(days=draw(st.integers(0, 400)))
    return Period(f"{start}..{end}", start, end)


@pytest.fixture
def both_store(engine: Engine) -> Store:
    return Store(engine, BOTH)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10**6),
    count=st.integers(1, 25),
    voids=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), max_size=6),
    period=periods(),
    as_of=st.integers(0, 900).map(lambda n: D("2025-01-01") + dt.timedelta(days=n)),
)
def test_random_histories_give_the_folds_tallies(
    both_store: Store,
    seed: int,
    count: int,
    voids: list[tuple[int, int]],
    period: Period,
    as_of: dt.date,
) -> None:
    """Demo cases of both packs (every path, late steps, exceptions, surveys, sessions), some corrected.

    The database keeps the cases of earlier examples: each example adds to it and compares everything.
    """
    store = both_store
    with store.engine.connect() as connection:
        existing = connection.execute(select(schema.cases.c.id)).all()
    histories = list(generate(BOTH, count, seed, D("2026-10-05"), NOW, start_number=len(existing) + 1))
    store.import_histories(histories, NOW)
    for pick, which in voids:
        ref, events = histories[pick % len(histories)]
        candidates = [e for e in events[1:] if e.type not in ("voided", "correction")]
        if not candidates:
            continue
        try:
            store.void(ref, candidates[which % len(candidates)].seq, "test", "t", NOW, TODAY)
        except Refused:
            continue  # already void, or the pack has no correction event
    for pack_id in ("send-mediation", "adoption-support"):
        assert_store_matches_fold(store, pack_id, period, as_of)


# ---------------------------------------------------------------------------------------------- the tables


def report_tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The report tables as stored, and as the projections they copy say they should be."""
    k, c, e, r, v = (
        schema.clocks.c,
        schema.cases.c,
        schema.events.c,
        schema.report_clocks.c,
        schema.report_events.c,
    )
    clock_columns = [
        "pack", "due_on", "ref", "clock", "number", "case_id", "kpi", "pack_version", "starts_on",
        "stopped_on", "ended_on", "ended_by", "exception_reason", "exception_until", "final_status", "owner",
    ]  # fmt: skip
    source = {
        **{n: getattr(k, n, None) for n in clock_columns},
        "pack": c.pack,
        "ref": c.ref,
        "owner": c.owner,
    }
    opening_data = case((e.seq == 1, None), else_=e.data)
    with engine.connect() as connection:
        return {
            "clocks": sorted(connection.execute(select(*(r[n] for n in clock_columns))).all()),
            "clocks_expected": sorted(
                connection.execute(
                    select(*(source[n] for n in clock_columns)).join(schema.cases, c.id == k.case_id)
                ).all()
            ),
            "events": sorted(
                connection.execute(
                    select(v.pack, v.opened_on, v.case_id, v.seq, v.type, v.occurred_on, v.ref, v.data)
                ).all(),
                key=repr,
            ),
            "events_expected": sorted(
                connection.execute(
                    select(
                        c.pack, c.opened_on, e.case_id, e.seq, e.type, e.occurred_on, c.ref, opening_data
                    ).join(schema.cases, c.id == e.case_id)
                ).all(),
                key=repr,
            ),
        }


POSTGRES_ONLY = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def catch_up(engine: Engine) -> int:
    """The report tables' catch-up, with the shipped packs (those of the `store` fixture)."""
    return catch_up_with(engine, shared_rules().packs)


def counts(engine: Engine) -> list[tuple[Any, ...]]:
    """Every running count, in key order."""
    table = schema.report_counts
    with engine.connect() as connection:
        rows = connection.execute(select(table).order_by(*table.primary_key.columns))
        return [tuple(row) for row in rows]


def counted_afresh(engine: Engine) -> list[tuple[Any, ...]]:
    """The running counts as counting every case afresh makes them (then rolled back)."""
    return _afresh(
        engine, schema.report_counts, lambda connection: count_afresh(connection, shared_rules().packs)
    )


def day_lines(engine: Engine) -> list[tuple[Any, ...]]:
    """Every day's joined clock lines, in key order."""
    table = schema.report_day_lines
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]


def _afresh(engine: Engine, table: Any, write: Any) -> list[tuple[Any, ...]]:
    """The rows of `table` as `write` makes them afresh (then rolled back)."""
    with engine.connect() as connection, connection.begin() as transaction:
        write(connection)
        rows = connection.execute(select(table).order_by(*table.primary_key.columns))
        found = [tuple(row) for row in rows]
        transaction.rollback()
    return found


def notes(engine: Engine) -> list[int]:
    """The case ids noted for the report tables' catch-up."""
    with engine.connect() as connection:
        return sorted(connection.execute(select(schema.report_stale.c.case_id)).scalars())


def assert_tables_in_step(engine: Engine, *, empty: bool = False, caught_up: bool = False) -> None:
    """The report tables equal the projections after a catch-up (`caught_up`: with nothing left to do)."""
    if caught_up:
        assert notes(engine) == []
    catch_up(engine)
    assert notes(engine) == []
    tables = report_tables(engine)
    assert tables["clocks"] == tables["clocks_expected"]
    assert tables["events"] == tables["events_expected"]
    assert counts(engine) == counted_afresh(engine)  # the running counts, kept case by case
    assert day_lines(engine) == _afresh(engine, schema.report_day_lines, rejoin_all)  # and each day's lines
    if not empty:
        assert tables["clocks"]
        assert tables["events"]
        assert day_lines(engine)


def test_a_write_notes_its_case_and_the_next_report_reads_it(store: Store, engine: Engine) -> None:
    """Appends leave the report tables alone (they only note the case); a report catches them up first."""
    store.open_case("M-1", "mediation", D("2026-04-01"), {"caseworker": "Jo Smith"}, "t", NOW, TODAY)
    assert [line.clock for line in compliance_report(store, None, H1, TODAY).clocks] == []
    _, state = store.record("M-1", "mediation_requested", D("2026-04-02"), {}, "t", NOW, TODAY)
    case_id = notes(engine)[0]
    assert notes(engine) == [case_id]  # one note for the one event
    assert report_tables(engine)["clocks"] == []  # not copied by the write
    report = compliance_report(store, None, H1, TODAY)
    assert sorted(line.clock for line in report.clocks) == sorted(clock.clock for clock in state.clocks)
    assert notes(engine) == []
    assert_tables_in_step(engine, caught_up=True)


def test_catch_ups_side_by_side_rewrite_each_case_once(store: Store, engine: Engine) -> None:
    store.import_histories([(c.ref, c.events) for c in half_year_cases()], NOW)
    for c in half_year_cases():
        store.record(c.ref, "note", D("2026-09-30"), {"note": "called"}, "t", NOW, TODAY)
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = list(pool.map(lambda _: catch_up(engine), range(3)))
    assert sum(done) == len(half_year_cases())  # each noted case rewritten by exactly one of them
    assert_tables_in_step(engine, caught_up=True)


@POSTGRES_ONLY
def test_a_note_committed_during_a_catch_up_waits_for_the_next_one(
    store: Store, engine: Engine, db_url: str
) -> None:
    """PostgreSQL commits in any order: a write the catch-up did not see keeps its note.

    (SQLite has one writer at a time: a catch-up waits for the write.)
    """
    store.open_case("M-1", "mediation", D("2026-04-01"), {"caseworker": "Jo Smith"}, "t", NOW, TODAY)
    catch_up(engine)
    with engine.connect() as writer:
        writer.begin()
        case_id = writer.execute(select(schema.cases.c.id)).scalar_one()
        writer.execute(schema.report_stale.insert(), {"case_id": case_id})  # a write still in progress
        assert catch_up(engine) == 0  # sees nothing noted yet
        writer.commit()
    assert notes(engine) == [case_id]
    assert catch_up(engine) == 1


@POSTGRES_ONLY
def test_a_role_that_may_only_read_is_told_why_a_report_cannot_be_read(
    store: Store, engine: Engine, db_url: str
) -> None:
    store.open_case("M-1", "mediation", D("2026-04-01"), {"caseworker": "Jo Smith"}, "t", NOW, TODAY)
    with engine.begin() as connection:
        connection.execute(text("DROP ROLE IF EXISTS caseclock_reader"))
        connection.execute(text("CREATE ROLE caseclock_reader LOGIN"))
        connection.execute(text("GRANT USAGE ON SCHEMA public TO caseclock_reader"))
        connection.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO caseclock_reader"))
    reader = make_engine(engine.url.set(username="caseclock_reader").render_as_string(hide_password=False))
    try:
        with pytest.raises(StoreUnavailable, match="reports need a database role that may write"):
            compliance_report(Store(reader, store.rules), None, H1, TODAY)
        assert notes(engine) != []  # nothing claimed
    finally:
        reader.dispose()
        with engine.begin() as connection:
            connection.execute(text("REASSIGN OWNED BY caseclock_reader TO CURRENT_USER"))
            connection.execute(text("DROP OWNED BY caseclock_reader"))
            connection.execute(text("DROP ROLE caseclock_reader"))


@pytest.mark.parametrize("wholesale", [False, True], ids=["case-by-case", "afresh"])
def test_the_report_tables_follow_every_kind_of_write(
    store: Store, engine: Engine, wholesale: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways a catch-up writes: the noted cases' rows, or (most cases noted) the whole tables afresh."""
    monkeypatch.setattr(tracker.report_tables, "_WHOLESALE_SHARE", 0.0 if wholesale else 1.0)
    store.open_case("M-1", "mediation", D("2026-04-01"), {"caseworker": "Jo Smith"}, "t", NOW, TODAY)
    store.record("M-1", "mediation_requested", D("2026-04-02"), {}, "t", NOW, TODAY)  # clocks start
    assert_tables_in_step(engine)
    _, state = store.record("M-1", "la_notified", D("2026-04-03"), {}, "t", NOW, TODAY)  # a clock stops
    assert_tables_in_step(engine)
    store.record("M-1", "details_changed", D("2026-04-06"), {"caseworker": "Sam Patel"}, "t", NOW, TODAY)
    assert_tables_in_step(engine)  # the new caseworker on every clock row
    store.void("M-1", 3, "recorded too early", "t", NOW, TODAY)  # the clock runs again
    assert_tables_in_step(engine)
    store.record_many([("M-1", "la_notified", D("2026-04-07"), {})], "t", NOW, TODAY)
    store.import_histories([(c.ref, c.events) for c in half_year_cases()], NOW)
    assert_tables_in_step(engine)  # the catch-up of M-1's record_many; the import caught up as it committed
    before = report_tables(engine)
    store.rebuild(NOW)
    assert report_tables(engine) == before
    assert notes(engine) == []
    with engine.connect() as connection:
        owners = connection.execute(
            select(schema.report_clocks.c.owner).where(schema.report_clocks.c.ref == "M-1").distinct()
        ).scalars()
        assert list(owners) == ["Sam Patel"]
    assert state.ref == "M-1"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_writes_keep_the_report_tables_in_step(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Random steps, corrections and refusals (test_store's), then a rebuild after a calendar change."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('r') / 'cases.db'}")
    try:
        upgrade(engine)
        store = Store(engine, shared_rules())
        _random_history(store, data, engine)
        assert_tables_in_step(engine, empty=True)
        closed = data.draw(st.dates(D("2026-01-05"), D("2026-04-30")), label="closure")
        Store(engine, Rules(store.rules.packs, WorkingCalendar([closed]))).rebuild(NOW)
        assert_tables_in_step(engine, empty=True, caught_up=True)
    finally:
        engine.dispose()


def test_a_rebuild_after_a_calendar_change_moves_the_report_rows_too(store: Store, engine: Engine) -> None:
    store.import_histories([(c.ref, c.events) for c in half_year_cases()], NOW)
    assert_tables_in_step(engine, caught_up=True)
    Store(engine, Rules(store.rules.packs, WorkingCalendar([D("2026-04-08")]))).rebuild(NOW)
    assert_tables_in_step(engine, caught_up=True)
    with engine.connect() as connection:
        due = connection.execute(
            select(schema.report_clocks.c.due_on).where(
                schema.report_clocks.c.ref == "M-A", schema.report_clocks.c.clock == "kpi2"
            )
        ).scalar_one()
    assert due == D("2026-04-10")  # 3 working days after 2 April, with 8 April closed as well as Easter


def test_the_upgrade_fills_the_report_tables_from_an_existing_database(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command
    from alembic.config import Config

    import tracker.store

    # a 0002 database has no notes
    monkeypatch.setattr(tracker.store, "catch_up_in", lambda connection, packs: 0)

    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", "tracker:migrations")
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.commit()
    store = Store(engine, BOTH)
    store.import_histories(generate(BOTH, 30, 7, D("2026-10-05"), NOW), NOW)
    assert upgrade(engine) == "0002"
    monkeypatch.undo()
    assert len(notes(engine)) == 30  # 0006 notes every case: the first catch-up counts them all
    assert_tables_in_step(engine)
    store.import_histories(generate(BOTH, 5, 8, D("2026-10-05"), NOW, start_number=31), NOW)
    assert_tables_in_step(engine)  # and the catch-up keeps them from then on
    engine.dispose()


def test_a_case_opened_in_the_past_is_reported_by_its_opening_date(store: Store) -> None:
    case_ = Case("M-X", "2026-04-01")
    store.import_histories([(case_.ref, case_.events)], NOW)
    tallies = read_tallies(
        store.engine, store.rules.packs, store.rules.packs.latest("send-mediation"), H1, TODAY
    )
    assert tallies.referrals.opened == {D("2026-04-01"): 1}


# ---------------------------------------------------------------------------------------------- counts


def test_a_report_of_another_pack_version_groups_the_rows_instead_of_reading_the_counts(
    store: Store,
) -> None:
    """The counts are made with each pack's latest version; a report of another is read the long way."""
    store.import_histories([(c.ref, c.events) for c in half_year_cases()], NOW)
    latest = store.rules.packs.latest("send-mediation")
    other = latest.model_copy(update={"version": "2025.0"})
    with store.engine.connect() as connection:
        run, dates = rows_on(connection), dates_for(connection.dialect.name)
        assert counted_tallies(run, dates, latest, H1, TODAY) is not None
        assert counted_tallies(run, dates, other, H1, TODAY) is None
    calendar = store.rules.calendar
    from_store = read_tallies(store.engine, store.rules.packs, other, H1, TODAY)
    assert comparable(from_store, other, H1, TODAY, calendar) == comparable(
        fold_tallies(store, other, H1), other, H1, TODAY, calendar
    )
    with report_snapshot(store):
        assert clock_lines(store.engine, other, H1, TODAY, 0).rendered_json() is None
        assert clock_lines(store.engine, latest, H1, TODAY, 0).rendered_json() is not None


def test_counts_made_with_a_pack_since_changed_are_made_afresh(store: Store, engine: Engine) -> None:
    store.import_histories([(c.ref, c.events) for c in half_year_cases()], NOW)
    before = counts(engine)
    with engine.begin() as connection:
        connection.execute(schema.report_count_packs.update().values(fingerprint="made-with-another"))
        connection.execute(schema.report_counts.delete().where(schema.report_counts.c.kind == "clocks"))
    catch_up(engine)  # nothing noted, but the pack is not the one counted with
    assert counts(engine) == before
    assert_tables_in_step(engine, caught_up=True)


def test_a_flow_step_counts_a_case_once_in_a_period_however_many_it_has() -> None:
    pack = shared_rules().packs.latest("send-mediation")
    step = pack.reporting.flow[0]
    dates = [D("2026-03-30"), D("2026-04-02"), D("2026-04-02"), D("2026-05-10"), D("2026-10-01")]
    referral = ReferralFact("M-1", "mediation", D("2026-03-01"), "open", None, {}, {}, {})
    facts = CaseFacts((), (), referral, (), tuple(FlowFact("M-1", step, on) for on in dates))
    rows = case_counts(pack, facts)
    for period, expected in (
        ("FY2026-H1", 1),
        ("2026-04", 1),
        ("2026-05", 1),
        ("2026-03", 1),
        ("2026-06", 0),
    ):
        chosen = parse_period(period)
        dated = [
            (kind, day, key, n)
            for (kind, day, _since, key), n in rows.items()
            if kind == "flows" and chosen.start <= day <= chosen.end
        ]
        assert tallies_from_counts(pack, chosen, dated).flow[step] == expected, period
        assert flow_tally(pack, chosen, facts.flow)[step] == expected, period
