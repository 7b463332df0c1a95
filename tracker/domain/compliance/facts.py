"""The report's facts of one case, taken from its folded state and history (no database).

`tracker.reports.report` reads the same facts from the store already counted (`Tallies`, grouped in SQL),
which is what makes a year's export fast; this module is the slow, obviously-right path, used by the tests to
check the store's tallies against the fold's, and by anything holding `CaseState`s already (a what-if in
memory).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.compliance.counting import compute
from tracker.domain.compliance.disclosure import SUPPRESS, Disclosure
from tracker.domain.compliance.flow import ActivityFact, FlowFact, WaitFact
from tracker.domain.compliance.model import (
    ClockFact,
    ComplianceReport,
    FeedbackFact,
    OutcomeFact,
    ReferralFact,
    SurveyFact,
)
from tracker.domain.compliance.selection import (
    feedback_events,
    outcome_carriers,
    owner_shown,
    step_events,
)
from tracker.domain.compliance.staff import commissioner_copy, provider_copy
from tracker.domain.events import Event
from tracker.domain.fields import JsonValue
from tracker.domain.periods import Period
from tracker.domain.rules import FieldType, RulePack
from tracker.domain.workflow import CaseState, Fact


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """Everything one case contributes to a report."""

    clocks: tuple[ClockFact, ...]
    surveys: tuple[SurveyFact, ...]
    referral: ReferralFact
    feedback: tuple[FeedbackFact, ...]
    flow: tuple[FlowFact, ...] = ()
    activities: tuple[ActivityFact, ...] = ()
    waits: tuple[WaitFact, ...] = ()
    outcomes: tuple[OutcomeFact, ...] = ()


def case_facts(pack: RulePack, state: CaseState, events: Sequence[Event]) -> CaseFacts:
    """The facts of one case for a report of `pack` (the version whose fields and events are reported)."""
    owner = state.owner if owner_shown(pack, with_caseworkers=True) else None  # left out by the report
    clocks = tuple(
        ClockFact(
            ref=state.ref,
            clock=c.clock,
            kpi=c.spec.kpi,
            number=c.number,
            pack_version=c.pack_version,
            starts_on=c.starts_on,
            due_on=c.due_on,
            stopped_on=c.stopped_on,
            ended_on=c.ended_on,
            ended_by=c.ended_by,
            excepted_on=c.exception.on if c.exception else None,
            exception_reason=c.exception.reason if c.exception else None,
            exception_until=c.exception.until if c.exception else None,
            owner=owner,
        )
        for c in state.clocks
    )
    voided = set(state.voided)
    live = [e for e in events if e.seq not in voided and e.type in pack.events]
    of_type: dict[str, list[Fact]] = {}
    for e in live:
        of_type.setdefault(e.type, []).append(e)
    survey_event = pack.satisfaction.event if pack.satisfaction else None
    by_field = pack.satisfaction.by_field if pack.satisfaction else None
    group = state.fields.get(by_field) if by_field else None
    surveys = tuple(
        SurveyFact(state.ref, e.on, dict(e.data), group) for e in of_type.get(survey_event or "", ())
    )
    # every event that records an outcome field, or requires it (its value None: not recorded); the last
    # one with a value dated in a period wins (`outcome_tally`)
    outcomes = tuple(
        OutcomeFact(state.ref, name, e.on, e.seq, e.data.get(name))
        for name, (types, requiring) in outcome_carriers(pack).items()
        for t in types
        for e in of_type.get(t, ())
        if e.data.get(name) is not None or t in requiring
    )
    steps: dict[str, dt.date] = {}
    for name in step_events(pack):
        if name in of_type:
            steps[name] = min(e.on for e in of_type[name])
    referral = ReferralFact(
        ref=state.ref,
        case_type=state.case_type,
        opened_on=state.opened_on,
        state=state.state,
        closed_on=state.closed_on,
        fields=dict(state.fields),
        steps=steps,
    )
    feedback_types = set(feedback_events(pack))
    feedback = tuple(
        FeedbackFact(state.ref, e.type, e.on, _choices(pack, e)) for e in live if e.type in feedback_types
    )
    flow_types = set(pack.reporting.flow)
    flow = tuple(FlowFact(state.ref, e.type, e.on) for e in live if e.type in flow_types)
    spec = pack.reporting.activity
    activities: tuple[ActivityFact, ...] = ()
    if spec is not None:
        activities = tuple(
            ActivityFact(
                state.ref,
                e.on,
                _text(e.data.get(spec.type_field)),
                _int(e.data.get(spec.length_field)) if spec.length_field else None,
                _text(e.data.get(spec.mode_field)) if spec.mode_field else None,
            )
            for e in live
            if e.type == spec.event
        )
    waits = tuple(WaitFact(c.clock, c.starts_on, c.stopped_on, c.ended_on) for c in clocks)
    return CaseFacts(clocks, surveys, referral, feedback, flow, activities, waits, outcomes)


def report_from_facts(
    pack: RulePack,
    period: Period,
    as_of: dt.date,
    facts: Iterable[CaseFacts],
    *,
    disclosure: Disclosure = SUPPRESS,
    calendar: WorkingCalendar | None = None,
    with_caseworkers: bool = False,
) -> ComplianceReport:
    """`compute` over the facts of many cases: the report the store path must equal.

    A commissioner's copy unless `with_caseworkers` (the provider's: `tracker.domain.compliance.staff`).
    """
    every = list(facts)
    report = compute(
        pack,
        period,
        as_of,
        [k for f in every for k in f.clocks],
        [s for f in every for s in f.surveys],
        [f.referral for f in every],
        [b for f in every for b in f.feedback],
        disclosure=disclosure,
        flow=[x for f in every for x in f.flow],
        activities=[x for f in every for x in f.activities],
        waits=[x for f in every for x in f.waits],
        outcomes=[x for f in every for x in f.outcomes],
        calendar=calendar,
    )
    if not with_caseworkers:
        return commissioner_copy(report)
    start, end = period.start, period.end
    owner = pack.owner_field or ""
    opened = Counter(
        str(f.referral.fields.get(owner) or "") or None for f in every if start <= f.referral.opened_on <= end
    )
    return provider_copy(pack, report, opened)


def _text(value: JsonValue) -> str | None:
    return None if value is None else str(value)


def _int(value: JsonValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _choices(pack: RulePack, event: Fact) -> dict[str, JsonValue]:
    """An event's exportable choice and yes/no values: never its free text."""
    kinds = (FieldType.CHOICE, FieldType.BOOLEAN)
    fields = pack.events[event.type].fields
    return {
        name: value
        for name, value in event.data.items()
        if name in fields and fields[name].exportable and fields[name].type in kinds
    }
