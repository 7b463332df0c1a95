"""The per-case personal store: the personal values and free text of events, kept apart from them.

`PersonalKeys` says which payload keys of an event type are held apart (cached per pack and type);
`CASE_VALUES` and `DELETE_CASE_VALUES` read and delete a case's values (compiled once with the other
write statements, `tracker.store.statements`, for an erasure's transaction); `case_values` reads them on a
SQLAlchemy connection (a case read). Erasure itself is `tracker.store.erasure`.
Used by `tracker.store.cases`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection

from tracker.domain.events import Event
from tracker.domain.personal import pack_personal_keys, split_event
from tracker.domain.rules import PackRegistry
from tracker.store import schema

_P = schema.personal_values.c
CASE_VALUES = select(_P.seq, _P.key, _P.value).where(_P.case_id == bindparam("case_id"))
DELETE_CASE_VALUES = delete(schema.personal_values).where(_P.case_id == bindparam("case_id"))


class PersonalKeys:
    """Which keys of an event type's payload are held apart, by pack id and event type (cached)."""

    def __init__(self, packs: PackRegistry) -> None:
        self._packs = packs
        self._keys: dict[tuple[str, str], frozenset[str]] = {}

    def __call__(self, pack_id: str, event_type: str) -> frozenset[str]:
        """The keys held apart; a pack no longer enabled holds none apart (its events stay as stored)."""
        found = self._keys.get((pack_id, event_type))
        if found is None:
            found = frozenset()
            if pack_id in self._packs:
                found = pack_personal_keys(self._packs, pack_id, event_type)
            self._keys[(pack_id, event_type)] = found
        return found

    def split(self, pack_id: str, case_id: int, event: Event) -> tuple[Event, list[dict[str, Any]]]:
        """The event as stored, and the `personal_values` rows of what it holds apart."""
        stored, apart = split_event(event, self(pack_id, event.type))
        return stored, value_rows(case_id, event.seq, apart)


def value_rows(case_id: int, seq: int, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `personal_values` rows of one event's values held apart."""
    return [{"case_id": case_id, "seq": seq, "key": key, "value": value} for key, value in values.items()]


def grouped(rows: Any) -> dict[int, dict[str, Any]]:
    """(seq, key, value) rows as the values of each event, by seq."""
    values: dict[int, dict[str, Any]] = {}
    for seq, key, value in rows:
        values.setdefault(seq, {})[key] = value
    return values


def case_values(connection: Connection, case_id: int) -> dict[int, dict[str, Any]]:
    """A case's values held apart, by event seq."""
    return grouped(connection.execute(CASE_VALUES, {"case_id": case_id}))
