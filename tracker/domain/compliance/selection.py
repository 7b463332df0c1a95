"""What a rule pack says to report: which fields and events feed a compliance report, and its definitions.

Pure: read by `tracker.domain.compliance.counting` (what to count), `tracker.domain.compliance.facts` and
`tracker.reports.report` (what to read), and the exports' Notes (each KPI's definition in words). Everything
here is derived from the pack, so a new pack reports its own fields without a code change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import TypeVar

from tracker.domain.errors import InvalidValue
from tracker.domain.periods import Period
from tracker.domain.rules import FieldSpec, FieldType, PackRegistry, RulePack

_T = TypeVar("_T")


def per_pack(derive: Callable[[RulePack], _T]) -> Callable[[RulePack], _T]:
    """`derive`, once per pack object: the counts ask for it for every case (never mutate what it gives)."""
    memo: dict[int, tuple[RulePack, _T]] = {}

    @wraps(derive)
    def derived(pack: RulePack) -> _T:
        held = memo.get(id(pack))
        if held is None or held[0] is not pack:
            held = memo[id(pack)] = (pack, derive(pack))
        return held[1]

    return derived


REFERRAL_GROUP = "referral"
"""FieldSpec.group of the case fields reported as referral breakdowns (others are profile breakdowns)."""


def report_version(packs: PackRegistry, pack_id: str | None, period: Period) -> RulePack:
    """The pack version a report uses: `pack_id` (default: the first enabled) in force at the period's end.

    Raises:
        InvalidValue: no enabled pack has that id (`--pack`).
    """
    ids = list(packs)
    chosen = pack_id or ids[0]
    if chosen not in ids:
        raise InvalidValue("--pack", chosen, f"use one of the enabled rule packs: {', '.join(ids)}")
    return packs.in_force(chosen, period.end)


def owner_shown(pack: RulePack, *, with_caseworkers: bool = False) -> bool:
    """Whether a report shows a case's caseworker: only the provider's copy does (`--with-caseworkers`).

    And only when the pack's owner field may leave the provider. Staff names stay with the provider: a
    commissioner's copy (the default) names no caseworker.
    """
    spec = pack.case_fields.get(pack.owner_field) if pack.owner_field else None
    return with_caseworkers and spec is not None and spec.exportable


@per_pack
def breakdown_fields(pack: RulePack) -> list[tuple[str, FieldSpec]]:
    """The case fields broken down in reports: exportable choice and yes/no fields, in pack order."""
    kinds = (FieldType.CHOICE, FieldType.BOOLEAN)
    return [(name, spec) for name, spec in pack.case_fields.items() if spec.exportable and spec.type in kinds]


@per_pack
def outcome_fields(pack: RulePack) -> dict[str, list[tuple[str, FieldSpec]]]:
    """Outcome field name -> the (event type, spec) pairs that carry it.

    Outcomes are the exportable choice fields of the plain (role-less) milestone events: what the case
    reached (a meeting's outcome, a certificate's kind, an exit reason), as opposed to the details of
    repeated steps or later feedback.
    """
    found: dict[str, list[tuple[str, FieldSpec]]] = {}
    for event, spec in pack.events.items():
        if spec.role is not None or not spec.milestone:
            continue
        for name, field in spec.fields.items():
            if field.exportable and field.type is FieldType.CHOICE:
                found.setdefault(name, []).append((event, field))
    return found


@per_pack
def outcome_carriers(pack: RulePack) -> dict[str, tuple[list[str], list[str]]]:
    """Outcome field -> (the event types that carry it, those of them that require it), each sorted.

    The cases an outcome breakdown counts are those with an event dated in the period that records the
    outcome, or that requires it and so should have (an exit recorded without its reason: not recorded).
    An event where the field is optional and left out (a mediation case's closing, which records no
    outcome: the field is for disagreement resolution) does not bring its case in.
    """
    return {
        name: (
            sorted({event for event, _spec in carriers}),
            sorted({event for event, spec in carriers if spec.required}),
        )
        for name, carriers in outcome_fields(pack).items()
    }


@per_pack
def step_events(pack: RulePack) -> list[str]:
    """The events whose first date is measured from the referral: every clock's stop events, in order."""
    return list(dict.fromkeys(event for clock in pack.clocks.values() for event in clock.stop))


@per_pack
def feedback_events(pack: RulePack) -> list[str]:
    """Events accepted after a case ends, with fields of their own, other than the survey and corrections."""
    survey = pack.satisfaction.event if pack.satisfaction else None
    return [
        name
        for name, spec in pack.events.items()
        if spec.after_terminal and spec.role is None and spec.fields and name != survey
    ]


def text_fields(pack: RulePack, event: str) -> list[str]:
    """The free-text fields an event accepts (counted in reports, never shown)."""
    return [name for name, spec in pack.event_fields(event).items() if spec.type is FieldType.TEXT]


def definitions(pack: RulePack) -> tuple[tuple[str, str], ...]:
    """(KPI label, how it is measured) for every KPI of the pack, in words, from the pack itself."""
    found = []

    def words(events: Sequence[str]) -> str:
        return " or ".join(pack.label(e) for e in events)

    def target_words(target: float | None) -> str:
        return f"target {target:g}%" if target is not None else "no target"

    if pack.satisfaction is not None:
        sat = pack.satisfaction
        question = pack.event_fields(sat.event)[sat.question].label(sat.question)
        each = ""
        if sat.by_field is not None:  # one measure per group: "Outcome: Adoptive parent", ...
            field = pack.case_fields[sat.by_field]
            groups = ", ".join(f"{sat.kpi}: {pack.label(value)}" for value in pack.choices_of(field))
            each = (
                f", for each {field.label(sat.by_field).lower()} group on its own (the group of the "
                f"survey's case), each a KPI ({groups}); no combined result is rated"
            )
        found.append(
            (
                sat.kpi,
                f'{sat.title}: surveys dated in the period answering "{question}" with '
                f"{words(sat.agree)}, as a share of the surveys that answered it{each}; "
                f"{target_words(sat.target)}{' for each' if each else ''}.",
            )
        )
    for clock in pack.clocks.values():
        text = (
            f"{clock.title}: starts on {words(clock.start)}; due {clock.due.describe()}"
            f"{'' if clock.due.field else ' it starts'}; met when "
            f"{words(clock.stop)} is recorded on or before the due date"
        )
        if clock.cancel:
            text += f"; cancelled by {words(clock.cancel)} if not yet past due"
        if clock.exception_reasons:
            text += f"; exceptions allowed: {', '.join(pack.label(r) for r in clock.exception_reasons)}"
        found.append((clock.kpi, f"{text}; {target_words(clock.target)}."))
    return tuple(found)


def labels(pack: RulePack) -> dict[str, str]:
    """Words for every id a report may show: case types, events, clocks, exception reasons, choices."""
    found = {name: spec.title for name, spec in pack.case_types.items()}
    found.update({name: spec.title for name, spec in pack.events.items()})
    found.update({name: spec.title for name, spec in pack.clocks.items()})
    for clock in pack.clocks.values():
        found.update({reason: pack.label(reason) for reason in clock.exception_reasons})
    found.update(pack.labels)
    return found
