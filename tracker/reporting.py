"""The compliance report of a period, read from the store: THE computation behind every compliance figure.

`compliance_report` is what the TUI's compliance screen and `caseclock export` (every format) both call, so
the screen and the files a commissioner receives can never disagree. It reads the facts with a handful of
set-based queries over the projections (clocks by due date, cases by opening date, events by type and date)
and hands them to the pure `tracker.compliance.compute`, which owns every counting rule. Each query is its
own read transaction: a step recorded while a report is being read may show in one part and not yet in
another, which the next run puts right (reports are for closed periods; writers are never blocked).

An adapter: may use the store (SQLAlchemy); knows no rule pack by name.
"""

from __future__ import annotations

import datetime as dt

from tracker.compliance import (
    ActivityFact,
    ClockFact,
    ComplianceReport,
    FeedbackFact,
    FlowFact,
    ReferralFact,
    SurveyFact,
    WaitFact,
    breakdown_fields,
    compute,
    feedback_events,
    outcome_fields,
    step_events,
)
from tracker.errors import InvalidValue
from tracker.fields import JsonValue
from tracker.periods import Period
from tracker.rules import FieldType, RulePack
from tracker.store import Store


def report_pack(store: Store, pack_id: str | None, period: Period) -> RulePack:
    """The pack version a report uses: `pack_id` (default: the first enabled) in force at the period's end.

    Raises:
        InvalidValue: no enabled pack has that id (`--pack`).
    """
    packs = store.rules.packs
    ids = list(packs)
    chosen = pack_id or ids[0]
    if chosen not in ids:
        raise InvalidValue("--pack", chosen, f"use one of the enabled rule packs: {', '.join(ids)}")
    return packs.in_force(chosen, period.end)


def compliance_report(
    store: Store, pack_id: str | None, period: Period, as_of: dt.date, *, suppress: bool = True
) -> ComplianceReport:
    """The compliance report of one rule pack for a period, as of a date.

    The one computation shared by the TUI's compliance screen and `caseclock export`: call it, never
    recount.

    Args:
        store: The event store to read.
        pack_id: The rule pack reported (None: the first enabled pack).
        period: The reporting period (`tracker.periods.parse_period`).
        as_of: 'Today' for the clocks still open (the CLI's `--as-of`).
        suppress: Show counts of 1-4 people in breakdowns as "<5" (off: `--no-suppression`).

    Raises:
        InvalidValue: `pack_id` is not an enabled pack.
        StoreUnavailable: the database cannot be read.
    """
    pack = report_pack(store, pack_id, period)
    # The referrals first: their working set (every step of every case opened) is freed before the clocks,
    # the largest facts, are read, which keeps a large year's peak memory down.
    referrals = _referrals(store, pack, period)
    surveys = _surveys(store, pack, period)
    feedback = _feedback(store, pack, period)
    flow = [
        FlowFact(*row)
        for row in store.report_dated_values(pack.reporting.flow, pack.id, period.start, period.end)
    ]
    activities = _activities(store, pack, period)
    waits = list(map(WaitFact._make, store.report_waits(pack.id, period.start, period.end)))
    clocks = _clocks(store, pack, period)
    return compute(
        pack,
        period,
        as_of,
        clocks,
        surveys,
        referrals,
        feedback,
        suppress=suppress,
        flow=flow,
        activities=activities,
        waits=waits,
        calendar=store.rules.calendar,
    )


def _activities(store: Store, pack: RulePack, period: Period) -> list[ActivityFact]:
    spec = pack.reporting.activity
    if spec is None:
        return []
    keys = [spec.type_field]
    keys += [name for name in (spec.length_field, spec.mode_field) if name is not None]
    facts = []
    for ref, _type, on, activity, *rest in store.report_dated_values(
        [spec.event], pack.id, period.start, period.end, keys
    ):
        minutes = _integer(rest.pop(0)) if spec.length_field is not None else None
        mode = rest.pop(0) if spec.mode_field is not None else None
        facts.append(ActivityFact(ref, on, activity, minutes, mode))
    return facts


def _integer(text: str | None) -> int | None:
    """An integer field's value as the database gives it back as text ("45"), None when missing."""
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def _clocks(store: Store, pack: RulePack, period: Period) -> list[ClockFact]:
    owner_spec = pack.case_fields.get(pack.owner_field) if pack.owner_field else None
    rows = store.report_clocks(period.start, period.end, pack.id)
    if owner_spec is not None and owner_spec.exportable:
        return list(map(ClockFact._make, rows))
    return [ClockFact._make(row)._replace(owner=None) for row in rows]


def _surveys(store: Store, pack: RulePack, period: Period) -> list[SurveyFact]:
    if pack.satisfaction is None:
        return []
    spec = pack.satisfaction
    events = store.report_events([spec.event], pack.id, period.start, period.end, case_field=spec.by_field)
    return [SurveyFact(e.ref, e.on, e.data, e.case_value) for e in events]


def _feedback(store: Store, pack: RulePack, period: Period) -> list[FeedbackFact]:
    kinds = (FieldType.CHOICE, FieldType.BOOLEAN)
    facts = []
    for e in store.report_events(feedback_events(pack), pack.id, period.start, period.end):
        fields = pack.events[e.type].fields
        choices = {
            name: value
            for name, value in e.data.items()
            if name in fields and fields[name].exportable and fields[name].type in kinds
        }
        facts.append(FeedbackFact(e.ref, e.type, e.on, choices))
    return facts


def _referrals(store: Store, pack: RulePack, period: Period) -> list[ReferralFact]:
    outcomes_by_field = outcome_fields(pack)
    keys = list(outcomes_by_field)
    carriers = [{event for event, _spec in outcomes_by_field[key]} for key in keys]
    steps = set(step_events(pack))
    types = steps | {event for events in carriers for event in events}
    outcomes: dict[int, dict[str, tuple[tuple[dt.date, int], JsonValue]]] = {}
    first: dict[int, dict[str, dt.date]] = {}
    for case_id, seq, kind, on, *values in store.report_event_values(
        sorted(types), pack.id, period.start, period.end, keys
    ):
        if kind in steps:
            seen = first.setdefault(case_id, {})
            if kind not in seen or on < seen[kind]:
                seen[kind] = on
        for key, value, events in zip(keys, values, carriers, strict=True):
            if value is not None and kind in events:
                mine = outcomes.setdefault(case_id, {})
                if key not in mine or (on, seq) >= mine[key][0]:  # the last one recorded wins
                    mine[key] = ((on, seq), value)
    texts = [name for name, spec in breakdown_fields(pack) if spec.type is not FieldType.BOOLEAN]
    flags = [name for name, spec in breakdown_fields(pack) if spec.type is FieldType.BOOLEAN]
    names = texts + flags
    facts = []
    for case_id, ref, case_type, state, opened_on, closed_on, *values in store.cases_opened(
        period.start, period.end, pack.id, texts, flags
    ):
        facts.append(
            ReferralFact(
                ref=ref,
                case_type=case_type,
                opened_on=opened_on,
                state=state,
                closed_on=closed_on,
                fields={name: value for name, value in zip(names, values, strict=True) if value is not None},
                outcomes={name: value for name, (_at, value) in outcomes.get(case_id, {}).items()},
                steps=first.get(case_id, {}),
            )
        )
    return facts
