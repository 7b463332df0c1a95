"""The compliance report's types: the facts read from the store and the figures computed from them.

Plain frozen dataclasses, so the TUI, the exporters and the tests can build and read them without a
database. `tracker.domain.compliance.counting.compute` turns facts into a `ComplianceReport`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from tracker.domain.clocks import ClockStatus, clock_status
from tracker.domain.compliance.disclosure import Disclosure
from tracker.domain.compliance.flow import Activities, FlowCount, WaitingTime
from tracker.domain.fields import JsonValue
from tracker.domain.periods import Period

SUPPRESSED = "<5"
"""What a count of 1-4 people is shown as when suppressing (`Disclosure.primary_marker` of threshold 5)."""
NOT_RECORDED = "not_recorded"
"""Breakdown key of the cases with no value in the field."""
AMBER_BAND = 10.0
"""RAG: amber when the result is below target by at most this many percentage points."""

Count = int | str
"""A count as shown: the number, SUPPRESSED ("<5") or HIDDEN ("[c]"), see `compliance.disclosure`."""


class Rag(StrEnum):
    """Red/amber/green against a KPI target."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


# ---------------------------------------------------------------------------------------------- facts


class ClockFact(NamedTuple):
    """One clock instance, as the store's clock projection holds it.

    Facts are named tuples rather than dataclasses: a year of a large service is ~200,000 clocks, and a
    tuple is built (from a database row) several times faster.
    """

    ref: str
    clock: str
    kpi: str
    number: int
    pack_version: str
    starts_on: dt.date
    due_on: dt.date
    stopped_on: dt.date | None = None
    ended_on: dt.date | None = None
    ended_by: str | None = None
    excepted_on: dt.date | None = None
    """The date an exception was recorded, if one was."""
    exception_reason: str | None = None
    exception_until: dt.date | None = None
    owner: str | None = None

    def status(self, as_of: dt.date) -> ClockStatus:
        """The status as of `as_of`, from the clock's own dates (the rule of `ClockInstance.status`)."""
        return clock_status(self.due_on, self.stopped_on, self.ended_on, self.excepted_on, as_of)


class ClockCount(NamedTuple):
    """Clock instances that agree on every date the status rule reads of them, and how many there are.

    What `compute_tallies` counts: the facts path groups `ClockFact`s into these (`key_of`), the store
    groups its clock rows the same way in SQL (`tracker.reports.queries`), so a year of clocks arrives as a
    few thousand counts whose status is judged here, as of the report's date.
    """

    clock: str
    kpi: str
    pack_version: str
    due_on: dt.date
    stopped_on: dt.date | None = None
    ended_on: dt.date | None = None
    excepted_on: dt.date | None = None
    instances: int = 1
    """How many clock instances the group holds."""

    @classmethod
    def key_of(cls, fact: ClockFact) -> ClockCount:
        """The group of one clock fact, with a count of 1."""
        return cls(
            fact.clock,
            fact.kpi,
            fact.pack_version,
            fact.due_on,
            fact.stopped_on,
            fact.ended_on,
            fact.excepted_on,
        )

    def status(self, as_of: dt.date) -> ClockStatus:
        """The status of every instance of the group as of `as_of`."""
        return clock_status(self.due_on, self.stopped_on, self.ended_on, self.excepted_on, as_of)


class SurveyFact(NamedTuple):
    """One non-voided survey event: its date and answers (question -> answer; left out = not answered)."""

    ref: str
    on: dt.date
    answers: Mapping[str, JsonValue]
    group: JsonValue = None
    """The case's value of the satisfaction spec's `by_field` (its service-user group), if it has one."""
    instances: int = 1
    """How many surveys have exactly this date, these answers and this group (the counts hold them so)."""


class ReferralFact(NamedTuple):
    """One case opened in the period."""

    ref: str
    case_type: str
    opened_on: dt.date
    state: str
    closed_on: dt.date | None
    fields: Mapping[str, JsonValue]
    """Case field values (only the exportable ones are read)."""
    steps: Mapping[str, dt.date]
    """Event type -> the first non-voided date it happened (see `step_events`)."""


class OutcomeFact(NamedTuple):
    """One non-voided event of a case that records an outcome field, or requires it: an exit, say.

    The outcome breakdowns count the cases with such an event dated in the period, each once, with the
    value of the last of them (by date, then sequence) that has one; `value` is None when the event has
    none (counted as not recorded). See `outcome_carriers`.
    """

    ref: str
    field: str
    on: dt.date
    seq: int
    value: JsonValue


class FeedbackFact(NamedTuple):
    """One non-voided feedback event (see `feedback_events`) dated in the period."""

    ref: str
    event: str
    on: dt.date
    choices: Mapping[str, JsonValue]
    """Its choice field values (free text is never carried)."""


# ---------------------------------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class ClockKpi:
    """A clock KPI's figures for the period."""

    key: str
    kpi: str
    title: str
    target: float | None
    met: int
    breached: int
    excepted: int
    running: int
    cancelled: int
    percent: float | None
    met_target: bool | None
    rag: Rag | None

    @property
    def total(self) -> int:
        """Every clock counted, in the percentage or not."""
        return self.met + self.breached + self.excepted + self.running + self.cancelled


@dataclass(frozen=True, slots=True)
class SurveyResult:
    """One survey question's figures (KPI 1 carries its KPI label and target).

    `responses` and `agree` are counts as shown: a group's responses are a breakdown of people (hidden as
    "<5" or "[c]"), and `agree` is hidden ("[c]") with the result when it is `suppressed`.
    """

    key: str
    kpi: str
    title: str
    responses: Count
    agree: Count
    percent: float | None
    target: float | None = None
    met_target: bool | None = None
    rag: Rag | None = None
    suppressed: bool = False
    """The result is withheld: too few responses (`percent`, `met_target` and `rag` are None)."""
    group: str | None = None
    """The value of the pack's `by_field` this result is for (one group of service users), if any."""
    group_title: str = ""
    """That group's label as the pack writes it ("Adoptive parent")."""


class ClockLine(NamedTuple):
    """One clock counted: its fact and its status as of the report's date (no free text: no note)."""

    ref: str
    clock: str
    kpi: str
    number: int
    pack_version: str
    starts_on: dt.date
    due_on: dt.date
    stopped_on: dt.date | None
    ended_on: dt.date | None
    ended_by: str | None
    excepted_on: dt.date | None
    exception_reason: str | None
    exception_until: dt.date | None
    owner: str | None
    status: ClockStatus


LISTED = frozenset({ClockStatus.BREACHED, ClockStatus.EXCEPTED})
"""The statuses listed as findings (the Breaches and exceptions sheet, the TUI's findings)."""


class ClockLines(ABC):
    """Every clock counted in a report, as `ClockLine`s ordered by due date, reference, clock and number.

    A year of a large service is ~200,000 lines, so the store's reports read them when a format iterates
    them (`tracker.reports.queries`) rather than holding them; the facts path holds a tuple (`LineTuple`).
    Two listings are equal when they hold the same lines in the same order.
    """

    @abstractmethod
    def __iter__(self) -> Iterator[ClockLine]:
        """Every line, in order."""

    @abstractmethod
    def __len__(self) -> int:
        """How many lines there are (the KPI totals)."""

    def of_clock(self, clock: str) -> Iterator[ClockLine]:
        """The lines of one clock (a KPI's sheet), in order."""
        return (line for line in self if line.clock == clock)

    def listed(self) -> Iterator[ClockLine]:
        """The breached and excepted lines (the findings), in order."""
        return (line for line in self if line.status in LISTED)

    def breached(self, clock: str | None = None) -> Iterator[ClockLine]:
        """The breached lines (of one clock, or of every clock), in order: what a clock list shows first."""
        lines = self if clock is None else self.of_clock(clock)
        return (line for line in lines if line.status is ClockStatus.BREACHED)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClockLines):
            return NotImplemented
        return len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self)} clock lines>"


class LineTuple(ClockLines):
    """Clock lines held in memory (the facts path, and reports read for the TUI)."""

    def __init__(self, lines: tuple[ClockLine, ...]) -> None:
        self.lines = lines

    def __iter__(self) -> Iterator[ClockLine]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Counts by value of one field; `rows` are (value, label, count as shown).

    `total` is exact, or rounded when the report's disclosure method is "round".
    """

    key: str
    title: str
    rows: tuple[tuple[str, str, Count], ...]
    total: int

    def as_dict(self) -> dict[str, Count]:
        """Value -> count as shown."""
        return {value: count for value, _label, count in self.rows}


@dataclass(frozen=True, slots=True)
class StepTime:
    """Calendar days from referral (case opened) to the first time an event happened."""

    event: str
    title: str
    cases: int
    median_days: float | None
    mean_days: float | None
    max_days: int | None
    suppressed: bool = False
    """The days are withheld: fewer cases than the disclosure threshold (median, mean and max None)."""


@dataclass(frozen=True, slots=True)
class Referrals:
    """The cases opened in the period."""

    received: int
    by_type: Breakdown
    breakdowns: tuple[Breakdown, ...]
    outcomes: tuple[Breakdown, ...]
    times: tuple[StepTime, ...]
    professional_fields: tuple[str, ...] = ()
    """The pack's `[reporting] professionals`: yes/no fields of `breakdowns`, one per professional."""
    professionals_title: str = ""
    need_field: str | None = None
    """The pack's `[reporting] need`: the breakdown of `breakdowns` reported as the referrals by need."""

    @property
    def professionals(self) -> Breakdown | None:
        """The referrals with each professional or agency involved: the "yes" of each field's breakdown.

        Taken from the breakdowns as shown, so a count is hidden exactly where its own breakdown hides it;
        a referral may involve several, so the rows need not add up to the total (the referrals received).
        """
        if not self.professional_fields:
            return None
        found = {breakdown.key: breakdown for breakdown in self.breakdowns}
        rows = tuple(
            (name, found[name].title, found[name].as_dict().get("yes", 0))
            for name in self.professional_fields
            if name in found
        )
        return Breakdown("professionals", self.professionals_title, rows, self.received)

    @property
    def by_need(self) -> Breakdown | None:
        """The referrals by need (the breakdown of `need_field`), if the pack names a need field."""
        return next((b for b in self.breakdowns if b.key == self.need_field), None)


@dataclass(frozen=True, slots=True)
class CaseworkerFigures:
    """One caseworker's cases opened in the period and clocks due in it (the provider's copy only)."""

    name: str
    """The caseworker, "" for the cases and clocks of no caseworker."""
    opened: int
    met: int
    breached: int
    percent: float | None
    """Met / (met + breached), as a KPI's percent (None: no met or breached clock)."""
    by_clock: tuple[tuple[str, int, int], ...] = ()
    """(clock, met, breached) for each clock of the report, in its order."""


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """Feedback events of one type in the period, with their choice breakdowns (exact counts)."""

    event: str
    title: str
    count: int
    breakdowns: tuple[Breakdown, ...]
    items: tuple[FeedbackFact, ...]


@dataclass(frozen=True, slots=True)
class MonthTrend:
    """One month of the period: each KPI's percent (and its met/agree and denominator) and referrals."""

    period: Period
    kpis: Mapping[str, tuple[Count, Count, float | None]]
    """KPI key -> (met or agree, met + breached or responses, percent); a month's satisfaction over too few
    responses shows its agree as "[c]" and no percent, and a group's responses in a month are a breakdown of
    people, shown as the report's groups are ("<5", "[c]")."""
    referrals: int


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """Everything a commissioner's report holds, for one pack and period, as of a date."""

    pack_id: str
    pack_title: str
    pack_version: str
    """The version in force on the period's last day: its targets are the ones reported."""
    pack_versions: tuple[str, ...]
    """The versions that governed the clocks counted."""
    period: Period
    as_of: dt.date
    disclosure: Disclosure
    """The disclosure control applied (`tracker.domain.compliance.disclosure`)."""
    satisfaction: SurveyResult | None
    """The satisfaction KPI over every response (the SEND pack's KPI 1); None when the pack measures it per
    group (`by_field`): then `satisfaction_groups` are the KPI, and no combined result is rated."""
    satisfaction_groups: tuple[SurveyResult, ...]
    """The satisfaction KPI for each value of the pack's `by_field` (`group`: the value), each on target."""
    questions: tuple[SurveyResult, ...]
    comments: int
    """Surveys in the period with a free-text answer (counted; the text never leaves the provider)."""
    kpis: tuple[ClockKpi, ...]
    clocks: ClockLines
    """Every clock counted, in order (due date, reference, clock, number)."""
    referrals: Referrals
    profile: tuple[Breakdown, ...]
    feedback: tuple[FeedbackSummary, ...]
    trend: tuple[MonthTrend, ...]
    definitions: tuple[tuple[str, str], ...] = ()
    """(KPI label, how it is counted) for each KPI, from the pack: the Notes of every export."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Words for the ids that appear in the report (clocks, events, exception reasons, choice values)."""
    flow: tuple[FlowCount, ...] = ()
    """The cases reaching each `[reporting] flow` step in the period."""
    activities: Activities | None = None
    """The sessions delivered in the period (when the pack declares `[reporting.activity]`)."""
    waiting_times: tuple[WaitingTime, ...] = ()
    """Each clock's start-to-stop times in the period, and those still waiting."""
    known_on: dt.date | None = None
    """Only the events recorded by the end of this day were counted (None: all of them, as of now)."""
    with_caseworkers: bool = False
    """The provider's copy: the clock lines name caseworkers, and `caseworkers` breaks the figures down by
    caseworker (`--with-caseworkers`). Off, it is a commissioner's copy: no staff name anywhere."""
    caseworkers: tuple[CaseworkerFigures, ...] = ()
    """Per caseworker, in name order (no caseworker last): the provider's copy only."""
    service: str = ""
    """The commissioned service the report is about (default: the pack's title)."""
    satisfaction_responses: int = 0
    """The surveys in the period answering the satisfaction question, every group together: a count of
    responses, exact and never rated (the total of the groups' responses)."""
    sender: tuple[tuple[str, str], ...] = ()
    """Who the report is from and whom it is for, as (label, value): the provider's `[provider]` details."""

    @property
    def satisfaction_kpis(self) -> tuple[SurveyResult, ...]:
        """The satisfaction KPI as the contract measures it: KPI 1, or one measure per group (`by_field`)."""
        return (self.satisfaction,) if self.satisfaction is not None else self.satisfaction_groups

    @property
    def provisional(self) -> bool:
        """Whether the period had not ended on the as-of date: its figures can still change."""
        return self.as_of <= self.period.end

    @property
    def suppressed(self) -> bool:
        """Whether small numbers are controlled (suppressed or rounded): not `--no-suppression`."""
        return self.disclosure.active

    def label(self, value: str | None) -> str:
        """The words for an id of the report ("" for None)."""
        if value is None:
            return ""
        return self.labels.get(value, value.replace("_", " ").capitalize())
