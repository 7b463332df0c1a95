"""One form row built from a rule pack's field declaration: its label and the control its type calls for.

The event and new-case forms build one `FieldInput` per field the pack declares, so no form knows any
service's field names. Choices become a list to pick from (only the values that fit the case, and filled in
when one alone fits); dates, numbers and text are typed and left to `tracker.domain.fields.parse_field`
(through the store) to accept or refuse. A refusal about the field is shown under it, in the caseworker's
words (tui/refusals.py), and the row is marked (the `-invalid` class, and a `!` before the words).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from tracker.domain.clocks import ClockInstance
from tracker.domain.dates import DATE_FORMS, DATE_HELP
from tracker.domain.fields import MAX_TEXT
from tracker.domain.rules import FieldSpec, FieldType, RulePack

DATE_PLACEHOLDER = DATE_FORMS

_TEXT_LIMITS = {FieldType.TEXT: MAX_TEXT, FieldType.STRING: 200}


class FieldInput(Vertical):
    """A labelled control for one field; `raw` is what the user entered, as the store expects it.

    Args:
        name: The field's name in the pack (sent to the store as is).
        spec: Its declaration.
        label: The label to show.
        choices: (label, value) pairs for a field chosen from a list; None for a typed field.
        value: The initial value (a default date, the case's current value, a config default).
        required: Whether to mark it as required (`*`).
        input_id: The control's id (default `input-NAME`).
    """

    DEFAULT_CSS = """
    FieldInput { height: auto; }
    FieldInput > .field { height: auto; }
    FieldInput > .field > Label { width: 30; padding: 0 1 0 0; }
    FieldInput > .field > Input, FieldInput > .field > Select { width: 1fr; }
    FieldInput > .field-problem { display: none; height: auto; padding: 0 0 0 30; color: $text-error; }
    FieldInput.-invalid > .field-problem { display: block; }
    FieldInput.-invalid > .field > Label { color: $text-error; text-style: bold; }
    FieldInput.-invalid > .field > Input, FieldInput.-invalid > .field > Select { background: $error 20%; }
    """

    def __init__(
        self,
        name: str,
        spec: FieldSpec,
        label: str,
        *,
        choices: list[tuple[str, str]] | None = None,
        value: str | None = None,
        required: bool = False,
        input_id: str | None = None,
    ) -> None:
        super().__init__(id=f"field-{name}", classes="field-input")
        self.field_name = name
        self.spec = spec
        self.label = label
        """The field's label as the form shows it (refusals name the field by it)."""
        self._label = label + (" *" if required else "")
        self._choices = choices
        if choices is not None and len(choices) == 1 and value is None:
            value = choices[0][1]  # one possible value: filled in
        self._value = value
        self._input_id = input_id or f"input-{name}"
        self._problem = ""
        self._help = spec.help or (DATE_HELP if spec.type is FieldType.DATE else "")

    def compose(self) -> ComposeResult:
        """The label, then a list to pick from or a line to type in; under them, what is wrong with it."""
        with Horizontal(classes="field"):
            yield Label(self._label, classes="field-label", markup=False)
            if self._choices is not None:
                known = {value for _, value in self._choices}
                initial = self._value if self._value in known else Select.NULL
                yield Select(
                    self._choices,
                    prompt="(choose)",
                    value=initial,
                    compact=True,
                    id=self._input_id,
                    tooltip=self._help or None,
                )
            else:
                yield Input(
                    value=self._value or "",
                    placeholder=DATE_PLACEHOLDER if self.spec.type is FieldType.DATE else "",
                    max_length=_TEXT_LIMITS.get(self.spec.type, 0),
                    compact=True,
                    id=self._input_id,
                    tooltip=self._help or None,
                )
        yield Static("", classes="field-problem", markup=False)

    @property
    def control(self) -> Input | Select[str]:
        """The line to type in or the list to pick from."""
        control = self.query_one(f"#{self._input_id}")
        assert isinstance(control, Input | Select)
        return control

    @property
    def offered(self) -> list[str]:
        """The values a list field offers (empty for a typed field)."""
        return [value for _, value in self._choices or []]

    @property
    def problem(self) -> str:
        """What is wrong with the value, as shown under the field ("" when nothing is)."""
        return self._problem if self.has_class("-invalid") else ""

    def mark(self, words: str) -> None:
        """Show what is wrong under the field and mark the row."""
        self._problem = words
        self.query_one(".field-problem", Static).update(f"! {words}")
        self.add_class("-invalid")

    def unmark(self) -> None:
        """The value is no longer known to be wrong."""
        self.remove_class("-invalid")

    @property
    def raw(self) -> str | None:
        """The value entered (None when left empty)."""
        if self._choices is not None:
            value = self.query_one(Select).value
            return None if value is Select.NULL else str(value)
        text = self.query_one(Input).value.strip()
        return text or None


def build_field_inputs(
    pack: RulePack,
    fields: Mapping[str, FieldSpec],
    *,
    required: Iterable[str] = (),
    values: Mapping[str, object] | None = None,
    clocks: Sequence[ClockInstance] = (),
    fitting: Mapping[str, Sequence[str]] | None = None,
    today: dt.date,
) -> list[FieldInput]:
    """One `FieldInput` per declared field, in the pack's order.

    Args:
        pack: The pack the fields belong to (labels and choice lists).
        fields: The fields to ask for (`RulePack.event_fields`, or the case fields).
        required: Names to mark as required besides those declared `required`.
        values: Initial values (the case's current ones for an edit, configured defaults for a new case).
        clocks: The case's clocks: a clock field offers the live ones, an exception reason their reasons.
        fitting: For a choice field, the values that fit the case (`fitting_choices`); a list offers only
            those, and a field with one possible value is filled in.
        today: Default of required date fields.
    """
    must = {name for name, spec in fields.items() if spec.required} | set(required)
    live = [c for c in clocks if c.live] or []
    inputs = []
    for name, spec in fields.items():
        value = (values or {}).get(name)
        text = None if value is None else ("yes" if value is True else "no" if value is False else str(value))
        if text is None and spec.type is FieldType.DATE and name in must:
            text = today.isoformat()
        inputs.append(
            FieldInput(
                name,
                spec,
                spec.label(name) + (" (personal)" if spec.personal else ""),
                choices=_choices(pack, spec, live, (fitting or {}).get(name)),
                value=text,
                required=name in must,
            )
        )
    return inputs


def _choices(
    pack: RulePack, spec: FieldSpec, live: Sequence[ClockInstance], fitting: Sequence[str] | None
) -> list[tuple[str, str]] | None:
    match spec.type:
        case FieldType.CHOICE:
            return [(pack.label(value), value) for value in fitting or pack.choices_of(spec)]
        case FieldType.BOOLEAN:
            return [("Yes", "yes"), ("No", "no")]
        case FieldType.CLOCK:
            ids = list(dict.fromkeys(c.clock for c in live if c.spec.exception_reasons)) or list(pack.clocks)
            return [
                (f"{pack.clocks[i].kpi} {pack.clocks[i].title}" if i in pack.clocks else i, i) for i in ids
            ]
        case FieldType.EXCEPTION_REASON:
            specs = [c.spec for c in live] or list(pack.clocks.values())
            reasons = dict.fromkeys(r for s in specs for r in s.exception_reasons)
            return [(pack.label(reason), reason) for reason in reasons]
    return None
