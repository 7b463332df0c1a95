"""A case as its events make it, and what folding and deciding need besides the events.

`CaseState` is a folded case, `CaseRecord` one with its history, `Rules` the packs, calendar and defaults,
and `Fact` what the fold reads of an event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.clocks import ClockInstance
from tracker.domain.events import Event
from tracker.domain.fields import JsonValue
from tracker.domain.rules import PackRegistry, RulePack

CASE_TYPE_KEY = "case_type"
"""Key in the opening event's payload that stores the case type (engine-defined, not a pack field)."""


@dataclass(frozen=True)
class Rules:
    """Everything the fold needs besides the events: the packs, the calendar, configured defaults."""

    packs: PackRegistry
    calendar: WorkingCalendar
    field_defaults: Mapping[str, str] = field(default_factory=dict)
    """Default values of case fields from the configuration (`[cases.defaults]`)."""
    default_case_type: str | None = None
    """The case type `open` uses without `--type` (`cases.default_type`); else the first enabled."""

    def pack(self, state: CaseState) -> RulePack:
        """The pack version that governs a case's events and fields."""
        return self.packs.in_force(state.pack_id, state.opened_on)

    def fingerprint(self) -> str:
        """What the projections of the cases depend on, as a short hash.

        Every version of every enabled pack (with the configuration's overrides) and the working-day
        calendar: projections computed with another are out of date until `rebuild`.
        """
        parts = [
            version.model_dump_json()
            for pack_id in sorted(self.packs)
            for version in self.packs.versions(pack_id)
        ]
        parts.append(self.calendar.fingerprint())
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CaseState:
    """A case as its non-voided events make it; rebuilt by folding, never edited."""

    ref: str
    pack_id: str
    pack_version: str
    case_type: str
    opened_on: dt.date
    state: str
    latest_on: dt.date
    """The latest business date of the events folded: a new event dated earlier makes the case refold."""
    fields: Mapping[str, JsonValue]
    """Case field values that may appear in reports."""
    personal: Mapping[str, JsonValue]
    """Personal field values: for the caseworker's eyes only."""
    happened: Mapping[str, tuple[dt.date, ...]]
    """Dates of every non-voided event by type."""
    last_seq: int
    clocks: tuple[ClockInstance, ...] = ()
    voided: Mapping[int, str] = field(default_factory=dict)
    """Voided event seqs and their reasons."""
    closed_on: dt.date | None = None
    """The date it reached a terminal state, if it has."""
    owner: str | None = None
    """The caseworker who owns the case (the pack's `owner_field`), for routing and the "Mine" view."""
    latest_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The data of the latest event of each type, in fold order (the meeting date last scheduled)."""

    @property
    def terminal(self) -> bool:
        """Whether the case has reached a terminal state (closed, withdrawn, ...)."""
        return self.closed_on is not None


@dataclass(frozen=True, slots=True)
class Erasure:
    """When, by whom and why a case's personal data was erased (its erasure event)."""

    seq: int
    on: dt.date
    recorded_at: dt.datetime
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A whole case: its folded state and its full history (voided events included).

    Its events carry the personal values and free text as recorded (put back from the personal store), and
    `state.personal` the personal fields; after erasure each reads `tracker.domain.personal.ERASED`.
    """

    state: CaseState
    events: tuple[Event, ...]
    erased: Erasure | None = None
    """The case's erasure, if its personal data was erased."""


class Fact(Protocol):
    """What the fold reads of an event: an `Event`, or a database row with the same attributes."""

    @property
    def seq(self) -> int:
        """The event's number in its case, in recording order."""
        ...

    @property
    def type(self) -> str:
        """The event type."""
        ...

    @property
    def on(self) -> dt.date:
        """The business date it happened."""
        ...

    @property
    def data(self) -> Mapping[str, Any]:
        """Its fields."""
        ...
