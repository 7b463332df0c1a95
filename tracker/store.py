"""The event store: cases as append-only event histories, with their projections kept in step.

Every write is one transaction: the event is decided against the case's current history (read inside the
same transaction, under the write lock), appended with the next `seq`, and the case's projection (its row
in `cases` and its rows in `clocks`) rewritten before commit. Two writers on one case cannot both win: the
`UNIQUE(case_id, seq)` constraint and an optional `expected_version` turn the loser's write into a
`ConcurrencyError`, and nothing of it is kept.

`rebuild()` recomputes every projection from the events (after a rule-pack or calendar change) with the same
fold as the incremental path. Called by the CLI, the TUI's workers and the demo generator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from tracker import schema
from tracker.clocks import ClockInstance, ClockStatus, most_urgent
from tracker.errors import ConcurrencyError, EventRefused, StoreUnavailable, UnknownCase
from tracker.events import Event, upcast
from tracker.workflow import CaseState, Fact, Rules, decide, decide_open, decide_void, project

_REBUILD_BATCH = 2000


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One line of the case list."""

    ref: str
    pack: str
    case_type: str
    state: str
    owner: str | None
    opened_on: dt.date
    closed_on: dt.date | None
    next_clock: str | None
    next_due_on: dt.date | None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A whole case: its folded state and its full history (voided events included)."""

    state: CaseState
    events: tuple[Event, ...]


class Store:
    """Reads and writes cases on one database.

    Args:
        engine: A SQLAlchemy engine from `tracker.db.make_engine` (SQLite or PostgreSQL).
        rules: The rule packs, calendar and defaults that decide and fold events.
    """

    def __init__(self, engine: Engine, rules: Rules) -> None:
        self.engine = engine
        self.rules = rules

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        try:
            connection = self.engine.connect().execution_options(caseclock_write=True)
            with connection, connection.begin():
                yield connection
        except IntegrityError as error:
            raise ConcurrencyError(
                "another writer changed this case at the same moment; nothing was written: run it again"
            ) from error
        except OperationalError as error:
            raise StoreUnavailable(f"database unavailable: {_first_line(error)}") from None

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection, connection.begin():
                yield connection
        except OperationalError as error:
            raise StoreUnavailable(f"database unavailable: {_first_line(error)}") from None

    # ------------------------------------------------------------------ writes

    def open_case(
        self,
        ref: str,
        case_type: str | None,
        on: dt.date,
        fields: dict[str, object],
        actor: str,
        now: dt.datetime,
        today: dt.date,
    ) -> CaseState:
        """Open a new case with reference `ref`; refused if the reference is taken."""
        event = decide_open(self.rules, ref, case_type, on, fields, actor, now, today)
        state = project(self.rules, ref, [event])
        with self._writing() as connection:
            taken = connection.execute(select(schema.cases.c.id).where(schema.cases.c.ref == ref)).first()
            if taken is not None:
                raise EventRefused(
                    f"case {ref}: the reference is already used; choose another or `caseclock show {ref}`"
                )
            case_id = connection.execute(
                insert(schema.cases).values(_case_row(state, now)).returning(schema.cases.c.id)
            ).scalar_one()
            connection.execute(insert(schema.events), [_event_row(case_id, event)])
            _write_clocks(connection, case_id, state, replace=False)
        return state

    def record(
        self,
        ref: str,
        event_type: str,
        on: dt.date,
        fields: dict[str, object],
        actor: str,
        now: dt.datetime,
        today: dt.date,
        expected_version: int | None = None,
    ) -> tuple[Event, CaseState]:
        """Append an event to a case; refused (nothing written) when it does not fit."""
        return self._append(
            ref,
            lambda state, _events: decide(self.rules, state, event_type, on, fields, actor, now, today),
            now,
            expected_version,
        )

    def void(
        self,
        ref: str,
        seq: int,
        reason: str,
        actor: str,
        now: dt.datetime,
        today: dt.date,
        expected_version: int | None = None,
    ) -> tuple[Event, CaseState]:
        """Void event `seq` of a case with a correction event; the voided event stays in the history."""
        return self._append(
            ref,
            lambda state, events: decide_void(self.rules, events, state, seq, reason, actor, now, today),
            now,
            expected_version,
        )

    def _append(
        self,
        ref: str,
        decide_next: Callable[[CaseState, Sequence[Event]], Event],
        now: dt.datetime,
        expected_version: int | None,
    ) -> tuple[Event, CaseState]:
        with self._writing() as connection:
            query = select(schema.cases.c.id, schema.cases.c.last_seq).where(schema.cases.c.ref == ref)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update()  # same-case writers queue here instead of conflicting
            found = connection.execute(query).first()
            if found is None:
                raise UnknownCase(ref)
            case_id, last_seq = found
            if expected_version is not None and last_seq != expected_version:
                raise ConcurrencyError(
                    f"case {ref} changed since it was read (version {expected_version}, now {last_seq}); "
                    "nothing was written: reload it and try again"
                )
            history = _load_events(connection, case_id)
            state = project(self.rules, ref, history)
            event = decide_next(state, history)
            connection.execute(insert(schema.events), [_event_row(case_id, event)])
            new_state = project(self.rules, ref, [*history, event])
            changed = connection.execute(
                update(schema.cases)
                .where(schema.cases.c.id == case_id, schema.cases.c.last_seq == last_seq)
                .values(_case_row(new_state, now))
            ).rowcount
            if changed != 1:
                raise ConcurrencyError(
                    f"case {ref} changed while recording; nothing was written: run it again"
                )
            _write_clocks(connection, case_id, new_state, replace=True)
        return event, new_state

    def import_histories(self, histories: Iterable[tuple[str, Sequence[Event]]], now: dt.datetime) -> int:
        """Write whole, already-decided histories of new cases in one transaction (demo data, imports)."""
        count = 0
        with self._writing() as connection:
            batch: list[tuple[str, Sequence[Event]]] = []
            for item in histories:
                batch.append(item)
                if len(batch) >= _REBUILD_BATCH:
                    count += self._insert_batch(connection, batch, now)
                    batch = []
            if batch:
                count += self._insert_batch(connection, batch, now)
        return count

    def _insert_batch(
        self, connection: Connection, batch: list[tuple[str, Sequence[Event]]], now: dt.datetime
    ) -> int:
        states = [project(self.rules, ref, events) for ref, events in batch]
        ids = []
        for state in states:
            ids.append(
                connection.execute(
                    insert(schema.cases).values(_case_row(state, now)).returning(schema.cases.c.id)
                ).scalar_one()
            )
        connection.execute(
            insert(schema.events),
            [_event_row(case_id, e) for case_id, (_, events) in zip(ids, batch, strict=True) for e in events],
        )
        clock_rows = [
            row for case_id, state in zip(ids, states, strict=True) for row in _clock_rows(case_id, state)
        ]
        if clock_rows:
            connection.execute(insert(schema.clocks), clock_rows)
        return len(batch)

    def rebuild(self, now: dt.datetime, progress: Callable[[int], None] | None = None) -> int:
        """Recompute every case's projection from its events, in one transaction; returns the case count."""
        done = 0
        cases = schema.cases.c
        with self._writing() as connection:
            last_id = 0
            while True:
                chunk = connection.execute(
                    select(cases.id, cases.ref)
                    .where(cases.id > last_id)
                    .order_by(cases.id)
                    .limit(_REBUILD_BATCH)
                ).all()
                if not chunk:
                    break
                first_id, last_id = chunk[0].id, chunk[-1].id
                histories: dict[int, list[Fact]] = {row.id: [] for row in chunk}
                e = schema.events.c
                rows = connection.execute(
                    select(e.case_id, e.seq, e.type, e.occurred_on.label("on"), e.data)
                    .where(e.case_id.between(first_id, last_id))
                    .order_by(e.case_id, e.seq)
                )
                # The fold reads rows as they are (seq, type, on, data): no Event objects on this path.
                for row in rows:
                    histories[row.case_id].append(row)  # type: ignore[arg-type]
                states = {row.id: project(self.rules, row.ref, histories[row.id]) for row in chunk}
                connection.execute(
                    update(schema.cases).where(cases.id == bindparam("case_id")),
                    [{"case_id": case_id, **_case_row(state, now)} for case_id, state in states.items()],
                )
                connection.execute(
                    delete(schema.clocks).where(schema.clocks.c.case_id.between(first_id, last_id))
                )
                clock_rows = [row for case_id, state in states.items() for row in _clock_rows(case_id, state)]
                if clock_rows:
                    connection.execute(insert(schema.clocks), clock_rows)
                done += len(chunk)
                if progress is not None:
                    progress(done)
        return done

    # ------------------------------------------------------------------ reads

    def case(self, ref: str) -> CaseRecord:
        """A case's state and full history; raises UnknownCase."""
        with self._reading() as connection:
            case_id = connection.execute(
                select(schema.cases.c.id).where(schema.cases.c.ref == ref)
            ).scalar_one_or_none()
            if case_id is None:
                raise UnknownCase(ref)
            history = _load_events(connection, case_id)
        return CaseRecord(state=project(self.rules, ref, history), events=tuple(history))

    def cases(
        self,
        as_of: dt.date,
        view: str = "open",
        due_by: dt.date | None = None,
        search: str | None = None,
        owner: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[CaseSummary]:
        """Cases most urgent first: overdue, then by the next due date, then those with no open clock.

        Args:
            as_of: Today, for "overdue".
            view: `open`, `closed`, `overdue` or `all`.
            due_by: Only cases whose next open clock is due on or before this date.
            search: A case-insensitive part of the reference or the owner.
            owner: Only cases of this caseworker.
            limit: At most this many (a page), starting at `offset`.
        """
        c = schema.cases.c
        query = select(
            c.ref,
            c.pack,
            c.case_type,
            c.state,
            c.owner,
            c.opened_on,
            c.closed_on,
            c.next_clock,
            c.next_due_on,
        )
        query = query.where(*self._filters(as_of, view, due_by, search, owner))
        query = query.order_by(c.next_due_on.is_(None), c.next_due_on, c.ref).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._reading() as connection:
            return [CaseSummary(*row) for row in connection.execute(query)]

    def count_cases(
        self,
        as_of: dt.date,
        view: str = "open",
        due_by: dt.date | None = None,
        search: str | None = None,
        owner: str | None = None,
    ) -> int:
        """How many cases `cases()` would list without a limit."""
        query = select(func.count()).select_from(schema.cases)
        query = query.where(*self._filters(as_of, view, due_by, search, owner))
        with self._reading() as connection:
            return int(connection.execute(query).scalar_one())

    @staticmethod
    def _filters(
        as_of: dt.date, view: str, due_by: dt.date | None, search: str | None, owner: str | None
    ) -> list[Any]:
        c = schema.cases.c
        filters: list[Any] = []
        if view == "open":
            filters.append(c.closed_on.is_(None))
        elif view == "closed":
            filters.append(c.closed_on.is_not(None))
        elif view == "overdue":
            filters.append(c.next_due_on < as_of)
        elif view != "all":
            raise ValueError(f"unknown view {view!r}")
        if due_by is not None:
            filters.append(c.next_due_on <= due_by)
        if owner is not None:
            filters.append(c.owner == owner)
        if search:
            pattern = f"%{search.lower()}%"
            filters.append(or_(func.lower(c.ref).like(pattern), func.lower(c.owner).like(pattern)))
        return filters

    def clock_rows(self, due_from: dt.date, due_to: dt.date) -> list[Row[Any]]:
        """Every clock instance due in a date range, with its case's reference and owner (for reports)."""
        k = schema.clocks.c
        c = schema.cases.c
        query = (
            select(k, c.ref, c.owner, c.pack, c.case_type)
            .join(schema.cases, c.id == k.case_id)
            .where(and_(k.due_on >= due_from, k.due_on <= due_to))
            .order_by(k.due_on, c.ref, k.clock, k.number)
        )
        with self._reading() as connection:
            return list(connection.execute(query))

    def open_clocks(self, due_to: dt.date) -> list[Row[Any]]:
        """Every open clock instance due on or before `due_to` (the alert scheduler's working set)."""
        k = schema.clocks.c
        c = schema.cases.c
        query = (
            select(k, c.ref, c.owner, c.pack, c.case_type)
            .join(schema.cases, c.id == k.case_id)
            .where(k.final_status.is_(None), k.due_on <= due_to)
            .order_by(k.due_on, c.ref)
        )
        with self._reading() as connection:
            return list(connection.execute(query))


# ---------------------------------------------------------------------------------------------- rows


def _load_events(connection: Connection, case_id: int) -> list[Event]:
    rows = connection.execute(
        select(schema.events).where(schema.events.c.case_id == case_id).order_by(schema.events.c.seq)
    )
    return [_event_from_row(row) for row in rows]


def _event_from_row(row: Row[Any]) -> Event:
    # Rows were validated when they were written: construct without validating again (rebuild speed).
    return Event.model_construct(
        seq=row.seq,
        type=row.type,
        on=row.occurred_on,
        data=upcast(row.data),
        actor=row.actor,
        recorded_at=row.recorded_at,
        schema_version=row.schema_version,
    )


def _event_row(case_id: int, event: Event) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "seq": event.seq,
        "type": event.type,
        "occurred_on": event.on,
        "data": event.data,
        "actor": event.actor,
        "recorded_at": event.recorded_at,
        "schema_version": event.schema_version,
    }


def _case_row(state: CaseState, now: dt.datetime) -> dict[str, Any]:
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
        "personal": dict(state.personal),
        "last_seq": state.last_seq,
        "next_clock": next_clock.clock if next_clock else None,
        "next_due_on": next_clock.due_on if next_clock else None,
        "updated_at": now,
    }


def _clock_rows(case_id: int, state: CaseState) -> list[dict[str, Any]]:
    return [_clock_row(case_id, clock) for clock in state.clocks]


def _clock_row(case_id: int, clock: ClockInstance) -> dict[str, Any]:
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
        "exception_note": exception.note if exception else None,
        "final_status": final.value if isinstance(final, ClockStatus) else None,
    }


def _write_clocks(connection: Connection, case_id: int, state: CaseState, *, replace: bool) -> None:
    if replace:
        connection.execute(delete(schema.clocks).where(schema.clocks.c.case_id == case_id))
    rows = _clock_rows(case_id, state)
    if rows:
        connection.execute(insert(schema.clocks), rows)


def _first_line(error: Exception) -> str:
    message = str(getattr(error, "orig", error)) or type(error).__name__
    return message.strip().splitlines()[0]
