"""The hash chain over each case's events: one pure function, for the store's writes and `verify` alike.

Every stored event carries `hash = sha256(previous + canonical row)`, where `previous` is the hash of the
case's event before it (a fixed genesis value for its first) and the canonical row is the stored event as
JSON with sorted keys, no spaces and ASCII only. An event edited, inserted or removed in the middle of a
case's history changes every hash after it, so `caseclock verify` recomputes the chain and names the first
event that does not match. The chain is not a signature: whoever can write the database can also recompute
it; it detects an edit made with the database's guards off by anyone who did not (the README says what it
does and does not prove).

The row is hashed exactly as stored (the raw `data` read back, before any upcasting), so the store's one
insert path (`tracker.store.rows.event_row`) and `verify` (`tracker.store.chain_check`) give the
same bytes on SQLite and PostgreSQL. Imports only hashlib and json.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol

GENESIS = "0" * 64
"""The `previous` hash of a case's first event."""


def event_hash(
    previous: str | None,
    ref: str,
    seq: int,
    event_type: str,
    occurred_on: dt.date,
    data: Mapping[str, Any],
    actor: str,
    recorded_at: dt.datetime,
    schema_version: int,
) -> str:
    """The chain hash of one stored event (hex sha256), given the hash of the case's event before it.

    Args:
        previous: The hash of the case's previous event; None (or GENESIS) for its first event.
        ref: The case's reference: an event moved to another case no longer matches.
        seq: The event's number in its case.
        event_type: The stored type string.
        occurred_on: The business date.
        data: The payload as stored (JSON-native values).
        actor: Who recorded it.
        recorded_at: When it was recorded (any time zone: hashed as UTC, to the microsecond).
        schema_version: The payload's schema version.
    """
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at must carry a time zone")
    row = [
        ref,
        seq,
        event_type,
        occurred_on.isoformat(),
        data,
        actor,
        recorded_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        schema_version,
    ]
    canonical = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256((previous or GENESIS).encode("ascii"))
    digest.update(canonical.encode("ascii"))
    return digest.hexdigest()


class StoredEvent(Protocol):
    """An `events` row read back with its case's reference (a SQLAlchemy row of `verify` or a migration)."""

    ref: str | None
    seq: int
    type: str
    occurred_on: dt.date
    data: Mapping[str, Any]
    actor: str
    recorded_at: dt.datetime
    schema_version: int


def stored_event_hash(previous: str | None, row: StoredEvent) -> str:
    """`event_hash` of a row as read back (a row whose case is gone hashes with an empty reference)."""
    return event_hash(
        previous,
        row.ref or "",
        row.seq,
        row.type,
        row.occurred_on,
        row.data,
        row.actor,
        row.recorded_at,
        row.schema_version,
    )
