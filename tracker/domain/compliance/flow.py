"""The inputs and outputs of a service in a period: the flow of cases, the work delivered, the waiting times.

Pure. What to count comes from the pack: `[reporting] flow` (the steps counted), `[reporting.activity]` (the
event that records a session and its type, length and mode fields), and every clock (a clock's start-to-stop
time is a waiting time: referral to assessment, assessment to support, request to meeting). Called by
`tracker.domain.compliance.counting.compute` with facts that `tracker.reports.report` reads from the store (or
that the tests build by hand).

Counting rules (also in `COUNTING_RULES`):

* Flow: for each step, the cases with a (non-voided) event of that type dated in the period.
* Activities: the sessions dated in the period, by type: sessions, total and mean length, and by mode.
  Frequency: the sessions per case that had one in the period (mean and median).
* Waiting times, for each clock: the clocks stopped in the period, from their start to their stop, in calendar
  days and in working days (working days after the start, up to and including the stop): median, 90th
  percentile by the nearest-rank method (the value at rank ceil(0.9 x n) in ascending order), longest. And the
  clocks still waiting on the period's last day (or the as-of date, if earlier): count and longest wait.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import median
from typing import NamedTuple

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.compliance.stats import Multiset
from tracker.domain.periods import Period
from tracker.domain.rules import RulePack


def _one_decimal(value: Fraction) -> float:
    tenths = value * 10 + Fraction(1, 2)  # half-up, as every figure of a report
    return (tenths.numerator // tenths.denominator) / 10


# ---------------------------------------------------------------------------------------------- facts


class FlowFact(NamedTuple):
    """One non-voided event of a `[reporting] flow` type."""

    ref: str
    event: str
    on: dt.date


class ActivityFact(NamedTuple):
    """One non-voided session (the `[reporting.activity]` event): its type, length and mode."""

    ref: str
    on: dt.date
    activity: str | None
    minutes: int | None = None
    mode: str | None = None


class WaitFact(NamedTuple):
    """One clock instance's dates, for its waiting time (or `count` instances with the same dates)."""

    clock: str
    starts_on: dt.date
    stopped_on: dt.date | None
    ended_on: dt.date | None = None
    instances: int = 1
    """How many clock instances have exactly these dates (the store reads them grouped)."""


# ---------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class FlowCount:
    """The cases that reached one step in the period."""

    event: str
    title: str
    cases: int


@dataclass(frozen=True, slots=True)
class ActivityType:
    """The sessions of one type of activity in the period."""

    key: str
    title: str
    sessions: int
    minutes: int
    mean_minutes: float | None
    by_mode: tuple[tuple[str, str, int], ...]
    """(mode, label, sessions), every mode of the pack listed."""


@dataclass(frozen=True, slots=True)
class Activities:
    """The work delivered in the period: sessions by type, their length, and how often a case had one."""

    title: str
    sessions: int
    cases: int
    """Cases with at least one session in the period."""
    minutes: int
    mean_minutes: float | None
    per_case_mean: float | None
    per_case_median: float | None
    types: tuple[ActivityType, ...]
    modes: tuple[tuple[str, str], ...]
    """(mode, label) of the pack's mode field, in order (empty when the pack declares none)."""
    per_case_suppressed: bool = False
    """Sessions per case are withheld: fewer cases than the disclosure threshold (mean and median None)."""


class Spread(NamedTuple):
    """Median, 90th percentile (nearest rank) and longest of a set of waits."""

    median: float
    p90: int
    longest: int


@dataclass(frozen=True, slots=True)
class WaitingTime:
    """One clock's waiting times: those that ended in the period, and those still waiting."""

    clock: str
    kpi: str
    title: str
    stopped: int
    calendar_days: Spread | None
    working_days: Spread | None
    waiting: int
    """Clocks still waiting on the period's last day (or the as-of date, if earlier)."""
    longest_waiting_days: int | None
    longest_waiting_working_days: int | None
    suppressed: bool = False
    """The stopped clocks' spreads are withheld: fewer than the disclosure threshold (both None)."""
    waiting_suppressed: bool = False
    """The longest waits are withheld: fewer still waiting than the disclosure threshold (both None)."""


# ---------------------------------------------------------------------------------------------- counting


def nearest_rank(values: Sequence[int], percentile: int) -> int:
    """The `percentile`th percentile of non-empty `values` by the nearest-rank method."""
    return Multiset(Counter(values)).percentile(percentile)


def spread(values: Sequence[int] | Mapping[int, int]) -> Spread | None:
    """Median, nearest-rank 90th percentile and maximum; None for no values.

    `values` may be given as value -> how many times it occurs (the same figures as the expanded list).
    """
    ordered = Multiset(values if isinstance(values, Mapping) else Counter(values))
    if not ordered.size:
        return None
    return Spread(ordered.median(), ordered.percentile(90), ordered.largest())


def flow_tally(pack: RulePack, period: Period, facts: Iterable[FlowFact]) -> dict[str, int]:
    """For each `[reporting] flow` step, how many cases have one dated in the period.

    The store counts the same in SQL (`tracker.reports.queries`); the tests hold the two to each other.
    """
    cases: dict[str, set[str]] = {event: set() for event in pack.reporting.flow}
    for fact in facts:
        if fact.event in cases and period.start <= fact.on <= period.end:
            cases[fact.event].add(fact.ref)
    return {event: len(refs) for event, refs in cases.items()}


def flow_counts(pack: RulePack, cases: Mapping[str, int]) -> tuple[FlowCount, ...]:
    """The flow figures of the pack's `[reporting] flow` steps from the cases counted for each."""
    return tuple(FlowCount(event, pack.label(event), cases.get(event, 0)) for event in pack.reporting.flow)


def activity_summary(pack: RulePack, period: Period, facts: Iterable[ActivityFact]) -> Activities | None:
    """The sessions dated in the period, by type and mode, with their length and frequency."""
    spec = pack.reporting.activity
    if spec is None:
        return None
    fields = pack.event_fields(spec.event)
    sessions = [f for f in facts if period.start <= f.on <= period.end]
    modes: list[tuple[str, str]] = []
    if spec.mode_field is not None:
        modes = [(v, pack.label(v)) for v in pack.choices_of(fields[spec.mode_field])]
        modes += [
            (v, pack.label(v)) for v in sorted({f.mode for f in sessions if f.mode} - dict(modes).keys())
        ]
    order = [(v, pack.label(v)) for v in pack.choices_of(fields[spec.type_field])]
    known = dict(order)
    order += [(v, pack.label(v)) for v in sorted({f.activity or "" for f in sessions} - known.keys()) if v]
    if any(not f.activity for f in sessions):
        order.append(("not_recorded", "Not recorded"))
    types = []
    for key, title in order:
        mine = [f for f in sessions if (f.activity or "not_recorded") == key]
        lengths = [f.minutes for f in mine if f.minutes is not None]
        by_mode = Counter(f.mode for f in mine)
        types.append(
            ActivityType(
                key=key,
                title=title,
                sessions=len(mine),
                minutes=sum(lengths),
                mean_minutes=_one_decimal(Fraction(sum(lengths), len(lengths))) if lengths else None,
                by_mode=tuple((mode, label, by_mode[mode]) for mode, label in modes),
            )
        )
    per_case = Counter(f.ref for f in sessions)
    lengths = [f.minutes for f in sessions if f.minutes is not None]
    counts = list(per_case.values())
    return Activities(
        title=pack.label(spec.event),
        sessions=len(sessions),
        cases=len(per_case),
        minutes=sum(lengths),
        mean_minutes=_one_decimal(Fraction(sum(lengths), len(lengths))) if lengths else None,
        per_case_mean=_one_decimal(Fraction(len(sessions), len(counts))) if counts else None,
        per_case_median=float(median(counts)) if counts else None,
        types=tuple(types),
        modes=tuple(modes),
    )


def waiting_times(
    pack: RulePack, period: Period, as_of: dt.date, facts: Iterable[WaitFact], calendar: WorkingCalendar
) -> tuple[WaitingTime, ...]:
    """Each clock's start-to-stop times of those stopped in the period, and those still waiting."""
    at = min(period.end, as_of)
    done_days: dict[str, Counter[int]] = {clock: Counter() for clock in pack.clocks}
    done_working: dict[str, Counter[int]] = {clock: Counter() for clock in pack.clocks}
    waiting: dict[str, Counter[tuple[int, int]]] = {clock: Counter() for clock in pack.clocks}
    between = calendar.working_days_between
    for clock, starts_on, stopped_on, ended_on, instances in facts:
        if clock not in waiting:
            continue
        if stopped_on is not None and period.start <= stopped_on <= period.end:
            done_days[clock][(stopped_on - starts_on).days] += instances
            done_working[clock][between(starts_on, stopped_on)] += instances
        # not `elif`: with an as-of date inside the period, a clock stopped later in it was waiting then
        if (
            starts_on <= at
            and (stopped_on is None or stopped_on > at)
            and (ended_on is None or ended_on > at)
        ):
            waiting[clock][(at - starts_on).days, between(starts_on, at)] += instances
    found = []
    for clock, spec in pack.clocks.items():
        still = waiting[clock]
        found.append(
            WaitingTime(
                clock=clock,
                kpi=spec.kpi,
                title=spec.title,
                stopped=sum(done_days[clock].values()),
                calendar_days=spread(done_days[clock]),
                working_days=spread(done_working[clock]),
                waiting=sum(still.values()),
                longest_waiting_days=max((days for days, _ in still), default=None),
                longest_waiting_working_days=max((working for _, working in still), default=None),
            )
        )
    return tuple(found)
