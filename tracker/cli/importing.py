"""Checking CSV imports of cases and surveys, row by row, before anything is written.

`caseclock import cases|surveys FILE.csv` (tracker.cli.commands.reports) reads the file with `read_csv`,
checks every row here with the same parsing and the same state machine as `caseclock open` / `record`
(`decide_open`, `decide`), and writes only when every row is good (or, with `--skip-bad`, the good ones).
Pure: the command passes in what the store knows (references already used, surveys already recorded).

Columns, matched case-insensitively (spaces and hyphens count as underscores):

* cases: `reference` (or `ref`), `type` (default: the first case type), the open event's name or
  `opened_on` (the date the case was opened), any case field by name or title, any event type by name
  (the date it happened, e.g. `mediation_requested`), and event fields as `event.field` or, when only one
  event has that field, just `field` (e.g. `meeting_date`). Each event once per row, in date order.
* surveys: `reference`, the survey event's name or `date`, and its fields by name or title
  (`satisfied` or "I was satisfied with the service").

The file's shape is checked by `tracker.cli.csv_reading` as it is read (a row with too many or too few
cells, an unclosed quote, a NUL byte or non-UTF-8 bytes is refused by line, and such a file is refused whole,
`--skip-bad` or not). A refusal never shows the value of a personal or free-text field: it names the column.

Re-importing creates nothing twice: a case whose reference is already used is skipped; a survey identical
(same case, date and answers, a response-id column included) to one already recorded or to an earlier row
is skipped.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker.cli.csv_reading import CsvFile, column_key
from tracker.cli.csv_reading import open_csv as open_csv
from tracker.domain.dates import parse_date
from tracker.domain.errors import EventRefused, InvalidValue, Refused
from tracker.domain.events import Event
from tracker.domain.fields import field_anywhere, normalise_choice, withheld_as
from tracker.domain.refs import REFERENCE_HELP, is_reference
from tracker.domain.rules import FieldSpec, FieldType, RulePack
from tracker.domain.workflow import CaseRecord, CaseState, Rules, advance, decide, decide_open, project

REF_COLUMNS = ("reference", "ref")
TYPE_COLUMNS = ("type", "case_type")
OPENED_COLUMN = "opened_on"
DATE_COLUMNS = ("date", "on")


_CHUNK = 1000
"""Rows checked together: one look-up of the references already used per chunk."""


@dataclass(frozen=True, slots=True)
class BadRow:
    """One refused row: where it is, the cell at fault (what it holds, unless withheld) and why.

    A row whose shape is wrong (`malformed`) has no column: the row as a whole cannot be read.
    """

    line: int
    column: str
    value: str | None
    why: str
    withheld: str | None = None
    """Why the value is not shown ("personal", "free text"): then `value` is None."""

    @property
    def malformed(self) -> bool:
        """Whether the row could not be read as a row at all (its shape), rather than a value refused."""
        return not self.column

    def __str__(self) -> str:
        if self.malformed:
            return f"line {self.line}: {self.why}"
        if self.withheld is not None:
            return f"line {self.line}, column {self.column} ({self.withheld}, value not shown): {self.why}"
        return f"line {self.line}, column {self.column}: {self.value!r}: {self.why}"

    @classmethod
    def of(cls, line: int, column: str, error: InvalidValue, why: str | None = None) -> BadRow:
        """The bad row of a refused value, withheld as the refusal withholds it."""
        value = None if error.withheld is not None else str(error.value)
        return cls(line, column, value, error.fix if why is None else why, error.withheld)


_EventParts = tuple[int, str, dt.date, dict[str, Any], str, dt.datetime, int]
_EVENT_FIELDS = set(Event.model_fields)  # shared by the rebuilt events: frozen, so never changed


@dataclass(frozen=True, slots=True)
class NewCase:
    """A new case as checked: its events' parts (not the events: see `Checked.take_histories`).

    The store folds the case again from its stored facts when it writes it (`Store.encode_histories`), so
    the state the check folded is not kept.
    """

    ref: str
    parts: tuple[_EventParts, ...]

    @classmethod
    def of(cls, ref: str, events: Sequence[Event]) -> NewCase:
        """The case of these decided events."""
        parts = tuple((e.seq, e.type, e.on, e.data, e.actor, e.recorded_at, e.schema_version) for e in events)
        return cls(ref, parts)

    def events(self) -> list[Event]:
        """The events again, as decided: built without validating twice, sharing one set of field names."""
        return [
            Event.model_construct(
                _EVENT_FIELDS,
                seq=seq,
                type=kind,
                on=on,
                data=data,
                actor=actor,
                recorded_at=recorded_at,
                schema_version=version,
            )
            for seq, kind, on, data, actor, recorded_at, version in self.parts
        ]


@dataclass
class Checked:
    """The outcome of checking a file: what to write, what is already there, what is refused."""

    cases: list[NewCase] = field(default_factory=list)
    """New cases, decided, for `Store.encode_histories` through `take_histories()`.

    A decided event is a pydantic model of about 1 KiB; its parts take a tenth of that, so a 50,000-row
    file is held in a tenth of the memory until it is written.
    """
    surveys: list[tuple[int, str, dt.date, dict[str, object]]] = field(default_factory=list)
    """New survey events: (line, reference, date, raw fields), ready for `Store.record`."""
    skipped: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, reference, why) of rows already imported."""
    bad: list[BadRow] = field(default_factory=list)

    def take_histories(self) -> Iterator[tuple[str, list[Event]]]:
        """(reference, events) of each new case in file order, each let go of once taken.

        The events are built as they are taken, so a large file's cases are never all held as events.
        """
        cases, self.cases = self.cases, []
        cases.reverse()
        while cases:
            case = cases.pop()
            yield case.ref, case.events()

    @property
    def malformed(self) -> bool:
        """Whether some row could not be read as a row: the file is refused whole, even with --skip-bad."""
        return any(bad.malformed for bad in self.bad)

    def add_malformed(self, file: CsvFile) -> None:
        """The rows the reader refused for their shape, among the others in line order."""
        self.bad.extend(BadRow(m.line, "", None, m.why) for m in file.malformed)
        self.bad.sort(key=lambda bad: bad.line)


def _column_map(pack: RulePack) -> dict[str, tuple[str, str | None]]:
    """Column key -> (event type or "" for a case field, field name or None for the event's date)."""
    found: dict[str, tuple[str, str | None]] = {OPENED_COLUMN: (pack.open_event, None)}
    owners: dict[str, list[str]] = {}
    for event, spec in pack.events.items():
        if spec.role in ("open", "edit", "void", "except_clock", "erase"):
            continue
        found[event] = (event, None)
        for name in spec.fields:
            found[f"{event}.{name}"] = (event, name)
            owners.setdefault(name, []).append(event)
    for name, events in owners.items():
        if len(events) == 1 and name not in pack.case_fields:
            found.setdefault(name, (events[0], name))
    for name, field_spec in pack.case_fields.items():
        found[name] = ("", name)
        found.setdefault(column_key(field_spec.label(name)), ("", name))
    found[pack.open_event] = (pack.open_event, None)
    return found


def check_cases(
    rules: Rules,
    file: CsvFile,
    existing: Callable[[Collection[str]], set[str]],
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> Checked:
    """Decide every row of a cases file as `open` and `record` would; nothing is written here.

    Args:
        rules: The rule packs and calendar.
        file: The open file (`open_csv`), read here a row at a time.
        existing: Which of some references are already used (asked once per chunk of rows).
        actor: Who records the cases.
        now: When they are recorded.
        today: The as-of date.
    """
    checked = Checked()
    packs = [rules.packs.latest(pack_id) for pack_id in rules.packs]
    maps = {pack.id: _column_map(pack) for pack in packs}
    targets: dict[str, object] = {}
    for key in {key for columns in maps.values() for key in columns}:
        targets[key] = tuple(columns.get(key) for columns in maps.values())
    for key in REF_COLUMNS:
        targets[key] = "reference"
    for key in TYPE_COLUMNS:
        targets[key] = "type"
    _check_header(file.header, targets, checked)
    _need(file.header, REF_COLUMNS, "reference", checked)
    if checked.bad:
        return checked
    free_text = {
        key
        for pack in packs
        for key, (event, name) in maps[pack.id].items()
        if name is not None and _is_text(_spec(pack, event, name))
    }
    seen: dict[str, int] = {}
    rows = iter(file.rows(free_text))
    while chunk := list(itertools.islice(rows, _CHUNK)):
        used = existing({ref for _line, row in chunk if (ref := first_ref(row))})
        for line, row in chunk:
            _check_case(rules, maps, line, row, seen, used, checked, actor, now, today)
    checked.add_malformed(file)
    return checked


def _check_case(
    rules: Rules,
    maps: Mapping[str, Mapping[str, tuple[str, str | None]]],
    line: int,
    row: Mapping[str, str],
    seen: dict[str, int],
    used: set[str],
    checked: Checked,
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> None:
    ref = _first(row, REF_COLUMNS)
    problem = _ref_problem(ref, seen, line)
    if problem:
        checked.bad.append(BadRow(line, "reference", ref, problem))
        return
    seen[ref] = line
    if ref in used:
        checked.skipped.append((line, ref, "a case with this reference exists already"))
        return
    try:
        events, _state = _case_events(rules, maps, row, ref, actor, now, today)
        checked.cases.append(NewCase.of(ref, events))
    except _Bad as bad:
        checked.bad.append(bad.at(line))


def _spec(pack: RulePack, event: str, name: str) -> FieldSpec | None:
    return pack.case_fields.get(name) if event == "" else pack.event_fields(event).get(name)


def _is_text(spec: FieldSpec | None) -> bool:
    return spec is not None and spec.type is FieldType.TEXT


class _Bad(Exception):
    def __init__(self, column: str, value: str, why: str, withheld: str | None = None) -> None:
        super().__init__(why)
        self.column, self.value, self.why, self.withheld = column, value, why, withheld

    @classmethod
    def of(cls, column: str, error: InvalidValue) -> _Bad:
        return cls(column, str(error.value), error.fix, error.withheld)

    def at(self, line: int) -> BadRow:
        value = None if self.withheld is not None else self.value
        return BadRow(line, self.column, value, self.why, self.withheld)


def _case_events(
    rules: Rules,
    maps: Mapping[str, Mapping[str, tuple[str, str | None]]],
    row: Mapping[str, str],
    ref: str,
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> tuple[list[Event], CaseState]:
    """The row's events, decided in date order, and the case's state after them."""
    case_type = _first(row, TYPE_COLUMNS) or rules.packs.default_case_type
    type_key = normalise_choice(case_type)
    pack_id = rules.packs.pack_for_case_type(type_key)
    if pack_id is None:
        raise _Bad("type", case_type, f"use one of {', '.join(rules.packs.case_types)}")
    columns = maps[pack_id]
    pack = rules.packs.latest(pack_id)
    opened_column = next((k for k in (pack.open_event, OPENED_COLUMN) if row.get(k)), pack.open_event)
    opened = _date(row.get(opened_column, ""), opened_column, today)
    case_fields: dict[str, object] = {}
    steps: dict[str, dict[str, object]] = {}
    dates: dict[str, dt.date] = {}
    for key, text in row.items():
        if not text or key in REF_COLUMNS or key in TYPE_COLUMNS or key == opened_column:
            continue
        if key not in columns:
            raise _Bad(
                key,
                text,
                f"{pack.id} has no such field or event; leave the column empty",
                withheld_as(field_anywhere(pack, key)),
            )
        event, name = columns[key]
        if event == "":
            case_fields[str(name)] = text
        elif name is None:
            dates[event] = _date(text, key, today)
        else:
            steps.setdefault(event, {})[name] = text
    for event in steps:
        if event not in dates:
            raise _Bad(event, "", f"a value is given for {event}'s fields: give the date of {event} too")
    try:
        first = decide_open(rules, ref, type_key, opened, case_fields, actor, now, today)
    except InvalidValue as error:
        raise _Bad.of(error.field, error) from None
    except Refused as error:
        raise _Bad(opened_column, opened.isoformat(), str(error)) from None
    events = [first]
    state: CaseState = project(rules, ref, events)
    order = list(pack.events)
    for event in sorted(dates, key=lambda e: (dates[e], order.index(e))):
        try:
            decided = decide(
                rules, state, events, event, dates[event], steps.get(event, {}), actor, now, today
            )
        except InvalidValue as error:
            raise _Bad.of(_field_column(event, error.field), error) from None
        except EventRefused as error:
            raise _Bad(event, dates[event].isoformat(), str(error)) from None
        state = advance(rules, state, events, decided)
        events.append(decided)
    return events, state


def survey_free_text(pack: RulePack) -> set[str]:
    """The column keys of a surveys file that may hold line breaks: its free-text answers (a comment)."""
    assert pack.satisfaction is not None, "the command checks that the pack has a survey"
    fields = pack.event_fields(pack.satisfaction.event)
    return {key for n, s in fields.items() if _is_text(s) for key in (n, column_key(s.label(n)))}


def check_surveys(
    rules: Rules,
    pack: RulePack,
    header: Sequence[str],
    rows: Iterable[tuple[int, Mapping[str, str]]],
    cases: Mapping[str, CaseRecord],
    recorded: set[tuple[str, dt.date, tuple[tuple[str, str], ...]]],
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> Checked:
    """Check every row of a surveys file against its case, as `record REF <survey event>` would.

    Args:
        rules: The rule packs and calendar.
        pack: The pack whose survey event the file holds.
        header: The file's column names.
        rows: (line number, row by column) of every row after the header.
        cases: The cases the file names, by reference (a missing one is a bad row).
        recorded: (reference, date, answers) of the surveys already recorded, to skip them.
        actor: Who records them.
        now: When they are recorded.
        today: The as-of date (no survey dated after it).
    """
    checked = Checked()
    assert pack.satisfaction is not None, "the command checks that the pack has a survey"
    event = pack.satisfaction.event
    fields = pack.event_fields(event)
    columns = {name: name for name in fields} | {column_key(s.label(n)): n for n, s in fields.items()}
    date_columns = (event, *DATE_COLUMNS)
    targets: dict[str, object] = dict(columns)
    targets.update({key: "reference" for key in REF_COLUMNS} | {key: "date" for key in date_columns})
    _check_header(header, targets, checked)
    _need(header, REF_COLUMNS, "reference", checked)
    _need(header, date_columns, "date", checked)
    if checked.bad:
        return checked
    seen = set(recorded)
    for line, row in rows:
        ref = _first(row, REF_COLUMNS)
        date_column = next((k for k in date_columns if row.get(k)), "date")
        case = cases.get(ref)
        answers = {columns[k]: v for k, v in row.items() if k in columns and v}
        try:
            if case is None:
                raise _Bad("reference", ref, "no case has this reference; import or open the case first")
            on = _date(row.get(date_column, ""), date_column, today)
            decided = decide(rules, case.state, case.events, event, on, answers, actor, now, today)
        except InvalidValue as error:
            column = date_column if error.field == "on" else error.field
            checked.bad.append(BadRow.of(line, column, error))
            continue
        except EventRefused as error:
            checked.bad.append(BadRow(line, date_column, row.get(date_column, ""), str(error)))
            continue
        except _Bad as bad:
            checked.bad.append(bad.at(line))
            continue
        key = survey_key(ref, on, decided.data)
        if key in seen:
            checked.skipped.append((line, ref, "the same survey is already recorded"))
            continue
        seen.add(key)
        checked.surveys.append((line, ref, on, dict(answers)))
    return checked


def survey_key(
    ref: str, on: dt.date, data: Mapping[str, object]
) -> tuple[str, dt.date, tuple[tuple[str, str], ...]]:
    """How a survey is recognised when the same file is imported again: case, date and every answer."""
    return ref, on, tuple(sorted((k, str(v)) for k, v in data.items()))


# ---------------------------------------------------------------------------------------------- helpers


def _check_header(header: Sequence[str], targets: Mapping[str, object], checked: Checked) -> None:
    """Every column known, and no two naming the same thing (`ref` and `reference`, a field and its title).

    Args:
        header: The column names as given.
        targets: What each known column key stands for; two keys standing for the same are one column.
        checked: Where a refused column goes.
    """
    named: dict[object, str] = {}
    for name in header:
        key = column_key(name)
        if not key:
            continue
        if key not in targets:
            hint = ", ".join(sorted(k for k in targets if "." not in k))
            checked.bad.append(BadRow(1, name, name, f"not a column caseclock knows; use: {hint}"))
            continue
        target = targets[key]
        if target in named:
            checked.bad.append(
                BadRow(1, name, name, f"the same column as {named[target]!r}; delete one of the two")
            )
        named.setdefault(target, name)


def _need(header: Sequence[str], options: Sequence[str], what: str, checked: Checked) -> None:
    if not {column_key(name) for name in header} & set(options):
        checked.bad.append(BadRow(1, what, "(missing)", f"add a column named {' or '.join(options)}"))


def first_ref(row: Mapping[str, str]) -> str:
    """The reference a row names ("" when it names none)."""
    return _first(row, REF_COLUMNS)


def _first(row: Mapping[str, str], keys: Sequence[str]) -> str:
    return next((row[k] for k in keys if row.get(k)), "")


def _ref_problem(ref: str, seen: Mapping[str, int], line: int) -> str | None:
    if not ref:
        return "every row needs a reference"
    if not is_reference(ref):  # as `caseclock open` accepts
        return REFERENCE_HELP
    if ref in seen:
        return f"the same reference is on line {seen[ref]}; give each case one row"
    return None


def _date(text: str, column: str, today: dt.date) -> dt.date:
    if not text:
        raise _Bad(column, "", "a date is needed here, e.g. 2026-03-02")
    try:
        return parse_date(text, today, column)
    except InvalidValue as error:
        raise _Bad(column, text, error.fix) from None


def _field_column(event: str, name: str) -> str:
    if name == "on":  # the event's date, which is the column named after the event
        return event
    return name if name.startswith("--") else f"{event}.{name}"
