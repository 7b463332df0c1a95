"""The event store: cases as append-only event histories, with their projections kept in step.

Every write is one transaction: the event is decided against the case's current history (read inside the
same transaction, under the write lock), appended with the next `seq`, and the case's projection (its row
in `cases` and its rows in `clocks`) rewritten before commit. Two writers on one case cannot both win: the
`UNIQUE(case_id, seq)` constraint and an optional `expected_version` turn the loser's write into a
`ConcurrencyError`, and nothing of it is kept.

`rebuild()` recomputes every projection from the events (after a rule-pack or calendar change) with the same
fold as the incremental path. Personal values and free text are written apart from their events
(`tracker.store.personal`): the fold, the projections and the cache of recent cases see the facts only, and
`case()` puts the values back. `erase()` deletes them (`tracker.store.erasure`). Called by the CLI, the TUI's
workers and the demo generator.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, Text, cast, exists, func, null, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from tracker.domain.errors import ConcurrencyError, EventRefused, UnknownCase
from tracker.domain.events import REASON, VOIDS, Event, stored_event, upcast
from tracker.domain.personal import ERASED_BY, rejoin_event
from tracker.domain.rules import PackRegistry
from tracker.domain.workflow import (
    CASE_TYPE_KEY,
    CaseState,
    Erasure,
    Fact,
    Rules,
    advance,
    decide,
    decide_erase,
    decide_open,
    decide_void,
    project,
)
from tracker.domain.workflow import (
    CaseRecord as CaseRecord,  # re-exported: readers of the store take it from here
)
from tracker.store import schema
from tracker.store.engine import dbapi_transaction, transaction
from tracker.store.erasure import Erased, check_reason, compact
from tracker.store.personal import PersonalKeys, case_values
from tracker.store.rows import (
    ClockChanges,
    case_row,
    chained_rows,
    clock_rows,
    event_from_row,
    event_row,
    load_events,
    set_values,
    write_clocks,
)
from tracker.store.statements import (
    ALWAYS_SET,
    FIND_CASE,
    REPLACE_CASE,
    WriteStatements,
)

_LIKE_ESCAPE = "\\"
"""The escape character of the case list's LIKE patterns: a search for `50%` or `M_1` means just that."""
_REBUILD_BATCH = 2000
_RECENT_CASES = 512
"""How many recently written cases a Store keeps folded in memory, so the next write skips the refold."""


class _Fact(NamedTuple):
    """An event as `rebuild` folds it."""

    seq: int
    type: str
    on: dt.date
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """New cases' rows encoded for the driver (`Store.encode_histories`): (number of the case, row) each."""

    cases: list[Any]
    events: list[tuple[int, Any]]
    clocks: list[tuple[int, Any]]
    personal: list[tuple[int, Any]]


class ReportEvent(NamedTuple):
    """An event as reports read it (`Store.report_events`), with its case's id and reference."""

    case_id: int
    ref: str
    seq: int
    type: str
    on: dt.date
    data: dict[str, Any]
    case_value: Any = None
    """The value of `case_field` on the event's case, when asked for."""


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


class Store:
    """Reads and writes cases on one database.

    Args:
        engine: A SQLAlchemy engine from `tracker.store.engine.make_engine` (SQLite or PostgreSQL).
        rules: The rule packs, calendar and defaults that decide and fold events.
    """

    def __init__(self, engine: Engine, rules: Rules) -> None:
        self.engine = engine
        self.rules = rules
        self._statements: WriteStatements | None = None
        # Cases this Store wrote lately, as they stood after the commit: (last seq, history, state, last
        # event's chain hash) by case id. Events are append-only and every write bumps `last_seq`, so an
        # entry whose seq equals the locked row's is exactly the case's history, and the next write on it
        # needs no read and refold.
        self._recent: OrderedDict[int, tuple[int, tuple[Event, ...], CaseState, str]] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._stamped = False  # whether this Store has seen the rules stamp in place (`open_case`)
        self.personal_keys = PersonalKeys(rules.packs)

    @property
    def _sql(self) -> WriteStatements:
        if self._statements is None:
            self._statements = WriteStatements(self.engine.dialect)
        return self._statements

    def _remember(self, case_id: int, history: Sequence[Event], state: CaseState, last_hash: str) -> None:
        with self._recent_lock:
            self._recent[case_id] = (state.last_seq, tuple(history), state, last_hash)
            self._recent.move_to_end(case_id)
            while len(self._recent) > _RECENT_CASES:
                self._recent.popitem(last=False)

    def _recalled(self, case_id: int, last_seq: int) -> tuple[list[Event], CaseState, str] | None:
        with self._recent_lock:
            entry = self._recent.get(case_id)
        if entry is None or entry[0] != last_seq:
            return None
        return list(entry[1]), entry[2], entry[3]

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with _conflict_is_concurrency(), transaction(self.engine, write=True) as connection:
            yield connection

    @contextmanager
    def _writing_events(self) -> Iterator[Any]:
        """A write transaction's DBAPI cursor, for the `WriteStatements` of one or more events."""
        with _conflict_is_concurrency(), dbapi_transaction(self.engine, write=True) as cursor:
            yield cursor

    def _reading(self) -> AbstractContextManager[Connection]:
        return transaction(self.engine, write=False)

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
        decided = decide_open(self.rules, ref, case_type, on, fields, actor, now, today)
        pack_id = self.rules.packs.pack_for_case_type(str(decided.data[CASE_TYPE_KEY]))
        assert pack_id is not None, "decide_open accepts only the case types of enabled packs"
        sql = self._sql
        with self._writing_events() as cursor:
            if sql.find_case.first(cursor, {"ref": ref}) is not None:
                raise EventRefused(
                    f"case {ref}: the reference is already used; choose another or `caseclock show {ref}`",
                    reason="another case has this reference; choose another",
                    field="reference",
                )
            # The case id is not known before its row exists, and the row is the facts' projection: a
            # placeholder id splits the event, whose stored form does not depend on it.
            event, _ = self.personal_keys.split(pack_id, 0, decided)
            state = project(self.rules, ref, [event])
            inserted = sql.insert_case.first(cursor, case_row(state, now))
            assert inserted is not None, "INSERT ... RETURNING returns the new row's id"
            case_id = int(inserted[0])
            _, last_hash = _insert_event(
                sql, self.personal_keys, cursor, pack_id, case_id, ref, decided, None
            )
            write_clocks(self._sql, cursor, case_id, state)
            if not self._stamped:
                self._stamp_new_on(cursor)
        self._stamped = True
        self._remember(case_id, [event], state, last_hash)
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
        also: Callable[[Any, Event], None] | None = None,
    ) -> tuple[Event, CaseState]:
        """Append an event to a case; refused (nothing written) when it does not fit.

        `also`, given the transaction's DBAPI cursor and the new event, writes in the same transaction
        (`tracker.store.letters` marks the letter that the event records as recorded).
        """
        return self._append(
            ref,
            lambda state, events: decide(
                self.rules, state, events, event_type, on, fields, actor, now, today
            ),
            now,
            expected_version,
            also,
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
        also: Callable[[Any, Event], None] | None = None,
    ) -> tuple[Event, CaseState]:
        with self._writing_events() as cursor:
            case = self._open_for_write(cursor, ref, expected_version)
            event = decide_next(case.state, case.history)
            case.append(self.rules, self._sql, self.personal_keys, cursor, event)
            case.save(self._sql, cursor, now)
            if also is not None:
                also(cursor, event)
        self._remember(case.case_id, case.history, case.state, case.last_hash)
        return event, case.state

    def erase(
        self,
        ref: str,
        reason: str,
        actor: str,
        now: dt.datetime,
        today: dt.date,
        pause: Callable[[], None] | None = None,
        compact_after: bool = True,
    ) -> Erased:
        """Erase a case's personal data and free text, recording who and why; idempotent.

        One transaction (`tracker.store.erasure`): the case's values held apart are deleted and the erasure
        event appended, or nothing is (a crash at any point leaves the case untouched or fully erased).
        Then the freed space is rewritten so no byte of a value remains. A case already erased, with nothing
        recorded apart since, is left as it is (`Erased.new` False); values recorded after an erasure (a
        new contact, a note) are erased by the next one. `pause` is a test-only hook run before the commit;
        `compact_after` False leaves the rewrite to the caller (`compact`, once after many erasures).
        """
        sql = self._sql
        with self._writing_events() as cursor:
            case = self._open_for_write(cursor, ref, None)
            held = sql.personal_of_case.all(cursor, {"case_id": case.case_id})
            new = bool(held) or self.erasure(case.state, case.history) is None
            if new:
                named = {
                    name
                    for version in self.rules.packs.versions(case.state.pack_id)
                    for name, spec in version.case_fields.items()
                    if spec.personal
                }
                check_reason(reason, [(key, value) for _, key, value in held], named)
                sql.delete_personal.run(cursor, {"case_id": case.case_id})
                event = decide_erase(self.rules, case.state, reason, actor, now, today)
                case.append(self.rules, sql, self.personal_keys, cursor, event)
                case.save(sql, cursor, now)
                if pause is not None:
                    pause()
        if new:
            self._remember(case.case_id, case.history, case.state, case.last_hash)
        # The clean-up runs on a rerun too, so one finishes what another connection's reading kept back.
        compacted = compact(self.engine) if compact_after else True
        erasure = self.erasure(case.state, case.history)
        assert erasure is not None, "an erasure event is recorded, now or before"
        return Erased(erasure, new=new, values=len(held), compacted=compacted)

    def record_many(
        self,
        entries: Iterable[tuple[str, str, dt.date, dict[str, object]]],
        actor: str,
        now: dt.datetime,
        today: dt.date,
    ) -> list[Event]:
        """Append many events, (ref, event type, date, fields) each, in ONE transaction: all or nothing.

        Each event is decided against its case as the earlier entries left it, exactly as one `record` after
        another would be; the first refusal raises and nothing at all is written. Imports use it, so a file
        is never half-imported.
        """
        written: list[Event] = []
        with self._writing_events() as cursor:
            cases: dict[str, _CaseWrite] = {}
            for ref, event_type, on, fields in entries:
                case = cases.get(ref) or cases.setdefault(ref, self._open_for_write(cursor, ref, None))
                event = decide(
                    self.rules, case.state, case.history, event_type, on, fields, actor, now, today
                )
                case.append(self.rules, self._sql, self.personal_keys, cursor, event)
                written.append(event)
            for case in cases.values():
                case.save(self._sql, cursor, now)
        for case in cases.values():
            self._remember(case.case_id, case.history, case.state, case.last_hash)
        return written

    def _open_for_write(self, cursor: Any, ref: str, expected_version: int | None) -> _CaseWrite:
        found = self._sql.lock_case.first(cursor, {"ref": ref})
        if found is None:
            raise UnknownCase(ref)
        case_id, last_seq = found
        if expected_version is not None and last_seq != expected_version:
            raise ConcurrencyError(
                f"case {ref} changed since it was read (version {expected_version}, now {last_seq}); "
                "nothing was written: reload it and try again",
                ref=ref,
                read_version=expected_version,
            )
        recalled = self._recalled(case_id, last_seq)
        if recalled is not None:
            history, state, last_hash = recalled
        else:
            rows = self._sql.history.all(cursor, {"case_id": case_id})
            history = [stored_event(*row[:-1]) for row in rows]
            last_hash = rows[-1][-1]  # a case has at least its `opened` event
            state = project(self.rules, ref, history)
        return _CaseWrite(case_id, last_seq, history, state, state, last_hash)

    def import_histories(self, histories: Iterable[tuple[str, Sequence[Event]]], now: dt.datetime) -> int:
        """Write whole, already-decided histories of new cases in one transaction (demo data).

        The histories are read, folded and encoded a batch at a time inside the transaction. An import of a
        file uses `encode_histories` and `write_encoded` instead, to do all that before the write lock.
        """
        count = 0
        with self._writing_events() as cursor:
            for batch in self._encoded_batches(histories, now):
                count += self._insert_batch(cursor, batch)
            self._stamp_new_on(cursor)
        return count

    def encode_histories(
        self, histories: Iterable[tuple[str, Sequence[Event]]], now: dt.datetime
    ) -> list[EncodedBatch]:
        """The rows of new cases, built and encoded for the driver, before any transaction.

        `write_encoded` then writes them in one transaction that holds the write lock for the inserts alone:
        folding, building rows and encoding dates and JSON are done here, outside it. Encoded rows take about
        5 KiB per case of eight events.
        """
        return list(self._encoded_batches(histories, now))

    def _encoded_batches(
        self, histories: Iterable[tuple[str, Sequence[Event]]], now: dt.datetime
    ) -> Iterator[EncodedBatch]:
        """`histories` encoded (`_encode_batch`) `_REBUILD_BATCH` cases at a time, as they are read."""
        batch: list[tuple[str, Sequence[Event]]] = []
        for item in histories:
            batch.append(item)
            if len(batch) >= _REBUILD_BATCH:
                yield self._encode_batch(batch, now)
                batch = []
        if batch:
            yield self._encode_batch(batch, now)

    def write_encoded(self, batches: Sequence[EncodedBatch]) -> int:
        """Write `encode_histories`' batches in one transaction (all or nothing); returns the case count."""
        count = 0
        with self._writing_events() as cursor:
            for batch in batches:
                count += self._insert_batch(cursor, batch)
            self._stamp_new_on(cursor)
        return count

    def _stamp_new_on(self, cursor: Any) -> None:
        """The first cases of a new database record the rules their projections follow."""
        sql = self._sql
        if sql.find_stamp.first(cursor, {}) is None:
            sql.stamp.run(cursor, {"id": 1, "fingerprint": self.rules.fingerprint()})

    def _encode_batch(self, batch: Sequence[tuple[str, Sequence[Event]]], now: dt.datetime) -> EncodedBatch:
        """A batch of new cases as encoded rows of `cases`, `events`, `clocks` and `personal_values`.

        The one insert path of new cases. Each event's personal values and free text are split off, its
        stored facts chained (`event_row`) and the case folded from those facts, as every other write does.
        The case ids are not known until the cases are inserted: each other row is encoded with id 0 and the
        number of its case in the batch, and `_insert_batch` puts the id in.
        """
        sql = self._sql
        keys = self.personal_keys
        split: list[tuple[str, list[Event], list[dict[str, Any]]]] = []
        for ref, events in batch:
            pack_id = project(self.rules, ref, events[:1]).pack_id
            parts = [keys.split(pack_id, 0, event) for event in events]
            split.append((ref, [stored for stored, _ in parts], [row for _, rows in parts for row in rows]))
        states = [project(self.rules, ref, stored) for ref, stored, _ in split]
        return EncodedBatch(
            cases=[sql.insert_case.encode(case_row(state, now)) for state in states],
            events=[
                (number, sql.insert_event.encode(row))
                for number, (ref, stored, _) in enumerate(split)
                for row in chained_rows(0, ref, stored, None)
            ],
            clocks=[
                (number, sql.insert_clock.encode(row))
                for number, state in enumerate(states)
                for row in clock_rows(0, state)
            ],
            personal=[
                (number, sql.insert_personal.encode(row))
                for number, (_, _, rows) in enumerate(split)
                for row in rows
            ],
        )

    def _insert_batch(self, cursor: Any, batch: EncodedBatch) -> int:
        sql = self._sql
        ids = []
        for row in batch.cases:
            inserted = sql.insert_case.first_encoded(cursor, row)
            assert inserted is not None, "INSERT ... RETURNING returns the new row's id"
            ids.append(int(inserted[0]))
        for statement, rows in (
            (sql.insert_event, batch.events),
            (sql.insert_clock, batch.clocks),
            (sql.insert_personal, batch.personal),
        ):
            for number, row in rows:
                statement.set_encoded(row, "case_id", ids[number])
            statement.run_encoded(cursor, [row for _number, row in rows])
        return len(batch.cases)

    def rebuild(self, now: dt.datetime, progress: Callable[[int], None] | None = None) -> int:
        """Recompute every case's projection from its events, in one transaction; returns the case count."""
        done = 0
        with self._writing() as connection:
            for chunk, states in self._fold_all(connection):
                first_id, last_id = chunk[0].id, chunk[-1].id
                connection.execute(
                    REPLACE_CASE,
                    [{"b_case_id": case_id, **set_values(state, now)} for case_id, state in states.items()],
                )
                changes = _clock_changes(connection, first_id, last_id, states)
                changes.run(lambda statement, rows: connection.execute(statement, rows))
                done += len(chunk)
                if progress is not None:
                    progress(done)
            self._stamp(connection)
        return done

    def _fold_all(self, connection: Connection) -> Iterator[tuple[Sequence[Any], dict[int, CaseState]]]:
        """Every case folded from its events, a batch at a time: (the batch's (id, ref) rows, state by id)."""
        cases = schema.cases.c
        last_id = 0
        while True:
            chunk = connection.execute(
                select(cases.id, cases.ref).where(cases.id > last_id).order_by(cases.id).limit(_REBUILD_BATCH)
            ).all()
            if not chunk:
                return
            first_id, last_id = chunk[0].id, chunk[-1].id
            histories: dict[int, list[Fact]] = {row.id: [] for row in chunk}
            e = schema.events.c
            rows = connection.execute(
                select(e.case_id, e.seq, e.type, e.occurred_on.label("on"), e.data)
                .where(e.case_id.between(first_id, last_id))
                .order_by(e.case_id, e.seq)
            )
            # The fold reads light tuples (seq, type, on, data): no validated Event objects on this
            # path, and no SQLAlchemy Row attribute access, which costs about 1 µs a time.
            for case_id, seq, event_type, on, data in rows:
                histories[case_id].append(_Fact(seq, event_type, on, data))
            yield chunk, {row.id: project(self.rules, row.ref, histories[row.id]) for row in chunk}

    def differing_projections(self, now: dt.datetime) -> list[str]:
        """The refs of the cases whose stored `cases`/`clocks` rows differ from a fold of their events."""
        differing: list[str] = []
        with self._reading() as connection:
            for chunk, states in self._fold_all(connection):
                first_id, last_id = chunk[0].id, chunk[-1].id
                stored_cases = {
                    row.id: dict(row._mapping)
                    for row in connection.execute(
                        select(schema.cases).where(schema.cases.c.id.between(first_id, last_id))
                    )
                }
                # the one diff of clock rows `rebuild` applies: a case it would touch differs
                changes = _clock_changes(connection, first_id, last_id, states)
                moved = {key[0] for key in changes.gone}
                moved |= {row["case_id"] for row in (*changes.changed, *changes.fresh)}
                for row in chunk:
                    computed = case_row(states[row.id], now)
                    stored = stored_cases[row.id]
                    case_same = all(
                        stored.get(name) == value for name, value in computed.items() if name != "updated_at"
                    )
                    if not case_same or row.id in moved:
                        differing.append(row.ref)
        return differing

    # ------------------------------------------------------------------ the rules the projections follow

    def _stamp(self, connection: Connection) -> None:
        """Record that the projections now follow the loaded rules (`queries.check_current` reads it)."""
        rules = schema.projection_rules
        connection.execute(rules.delete())
        connection.execute(rules.insert().values(id=1, fingerprint=self.rules.fingerprint()))

    def projections_current(self) -> bool:
        """Whether the projections were computed with the loaded rules (none recorded: nothing written)."""
        with self._reading() as connection:
            made_with = connection.execute(select(schema.projection_rules.c.fingerprint)).scalar()
        return made_with is None or made_with == self.rules.fingerprint()

    # ------------------------------------------------------------------ reads

    def case(self, ref: str) -> CaseRecord:
        """A case's state and full history, its personal values put back; raises UnknownCase.

        A value erased (or never held) reads `tracker.domain.personal.ERASED`, and the record carries the
        erasure. The fold of the facts alone gives the same clocks and counts: only the words differ.
        """
        with self._reading() as connection:
            case_id = connection.execute(FIND_CASE, {"ref": ref}).scalar_one_or_none()
            if case_id is None:
                raise UnknownCase(ref)
            stored = load_events(connection, case_id)
            values = case_values(connection, case_id)
        history = [rejoin_event(event, values.get(event.seq, {})) for event in stored]
        state = project(self.rules, ref, history)
        return CaseRecord(state=state, events=tuple(history), erased=self.erasure(state, history))

    def erasure(self, state: CaseState, history: Sequence[Event]) -> Erasure | None:
        """The latest erasure recorded in a case's history, if any."""
        names = self.rules.packs.events_with_role(state.pack_id, "erase")
        found = next((event for event in reversed(history) if event.type in names), None)
        if found is None:
            return None
        return Erasure(
            seq=found.seq,
            on=found.on,
            recorded_at=found.recorded_at,
            by=str(found.data.get(ERASED_BY) or found.actor),
            reason=str(found.data.get(REASON, "")),
        )

    def histories_recorded_before(
        self, pack_id: str, moment: dt.datetime
    ) -> Iterator[tuple[str, list[Event]]]:
        """Every case of a pack as it stood at `moment`: its events recorded before then, voids included.

        Cases with none (opened later) are left out. What a report "as known on" a past date folds.
        """
        e, c = schema.events.c, schema.cases.c
        yield from self._histories(c.pack == pack_id, e.recorded_at < moment)

    def open_cases(self, owner: str | None = None) -> Iterator[CaseState]:
        """Every case not yet ended (of one caseworker), folded from its events as `case` folds them.

        One query for all their events, in case order; the calendar feed reads its meetings and open clocks
        from these states.
        """
        c = schema.cases.c
        where = [c.closed_on.is_(None)] + ([c.owner == owner] if owner is not None else [])
        for ref, history in self._histories(*where):
            yield project(self.rules, ref, history)

    def _histories(self, *where: ColumnElement[bool]) -> Iterator[tuple[str, list[Event]]]:
        """Each case's events matching `where` (one query, in case order), as (reference, history)."""
        e, c = schema.events.c, schema.cases.c
        query = (
            select(c.ref, *schema.events.c)
            .join_from(schema.events, schema.cases, c.id == e.case_id)
            .where(*where)
            .order_by(e.case_id, e.seq)
        )
        with self._reading() as connection:
            ref = ""
            history: list[Event] = []
            for row in connection.execute(query):
                if row.ref != ref:
                    if history:
                        yield ref, history
                    ref, history = row.ref, []
                history.append(event_from_row(row))
            if history:
                yield ref, history

    def owners(self) -> list[str]:
        """The caseworkers named on cases (the pack's owner field), each once, sorted."""
        owner = schema.cases.c.owner
        query = select(owner).where(owner.is_not(None)).distinct().order_by(owner)
        with self._reading() as connection:
            return list(connection.execute(query).scalars())

    def cases(
        self,
        as_of: dt.date,
        view: str = "open",
        due_by: dt.date | None = None,
        search: str | None = None,
        owner: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        search_fields: Sequence[str] = (),
    ) -> list[CaseSummary]:
        """Cases most urgent first: overdue, then by the next due date, then those with no open clock.

        Args:
            as_of: Today, for "overdue".
            view: `open`, `ended` (closed, withdrawn, ...), `overdue` or `all`.
            due_by: Only cases whose next open clock is due on or before this date.
            search: A case-insensitive part of the reference or the owner (`%` and `_` match themselves).
            owner: Only cases of this caseworker.
            limit: At most this many (a page), starting at `offset`.
            offset: How many to skip before the page.
            search_fields: Case fields the search also matches, by name; a personal field (the service
                user's name) only where the caller is the caseworker's own screen.
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
        query = query.where(*self._filters(as_of, view, due_by, search, owner, search_fields))
        # The order of the `ix_cases_list` index, expression for expression, so the database walks the
        # index and stops at the end of the page instead of sorting every matching case.
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
        search_fields: Sequence[str] = (),
    ) -> int:
        """How many cases `cases()` would list without a limit."""
        query = select(func.count()).select_from(schema.cases)
        query = query.where(*self._filters(as_of, view, due_by, search, owner, search_fields))
        with self._reading() as connection:
            return int(connection.execute(query).scalar_one())

    def _filters(
        self,
        as_of: dt.date,
        view: str,
        due_by: dt.date | None,
        search: str | None,
        owner: str | None,
        search_fields: Sequence[str] = (),
    ) -> list[Any]:
        c = schema.cases.c
        filters: list[Any] = []
        if view == "open":
            filters.append(c.closed_on.is_(None))
        elif view == "ended":
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
            columns = [c.ref, c.owner, *(self._case_field(name) for name in search_fields)]
            tests = [self._contains(column, search) for column in columns if column is not None]
            tests += [
                self._personal_contains(name, search)
                for name, column in zip(search_fields, columns[2:], strict=True)
                if column is None
            ]
            filters.append(or_(*tests))
        return filters

    def _case_field(self, name: str) -> Any:
        """A case field as text from the `fields` column, or None for one held apart (`_personal_contains`).

        Held apart as the writes hold it: personal or free text in any version of a pack.
        """
        packs = self.rules.packs
        apart = any(
            name in self.personal_keys(pack_id, packs.latest(pack_id).open_event) for pack_id in packs
        )
        return None if apart else schema.cases.c.fields[name].as_string()

    def _personal_contains(self, name: str, search: str) -> Any:
        """The case holds a value of personal field `name` containing `search` (the personal store).

        SQLite stores JSON text with non-ASCII letters escaped, so its value is read back with
        `json_extract`; PostgreSQL's JSONB text keeps them (a string's quotes do not stop a match).
        """
        p = schema.personal_values.c
        sqlite = self.engine.dialect.name == "sqlite"
        value = func.json_extract(p.value, "$") if sqlite else cast(p.value, Text)
        return exists().where(p.case_id == schema.cases.c.id, p.key == name, self._contains(value, search))

    def _contains(self, column: Any, search: str) -> Any:
        """`column` contains `search`, ignoring case, as a test the database can make on an index entry.

        SQLite's LIKE already ignores the case of ASCII letters (as its `lower()` folds only those), and
        PostgreSQL has ILIKE: neither needs `lower(column)`, which costs a function call per row.
        """
        pattern = f"%{_escape_like(search.lower())}%"
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return column.like(pattern, escape=_LIKE_ESCAPE)
        if dialect == "postgresql":
            return column.ilike(pattern, escape=_LIKE_ESCAPE)
        return func.lower(column).like(pattern, escape=_LIKE_ESCAPE)

    # ------------------------------------------------------------------ reads for imports
    # A compliance report's reads are in tracker.reports.queries (grouped and counted in SQL).

    def highest_number(self, prefix: str) -> int:
        """The highest number of the references that are `prefix` and digits (`M-00400`: 400), else 0.

        The new-case form suggests the next one. References padded differently (`M-0012`, `M-00007`) are
        compared as numbers, so only the references with the prefix are read (the index on `ref`).
        """
        ref = schema.cases.c.ref
        query = select(ref).where(ref.startswith(prefix, autoescape=True)).execution_options(yield_per=2000)
        highest = 0
        with self._reading() as connection:
            for found in connection.execute(query).scalars():
                tail = str(found)[len(prefix) :]
                if tail.isascii() and tail.isdigit():
                    highest = max(highest, int(tail))
        return highest

    def existing_refs(self, refs: Iterable[str]) -> set[str]:
        """Which of `refs` are already used by a case (imports skip them)."""
        wanted = sorted(set(refs))
        found: set[str] = set()
        with self._reading() as connection:
            for start in range(0, len(wanted), 500):  # bounded IN lists
                query = select(schema.cases.c.ref).where(schema.cases.c.ref.in_(wanted[start : start + 500]))
                found.update(connection.execute(query).scalars())
        return found

    def report_events(
        self,
        types: Iterable[str],
        pack: str,
        on_from: dt.date,
        on_to: dt.date,
        case_field: str | None = None,
    ) -> list[ReportEvent]:
        """A pack's non-voided events of `types` dated in a range, with their whole payloads.

        Args:
            types: The event types wanted (surveys, feedback: a few thousand a year).
            pack: The rule pack id of their cases.
            on_from: Events dated on or after this date.
            on_to: Events dated on or before this date.
            case_field: Also read this field of each event's case (as text), as `case_value`.
        """
        wanted = list(types)
        if not wanted:
            return []
        e, c = schema.events.c, schema.cases.c
        value = c.fields[case_field].as_string() if case_field else null()
        query = (
            select(e.case_id, c.ref, e.seq, e.type, e.occurred_on, e.data, value)
            .join(schema.cases, c.id == e.case_id)
            .where(e.type.in_(wanted), c.pack == pack, e.occurred_on >= on_from, e.occurred_on <= on_to)
        )
        with self._reading() as connection:
            voided = self._voided(connection, pack)
            rows = connection.execute(query).all()
        return [
            ReportEvent(case_id, ref, seq, kind, on, upcast(data), case_value)
            for case_id, ref, seq, kind, on, data, case_value in rows
            if (case_id, seq) not in voided
        ]

    def _voided(self, connection: Connection, pack: str) -> set[tuple[int, int]]:
        """(case id, seq) of every voided event of a pack's cases (corrections are rare: read them all)."""
        query = voided_events(self.rules.packs, pack)
        return set() if query is None else {(case_id, seq) for case_id, seq in connection.execute(query)}


def voided_events(packs: PackRegistry, pack_id: str) -> Select[Any] | None:
    """(case id, seq) of every event voided by a correction of any version of the pack (None: none can be).

    What reports and imports leave out.
    """
    corrections = packs.events_with_role(pack_id, "void")
    if not corrections:
        return None
    # A case's id is unique across packs, so the corrections of other packs' cases match nothing here.
    e = schema.events.c
    voids = e.data[VOIDS].as_integer()
    return select(e.case_id, voids).where(e.type.in_(corrections), voids.is_not(None))


@contextmanager
def _conflict_is_concurrency() -> Iterator[None]:
    """A unique-key clash (two writers took the same seq or reference) as a ConcurrencyError."""
    try:
        yield
    except IntegrityError as error:
        raise ConcurrencyError(
            "another writer changed this case at the same moment; nothing was written: run it again"
        ) from error


class _CaseWrite:
    """A case being written inside one transaction: its history so far and its state before and now."""

    def __init__(
        self,
        case_id: int,
        read_seq: int,
        history: list[Event],
        before: CaseState,
        state: CaseState,
        last_hash: str,
    ) -> None:
        self.case_id = case_id
        self.read_seq = read_seq
        self.history = history
        self.before = before
        self.state = state
        self.last_hash = last_hash
        """The chain hash of the case's last event, which the next one is chained to."""

    def append(
        self, rules: Rules, sql: WriteStatements, keys: PersonalKeys, cursor: Any, event: Event
    ) -> None:
        """Insert the event (its personal values apart) and advance the state on its stored facts.

        One fold step, or a refold of a step recorded late or a void.
        """
        stored, self.last_hash = _insert_event(
            sql, keys, cursor, self.state.pack_id, self.case_id, self.state.ref, event, self.last_hash
        )
        self.state = advance(rules, self.state, self.history, stored)
        self.history.append(stored)

    def save(self, sql: WriteStatements, cursor: Any, now: dt.datetime) -> None:
        """Write the projection, guarded by the version read: a concurrent writer makes it a conflict."""
        old, new = case_row(self.before, now), case_row(self.state, now)
        columns = tuple(name for name, value in new.items() if name in ALWAYS_SET or old[name] != value)
        row = {f"v_{name}": new[name] for name in columns}
        row.update(b_case_id=self.case_id, b_expected_seq=self.read_seq)
        if sql.update_case(columns).run(cursor, row) != 1:
            raise ConcurrencyError(
                f"case {self.state.ref} changed while recording; nothing was written: try again",
                ref=self.state.ref,
                read_version=self.read_seq,
            )
        write_clocks(sql, cursor, self.case_id, self.state, before=self.before)


def _insert_event(
    sql: WriteStatements,
    keys: PersonalKeys,
    cursor: Any,
    pack_id: str,
    case_id: int,
    ref: str,
    event: Event,
    previous: str | None,
) -> tuple[Event, str]:
    """The one write of an event: its facts to `events`, its personal values to `personal_values`.

    The row is chained to `previous`, the hash of the case's event before it (None for its first). Returns
    the event as stored (what the fold and the cache of recent cases keep) and its chain hash.
    """
    stored, values = keys.split(pack_id, case_id, event)
    row = event_row(case_id, ref, stored, previous)
    sql.insert_event.run(cursor, row)
    sql.insert_personal.run_many(cursor, values)
    return stored, row["hash"]


def _escape_like(text: str) -> str:
    """`text` with LIKE's wildcards (and the escape character itself) escaped, so each matches only itself."""
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


def _clock_changes(
    connection: Connection, first_id: int, last_id: int, states: dict[int, CaseState]
) -> ClockChanges:
    """What `rebuild` changes in the clock rows of the cases `first_id`..`last_id` folded as `states`."""
    current = connection.execute(
        select(schema.clocks).where(schema.clocks.c.case_id.between(first_id, last_id))
    )
    old = {(row.case_id, row.clock, row.number): dict(row._mapping) for row in current}
    new = [row for case_id, state in states.items() for row in clock_rows(case_id, state)]
    return ClockChanges.of(old, new)
