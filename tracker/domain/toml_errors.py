"""One-line messages for a TOML file that does not validate: the config file and the rule packs.

`tracker.domain.config.parse_config` and `tracker.domain.rules.parse_pack` hand the first error of a pydantic
`ValidationError` to `validation_message`, which names the file, the key as it is written in TOML
(`webhooks[0].url`, `caseworkers."Jo Smith"`), its line when the file's text is at hand, and what is wrong
in words: the value given and what is expected, or for an unknown key the nearest valid name. The rest of
the engine uses `did_you_mean` for a mistyped name of its own (an event, a clock, a choice).

Domain code: the standard library and pydantic only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_DATE = "is not a date; use YYYY-MM-DD such as 2026-12-24"
_EXPECTED = {
    "string_type": "is not text; use a quoted string",
    "int_type": "is not a whole number",
    "bool_type": "is not true or false",
    "float_type": "is not a number",
    "list_type": "is not a list; use [ ... ]",
    "dict_type": "is not a table",
    "model_type": "is not a table",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "path_type": "is not a path; use a quoted string",
}
_BOUNDS = {
    "greater_than": ("small", "more than", "gt"),
    "greater_than_equal": ("small", "at least", "ge"),
    "less_than": ("large", "less than", "lt"),
    "less_than_equal": ("large", "at most", "le"),
    "string_too_short": ("short", "at least this many characters:", "min_length"),
    "string_too_long": ("long", "at most this many characters:", "max_length"),
}


def did_you_mean(name: str, universe: Iterable[str]) -> str:
    """` (did you mean 'x'?)` naming the closest of `universe` to a mistyped `name`, or nothing."""
    import difflib  # only when a file is wrong: start-up skips its import

    close = difflib.get_close_matches(name, list(universe), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def validation_message(
    error: ValidationError,
    model: type[BaseModel],
    source: str | Path,
    text: str = "",
    pattern_hints: Mapping[str, str] | None = None,
) -> str:
    """`<source>: <dotted.key> (line N): <what is wrong>` for the first error of `error`.

    Args:
        error: What `model.model_validate` raised.
        model: The model of the whole file, whose fields name the valid keys of each table.
        source: The file, as the message names it.
        text: The file's TOML text, to find the key's line in (no line is given without it).
        pattern_hints: For a field with a `pattern`, what to write instead (by the pattern), such as
            "use a rule pack id such as send-mediation".
    """
    first = error.errors()[0]
    loc: tuple[str | int, ...] = tuple(part for part in first["loc"] if part != "[key]")
    line = line_of(text, loc)
    at = f" (line {line})" if line else ""
    return f"{source}: {dotted(loc)}{at}: {_what(first, loc, model, pattern_hints or {})}"


def _what(
    error: Mapping[str, Any], loc: tuple[str | int, ...], model: type[BaseModel], hints: Mapping[str, str]
) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), known)
        if not hint and known:
            hint = f" (valid keys here: {', '.join(known)})"
        return f"unknown key{hint}"
    if kind == "missing":
        return "missing; this key is required"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in ("literal_error", "enum"):
        return f"{given!r} is not allowed; use {error['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        pattern = error["ctx"]["pattern"]
        return f"{given!r} is not allowed; {hints.get(pattern, f'it must match {pattern}')}"
    if kind == "string_too_short" and error["ctx"]["min_length"] == 1:
        return "'' is empty; give a value or leave the key out"
    if kind == "list_type" and isinstance(given, Mapping):
        return f"is a single table; write each one as a [[{dotted(loc)}]] block"
    if kind in _BOUNDS:
        word, limit, ctx_key = _BOUNDS[kind]
        bound = error["ctx"][ctx_key]
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"{_shown(given)} is too {word}; use {limit} {bound}"
    if kind in _EXPECTED:
        return f"{_shown(given)} {_EXPECTED[kind]}"
    return f"{_shown(given)} is not allowed: {str(error['msg']).lower()}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def dotted(loc: Iterable[str | int]) -> str:
    """A key path as TOML writes it: `email.to[1]`, `caseworkers."Jo Smith"`, `(top level)` for none."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + (part if _BARE_KEY.fullmatch(part) else json.dumps(part))
    return out or "(top level)"


def _known_keys(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The valid key names of the table at `loc` in a file of `model`."""
    for part in loc:
        field = model.model_fields.get(str(part))
        if isinstance(part, int) or field is None:
            # a list index, or a key the file names such as an event: the model is the item's type
            continue
        inner = _model_in(field.annotation)
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def line_of(text: str, loc: Iterable[str | int]) -> int | None:
    """Best-effort line number of a key path in TOML text, for error messages (None without text)."""
    if not text:
        return None
    lines = [line.strip() for line in text.splitlines()]
    start = 0
    found: int | None = None
    for part in loc:
        if isinstance(part, int):
            # the n-th table of an array of tables ([[webhooks]]); an inline list stays on its line
            if found is not None and lines[found - 1].startswith("[["):
                header = lines[found - 1]
                tables = [number for number in range(found - 1, len(lines)) if lines[number] == header]
                if part < len(tables):
                    found, start = tables[part] + 1, tables[part]
            continue
        name = part if _BARE_KEY.fullmatch(part) else json.dumps(part)
        for number in range(start, len(lines)):
            line = lines[number]
            if line.startswith(("[", name)) and (
                line.startswith(f"{name} ")
                or line.startswith(f"{name}=")
                or f".{name}]" in line
                or f"[{name}]" in line
                or f".{name}." in line
                or f"[{name}." in line
            ):
                found, start = number + 1, number
                break
    return found
