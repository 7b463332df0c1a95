"""One form row built from a rule pack's field declaration: its label and the control its type calls for.

The event and new-case forms build one `FieldInput` per field the pack declares, so no form knows any
service's field names. Choices become a list to pick from; dates, numbers and text are typed and left to
`tracker.domain.fields.parse_field` (through the store) to accept or refuse, with the same words as the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select

from tracker.domain.clocks import ClockInstance
from tracker.domain.dates import DATE_HELP
from tracker.domain.fields import MAX_TEXT
from tracker.domain.rules import FieldSpec, FieldType, RulePack

DATE_PLACEHOLDER = "2026-05-04, 4/5/26, today, yesterday"

_TEXT_LIMITS = {FieldType.TEXT: MAX_TEXT, FieldType.STRING: 200}


class FieldInput(Horizontal):
    """A labelled control for one field; `raw` is what the user entered, as the store expects it.

    Args:
        name: The field's name in the pack (sent to the store as is).
        spec: Its declaration.
        label: The label to show.
        choices: (label, value) pairs for a field chosen from a list; None for a typed field.
        value: The initial value (a default date, the case's current value, a config default).
        required: Whether to mark it as required (`*`).
    """

    DEFAULT_CSS = """
    FieldInput { height: auto; }
    FieldInput > Label { width: 30; padding: 0 1 0 0; }
    FieldInput > Input, FieldInput > Select { width: 1fr; }
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
    ) -> None:
        super().__init__(id=f"field-{name}", classes="field")
        self.field_name = name
        self.spec = spec
        self._label = label + (" *" if required else "")
        self._choices = choices
        self._value = value
        self._help = spec.help or (DATE_HELP if spec.type is FieldType.DATE else "")

    def compose(self) -> ComposeResult:
        """The label, then a list to pick from or a line to type in."""
        yield Label(self._label, classes="field-label")
        if self._choices is not None:
            known = {value for _, value in self._choices}
            initial = self._value if self._value in known else Select.NULL
            yield Select(
                self._choices,
                prompt="(choose)",
                value=initial,
                compact=True,
                id=f"input-{self.field_name}",
                tooltip=self._help or None,
            )
        else:
            yield Input(
                value=self._value or "",
                placeholder=DATE_PLACEHOLDER if self.spec.type is FieldType.DATE else "",
                max_length=_TEXT_LIMITS.get(self.spec.type, 0),
                compact=True,
                id=f"input-{self.field_name}",
                tooltip=self._help or None,
            )

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
    today: dt.date,
) -> list[FieldInput]:
    """One `FieldInput` per declared field, in the pack's order.

    Args:
        pack: The pack the fields belong to (labels and choice lists).
        fields: The fields to ask for (`RulePack.event_fields`, or the case fields).
        required: Names to mark as required besides those declared `required`.
        values: Initial values (the case's current ones for an edit, configured defaults for a new case).
        clocks: The case's clocks: a clock field offers the live ones, an exception reason their reasons.
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
                choices=_choices(pack, spec, live),
                value=text,
                required=name in must,
            )
        )
    return inputs


def _choices(pack: RulePack, spec: FieldSpec, live: Sequence[ClockInstance]) -> list[tuple[str, str]] | None:
    match spec.type:
        case FieldType.CHOICE:
            return [(pack.label(value), value) for value in pack.choices_of(spec)]
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
