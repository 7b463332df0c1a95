"""Folding a case's events into its state and clocks, in the one fold order.

`project(rules, ref, events)` folds a whole history, skipping voided events (`rebuild` uses it);
`advance(rules, state, history, event)` is the incremental path: one step (`apply`) when the new event
comes after everything folded, else a refold. The fold order is business date, then recording order
within a day, for the state and the clocks alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from tracker.domain.clocks import SUPERSEDED, ClockException, ClockInstance, due_date
from tracker.domain.errors import EventRefused
from tracker.domain.events import REASON, VOIDS
from tracker.domain.fields import JsonValue
from tracker.domain.rules import EventSpec, FieldSpec, FieldType, RulePack
from tracker.domain.workflow.state import CASE_TYPE_KEY, CaseState, Fact, Rules

F = TypeVar("F", bound=Fact)

_seq = attrgetter("seq")


def fold_key(event: Fact) -> tuple[dt.date, int]:
    """The fold order of a case's events: business date, then recording order within a day."""
    return (event.on, event.seq)


def fold_order(events: Iterable[F]) -> list[F]:
    """Events in fold order, the one order of the state, the clocks and the acceptance of a new event."""
    return sorted(events, key=fold_key)


def project(rules: Rules, ref: str, events: Iterable[Fact]) -> CaseState:
    """Fold a case's full history (corrections included, in any order) into its state."""
    history = list(events)
    if not history:
        raise ValueError(f"case {ref} has no events")
    opening = min(history, key=_seq)
    pack = rules.packs.in_force(_pack_of(rules, opening), opening.on)
    correction = pack.event_with_role("void")
    voided = {int(e.data[VOIDS]): str(e.data.get(REASON, "")) for e in history if e.type == correction}
    fold = _Fold(_opened(rules, ref, opening))
    for event in fold_order(history):
        if event is opening or event.seq in voided or event.type == correction:
            continue
        fold.step(rules, event)
    fold.voided = voided
    fold.last_seq = max(map(_seq, history))
    return fold.freeze()


def apply(rules: Rules, state: CaseState | None, ref: str, event: Fact) -> CaseState:
    """One step of the fold: the state after `event`, which must fit and come after every event folded."""
    if state is None:
        return _opened(rules, ref, event)
    fold = _Fold(state)
    fold.step(rules, event)
    return fold.freeze()


def advance(rules: Rules, state: CaseState, history: Sequence[Fact], event: Fact) -> CaseState:
    """The state once `event` is appended to `history`, the events that made `state`.

    One fold step when the event comes after every event folded; a refold of the whole history when it is
    dated earlier (a step recorded late) or voids an earlier event.
    """
    if event.on < state.latest_on or event.type == rules.pack(state).event_with_role("void"):
        return project(rules, state.ref, [*history, event])
    return apply(rules, state, state.ref, event)


class _Fold:
    """A CaseState being folded: mutable while the events are applied, frozen at the end (for speed)."""

    def __init__(self, state: CaseState) -> None:
        self.changes: dict[str, Any] = {}
        self.base = state
        self.happened = dict(state.happened)
        self.clocks = list(state.clocks)
        self.voided: Mapping[int, str] = state.voided
        self.last_seq = state.last_seq
        self.pack: RulePack | None = None
        self.latest_on = state.latest_on
        self.latest_data = dict(state.latest_data)

    def step(self, rules: Rules, event: Fact) -> None:
        base = self.base
        if self.pack is None:
            self.pack = rules.pack(base)
        pack = self.pack
        event_type, on, seq = event.type, event.on, event.seq  # read once: rows are slower than locals
        spec = pack.events.get(event_type)
        happened = self.happened
        happened[event_type] = (*happened.get(event_type, ()), on)
        self.last_seq = max(self.last_seq, seq)
        self.latest_on = on  # events arrive in fold order
        self.latest_data[event_type] = event.data
        if spec is not None:
            if spec.milestone:
                terminal = event_type in pack.terminal_states
                closed = self.changes.get("closed_on", base.closed_on) is not None
                # A case that reached a terminal state stays in it: histories recorded before events were
                # judged in fold order may hold a step dated after the case ended.
                if terminal or not closed:
                    self.changes["state"] = event_type
                if terminal and not closed:
                    self.changes["closed_on"] = on
            if spec.role == "edit":
                fields, personal = _split_case_fields(pack, event.data)
                merged = {**self.changes.get("fields", base.fields), **fields}
                self.changes["fields"] = merged
                self.changes["personal"] = {**self.changes.get("personal", base.personal), **personal}
                self.changes["owner"] = _owner(pack, merged)
        if self.clocks or event_type in pack.clocks_started_by or rules.packs.has_versions(base.pack_id):
            _advance_clocks(rules, base, pack, spec, event, self.clocks)

    def freeze(self) -> CaseState:
        return dataclasses.replace(
            self.base,
            happened=self.happened,
            clocks=tuple(self.clocks),
            voided=self.voided,
            last_seq=self.last_seq,
            latest_on=self.latest_on,
            latest_data=self.latest_data,
            **self.changes,
        )


def _pack_of(rules: Rules, opening: Fact) -> str:
    case_type = str(opening.data.get(CASE_TYPE_KEY, ""))
    pack_id = rules.packs.pack_for_case_type(case_type)
    if pack_id is None:
        raise EventRefused(f"case type {case_type!r} belongs to no enabled rule pack")
    return pack_id


def _opened(rules: Rules, ref: str, event: Fact) -> CaseState:
    pack_id = _pack_of(rules, event)
    pack = rules.packs.in_force(pack_id, event.on)
    fields, personal = _split_case_fields(pack, event.data)
    state = CaseState(
        ref=ref,
        pack_id=pack_id,
        pack_version=pack.version,
        case_type=str(event.data[CASE_TYPE_KEY]),
        opened_on=event.on,
        state=event.type,
        latest_on=event.on,
        fields=fields,
        personal=personal,
        happened={event.type: (event.on,)},
        last_seq=event.seq,
        owner=_owner(pack, fields),
        latest_data={event.type: event.data},
    )
    if not pack.clocks_started_by.get(event.type) and not rules.packs.has_versions(pack_id):
        return state
    clocks: list[ClockInstance] = []  # the opening event may start a clock (a referral's waiting time)
    _advance_clocks(rules, state, pack, pack.events[event.type], event, clocks)
    return dataclasses.replace(state, clocks=tuple(clocks))


def _owner(pack: RulePack, fields: Mapping[str, JsonValue]) -> str | None:
    value = fields.get(pack.owner_field) if pack.owner_field else None
    return str(value) if value else None


def _split_case_fields(
    pack: RulePack, data: Mapping[str, object]
) -> tuple[dict[str, JsonValue], dict[str, JsonValue]]:
    fields: dict[str, JsonValue] = {}
    personal: dict[str, JsonValue] = {}
    for name, value in data.items():
        spec = pack.case_fields.get(name)
        if spec is not None:
            (personal if spec.personal else fields)[name] = value  # type: ignore[assignment]
    return fields, personal


def _advance_clocks(
    rules: Rules,
    state: CaseState,
    pack: RulePack,
    spec: EventSpec | None,
    event: Fact,
    clocks: list[ClockInstance],
) -> None:
    """Stop, cancel, except and start clock instances for `event`, in place."""
    event_type, on = event.type, event.on
    exception = _exception_of(pack, spec, event)
    for i, instance in enumerate(clocks):
        if instance.stopped_on is not None or instance.ended_on is not None:
            continue
        if event_type in instance.spec.stop:
            clocks[i] = instance.stop(on)
        elif event_type in instance.spec.cancel:
            clocks[i] = instance.end(on, event_type)
        elif exception is not None and exception[0] == instance.clock:
            clocks[i] = instance.excepted(exception[1])
    governing = rules.packs.in_force(state.pack_id, on)
    for clock_id, clock in governing.clocks_started_by.get(event_type, ()):
        if not applies(clock.case_types, state.case_type):
            continue
        running = [i for i, c in enumerate(clocks) if c.clock == clock_id and c.live]
        if running:
            if clock.restart != "supersede":
                continue
            for i in running:
                clocks[i] = clocks[i].end(event.on, SUPERSEDED)
        number = 1 + sum(1 for c in clocks if c.clock == clock_id)
        clocks.append(
            ClockInstance(
                clock=clock_id,
                number=number,
                pack_version=governing.version,
                starts_on=event.on,
                due_on=due_date(clock, rules.calendar, event.on, event.data),
                start_seq=event.seq,
                spec=clock,
            )
        )


def _exception_of(pack: RulePack, spec: EventSpec | None, event: Fact) -> tuple[str, ClockException] | None:
    if spec is None or spec.role != "except_clock":
        return None
    fields = pack.event_fields(event.type)
    clock = event.data.get(field_of_type(fields, FieldType.CLOCK) or "")
    reason = event.data.get(field_of_type(fields, FieldType.EXCEPTION_REASON) or "")
    until = event.data.get(field_of_type(fields, FieldType.DATE) or "")
    note = event.data.get(field_of_type(fields, FieldType.TEXT) or "")
    if not clock or not reason:
        return None
    return str(clock), ClockException(
        reason=str(reason),
        until=dt.date.fromisoformat(str(until)) if until else None,
        note=str(note) if note else None,
        seq=event.seq,
        on=event.on,
    )


def field_of_type(fields: Mapping[str, FieldSpec], kind: FieldType) -> str | None:
    """The name of the first field of type `kind` (an exception's clock, reason, date), if any."""
    return next((name for name, spec in fields.items() if spec.type is kind), None)


def applies(case_types: list[str] | None, case_type: str) -> bool:
    """Whether something limited to `case_types` (None: any) applies to a case of `case_type`."""
    return case_types is None or case_type in case_types
