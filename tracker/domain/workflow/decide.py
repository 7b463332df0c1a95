"""Deciding whether a proposed event fits a case: the event to append, or a refusal that says why.

`decide_open`, `decide` and `decide_void` judge an event against the rule pack and the case's history, in
the fold order: a step recorded late is judged where it falls, and refused only if a later step would no
longer fit after it. A refusal about a field (its date included) is an `InvalidValue` naming the field and
the values that fit; one about the case's state is an `EventRefused` naming the state and what is allowed.
`allowed_events` offers the next steps, `warnings_for` what to tell about an event accepted all the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracker.domain.errors import EventRefused, InvalidValue
from tracker.domain.events import REASON, VOIDS, Event
from tracker.domain.fields import JsonValue, field_anywhere, parse_field, withheld_as
from tracker.domain.personal import ERASED_BY
from tracker.domain.rules import EventSpec, FieldType, Guard, RulePack, did_you_mean
from tracker.domain.workflow.fold import applies, apply, field_of_type, fold_key, fold_order, project
from tracker.domain.workflow.state import CASE_TYPE_KEY, CaseState, Fact, Rules

_FAR_FUTURE = dt.date(2100, 12, 31)


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
            "date it today or earlier",
            reason=f"it is after today ({today.isoformat()}); date it today or earlier",
            field="on",
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
    if spec.role == "erase":
        raise EventRefused(
            f"{where}: personal data is erased by its own command: caseclock erase {state.ref} --reason TEXT"
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
            f"{misfit.on.isoformat()}) not fitting: {problem.reason}; void event {misfit.seq} first",
            reason=f"event {misfit.seq} ({misfit.type} on {misfit.on.isoformat()}) would no longer fit: "
            f"{problem.reason}; void event {misfit.seq} first",
            field="on",
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
        raise InvalidValue(
            "--reason",
            reason,
            "say why the event is void, e.g. --reason 'wrong case'",
            reason="say why the event is void, e.g. wrong case",
        )
    if target.type == correction:
        raise EventRefused(
            f"{where}: event {seq} is itself a correction; record the voided step again instead"
        )
    if target.type == pack.event_with_role("erase"):
        raise EventRefused(f"{where}: event {seq} records an erasure, which cannot be undone")
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
            f"{problem.reason}; void event {misfit.seq} first",
            reason=f"event {misfit.seq} ({misfit.type}) would no longer fit: {problem.reason}; "
            f"void event {misfit.seq} first",
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
    return [name for name, spec in pack.events.items() if spec.role not in ("open", "void", "erase")]


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
            raise InvalidValue(
                name,
                raw,
                f"{event_type} has no field {name}{hint}; its fields: {known}",
                withheld=withheld_as(field_anywhere(pack, name)),
            )
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
            raise InvalidValue(
                name, InvalidValue.MISSING, f"{where} needs {name}: add --{option} VALUE", reason="needed"
            )
    if spec.required_any and not any(name in data for name in spec.required_any):
        first = spec.required_any[0]
        raise InvalidValue(
            first,
            InvalidValue.MISSING,
            f"{where} needs at least one of {_or(spec.required_any)}: add --{first.replace('_', '-')} VALUE",
            allowed=tuple(spec.required_any),
            reason="give at least one of these",
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
        raise InvalidValue(
            problem.field,
            problem.value,
            f"{where}: {fix}",
            allowed=problem.allowed,
            reason=problem.reason,
            withheld=_withheld(pack, event.type, problem.field),
        )
    fitting = tuple(allowed_events(rules, state, _FAR_FUTURE))
    allowed = ", ".join(fitting)
    if back_dated:
        raise EventRefused(
            f"{where} dated {event.on.isoformat()} does not fit state {state.state} of that date: "
            f"{problem.reason}; allowed then: {allowed or 'nothing (the case had ended)'}",
            reason=problem.reason,
            allowed=fitting,
            field="on",
        )
    raise EventRefused(
        f"{where} does not fit state {state.state}: {problem.reason}; "
        f"allowed now: {allowed or 'nothing (the case is finished)'}",
        reason=problem.reason,
        allowed=fitting,
    )


def _withheld(pack: RulePack, event_type: str, name: str) -> str | None:
    """Why a refusal about field `name` of the event must not show its value (None: it may)."""
    if name == "on":  # the event's own date
        return None
    return withheld_as(pack.event_fields(event_type).get(name))


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
    if not applies(spec.case_types, state.case_type):
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
    clock_field = field_of_type(fields, FieldType.CLOCK) or ""
    reason_field = field_of_type(fields, FieldType.EXCEPTION_REASON) or ""
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


def decide_erase(
    rules: Rules, state: CaseState, reason: str, actor: str, now: dt.datetime, today: dt.date
) -> Event:
    """The event recording that a case's personal data was erased: who and why, nothing personal.

    Accepted in every state (it is no step of the case) and changes neither its state nor its clocks.
    """
    pack = rules.pack(state)
    name = pack.event_with_role("erase")
    if name is None:
        raise EventRefused(
            f"case {state.ref}: pack {pack.id} has no event with role 'erase'; add one to the pack "
            "(see rules/send-mediation.toml, personal_data_erased)"
        )
    if not reason.strip():
        raise InvalidValue("--reason", reason, "say why the data is erased, e.g. --reason 'retention policy'")
    data: dict[str, JsonValue] = {REASON: reason.strip(), ERASED_BY: actor}
    on = max(today, state.opened_on)
    return Event(seq=state.last_seq + 1, type=name, on=on, data=data, actor=actor, recorded_at=now)


def _after_terminal(pack: RulePack) -> list[str]:
    return [n for n, s in pack.events.items() if s.after_terminal and s.role not in ("void", "erase")]


def allowed_events(rules: Rules, state: CaseState, on: dt.date) -> list[str]:
    """The event types the pack would accept next on `on` (fields aside): the actions to offer."""
    pack = rules.pack(state)
    allowed = []
    for name, spec in pack.events.items():
        if spec.role in ("open", "void", "erase"):
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


def fitting_choices(rules: Rules, state: CaseState, event_type: str, field: str) -> list[str]:
    """The values of a choice field of `event_type` that fit the case now (its `when` guards hold).

    A certificate's kind after a meeting held is `after_mediation` alone; a form fills in a field with one
    fitting value. A field without guards, or one no value of which fits, gives all its values.
    """
    pack = rules.pack(state)
    spec = pack.event_fields(event_type).get(field) if event_type in pack.events else None
    if spec is None or spec.type is not FieldType.CHOICE:
        return []
    choices = pack.choices_of(spec)
    fitting = [c for c in choices if _guards_problem(state, spec.when.get(c, [])) is None]
    return fitting or choices


def clocks_stopped_by(rules: Rules, state: CaseState, event_type: str) -> list[str]:
    """The running clocks of the case that `event_type` would stop: the steps a caseworker should do next."""
    return list(dict.fromkeys(c.clock for c in state.clocks if c.live and event_type in c.spec.stop))
