"""The case state machine: deciding whether an event fits, and folding events into a case's state.

Commands return events, and a projector folds them:

* `decide_open`, `decide` and `decide_void` validate a proposed event against the rule pack and the case's
  history and return the `Event` to append, or raise `EventRefused`/`InvalidValue` (nothing is written);
* `project(rules, ref, events)` folds a history, skipping voided events, and is what `rebuild` uses;
  `advance(rules, state, history, event)` is the incremental path: one fold step (`apply`) when the new
  event comes after everything folded, else a refold.

There is one order for everything, the *fold order*: business date, then recording order within a day.
The state and the clocks are folded in it, and a new event is judged where it falls in it, so a step
recorded a few days late (caseworkers often do) counts exactly as if it had been recorded on time.

Everything service-specific (event names, states, guards, fields, clocks) comes from the rule pack.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.clocks import SUPERSEDED, ClockException, ClockInstance, due_date
from tracker.domain.errors import EventRefused, InvalidValue
from tracker.domain.events import REASON, VOIDS, Event
from tracker.domain.fields import JsonValue, parse_field
from tracker.domain.rules import EventSpec, FieldSpec, FieldType, Guard, PackRegistry, RulePack, did_you_mean

_FAR_FUTURE = dt.date(2100, 12, 31)

CASE_TYPE_KEY = "case_type"
"""Key in the opening event's payload that stores the case type (engine-defined, not a pack field)."""


@dataclass(frozen=True)
class Rules:
    """Everything the fold needs besides the events: the packs, the calendar, configured defaults."""

    packs: PackRegistry
    calendar: WorkingCalendar
    field_defaults: Mapping[str, str] = field(default_factory=dict)
    """Default values of case fields from the configuration (`[cases.defaults]`)."""
    default_case_type: str | None = None
    """The case type `open` uses without `--type` (`cases.default_type`); else the first enabled."""

    def pack(self, state: CaseState) -> RulePack:
        """The pack version that governs a case's events and fields."""
        return self.packs.in_force(state.pack_id, state.opened_on)

    def fingerprint(self) -> str:
        """What the projections of the cases depend on, as a short hash.

        Every version of every enabled pack (with the configuration's overrides) and the working-day
        calendar: projections computed with another are out of date until `rebuild`.
        """
        parts = [
            version.model_dump_json()
            for pack_id in sorted(self.packs)
            for version in self.packs.versions(pack_id)
        ]
        parts.append(self.calendar.fingerprint())
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CaseState:
    """A case as its non-voided events make it; rebuilt by folding, never edited."""

    ref: str
    pack_id: str
    pack_version: str
    case_type: str
    opened_on: dt.date
    state: str
    latest_on: dt.date
    """The latest business date of the events folded: a new event dated earlier makes the case refold."""
    fields: Mapping[str, JsonValue]
    """Case field values that may appear in reports."""
    personal: Mapping[str, JsonValue]
    """Personal field values: for the caseworker's eyes only."""
    happened: Mapping[str, tuple[dt.date, ...]]
    """Dates of every non-voided event by type."""
    last_seq: int
    clocks: tuple[ClockInstance, ...] = ()
    voided: Mapping[int, str] = field(default_factory=dict)
    """Voided event seqs and their reasons."""
    closed_on: dt.date | None = None
    """The date it reached a terminal state, if it has."""
    owner: str | None = None
    """The caseworker who owns the case (the pack's `owner_field`), for routing and the "Mine" view."""
    latest_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The data of the latest event of each type, in fold order (the meeting date last scheduled)."""

    @property
    def terminal(self) -> bool:
        """Whether the case has reached a terminal state (closed, withdrawn, ...)."""
        return self.closed_on is not None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A whole case: its folded state and its full history (voided events included)."""

    state: CaseState
    events: tuple[Event, ...]


# ---------------------------------------------------------------------------------------------- fold


class Fact(Protocol):
    """What the fold reads of an event: an `Event`, or a database row with the same attributes."""

    @property
    def seq(self) -> int:
        """The event's number in its case, in recording order."""
        ...

    @property
    def type(self) -> str:
        """The event type."""
        ...

    @property
    def on(self) -> dt.date:
        """The business date it happened."""
        ...

    @property
    def data(self) -> Mapping[str, Any]:
        """Its fields."""
        ...


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
        if not _applies(clock.case_types, state.case_type):
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
    clock = event.data.get(_field_of_type(fields, FieldType.CLOCK) or "")
    reason = event.data.get(_field_of_type(fields, FieldType.EXCEPTION_REASON) or "")
    until = event.data.get(_field_of_type(fields, FieldType.DATE) or "")
    note = event.data.get(_field_of_type(fields, FieldType.TEXT) or "")
    if not clock or not reason:
        return None
    return str(clock), ClockException(
        reason=str(reason),
        until=dt.date.fromisoformat(str(until)) if until else None,
        note=str(note) if note else None,
        seq=event.seq,
        on=event.on,
    )


def _field_of_type(fields: Mapping[str, FieldSpec], kind: FieldType) -> str | None:
    return next((name for name, spec in fields.items() if spec.type is kind), None)


def _applies(case_types: list[str] | None, case_type: str) -> bool:
    return case_types is None or case_type in case_types


# ---------------------------------------------------------------------------------------------- decide


def decide_open(
    rules: Rules,
    ref: str,
    case_type: str | None,
    on: dt.date,
    raw_fields: Mapping[str, object],
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> Event:
    """The opening event of a new case, or a refusal."""
    chosen = case_type or rules.default_case_type or rules.packs.default_case_type
    pack_id = rules.packs.pack_for_case_type(chosen)
    if pack_id is None:
        raise InvalidValue("--type", chosen, f"use one of {', '.join(rules.packs.case_types)}")
    pack = rules.packs.in_force(pack_id, on)
    if on > today:
        raise EventRefused(
            f"case {ref}: cannot be opened on {on.isoformat()}, after today ({today.isoformat()}); "
            "date it today or earlier"
        )
    merged: dict[str, object] = {
        name: value for name, value in rules.field_defaults.items() if name in pack.case_fields
    }
    merged.update(raw_fields)
    data = _parse_fields(pack, pack.open_event, merged, today, f"case {ref}: {pack.open_event}")
    data[CASE_TYPE_KEY] = chosen
    return Event(seq=1, type=pack.open_event, on=on, data=data, actor=actor, recorded_at=now)


def decide(
    rules: Rules,
    state: CaseState,
    history: Sequence[Fact],
    event_type: str,
    on: dt.date,
    raw_fields: Mapping[str, object],
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> Event:
    """The next event of an existing case, or a refusal that names the case, event, state and options.

    `history` is the case's events so far (those that made `state`): a step dated before the latest of
    them is judged where it falls in the fold order, and refused if a later step would no longer fit.
    """
    pack = rules.pack(state)
    spec = pack.events.get(event_type)
    where = f"case {state.ref}: {event_type}"
    if spec is None:
        raise EventRefused(
            f"case {state.ref}: {event_type!r} is not an event of {pack.id}"
            f"{did_you_mean(event_type, _recordable(pack))}; "
            f"allowed now: {', '.join(allowed_events(rules, state, today)) or 'nothing'}"
        )
    if spec.role == "open":
        raise EventRefused(f"{where}: the case is already open (opened {state.opened_on.isoformat()})")
    if spec.role == "void":
        raise EventRefused(
            f"{where}: to correct a mistake, void the event: caseclock void {state.ref} SEQ --reason TEXT"
        )
    data = _parse_fields(pack, event_type, raw_fields, today, where)
    event = Event(seq=state.last_seq + 1, type=event_type, on=on, data=data, actor=actor, recorded_at=now)
    if on >= state.latest_on or on < state.opened_on:
        _check_fits(rules, state, event, today)
        return event
    # Recorded late: judged against the case as its events dated up to then made it, and every later
    # step must still fit after it.
    correction = pack.event_with_role("void")
    key = fold_key(event)
    earlier = [e for e in history if e.type == correction or fold_key(e) < key]
    _check_fits(rules, project(rules, state.ref, earlier), event, today, back_dated=True)
    later = _first_misfit(rules, state, [*history, event], set(state.voided), since=key)
    if later is not None:
        misfit, problem = later
        raise EventRefused(
            f"{where} dated {on.isoformat()} would leave event {misfit.seq} ({misfit.type} on "
            f"{misfit.on.isoformat()}) not fitting: {problem.reason}; void event {misfit.seq} first"
        )
    return event


def decide_void(
    rules: Rules,
    events: Sequence[Event],
    state: CaseState,
    seq: int,
    reason: str,
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> Event:
    """A correction voiding event `seq`, refused if the rest of the history would no longer fit."""
    pack = rules.pack(state)
    correction = pack.event_with_role("void")
    where = f"case {state.ref}: void {seq}"
    if correction is None:
        raise EventRefused(f"{where}: pack {pack.id} has no correction event, so events cannot be voided")
    target = next((e for e in events if e.seq == seq), None)
    if target is None:
        raise InvalidValue(
            "SEQ",
            seq,
            f"case {state.ref} has events 1 to {state.last_seq}; `caseclock show {state.ref}` lists them",
        )
    if not reason.strip():
        raise InvalidValue("--reason", reason, "say why the event is void, e.g. --reason 'wrong case'")
    if target.type == correction:
        raise EventRefused(
            f"{where}: event {seq} is itself a correction; record the voided step again instead"
        )
    if target.type == pack.open_event:
        raise EventRefused(
            f"{where}: the opening event cannot be voided; record withdrawn to close a case opened in error"
        )
    if seq in state.voided:
        raise EventRefused(f"{where}: event {seq} is already void ({state.voided[seq]})")
    later = _first_misfit(rules, state, events, set(state.voided) | {seq}, since=fold_key(target))
    if later is not None:
        misfit, problem = later
        raise EventRefused(
            f"case {state.ref}: void {seq}: event {misfit.seq} ({misfit.type}) would no longer fit: "
            f"{problem.reason}; void event {misfit.seq} first"
        )
    data: dict[str, JsonValue] = {VOIDS: seq, REASON: reason.strip()}
    return Event(seq=state.last_seq + 1, type=correction, on=today, data=data, actor=actor, recorded_at=now)


def _first_misfit(
    rules: Rules, state: CaseState, events: Sequence[Fact], skip: set[int], since: tuple[dt.date, int]
) -> tuple[Fact, _Misfit] | None:
    """Refold `events` less `skip` in fold order: the first event after `since` that no longer fits."""
    pack = rules.pack(state)
    correction = pack.event_with_role("void")
    replay: CaseState | None = None
    for event in fold_order(events):
        if event.seq in skip or event.type == correction:
            continue
        if replay is not None and fold_key(event) > since:
            spec = pack.events.get(event.type)
            problem = spec and _misfit(replay, pack, event.type, spec, event.on, event.data)
            if problem:
                return event, problem
        replay = apply(rules, replay, state.ref, event)
    return None


def _recordable(pack: RulePack) -> list[str]:
    return [name for name, spec in pack.events.items() if spec.role not in ("open", "void")]


def _parse_fields(
    pack: RulePack,
    event_type: str,
    raw_fields: Mapping[str, object],
    today: dt.date,
    where: str,
) -> dict[str, JsonValue]:
    accepted = pack.event_fields(event_type)
    spec = pack.events[event_type]
    data: dict[str, JsonValue] = {}
    for name, raw in raw_fields.items():
        field_spec = accepted.get(name)
        if field_spec is None:
            known = ", ".join(accepted) or "none"
            hint = did_you_mean(name, accepted)
            raise InvalidValue(name, raw, f"{event_type} has no field {name}{hint}; its fields: {known}")
        value = parse_field(pack, name, field_spec, raw, today)
        if value is None:
            continue
        data[name] = value
    required = [n for n, s in spec.fields.items() if s.required] + list(spec.required_fields)
    if spec.role == "open":
        required += [n for n, s in pack.case_fields.items() if s.required]
    for name in required:
        if name not in data:
            option = name.replace("_", "-")
            raise InvalidValue(name, "(missing)", f"{where} needs {name}: add --{option} VALUE")
    if spec.required_any and not any(name in data for name in spec.required_any):
        first = spec.required_any[0]
        raise InvalidValue(
            first,
            "(missing)",
            f"{where} needs at least one of {_or(spec.required_any)}: add --{first.replace('_', '-')} VALUE",
        )
    return data


@dataclass(frozen=True, slots=True)
class _Misfit:
    """Why an event does not fit: about one of its fields (its date included), or about the case's state."""

    reason: str
    field: str | None = None
    """The field at fault (`on` for the event's date); None when the event does not fit the state."""
    value: object = None
    allowed: tuple[str, ...] = ()
    """The values the field could take instead, where the pack can say."""


def _check_fits(
    rules: Rules, state: CaseState, event: Event, today: dt.date, back_dated: bool = False
) -> None:
    pack = rules.pack(state)
    problem = _misfit(state, pack, event.type, pack.events[event.type], event.on, event.data, today)
    if problem is None:
        return
    where = f"case {state.ref}: {event.type}"
    if problem.field is not None:
        fix = problem.reason
        if problem.allowed:
            fix += f"; use one of {', '.join(problem.allowed)}"
        raise InvalidValue(problem.field, problem.value, f"{where}: {fix}", allowed=problem.allowed)
    allowed = ", ".join(allowed_events(rules, state, _FAR_FUTURE))
    if back_dated:
        raise EventRefused(
            f"{where} dated {event.on.isoformat()} does not fit state {state.state} of that date: "
            f"{problem.reason}; allowed then: {allowed or 'nothing (the case had ended)'}"
        )
    raise EventRefused(
        f"{where} does not fit state {state.state}: {problem.reason}; "
        f"allowed now: {allowed or 'nothing (the case is finished)'}"
    )


def _misfit(
    state: CaseState,
    pack: RulePack,
    event_type: str,
    spec: EventSpec,
    on: dt.date,
    data: Mapping[str, JsonValue],
    today: dt.date = _FAR_FUTURE,
) -> _Misfit | None:
    """Why the event does not fit where it falls after `state`, or None when it does."""
    if on > today:
        return _Misfit(
            f"it is after today ({today.isoformat()}); a step is recorded once it has happened (a planned "
            "date goes in its date field)",
            "on",
            on.isoformat(),
        )
    if on < state.opened_on:
        return _Misfit(
            f"it is before the case was opened on {state.opened_on.isoformat()}", "on", on.isoformat()
        )
    if state.terminal and not spec.after_terminal:
        return _Misfit(f"the case is {state.state} and takes only {', '.join(_after_terminal(pack))} now")
    if not _applies(spec.case_types, state.case_type):
        return _Misfit(f"{state.case_type} cases have no {event_type}")
    if spec.once and event_type in state.happened:
        return _Misfit(f"{event_type} was already recorded on {state.happened[event_type][0].isoformat()}")
    if spec.when:
        problem = _guards_problem(state, spec.when)
        if problem is not None:
            return _Misfit(
                problem if problem != _NOT_THIS_TYPE else f"{state.case_type} cases have no {event_type}"
            )
    for bound in spec.not_before:
        bound_date = state.latest_data.get(bound.event, {}).get(bound.field)
        if bound_date is not None and on.isoformat() < str(bound_date):
            label = pack.event_fields(bound.event)[bound.field].label(bound.field).lower()
            return _Misfit(
                f"it is before the {label} {bound_date} of {bound.event}; if it happened earlier, record "
                f"{bound.event} with the real date first",
                "on",
                on.isoformat(),
            )
    for name, field_spec in spec.fields.items():
        value = data.get(name)
        if value is None:
            continue
        if field_spec.not_before_event_date and str(value) < on.isoformat():
            return _Misfit(
                f"it is before the event's own date {on.isoformat()}; give a date on or after it", name, value
            )
        guards = field_spec.when.get(str(value))
        if guards:
            problem = _guards_problem(state, guards)
            if problem is not None:
                fitting = [
                    choice
                    for choice in pack.choices_of(field_spec)
                    if _guards_problem(state, field_spec.when.get(choice, [])) is None
                ]
                return _Misfit(f"{value} does not fit this case: it {problem}", name, value, tuple(fitting))
    if spec.role == "except_clock":
        return _exception_problem(state, pack, event_type, data, on)
    return None


_NOT_THIS_TYPE = "\0"


def _guards_problem(state: CaseState, guards: Sequence[Guard]) -> str | None:
    """None when one of the alternatives holds, else why the first that applies to the case type fails."""
    if not guards:
        return None
    reasons = [_guard_problem(state, guard) for guard in guards]
    if any(r is None for r in reasons):
        return None
    applicable = [r for r in reasons if r is not None and r != _NOT_THIS_TYPE]
    return applicable[0] if applicable else _NOT_THIS_TYPE


def _guard_problem(state: CaseState, guard: Guard) -> str | None:
    # The state holds only the events before the new one in fold order, so "after" needs no date check.
    if guard.case_types is not None and state.case_type not in guard.case_types:
        return _NOT_THIS_TYPE
    if guard.after_any and not any(name in state.happened for name in guard.after_any):
        return f"needs {_or(guard.after_any)} first"
    present = [name for name in guard.none_of if name in state.happened]
    if present:
        return f"not after {_or(present)}"
    return None


def _exception_problem(
    state: CaseState, pack: RulePack, event_type: str, data: Mapping[str, JsonValue], on: dt.date
) -> _Misfit | None:
    fields = pack.event_fields(event_type)
    clock_field = _field_of_type(fields, FieldType.CLOCK) or ""
    reason_field = _field_of_type(fields, FieldType.EXCEPTION_REASON) or ""
    clock_id = str(data.get(clock_field, ""))
    reason = str(data.get(reason_field, ""))
    exceptable = tuple(sorted({c.clock for c in state.clocks if c.live and c.spec.exception_reasons}))
    live = [c for c in state.clocks if c.clock == clock_id and c.live]
    if not live:
        return _Misfit(
            f"clock {clock_id} is not running on {on.isoformat()}", clock_field, clock_id, exceptable
        )
    allowed = live[-1].spec.exception_reasons
    if not allowed:
        return _Misfit(f"clock {clock_id} allows no exceptions", clock_field, clock_id, exceptable)
    if reason not in allowed:
        return _Misfit(
            f"{reason} is not an exception reason of {clock_id}", reason_field, reason, tuple(allowed)
        )
    return None


def _or(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _after_terminal(pack: RulePack) -> list[str]:
    return [n for n, s in pack.events.items() if s.after_terminal and s.role != "void"]


def allowed_events(rules: Rules, state: CaseState, on: dt.date) -> list[str]:
    """The event types the pack would accept next on `on` (fields aside): the actions to offer."""
    pack = rules.pack(state)
    allowed = []
    for name, spec in pack.events.items():
        if spec.role in ("open", "void"):
            continue
        if spec.role == "except_clock":
            if state.terminal or not any(c.live and c.spec.exception_reasons for c in state.clocks):
                continue
            allowed.append(name)
            continue
        problem = _misfit(state, pack, name, spec, max(on, state.opened_on), {})
        if problem is None or problem.field is not None:  # a field can be put right in the form
            allowed.append(name)
    return allowed


def warnings_for(rules: Rules, state: CaseState, event_type: str, data: Mapping[str, object]) -> list[str]:
    """What to tell the caseworker about an event that is accepted all the same.

    A meeting date after the 30-day deadline, say: the pack's `warn_after_due` of each date field given,
    against the case's open clocks.
    """
    pack = rules.pack(state)
    if event_type not in pack.events:
        return []
    found = []
    for name, field_spec in pack.event_fields(event_type).items():
        warning, value = field_spec.warn_after_due, data.get(name)
        if warning is None or value is None:
            continue
        for clock in state.clocks:
            if clock.clock == warning.clock and clock.open and clock.due_on.isoformat() < str(value):
                found.append(warning.text.format(due=clock.due_on.isoformat()))
    return found
