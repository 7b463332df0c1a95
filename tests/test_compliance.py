"""The compliance report of a hand-built half year: every count and percentage, by DOMAIN.md's rules.

The cases go through decide/project exactly as the CLI would, so bank holidays, a rescheduled meeting, a
withdrawal, an exception, a clock still running and a survey with unanswered questions all come from the
real rule pack and calendar. Expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.clocks import ClockStatus
from tracker.domain.compliance import (
    HIDDEN,
    NO_DISCLOSURE,
    SUPPRESS,
    SUPPRESSED,
    ClockFact,
    ComplianceReport,
    Rag,
    compute,
    percent,
    protect,
    rate,
    report_json,
)
from tracker.domain.compliance.counting import one_decimal
from tracker.domain.compliance.facts import case_facts, report_from_facts
from tracker.domain.events import Event
from tracker.domain.periods import parse_period
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import CaseState, Rules, decide, decide_open, project

D = dt.date.fromisoformat
RULES = Rules(discover_packs(), WorkingCalendar())
PACK_ID = "send-mediation"
TODAY = D("2026-10-05")
NOW = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
H1 = parse_period("FY2026-H1")


class Case:
    def __init__(self, ref: str, opened: str, case_type: str = "mediation", **fields: object) -> None:
        self.ref = ref
        profile = {"caseworker": "Jo Smith", "name": "Ava Brown", "contact": "07700 900123", **fields}
        self.events: list[Event] = [decide_open(RULES, ref, case_type, D(opened), profile, "jo", NOW, TODAY)]
        self.state: CaseState = project(RULES, ref, self.events)

    def rec(self, event_type: str, on: str, **fields: object) -> Case:
        event = decide(RULES, self.state, self.events, event_type, D(on), fields, "jo", NOW, TODAY)
        self.events.append(event)
        self.state = project(RULES, self.ref, self.events)
        return self


def half_year_cases() -> list[Case]:
    a = (  # bank holidays: Good Friday 3 Apr and Easter Monday 6 Apr 2026
        Case("M-A", "2026-04-01", district="norwich", source="parent_carer", role="parent_carer")
        .rec("mediation_requested", "2026-04-02")  # kpi2 due 9 Apr, kpi5 due 2 May
        .rec("la_notified", "2026-04-09")  # kpi2 met on its due date
        .rec("meeting_scheduled", "2026-04-10", meeting_date="2026-04-24")  # kpi3 due 17 Apr
        .rec("confirmation_sent", "2026-04-20")  # kpi3 breached
        .rec("meeting_held", "2026-04-24", outcome="agreed")  # kpi5 met; kpi4 due 29 Apr
        .rec("certificate_issued", "2026-04-29", kind="after_mediation")  # kpi4 met
        .rec("closed", "2026-04-30")
        .rec("survey", "2026-05-05", satisfied="agree", listened_to="strongly_agree", understood="neutral")
    )
    b = (  # a rescheduled meeting; 4 May and 25 May 2026 are bank holidays
        Case("M-B", "2026-05-01", district="norwich", source="school", role="parent_carer")
        .rec("mediation_requested", "2026-05-05")  # kpi2 due 8 May, kpi5 due 4 Jun
        .rec("meeting_scheduled", "2026-05-06", meeting_date="2026-05-22")  # kpi3 #1 due 15 May
        .rec("la_notified", "2026-05-11")  # kpi2 breached
        .rec("meeting_scheduled", "2026-05-12", meeting_date="2026-06-02")  # #1 cancelled, #2 due 26 May
        .rec("confirmation_sent", "2026-05-26")  # kpi3 #2 met
        .rec("meeting_held", "2026-06-02", outcome="partly_agreed")  # kpi5 met; kpi4 due 5 Jun
        .rec("certificate_issued", "2026-06-08", kind="after_mediation")  # kpi4 breached
        .rec("survey", "2026-06-20", satisfied="disagree", listened_to="agree")  # understood not answered
    )
    c = (  # withdrawn: kpi5 cancelled before it was due
        Case("M-C", "2026-06-01", district="norwich", source="parent_carer", role="young_person")
        .rec("mediation_requested", "2026-06-01")  # kpi2 due 4 Jun, kpi5 due 1 Jul
        .rec("la_notified", "2026-06-03")  # kpi2 met
        .rec("withdrawn", "2026-06-10", reason="Family moved away")  # kpi5 cancelled
    )
    d = (  # a KPI 5 exception for the summer holiday
        Case("M-D", "2026-07-01", district="norwich", source="la", role="parent_carer")
        .rec("mediation_requested", "2026-07-01")  # kpi2 due 6 Jul, kpi5 due 31 Jul
        .rec("la_notified", "2026-07-02")  # kpi2 met
        .rec("meeting_scheduled", "2026-07-06", meeting_date="2026-08-20")  # kpi3 due 13 Aug
        .rec(
            "exception", "2026-07-06", clock="kpi5", reason="school_holiday", until="2026-08-20", note="hols"
        )
        .rec("confirmation_sent", "2026-08-10")  # kpi3 met
        .rec("meeting_held", "2026-08-20", outcome="not_agreed")  # kpi4 due 25 Aug
        .rec("certificate_issued", "2026-08-25", kind="after_mediation")  # kpi4 met
        .rec("feedback", "2026-09-02", kind="complaint", detail="The venue was cold")
    )
    e = (  # still open at the period's end: kpi2 due 29 Sep, kpi5 due 24 Oct (the next half)
        Case("M-E", "2026-09-21", district="breckland", source="parent_carer", role="parent_carer").rec(
            "mediation_requested", "2026-09-24"
        )
    )
    f = (  # opened in March (not a referral of H1); its kpi5 is due 1 Apr, so it counts in H1
        Case("M-F", "2026-03-02", district="norwich", source="school")
        .rec("mediation_requested", "2026-03-02")  # kpi2 due 5 Mar (FY2025)
        .rec("la_notified", "2026-03-04")
        .rec("meeting_scheduled", "2026-03-05", meeting_date="2026-03-20")  # kpi3 due 13 Mar (FY2025)
        .rec("confirmation_sent", "2026-03-10")
        .rec("meeting_held", "2026-03-20", outcome="agreed")  # kpi5 met, due 1 Apr; kpi4 due 25 Mar
        .rec("certificate_issued", "2026-03-24", kind="after_mediation")
        .rec("closed", "2026-03-25")
        .rec("survey", "2026-04-02", satisfied="strongly_agree")  # only KPI 1 answered
        .rec("feedback", "2026-04-03", kind="compliment")
    )
    g = (  # disagreement resolution: no clocks
        Case("M-G", "2026-08-03", "disagreement_resolution", district="norwich", source="sendiass")
        .rec("closed", "2026-09-01", outcome="resolved")
        .rec(
            "survey",
            "2026-09-10",
            satisfied="agree",
            listened_to="disagree",
            understood="agree",
            comment="Ava's mum said it was lovely",
        )
        .rec("impact_story", "2026-09-11", story="Ava now attends a school that meets her needs")
    )
    return [a, b, c, d, e, f, g]


def report_of(
    cases: list[Case], period_text: str = "FY2026-H1", as_of: str = "2026-10-05", suppress: bool = True
) -> ComplianceReport:
    period = parse_period(period_text)
    pack = RULES.packs.in_force(PACK_ID, period.end)
    facts = [case_facts(pack, c.state, c.events) for c in cases]
    return report_from_facts(
        pack, period, D(as_of), facts, disclosure=SUPPRESS if suppress else NO_DISCLOSURE
    )


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return half_year_cases()


@pytest.fixture(scope="module")
def report(cases: list[Case]) -> ComplianceReport:
    """Every figure exact: a handful of cases, whose results disclosure control would mostly withhold."""
    return report_of(cases, suppress=False)


@pytest.fixture(scope="module")
def suppressed(cases: list[Case]) -> ComplianceReport:
    """The report as it leaves the provider (`tests/test_disclosure.py` holds the rules themselves)."""
    return report_of(cases)


def counts(report: ComplianceReport, key: str) -> tuple[int, int, int, int, int, float | None]:
    kpi = next(k for k in report.kpis if k.key == key)
    return kpi.met, kpi.breached, kpi.excepted, kpi.running, kpi.cancelled, kpi.percent


# ------------------------------------------------------------------------------------------- KPIs


def test_every_clock_kpi_count_and_percentage(report: ComplianceReport) -> None:
    #                                   met breached excepted running cancelled percent
    assert counts(report, "kpi2") == (3, 2, 0, 0, 0, 60.0)  # A C D met; B late, E overdue
    assert counts(report, "kpi3") == (2, 1, 0, 0, 1, 66.7)  # B #2, D met; A late; B #1 rescheduled
    assert counts(report, "kpi4") == (2, 1, 0, 0, 0, 66.7)  # A D met; B late
    assert counts(report, "kpi5") == (3, 0, 1, 0, 1, 100.0)  # A B F met; D excepted; C withdrawn
    assert [k.key for k in report.kpis] == ["kpi2", "kpi3", "kpi4", "kpi5"]
    kpi5 = report.kpis[3]
    assert (kpi5.kpi, kpi5.target, kpi5.met_target, kpi5.rag) == ("KPI 5", 100.0, True, Rag.GREEN)
    kpi2 = report.kpis[0]
    assert (kpi2.met_target, kpi2.rag, kpi2.total) == (False, Rag.RED, 5)


def test_a_clock_belongs_to_the_period_of_its_due_date(report: ComplianceReport, cases: list[Case]) -> None:
    listed = {(line.ref, line.clock, line.number) for line in report.clocks}
    assert ("M-F", "kpi5", 1) in listed  # stopped 20 Mar, due 1 Apr: H1
    assert ("M-F", "kpi2", 1) not in listed  # due 5 Mar: the year before
    assert ("M-E", "kpi5", 1) not in listed  # due 24 Oct: H2
    assert ("M-B", "kpi3", 1) in listed
    assert ("M-B", "kpi3", 2) in listed
    h2 = report_of(cases, "FY2026-H2")
    assert {(line.ref, line.clock) for line in h2.clocks} == {("M-E", "kpi5")}
    assert counts(h2, "kpi5") == (0, 0, 0, 1, 0, None)  # running as of 5 Oct: no data yet
    march = report_of(cases, "2026-03")
    assert {(line.ref, line.clock) for line in march.clocks} == {
        ("M-F", "kpi2"),
        ("M-F", "kpi3"),
        ("M-F", "kpi4"),
    }


def test_a_clock_running_at_the_as_of_date(cases: list[Case]) -> None:
    early = report_of(cases, as_of="2026-09-28")  # M-E's kpi2 is due 29 Sep: still running
    assert counts(early, "kpi2") == (3, 1, 0, 1, 0, 75.0)
    line = next(x for x in early.clocks if (x.ref, x.clock) == ("M-E", "kpi2"))
    assert (line.status, line.due_on, line.stopped_on) == (ClockStatus.RUNNING, D("2026-09-29"), None)
    late = report_of(cases)
    line = next(x for x in late.clocks if (x.ref, x.clock) == ("M-E", "kpi2"))
    assert line.status is ClockStatus.BREACHED


def test_due_dates_follow_the_bank_holidays(report: ComplianceReport) -> None:
    due = {(x.ref, x.clock, x.number): x.due_on.isoformat() for x in report.clocks}
    assert due["M-A", "kpi2", 1] == "2026-04-09"  # Easter
    assert due["M-A", "kpi3", 1] == "2026-04-17"
    assert due["M-B", "kpi2", 1] == "2026-05-08"  # early May bank holiday
    assert due["M-B", "kpi3", 2] == "2026-05-26"  # spring bank holiday
    assert due["M-F", "kpi5", 1] == "2026-04-01"


def test_the_exception_and_the_cancellations_are_listed(report: ComplianceReport) -> None:
    by_key = {(x.ref, x.clock, x.number): x for x in report.clocks}
    excepted = by_key["M-D", "kpi5", 1]
    assert (excepted.status, excepted.exception_reason) == (ClockStatus.EXCEPTED, "school_holiday")
    assert excepted.exception_until == D("2026-08-20")
    assert by_key["M-C", "kpi5", 1].ended_by == "withdrawn"
    assert by_key["M-B", "kpi3", 1].status is ClockStatus.CANCELLED
    assert by_key["M-A", "kpi2", 1].owner is None  # a commissioner's copy names no caseworker


def test_no_clocks_is_no_data_never_zero_or_a_hundred(cases: list[Case]) -> None:
    empty = report_of(cases, "2025-06")
    for kpi in empty.kpis:
        assert (kpi.total, kpi.percent, kpi.met_target, kpi.rag) == (0, None, None, None)
    assert empty.satisfaction is not None
    assert (empty.satisfaction.responses, empty.satisfaction.percent) == (0, None)
    assert empty.referrals.received == 0
    body = report_json(empty)
    assert body["kpis"]["kpi2"]["percent"] is None
    assert body["kpis"]["kpi1"]["percent"] is None
    assert body["kpis"]["kpi1"]["met_target"] is None


def test_only_cancelled_and_excepted_clocks_are_no_data() -> None:
    pack = RULES.packs.latest(PACK_ID)
    facts = [
        ClockFact("M-1", "kpi5", "KPI 5", 1, "2025.1", D("2026-04-01"), D("2026-05-01"),
                  ended_on=D("2026-04-10"), ended_by="withdrawn"),
        ClockFact("M-2", "kpi5", "KPI 5", 1, "2025.1", D("2026-04-01"), D("2026-05-01"),
                  excepted_on=D("2026-04-02"), exception_reason="other_agreed"),
    ]  # fmt: skip
    report = compute(pack, H1, TODAY, facts, [], [])
    assert counts(report, "kpi5") == (0, 0, 1, 0, 1, None)


# ------------------------------------------------------------------------------------------- satisfaction


def test_kpi1_and_the_other_questions(report: ComplianceReport) -> None:
    sat = report.satisfaction
    assert sat is not None
    # satisfied: A agree, B disagree, F strongly agree, G agree -> 3 of 4
    assert (sat.key, sat.kpi, sat.responses, sat.agree, sat.percent) == ("kpi1", "KPI 1", 4, 3, 75.0)
    assert (sat.target, sat.met_target, sat.rag) == (90.0, False, Rag.RED)
    questions = {q.key: (q.responses, q.agree, q.percent) for q in report.questions}
    # listened to: A SA, B agree, G disagree (F did not answer) -> 2 of 3
    assert questions["listened_to"] == (3, 2, 66.7)
    # understood: A neutral, G agree (B and F did not answer) -> 1 of 2
    assert questions["understood"] == (2, 1, 50.0)
    assert report.comments == 1


# ------------------------------------------------------------------------------- referrals and profile


def test_referrals_are_the_cases_opened_in_the_period(suppressed: ComplianceReport) -> None:
    referrals = suppressed.referrals
    assert referrals.received == 6  # A B C D E G; F was opened in March
    # 5 and 1: the 5 is hidden too, or it would give the 1 away (6 - 5)
    assert referrals.by_type.as_dict() == {"mediation": HIDDEN, "disagreement_resolution": SUPPRESSED}
    assert referrals.by_type.total == 6
    source = next(b for b in referrals.breakdowns if b.key == "source")
    assert source.as_dict() == {
        "parent_carer": SUPPRESSED,  # A C E
        "young_person": 0,
        "la": SUPPRESSED,
        "school": SUPPRESSED,
        "sendiass": SUPPRESSED,
        "health": 0,
        "other": 0,
    }
    assert source.total == 6
    disputed = next(b for b in referrals.breakdowns if b.key == "decision_disputed")
    assert disputed.as_dict() == {**dict.fromkeys(disputed.as_dict(), 0), "not_recorded": 6}


def test_outcomes_and_time_to_each_step(report: ComplianceReport) -> None:
    outcomes = {b.key: b for b in report.referrals.outcomes}
    assert outcomes["outcome"].as_dict() == {
        "agreed": 1,
        "partly_agreed": 1,
        "not_agreed": 1,
        "resolved": 1,
        "partly_resolved": 0,
        "not_resolved": 0,
    }
    assert outcomes["outcome"].total == 4
    assert outcomes["kind"].total == 3
    times = {t.event: t for t in report.referrals.times}
    notified = times["la_notified"]  # A 8 days, B 10, C 2, D 1
    assert (notified.cases, notified.median_days, notified.mean_days, notified.max_days) == (4, 5.0, 5.3, 10)
    held = times["meeting_held"]  # A 23, B 32, D 50
    assert (held.cases, held.median_days, held.mean_days, held.max_days) == (3, 32.0, 35.0, 50)
    assert held.title == "Meeting held"


def test_profile_breakdowns_with_and_without_suppression(cases: list[Case]) -> None:
    suppressed = {b.key: b for b in report_of(cases).profile}
    assert set(suppressed) == {"role", "age_band", "gender", "ethnicity", "disability", "district"}
    district = suppressed["district"].as_dict()
    assert (district["norwich"], district["breckland"], district["broadland"]) == (HIDDEN, SUPPRESSED, 0)
    assert suppressed["role"].as_dict() == {
        "parent_carer": SUPPRESSED,  # A B D E
        "young_person": SUPPRESSED,
        "not_recorded": SUPPRESSED,  # G
    }
    plain = {b.key: b for b in report_of(cases, suppress=False).profile}
    assert plain["role"].as_dict() == {"parent_carer": 4, "young_person": 1, "not_recorded": 1}
    assert plain["district"].total == suppressed["district"].total == 6


def test_feedback_counts_and_refs_without_text(report: ComplianceReport) -> None:
    feedback = {f.event: f for f in report.feedback}
    assert feedback["feedback"].count == 2
    assert feedback["feedback"].breakdowns[0].as_dict() == {"compliment": 1, "complaint": 1}
    assert [(i.ref, i.on, dict(i.choices)) for i in feedback["feedback"].items] == [
        ("M-F", D("2026-04-03"), {"kind": "compliment"}),
        ("M-D", D("2026-09-02"), {"kind": "complaint"}),
    ]
    assert feedback["impact_story"].count == 1
    assert feedback["impact_story"].items[0].choices == {}


# ------------------------------------------------------------------------------------------- trend


def test_monthly_trend(report: ComplianceReport) -> None:
    months = {m.period.name: m for m in report.trend}
    assert list(months) == ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
    april = months["2026-04"].kpis
    assert april["kpi2"] == (1, 1, 100.0)  # A
    assert april["kpi3"] == (0, 1, 0.0)  # A late
    assert april["kpi5"] == (1, 1, 100.0)  # F
    assert april["kpi1"] == (1, 1, 100.0)  # F
    assert months["2026-05"].kpis["kpi2"] == (0, 1, 0.0)  # B
    assert months["2026-09"].kpis["kpi2"] == (0, 1, 0.0)  # E overdue
    assert months["2026-09"].kpis["kpi1"] == (1, 1, 100.0)  # G
    assert [m.referrals for m in report.trend] == [1, 1, 1, 1, 1, 1]
    assert sum(m.kpis["kpi4"][1] for m in report.trend) == 3


def test_the_trend_stops_at_the_as_of_month(cases: list[Case]) -> None:
    """A year reported in its fourth month lists April to July: no months that have not happened yet."""
    mid_year = report_of(cases, "FY2026", "2026-07-15", suppress=False)
    assert [m.period.name for m in mid_year.trend] == ["2026-04", "2026-05", "2026-06", "2026-07"]
    year_end = report_of(cases, "FY2026", "2027-04-01", suppress=False)
    assert len(year_end.trend) == 12
    assert report_of(cases, "FY2026", "2026-03-31", suppress=False).trend == ()


# ------------------------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(0, 0, None), (0, 3, 0.0), (3, 3, 100.0), (2, 3, 66.7), (1, 3, 33.3), (30, 31, 96.8), (1, 16, 6.3),
     (1, 8, 12.5), (37, 40, 92.5), (35, 40, 87.5), (36, 39, 92.3), (9999, 10000, 99.9), (19999, 20000, 99.9),
     (1999, 2000, 99.9), (8996, 10000, 90.0)],
)  # fmt: skip
def test_percent_is_rounded_half_up_to_one_decimal(part: int, whole: int, expected: float | None) -> None:
    assert percent(part, whole) == expected


def test_half_up_not_half_even() -> None:
    assert one_decimal(Fraction(21, 4)) == 5.3  # round(5.25, 1) would give 5.2
    assert one_decimal(Fraction(1, 20)) == 0.1


@pytest.mark.parametrize(
    ("part", "whole", "target", "met", "rag"),
    [
        (9, 10, 90.0, True, Rag.GREEN),
        (89, 100, 90.0, False, Rag.AMBER),
        (80, 100, 90.0, False, Rag.AMBER),  # exactly 10 points below
        (79, 100, 90.0, False, Rag.RED),
        (9999, 10000, 100.0, False, Rag.AMBER),  # would round to 100.0: shows 99.9, one deadline was missed
        (10, 10, 100.0, True, Rag.GREEN),
        (0, 0, 100.0, None, None),  # no data
        (5, 10, None, None, None),  # no target
        # judged on the figure shown (one decimal), not the exact fraction
        (2249, 2500, 90.0, True, Rag.GREEN),  # 89.96% shows 90.0%: meets 90
        (4497, 5000, 90.0, False, Rag.AMBER),  # 89.94% shows 89.9%: misses 90
        (7996, 10000, 90.0, False, Rag.AMBER),  # 79.96% shows 80.0%: exactly 10 points below
        (7994, 10000, 90.0, False, Rag.RED),  # 79.94% shows 79.9%
    ],
)
def test_target_and_rag_judge_the_percent_as_shown(
    part: int, whole: int, target: float | None, met: bool | None, rag: Rag | None
) -> None:
    assert rate(part, whole, target)[1:] == (met, rag)


@pytest.mark.parametrize(("count", "expected"), [(0, 0), (1, "<5"), (4, "<5"), (5, 5), (40, 40)])
def test_small_numbers(count: int, expected: int | str) -> None:
    assert protect([count, 0, 100, 100], SUPPRESS)[0] == expected
    assert protect([count, 0, 100, 100], NO_DISCLOSURE)[0] == count


# ------------------------------------------------------------------------------------------- JSON


def test_json_has_the_contract_shape(report: ComplianceReport, suppressed: ComplianceReport) -> None:
    body = report_json(report)
    assert body["period"] == {"from": "2026-04-01", "to": "2026-09-30", "name": "FY2026-H1"}
    assert body["as_of"] == "2026-10-05"
    assert body["kpis"]["kpi1"] | {} == body["kpis"]["kpi1"]
    assert {
        k: body["kpis"]["kpi1"][k] for k in ("responses", "agree", "percent", "target", "met_target")
    } == {
        "responses": 4,
        "agree": 3,
        "percent": 75.0,
        "target": 90.0,
        "met_target": False,
    }
    kpi2 = body["kpis"]["kpi2"]
    assert {k: kpi2[k] for k in ("met", "breached", "excepted", "running", "cancelled")} == {
        "met": 3,
        "breached": 2,
        "excepted": 0,
        "running": 0,
        "cancelled": 0,
    }
    assert (kpi2["percent"], kpi2["target"], kpi2["met_target"], kpi2["rag"]) == (60.0, 100.0, False, "red")
    assert list(body["kpis"]) == ["kpi1", "kpi2", "kpi3", "kpi4", "kpi5"]
    clock = next(c for c in body["clocks"] if (c["ref"], c["clock"]) == ("M-D", "kpi5"))
    assert clock["status"] == "excepted"
    assert clock["exception"] == {"reason": "school_holiday", "until": "2026-08-20"}
    assert {"ref", "clock", "due_on", "status", "exception"} <= set(body["clocks"][0])
    referrals = body["referrals"]
    assert referrals["received"] == 6
    assert referrals["by_type"] == {"mediation": 5, "disagreement_resolution": 1}
    assert body["suppression"] is False
    assert body["disclosure"] == {"method": "none", "threshold": 5}
    hidden = report_json(suppressed)
    assert hidden["referrals"]["by_source"]["parent_carer"] == "<5"
    assert hidden["referrals"]["by_type"] == {"mediation": "[c]", "disagreement_resolution": "<5"}
    assert hidden["kpis"]["kpi1"] | {"rag": None} == {  # 4 responses: withheld, not rated
        "kpi": "KPI 1",
        "title": hidden["kpis"]["kpi1"]["title"],
        "responses": 4,
        "agree": "[c]",
        "percent": None,
        "suppressed": True,
        "target": 90.0,
        "met_target": None,
        "rag": None,
    }
    assert hidden["kpis"]["kpi2"] == body["kpis"]["kpi2"]  # counts of clocks: exact
    assert (hidden["suppression"], hidden["disclosure"]) == (True, {"method": "suppress", "threshold": 5})
    assert set(referrals) >= {"received", "by_source", "by_type", "outcomes"}
    assert set(body["profile"]) == {"role", "age_band", "gender", "ethnicity", "disability", "district"}
    assert body["satisfaction"]["listened_to"] == {
        "title": "I felt listened to",
        "responses": 3,
        "agree": 2,
        "percent": 66.7,
        "suppressed": False,
    }
    assert body["satisfaction"]["understood"]["percent"] == 50.0


def test_json_carries_no_personal_data_or_free_text(report: ComplianceReport) -> None:
    import json

    text = json.dumps(report_json(report))
    for secret in ("Ava", "Brown", "07700", "lovely", "cold", "Family moved away", "hols", "school that"):
        assert secret not in text


def test_definitions_come_from_the_pack(report: ComplianceReport) -> None:
    definitions = dict(report.definitions)
    assert list(definitions) == ["KPI 1", "KPI 2", "KPI 3", "KPI 4", "KPI 5"]
    assert "3 working days after it starts" in definitions["KPI 2"]
    assert "5 working days before meeting date" in definitions["KPI 3"]
    assert "School holiday" in definitions["KPI 5"]
    assert report.label("school_holiday") == "School holiday"
    assert report.label("kpi2") == "LA/ICB notified"


# ------------------------------------------------------------------------------- the store path


def test_the_store_path_gives_the_same_report_as_the_fold(store, cases: list[Case]) -> None:
    from tracker.reports.report import compliance_report

    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    for as_of in ("2026-09-28", "2026-10-05"):
        for period in ("FY2026-H1", "FY2026-H2", "2026-03", "FY2026"):
            from_store = compliance_report(store, None, parse_period(period), D(as_of))
            assert from_store == report_of(cases, period, as_of), (period, as_of)
    unsuppressed = compliance_report(store, "send-mediation", H1, TODAY, disclosure=NO_DISCLOSURE)
    assert unsuppressed == report_of(cases, suppress=False)


def test_voided_events_are_not_counted(store, cases: list[Case]) -> None:
    from tracker.reports.report import compliance_report

    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    survey = next(e.seq for e in cases[-1].events if e.type == "survey")
    store.void("M-G", survey, "entered twice", "jo", NOW, TODAY)
    closed = next(e.seq for e in cases[-1].events if e.type == "closed")
    store.void("M-G", closed, "closed the wrong case", "jo", NOW, TODAY)
    report = compliance_report(store, None, H1, TODAY, disclosure=NO_DISCLOSURE)
    assert report.satisfaction is not None
    assert (report.satisfaction.responses, report.satisfaction.agree) == (3, 2)
    outcome = next(b for b in report.referrals.outcomes if b.key == "outcome")
    assert outcome.as_dict()["resolved"] == 0
    assert outcome.total == 3
    records = [store.case(c.ref) for c in cases]
    pack = RULES.packs.in_force(PACK_ID, H1.end)
    facts = [case_facts(pack, r.state, r.events) for r in records]
    by_fold = report_from_facts(pack, H1, TODAY, facts, disclosure=NO_DISCLOSURE)
    assert report == by_fold


def test_an_unknown_pack_is_refused(store) -> None:
    from tracker.domain.errors import InvalidValue
    from tracker.reports.report import compliance_report

    with pytest.raises(InvalidValue, match=r"^--pack=adoption: use one of the enabled rule packs"):
        compliance_report(store, "adoption", H1, TODAY)


# ------------------------------------------------------------------------------- another pack


BOTH = Rules(discover_packs(enabled=["send-mediation", "adoption-support"]), WorkingCalendar())


def adoption_case(ref: str, service_user: str, answers: list[str]) -> tuple[CaseState, list[Event]]:
    events = [
        decide_open(
            BOTH, ref, "adoption_support", D("2026-04-01"), {"service_user": service_user}, "jo", NOW, TODAY
        )
    ]
    state = project(BOTH, ref, events)
    for day, answer in enumerate(answers, start=10):
        fields = {"support_and_advice": answer} if answer else {"comment": "no answer given"}
        events.append(decide(BOTH, state, events, "survey", D(f"2026-05-{day}"), fields, "jo", NOW, TODAY))
        state = project(BOTH, ref, events)
    return state, events


def test_a_satisfaction_kpi_by_group_is_judged_for_each_group() -> None:
    cases = [
        adoption_case("A-1", "adopter", ["agree", "strongly_agree", "disagree"]),  # 2 of 3
        adoption_case("A-2", "adopter", ["agree"]),  # with A-1: 3 of 4 = 75.0, target 75 met
        adoption_case("A-3", "birth_parent", ["neutral", "agree", ""]),  # 1 of 2 (one unanswered)
    ]
    pack = BOTH.packs.in_force("adoption-support", H1.end)
    facts = [case_facts(pack, state, events) for state, events in cases]
    clocks, surveys = [k for f in facts for k in f.clocks], [s for f in facts for s in f.surveys]
    report = compute(pack, H1, TODAY, clocks, surveys, [f.referral for f in facts], disclosure=NO_DISCLOSURE)
    assert report.satisfaction is None  # no combined result: the contract's measure is each group's
    assert report.satisfaction_responses == 6  # every group's answers together: a count, not rated
    groups = {
        g.group: (g.responses, g.agree, g.percent, g.met_target, g.rag) for g in report.satisfaction_groups
    }
    assert groups == {
        "adopted_adult": (0, 0, None, None, None),
        "adopter": (4, 3, 75.0, True, Rag.GREEN),
        "birth_parent": (2, 1, 50.0, False, Rag.RED),
    }
    body = report_json(report)
    assert body["kpis"]["outcome.adopter"]["met_target"] is True
    assert body["kpis"]["outcome.adopter"]["kpi"] == "Outcome: Adoptive parent"
    assert "outcome" not in body["kpis"]
    assert body["satisfaction"]["responses"] == 6
    assert [k.kpi for k in report.kpis] == ["Waiting time: assessment", "Waiting time: support"]
    waiting = report.kpis[0]  # due 20 working days after 1 April, never assessed: breached; no target set
    assert (waiting.breached, waiting.percent, waiting.target, waiting.met_target, waiting.rag) == (
        3,
        0.0,
        None,
        None,
        None,
    )


def test_the_store_path_reads_each_survey_group(engine) -> None:
    from tracker.reports.report import compliance_report
    from tracker.store import Store

    store = Store(engine, BOTH)
    cases = [
        adoption_case("A-1", "adopter", ["agree", "disagree"]),
        adoption_case("A-3", "birth_parent", ["agree"]),
    ]
    store.import_histories([(state.ref, events) for state, events in cases], NOW)
    pack = BOTH.packs.in_force("adoption-support", H1.end)
    facts = [case_facts(pack, state, events) for state, events in cases]
    by_fold = report_from_facts(pack, H1, TODAY, facts)
    from_store = compliance_report(store, "adoption-support", H1, TODAY)
    assert from_store == by_fold
    assert [g.responses for g in from_store.satisfaction_groups] == [0, "<5", "<5"]
    exact = compliance_report(store, "adoption-support", H1, TODAY, disclosure=NO_DISCLOSURE)
    assert [g.responses for g in exact.satisfaction_groups] == [0, 2, 1]
    assert compliance_report(store, None, H1, TODAY).pack_id == "send-mediation"
