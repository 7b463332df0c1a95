"""The service data of a compliance report, as text: referrals, flow, waiting times, satisfaction, profile.

The commissioner's export holds more than the KPIs (DOMAIN.md, "Reporting a period"); this panel shows
the same figures on the compliance screen, read from the same `ComplianceReport` (nothing is counted
here). Counts of people appear as the report shows them: "<5" or "[c]" where small numbers are suppressed,
and a figure over too few people as "withheld".
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from tracker.domain.compliance import Breakdown, ComplianceReport, Spread, SurveyResult
from tui.widgets.text_panel import TextPanel

__all__ = ["ServicePanel", "service_text"]


class ServicePanel(TextPanel):
    """The report's service data, scrolling when taller than the panel."""

    def show(self, report: ComplianceReport) -> None:
        """Show the service data of `report`."""
        self.update(service_text(report))


def service_text(report: ComplianceReport) -> Text:
    """Referrals, flow, waiting times, satisfaction, activities and the service users' profile."""
    text = Text()
    referrals = report.referrals
    _heading(text, f"Referrals: {referrals.received} received")
    by_need = [b for b in (referrals.by_need, referrals.professionals) if b is not None]
    _breakdowns(text, [referrals.by_type, *by_need, *referrals.outcomes])
    steps = [step for step in referrals.times if step.cases]
    if steps:
        _heading(text, "Days from referral (median, longest)")
        for step in steps:
            days = "withheld" if step.suppressed else f"{_number(step.median_days)}, {_number(step.max_days)}"
            text.append(f"  {step.title}: {days} ({_cases(step.cases)})\n")
    if report.flow:
        _heading(text, "Cases reaching each step")
        for count in report.flow:
            text.append(f"  {count.title}: {count.cases}\n")
    if report.waiting_times:
        at = min(report.period.end, report.as_of)
        _heading(text, "Waiting times, calendar days (median / 90th percentile / longest)")
        for wait in report.waiting_times:
            text.append(f"  {wait.kpi} {wait.title}: ", style="bold")
            spread = "withheld" if wait.suppressed else _spread(wait.calendar_days)
            text.append(f"{wait.stopped} stopped: {spread}\n")
            if wait.waiting:
                longest = (
                    "" if wait.longest_waiting_days is None else f", longest {wait.longest_waiting_days}"
                )
                text.append(f"    {wait.waiting} still waiting on {at.isoformat()}{longest}\n")
    questions = [
        q for q in report.questions if report.satisfaction is None or q.key != report.satisfaction.key
    ]
    if questions:
        _heading(text, "Satisfaction")
        for question in questions:
            text.append(f"  {question.title}: {_survey(question)}\n")
        if report.comments:
            text.append(f"  {report.comments} surveys with a comment\n")
    activities = report.activities
    if activities is not None:
        _heading(text, f"{activities.title}: {activities.sessions} sessions, {activities.cases} cases")
        for kind in activities.types:
            mean = "" if kind.mean_minutes is None else f", mean {kind.mean_minutes:g} min"
            text.append(f"  {kind.title}: {kind.sessions}{mean}\n")
    for summary in report.feedback:
        _heading(text, f"{summary.title}: {summary.count}")
        _breakdowns(text, summary.breakdowns)
    if report.profile:
        _heading(text, "Service users")
        _breakdowns(text, report.profile)
    if report.caseworkers:  # the provider's own view: staff names never leave it
        _heading(text, "Caseworkers: cases opened; clocks met, breached")
        for staff in report.caseworkers:
            rate = "" if staff.percent is None else f" ({staff.percent:g}%)"
            text.append(f"  {staff.name or 'No caseworker'}: ", style="bold")
            text.append(f"{staff.opened} opened; {staff.met} met, {staff.breached} breached{rate}\n")
    return text


def _heading(text: Text, words: str) -> None:
    if text:
        text.append("\n")
    text.append(f"{words}\n", style="bold")


def _breakdowns(text: Text, breakdowns: Iterable[Breakdown]) -> None:
    for breakdown in breakdowns:
        counted = [f"{label} {count}" for _value, label, count in breakdown.rows if count != 0]
        if counted:
            text.append(f"  {breakdown.title}: ", style="bold")
            text.append(", ".join(counted) + "\n")


def _spread(spread: Spread | None) -> str:
    if spread is None:
        return "no data"
    return f"{spread.median:g} / {spread.p90} / {spread.longest}"


def _number(days: float | int | None) -> str:
    return "no data" if days is None else f"{days:g}"


def _cases(count: int) -> str:
    return "1 case" if count == 1 else f"{count} cases"


def _survey(result: SurveyResult) -> str:
    if result.suppressed:
        return f"withheld ({result.responses} responses)"
    if result.percent is None:
        return f"no answers ({result.responses})"
    return f"{result.percent:g}% agree ({result.agree} of {result.responses})"
