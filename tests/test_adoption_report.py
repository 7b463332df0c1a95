"""The adoption support pack's report: flow, activities, waiting times and groups, on hand-built data.

May 2026 has two bank holidays (4 and 25 May), so working-day waits differ from calendar ones. Every figure
below is counted by hand. The same cases go through the store (SQLite and PostgreSQL) and must give the same
report as the fold; a database holding both packs keeps each pack's export and alerts apart.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.compliance import (
    NO_DISCLOSURE,
    SUPPRESS,
    ComplianceReport,
    Rag,
    Spread,
    nearest_rank,
    report_json,
)
from tracker.domain.compliance.facts import case_facts, report_from_facts
from tracker.domain.errors import PackError
from tracker.domain.events import Event
from tracker.domain.periods import parse_period
from tracker.domain.rules import discover_packs, load_pack, parse_pack, shipped_pack_dir
from tracker.domain.workflow import CaseState, Rules, decide, decide_open, project

from .alert_servers import HttpServer, write_config

D = dt.date.fromisoformat
NOW = dt.datetime(2026, 6, 30, 9, tzinfo=dt.UTC)
TODAY = D("2026-06-30")
MAY = parse_period("2026-05")
PACK = "adoption-support"
BOTH = Rules(discover_packs(enabled=["send-mediation", PACK]), WorkingCalendar())


class Case:
    """An adoption case built through the real decide/fold."""

    def __init__(self, ref: str, opened: str, group: str) -> None:
        self.ref = ref
        fields = {"service_user": group, "caseworker": "Sam Patel", "name": "Private Person"}
        self.events: list[Event] = [
            decide_open(BOTH, ref, "adoption_support", D(opened), fields, "t", NOW, TODAY)
        ]
        self.state: CaseState = project(BOTH, ref, self.events)

    def rec(self, event_type: str, on: str, **fields: object) -> Case:
        self.events.append(decide(BOTH, self.state, self.events, event_type, D(on), fields, "t", NOW, TODAY))
        self.state = project(BOTH, self.ref, self.events)
        return self

    def session(self, on: str, activity: str, minutes: int, mode: str) -> Case:
        return self.rec("session_delivered", on, activity=activity, minutes=minutes, mode=mode)


def may_cases() -> list[Case]:
    return [
        # assessed 8 calendar / 5 working days after referral (4 May is a bank holiday); supported 6 / 4 later
        Case("A-1", "2026-04-27", "adopter")
        .rec("assessed", "2026-05-05")
        .rec("support_started", "2026-05-11")
        .session("2026-05-12", "one_to_one", 60, "in_person")
        .session("2026-05-19", "one_to_one", 90, "online")
        .session("2026-06-02", "group_session", 120, "group")  # June: not in May's figures
        .rec("survey", "2026-05-20", support_and_advice="agree")
        .rec("exited", "2026-06-10", reason="goals_met"),
        # assessed 28 / 18 (4 and 25 May), supported the same day
        Case("A-2", "2026-05-01", "birth_parent")
        .rec("assessed", "2026-05-29")
        .rec("support_started", "2026-05-29")
        .session("2026-05-29", "advice_line", 30, "phone")
        .rec("exited", "2026-05-31", reason="withdrew")
        .rec("survey", "2026-05-30", support_and_advice="disagree"),
        # still waiting for assessment on 31 May: 25 calendar / 16 working days
        Case("A-3", "2026-05-06", "adopted_adult").rec(
            "survey", "2026-05-15", support_and_advice="strongly_agree"
        ),
        # assessed in March, still waiting for support on 31 May: 76 / 50 (Good Friday, Easter Monday, 4 and
        # 25 May)
        Case("A-4", "2026-03-02", "adopter").rec("assessed", "2026-03-16"),
        # left before being assessed: its clock is cancelled, so it is not waiting
        Case("A-5", "2026-05-11", "adopter")
        .rec("exited", "2026-05-20", reason="moved_away")
        .rec("survey", "2026-05-21", support_and_advice="neutral"),
    ]


def may_report(cases: list[Case], suppress: bool = False) -> ComplianceReport:
    """The May report: every figure exact unless `suppress` (a handful of cases: most would be withheld)."""
    pack = BOTH.packs.in_force(PACK, MAY.end)
    facts = [case_facts(pack, c.state, c.events) for c in cases]
    return report_from_facts(
        pack, MAY, TODAY, facts, disclosure=SUPPRESS if suppress else NO_DISCLOSURE, calendar=BOTH.calendar
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 9), ([5, 1, 3], 5), (list(range(1, 21)), 18), ([7], 7), ([4, 2], 4)],
)
def test_the_90th_percentile_is_the_nearest_rank(values: list[int], expected: int) -> None:
    assert nearest_rank(values, 90) == expected


def test_flow_counts_the_cases_reaching_each_step_in_the_period() -> None:
    report = may_report(may_cases())
    assert [(f.event, f.cases) for f in report.flow] == [
        ("referral_received", 3),  # A-5 (A-1 was referred in April, A-4 in March)
        ("assessed", 2),
        ("support_started", 2),
        ("exited", 2),  # A-2, A-5 (A-1 left in June)
    ]
    assert report_json(report)["flow"]["referral_received"] == {"title": "Referral received", "cases": 3}


def test_activities_by_type_length_mode_and_frequency() -> None:
    activities = may_report(may_cases()).activities
    assert activities is not None
    assert (activities.sessions, activities.cases, activities.minutes, activities.mean_minutes) == (
        3,
        2,
        180,
        60.0,
    )
    assert (activities.per_case_mean, activities.per_case_median) == (1.5, 1.5)
    assert [m for m, _ in activities.modes] == ["in_person", "online", "phone", "group"]
    types = {t.key: t for t in activities.types}
    one = types["one_to_one"]
    assert (one.sessions, one.minutes, one.mean_minutes) == (2, 150, 75.0)
    assert dict((m, n) for m, _, n in one.by_mode) == {"in_person": 1, "online": 1, "phone": 0, "group": 0}
    assert (types["advice_line"].sessions, types["advice_line"].minutes) == (1, 30)
    assert types["group_session"].sessions == 0  # its only session was in June
    body = report_json(may_report(may_cases()))["activities"]
    assert body["by_type"]["advice_line"]["by_mode"]["phone"] == 1
    assert body["sessions_per_case"] == {"mean": 1.5, "median": 1.5, "suppressed": False}
    withheld = report_json(may_report(may_cases(), suppress=True))["activities"]  # 2 cases: too few
    assert withheld["sessions_per_case"] == {"mean": None, "median": None, "suppressed": True}
    assert withheld["by_type"]["advice_line"]["by_mode"]["phone"] == 1  # sessions, not people


def test_waiting_times_in_calendar_and_working_days_with_bank_holidays() -> None:
    waits = {w.clock: w for w in may_report(may_cases()).waiting_times}
    assessment, support = waits["assessment"], waits["support"]
    assert assessment.stopped == 2
    assert assessment.calendar_days == Spread(18.0, 28, 28)
    assert assessment.working_days == Spread(11.5, 18, 18)
    assert (assessment.waiting, assessment.longest_waiting_days, assessment.longest_waiting_working_days) == (
        1,
        25,
        16,
    )
    assert support.calendar_days == Spread(3.0, 6, 6)
    assert support.working_days == Spread(2.0, 4, 4)
    assert (support.waiting, support.longest_waiting_days, support.longest_waiting_working_days) == (
        1,
        76,
        50,
    )
    body = report_json(may_report(may_cases()))["waiting_times"]["assessment"]
    assert body["working_days"] == {"median": 11.5, "p90": 18, "longest": 18}
    assert body["longest_waiting"] == {"calendar_days": 25, "working_days": 16, "suppressed": False}
    withheld = report_json(may_report(may_cases(), suppress=True))["waiting_times"]["assessment"]
    assert (withheld["stopped"], withheld["working_days"], withheld["suppressed"]) == (2, None, True)
    assert withheld["longest_waiting"] == {"calendar_days": None, "working_days": None, "suppressed": True}


def test_an_as_of_date_inside_the_period_measures_the_waits_to_that_day() -> None:
    pack = BOTH.packs.in_force(PACK, MAY.end)
    facts = [case_facts(pack, c.state, c.events) for c in may_cases()]
    report = report_from_facts(
        pack, MAY, D("2026-05-10"), facts, disclosure=NO_DISCLOSURE, calendar=BOTH.calendar
    )
    assessment = next(w for w in report.waiting_times if w.clock == "assessment")
    # waiting on 10 May: A-2 (since 1 May: 9 days, 4 working) and A-3 (since 6 May: 4 days, 2 working)
    assert (assessment.waiting, assessment.longest_waiting_days, assessment.longest_waiting_working_days) == (
        2,
        9,
        4,
    )


def test_each_group_is_judged_against_75_percent_and_the_profile_shows_the_groups() -> None:
    exact = may_report(may_cases())
    groups = {g.group: (g.responses, g.agree, g.percent, g.met_target) for g in exact.satisfaction_groups}
    assert groups == {
        "adopted_adult": (1, 1, 100.0, True),
        "adopter": (2, 1, 50.0, False),
        "birth_parent": (1, 0, 0.0, False),
    }
    assert {g.target for g in exact.satisfaction_groups} == {75.0}
    profile = next(b for b in exact.profile if b.key == "service_user")
    assert profile.as_dict() == {"adopted_adult": 1, "adopter": 1, "birth_parent": 1}
    # leaving the provider: groups of 1 and 2 surveys are withheld, not rated (not "50.0% Red")
    report = may_report(may_cases(), suppress=True)
    groups = {
        g.group: (g.responses, g.agree, g.percent, g.rag, g.suppressed) for g in report.satisfaction_groups
    }
    assert groups == {
        "adopted_adult": ("<5", "[c]", None, None, True),
        "adopter": ("<5", "[c]", None, None, True),
        "birth_parent": ("<5", "[c]", None, None, True),
    }
    profile = next(b for b in report.profile if b.key == "service_user")
    assert profile.as_dict() == {"adopted_adult": "<5", "adopter": "<5", "birth_parent": "<5"}
    assert profile.total == 3
    assert "Private Person" not in json.dumps(report_json(report))


def test_the_reporting_table_is_checked_against_the_pack() -> None:
    raw = load_pack(shipped_pack_dir() / "adoption-support.toml").model_dump(mode="python")
    raw["reporting"]["flow"] = ["referral_received", "asessed"]
    with pytest.raises(
        PackError, match=r"reporting\.flow: unknown event 'asessed' \(did you mean 'assessed'\?\)"
    ):
        parse_pack(raw, "x.toml")
    raw["reporting"]["flow"] = []
    raw["reporting"]["activity"]["length_field"] = "mode"
    with pytest.raises(
        PackError,
        match=r"reporting\.activity\.length_field: 'mode' must be a field of event 'session_delivered' "
        r"of type integer",
    ):
        parse_pack(raw, "x.toml")


def test_the_store_reads_the_same_report_as_the_fold(engine) -> None:
    from tracker.reports.report import compliance_report
    from tracker.store import Store

    store = Store(engine, BOTH)
    cases = may_cases()
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    assert compliance_report(store, PACK, MAY, TODAY) == may_report(cases, suppress=True)
    assert compliance_report(store, PACK, MAY, TODAY, disclosure=NO_DISCLOSURE) == may_report(cases)
    # a voided session is not counted
    session = next(e.seq for e in cases[1].events if e.type == "session_delivered")
    store.void("A-2", session, "recorded on the wrong case", "jo", NOW, TODAY)
    activities = compliance_report(store, PACK, MAY, TODAY).activities
    assert activities is not None
    assert (activities.sessions, activities.cases, activities.minutes) == (2, 1, 150)


# ------------------------------------------------------------------------------- exit reasons and exits


def without_reason(case_: Case) -> Case:
    """The case's exit as one recorded before a reason was asked for (an earlier pack version, an import)."""
    exit_ = case_.events[-1]
    assert exit_.type == "exited"
    case_.events[-1] = exit_.model_copy(update={"data": {}})
    case_.state = project(BOTH, case_.ref, case_.events)
    return case_


def exit_cases() -> list[Case]:
    return [
        # opened in FY2025-Q4, exited in FY2026-Q1 (April)
        Case("A-10", "2026-03-02", "adopter")
        .rec("assessed", "2026-03-10")
        .rec("exited", "2026-04-15", reason="goals_met"),
        # opened and exited in April, with no reason recorded
        without_reason(
            Case("A-11", "2026-04-01", "birth_parent").rec("exited", "2026-04-20", reason="other")
        ),
        # opened and exited in FY2025-Q4
        Case("A-12", "2026-01-12", "adopted_adult").rec("exited", "2026-03-20", reason="moved_away"),
        # opened in FY2025-Q4, supported in April, exited in June
        Case("A-13", "2026-03-16", "adopter")
        .rec("assessed", "2026-04-01")
        .rec("support_started", "2026-04-08")
        .rec("exited", "2026-06-05", reason="withdrew"),
        # opened in May, still supported
        Case("A-14", "2026-05-05", "adopter").rec("assessed", "2026-05-12"),
        # opened and exited in February, with no reason recorded
        without_reason(Case("A-15", "2026-02-02", "adopter").rec("exited", "2026-02-20", reason="other")),
    ]


EXIT_PERIODS = {
    "FY2025-Q4": {"moved_away": 1, "not_recorded": 1},  # A-12, A-15 (A-10 and A-13 were opened then)
    "FY2026-Q1": {"goals_met": 1, "withdrew": 1, "not_recorded": 1},  # A-10, A-13 (opened in Q4), A-11
    "2026-04": {"goals_met": 1, "not_recorded": 1},
    "2026-05": {},  # A-14 was opened, nobody left
    "2026-06": {"withdrew": 1},
    "2026-01-01..2026-06-30": {"goals_met": 1, "withdrew": 1, "moved_away": 1, "not_recorded": 2},
}


def exit_figures(report: ComplianceReport) -> tuple[dict[str, int | str], int, int]:
    """(the exit reasons as shown, without zeros; their total; the flow's Exited)."""
    reasons = next(b for b in report.referrals.outcomes if b.key == "reason")
    exited = next(f.cases for f in report.flow if f.event == "exited")
    return {k: n for k, n in reasons.as_dict().items() if n != 0}, reasons.total, exited


def test_exit_reasons_count_the_cases_exited_in_the_period_and_add_up_to_exited(engine) -> None:
    from tracker.reports.report import compliance_report
    from tracker.store import Store

    cases = exit_cases()
    pack = BOTH.packs.in_force(PACK, TODAY)
    facts = [case_facts(pack, c.state, c.events) for c in cases]
    store = Store(engine, BOTH)
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    for name, expected in EXIT_PERIODS.items():
        period = parse_period(name)
        exact = report_from_facts(pack, period, TODAY, facts, disclosure=NO_DISCLOSURE)
        reasons, total, exited = exit_figures(exact)
        assert reasons == expected, name
        assert total == sum(expected.values()) == exited, name  # exit reasons add up to Exited
        assert compliance_report(store, PACK, period, TODAY, disclosure=NO_DISCLOSURE) == exact, name
        # leaving the provider: the same people, the reasons of fewer than 5 hidden, the total exact
        shown = compliance_report(store, PACK, period, TODAY)
        assert shown == report_from_facts(pack, period, TODAY, facts), name
        reasons, total, exited = exit_figures(shown)
        assert total == exited == sum(expected.values()), name
        assert all(isinstance(n, str) for n in reasons.values()), name
        body = report_json(shown)
        assert body["referrals"]["outcomes"]["reason"] == next(
            b.as_dict() for b in shown.referrals.outcomes if b.key == "reason"
        )


# ------------------------------------------------------------------------------- the three outcome measures


def test_the_headline_is_the_three_group_measures_in_every_format(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tracker.exporters import write
    from tracker.exporters.csvzip import csv_files
    from tracker.exporters.html import render_html

    report = may_report(may_cases())
    assert report.satisfaction is None  # no combined result to rate
    kpis = [(g.kpi, g.responses, g.agree, g.percent, g.target, g.rag) for g in report.satisfaction_kpis]
    assert kpis == [
        ("Outcome: Adopted adult", 1, 1, 100.0, 75.0, Rag.GREEN),
        ("Outcome: Adoptive parent", 2, 1, 50.0, 75.0, Rag.RED),
        ("Outcome: Birth parent", 1, 0, 0.0, 75.0, Rag.RED),
    ]
    assert report.satisfaction_responses == 4  # every group's answers together: a count, not a KPI
    assert (
        "each a KPI (Outcome: Adopted adult, Outcome: Adoptive parent, Outcome: Birth parent)"
        in (dict(report.definitions)["Outcome"])
    )
    body = report_json(report)
    assert [key for key in body["kpis"]] == [
        "outcome.adopted_adult",
        "outcome.adopter",
        "outcome.birth_parent",
        "assessment",
        "support",
    ]
    assert body["kpis"]["outcome.adopter"] == {
        "kpi": "Outcome: Adoptive parent",
        "title": "The service gives the support and advice needed to improve their lives",
        "responses": 2,
        "agree": 1,
        "percent": 50.0,
        "suppressed": False,
        "group": "adopter",
        "target": 75.0,
        "met_target": False,
        "rag": "red",
    }
    assert body["satisfaction"] == {"comments": 0, "responses": 4}
    assert body["trend"][0]["kpis"]["outcome.adopter"] == {"n": 1, "of": 2, "percent": 50.0}
    # the workbook: the Summary's, the Satisfaction sheet's and the trend's rows are the three measures
    path = tmp_path / "may.xlsx"
    write(report, "xlsx", path)
    book = load_workbook(path)

    def rows(sheet: str) -> list[tuple]:
        return [r for r in book[sheet].iter_rows(values_only=True) if any(v is not None for v in r)]

    summary = [r for r in rows("Summary") if r[0] and str(r[0]).startswith("Outcome")]
    assert [(r[0], r[2], r[3], r[4], r[10], r[11]) for r in summary] == [
        ("Outcome: Adopted adult", 0.75, 1.0, "Green", 1, 1),
        ("Outcome: Adoptive parent", 0.75, 0.5, "Red", 2, 1),
        ("Outcome: Birth parent", 0.75, 0.0, "Red", 1, 0),
    ]
    assert not any(r[0] == "Outcome" for r in rows("Summary"))  # no combined row
    satisfaction = rows("Satisfaction")
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in satisfaction if str(r[1]).startswith("Outcome")] == [
        ("Outcome: Adopted adult", 1, 1, 1.0, "Green"),
        ("Outcome: Adoptive parent", 2, 1, 0.5, "Red"),
        ("Outcome: Birth parent", 1, 0, 0.0, "Red"),
    ]
    assert ("Responses from all service users (a count, not a KPI)", None, 4, None, None, None, None) in (
        satisfaction
    )
    trend = rows("Monthly trend")
    header = next(r for r in trend if r[0] == "Month")
    assert [h for h in header if h and str(h).startswith("Outcome")] == [
        "Outcome: Adopted adult %",
        "Outcome: Adoptive parent %",
        "Outcome: Birth parent %",
    ]
    assert book["Monthly trend"]._charts  # the chart draws a line for each column of results
    # the csv zip and the html page show the same rows
    summary_csv = csv_files(report)["01-summary.csv"].decode("utf-8-sig")
    assert '"Outcome: Adoptive parent",' in summary_csv  # text cells are quoted (formula-injection guard)
    assert '\r\n"Outcome",' not in summary_csv  # no combined row
    html = render_html(report)
    for label in ("Outcome: Adopted adult", "Outcome: Adoptive parent", "Outcome: Birth parent"):
        assert html.count(label) >= 4  # summary, bars, satisfaction, trend (header and chart legend)


def test_a_months_group_of_few_surveys_is_withheld_in_the_trend() -> None:
    report = may_report(may_cases(), suppress=True)
    may = report.trend[0].kpis
    # every group answered 1 or 2 times in May: responses "<5", nothing rated
    assert [may[g.key] for g in report.satisfaction_groups] == [
        ("[c]", "<5", None),
        ("[c]", "<5", None),
        ("[c]", "<5", None),
    ]
    assert all(g.rag is None and g.suppressed for g in report.satisfaction_kpis)


# ------------------------------------------------------------------------------- a database with both packs


def test_a_mixed_database_keeps_each_packs_export_and_alerts_apart(cli, tmp_path: Path) -> None:
    web = HttpServer()
    try:
        config = str(
            write_config(
                tmp_path / "c.toml",
                f'[packs]\nenabled = ["send-mediation", "adoption-support"]\n\n'
                f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n',
            )
        )

        def run(*args: str) -> str:
            result = cli("--config", config, "--as-of", "2026-06-03", *args)
            assert result.code == 0, result.err
            return result.out

        run("open", "M-1", "--on", "2026-05-06")
        run("record", "M-1", "mediation_requested", "--on", "2026-06-01")  # kpi2 due 4 June
        run(
            "open",
            "A-1",
            "--type",
            "adoption_support",
            "--on",
            "2026-05-06",
            "--field",
            "service_user=adopter",
        )
        run(
            "open",
            "A-2",
            "--type",
            "adoption_support",
            "--on",
            "2026-05-07",
            "--field",
            "service_user=adopter",
        )
        run("record", "A-2", "assessed", "--on", "2026-05-12")
        run("record", "A-2", "support_started", "--on", "2026-05-13")
        session = ["--field", "activity=training", "--field", "minutes=45", "--field", "mode=online"]
        run("record", "A-2", "session_delivered", "--on", "2026-05-14", *session)

        adoption = json.loads(
            run("export", "--period", "2026-05", "--format", "json", "--pack", PACK, "--no-suppression")
        )
        mediation = json.loads(
            run("export", "--period", "2026-05", "--format", "json", "--pack", "send-mediation")
        )
        assert adoption["pack"]["id"] == PACK
        assert {k: v["cases"] for k, v in adoption["flow"].items()} == {
            "referral_received": 2,
            "assessed": 1,
            "support_started": 1,
            "exited": 0,
        }
        assert adoption["activities"]["by_type"]["training"]["minutes"] == 45
        assert set(adoption["waiting_times"]) == {"assessment", "support"}
        assert adoption["waiting_times"]["assessment"]["working_days"] == {
            "median": 3.0,
            "p90": 3,
            "longest": 3,
        }
        assert {k: v["cases"] for k, v in mediation["flow"].items()} == {
            "opened": 1,
            "mediation_requested": 0,  # requested in June
            "meeting_held": 0,
            "certificate_issued": 0,
            "closed": 0,
        }
        assert mediation["activities"] is None
        assert set(mediation["waiting_times"]) == {"kpi2", "kpi3", "kpi4", "kpi5"}
        assert {c["ref"] for c in adoption["clocks"]} <= {"A-1", "A-2"}

        # A-1's assessment is due 20 working days after 6 May (25 May is a bank holiday): 4 June
        would = json.loads(run("check", "--dry-run", "--json"))["would_queue"]
        assert sorted((w["ref"], w["clock"], w["due_on"]) for w in would) == [
            ("A-1", "assessment", "2026-06-04"),
            ("M-1", "kpi2", "2026-06-04"),
        ]
        run("check")
        sent = {r.json()["ref"]: r.json() for r in web.take(2)}
    finally:
        web.stop()
    assert (sent["A-1"]["kpi"], sent["A-1"]["title"]) == (
        "Waiting time: assessment",
        "Assessed within 20 working days",
    )
    assert sent["A-1"]["action"] == "Complete the needs assessment"
    assert (sent["M-1"]["clock"], sent["M-1"]["kpi"]) == ("kpi2", "KPI 2")
