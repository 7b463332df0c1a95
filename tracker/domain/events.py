"""Events: the append-only facts a case is made of.

An event is a frozen pydantic model. Its `type` is the stable string the rule pack declares
(`mediation_requested`, ...), never a class path, so renaming Python code never breaks stored history. The
envelope follows the event-store convention: the case reference is the stream id, `seq` its version (1, 2,
...; unique per case, which is the concurrency guard), `recorded_at` is timezone-aware UTC and
`schema_version` lets a later release upcast old payloads.

Events are never edited or deleted: a mistake is put right by a correction event that voids an earlier one.
The keys of a correction's payload are engine-defined (`voids`, `reason`), as are those of the envelope.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
"""The payload schema written today; older rows are upcast when read."""

VOIDS = "voids"
"""Key of a correction's payload: the seq of the event it voids."""
REASON = "reason"
"""Key of a correction's payload: why the event was voided."""


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("recorded_at must carry a time zone")
    return value.astimezone(dt.UTC)


class Event(BaseModel):
    """One fact about a case, with the business date it happened and who recorded it when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: Annotated[int, Field(ge=1)]
    type: str
    on: dt.date
    """The business date (Europe/London) the step happened; may be back-dated, never in the future."""
    data: dict[str, Any] = {}
    """Field values in canonical JSON form (dates as ISO strings)."""
    actor: str
    recorded_at: Annotated[dt.datetime, AfterValidator(_aware)]
    schema_version: int = SCHEMA_VERSION


def upcast(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored payload up to SCHEMA_VERSION (version 1 is the first; nothing to do yet)."""
    return raw


def stored_event(
    seq: int,
    event_type: str,
    on: dt.date,
    data: dict[str, Any],
    actor: str,
    recorded_at: dt.datetime,
    schema_version: int,
) -> Event:
    """An event as read back from the database, its payload upcast.

    Rows were validated when they were written, so this constructs without validating again: reading a
    history (every write's refold, `rebuild`, `show`) would otherwise spend most of its time here.
    """
    return Event.model_construct(
        seq=seq,
        type=event_type,
        on=on,
        data=upcast(data),
        actor=actor,
        recorded_at=recorded_at,
        schema_version=schema_version,
    )
