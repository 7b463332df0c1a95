"""The parent's windows: the tribunal appeal deadline (r.20, rules 12(2) and 12(3)) and the reg 33 window.

Calendar-month arithmetic and the tribunal's moving rules are checked on DOMAIN.md's examples, on edge cases
and against a naive day-by-day implementation written here; the windows never change a report's figures.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_compliance import RULES, Case, half_year_cases, report_of
from tracker.domain.calendar import WorkingCalendar, add_months
from tracker.domain.errors import PackError
from tracker.domain.rules import discover_packs, load_pack, parse_pack, shipped_pack_dir
from tracker.domain.rules.registry import PackRegistry
from tracker.domain.windows import appeal_deadline, case_windows, window_due
from tracker.domain.workflow import Rules

D = dt.date.fromisoformat
PACK = load_pack(shipped_pack_dir() / "send-mediation.toml")
APPEAL = PACK.windows["tribunal_appeal"]
CALENDAR = WorkingCalendar()


def appeal(decision: str, certificate: str, calendar: WorkingCalendar = CALENDAR) -> dt.date | None:
    dates = {"decision_letter_on": D(decision), "certificate_issued": D(certificate)}
    return window_due(APPEAL, dates, calendar)[0]


# ------------------------------------------------------------------ DOMAIN.md's examples and edge cases


@pytest.mark.parametrize(
    ("decision", "certificate", "due"),
    [
        ("2026-06-10", "2026-07-20", "2026-09-01"),  # 20 Aug is later than 10 Aug, in August: 12(3)
        ("2026-10-01", "2026-11-25", "2027-01-04"),  # 25 Dec: first working day after 1 Jan (a Friday)
        ("2026-03-02", "2026-03-09", "2026-05-05"),  # Sat 2 May, Mon 4 May a bank holiday: 12(2)
        ("2026-03-10", "2026-03-09", "2026-05-11"),  # Sunday 10 May: 12(2)
        ("2026-02-05", "2026-03-09", "2026-04-09"),  # the certificate's month is later; a working day
        ("2021-10-28", "2021-11-20", "2022-01-04"),  # 28 Dec 2021; 3 Jan 2022 is the substitute holiday
        ("2026-05-30", "2026-06-01", "2026-07-30"),  # the decision's 30 Jul is later: a Thursday
        ("2027-12-31", "2028-01-10", "2028-02-29"),  # 31 Dec + 2 months in a leap year: a Tuesday
    ],
)
def test_domain_examples_and_edges(decision: str, certificate: str, due: str) -> None:
    assert appeal(decision, certificate) == D(due)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2028-01-31", 1, "2028-02-29"),  # a leap year
        ("2028-02-29", 12, "2029-02-28"),
        ("2026-03-31", 1, "2026-04-30"),
        ("2025-12-31", 2, "2026-02-28"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-06-10", 2, "2026-08-10"),
        ("2026-12-15", 1, "2027-01-15"),
    ],
)
def test_calendar_months(start: str, months: int, end: str) -> None:
    assert add_months(D(start), months) == D(end)


@pytest.mark.parametrize(
    ("ends", "met", "rule"),
    [
        ("2026-12-24", None, None),  # a Thursday, before the Christmas window: not moved
        ("2026-12-25", "2027-01-04", "rule 12(3)"),
        ("2027-01-01", "2027-01-04", "rule 12(3)"),
        ("2027-01-02", "2027-01-04", "rule 12(2)"),  # Saturday after the window: the next working day
        ("2021-12-25", "2022-01-04", "rule 12(3)"),  # 3 Jan 2022, the substitute New Year's Day, skipped
        ("2026-08-01", "2026-09-01", "rule 12(3)"),  # 31 Aug 2026 is the summer bank holiday
        ("2027-08-31", "2027-09-01", "rule 12(3)"),
        ("2027-07-31", "2027-08-02", "rule 12(2)"),  # ends in July (a Saturday): the next working day
        ("2026-04-03", "2026-04-07", "rule 12(2)"),  # Good Friday, then the weekend and Easter Monday
    ],
)
def test_the_tribunal_rules_move_a_limit(ends: str, met: str | None, rule: str | None) -> None:
    move = CALENDAR.tribunal_limit(D(ends), sen=True)
    if met is None:
        assert move is None
        return
    assert move is not None
    assert (move.met_on, move.rule) == (D(met), rule)


def test_a_bank_holiday_after_1_january_is_named() -> None:
    move = CALENDAR.tribunal_limit(D("2021-12-25"), sen=True)
    assert move is not None
    skipped = {day.day: (day.skipped, day.why) for day in move.skipped}
    assert skipped[D("2022-01-03")][0] == "bank_holiday"
    assert "New Year" in str(skipped[D("2022-01-03")][1])
    assert skipped[D("2022-01-02")] == ("weekend", "Sunday")


def test_a_providers_closure_never_moves_the_tribunals_limit() -> None:
    closed = WorkingCalendar([D("2026-05-05")])
    assert appeal("2026-03-02", "2026-03-09", closed) == D("2026-05-05")


# ------------------------------------------------------------------ against a naive day-by-day implementation

_NAIVE_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG", years=range(2000, 2102))


def naive_working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _NAIVE_HOLIDAYS


def naive_add_months(day: dt.date, months: int) -> dt.date:
    year, month = day.year, day.month
    for _ in range(months):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    number = day.day
    while True:
        try:
            return dt.date(year, month, number)
        except ValueError:
            number -= 1


def naive_appeal(decision: dt.date, certificate: dt.date) -> dt.date:
    ends = max(naive_add_months(decision, 2), naive_add_months(certificate, 1))
    if (ends.month == 12 and ends.day >= 25) or (ends.month == 1 and ends.day == 1):
        day = dt.date(ends.year + (ends.month == 12), 1, 2)
    elif ends.month == 8:
        day = dt.date(ends.year, 9, 1)
    else:
        day = ends
    while not naive_working(day):
        day += dt.timedelta(days=1)
    return day


@settings(max_examples=400, deadline=None)
@given(
    decision=st.dates(dt.date(2000, 1, 1), dt.date(2098, 6, 30)),
    gap=st.integers(0, 400),
)
def test_the_appeal_deadline_agrees_with_a_naive_count(decision: dt.date, gap: int) -> None:
    certificate = decision + dt.timedelta(days=gap)
    dates = {"decision_letter_on": decision, "certificate_issued": certificate}
    due, steps, waiting = window_due(APPEAL, dates, CALENDAR)
    assert due == naive_appeal(decision, certificate)
    assert waiting == ()
    assert steps[-1].on == due  # the explanation ends at the date it explains


# ------------------------------------------------------------------ the pack validates its windows


def _raw_pack() -> dict[str, object]:
    import tomllib

    return tomllib.loads((shipped_pack_dir() / "send-mediation.toml").read_text(encoding="utf-8"))


def test_a_window_counting_from_an_unknown_date_is_refused_when_the_pack_loads() -> None:
    raw = _raw_pack()
    raw["windows"]["tribunal_appeal"]["due"]["later_of"][0]["from"] = "decision_leter_on"  # type: ignore[index]
    with pytest.raises(PackError, match=r"later_of\[0\]\.from.*did you mean 'decision_letter_on'"):
        parse_pack(raw, "test.toml")


def test_a_window_named_as_a_clock_and_two_certificate_windows_are_refused() -> None:
    raw = _raw_pack()
    raw["windows"]["kpi2"] = raw["windows"]["reg33_contact"]  # type: ignore[index]
    with pytest.raises(PackError, match=r"windows\.kpi2: a clock has the same name"):
        parse_pack(raw, "test.toml")
    raw = _raw_pack()
    raw["windows"]["reg33_contact"]["on_certificate"] = True  # type: ignore[index]
    with pytest.raises(PackError, match="only one window may have on_certificate"):
        parse_pack(raw, "test.toml")


# ------------------------------------------------------------------ a case's windows; never a KPI


def test_appeal_deadline_of_a_case_before_and_after_its_certificate() -> None:
    case = (
        Case("M-W", "2026-06-15", decision_letter_on="2026-06-10")
        .rec("mediation_requested", "2026-06-15")
        .rec("mediation_declined", "2026-07-14")
    )
    assert appeal_deadline(RULES, case.state) is None  # no certificate yet
    assert appeal_deadline(RULES, case.state, {"certificate_issued": D("2026-07-20")}) == D("2026-09-01")
    case.rec("certificate_issued", "2026-07-20", kind="advice_only")
    assert appeal_deadline(RULES, case.state) == D("2026-09-01")
    views = {view.window: view for view in case_windows(RULES, case.state)}
    assert views["reg33_contact"].due_on == D("2026-08-10")
    assert not views["reg33_contact"].opened_after


def test_the_decision_letter_date_can_be_changed_later() -> None:
    case = Case("M-X", "2026-03-02").rec("mediation_requested", "2026-03-02")
    views = {view.window: view for view in case_windows(RULES, case.state)}
    assert views["tribunal_appeal"].waiting_for == ("decision_letter_on", "certificate_issued")
    case.rec("details_changed", "2026-03-03", decision_letter_on="2025-12-31")
    views = {view.window: view for view in case_windows(RULES, case.state)}
    assert views["reg33_contact"].due_on == D("2026-02-28")  # 31 Dec + 2 months
    assert views["reg33_contact"].opened_after
    assert "2026-02-28" in str(views["reg33_contact"].warning)


def test_a_reports_figures_are_identical_with_and_without_the_windows() -> None:
    cases = half_year_cases()
    for case, decision in zip(cases, ["2026-03-20", "2026-04-02", "2026-05-01", "2026-05-29"], strict=False):
        case.rec("details_changed", case.state.opened_on.isoformat(), decision_letter_on=decision)
    with_windows = report_of(cases, suppress=False)
    without = Rules(
        PackRegistry(
            p.model_copy(update={"windows": {}})
            for pid in discover_packs()
            for p in discover_packs().versions(pid)
        ),
        WorkingCalendar(),
    )
    import tests.test_compliance as compliance

    original = compliance.RULES
    compliance.RULES = without
    try:
        assert report_of(cases, suppress=False) == with_windows
    finally:
        compliance.RULES = original
    plain = report_of(half_year_cases(), suppress=False)
    assert (plain.kpis, plain.clocks) == (with_windows.kpis, with_windows.clocks)


# ------------------------------------------------------------------ the command line


AS_OF = "2026-08-03"


def _open(cli, ref: str = "M-0042", decision: str = "2026-06-10", on: str = "2026-06-15"):
    return cli(
        "--as-of", AS_OF, "open", ref, "--type", "mediation", "--on", on,
        "--field", f"decision_letter_on={decision}", "--field", "caseworker=Jo Smith", "--name", "Ava Brown",
    )  # fmt: skip


def test_show_lists_the_windows_and_explains_the_appeal(cli) -> None:
    assert _open(cli).code == 0
    for args in (
        ["mediation_requested", "--on", "2026-06-15"],
        ["mediation_declined", "--on", "2026-07-14"],
        ["certificate_issued", "--on", "2026-07-20", "--kind", "advice_only"],
    ):
        assert cli("--as-of", AS_OF, "record", "M-0042", *args).code == 0
    body = json.loads(cli("--as-of", AS_OF, "show", "M-0042", "--json").out)
    windows = {w["window"]: w for w in body["windows"]}
    assert windows["tribunal_appeal"]["due_on"] == "2026-09-01"
    assert windows["tribunal_appeal"]["status"] == "open"
    assert windows["tribunal_appeal"]["kpi"] is False
    assert windows["reg33_contact"]["due_on"] == "2026-08-10"
    assert {c["clock"] for c in body["clocks"]} == {"kpi2", "kpi4", "kpi5"}  # no window among the clocks
    text = cli("--as-of", AS_OF, "show", "M-0042").out
    assert "Appeal to the First-tier Tribunal" in text
    assert "2026-09-01" in text
    explained = cli("--as-of", AS_OF, "show", "M-0042", "--explain", "tribunal_appeal")
    assert explained.code == 0
    assert "2026-07-20 + 1 calendar month = 2026-08-20" in explained.out
    assert "rule 12(3)" in explained.out
    assert "in August" in explained.out
    assert explained.out.rstrip().endswith("due 2026-09-01")
    steps = json.loads(cli("--as-of", AS_OF, "show", "M-0042", "--explain", "tribunal_appeal", "--json").out)
    assert [s["kind"] for s in steps][-3:] == ["later_of", "moved", "due"]
    assert steps[-1]["on"] == "2026-09-01"


def test_opening_after_the_reg_33_window_warns(cli) -> None:
    opened = _open(cli, decision="2026-03-02", on="2026-06-15")
    assert opened.code == 0
    assert "reg 33 window closed on 2026-05-02" in opened.err
    assert "Ava" not in opened.err
    body = json.loads(cli("--as-of", AS_OF, "show", "M-0042", "--json").out)
    reg33 = next(w for w in body["windows"] if w["window"] == "reg33_contact")
    assert reg33["opened_after"] is True
    in_time = _open(cli, ref="M-0043", decision="2026-05-02", on="2026-06-15")
    assert in_time.code == 0
    assert "reg 33" not in in_time.err


def test_explain_a_working_day_clock_names_each_day_skipped(cli, tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[calendar]\nextra_closures = [2026-04-08]\n", encoding="utf-8")
    monkeypatch.setenv("CASECLOCK_CONFIG", str(config))
    assert cli("--as-of", "2026-04-10", "open", "M-1", "--type", "mediation", "--on", "2026-04-02").code == 0
    assert (
        cli("--as-of", "2026-04-10", "record", "M-1", "mediation_requested", "--on", "2026-04-02").code == 0
    )
    result = cli("--as-of", "2026-04-10", "show", "M-1", "--explain", "kpi2", "--json")
    assert result.code == 0, result.err
    steps = json.loads(result.out)
    assert steps[0]["kind"] == "trigger"
    assert steps[0]["on"] == "2026-04-02"
    assert "3 working days after" in steps[1]["text"]
    assert "version 2025.1" in steps[1]["text"]
    days = {s["on"]: (s["kind"], s["reason"], s["text"]) for s in steps[2:-1]}
    assert days["2026-04-03"][:2] == ("skipped", "bank_holiday")
    assert "Good Friday" in days["2026-04-03"][2]
    assert days["2026-04-04"][:2] == ("skipped", "weekend")
    assert days["2026-04-06"][:2] == ("skipped", "bank_holiday")
    assert "Easter Monday" in days["2026-04-06"][2]
    assert days["2026-04-08"][:2] == ("skipped", "closure")
    assert [d for d, v in days.items() if v[0] == "counted"] == ["2026-04-07", "2026-04-09", "2026-04-10"]
    shown = json.loads(cli("--as-of", "2026-04-10", "show", "M-1", "--json").out)
    kpi2 = next(c for c in shown["clocks"] if c["clock"] == "kpi2")
    assert steps[-1] == {"kind": "due", "on": kpi2["due_on"], "reason": None, "text": "due 2026-04-10"}
    calendar_days = cli("--as-of", "2026-04-10", "show", "M-1", "--explain", "kpi5")
    assert "no days are skipped" in calendar_days.out
    assert calendar_days.out.rstrip().endswith("due 2026-05-02")


def test_explain_an_unknown_clock_is_refused_with_a_suggestion(cli) -> None:
    assert _open(cli).code == 0
    result = cli("--as-of", AS_OF, "show", "M-0042", "--explain", "kpi22")
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert "--explain=kpi22" in result.err
    assert "did you mean" in result.err
    not_started = cli("--as-of", AS_OF, "show", "M-0042", "--explain", "kpi4")
    assert not_started.code == 2
    assert "has not started" in not_started.err


# ------------------------------------------------------------------ the explanation is the calendar's count


@settings(max_examples=300, deadline=None)
@given(trigger=st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)), n=st.integers(0, 25))
def test_the_counted_days_end_at_the_due_date(trigger: dt.date, n: int) -> None:
    calendar = WorkingCalendar([dt.date(2026, 4, 8), dt.date(2031, 12, 29)])
    after = calendar.counting_after(trigger, n)
    counted = [d.day for d in after if d.number is not None]
    assert len(counted) == n
    if n:
        assert counted[-1] == after[-1].day == calendar.working_days_after(trigger, n)
    for day in after:
        assert (day.number is None) == (not naive_working(day.day) or day.day in calendar.extra_closures)
    before = calendar.counting_before(trigger, n)
    counted = [d.day for d in before if d.number is not None]
    assert len(counted) == n
    if n:
        assert counted[-1] == before[-1].day == calendar.working_days_before(trigger, n)


@settings(max_examples=300, deadline=None)
@given(
    trigger=st.dates(dt.date(2000, 1, 1), dt.date(2100, 10, 31)),
    meeting_in=st.integers(0, 60),
    clock=st.sampled_from(sorted(PACK.clocks)),
)
def test_every_clock_explained_ends_at_its_due_date(trigger: dt.date, meeting_in: int, clock: str) -> None:
    from tracker.domain.clocks import due_date, explain_due

    spec = PACK.clocks[clock]
    calendar = WorkingCalendar([dt.date(2026, 4, 8)])
    data = {"meeting_date": (trigger + dt.timedelta(days=meeting_in)).isoformat()}
    steps = explain_due(spec, calendar, trigger, data)
    due = due_date(spec, calendar, trigger, data)
    assert steps[-1].kind == "due"
    assert steps[-1].on == due
    counted = [s.on for s in steps if s.kind == "counted"]
    assert len(counted) == (spec.due.working_days_after or spec.due.working_days_before or 0)
    if counted:
        assert counted[-1] == due


def test_the_windows_never_alert_the_provider(cli, tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[webhooks]]\nname = "team"\nurl = "https://example.invalid/hook"\n', encoding="utf-8")
    monkeypatch.setenv("CASECLOCK_CONFIG", str(config))
    assert _open(cli, decision="2026-06-03", on="2026-07-01").code == 0  # reg 33 window: 3 Aug
    assert cli("--as-of", AS_OF, "record", "M-0042", "mediation_requested", "--on", "2026-07-30").code == 0
    checked = cli("--as-of", AS_OF, "check", "--dry-run", "--json")
    assert checked.code == 0, checked.err
    queued = json.loads(checked.out)["would_queue"]
    assert {alert["clock"] for alert in queued} == {"kpi2"}  # due 4 Aug: warned; reg 33 closes today
    body = json.loads(cli("--as-of", AS_OF, "show", "M-0042", "--json").out)
    assert next(w for w in body["windows"] if w["window"] == "reg33_contact")["days_left"] == 0
