"""A rule pack's model: the pydantic types of a pack and the cross-references they must satisfy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tracker.domain.calendar import MAX_OFFSET_DAYS
from tracker.domain.rules.keys import check_keys, step_keys
from tracker.domain.toml_errors import did_you_mean

_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
_PACK_ID_PATTERN = r"^[a-z][a-z0-9-]*$"
PATTERN_HINTS = {
    _ID_PATTERN: "use lower-case letters, digits and _, starting with a letter",
    _PACK_ID_PATTERN: "use lower-case letters, digits and -, starting with a letter (such as send-mediation)",
}
_ID = Annotated[str, Field(pattern=_ID_PATTERN, max_length=48)]

_PACK_ID = Annotated[str, Field(pattern=_PACK_ID_PATTERN, max_length=48)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldType(StrEnum):
    """What a field holds; decides how input is parsed and whether the value may leave the provider."""

    STRING = "string"
    """A short value such as a caseworker's name; may appear in exports."""
    TEXT = "text"
    """Free text: a note, a reason. Never in an alert, log line or export."""
    DATE = "date"
    CHOICE = "choice"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    CLOCK = "clock"
    """The id of one of the pack's clocks."""
    EXCEPTION_REASON = "exception_reason"
    """One of the exception reasons the named clock allows."""


class Guard(_Strict):
    """One way an event may be accepted: every condition listed must hold."""

    case_types: list[_ID] | None = None
    """Only for these case types (default: any)."""
    after_any: list[_ID] = []
    """At least one of these events has happened, on or before the new event's date."""
    none_of: list[_ID] = []
    """None of these events has happened."""


class DueWarning(_Strict):
    """A date that is accepted with a warning when it falls after an open clock's due date."""

    clock: _ID
    text: str
    """The warning; `{due}` is replaced by the clock's due date."""


class DateBound(_Strict):
    """The event may not be dated before a date field of the latest earlier event of a type."""

    event: _ID
    field: _ID


class FieldSpec(_Strict):
    """One field of a case or an event."""

    type: FieldType
    title: str = ""
    """The label shown in forms and reports; defaults to the field name in words."""
    help: str = ""
    required: bool = False
    choices: list[str] | str | None = None
    """The allowed values of a `choice` field, or the name of a list in the pack's `[choices]` table."""
    personal: bool = False
    """Personal data (a name, a contact): shown to the caseworker only, never alerted, logged or exported."""
    contact: bool = False
    """An email address the case's letters are sent to (`caseclock send`); only on a personal string field."""
    not_before_event_date: bool = False
    """For a date field: the date may not be earlier than the event's own date."""
    min: int | None = None
    max: int | None = None
    group: str = ""
    """Where the field belongs in forms and reports, e.g. `referral` or `profile`."""
    when: dict[str, list[Guard]] = {}
    """For a choice field: the alternatives under which a value is accepted (a certificate's kind must
    match the case's path). A value not listed is accepted whenever the event is."""
    warn_after_due: DueWarning | None = None
    """For a date field: warn (but accept) when the date is after the due date of this open clock."""

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> FieldSpec:
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError("a choice field needs `choices`")
        if self.type is not FieldType.CHOICE and self.choices is not None:
            raise ValueError(f"`choices` only applies to choice fields, not {self.type.value}")
        if self.when and self.type is not FieldType.CHOICE:
            raise ValueError(f"`when` only applies to choice fields, not {self.type.value}")
        if self.contact and (self.type is not FieldType.STRING or not self.personal):
            raise ValueError("`contact` marks an email address: only on a string field with personal = true")
        if self.warn_after_due and self.type is not FieldType.DATE:
            raise ValueError(f"`warn_after_due` only applies to date fields, not {self.type.value}")
        return self

    @property
    def exportable(self) -> bool:
        """Whether the value may leave the provider (exports, alerts, logs)."""
        return not self.personal and self.type is not FieldType.TEXT

    def label(self, name: str) -> str:
        """The human label of the field called `name`."""
        return self.title or name.replace("_", " ").capitalize()


Role = Literal["open", "edit", "except_clock", "void", "erase"]


class EventSpec(_Strict):
    """An event type: when it is accepted and what it carries."""

    title: str
    action: str = ""
    """What the caseworker does, as a button or menu label ("Record LA/ICB notified")."""
    key: str | None = None
    """The key that records this step wherever it is offered (`l` for LA notified); default: the first
    free letter of the event's words, then of its name. One key per event, unique in the pack."""
    role: Role | None = None
    """Engine semantics: `open` creates the case, `edit` changes case fields, `except_clock` records a clock
    exception, `void` voids an earlier event (a correction), `erase` records that the case's personal data
    was erased (`caseclock erase` alone records it). Other events are plain facts."""
    milestone: bool = False
    """Reaching this event makes it the case's state."""
    once: bool = False
    case_types: list[_ID] | None = None
    when: list[Guard] = []
    """Alternatives; the event is accepted if any one holds (no alternatives: always)."""
    after_terminal: bool = False
    """Accepted after the case reached a terminal state (feedback often arrives later)."""
    fields: dict[_ID, FieldSpec] = {}
    required_fields: list[_ID] = []
    """Common fields this event cannot do without (a note's text)."""
    required_any: list[_ID] = []
    """At least one of these fields must be given (a survey with no answer at all is refused)."""
    not_before: list[DateBound] = []
    """Dates the event may not precede (a meeting is not held before the date it was scheduled for)."""


class DueRule(_Strict):
    """When a clock is due, counted from the start event (or a date field of it)."""

    working_days_after: Annotated[int, Field(ge=0, le=MAX_OFFSET_DAYS)] | None = None
    working_days_before: Annotated[int, Field(ge=0, le=MAX_OFFSET_DAYS)] | None = None
    calendar_days_after: Annotated[int, Field(ge=0, le=MAX_OFFSET_DAYS)] | None = None
    field: _ID | None = None
    """A date field of the start event to count from, instead of the event's own date."""

    @model_validator(mode="after")
    def _exactly_one(self) -> DueRule:
        given = [
            n
            for n in ("working_days_after", "working_days_before", "calendar_days_after")
            if getattr(self, n) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of working_days_after, working_days_before, calendar_days_after"
            )
        if self.working_days_before is not None and self.field is None:
            raise ValueError("working_days_before counts back from a date: name it with `field`")
        return self

    def describe(self) -> str:
        """The rule in words, e.g. "3 working days after"."""
        base = f" {self.field.replace('_', ' ')}" if self.field else ""
        if self.working_days_after is not None:
            return f"{self.working_days_after} working days after{base}"
        if self.working_days_before is not None:
            return f"{self.working_days_before} working days before{base}"
        return f"{self.calendar_days_after} calendar days after{base}"


class ClockSpec(_Strict):
    """A deadline: starts on an event, is due by a rule, stops on another event."""

    kpi: str
    """The KPI it measures, as the commissioner names it ("KPI 2")."""
    title: str
    action: str
    """What to do to stop the clock; used in alerts ("Notify the LA and ICB ...")."""
    case_types: list[_ID] | None = None
    start: list[_ID]
    stop: list[_ID]
    cancel: list[_ID] = []
    """Events that end the need for the clock: cancelled if not yet past due, else it stays breached."""
    restart: Literal["ignore", "supersede"] = "ignore"
    """What a start event does while the clock runs: nothing, or supersede it (a rescheduled meeting)."""
    due: DueRule
    exception_reasons: list[_ID] = []
    target: Annotated[float, Field(ge=0, le=100)] | None = None
    """The KPI target in percent."""


class MonthsFrom(_Strict):
    """Calendar months after a date: a date case field's value, or the date of the first event of a type."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    months_after: Annotated[int, Field(ge=0, le=24)]
    source: _ID = Field(alias="from")
    """A date case field (`decision_letter_on`) or an event type (`certificate_issued`)."""


Move = Literal["none", "next_working_day", "tribunal_sen"]
"""How a limit ending on a day is moved: not at all; rule 12(2) (to the next working day when it ends on a
non-working day); or rules 12(2) and 12(3) of the First-tier Tribunal (HESC) Rules for SEN cases."""


class WindowDue(_Strict):
    """When a window closes: the later of one or more calendar-month dates, then moved by `move`."""

    later_of: Annotated[list[MonthsFrom], Field(min_length=1)]
    move: Move = "none"


class WindowSpec(_Strict):
    """A window the parent or young person has (the tribunal appeal, reg 33 contact).

    Information for them: never a KPI, never alerted to the provider and never in compliance figures.
    """

    title: str
    help: str = ""
    """What it means for the parent, shown with the date."""
    case_types: list[_ID] | None = None
    due: WindowDue
    on_certificate: bool = False
    """The tribunal appeal deadline printed on the mediation certificate (`appeal_deadline`); one a pack."""
    warn_if_opened_after: str | None = None
    """A warning shown when the case was opened after the window closed; `{due}` is replaced by the date."""


class CaseTypeSpec(_Strict):
    """A kind of case the pack serves."""

    title: str


class SatisfactionSpec(_Strict):
    """The satisfaction KPI: the share of survey answers that agree."""

    event: _ID
    key: _ID
    """The KPI's id in reports ("kpi1")."""
    kpi: str
    title: str
    question: _ID
    target: Annotated[float, Field(ge=0, le=100)] | None = None
    agree: list[str]
    other_questions: list[_ID] = []
    by_field: _ID | None = None
    """A choice case field to report the KPI for each value of (each service-user group), each against
    the target."""


class ActivitySpec(_Strict):
    """The event that records a piece of work delivered (a session), and which of its fields to report."""

    event: _ID
    type_field: _ID
    """A choice field of the event: the type of activity."""
    length_field: _ID | None = None
    """An integer field of the event: the length, in minutes."""
    mode_field: _ID | None = None
    """A choice field of the event: how it was delivered (in person, online, ...)."""


class ReportingSpec(_Strict):
    """What a report counts besides the KPIs: the flow of cases through the service and the work done."""

    flow: list[_ID] = []
    """Milestone events counted per period: the cases with one dated in it (referred, assessed, exited)."""
    activity: ActivitySpec | None = None
    professionals: list[_ID] = []
    """Yes/no referral fields, one per professional or agency involved: the referrals with each one (yes)."""
    professionals_title: str = "Interface with other professionals"
    need: _ID | None = None
    """The choice referral field recording the need (the SEND pack's primary need): reported as `by_need`."""


class RetentionDefault(_Strict):
    """`[retention]` in a pack: how long its authors suggest keeping personal data.

    A default, not advice: the provider's own retention policy decides, in the configuration.
    """

    personal_data_years_after_end: Annotated[int, Field(ge=1, le=100)]
    """Years after the case ends (reaches one of `terminal_states`)."""
    basis: str = ""
    """Where the figure comes from, shown beside it."""


class RulePack(_Strict):
    """One version of a rule pack, validated."""

    id: _PACK_ID
    version: str
    effective_from: dt.date
    title: str
    description: str = ""
    reference_prefix: str = "C-"
    enabled_by_default: bool = True
    """Whether the pack is enabled when the configuration does not list `packs.enabled`."""
    owner_field: _ID | None = None
    """The case field naming the caseworker who owns the case (alert routing, the "Mine" view)."""
    terminal_states: list[_ID]
    case_types: dict[_ID, CaseTypeSpec]
    choices: dict[_ID, list[str]] = {}
    labels: dict[str, str] = {}
    case_fields: dict[_ID, FieldSpec]
    common_fields: dict[_ID, FieldSpec] = {}
    """Fields every event accepts (a note)."""
    events: dict[_ID, EventSpec]
    clocks: dict[_ID, ClockSpec] = {}
    windows: dict[_ID, WindowSpec] = {}
    """The parent's windows (information, never a KPI): shown on the case and explained, nothing else."""
    satisfaction: SatisfactionSpec | None = None
    reporting: ReportingSpec = ReportingSpec()
    retention: RetentionDefault | None = None
    """The pack's suggested retention of personal data: a documented default, applied only when the
    configuration's `[retention]` says so."""

    @model_validator(mode="after")
    def _references(self) -> RulePack:
        _check_pack(self)
        return self

    # -------------------------------------------------------------- look-ups used by the engine

    def event_with_role(self, role: Role) -> str | None:
        """The event type that plays `role`, if the pack has one."""
        return next((name for name, spec in self.events.items() if spec.role == role), None)

    @property
    def open_event(self) -> str:
        """The event type that creates a case."""
        name = self.event_with_role("open")
        assert name is not None  # guaranteed by validation
        return name

    def choices_of(self, spec: FieldSpec) -> list[str]:
        """The allowed values of a choice field, with named lists resolved."""
        if isinstance(spec.choices, str):
            return self.choices[spec.choices]
        return list(spec.choices or [])

    def label(self, value: str) -> str:
        """The human label of a choice value, event, state or clock id."""
        if value in self.labels:
            return self.labels[value]
        if value in self.events:
            return self.events[value].title
        if value in self.clocks:
            return self.clocks[value].title
        return value.replace("_", " ").capitalize()

    def event_fields(self, event_type: str) -> dict[str, FieldSpec]:
        """Every field an event of this type accepts: its own, case fields for open/edit, the common ones."""
        spec = self.events[event_type]
        fields: dict[str, FieldSpec] = {}
        if spec.role in ("open", "edit"):
            fields.update(self.case_fields)
        fields.update(spec.fields)
        fields.update(self.common_fields)
        return fields

    @cached_property
    def clocks_started_by(self) -> dict[str, list[tuple[str, ClockSpec]]]:
        """For each event type, the clocks it starts (the fold's hot path looks this up per event)."""
        started: dict[str, list[tuple[str, ClockSpec]]] = {}
        for clock_id, clock in self.clocks.items():
            for event in clock.start:
                started.setdefault(event, []).append((clock_id, clock))
        return started

    @cached_property
    def step_keys(self) -> dict[str, str]:
        """The key of each event a caseworker records (all but the opening and correction events)."""
        return step_keys(self)

    @property
    def states(self) -> list[str]:
        """The states a case can be in: the milestone events."""
        return [name for name, spec in self.events.items() if spec.milestone]


def _check_erase(pack: RulePack) -> None:
    """The erasure event changes nothing but the record: accepted in every state, no state, no free text."""
    name = pack.event_with_role("erase")
    if name is None:
        return
    spec = pack.events[name]
    if spec.milestone or not spec.after_terminal:
        raise ValueError(
            f"events.{name}: the event with role 'erase' must have milestone = false and "
            "after_terminal = true"
        )
    texts = [n for n, f in spec.fields.items() if f.type is FieldType.TEXT or f.personal]
    if texts:
        raise ValueError(
            f'events.{name}.fields: {texts} would be erased with the data they record; use type = "string"'
        )


def _check_pack(pack: RulePack) -> None:
    """Cross-references that pydantic's field types cannot check; raises ValueError naming the key."""
    events = set(pack.events)
    case_types = set(pack.case_types)

    def known(names: Iterable[str], universe: set[str], where: str, what: str) -> None:
        for name in names:
            if name not in universe:
                raise ValueError(f"{where}: unknown {what} {name!r}{did_you_mean(name, universe)}")

    roles = [spec.role for spec in pack.events.values() if spec.role]
    for role in set(roles):
        if roles.count(role) > 1:
            raise ValueError(f"events: more than one event has role {role!r}")
    if "open" not in roles:
        raise ValueError("events: one event must have role = 'open' (it creates the case)")
    open_spec = pack.events[pack.event_with_role("open") or ""]
    if not open_spec.milestone:
        raise ValueError("events: the event with role 'open' must be a milestone (it is the first state)")
    _check_erase(pack)
    known(pack.terminal_states, set(pack.states), "terminal_states", "milestone event")
    if "case_type" in pack.case_fields:
        raise ValueError("case_fields.case_type: the name is reserved for the case's type")
    if pack.owner_field is not None:
        known([pack.owner_field], set(pack.case_fields), "owner_field", "case field")

    def check_fields(fields: dict[str, FieldSpec], where: str) -> None:
        for name, spec in fields.items():
            if isinstance(spec.choices, str):
                known([spec.choices], set(pack.choices), f"{where}.{name}.choices", "choice list")
            if spec.type is FieldType.CHOICE:
                known(spec.when, set(pack.choices_of(spec)), f"{where}.{name}.when", "choice")
            for value, guards in spec.when.items():
                for i, guard in enumerate(guards):
                    known(guard.after_any, events, f"{where}.{name}.when.{value}[{i}].after_any", "event")
                    known(guard.none_of, events, f"{where}.{name}.when.{value}[{i}].none_of", "event")
            if spec.warn_after_due is not None:
                clock = spec.warn_after_due.clock
                known([clock], set(pack.clocks), f"{where}.{name}.warn_after_due.clock", "clock")

    check_keys(pack)
    check_fields(pack.case_fields, "case_fields")
    check_fields(pack.common_fields, "common_fields")
    for name, spec in pack.events.items():
        where = f"events.{name}"
        check_fields(spec.fields, f"{where}.fields")
        known(spec.case_types or [], case_types, f"{where}.case_types", "case type")
        for i, guard in enumerate(spec.when):
            known(guard.case_types or [], case_types, f"{where}.when[{i}].case_types", "case type")
            known(guard.after_any, events, f"{where}.when[{i}].after_any", "event")
            known(guard.none_of, events, f"{where}.when[{i}].none_of", "event")
        known(spec.required_fields, set(pack.event_fields(name)), f"{where}.required_fields", "field")
        known(spec.required_any, set(pack.event_fields(name)), f"{where}.required_any", "field")
        for i, bound in enumerate(spec.not_before):
            known([bound.event], events, f"{where}.not_before[{i}].event", "event")
            bound_field = pack.event_fields(bound.event).get(bound.field)
            if bound_field is None or bound_field.type is not FieldType.DATE:
                raise ValueError(
                    f"{where}.not_before[{i}].field: {bound.field!r} must be a date field of {bound.event!r}"
                )
        clash = set(spec.fields) & (set(pack.common_fields) | (set(pack.case_fields) if spec.role else set()))
        if clash:
            raise ValueError(f"{where}.fields: {sorted(clash)} already declared as case or common fields")
    for name, clock in pack.clocks.items():
        where = f"clocks.{name}"
        known(clock.start, events, f"{where}.start", "event")
        known(clock.stop, events, f"{where}.stop", "event")
        known(clock.cancel, events, f"{where}.cancel", "event")
        known(clock.case_types or [], case_types, f"{where}.case_types", "case type")
        if clock.due.field is not None:
            for start in clock.start:
                field = pack.event_fields(start).get(clock.due.field)
                if field is None or field.type is not FieldType.DATE or not field.required:
                    raise ValueError(
                        f"{where}.due.field: {clock.due.field!r} must be a required date field of "
                        f"every start event; {start!r} has none"
                    )
        if clock.exception_reasons and pack.event_with_role("except_clock") is None:
            raise ValueError(f"{where}.exception_reasons: the pack has no event with role 'except_clock'")
    _check_windows(pack, known)
    if pack.satisfaction is not None:
        sat = pack.satisfaction
        known([sat.event], events, "satisfaction.event", "event")
        survey_fields = pack.event_fields(sat.event)
        known([sat.question, *sat.other_questions], set(survey_fields), "satisfaction", "field")
        if sat.by_field is not None:
            by = pack.case_fields.get(sat.by_field)
            if by is None or by.type is not FieldType.CHOICE:
                raise ValueError(f"satisfaction.by_field: {sat.by_field!r} must be a choice case field")
    _check_reporting(pack, known)


def _check_windows(pack: RulePack, known: Callable[[Iterable[str], set[str], str, str], None]) -> None:
    """Each window counts from date case fields or events of the pack, and is named unlike any clock."""
    dates = {name for name, spec in pack.case_fields.items() if spec.type is FieldType.DATE}
    for name, window in pack.windows.items():
        where = f"windows.{name}"
        if name in pack.clocks:
            raise ValueError(f"{where}: a clock has the same name; give the window another")
        known(window.case_types or [], set(pack.case_types), f"{where}.case_types", "case type")
        for i, term in enumerate(window.due.later_of):
            if term.source not in dates and term.source not in pack.events:
                raise ValueError(
                    f"{where}.due.later_of[{i}].from: {term.source!r} is neither a date case field nor an "
                    f"event{did_you_mean(term.source, dates | set(pack.events))}"
                )
    certificates = [name for name, window in pack.windows.items() if window.on_certificate]
    if len(certificates) > 1:
        raise ValueError(f"windows: only one window may have on_certificate = true, not {certificates}")


def _check_reporting(pack: RulePack, known: Callable[[Iterable[str], set[str], str, str], None]) -> None:
    """The `[reporting]` table names events and fields of the pack, of the right types."""
    known(pack.reporting.flow, set(pack.events), "reporting.flow", "event")
    referral = [(field, FieldType.BOOLEAN, "professionals") for field in pack.reporting.professionals]
    if pack.reporting.need is not None:
        referral.append((pack.reporting.need, FieldType.CHOICE, "need"))
    for field, field_type, where in referral:
        case_field = pack.case_fields.get(field)
        if (
            case_field is None
            or case_field.type is not field_type
            or not case_field.exportable
            or case_field.group != "referral"
        ):
            raise ValueError(
                f"reporting.{where}: {field!r} must be a case field of type {field_type.value} in group "
                f"'referral'{did_you_mean(field, set(pack.case_fields))}"
            )
    activity = pack.reporting.activity
    if activity is None:
        return
    known([activity.event], set(pack.events), "reporting.activity.event", "event")
    fields = pack.event_fields(activity.event)
    wanted = {
        "type_field": (activity.type_field, FieldType.CHOICE),
        "length_field": (activity.length_field, FieldType.INTEGER),
        "mode_field": (activity.mode_field, FieldType.CHOICE),
    }
    for key, (name, kind) in wanted.items():
        if name is None:
            continue
        spec = fields.get(name)
        if spec is None or spec.type is not kind:
            raise ValueError(
                f"reporting.activity.{key}: {name!r} must be a field of event {activity.event!r} "
                f"of type {kind.value}"
            )
