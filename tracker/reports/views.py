"""Read models: cases, clocks and events as the plain dicts of CONTRACT.md's JSON shapes.

The CLI prints these (`--json`) and renders its tables from them; the TUI uses the same functions so both
show the same words. Personal fields are left out unless asked for: they never reach a log or an export.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.clocks import ClockInstance
from tracker.domain.events import Event
from tracker.domain.windows import case_windows
from tracker.domain.workflow import CASE_TYPE_KEY, CaseRecord, Rules

if TYPE_CHECKING:  # the store (and SQLAlchemy) stays unimported for `show`, which reads without it
    from tracker.store import CaseSummary


def clock_json(clock: ClockInstance, as_of: dt.date, calendar: WorkingCalendar) -> dict[str, Any]:
    """One clock instance as in `show --json`."""
    exception = clock.exception
    return {
        "clock": clock.clock,
        "kpi": clock.spec.kpi,
        "title": clock.spec.title,
        "number": clock.number,
        "pack_version": clock.pack_version,
        "starts_on": clock.starts_on.isoformat(),
        "due_on": clock.due_on.isoformat(),
        "stopped_on": _iso(clock.stopped_on),
        "ended_on": _iso(clock.ended_on),
        "ended_by": clock.ended_by,
        "status": clock.status(as_of).value,
        "working_days_left": calendar.working_days_between(as_of, clock.due_on) if clock.open else None,
        "exception": None
        if exception is None
        else {"reason": exception.reason, "until": _iso(exception.until), "note": exception.note},
    }


def event_json(event: Event, voided: dict[int, str], *, personal_fields: set[str]) -> dict[str, Any]:
    """One event as in `show --json`; personal field values are replaced by a marker."""
    data = {
        key: ("(personal)" if key in personal_fields else value)
        for key, value in event.data.items()
        if key != CASE_TYPE_KEY
    }
    return {
        "seq": event.seq,
        "type": event.type,
        "on": event.on.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "voided": event.seq in voided,
        "void_reason": voided.get(event.seq),
        "data": data,
    }


def case_json(
    record: CaseRecord, rules: Rules, as_of: dt.date, *, include_personal: bool = False
) -> dict[str, Any]:
    """A whole case as in `show --json`."""
    state = record.state
    pack = rules.pack(state)
    personal = set() if include_personal else {n for n, s in pack.case_fields.items() if s.personal}
    voided = dict(state.voided)
    body: dict[str, Any] = {
        "ref": state.ref,
        "pack": state.pack_id,
        "pack_version": state.pack_version,
        "type": state.case_type,
        "state": state.state,
        "opened_on": state.opened_on.isoformat(),
        "closed_on": _iso(state.closed_on),
        "fields": dict(state.fields),
        "clocks": [clock_json(c, as_of, rules.calendar) for c in state.clocks],
        "events": [event_json(e, voided, personal_fields=personal) for e in record.events],
        "windows": windows_json(record, rules, as_of),
        "erased": erasure_json(record),
    }
    if include_personal:
        body["personal"] = dict(state.personal)
    return body


def erasure_json(record: CaseRecord) -> dict[str, Any] | None:
    """When, by whom and why the case's personal data was erased (None: it was not)."""
    erased = record.erased
    if erased is None:
        return None
    return {
        "on": erased.recorded_at.date().isoformat(),
        "by": erased.by,
        "reason": erased.reason,
        "event": erased.seq,
    }


def windows_json(record: CaseRecord, rules: Rules, as_of: dt.date) -> list[dict[str, Any]]:
    """The parent's windows of a case (tribunal appeal, reg 33 contact) as in `show --json`: never KPIs."""
    return [view.as_json(as_of) for view in case_windows(rules, record.state)]


def next_clock_json(summary: CaseSummary, as_of: dt.date, calendar: WorkingCalendar) -> dict[str, Any] | None:
    """The `next` object of `cases --json`: the open clock due soonest, or None."""
    if summary.next_clock is None or summary.next_due_on is None:
        return None
    return {
        "clock": summary.next_clock,
        "due_on": summary.next_due_on.isoformat(),
        "status": "breached" if as_of > summary.next_due_on else "running",
        "working_days_left": calendar.working_days_between(as_of, summary.next_due_on),
    }


def summary_json(summary: CaseSummary, as_of: dt.date, calendar: WorkingCalendar) -> dict[str, Any]:
    """One entry of `cases --json`."""
    return {
        "ref": summary.ref,
        "type": summary.case_type,
        "state": summary.state,
        "caseworker": summary.owner,
        "opened_on": summary.opened_on.isoformat(),
        "closed_on": _iso(summary.closed_on),
        "next": next_clock_json(summary, as_of, calendar),
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
