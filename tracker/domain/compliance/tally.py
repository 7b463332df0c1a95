"""What a report counts, gathered: a period's facts reduced to counts (`Tallies`) before any rule is applied.

Two paths make `Tallies`: `tally`, from facts (the fold's obviously-right path, and the tests' hand-built
facts), and the store, which groups and counts the same things in SQL (`tracker.reports.queries`), so that a
year of 200,000 clocks and 300,000 events reaches Python as a few thousand rows. `compute_tallies`
(`tracker.domain.compliance.counting`) applies every counting rule to either, so the rules live in one place;
the tests hold the store's tallies to `tally`'s on SQLite and PostgreSQL.

Pure domain.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tracker.domain.compliance.flow import ActivityFact, FlowFact, WaitFact, flow_tally
from tracker.domain.compliance.model import ClockCount, ClockFact, FeedbackFact, ReferralFact, SurveyFact
from tracker.domain.compliance.selection import breakdown_fields, outcome_fields, step_events
from tracker.domain.fields import JsonValue
from tracker.domain.periods import Period
from tracker.domain.rules import RulePack


@dataclass(frozen=True, slots=True)
class ReferralTally:
    """The cases opened in a period, counted by everything the referral and profile figures show."""

    opened: Mapping[dt.date, int]
    """Opening date -> cases opened that day."""
    case_types: Mapping[str, int]
    """Case type -> cases."""
    fields: Mapping[str, Mapping[JsonValue, int]]
    """For each breakdown field (`breakdown_fields`): the case's value (None: it has none) -> cases."""
    outcomes: Mapping[str, Mapping[JsonValue, int]]
    """For each outcome field (`outcome_fields`): the case's last value -> cases (those with one)."""
    steps: Mapping[str, Mapping[int, int]]
    """For each step (`step_events`): calendar days from the referral to its first date -> cases."""

    @property
    def received(self) -> int:
        """How many cases were opened."""
        return sum(self.opened.values())


@dataclass(frozen=True, slots=True)
class Tallies:
    """Everything `compute_tallies` needs of a period, counted but not yet judged."""

    clocks: tuple[ClockCount, ...]
    """The clock instances due in the period, grouped (`ClockCount`)."""
    surveys: tuple[SurveyFact, ...]
    """The surveys dated in the period (alike ones may be one fact: `SurveyFact.instances`)."""
    referrals: ReferralTally
    feedback: tuple[FeedbackFact, ...]
    """The feedback events dated in the period."""
    flow: Mapping[str, int]
    """`[reporting] flow` step -> cases with one dated in the period."""
    activities: tuple[ActivityFact, ...]
    """The sessions dated in the period."""
    waits: tuple[WaitFact, ...]
    """Clock instances that may have stopped in the period or be waiting at its end (counted)."""


def tally(
    pack: RulePack,
    period: Period,
    clocks: Iterable[ClockFact],
    surveys: Iterable[SurveyFact],
    referrals: Iterable[ReferralFact],
    feedback: Iterable[FeedbackFact] = (),
    flow: Iterable[FlowFact] = (),
    activities: Iterable[ActivityFact] = (),
    waits: Iterable[WaitFact] = (),
) -> Tallies:
    """The tallies of facts: those of `period` kept (by due date, date or opening date), then counted."""
    start, end = period.start, period.end
    grouped = Counter(ClockCount.key_of(f) for f in clocks if start <= f.due_on <= end)
    return Tallies(
        clocks=tuple(key._replace(instances=n) for key, n in grouped.items()),
        surveys=tuple(s for s in surveys if start <= s.on <= end),
        referrals=referral_tally(pack, (r for r in referrals if start <= r.opened_on <= end)),
        feedback=tuple(f for f in feedback if start <= f.on <= end),
        flow=flow_tally(pack, period, flow),
        activities=tuple(a for a in activities if start <= a.on <= end),
        waits=tuple(waits),
    )


def referral_tally(pack: RulePack, opened: Iterable[ReferralFact]) -> ReferralTally:
    """Count the cases given (filter them first) by type, field value, last outcome and days to each step."""
    names = [name for name, _spec in breakdown_fields(pack)]
    days: Counter[dt.date] = Counter()
    types: Counter[str] = Counter()
    fields: dict[str, Counter[JsonValue]] = {name: Counter() for name in names}
    outcomes: dict[str, Counter[JsonValue]] = {name: Counter() for name in outcome_fields(pack)}
    steps: dict[str, Counter[int]] = {event: Counter() for event in step_events(pack)}
    for fact in opened:
        days[fact.opened_on] += 1
        types[fact.case_type] += 1
        for name, values in fields.items():
            values[fact.fields.get(name)] += 1
        for name, last in outcomes.items():
            if name in fact.outcomes:
                last[fact.outcomes[name]] += 1
        for event, days_to in steps.items():
            if event in fact.steps:
                days_to[(fact.steps[event] - fact.opened_on).days] += 1
    return ReferralTally(days, types, fields, outcomes, steps)
