"""The parent's windows: the tribunal appeal deadline and the reg 33 contact window.

A window is information for the parent or young person, never a KPI: it is not a clock, so it never
enters KPI figures, exports, compliance percentages or the provider's alerts. The rule pack defines each
one (`[windows.*]`: calendar months after a date case field or an event, the later of several, then moved
by the tribunal's rules); this module evaluates them for a case, with the steps that explain the date. The
month arithmetic and the tribunal's moving rules live in the calendar (`add_months`,
`WorkingCalendar.tribunal_limit`).

`appeal_deadline` is the one function to print the tribunal deadline anywhere (a certificate, a letter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tracker.domain.calendar import WorkingCalendar, add_months
from tracker.domain.clocks import Step
from tracker.domain.rules import FieldType, RulePack, WindowSpec
from tracker.domain.workflow.state import CaseState, Rules


@dataclass(frozen=True, slots=True)
class WindowView:
    """A window of one case: its date (None while a date it counts from is not recorded) and the why."""

    window: str
    title: str
    help: str
    due_on: dt.date | None
    waiting_for: tuple[str, ...]
    """The date case fields or events not recorded yet that the date needs."""
    opened_after: bool
    """The case was opened after the window closed (and the pack asks to warn of it)."""
    warning: str | None
    steps: tuple[Step, ...]

    def status(self, as_of: dt.date) -> str:
        """`waiting` (a date it needs is missing), `open` (on or before the date) or `passed`."""
        if self.due_on is None:
            return "waiting"
        return "open" if as_of <= self.due_on else "passed"

    def as_json(self, as_of: dt.date) -> dict[str, object]:
        """The window as in `show --json` (`windows`)."""
        return {
            "window": self.window,
            "title": self.title,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "status": self.status(as_of),
            "days_left": (self.due_on - as_of).days if self.due_on else None,
            "waiting_for": list(self.waiting_for),
            "opened_after": self.opened_after,
            "warning": self.warning,
            "kpi": False,
        }


def case_dates(pack: RulePack, state: CaseState) -> dict[str, dt.date]:
    """The dates a window may count from: each date case field's value and each event type's first date."""
    dates = {event: min(days) for event, days in state.happened.items() if days}
    for name, spec in pack.case_fields.items():
        value = state.fields.get(name)
        if spec.type is FieldType.DATE and isinstance(value, str) and value:
            dates[name] = dt.date.fromisoformat(value)
    return dates


def window_due(
    spec: WindowSpec,
    dates: Mapping[str, dt.date],
    calendar: WorkingCalendar,
    label: Callable[[str], str] = lambda name: name.replace("_", " "),
) -> tuple[dt.date | None, tuple[Step, ...], tuple[str, ...]]:
    """(the window's date, the steps that give it, the dates still missing) from the dates it counts from.

    Each term is calendar months after its date (`add_months`); the latest wins; then the tribunal's rules
    move it where the pack says so, on the statutory calendar (a provider's closures do not move them).
    """
    steps: list[Step] = []
    ends: list[dt.date] = []
    waiting: list[str] = []
    for term in spec.due.later_of:
        start = dates.get(term.source)
        if start is None:
            waiting.append(term.source)
            steps.append(Step("waiting", f"{label(term.source)}: not recorded yet"))
            continue
        end = add_months(start, term.months_after)
        months = f"{term.months_after} calendar month{'s' if term.months_after != 1 else ''}"
        steps.append(
            Step("months", f"{label(term.source)} {start.isoformat()} + {months} = {end.isoformat()}", end)
        )
        ends.append(end)
    if waiting:
        return None, tuple(steps), tuple(waiting)
    limit = max(ends)
    if len(ends) > 1:
        steps.append(
            Step("later_of", f"the later of {', '.join(d.isoformat() for d in ends)}: {limit}", limit)
        )
    due = limit
    if spec.due.move != "none":
        statutory = calendar.statutory()
        move = statutory.tribunal_limit(limit, sen=spec.due.move == "tribunal_sen")
        if move is None:
            steps.append(Step("note", f"{limit.isoformat()} is a working day: not moved", limit))
        else:
            steps.append(Step("moved", f"{move.rule}: {move.words}", limit, move.rule))
            steps += [Step("skipped", f"skipped: {day.why}", day.day, day.skipped) for day in move.skipped]
            due = move.met_on
    steps.append(Step("due", f"due {due.isoformat()}", due))
    return due, tuple(steps), ()


def case_windows(rules: Rules, state: CaseState) -> list[WindowView]:
    """The windows of the case's pack that apply to its type, evaluated from its dates."""
    pack = rules.pack(state)
    dates = case_dates(pack, state)
    views = []
    for name, spec in pack.windows.items():
        if spec.case_types is not None and state.case_type not in spec.case_types:
            continue
        due, steps, waiting = window_due(spec, dates, rules.calendar, _labeller(pack))
        opened_after = bool(spec.warn_if_opened_after) and due is not None and state.opened_on > due
        warning = (
            (spec.warn_if_opened_after or "").replace("{due}", due.isoformat())
            if opened_after and due
            else None
        )
        views.append(WindowView(name, spec.title, spec.help, due, waiting, opened_after, warning, steps))
    return views


def window_warnings(rules: Rules, state: CaseState) -> list[str]:
    """The warnings of a case's windows (opened after the reg 33 window closed)."""
    return [view.warning for view in case_windows(rules, state) if view.warning]


def appeal_deadline(
    rules: Rules, state: CaseState, also: Mapping[str, dt.date] | None = None
) -> dt.date | None:
    """The tribunal appeal deadline of a case, as printed on its mediation certificate.

    The pack's window marked `on_certificate`, from the case's dates and `also` (dates of events not
    recorded yet, such as `{"certificate_issued": day}` while the certificate is being written). None when
    the pack has no such window or a date it needs is missing (no decision letter date recorded).
    """
    pack = rules.pack(state)
    spec = next((w for w in pack.windows.values() if w.on_certificate), None)
    if spec is None:
        return None
    due, _steps, _waiting = window_due(spec, {**case_dates(pack, state), **(also or {})}, rules.calendar)
    return due


def _labeller(pack: RulePack) -> Callable[[str], str]:
    def label(name: str) -> str:
        field = pack.case_fields.get(name)
        if field is not None:
            return field.label(name)
        return pack.label(name)

    return label
