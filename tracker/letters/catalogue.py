"""Which letters a rule pack has, and whether a case can have one yet.

A pack's letters are deployment data beside the rule packs: `rules/templates/<pack id>/letters.toml` lists
each kind (its title, its template, the event that records it, whom it goes to) and `<kind>.j2` beside it is
its template. A deployment's own folder (`[letters] templates_dir`) is looked in first, for both.

A letter can be written when the event that records it would be accepted on the case today, or when that
event is already recorded (a copy of a letter sent). Used by `tracker.letters.render` and `.sending`.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tracker.domain.errors import EventRefused, InvalidValue, PackError, Refused
from tracker.domain.rules import shipped_pack_dir
from tracker.domain.toml_errors import did_you_mean, validation_message
from tracker.domain.workflow import CaseRecord, Rules, decide

Recipient = Literal["contacts", "la"]


class LetterSpec(BaseModel):
    """One kind of letter of a pack (`[<kind>]` in letters.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    """The document's name, as the addressee reads it ("Mediation certificate")."""
    template: str = ""
    """The template file (default: `<kind>.j2`)."""
    records: str
    """The event `caseclock send` records when the letter has gone (`la_notified`)."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Fields of that event (a certificate's `kind`)."""
    to: list[Recipient] = Field(min_length=1)
    """Who receives it: `contacts` (the case's contact fields) and/or `la` (`[letters.la_addresses]`)."""


def templates_dirs(pack_id: str, own: Path | None) -> list[Path]:
    """Where the pack's templates are looked for: the deployment's own folder first, then the shipped one."""
    shipped = shipped_pack_dir() / "templates" / pack_id
    return [own / pack_id, shipped] if own is not None else [shipped]


def letter_specs(rules: Rules, pack_id: str, own: Path | None) -> dict[str, LetterSpec]:
    """The letters of a pack, by kind, from the first letters.toml found; none when there is none."""
    for folder in templates_dirs(pack_id, own):
        source = folder / "letters.toml"
        if source.is_file():
            break
    else:
        return {}
    text = source.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PackError(f"{source}: not valid TOML: {error}") from error
    specs: dict[str, LetterSpec] = {}
    for kind, table in raw.items():
        try:
            specs[kind] = LetterSpec.model_validate(table)
        except ValidationError as error:
            raise PackError(validation_message(error, LetterSpec, source, text)) from error
    events = {name for version in rules.packs.versions(pack_id) for name in version.events}
    for kind, spec in specs.items():
        if spec.records not in events:
            raise PackError(
                f"{source}: {kind}.records: {spec.records!r} is not an event of {pack_id}"
                f"{did_you_mean(spec.records, events)}"
            )
    return specs


def find_kind(specs: dict[str, LetterSpec], kind: str, record: CaseRecord) -> LetterSpec:
    """The spec of `kind`; an unknown kind is refused with the nearest one and the list."""
    spec = specs.get(kind)
    if spec is None:
        if not specs:
            raise InvalidValue("KIND", kind, f"the {record.state.pack_id} pack has no letters")
        raise InvalidValue(
            "KIND",
            kind,
            f"not a letter of {record.state.ref}{did_you_mean(kind, specs)}; use one of {', '.join(specs)}",
            tuple(specs),
        )
    return spec


def already_recorded(record: CaseRecord, spec: LetterSpec) -> bool:
    """Whether the letter's event is in the case's history (not voided), with the letter's fields."""
    return any(
        event.type == spec.records
        and event.seq not in record.state.voided
        and all(event.data.get(name) == value for name, value in spec.fields.items())
        for event in record.events
    )


def check_can_record(
    rules: Rules,
    record: CaseRecord,
    spec: LetterSpec,
    kind: str,
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> None:
    """Refuse (naming the reason) when the letter's event would not be accepted on the case today."""
    try:
        decide(rules, record.state, record.events, spec.records, today, dict(spec.fields), actor, now, today)
    except Refused as error:
        raise EventRefused(f"{record.state.ref}: no {kind} yet: {error.message}") from None


def check_can_write(
    rules: Rules,
    record: CaseRecord,
    spec: LetterSpec,
    kind: str,
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> None:
    """Refuse when the case cannot have this letter: its event neither fits today nor is recorded."""
    if not already_recorded(record, spec):
        check_can_record(rules, record, spec, kind, actor, now, today)
