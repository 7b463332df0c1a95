"""A case's rows: its events, its `cases` row and its `clocks` rows as the store writes them.

`ClockChanges` is the one diff of clock rows, for an append (`write_clocks`) and for `rebuild` alike.
Used by `tracker.store.cases`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.engine import Connection

from tracker.domain.chain import event_hash
from tracker.domain.clocks import ClockInstance, ClockStatus, most_urgent
from tracker.domain.events import Event, stored_event
from tracker.domain.workflow import CaseState
from tracker.store.statements import (
    CASE_EVENTS,
    CLOCK_KEY,
    DELETE_CLOCK,
    INSERT_CLOCKS,
    UPDATE_CLOCK,
    WriteStatements,
)


def load_events(connection: Connection, case_id: int) -> list[Event]:
    """A case's whole history, in recording order."""
    rows = connection.execute(CASE_EVENTS, {"case_id": case_id})
    return [event_from_row(row) for row in rows]


def event_from_row(row: Row[Any]) -> Event:
    """An event read back from its `events` row."""
    return stored_event(
        row.seq, row.type, row.occurred_on, row.data, row.actor, row.recorded_at, row.schema_version
    )


def event_row(case_id: int, ref: str, event: Event, previous: str | None) -> dict[str, Any]:
    """The `events` row of an event of case `case_id` (reference `ref`), sealed with its chain hash.

    The one place an event's row is built, for every way events are written (a recorded step, an import, the
    demo data): `previous` is the hash of the case's event before it, None for its first.
    """
    row: dict[str, Any] = {
        "case_id": case_id,
        "seq": event.seq,
        "type": event.type,
        "occurred_on": event.on,
        "data": event.data,
        "actor": event.actor,
        "recorded_at": event.recorded_at,
        "schema_version": event.schema_version,
    }
    # Hashed from the row as it will be stored, so whatever `data` holds on disk is what the chain covers.
    row["hash"] = event_hash(
        previous,
        ref,
        row["seq"],
        row["type"],
        row["occurred_on"],
        row["data"],
        row["actor"],
        row["recorded_at"],
        row["schema_version"],
    )
    return row


def chained_rows(
    case_id: int, ref: str, events: Sequence[Event], previous: str | None
) -> list[dict[str, Any]]:
    """The rows of events appended in order to one case, each chained to the one before."""
    rows = []
    for event in events:
        row = event_row(case_id, ref, event, previous)
        previous = row["hash"]
        rows.append(row)
    return rows


def case_row(state: CaseState, now: dt.datetime) -> dict[str, Any]:
    """The `cases` row of a folded case, written at `now`."""
    next_clock = most_urgent(state.clocks)
    return {
        "ref": state.ref,
        "pack": state.pack_id,
        "pack_version": state.pack_version,
        "case_type": state.case_type,
        "state": state.state,
        "opened_on": state.opened_on,
        "closed_on": state.closed_on,
        "owner": state.owner,
        "fields": dict(state.fields),
        "last_seq": state.last_seq,
        "next_clock": next_clock.clock if next_clock else None,
        "next_due_on": next_clock.due_on if next_clock else None,
        "updated_at": now,
    }


def set_values(state: CaseState, now: dt.datetime) -> dict[str, Any]:
    """The case row as the parameters of REPLACE_CASE.

    Prefixed: SQLAlchemy reserves the column names themselves for its own SET parameters.
    """
    return {f"v_{name}": value for name, value in case_row(state, now).items()}


def clock_rows(case_id: int, state: CaseState) -> list[dict[str, Any]]:
    """The `clocks` rows of every clock instance of a case."""
    return [clock_row(case_id, clock) for clock in state.clocks]


def clock_row(case_id: int, clock: ClockInstance) -> dict[str, Any]:
    """The `clocks` row of one clock instance."""
    final = clock.final_status
    exception = clock.exception
    return {
        "case_id": case_id,
        "clock": clock.clock,
        "number": clock.number,
        "kpi": clock.spec.kpi,
        "pack_version": clock.pack_version,
        "starts_on": clock.starts_on,
        "due_on": clock.due_on,
        "stopped_on": clock.stopped_on,
        "ended_on": clock.ended_on,
        "ended_by": clock.ended_by,
        "exception_reason": exception.reason if exception else None,
        "exception_until": exception.until if exception else None,
        "final_status": final.value if isinstance(final, ClockStatus) else None,
        "excepted_on": exception.on if exception else None,
    }


def write_clocks(
    sql: WriteStatements,
    cursor: Any,
    case_id: int,
    state: CaseState,
    before: CaseState | None = None,
) -> None:
    """Bring the case's clock rows in line with `state` after one append, touching only what changed.

    A fold step keeps the instances it does not change (they are immutable), so those are skipped without
    building their rows.
    """
    prior = {} if before is None else {(c.clock, c.number): c for c in before.clocks}
    kept = {(c.clock, c.number) for c in state.clocks if prior.get((c.clock, c.number)) is c}
    old = {(case_id, *key): clock_row(case_id, c) for key, c in prior.items() if key not in kept}
    new = [clock_row(case_id, c) for c in state.clocks if (c.clock, c.number) not in kept]
    statements = {
        DELETE_CLOCK: sql.delete_clock,
        UPDATE_CLOCK: sql.update_clock,
        INSERT_CLOCKS: sql.insert_clock,
    }
    ClockChanges.of(old, new).run(lambda statement, rows: statements[statement].run_many(cursor, rows))


@dataclass(frozen=True, slots=True)
class ClockChanges:
    """The clock rows to delete, update and insert to bring a case's (or a batch's) rows in line.

    The one diff of clock rows, for an append and for `rebuild` alike; each runs the statements its own way.
    """

    gone: list[tuple[Any, ...]]
    changed: list[dict[str, Any]]
    fresh: list[dict[str, Any]]

    @classmethod
    def of(cls, old: dict[tuple[Any, ...], dict[str, Any]], new: list[dict[str, Any]]) -> ClockChanges:
        """From the rows as they are (by key: case id, clock, number) and as they should be."""
        keyed = {(row["case_id"], row["clock"], row["number"]): row for row in new}
        return cls(
            gone=[key for key in old if key not in keyed],
            changed=[row for key, row in keyed.items() if key in old and old[key] != row],
            fresh=[row for key, row in keyed.items() if key not in old],
        )

    def run(self, execute: Callable[[Any, list[dict[str, Any]]], object]) -> None:
        """Run the deletes, updates and inserts through `execute(statement, parameter rows)`."""
        if self.gone:
            execute(
                DELETE_CLOCK,
                [{"case_id": case_id, "b_clock": clock, "b_number": n} for case_id, clock, n in self.gone],
            )
        if self.changed:
            execute(
                UPDATE_CLOCK,
                [
                    {
                        "b_case_id": row["case_id"],
                        "b_clock": row["clock"],
                        "b_number": row["number"],
                        **{f"v_{name}": value for name, value in row.items() if name not in CLOCK_KEY},
                    }
                    for row in self.changed
                ],
            )
        if self.fresh:
            execute(INSERT_CLOCKS, self.fresh)
