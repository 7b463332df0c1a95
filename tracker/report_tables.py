"""Bringing the report tables up to date: `report_clocks` and `report_events` catch up before a report.

The report tables (`tracker.schema`) are copies of `clocks` and `events` with their cases' columns, in the
orders reports read them. Writing them with every event would slow every append for the sake of a report
read now and then, so a write only notes its case in `report_stale` (the database's triggers do it:
migration 0005), and `catch_up` rewrites the report rows of the noted cases just before a report is read
(`tracker.report_db.snapshot`), then deletes the notes it handled, in one transaction.

Notes are never lost to a concurrent writer: a catch-up deletes exactly the notes its transaction sees
(`DELETE ... RETURNING`), and the report rows it writes are read in a later snapshot than that, so a write
it did not see leaves its note for the next catch-up. Two catch-ups never interleave: SQLite has one writer
at a time, and on PostgreSQL a catch-up takes a transaction-level advisory lock first. An adapter
(SQLAlchemy); used by `tracker.report_db`, and inside their own transactions by `Store.import_histories`
and `Store.rebuild`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, case, delete, func, insert, null, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.sql.elements import BindParameter

from tracker import schema
from tracker.db import error_summary, transaction
from tracker.errors import StoreUnavailable

_K, _C, _E = schema.clocks.c, schema.cases.c, schema.events.c
_STALE = schema.report_stale
_CHUNK = 500
"""Cases rewritten per statement (a bounded IN list)."""

_WHOLESALE_SHARE = 0.25
"""Above this share of all cases noted, a catch-up writes the report tables afresh."""

_LOCK_KEY = 0x6361_7365_636C_6B  # "caseclk": the advisory lock of catch-ups on a PostgreSQL database

_CLOCK_COLUMNS = [column.name for column in schema.report_clocks.c]
_CLOCK_SOURCE = {
    **{column.name: _K[column.name] for column in schema.clocks.c if column.name in _CLOCK_COLUMNS},
    "pack": _C.pack,
    "ref": _C.ref,
    "owner": _C.owner,
}
_CASE_IDS: BindParameter[list[int]] = bindparam("case_ids", expanding=True)

_CLOCKS_SOURCE = select(*(_CLOCK_SOURCE[name] for name in _CLOCK_COLUMNS)).join(
    schema.cases, _C.id == _K.case_id
)
_COPY_CLOCKS = insert(schema.report_clocks).from_select(
    _CLOCK_COLUMNS, _CLOCKS_SOURCE.where(_K.case_id.in_(_CASE_IDS))
)
_FILL_CLOCKS = insert(schema.report_clocks).from_select(
    _CLOCK_COLUMNS, _CLOCKS_SOURCE.order_by(_C.pack, _K.due_on, _C.ref, _K.clock, _K.number)
)
# The opening event's payload (the case's fields, names and contacts: most of the events' bytes) is not
# copied: reports read case fields from `cases`.
_EVENT_SOURCE = {
    "pack": _C.pack,
    "opened_on": _C.opened_on,
    "case_id": _E.case_id,
    "seq": _E.seq,
    "type": _E.type,
    "occurred_on": _E.occurred_on,
    "ref": _C.ref,
    "data": case((_E.seq == 1, null()), else_=_E.data),
}
_EVENT_COLUMNS = [column.name for column in schema.report_events.c]
_EVENTS_SOURCE = select(*(_EVENT_SOURCE[name] for name in _EVENT_COLUMNS)).join(
    schema.cases, _C.id == _E.case_id
)
_COPY_EVENTS = insert(schema.report_events).from_select(
    _EVENT_COLUMNS, _EVENTS_SOURCE.where(_E.case_id.in_(_CASE_IDS))
)
_FILL_EVENTS = insert(schema.report_events).from_select(
    _EVENT_COLUMNS, _EVENTS_SOURCE.order_by(_C.pack, _C.opened_on, _E.case_id, _E.seq)
)
_DROP_CLOCKS = delete(schema.report_clocks).where(schema.report_clocks.c.case_id.in_(_CASE_IDS))
_DROP_EVENTS = delete(schema.report_events).where(schema.report_events.c.case_id.in_(_CASE_IDS))
_DROP_ALL_CLOCKS = delete(schema.report_clocks)
_DROP_ALL_EVENTS = delete(schema.report_events)
_CLAIM = delete(_STALE).returning(_STALE.c.case_id)


def catch_up(engine: Engine) -> int:
    """Bring the report tables up to date with every write committed so far; returns the cases rewritten.

    Takes a write transaction only when some case is noted, so a report on an unchanged database stays a
    pure read.

    Raises:
        StoreUnavailable: the database cannot be reached or written (a read-only role, a locked file).
    """
    with transaction(engine, write=False) as connection:
        if connection.execute(select(_STALE.c.id).limit(1)).first() is None:
            return 0
    try:
        with transaction(engine, write=True) as connection:
            return catch_up_in(connection)
    except ProgrammingError as error:  # a PostgreSQL role that may read but not write
        raise StoreUnavailable(
            f"cannot bring the report tables up to date ({error_summary(error)}): reports need a database "
            "role that may write the report tables; ask for one, or report from a role that writes cases"
        ) from None


def catch_up_in(connection: Connection) -> int:
    """`catch_up` inside the caller's write transaction (an import or a rebuild catches up as it commits)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
    case_ids = sorted(set(connection.execute(_CLAIM).scalars()))
    if len(case_ids) > _WHOLESALE_SHARE * _case_count(connection):
        # Most cases (an import into a new database, a rebuild after a change of rules): writing the
        # tables afresh in their key order is about three times faster than rewriting case by case.
        for statement in (_DROP_ALL_CLOCKS, _DROP_ALL_EVENTS, _FILL_CLOCKS, _FILL_EVENTS):
            connection.execute(statement)
        return len(case_ids)
    for first in range(0, len(case_ids), _CHUNK):
        chunk = {"case_ids": case_ids[first : first + _CHUNK]}
        for statement in (_DROP_CLOCKS, _DROP_EVENTS, _COPY_CLOCKS, _COPY_EVENTS):
            connection.execute(statement, chunk)
    return len(case_ids)


def _case_count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(schema.cases)).scalar_one())


def note_stale(connection: Connection, case_ids: Iterable[int]) -> None:
    """Note cases whose report rows are out of date for a reason no trigger sees (`rebuild` moving clocks)."""
    rows = [{"case_id": case_id} for case_id in sorted(set(case_ids))]
    if rows:
        connection.execute(insert(_STALE), rows)
