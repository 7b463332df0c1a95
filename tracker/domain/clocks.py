"""Clocks: the deadlines a rule pack starts, stops and cancels as a case's events arrive.

A clock *instance* is one run of a pack's clock on one case (a rescheduled meeting gives `kpi3` a second
instance and supersedes the first). Its status as of a date D follows DOMAIN.md, from its own dates alone
(what happened after D had not happened on D):

* **excepted**: an exception with an allowed reason was recorded, on or before D, while it ran;
* **met**: stopped on or before D and on or before its due date; **breached**: stopped (on or before D)
  after its due date, or ended (on or before D) by a cancelling event after it, or still open on D and D
  is after it;
* **cancelled**: superseded, or ended by a cancelling event, on or before D and on or before its due date;
* **running**: still open on D, and D is on or before the due date.

A clock that starts after D did not exist on D: reports leave it out.

Pure functions over frozen dataclasses; called by `tracker.domain.workflow` while folding a case's events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tracker.domain.calendar import CountedDay, WorkingCalendar
from tracker.domain.rules import ClockSpec

SUPERSEDED = "superseded"
"""`ended_by` of an instance replaced by a new start (a rescheduled meeting)."""


class ClockStatus(StrEnum):
    """The status of a clock instance, in exactly the words of DOMAIN.md."""

    RUNNING = "running"
    MET = "met"
    BREACHED = "breached"
    EXCEPTED = "excepted"
    CANCELLED = "cancelled"


def clock_status(
    due_on: dt.date,
    stopped_on: dt.date | None,
    ended_on: dt.date | None,
    excepted_on: dt.date | None,
    as_of: dt.date,
) -> ClockStatus:
    """DOMAIN.md's status rule as of `as_of`, from a clock's own dates (an instance, or a clock row)."""
    if excepted_on is not None and excepted_on <= as_of:
        return ClockStatus.EXCEPTED
    if stopped_on is not None and stopped_on <= as_of:
        return ClockStatus.MET if stopped_on <= due_on else ClockStatus.BREACHED
    if ended_on is not None and ended_on <= as_of:
        return ClockStatus.CANCELLED if ended_on <= due_on else ClockStatus.BREACHED
    return ClockStatus.BREACHED if as_of > due_on else ClockStatus.RUNNING


@dataclass(frozen=True, slots=True)
class ClockException:
    """An agreed exception to a clock: an allowed reason, an optional revised date and a note."""

    reason: str
    until: dt.date | None
    note: str | None
    seq: int
    on: dt.date
    """The date of the exception event: the clock is excepted from then on."""


@dataclass(frozen=True, slots=True)
class ClockInstance:
    """One run of a clock on one case."""

    clock: str
    number: int
    """1 for the first run of this clock on the case, 2 after the first is superseded, ..."""
    pack_version: str
    """The pack version in force on the start date, which governs this instance."""
    starts_on: dt.date
    due_on: dt.date
    start_seq: int
    spec: ClockSpec = field(compare=False, repr=False)
    stopped_on: dt.date | None = None
    ended_on: dt.date | None = None
    ended_by: str | None = None
    """The event type that cancelled it, or `superseded`."""
    exception: ClockException | None = None

    @property
    def live(self) -> bool:
        """Neither stopped nor ended: stop, cancel and exception events still apply to it."""
        return self.stopped_on is None and self.ended_on is None

    @property
    def open(self) -> bool:
        """Live and not excepted: the clock someone must act on (alerts, the next clock of a case)."""
        return self.live and self.exception is None

    def status(self, as_of: dt.date) -> ClockStatus:
        """The status as of `as_of`."""
        excepted_on = self.exception.on if self.exception is not None else None
        return clock_status(self.due_on, self.stopped_on, self.ended_on, excepted_on, as_of)

    @property
    def final_status(self) -> ClockStatus | None:
        """The status if it no longer depends on the as-of date, else None (an open clock)."""
        return None if self.open else self.status(dt.date.max)

    def stop(self, on: dt.date) -> ClockInstance:
        """Stopped by its stop event on `on`."""
        return self._with(stopped_on=on)

    def end(self, on: dt.date, by: str) -> ClockInstance:
        """Ended by a cancelling event (or superseded) on `on`."""
        return self._with(ended_on=on, ended_by=by)

    def excepted(self, exception: ClockException) -> ClockInstance:
        """With an exception recorded (a later one replaces an earlier one)."""
        return self._with(exception=exception)

    def _with(
        self,
        stopped_on: dt.date | None = None,
        ended_on: dt.date | None = None,
        ended_by: str | None = None,
        exception: ClockException | None = None,
    ) -> ClockInstance:
        # An explicit constructor call: dataclasses.replace introspects the fields on every call, which
        # dominated `rebuild` on large databases.
        return ClockInstance(
            clock=self.clock,
            number=self.number,
            pack_version=self.pack_version,
            starts_on=self.starts_on,
            due_on=self.due_on,
            start_seq=self.start_seq,
            spec=self.spec,
            stopped_on=stopped_on or self.stopped_on,
            ended_on=ended_on or self.ended_on,
            ended_by=ended_by or self.ended_by,
            exception=exception or self.exception,
        )


def due_date(spec: ClockSpec, calendar: WorkingCalendar, on: dt.date, data: Mapping[str, object]) -> dt.date:
    """The due date of a clock started by an event on `on` carrying `data`."""
    rule = spec.due
    base = on
    if rule.field is not None:
        value = data.get(rule.field)
        base = dt.date.fromisoformat(str(value)) if value else on
    if rule.working_days_after is not None:
        return calendar.working_days_after(base, rule.working_days_after)
    if rule.working_days_before is not None:
        return calendar.working_days_before(base, rule.working_days_before)
    assert rule.calendar_days_after is not None  # DueRule guarantees exactly one rule
    return calendar.calendar_days_after(base, rule.calendar_days_after)


@dataclass(frozen=True, slots=True)
class Step:
    """One line of "why this date?": the trigger, the rule, a day counted or skipped, a move, the due date."""

    kind: str
    """`trigger`, `rule`, `anchor` (the date field counted from), `counted`, `skipped`, `months`, `later_of`,
    `moved`, `waiting`, `note` or `due`."""
    text: str
    on: dt.date | None = None
    reason: str | None = None
    """For a day skipped: `weekend`, `bank_holiday` or `closure`; for a move: the rule that moved it."""

    def as_json(self) -> dict[str, str | None]:
        """The step as in `show --explain --json`."""
        return {
            "kind": self.kind,
            "on": self.on.isoformat() if self.on else None,
            "reason": self.reason,
            "text": self.text,
        }


def explain_due(
    spec: ClockSpec, calendar: WorkingCalendar, on: dt.date, data: Mapping[str, object]
) -> list[Step]:
    """How `due_date` counts, day by day: the rule, each working day counted and each day skipped and why.

    The days come from the calendar's own counting (`counting_after` / `counting_before`, which take the
    due date from the same index `due_date` uses), and the last step is `due_date` itself.
    """
    rule = spec.due
    steps: list[Step] = []
    base = on
    if rule.field is not None:
        value = data.get(rule.field)
        if value:
            base = dt.date.fromisoformat(str(value))
            steps.append(
                Step("anchor", f"counted from {rule.field.replace('_', ' ')} {base.isoformat()}", base)
            )
    due = due_date(spec, calendar, on, data)
    if rule.working_days_after is not None:
        reason = calendar.non_working_reason(base)
        if reason is not None and rule.working_days_after:
            steps.append(
                Step(
                    "note",
                    f"{base.isoformat()} is not a working day ({reason[1]}): counted as from the evening of "
                    f"the working day before",
                    base,
                    reason[0],
                )
            )
        steps += _days(calendar.counting_after(base, rule.working_days_after), "working day {n}")
    elif rule.working_days_before is not None:
        steps += _days(calendar.counting_before(base, rule.working_days_before), "working day {n} before")
    else:
        steps.append(Step("note", "calendar days: no days are skipped for weekends or holidays"))
    steps.append(Step("due", f"due {due.isoformat()}", due))
    return steps


def _days(counted: list[CountedDay], words: str) -> list[Step]:
    return [
        Step("counted", words.format(n=day.number), day.day)
        if day.number is not None
        else Step("skipped", f"skipped: {day.why}", day.day, day.skipped)
        for day in counted
    ]


def most_urgent(instances: tuple[ClockInstance, ...] | list[ClockInstance]) -> ClockInstance | None:
    """The open clock due soonest, or None when none is open."""
    candidates = [c for c in instances if c.open]
    return min(candidates, key=lambda c: (c.due_on, c.clock)) if candidates else None
