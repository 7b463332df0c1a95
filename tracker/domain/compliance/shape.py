"""The compliance report as CONTRACT.md's JSON, and the counting rules in words for every export's Notes.

Called by `caseclock export --format json`, by the other exporters (which compare with it in the tests) and
by anything that wants the figures as plain data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from tracker.domain.clocks import ClockStatus
from tracker.domain.compliance.disclosure import HIDDEN, SUPPRESS, Disclosure
from tracker.domain.compliance.flow import Spread
from tracker.domain.compliance.model import (
    AMBER_BAND,
    Breakdown,
    ClockLine,
    ComplianceReport,
    SurveyResult,
)
from tracker.domain.compliance.staff import caseworkers_json

SMALL_NUMBERS = "Small numbers"
"""The term of `COUNTING_RULES` that `small_numbers_note` words for a report's own disclosure control."""


def small_numbers_note(disclosure: Disclosure) -> str:
    """The disclosure control applied, in words (`tracker.domain.compliance.disclosure`)."""
    few, marker = disclosure.threshold, disclosure.primary_marker
    withheld = (
        f'A percentage, median or other figure over fewer than {few} people is withheld ("{HIDDEN}") and '
        "not RAG-rated."
    )
    if disclosure.method == "none":
        return "Not applied: every count is shown as it is. For the provider's own use only."
    if disclosure.method == "round":
        return (
            f"Every count in a breakdown of people, and its total independently, is rounded to the nearest "
            f"{few} (0 to {(few - 1) // 2} show as 0), so the rounded counts need not add up to the total. "
            "Referrals received, survey responses and KPI counts (counts of deadlines, not of people) are "
            f"exact. {withheld}"
        )
    return (
        f'Counts of 1 to {few - 1} people in any breakdown of people are shown as "{marker}" so no one '
        "can be identified. Totals are exact, so where the total and the other counts would reveal a "
        f'hidden count, the next-smallest count above 0 is hidden too, as "{HIDDEN}", and so on until no '
        "hidden count can be worked out from the total and the counts shown (a 0 is hidden, as "
        f'"{marker}", only when every other count is). Survey responses and KPI counts (counts of '
        f"deadlines, not of people) are exact. {withheld}"
    )


COUNTING_RULES: tuple[tuple[str, str], ...] = (
    (
        "Period",
        "A clock belongs to the period that contains its due date, whatever day it stopped. Its status is "
        "taken as of the report's as-of date.",
    ),
    (
        "Statuses",
        "Met: the step was recorded on or before the due date. Breached: recorded after it, or not "
        "recorded and the as-of date is after it. Running: not recorded and not yet due. Excepted: an "
        "agreed exception with an allowed reason was recorded while the clock ran. Cancelled: superseded "
        "by a new start (a rescheduled date) or no longer needed (e.g. the case was withdrawn) before "
        "it was due.",
    ),
    (
        "KPI %",
        "Met / (met + breached), rounded half-up to one decimal; 100.0% only when every clock was met (a "
        "result just short of 100, such as 9,999 of 10,000, shows 99.9%). Excepted, running and cancelled "
        "clocks are listed and counted but are not in the percentage. No met or breached clock: no data "
        "(never 0% or 100%).",
    ),
    (
        "Target and RAG",
        "Judged on the result as shown, to one decimal: target met when the result shown is at or above "
        "the target (89.96% shows 90.0% and meets a 90% target; 99.96% shows 99.9% and does not meet "
        f"100%). Green: target met. Amber: below the target by at most {AMBER_BAND:g} percentage points. "
        "Red: further below. No rating when there is no data or no target.",
    ),
    (
        "Satisfaction",
        "Surveys dated in the period. For each question: the answers agreeing (strongly agree or agree) "
        "as a share of the surveys that answered that question; a question left out was not answered. "
        "Where the contract sets the measure for each group of service users (adoptive parents, birth "
        "parents, adopted adults), each group is a KPI of its own, judged against the target on the "
        "surveys of that group's cases; no combined result is rated, and the responses of all groups "
        "together are a count only. Comments are counted, never exported.",
    ),
    (
        "Referrals and profile",
        "The cases opened in the period. Time from referral: calendar days from the case being opened "
        "to the first time each step was recorded. Interface with other professionals: the referrals "
        "with each professional or agency involved; a referral may involve several, so these need not add "
        "up to the referrals received.",
    ),
    (
        "Outcomes",
        "An exit reason, a meeting's outcome, a certificate's kind: the cases with a step that records "
        "the outcome dated in the period, whenever the case was opened; each case once, with the value "
        "of its last such step (by date, then the order recorded). A step that requires the outcome but "
        "was recorded without it counts as not recorded; a step where it is optional and left out (a "
        "mediation case's closing) does not count. So the exit reasons add up to the cases exited in the "
        "period (Flow).",
    ),
    (
        "Flow",
        "For each step the contract lists (referral received, assessed, ...): the cases with that step "
        "dated in the period.",
    ),
    (
        "Activities",
        "The sessions dated in the period, by type of activity: sessions, total and mean length in "
        "minutes, and sessions by mode. Frequency: sessions per case that had at least one session in the "
        "period (mean and median).",
    ),
    (
        "Waiting times",
        "For each clock: the clocks stopped in the period, from the day the clock started to the day it "
        "stopped, in calendar days and in working days (the working days after the start, up to and "
        "including the stop day). Median; 90th percentile by the nearest-rank method (the value at rank "
        "ceil(0.9 x n) when the n waits are sorted in ascending order); longest. Still waiting: the clocks "
        "started but neither stopped nor ended on the period's last day (or the as-of date, if earlier), "
        "with the longest wait so far.",
    ),
    (SMALL_NUMBERS, small_numbers_note(SUPPRESS)),
    (
        "Privacy",
        "Cases are named by their reference only: no names, contact details, notes, comments or other "
        "free text appear in this report. Caseworker (staff) names stay with the provider: they appear "
        "only in the provider's own copy, never in a commissioner's.",
    ),
)
"""(term, definition): the rules of DOMAIN.md 'Reporting a period' in words, for the Notes of every export."""


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _question(result: SurveyResult) -> dict[str, Any]:
    return {
        "title": result.title,
        "responses": result.responses,
        "agree": result.agree,
        "percent": result.percent,
        "suppressed": result.suppressed,
    }


def _counts(breakdown: Breakdown) -> dict[str, Any]:
    return breakdown.as_dict()


def clock_json(line: ClockLine) -> dict[str, Any]:
    """One clock line as it appears in the JSON's `clocks` list."""
    return _clock_dicts((line,))[0]


def clock_chunks(lines: Iterable[ClockLine], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """The JSON's `clocks` list in chunks of `size` dicts, so a year's 200,000 are never all held at once."""
    iterator = iter(lines)
    while chunk := _clock_dicts(islice(iterator, size)):
        yield chunk


def _clock_dicts(lines: Iterable[ClockLine]) -> list[dict[str, Any]]:
    """Clock lines as JSON dicts (the hot loop of a year's export: no helper calls per line)."""
    found = []
    for (
        ref,
        clock,
        kpi,
        number,
        _version,
        starts,
        due,
        stopped,
        ended,
        ended_by,
        _excepted_on,
        reason,
        until,
        owner,
        status,
    ) in lines:
        found.append(
            {
                "ref": ref,
                "clock": clock,
                "kpi": kpi,
                "number": number,
                "starts_on": starts.isoformat(),
                "due_on": due.isoformat(),
                "stopped_on": stopped.isoformat() if stopped else None,
                "ended_on": ended.isoformat() if ended else None,
                "ended_by": ended_by,
                "status": status.value,
                # An exception recorded after the as-of date had not been recorded yet.
                "exception": None
                if status is not ClockStatus.EXCEPTED
                else {"reason": reason, "until": until.isoformat() if until else None},
                "caseworker": owner,
            }
        )
    return found


def report_json(report: ComplianceReport, *, clocks: bool = True) -> dict[str, Any]:
    """The report in CONTRACT.md's `export --format json` shape (plus a few extra keys).

    With `clocks=False` the `clocks` key holds None, in its place: a writer that streams the clock list
    (`tracker.exporters.write_json`) puts it there, chunk by chunk (`clock_chunks`).
    """
    kpis: dict[str, Any] = {}
    for sat in report.satisfaction_kpis:  # KPI 1, or one measure per group of service users
        kpis[sat.key] = {
            "kpi": sat.kpi,
            **_question(sat),
            **({"group": sat.group} if sat.group is not None else {}),
            "target": sat.target,
            "met_target": sat.met_target,
            "rag": sat.rag.value if sat.rag else None,
        }
    for kpi in report.kpis:
        kpis[kpi.key] = {
            "kpi": kpi.kpi,
            "title": kpi.title,
            "met": kpi.met,
            "breached": kpi.breached,
            "excepted": kpi.excepted,
            "running": kpi.running,
            "cancelled": kpi.cancelled,
            "total": kpi.total,
            "percent": kpi.percent,
            "target": kpi.target,
            "met_target": kpi.met_target,
            "rag": kpi.rag.value if kpi.rag else None,
        }
    referrals = report.referrals
    referral_json: dict[str, Any] = {"received": referrals.received}
    for breakdown in referrals.breakdowns:
        referral_json[f"by_{breakdown.key}"] = _counts(breakdown)
    referral_json["by_type"] = _counts(referrals.by_type)
    if (need := referrals.by_need) is not None:
        referral_json["by_need"] = _counts(need)  # also under its field's own `by_` key
    if (professionals := referrals.professionals) is not None:
        referral_json["professionals"] = _counts(professionals)  # referrals with each one involved
    referral_json["outcomes"] = {b.key: _counts(b) for b in referrals.outcomes}
    referral_json["days_to"] = {
        t.event: {
            "cases": t.cases,
            "median": t.median_days,
            "mean": t.mean_days,
            "max": t.max_days,
            "suppressed": t.suppressed,
        }
        for t in referrals.times
    }
    satisfaction: dict[str, Any] = {q.key: _question(q) for q in report.questions}
    satisfaction["comments"] = report.comments
    satisfaction["responses"] = report.satisfaction_responses  # every group together: a count, not rated
    return {
        "period": {
            "from": report.period.start.isoformat(),
            "to": report.period.end.isoformat(),
            "name": report.period.name,
        },
        "as_of": report.as_of.isoformat(),
        "known_on": report.known_on.isoformat() if report.known_on else None,
        "provisional": report.provisional,
        "report": {"service": report.service or report.pack_title, **{k: v for k, v in report.sender}},
        "pack": {
            "id": report.pack_id,
            "version": report.pack_version,
            "versions": list(report.pack_versions),
        },
        "suppression": report.suppressed,
        "disclosure": {"method": report.disclosure.method, "threshold": report.disclosure.threshold},
        "kpis": kpis,
        "clocks": [c for chunk in clock_chunks(report.clocks) for c in chunk] if clocks else None,
        "referrals": referral_json,
        "profile": {b.key: _counts(b) for b in report.profile},
        "satisfaction": satisfaction,
        "service_feedback": {
            f.event: {
                "count": f.count,
                **{b.key: _counts(b) for b in f.breakdowns},
                "items": [{"ref": i.ref, "on": i.on.isoformat(), **i.choices} for i in f.items],
            }
            for f in report.feedback
        },
        **_inputs_outputs(report),
        **caseworkers_json(report),
        "trend": [
            {
                "month": m.period.name,
                "from": m.period.start.isoformat(),
                "to": m.period.end.isoformat(),
                "referrals": m.referrals,
                "kpis": {key: {"n": n, "of": of, "percent": pct} for key, (n, of, pct) in m.kpis.items()},
            }
            for m in report.trend
        ],
    }


def _spread(spread: Spread | None) -> dict[str, Any] | None:
    return None if spread is None else {"median": spread.median, "p90": spread.p90, "longest": spread.longest}


def _inputs_outputs(report: ComplianceReport) -> dict[str, Any]:
    """The `flow`, `activities` and `waiting_times` keys."""
    activities: dict[str, Any] | None = None
    if (a := report.activities) is not None:
        activities = {
            "title": a.title,
            "sessions": a.sessions,
            "cases": a.cases,
            "minutes": a.minutes,
            "mean_minutes": a.mean_minutes,
            "sessions_per_case": {
                "mean": a.per_case_mean,
                "median": a.per_case_median,
                "suppressed": a.per_case_suppressed,
            },
            "by_type": {
                t.key: {
                    "title": t.title,
                    "sessions": t.sessions,
                    "minutes": t.minutes,
                    "mean_minutes": t.mean_minutes,
                    "by_mode": {mode: n for mode, _label, n in t.by_mode},
                }
                for t in a.types
            },
        }
    return {
        "flow": {f.event: {"title": f.title, "cases": f.cases} for f in report.flow},
        "activities": activities,
        "waiting_times": {
            w.clock: {
                "kpi": w.kpi,
                "title": w.title,
                "stopped": w.stopped,
                "calendar_days": _spread(w.calendar_days),
                "working_days": _spread(w.working_days),
                "suppressed": w.suppressed,
                "waiting": w.waiting,
                "longest_waiting": {
                    "calendar_days": w.longest_waiting_days,
                    "working_days": w.longest_waiting_working_days,
                    "suppressed": w.waiting_suppressed,
                },
            }
            for w in report.waiting_times
        },
    }
