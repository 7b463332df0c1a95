"""The report's facts of one case, taken from its folded state and history (no database).

`tracker.reporting` reads the same facts from the store's projections with a few set-based queries, which is
what makes a year's export fast; this module is the slow, obviously-right path, used by the tests to check
the store path against the fold, and by anything holding `CaseState`s already (a what-if in memory).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracker.clocks import ClockStatus
from tracker.compliance.model import ClockFact, FeedbackFact, ReferralFact, SurveyFact
from tracker.compliance.selection import feedback_events, outcome_fields, step_events
from tracker.events import Event
from tracker.fields import JsonValue
from tracker.rules import FieldType, RulePack
from tracker.workflow import CaseState


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """Everything one case contributes to a report."""

    clocks: tuple[ClockFact, ...]
    surveys: tuple[SurveyFact, ...]
    referral: ReferralFact
    feedback: tuple[FeedbackFact, ...]


def case_facts(pack: RulePack, state: CaseState, events: Sequence[Event]) -> CaseFacts:
    """The facts of one case for a report of `pack` (the version whose fields and events are reported)."""
    live = [e for e in events if e.seq not in state.voided and e.type in pack.events]
    owner_spec = pack.case_fields.get(pack.owner_field) if pack.owner_field else None
    owner = state.owner if owner_spec is not None and owner_spec.exportable else None
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
            final_status=c.final_status.value if isinstance(c.final_status, ClockStatus) else None,
            exception_reason=c.exception.reason if c.exception else None,
            exception_until=c.exception.until if c.exception else None,
            owner=owner,
        )
        for c in state.clocks
    )
    survey_event = pack.satisfaction.event if pack.satisfaction else None
    by_field = pack.satisfaction.by_field if pack.satisfaction else None
    group = state.fields.get(by_field) if by_field else None
    surveys = tuple(SurveyFact(state.ref, e.on, dict(e.data), group) for e in live if e.type == survey_event)
    outcomes: dict[str, JsonValue] = {}
    for name, carriers in outcome_fields(pack).items():
        types = {event for event, _spec in carriers}
        for event in _in_date_order(e for e in live if e.type in types and name in e.data):
            outcomes[name] = event.data[name]  # the last one wins
    steps: dict[str, dt.date] = {}
    for name in step_events(pack):
        dates = [e.on for e in live if e.type == name]
        if dates:
            steps[name] = min(dates)
    referral = ReferralFact(
        ref=state.ref,
        case_type=state.case_type,
        opened_on=state.opened_on,
        state=state.state,
        closed_on=state.closed_on,
        fields=dict(state.fields),
        outcomes=outcomes,
        steps=steps,
    )
    feedback = tuple(
        FeedbackFact(state.ref, e.type, e.on, _choices(pack, e))
        for e in live
        if e.type in set(feedback_events(pack))
    )
    return CaseFacts(clocks, surveys, referral, feedback)


def _in_date_order(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.on, e.seq))


def _choices(pack: RulePack, event: Event) -> dict[str, JsonValue]:
    """An event's exportable choice and yes/no values: never its free text."""
    kinds = (FieldType.CHOICE, FieldType.BOOLEAN)
    fields = pack.events[event.type].fields
    return {
        name: value
        for name, value in event.data.items()
        if name in fields and fields[name].exportable and fields[name].type in kinds
    }
