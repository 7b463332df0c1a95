"""The store's report reads against the fold, on SQLite and PostgreSQL.

A compliance report counts from `Tallies`. The store makes them with grouped SQL over the projections the
append writes (`tracker.reports.queries`: `cases`, `clocks`, `events`); `tracker.domain.compliance.tally`
makes them from the facts of each case's folded history (`case_facts`), the slow, obviously-right path. These
tests hold the two to each other: on the hand-built half year of `test_compliance`, and on random demo
histories (both rule packs, random corrections, random periods and as-of dates before, inside and after them)
found by hypothesis. They also check that reads never write: a role that may only read runs every report, and
projections computed with other rules are refused until `rebuild`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from tests.conftest import shared_rules
from tests.test_compliance import H1, NOW, TODAY, Case, half_year_cases
from tracker.cli.demo import generate
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.compliance import (
    ComplianceReport,
    ReferralFact,
    ReferralTally,
    Tallies,
    clock_chunks,
    report_json,
    tally,
)
from tracker.domain.compliance.facts import CaseFacts, case_facts, report_from_facts
from tracker.domain.compliance.flow import FlowFact, flow_tally, waiting_times
from tracker.domain.errors import Refused
from tracker.domain.periods import Period, parse_period
from tracker.domain.rules import RulePack, discover_packs
from tracker.domain.workflow import Rules
from tracker.exporters import json_text
from tracker.reports.queries import StaleProjections, read_tallies
from tracker.reports.report import compliance_report, report_snapshot
from tracker.store import Store, schema
from tracker.store.engine import make_engine

D = dt.date.fromisoformat
BOTH = Rules(discover_packs(enabled=["send-mediation", "adoption-support"]), WorkingCalendar())
POSTGRES_ONLY = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
PERIODS = ("FY2026-H1", "FY2026-H2", "2026-03", "FY2026", "2026-04-03..2026-04-03", "2025-06")


# ---------------------------------------------------------------------------------------------- helpers


def fold_tallies(store: Store, pack: RulePack, period: Period, as_of: dt.date) -> Tallies:
    """The tallies `tally` makes from the facts of every case of the pack in the store, each refolded
    (the clocks that had started by `as_of`, as `compute` counts them)."""
    facts = [case_facts(pack, r.state, r.events) for r in _records(store, pack.id)]
    return tally(
        pack,
        period,
        [k for f in facts for k in f.clocks if k.starts_on <= as_of],
        [s for f in facts for s in f.surveys],
        [f.referral for f in facts],
        [b for f in facts for b in f.feedback],
        flow=[x for f in facts for x in f.flow],
        activities=[x for f in facts for x in f.activities],
        waits=[x for f in facts for x in f.waits],
        outcomes=[x for f in facts for x in f.outcomes],
    )


def fold_report(
    store: Store, pack: RulePack, period: Period, as_of: dt.date, *, with_caseworkers: bool = False
) -> ComplianceReport:
    facts = [case_facts(pack, r.state, r.events) for r in _records(store, pack.id)]
    return report_from_facts(
        pack, period, as_of, facts, calendar=store.rules.calendar, with_caseworkers=with_caseworkers
    )


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
        "outcomes": {name: sorted((repr(k), n) for k, n in c.items() if n) for name, c in t.outcomes.items()},
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
        "steps": {name: plain(c.items()) for name, c in r.steps.items()},
    }


def assert_store_matches_fold(store: Store, pack_id: str, period: Period, as_of: dt.date) -> None:
    pack = store.rules.packs.in_force(pack_id, period.end)
    calendar = store.rules.calendar
    from_store = read_tallies(store.engine, store.rules.packs, pack, period, as_of)
    by_fold = fold_tallies(store, pack, period, as_of)
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
            # read narrowed in SQL, judged by the rule: the fold's breached lines, no more, no fewer
            assert list(lazy.clocks.breached(kpi.key)) == list(expected.clocks.breached(kpi.key))
        assert list(lazy.clocks.listed()) == list(expected.clocks.listed())
        assert list(lazy.clocks.breached()) == list(expected.clocks.breached())
        assert json_text(lazy) == json.dumps(report_json(expected), ensure_ascii=False) + "\n"
    # the provider's copy: the clock lines name their caseworker, and the figures per caseworker agree
    provider = fold_report(store, pack, period, as_of, with_caseworkers=True)
    assert compliance_report(store, pack_id, period, as_of, with_caseworkers=True) == provider
    with report_snapshot(store):
        lazy = compliance_report(store, pack_id, period, as_of, lazy_clocks=True, with_caseworkers=True)
        assert lazy == provider
        assert json_text(lazy) == json.dumps(report_json(provider), ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------- hand-built


# As of before the half year, inside it, at its end, just after and long after it.
@pytest.mark.parametrize("as_of", ["2026-03-15", "2026-06-15", "2026-09-28", "2026-10-05", "2027-05-01"])
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
        found = read_tallies(store.engine, store.rules.packs, pack, H1, TODAY).outcomes["outcome"]
        assert_store_matches_fold(store, "send-mediation", H1, TODAY)
        return dict(found)

    assert outcome() == {"not_resolved": 1}
    store.void("M-H", case_.events[-1].seq, "closed by mistake", "jo", NOW, TODAY)
    assert outcome() == {"agreed": 1}


def test_an_outcome_counts_the_cases_that_recorded_it_in_the_period(store: Store) -> None:
    mediated = (  # opened in March; its meeting's outcome is April's, its closing (no outcome) May's
        Case("M-J", "2026-03-02")
        .rec("mediation_requested", "2026-03-02")
        .rec("la_notified", "2026-03-03")
        .rec("meeting_scheduled", "2026-03-04", meeting_date="2026-04-01")
        .rec("meeting_held", "2026-04-01", outcome="partly_agreed")
        .rec("certificate_issued", "2026-05-01", kind="after_mediation")
        .rec("closed", "2026-05-04")
    )
    resolved = Case("M-K", "2026-04-20", "disagreement_resolution").rec(
        "closed", "2026-05-06", outcome="resolved"
    )
    store.import_histories([(c.ref, c.events) for c in (mediated, resolved)], NOW)
    pack = store.rules.packs.in_force("send-mediation", H1.end)
    expected = {
        "2026-03": ({}, {}),  # M-J was opened: nothing recorded yet
        "2026-04": ({"'partly_agreed'": 1}, {}),
        "2026-05": ({"'resolved'": 1}, {"'after_mediation'": 1}),  # M-J's closing records no outcome
        "FY2026-Q1": ({"'partly_agreed'": 1, "'resolved'": 1}, {"'after_mediation'": 1}),
    }
    for name, (outcome, kind) in expected.items():
        period = parse_period(name)
        found = read_tallies(store.engine, store.rules.packs, pack, period, TODAY).outcomes
        assert {repr(k): n for k, n in found["outcome"].items() if n} == outcome, name
        assert {repr(k): n for k, n in found["kind"].items() if n} == kind, name
        assert_store_matches_fold(store, "send-mediation", period, TODAY)


def test_odd_characters_reach_the_json_as_json_dumps_writes_them(store: Store) -> None:
    odd = 'Zoë "Z" O\'Neil \\ tab\there\nline \x01\x1f \u2028 ☃ 😀 </script>'
    case_ = Case("M-Q", "2026-04-01", caseworker=odd).rec("mediation_requested", "2026-04-01")
    case_.rec("la_notified", "2026-04-02").rec("exception", "2026-04-02", clock="kpi5", reason="other_agreed")
    store.import_histories([(case_.ref, case_.events), *((c.ref, c.events) for c in half_year_cases())], NOW)
    with report_snapshot(store):
        report = compliance_report(store, None, H1, D("2026-10-05"), lazy_clocks=True, with_caseworkers=True)
        lines = json.loads(json_text(report))["clocks"]
    assert any(line["caseworker"] == odd for line in lines)


def test_a_clock_line_shows_its_caseworker_and_the_status_as_of_the_date(store: Store) -> None:
    cases = half_year_cases()
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    with report_snapshot(store):
        report = compliance_report(store, None, H1, D("2026-09-28"), lazy_clocks=True, with_caseworkers=True)
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


# ---------------------------------------------------------------------------------------------- as of


def test_a_clock_stopped_after_the_as_of_date_was_still_open_on_it(store: Store) -> None:
    case_ = (
        Case("M-R", "2026-04-01")
        .rec("mediation_requested", "2026-04-01")  # kpi2 due 2026-04-07 (Easter Monday 2026-04-06)
        .rec("la_notified", "2026-04-10")  # late: breached
        .rec("exception", "2026-04-15", clock="kpi5", reason="parent_unavailable")
    )
    store.import_histories([(case_.ref, case_.events)], NOW)

    def statuses(as_of: str) -> dict[str, str]:
        report = compliance_report(store, None, H1, D(as_of))
        return {line.clock: line.status.value for line in report.clocks}

    assert statuses("2026-03-31") == {}  # nothing had started
    assert statuses("2026-04-07") == {"kpi2": "running", "kpi5": "running"}
    assert statuses("2026-04-09") == {"kpi2": "breached", "kpi5": "running"}
    assert statuses("2026-04-10") == {"kpi2": "breached", "kpi5": "running"}
    assert statuses("2026-04-15") == {"kpi2": "breached", "kpi5": "excepted"}
    report = compliance_report(store, None, H1, D("2026-04-14"))
    assert [k.met for k in report.kpis if k.key == "kpi2"] == [0]
    line = json.loads(json_text(report))["clocks"]
    assert [c["exception"] for c in line if c["clock"] == "kpi5"] == [None]  # recorded the day after


def test_a_case_opened_in_the_past_is_reported_by_its_opening_date(store: Store) -> None:
    case_ = Case("M-X", "2026-04-01")
    store.import_histories([(case_.ref, case_.events)], NOW)
    tallies = read_tallies(
        store.engine, store.rules.packs, store.rules.packs.latest("send-mediation"), H1, TODAY
    )
    assert tallies.referrals.opened == {D("2026-04-01"): 1}


def test_a_flow_step_counts_a_case_once_in_a_period_however_many_it_has() -> None:
    pack = shared_rules().packs.latest("send-mediation")
    step = pack.reporting.flow[0]
    dates = [D("2026-03-30"), D("2026-04-02"), D("2026-04-02"), D("2026-05-10"), D("2026-10-01")]
    referral = ReferralFact("M-1", "mediation", D("2026-03-01"), "open", None, {}, {})
    facts = CaseFacts((), (), referral, (), tuple(FlowFact("M-1", step, on) for on in dates))
    for period, expected in (
        ("FY2026-H1", 1),
        ("2026-04", 1),
        ("2026-05", 1),
        ("2026-03", 1),
        ("2026-06", 0),
    ):
        assert flow_tally(pack, parse_period(period), facts.flow)[step] == expected, period


# ------------------------------------------------------------------------------------- reads never write


def table_sizes(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in schema.metadata.sorted_tables
        }


def test_a_changed_rule_makes_reports_wait_for_a_rebuild_and_writes_nothing(
    store: Store, engine: Engine
) -> None:
    store.import_histories([(c.ref, c.events) for c in half_year_cases()], NOW)
    before = compliance_report(store, None, H1, TODAY)
    overrides = {"send-mediation": {"clocks": {"kpi2": {"target": 95.0}}}}
    changed = Rules(discover_packs(overrides=overrides), store.rules.calendar)
    later = Store(engine, changed)
    sizes = table_sizes(engine)
    with pytest.raises(StaleProjections, match="run `caseclock rebuild`"):
        compliance_report(later, None, H1, TODAY)
    assert table_sizes(engine) == sizes
    assert not later.projections_current()
    later.rebuild(NOW)
    after = compliance_report(later, None, H1, TODAY)
    assert [k.target for k in after.kpis if k.key == "kpi2"] == [95.0]
    assert [k for k in after.kpis if k.key != "kpi2"] == [k for k in before.kpis if k.key != "kpi2"]
    assert after.referrals == before.referrals
    with pytest.raises(StaleProjections):
        compliance_report(store, None, H1, TODAY)  # the old rules are now the stale ones


@POSTGRES_ONLY
def test_a_role_that_may_only_read_runs_every_report(store: Store, engine: Engine) -> None:
    store.import_histories([(c.ref, c.events) for c in half_year_cases()], NOW)
    expected = compliance_report(store, None, H1, TODAY)
    with engine.begin() as connection:
        connection.execute(text("DROP ROLE IF EXISTS caseclock_reader"))
        connection.execute(text("CREATE ROLE caseclock_reader LOGIN"))
        connection.execute(text("GRANT USAGE ON SCHEMA public TO caseclock_reader"))
        connection.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO caseclock_reader"))
    reader = make_engine(engine.url.set(username="caseclock_reader").render_as_string(hide_password=False))
    try:
        read_only = Store(reader, store.rules)
        assert compliance_report(read_only, None, H1, TODAY) == expected  # the compliance screen's read
        with report_snapshot(read_only):  # the export's
            lazy = compliance_report(read_only, None, H1, TODAY, lazy_clocks=True)
            assert json_text(lazy) == json.dumps(report_json(expected), ensure_ascii=False) + "\n"
    finally:
        reader.dispose()
        with engine.begin() as connection:
            connection.execute(text("REASSIGN OWNED BY caseclock_reader TO CURRENT_USER"))
            connection.execute(text("DROP OWNED BY caseclock_reader"))
            connection.execute(text("DROP ROLE caseclock_reader"))
