"""The running counts of the reports (`report_counts`): kept at catch-up, read for a period's tallies.

`tracker.compliance.counts` says what a case counts; this module keeps the sums in the store. At a
catch-up (`tracker.report_tables`), `recount` derives what each case written counted from its report rows
and its `report_cases` row as they stand (the last catch-up's), with the latest version of its pack, and
takes it off; then rewrites those rows and adds what they count now. `count_afresh` counts every case (an
import into an empty database, a rebuild, a pack changed since the counts were made). Inside the
catch-up's transaction, so the sums never disagree with the rows.

The sums are read by `tracker.report_sql` (`counted_tallies`). An adapter (SQLAlchemy): reads and writes
only the report tables and `cases`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, case, delete, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from tracker import schema
from tracker.compliance import ClockFact
from tracker.compliance.counts import CLOCK_KINDS, CountRow, case_counts, clock_counts
from tracker.compliance.facts import CaseSummary, facts_of
from tracker.compliance.selection import feedback_events, outcome_fields
from tracker.driver_rows import Values, fetch_rows, rows_on
from tracker.events import VOIDS, upcast
from tracker.report_sql import CLOCK_FACT_COLUMNS, counts_made_with, pack_fingerprint
from tracker.rules import PackRegistry

_COUNTS, _CASES, _PACKS = schema.report_counts, schema.report_cases, schema.report_count_packs
_C, _R, _E = schema.cases.c, schema.report_clocks.c, schema.report_events.c
_CHUNK = 2000
"""Cases counted per statement when all are counted afresh."""
_REWRITE_CHUNK = 500
"""Cases rewritten and recounted per statement (a bounded IN list)."""

Total = Counter[tuple[str, str, dt.date, "dt.date | None", str]]
"""(pack, kind, day, since, key) -> n."""


class _Event(NamedTuple):
    seq: int
    type: str
    on: dt.date
    data: dict[str, Any]


def counts_current(connection: Connection, packs: PackRegistry) -> bool:
    """Whether each enabled pack's counts were made with its latest version (and no other pack's are kept)."""
    return counts_made_with(rows_on(connection), packs)


_CASE_COLUMNS = [column.name for column in _CASES.c]
_CASES_SOURCE = select(*(_C[name] if name != "case_id" else _C.id for name in _CASE_COLUMNS))
_CASE_IDS: BindParameter[list[int]] = bindparam("case_ids", expanding=True)
_COPY_CASES = insert(_CASES).from_select(_CASE_COLUMNS, _CASES_SOURCE.where(_C.id.in_(_CASE_IDS)))
_DROP_CASES = delete(_CASES).where(_CASES.c.case_id.in_(_CASE_IDS))


def count_afresh(connection: Connection, packs: PackRegistry, *, clocks_only: bool = False) -> None:
    """Make every pack's counts afresh from the report rows of all its cases (written just before).

    `clocks_only`: only the kinds counted from clocks (`CLOCK_KINDS`), when the clocks alone were
    rewritten (`rebuild`); the rest stand.
    """
    if clocks_only:
        connection.execute(delete(_COUNTS).where(_COUNTS.c.kind.in_(CLOCK_KINDS)))
    else:
        for table in (_COUNTS, _CASES, _PACKS):
            connection.execute(delete(table))
        connection.execute(insert(_CASES).from_select(_CASE_COLUMNS, _CASES_SOURCE))
    total: Total = Counter()
    ids = list(connection.execute(select(_CASES.c.case_id).order_by(_CASES.c.case_id)).scalars())
    for first in range(0, len(ids), _CHUNK):
        total.update(_counted(connection, packs, ids[first : first + _CHUNK], clocks_only=clocks_only))
    sums = [_count_row(key, n) for key, n in total.items() if n]
    if sums:
        connection.execute(insert(_COUNTS), sums)
    if not clocks_only:
        made = [
            {"pack": pack_id, "fingerprint": pack_fingerprint(packs.latest(pack_id))} for pack_id in packs
        ]
        if made:
            connection.execute(insert(_PACKS), made)


def recount(
    connection: Connection,
    packs: PackRegistry,
    case_ids: Sequence[int],
    rewrite: Callable[[list[int]], None],
    *,
    clocks_only: bool = False,
) -> None:
    """Rewrite the report rows of cases (`rewrite`, a chunk at a time) and bring the counts up to date.

    What a case counted is read from its report rows before they are rewritten and taken off; what it
    counts from the rows written is added. `clocks_only`: `rewrite` rewrites the clock rows alone, so only
    what clocks count changes (and `report_cases` stands).
    """
    for first in range(0, len(case_ids), _REWRITE_CHUNK):
        chunk = list(case_ids[first : first + _REWRITE_CHUNK])
        change: Total = Counter()
        change.subtract(_counted(connection, packs, chunk, clocks_only=clocks_only))
        rewrite(chunk)
        if not clocks_only:
            connection.execute(_DROP_CASES, {"case_ids": chunk})
            connection.execute(_COPY_CASES, {"case_ids": chunk})
        change.update(_counted(connection, packs, chunk, clocks_only=clocks_only))
        _apply(connection, change)


def _apply(connection: Connection, change: Total) -> None:
    """Add a change to the sums; a sum that reaches nought goes."""
    moved = [_count_row(key, n) for key, n in change.items() if n]
    if not moved:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(_COUNTS)
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=["pack", "kind", "day", "key"], set_={"n": _COUNTS.c.n + upsert.excluded.n}
        ),
        moved,
    )
    gone = [row for row in moved if row["n"] < 0]
    key = tuple_(_COUNTS.c.pack, _COUNTS.c.kind, _COUNTS.c.day, _COUNTS.c.key)
    for first in range(0, len(gone), 500):
        keys = [(r["pack"], r["kind"], r["day"], r["key"]) for r in gone[first : first + 500]]
        connection.execute(delete(_COUNTS).where(_COUNTS.c.n == 0, key.in_(keys)))


def _count_row(key: tuple[str, str, dt.date, dt.date | None, str], n: int) -> dict[str, Any]:
    pack_id, kind, day, since, text_key = key
    return {"pack": pack_id, "kind": kind, "day": day, "since": since, "key": text_key, "n": n}


def _counted(
    connection: Connection, packs: PackRegistry, case_ids: Sequence[int], *, clocks_only: bool = False
) -> Total:
    """The sum of the count rows of cases, from their report rows and `report_cases` rows as they stand.

    Each case is counted with its pack's latest version; a case of a pack not enabled counts nothing.
    `clocks_only`: only what their clocks count (`CLOCK_KINDS`).
    """
    enabled = set(packs)
    dates = Values(connection).dates
    clocks: dict[int, list[ClockFact]] = {}
    packs_of: dict[int, str] = {}
    for case_id, pack_id, ref, clock, kpi, number, version, starts, due, stopped, ended, *rest in fetch_rows(
        connection, _CLOCKS.where(_R.case_id.in_(case_ids))
    ):
        by, final, reason, until = rest
        packs_of[case_id] = pack_id
        clocks.setdefault(case_id, []).append(
            ClockFact(
                ref,
                clock,
                kpi,
                number,
                version,
                dates[starts],
                dates[due],
                dates[stopped],
                dates[ended],
                by,
                final,
                reason,
                dates[until],
            )
        )
    totals: dict[str, Counter[CountRow]] = {}
    corrections_of = {pack_id: _corrections(packs, pack_id) for pack_id in packs}
    if clocks_only:
        for case_id, of_case in clocks.items():
            if packs_of[case_id] in enabled:
                clock_counts(of_case, into=totals.setdefault(packs_of[case_id], Counter()))
        return _with_packs(totals)
    events: dict[int, list[_Event]] = {}
    payload = case((_E.type.in_(_payload_types(packs)), _E.data))  # the rest count by type and date
    query = select(_E.case_id, _E.seq, _E.type, _E.occurred_on, payload).where(_E.case_id.in_(case_ids))
    for case_id, seq, kind, on, data in fetch_rows(connection, query.order_by(_E.case_id, _E.seq)):
        events.setdefault(case_id, []).append(
            _Event(seq, kind, dates[on], upcast(_json(data)) if data else {})
        )
    for case_id, pack_id, ref, case_type, state, opened_on, closed_on, fields in fetch_rows(
        connection, _CASES_READ.where(_CASES.c.case_id.in_(case_ids))
    ):
        if pack_id not in enabled:
            continue
        pack = packs.latest(pack_id)
        history = events.get(case_id, [])
        corrections = corrections_of[pack_id]
        voided = {int(e.data[VOIDS]) for e in history if e.type in corrections and VOIDS in e.data}
        summary = CaseSummary(ref, case_type, dates[opened_on], _json(fields), state, dates[closed_on])
        facts = facts_of(pack, summary, tuple(clocks.get(case_id, ())), history, voided)
        case_counts(pack, facts, into=totals.setdefault(pack_id, Counter()))
    return _with_packs(totals)


def _with_packs(totals: dict[str, Counter[CountRow]]) -> Total:
    return Counter(
        {(pack_id, *row): n for pack_id, counted in totals.items() for row, n in counted.items() if n}
    )


def _payload_types(packs: PackRegistry) -> list[str]:
    """The event types whose payloads the facts read (the rest count by type and date alone)."""
    return sorted(
        {
            name
            for pack_id in packs
            for pack in (packs.latest(pack_id),)
            for name in (
                *(event for carriers in outcome_fields(pack).values() for event, _spec in carriers),
                *feedback_events(pack),
                *((pack.satisfaction.event,) if pack.satisfaction else ()),
                *((pack.reporting.activity.event,) if pack.reporting.activity else ()),
            )
        }
        | {name for pack_id in packs for name in _corrections(packs, pack_id)}
    )


_CLOCKS = select(_R.case_id, _R.pack, *(_R[name] for name in CLOCK_FACT_COLUMNS)).order_by(
    _R.case_id, _R.clock, _R.number
)
_CASES_READ = select(*(_CASES.c[name] for name in _CASE_COLUMNS))


def _json(value: Any) -> Any:
    """A JSON column's value: SQLite gives its text, PostgreSQL the value."""
    return json.loads(value) if isinstance(value, str) else value


def _corrections(packs: PackRegistry, pack_id: str) -> set[str]:
    return {
        name for version in packs.versions(pack_id) if (name := version.event_with_role("void")) is not None
    }
