"""Personal data apart from the facts: which values of an event are personal, and how they are put back.

An event's stored payload (`events.data`) keeps the *fact* that a personal value or a free text was given
(the marker `HELD_APART` in its place) but never the value, which lives in the per-case personal store
(`personal_values`, `tracker.store.personal`). Every count, clock and KPI reads the facts alone, so erasing
a case's personal store changes none of them. A reader of one case (`Store.case`) puts the values back
with `rejoin`; after erasure they read `ERASED`.

Personal here means: the case fields marked `personal = true` in the pack (name, contact, ...), every
field of type `text` (notes, reasons, comments, a meeting place), and the free-text reason of a void.
Used by `tracker.store` (writes, reads, erasure), the migration that moved older payloads, and
`caseclock erase`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from tracker.domain.calendar import add_months
from tracker.domain.events import REASON, Event
from tracker.domain.rules import FieldType, PackRegistry, RulePack

ERASED = "erased"
"""What an erased personal value or free text reads as, everywhere it is shown."""

HELD_APART = "(held apart)"
"""The stored payload's stand-in for a personal value or free text kept in the personal store."""

ERASED_BY = "erased_by"
"""Key of the erasure event's payload: who erased the case's personal data."""


def personal_keys(pack: RulePack, event_type: str) -> frozenset[str]:
    """The payload keys of an event type whose values are personal or free text in one pack version."""
    spec = pack.events.get(event_type)
    if spec is None:
        return frozenset()
    keys = {
        name
        for name, field in pack.event_fields(event_type).items()
        if field.personal or field.type is FieldType.TEXT
    }
    if spec.role == "void":
        keys.add(REASON)
    return frozenset(keys)


def pack_personal_keys(packs: PackRegistry, pack_id: str, event_type: str) -> frozenset[str]:
    """`personal_keys` over every version of a pack: a field personal in any version is held apart."""
    keys: set[str] = set()
    for version in packs.versions(pack_id):
        keys |= personal_keys(version, event_type)
    return frozenset(keys)


def split(data: Mapping[str, Any], keys: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A payload as (the facts to store, the personal values apart).

    An empty value stays in the facts as it is: nothing personal was given, and a count of answers must
    see it as not answered, exactly as before.
    """
    facts = dict(data)
    apart: dict[str, Any] = {}
    for key in keys:
        value = facts.get(key)
        if value is None or value == "" or value == HELD_APART:
            continue
        apart[key] = value
        facts[key] = HELD_APART
    return facts, apart


def split_event(event: Event, keys: Iterable[str]) -> tuple[Event, dict[str, Any]]:
    """An event as (the event whose payload is stored, its personal values apart)."""
    facts, apart = split(event.data, keys)
    if not apart:
        return event, apart
    return event.model_copy(update={"data": facts}), apart


def rejoin(data: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A stored payload with its personal values put back (`ERASED` for each one no longer held)."""
    return {key: (values.get(key, ERASED) if value == HELD_APART else value) for key, value in data.items()}


def rejoin_event(event: Event, values: Mapping[str, Any]) -> Event:
    """A stored event with its personal values put back."""
    if HELD_APART not in event.data.values():
        return event
    return event.model_copy(update={"data": rejoin(event.data, values)})


def years_after(day: dt.date, years: int) -> dt.date:
    """`day` plus whole calendar years; 29 February becomes 28 February in a year that has none."""
    return add_months(day, 12 * years)
