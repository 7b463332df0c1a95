"""The statements of the store's writes and reads of one case, built once.

Constructing SQLAlchemy expressions costs more than running them on SQLite, and a reused statement also
reuses its compiled form and cache key. `WriteStatements` compiles an append's statements per dialect
(`tracker.store.prepared`). Used by `tracker.store.cases` and `tracker.store.rows`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Dialect

from tracker.store import personal, schema
from tracker.store.prepared import Prepared

# Statements built once: constructing SQLAlchemy expressions costs more than running them on SQLite,
# and a reused statement also reuses its compiled form and cache key.
_C = schema.cases.c
FIND_CASE = select(_C.id).where(_C.ref == bindparam("ref"))
LOCK_CASE = select(_C.id, _C.last_seq).where(_C.ref == bindparam("ref"))
# Same-case writers queue on the case row here instead of conflicting. The history is read by a separate,
# later statement on purpose: under READ COMMITTED a statement that waited for the lock still returns rows
# of its own snapshot, so a joined read would miss the event the other writer just committed.
LOCK_CASE_PG = LOCK_CASE.with_for_update()
INSERT_CASE = insert(schema.cases).returning(_C.id, sort_by_parameter_order=True)
CASE_VALUES: dict[str, Any] = {c.name: bindparam(f"v_{c.name}") for c in schema.cases.c if c.name != "id"}
REPLACE_CASE = update(schema.cases).where(_C.id == bindparam("b_case_id")).values(CASE_VALUES)
INSERT_EVENTS = insert(schema.events)
CASE_EVENTS = (
    select(schema.events).where(schema.events.c.case_id == bindparam("case_id")).order_by(schema.events.c.seq)
)
INSERT_CLOCKS = insert(schema.clocks)
CLOCK_KEY = ("case_id", "clock", "number")
UPDATE_CLOCK = (
    update(schema.clocks)
    .where(
        schema.clocks.c.case_id == bindparam("b_case_id"),
        schema.clocks.c.clock == bindparam("b_clock"),
        schema.clocks.c.number == bindparam("b_number"),
    )
    .values({c.name: bindparam(f"v_{c.name}") for c in schema.clocks.c if c.name not in CLOCK_KEY})
)
DELETE_CLOCK = delete(schema.clocks).where(
    schema.clocks.c.case_id == bindparam("case_id"),
    schema.clocks.c.clock == bindparam("b_clock"),
    schema.clocks.c.number == bindparam("b_number"),
)
EVENT_COLUMNS = tuple(c.name for c in schema.events.c if c.name != "id")
CLOCK_COLUMNS = tuple(c.name for c in schema.clocks.c)
CASE_COLUMNS = tuple(CASE_VALUES)
# An append sets only the columns of the case row that it changed (the version and time always change):
# each column left out is an index entry SQLite need not rewrite and a JSON document not encoded again.
ALWAYS_SET = ("last_seq", "updated_at")
HISTORY = (
    select(
        schema.events.c.seq,
        schema.events.c.type,
        schema.events.c.occurred_on,
        schema.events.c.data,
        schema.events.c.actor,
        schema.events.c.recorded_at,
        schema.events.c.schema_version,
        schema.events.c.hash,  # last: the rest is an event (`stored_event`), the last hash chains the next
    )
    .where(schema.events.c.case_id == bindparam("case_id"))
    .order_by(schema.events.c.seq)
)


class WriteStatements:
    """The statements of one event's write, compiled for the engine's dialect, run on the DBAPI cursor.

    See `tracker.store.prepared`: SQLAlchemy's per-statement overhead would otherwise set the pace of appends.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.find_case = Prepared(FIND_CASE, dialect)
        self.insert_case = Prepared(insert(schema.cases).returning(_C.id), dialect, CASE_COLUMNS)
        self.lock_case = Prepared(LOCK_CASE_PG if dialect.name == "postgresql" else LOCK_CASE, dialect)
        self.history = Prepared(HISTORY, dialect)
        self.insert_event = Prepared(INSERT_EVENTS.inline(), dialect, EVENT_COLUMNS)
        self._dialect = dialect
        self._update_case: dict[tuple[str, ...], Prepared] = {}
        self.insert_clock = Prepared(INSERT_CLOCKS.inline(), dialect, CLOCK_COLUMNS)
        self.update_clock = Prepared(UPDATE_CLOCK, dialect)
        self.delete_clock = Prepared(DELETE_CLOCK, dialect)
        self.insert_personal = Prepared(
            insert(schema.personal_values).inline(), dialect, ("case_id", "seq", "key", "value")
        )
        self.personal_of_case = Prepared(personal.CASE_VALUES, dialect)  # an erasure's reads and deletes
        self.delete_personal = Prepared(personal.DELETE_CASE_VALUES, dialect)
        self.find_stamp = Prepared(select(schema.projection_rules.c.id), dialect)
        self.stamp = Prepared(insert(schema.projection_rules), dialect, ("id", "fingerprint"))

    def update_case(self, columns: tuple[str, ...]) -> Prepared:
        """The guarded UPDATE of a case row that sets `columns` (a handful of combinations occur)."""
        prepared = self._update_case.get(columns)
        if prepared is None:
            statement = (
                update(schema.cases)
                .where(_C.id == bindparam("b_case_id"), _C.last_seq == bindparam("b_expected_seq"))
                .values({name: CASE_VALUES[name] for name in columns})
            )
            prepared = self._update_case[columns] = Prepared(statement, self._dialect)
        return prepared
