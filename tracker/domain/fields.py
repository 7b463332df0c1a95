"""Turning typed field values into the canonical values stored in events.

Canonical values are JSON-native: dates as ISO strings, booleans, integers and strings. The same
function serves the CLI (`--field NAME=VALUE`), the TUI's forms and CSV imports, so a value refused in one
is refused, with the same words, in all of them.
"""

from __future__ import annotations

import datetime as dt

from tracker.domain.dates import parse_date
from tracker.domain.errors import InvalidValue
from tracker.domain.rules import FieldSpec, FieldType, RulePack, did_you_mean

JsonValue = str | int | bool | None

_TRUE = {"yes", "y", "true", "t", "1", "on"}
_FALSE = {"no", "n", "false", "f", "0", "off"}
MAX_TEXT = 4000


def normalise_choice(text: str) -> str:
    """Case, spaces and hyphens do not matter in choice values: "Parent carer" is `parent_carer`."""
    return text.strip().lower().replace(" ", "_").replace("-", "_").replace("/", "_")


def withheld_as(spec: FieldSpec | None) -> str | None:
    """Why a refusal must not show a value of this field ("personal", "free text"), or None if it may.

    A field the pack does not know (None) may hold anything a caseworker typed, so its value is withheld too.
    """
    if spec is None:
        return "unknown field"
    if spec.personal:
        return "personal"
    if spec.type is FieldType.TEXT:
        return "free text"
    return None


def field_anywhere(pack: RulePack, name: str) -> FieldSpec | None:
    """The spec of field `name` in any of the pack's events or its case fields, or None."""
    spec = pack.case_fields.get(name) or pack.common_fields.get(name)
    if spec is not None:
        return spec
    return next((e.fields[name] for e in pack.events.values() if name in e.fields), None)


def parse_field(pack: RulePack, name: str, spec: FieldSpec, raw: object, today: dt.date) -> JsonValue:
    """Parse one value for field `name`; raises InvalidValue naming the field, the value and the fix.

    The value is named only where the field's values may be shown (`withheld_as`).
    """
    try:
        return _parse(pack, name, spec, raw, today)
    except InvalidValue as error:
        why = withheld_as(spec)
        raise (error if why is None else error.withholding(why)) from None


def _parse(pack: RulePack, name: str, spec: FieldSpec, raw: object, today: dt.date) -> JsonValue:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = raw if isinstance(raw, str) else str(raw)
    match spec.type:
        case FieldType.DATE:
            value = raw if isinstance(raw, dt.date) else parse_date(text, today, name)
            return value.isoformat()
        case FieldType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            if text.strip().lower() in _TRUE:
                return True
            if text.strip().lower() in _FALSE:
                return False
            raise InvalidValue(name, text, "use yes or no")
        case FieldType.INTEGER:
            try:
                number = int(text.strip())
            except ValueError:
                raise InvalidValue(name, text, "use a whole number") from None
            if spec.min is not None and number < spec.min:
                raise InvalidValue(name, text, f"use a number of at least {spec.min}")
            if spec.max is not None and number > spec.max:
                raise InvalidValue(name, text, f"use a number of at most {spec.max}")
            return number
        case FieldType.CHOICE:
            return _one_of(name, text, pack.choices_of(spec))
        case FieldType.CLOCK:
            return _one_of(name, text, list(pack.clocks))
        case FieldType.EXCEPTION_REASON:
            # which reasons are allowed depends on the clock named beside it: checked by the workflow
            return normalise_choice(text)
        case FieldType.STRING | FieldType.TEXT:
            limit = 200 if spec.type is FieldType.STRING else MAX_TEXT
            value_text = text.strip()
            if len(value_text) > limit:
                raise InvalidValue(name, value_text, f"use at most {limit} characters")
            return value_text
    raise AssertionError(spec.type)  # pragma: no cover - every FieldType is handled above


def _one_of(name: str, text: str, allowed: list[str]) -> str:
    value = normalise_choice(text)
    if value in allowed:
        return value
    raise InvalidValue(
        name, text, f"use one of {', '.join(allowed)}{did_you_mean(value, allowed)}", allowed=tuple(allowed)
    )
