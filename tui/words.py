"""Words and markers the screens show: urgency, working days left, field values, event details.

Pure functions over the domain's values, shared by the screens so a case reads the same everywhere. Urgency
is carried by a text marker as well as a colour (NO_COLOR, colour-blind users): `!!` breached, `!` due
within two working days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.events import REASON, VOIDS, Event
from tracker.domain.rules import ClockSpec, FieldSpec, FieldType, RulePack
from tracker.domain.workflow import CASE_TYPE_KEY

SOON_WORKING_DAYS = 2
"""A clock due within this many working days is "due soon"."""


class Urgency(StrEnum):
    """How urgent a case's next clock is; also the CSS class and the style of its row."""

    BREACHED = "breached"
    SOON = "soon"
    FINE = "fine"
    NONE = "none"


MARKERS = {Urgency.BREACHED: "!!", Urgency.SOON: "!", Urgency.FINE: "", Urgency.NONE: ""}
LEGEND = "!! overdue   ! due within 2 working days"


def urgency(due_on: dt.date | None, today: dt.date, calendar: WorkingCalendar) -> tuple[Urgency, int | None]:
    """The urgency of a clock due on `due_on` (None: no open clock) and its working days left."""
    if due_on is None:
        return Urgency.NONE, None
    left = calendar.working_days_between(today, due_on)
    if today > due_on:
        return Urgency.BREACHED, left
    if left <= SOON_WORKING_DAYS:
        return Urgency.SOON, left
    return Urgency.FINE, left


def days_left(left: int | None, breached: bool = False, *, working: bool = True) -> str:
    """Days left in the clock's own unit: "3 working days", "5 days", "today", "2 working days late"."""
    if left is None:
        return ""
    if breached or left < 0:
        late = max(-left, 0)
        return f"{_days(late, working)} late" if late else "late"
    if left == 0:
        return "today"
    return _days(left, working)


def _days(count: int, working: bool) -> str:
    unit = "working day" if working else "day"
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def counts_working_days(clock: ClockSpec | None) -> bool:
    """Whether a clock is due a number of working days from its start (KPI 2-4), not calendar days (KPI 5)."""
    return clock is None or clock.due.calendar_days_after is None


def time_left(
    due_on: dt.date | None, today: dt.date, calendar: WorkingCalendar, clock: ClockSpec | None
) -> tuple[Urgency, str]:
    """The urgency of a clock due on `due_on` and the time left in words, counted as the clock counts.

    The markers always count working days ("due within 2 working days"); the words count the clock's own
    days, so a 30-calendar-day clock says "5 days" where a working-day clock says "5 working days"."""
    level, left = urgency(due_on, today, calendar)
    working = counts_working_days(clock)
    if due_on is not None and not working:
        left = (due_on - today).days
    return level, days_left(left, level is Urgency.BREACHED, working=working)


def value_words(pack: RulePack, spec: FieldSpec | None, value: object) -> str:
    """A stored field value as people read it (choice labels, yes/no)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if spec is not None and spec.type in (FieldType.CHOICE, FieldType.CLOCK, FieldType.EXCEPTION_REASON):
        return pack.label(str(value))
    return str(value)


def event_details(pack: RulePack, event: Event, void_reason: str | None) -> str:
    """The payload of an event in words, personal fields included (the case screen is the caseworker's)."""
    fields = pack.event_fields(event.type) if event.type in pack.events else {}
    parts: list[str] = []
    correction = pack.event_with_role("void")
    if event.type == correction and correction is not None:
        parts.append(f"voids event {event.data.get(VOIDS)}: {event.data.get(REASON, '')}")
    else:
        for name, value in event.data.items():
            if name == CASE_TYPE_KEY:
                continue
            spec = fields.get(name)
            label = spec.label(name) if spec else name
            parts.append(f"{label}: {value_words(pack, spec, value)}")
    if void_reason is not None:
        parts.insert(0, f"VOID ({void_reason})")
    return "; ".join(parts)


def profile_lines(
    pack: RulePack, fields: Mapping[str, object], personal: Mapping[str, object]
) -> list[tuple[str, str, str]]:
    """(group, label, value) for each case field that has a value, in the pack's order."""
    lines = []
    for name, spec in pack.case_fields.items():
        value = personal.get(name) if spec.personal else fields.get(name)
        if value is None or value == "":
            continue
        group = spec.group or ("personal" if spec.personal else "case")
        lines.append((group, spec.label(name), value_words(pack, spec, value)))
    return lines
