"""Disclosure control (DOMAIN.md "Reporting a period", small numbers): `tracker.domain.compliance.disclosure`.

The rules on hand-built counts, the results withheld over few people, rounding, the config and the command,
and over every breakdown of every period of a demo service: no hidden count can be worked out from the
counts shown and the total.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from tests.alert_servers import write_config
from tests.test_compliance import PACK_ID, RULES, Case, half_year_cases
from tracker.cli.demo import generate
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.compliance import (
    HIDDEN,
    NO_DISCLOSURE,
    SUPPRESS,
    SUPPRESSED,
    ComplianceReport,
    Disclosure,
    protect,
    report_json,
)
from tracker.domain.compliance.facts import case_facts, report_from_facts
from tracker.domain.compliance.shape import small_numbers_note
from tracker.domain.config import parse_config
from tracker.domain.errors import ConfigError
from tracker.domain.periods import Period, parse_period
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules
from tracker.exporters import json_text
from tracker.exporters.sheets import sheets

D = dt.date.fromisoformat
BOTH = Rules(discover_packs(enabled=["send-mediation", "adoption-support"]), WorkingCalendar())
AS_OF = D("2026-10-05")


# ------------------------------------------------------------------------------- what a reader can work out


def reader_ranges(shown: Sequence[int | str], total: int, threshold: int = 5) -> dict[int, tuple[int, int]]:
    """For each hidden count, the lowest and highest value consistent with what is published.

    Written apart from `tracker.domain.compliance.disclosure._ranges`: every value of each hidden count is
    tried. A reader knows the total, the counts shown, that "<5" is 1-4 (0-4 when no count above 0 is shown:
    a 0 may be hidden then) and that "[c]" is at least 5 and at most the smallest count above 0 shown.
    """
    shown_above_zero = [c for c in shown if isinstance(c, int) and c > 0]
    rest = total - sum(c for c in shown if isinstance(c, int))
    floor = 1 if shown_above_zero else 0
    ceiling = min(shown_above_zero, default=rest)
    domains = {
        i: range(floor, threshold) if c == f"<{threshold}" else range(threshold, ceiling + 1)
        for i, c in enumerate(shown)
        if isinstance(c, str)
    }
    low = {i: min(d) for i, d in domains.items()}
    high = {i: max(d) for i, d in domains.items()}
    found = {}
    for i, domain in domains.items():
        others_low = sum(low.values()) - low[i]
        others_high = sum(high.values()) - high[i]
        possible = [v for v in domain if others_low <= rest - v <= others_high]
        found[i] = (min(possible), max(possible))
    return found


def assert_not_derivable(shown: Sequence[int | str], total: int, threshold: int = 5, what: str = "") -> None:
    """No hidden count of a breakdown can be worked out exactly from the counts shown and the total."""
    hidden = [c for c in shown if isinstance(c, str)]
    if not hidden:
        return
    assert len(hidden) >= 2, f"{what}: one hidden count is the total less the others: {shown}, {total}"
    if len(hidden) == len(shown) and total == len(shown) * (threshold - 1):
        return  # the one case hiding cannot cover with an exact total: every count hidden, each 4 (4 + 4 = 8)
    for index, (low, high) in reader_ranges(shown, total, threshold).items():
        assert low < high, f"{what}: count {index} of {shown} (total {total}) can only be {low}"


# ------------------------------------------------------------------------------- the rules, by hand


def test_a_count_the_total_gives_away_is_hidden_with_the_next_smallest() -> None:
    # FY2025 gender: female 300, male 256, non-binary 4; the total 560 is exact, so 560 - 556 = 4
    shown = protect([300, 256, 4], SUPPRESS)
    assert shown == (300, HIDDEN, SUPPRESSED)
    assert reader_ranges(shown, 560) == {1: (256, 259), 2: (1, 4)}
    assert_not_derivable(shown, 560)
    assert protect([300, 256, 4], NO_DISCLOSURE) == (300, 256, 4)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([40, 30, 20], (40, 30, 20)),  # nothing small: nothing hidden
        ([3, 4, 100], ("<5", "<5", 100)),  # two small ones: 3 + 4 = 7, each still 3 or 4
        ([4, 4, 100], ("<5", "<5", HIDDEN)),  # two 4s: 8 could only be 4 + 4
        ([4, 5, 5, 100], ("<5", HIDDEN, HIDDEN, 100)),  # a tie: the second 5 would bound the first
        ([1, 0, 0, 50, 60], ("<5", 0, 0, HIDDEN, 60)),  # zeros are shown, and never stand in for a count
        ([3, 0, 0], ("<5", "<5", 0)),  # 3 is the total: a 0 is hidden beside it (0 is fewer than 5)
        ([9, 1], (HIDDEN, "<5")),
        ([0, 0, 0], (0, 0, 0)),
        ([3], (3,)),  # a breakdown of one row is its total
        ([1, 1, 1, 1, 10], ("<5", "<5", "<5", "<5", HIDDEN)),  # four hidden counts of 4 are four 1s
    ],
)
def test_secondary_suppression(counts: list[int], expected: tuple[int | str, ...]) -> None:
    shown = protect(counts, SUPPRESS)
    assert shown == expected
    if len(counts) > 1:
        assert_not_derivable(shown, sum(counts))


def test_the_threshold_is_configurable() -> None:
    ten = Disclosure("suppress", 10)
    assert protect([9, 30, 40], ten) == ("<10", HIDDEN, 40)
    assert_not_derivable(protect([9, 30, 40], ten), 79, 10)
    assert [ten.small(n) for n in (0, 1, 9, 10)] == [False, True, True, False]
    with pytest.raises(ValueError, match="threshold 1 is not from 2 to 100"):
        Disclosure("suppress", 1)
    with pytest.raises(ValueError, match="unknown disclosure method 'hide'"):
        Disclosure("hide")  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 14), min_size=2, max_size=5))
def test_no_hidden_count_can_be_worked_out(counts: list[int]) -> None:
    shown = protect(counts, SUPPRESS)
    total = sum(counts)
    for count, cell in zip(counts, shown, strict=True):
        if 1 <= count <= 4:
            assert cell == SUPPRESSED  # every small count is hidden
        elif isinstance(cell, int):
            assert cell == count
    assert_not_derivable(shown, total)
    # and by brute force: every assignment of the hidden counts within what their symbols say
    hidden = [i for i, c in enumerate(shown) if isinstance(c, str)]
    if not hidden or (len(hidden) == len(shown) and total == 4 * len(shown)):
        return
    rest = total - sum(c for c in shown if isinstance(c, int))
    above_zero = [c for c in shown if isinstance(c, int) and c > 0]
    small = range(1 if above_zero else 0, 5)
    large = range(5, min(above_zero, default=rest) + 1)
    domains = [small if shown[i] == SUPPRESSED else large for i in hidden]
    seen: dict[int, set[int]] = {i: set() for i in hidden}
    for values in itertools.product(*domains):
        if sum(values) == rest:
            for i, v in zip(hidden, values, strict=True):
                seen[i].add(v)
    assert all(len(values) >= 2 for values in seen.values()), (counts, shown, seen)
    assert all(counts[i] in seen[i] for i in hidden)  # the truth is among them


def test_rounding_to_the_nearest_5() -> None:
    rounding = Disclosure("round")
    assert [rounding.rounded(n) for n in range(13)] == [0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 10, 10, 10]
    assert protect([300, 256, 4], rounding) == (300, 255, 5)
    assert (rounding.total(560), rounding.total(563)) == (560, 565)  # totals rounded on their own
    assert Disclosure("round", 10).rounded(5) == 10  # an even threshold: a half goes up


# ------------------------------------------------------------------------------- a report


def half_year(disclosure: Disclosure) -> ComplianceReport:
    cases: list[Case] = half_year_cases()
    period = parse_period("FY2026-H1")
    pack = RULES.packs.in_force(PACK_ID, period.end)
    facts = [case_facts(pack, c.state, c.events) for c in cases]
    return report_from_facts(pack, period, AS_OF, facts, disclosure=disclosure)


def test_results_of_fewer_than_5_people_are_withheld_and_not_rated() -> None:
    exact, withheld = half_year(NO_DISCLOSURE), half_year(SUPPRESS)
    assert exact.satisfaction is not None
    assert withheld.satisfaction is not None
    assert (exact.satisfaction.percent, exact.satisfaction.rag) == (75.0, "red")  # 3 of 4
    sat = withheld.satisfaction
    assert (sat.responses, sat.agree, sat.percent, sat.met_target, sat.rag, sat.suppressed) == (
        4,
        HIDDEN,
        None,
        None,
        None,
        True,
    )
    assert all(q.suppressed and q.percent is None for q in withheld.questions)
    step = next(t for t in withheld.referrals.times if t.event == "la_notified")
    assert (step.cases, step.median_days, step.mean_days, step.max_days, step.suppressed) == (
        4,
        None,
        None,
        None,
        True,
    )
    assert all(w.suppressed for w in withheld.waiting_times if 0 < w.stopped < 5)
    april = withheld.trend[0].kpis["kpi1"]
    assert april == (HIDDEN, 1, None)
    # counts of clocks are not people in a breakdown: exact
    assert withheld.kpis == exact.kpis
    assert withheld.referrals.received == exact.referrals.received


def test_every_export_shows_what_was_withheld() -> None:
    report = half_year(SUPPRESS)
    layout = {sheet.slug: sheet for sheet in sheets(report)}
    summary = layout["summary"]
    kpi1 = next(row for row in summary.rows if row[0] == "KPI 1")
    assert (kpi1[3], kpi1[4]) == (HIDDEN, "")
    assert dict(summary.about)["Small numbers"].startswith('counts of 1 to 4 people shown as "<5"')
    notes = dict((row[0], row[1]) for row in layout["notes"].rows)
    assert notes["Small numbers"] == small_numbers_note(SUPPRESS)
    assert "next-smallest" in str(notes["Small numbers"])
    referrals = [row for row in layout["referrals"].rows if row[0] == "Days from referral to"]
    assert referrals[0][3:] == [HIDDEN, HIDDEN, HIDDEN]
    body = json.loads(json_text(report))
    assert body["referrals"]["days_to"]["la_notified"] == {
        "cases": 4,
        "median": None,
        "mean": None,
        "max": None,
        "suppressed": True,
    }
    assert body["disclosure"] == {"method": "suppress", "threshold": 5}


def test_every_format_writes_a_report_with_withheld_figures(tmp_path: Path) -> None:
    from tracker.exporters import write

    for disclosure in (SUPPRESS, Disclosure("round"), NO_DISCLOSURE):
        report = half_year(disclosure)
        for fmt in ("xlsx", "csv", "html", "json"):
            path = tmp_path / f"{disclosure.method}.{fmt}"
            write(report, fmt, path)
            assert path.stat().st_size > 0
    html = (tmp_path / "suppress.html").read_text(encoding="utf-8")
    assert "withheld: too few responses" in html
    assert "[c]" in html


def test_rounding_a_report() -> None:
    report = half_year(Disclosure("round"))
    exact = half_year(NO_DISCLOSURE)
    for shown, counted in zip(every_breakdown(report, exact), every_breakdown(exact, exact), strict=True):
        assert all(isinstance(c, int) and c % 5 == 0 for c in shown[1]), shown
        assert shown[2] == Disclosure("round").rounded(counted[2])
    assert report.satisfaction is not None
    assert report.satisfaction.suppressed  # 4 surveys
    assert "rounded to the nearest 5" in small_numbers_note(report.disclosure)


# ------------------------------------------------------------------------------- config and command


def test_the_disclosure_section_of_the_config(tmp_path: Path) -> None:
    settings_ = parse_config({"disclosure": {"method": "round", "threshold": 10}}, tmp_path / "c.toml")
    assert (settings_.disclosure.method, settings_.disclosure.threshold) == ("round", 10)
    assert parse_config({}, tmp_path / "c.toml").disclosure.method == "suppress"
    with pytest.raises(ConfigError, match=r"disclosure\.method: 'none' is not allowed"):
        parse_config({"disclosure": {"method": "none"}}, tmp_path / "c.toml")  # --no-suppression only
    with pytest.raises(ConfigError, match=r"disclosure\.threshold"):
        parse_config({"disclosure": {"threshold": 1}}, tmp_path / "c.toml")


def test_export_applies_the_configured_method(cli, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", '[disclosure]\nmethod = "round"\n')
    rounded = json.loads(
        cli("--config", str(config), "export", "--period", "2026-05", "--format", "json").out
    )
    assert rounded["disclosure"] == {"method": "round", "threshold": 5}
    plain = cli(
        "--config", str(config), "export", "--period", "2026-05", "--format", "json", "--no-suppression"
    )
    assert json.loads(plain.out)["disclosure"] == {"method": "none", "threshold": 5}
    assert json.loads(cli("export", "--period", "2026-05", "--format", "json").out)["suppression"] is True


# ------------------------------------------------------------------------------- every demo period


def every_breakdown(
    report: ComplianceReport, exact: ComplianceReport
) -> Iterator[tuple[str, list[int | str], int]]:
    """(name, counts as shown, total) of each breakdown of people in the report (`exact`: the same report
    without disclosure control, for the totals a report does not show)."""
    referrals = report.referrals
    for breakdown in (referrals.by_type, *referrals.breakdowns, *referrals.outcomes, *report.profile):
        yield breakdown.key, [count for _value, _label, count in breakdown.rows], breakdown.total
    if report.satisfaction_groups:
        yield (
            "satisfaction groups",
            [g.responses for g in report.satisfaction_groups],
            (report.satisfaction_responses),
        )
        keys = [g.key for g in report.satisfaction_groups]
        for month, counted in zip(report.trend, exact.trend, strict=True):  # each group's responses by month
            total = sum(int(counted.kpis[key][1]) for key in keys)
            yield f"satisfaction groups {month.period.name}", [month.kpis[key][1] for key in keys], total


def demo_periods() -> list[Period]:
    names = [f"FY{year}-{part}" for year in (2025, 2026) for part in ("Q1", "Q2", "Q3", "Q4", "H1", "H2")]
    names += ["FY2025", "FY2026"]
    names += [f"{year}-{month:02d}" for year, month in itertools.product((2025, 2026), range(1, 13))]
    names += ["2027-01", "2027-02", "2027-03"]
    return [parse_period(name) for name in names]


def test_no_suppressed_count_of_any_demo_period_can_be_worked_out(engine: Engine) -> None:
    from tracker.reports.report import compliance_report
    from tracker.store import Store

    store = Store(engine, BOTH)
    now = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
    store.import_histories(list(generate(BOTH, 400, 11, AS_OF, now)), now)
    hidden_anywhere = 0
    for pack_id in ("send-mediation", "adoption-support"):
        for period in demo_periods():
            report = compliance_report(store, pack_id, period, AS_OF)
            exact = compliance_report(store, pack_id, period, AS_OF, disclosure=NO_DISCLOSURE)
            body = json.loads(json_text(report))
            for (name, shown, total), (_name, counted, exact_total) in zip(
                every_breakdown(report, exact), every_breakdown(exact, exact), strict=True
            ):
                what = f"{pack_id} {period.name} {name}"
                assert total == exact_total == sum(c for c in counted if isinstance(c, int)), what
                assert_not_derivable(shown, total, what=what)
                for cell, count in zip(shown, counted, strict=True):
                    assert cell == count or (isinstance(cell, str) and isinstance(count, int)), what
                    assert cell != SUPPRESSED or 0 <= count <= 4, what  # "<5" is never more than 4
                    assert cell != HIDDEN or (isinstance(count, int) and count >= 5), what
                hidden_anywhere += sum(isinstance(c, str) for c in shown)
            # the JSON says the same
            referrals = body["referrals"]
            assert referrals["by_type"] == report.referrals.by_type.as_dict()
            for breakdown in report.referrals.breakdowns:
                assert referrals[f"by_{breakdown.key}"] == breakdown.as_dict()
            assert referrals["outcomes"] == {b.key: b.as_dict() for b in report.referrals.outcomes}
            assert body["profile"] == {b.key: b.as_dict() for b in report.profile}
            assert body == report_json(report)
            for result in [*report.satisfaction_kpis, *report.questions]:
                if result is not None and isinstance(result.responses, int) and 0 < result.responses < 5:
                    assert (result.percent, result.rag, result.suppressed) == (None, None, True)
    assert hidden_anywhere > 100  # the months of a small service hide a lot
