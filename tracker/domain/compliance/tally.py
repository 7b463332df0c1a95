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
from tracker.domain.compliance.model import (
    ClockCount,
    ClockFact,
    FeedbackFact,
    OutcomeFact,
    ReferralFact,
    SurveyFact,
)
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
    outcomes: Mapping[str, Mapping[JsonValue, int]]
    """For each outcome field (`outcome_fields`): the cases with an event recording or requiring it dated
    in the period, by the last value of those events (None: none has one) -> cases (`outcome_tally`)."""


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
    outcomes: Iterable[OutcomeFact] = (),
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
        outcomes=outcome_tally(pack, period, outcomes),
    )


def referral_tally(pack: RulePack, opened: Iterable[ReferralFact]) -> ReferralTally:
    """Count the cases given (filter them first) by type, field value and days to each step."""
    names = [name for name, _spec in breakdown_fields(pack)]
    days: Counter[dt.date] = Counter()
    types: Counter[str] = Counter()
    fields: dict[str, Counter[JsonValue]] = {name: Counter() for name in names}
    steps: dict[str, Counter[int]] = {event: Counter() for event in step_events(pack)}
    for fact in opened:
        days[fact.opened_on] += 1
        types[fact.case_type] += 1
        for name, values in fields.items():
            values[fact.fields.get(name)] += 1
        for event, days_to in steps.items():
            if event in fact.steps:
                days_to[(fact.steps[event] - fact.opened_on).days] += 1
    return ReferralTally(days, types, fields, steps)


def outcome_tally(
    pack: RulePack, period: Period, facts: Iterable[OutcomeFact]
) -> dict[str, Counter[JsonValue]]:
    """For each outcome field, the cases with an event recording it (or requiring it) dated in the period.

    The facts are those events (`case_facts`: see `outcome_carriers`). Each case once, with the value of its
    last such event (by date, then sequence) that has one; a case whose events in the period have none is
    counted under None (not recorded). So the exit reasons count the cases exited in the period, as the
    flow's exits do.
    """
    start, end = period.start, period.end
    last: dict[tuple[str, str], tuple[dt.date, int, JsonValue] | None] = {}
    for fact in facts:
        if not start <= fact.on <= end:
            continue
        key, held = (fact.field, fact.ref), last.get((fact.field, fact.ref))
        if fact.value is None:
            last.setdefault(key, None)
        elif held is None or (fact.on, fact.seq) > held[:2]:
            last[key] = (fact.on, fact.seq, fact.value)
    counts: dict[str, Counter[JsonValue]] = {name: Counter() for name in outcome_fields(pack)}
    for (name, _ref), held in last.items():
        if name in counts:
            counts[name][None if held is None else held[2]] += 1
    return counts
