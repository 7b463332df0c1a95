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
(`catch_up_in`) and `Store.rebuild` (`refresh_clocks`: only the clocks of the cases it moved). The running
counts (`tracker.report_counts`) are kept with the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, bindparam, case, cast, delete, func, insert, literal, null, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from tracker import schema
from tracker.compliance.selection import owner_shown
from tracker.db import error_summary, transaction
from tracker.errors import StoreUnavailable
from tracker.report_counts import count_afresh, counts_current, recount
from tracker.report_days import days_of, rejoin, rejoin_all
from tracker.rules import PackRegistry

_K, _C, _E = schema.clocks.c, schema.cases.c, schema.events.c
_STALE = schema.report_stale
_WHOLESALE_SHARE = 0.25
"""Above this share of all cases noted, a catch-up writes the report tables afresh."""

_LOCK_KEY = 0x6361_7365_636C_6B  # "caseclk": the advisory lock of catch-ups on a PostgreSQL database


class json_value(FunctionElement[str]):
    """A value's JSON text as `json.dumps` writes it (null for NULL): json_quote, or to_json on PostgreSQL."""

    type = String()
    inherit_cache = True


@compiles(json_value, "sqlite")
def _json_value_sqlite(element: json_value, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_quote({compiler.process(element.clauses, **kw)})"


@compiles(json_value, "postgresql")
def _json_value_postgresql(element: json_value, compiler: SQLCompiler, **kw: Any) -> str:
    return f"coalesce(CAST(to_json({compiler.process(element.clauses, **kw)}) AS TEXT), 'null')"


_OWNER_PACKS: BindParameter[list[str]] = bindparam("owner_packs", expanding=True)


def _line_text() -> ColumnElement[str]:
    """SQL for a final clock's line of the JSON export (`clock_json`); NULL while the clock is open.

    The keys, their order and the separators are those `json.dumps` writes for `clock_json`; each value is
    the database's own JSON of it, which escapes strings as `json` does (`tests/test_report_reads.py`
    compares the texts, odd characters included). The caseworker is shown for the packs `owner_packs`
    names, those whose latest version lets it leave the provider; a report of another version renders its
    lines itself (`tracker.report_lines`).
    """
    exception = case(
        (_K.exception_reason.is_(None), "null"),
        else_=literal('{"reason": ')
        + json_value(_K.exception_reason)
        + ', "until": '
        + json_value(_K.exception_until)
        + "}",
    )
    parts: list[tuple[str, ColumnElement[Any]]] = [
        ("ref", json_value(_C.ref)),
        ("clock", json_value(_K.clock)),
        ("kpi", json_value(_K.kpi)),
        ("number", cast(_K.number, String)),
        ("starts_on", json_value(_K.starts_on)),
        ("due_on", json_value(_K.due_on)),
        ("stopped_on", json_value(_K.stopped_on)),
        ("ended_on", json_value(_K.ended_on)),
        ("ended_by", json_value(_K.ended_by)),
        ("status", json_value(_K.final_status)),
        ("exception", exception),
        ("caseworker", case((_C.pack.in_(_OWNER_PACKS), json_value(_C.owner)), else_="null")),
    ]
    text: ColumnElement[str] = literal("{")
    for index, (key, part) in enumerate(parts):
        text = text + f'{", " if index else ""}"{key}": ' + part
    return case((_K.final_status.is_(None), null()), else_=text + "}")


_CLOCK_COLUMNS = [column.name for column in schema.report_clocks.c]
_CLOCK_SOURCE = {
    **{column.name: _K[column.name] for column in schema.clocks.c if column.name in _CLOCK_COLUMNS},
    "pack": _C.pack,
    "ref": _C.ref,
    "owner": _C.owner,
    "line": _line_text(),
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


def catch_up(engine: Engine, packs: PackRegistry) -> int:
    """Bring the report tables up to date with every write committed so far; returns the cases rewritten.

    Takes a write transaction only when some case is noted or a pack's counts were made with another
    version of it, so a report on an unchanged database stays a pure read.

    Raises:
        StoreUnavailable: the database cannot be reached or written (a read-only role, a locked file).
    """
    with transaction(engine, write=False) as connection:
        noted = connection.execute(select(_STALE.c.id).limit(1)).first() is not None
        if not noted and counts_current(connection, packs):
            return 0
    try:
        with transaction(engine, write=True) as connection:
            return catch_up_in(connection, packs)
    except ProgrammingError as error:  # a PostgreSQL role that may read but not write
        raise StoreUnavailable(
            f"cannot bring the report tables up to date ({error_summary(error)}): reports need a database "
            "role that may write the report tables; ask for one, or report from a role that writes cases"
        ) from None


def catch_up_in(connection: Connection, packs: PackRegistry) -> int:
    """`catch_up` inside the caller's write transaction (an import or a rebuild catches up as it commits).

    The counts (`tracker.report_counts`) are brought up to date after the rows they are counted from. All
    is written afresh when most cases are noted, or when a pack's counts (and lines) were made with another
    version of it.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
    case_ids = sorted(set(connection.execute(_CLAIM).scalars()))
    shown = {"owner_packs": owner_packs(packs)}
    if len(case_ids) > _WHOLESALE_SHARE * _case_count(connection) or not counts_current(connection, packs):
        # Most cases (an import into a new database, an upgrade, a changed pack): writing the
        # tables afresh in their key order is about three times faster than rewriting case by case.
        for statement in (_DROP_ALL_CLOCKS, _DROP_ALL_EVENTS, _FILL_CLOCKS, _FILL_EVENTS):
            connection.execute(statement, shown)
        rejoin_all(connection)
        count_afresh(connection, packs)
        return len(case_ids)

    def rewrite(chunk: list[int]) -> None:
        days = days_of(connection, chunk)
        for statement in (_DROP_CLOCKS, _DROP_EVENTS, _COPY_CLOCKS, _COPY_EVENTS):
            connection.execute(statement, {"case_ids": chunk, **shown})
        rejoin(connection, days | days_of(connection, chunk))

    recount(connection, packs, case_ids, rewrite)
    return len(case_ids)


def refresh_clocks(connection: Connection, packs: PackRegistry, case_ids: Sequence[int]) -> None:
    """Rewrite the report clock rows of cases whose clocks alone moved (`rebuild`), and what they count.

    Inside the caller's write transaction. The cases' events and fields are as they were, so only the
    counts their clocks make change (`CLOCK_KINDS`): a rebuild after a calendar change that moves most
    clocks recounts those alone. Notes of other writes stay for the next catch-up.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
    if not counts_current(connection, packs):
        catch_up_in(connection, packs)  # everything is written afresh anyway
        return
    shown = {"owner_packs": owner_packs(packs)}
    if len(case_ids) > _WHOLESALE_SHARE * _case_count(connection):
        for statement in (_DROP_ALL_CLOCKS, _FILL_CLOCKS):
            connection.execute(statement, shown)
        rejoin_all(connection)
        count_afresh(connection, packs, clocks_only=True)
        return

    def rewrite(chunk: list[int]) -> None:
        days = days_of(connection, chunk)
        for statement in (_DROP_CLOCKS, _COPY_CLOCKS):
            connection.execute(statement, {"case_ids": chunk, **shown})
        rejoin(connection, days | days_of(connection, chunk))

    recount(connection, packs, case_ids, rewrite, clocks_only=True)


def owner_packs(packs: PackRegistry) -> list[str]:
    """The packs whose latest version shows a clock's caseworker in reports (an exportable owner field)."""
    return [pack_id for pack_id in packs if owner_shown(packs.latest(pack_id))]


def _case_count(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(schema.cases)).scalar_one())
