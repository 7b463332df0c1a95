"""Statements compiled once and run straight on a DBAPI connection: the store's per-event write path.

Recording one event takes four or five small statements. SQLite runs each in ~20 µs, while SQLAlchemy's
per-execution machinery (connection and transaction objects, execution context, result set-up, event
dispatch) costs several times that on a slow machine, so it would set the pace of every append. A
`Prepared` statement is a SQLAlchemy construct compiled once for the engine's dialect: its SQL text, its
parameter order, and the bind and result processors of its types (the same functions SQLAlchemy itself
applies: dates and JSON as text on SQLite, `::JSONB` casts on PostgreSQL) are kept, and each execution is
one `cursor.execute` on the cursor of a `tracker.store.engine.dbapi_transaction`. A driver error is re-raised
as SQLAlchemy's own exception class, so callers handle one family of errors whichever path ran the statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Select
from sqlalchemy.sql.compiler import SQLCompiler

_Processor = Callable[[Any], Any]


class Prepared:
    """One statement for one dialect, run on the DBAPI cursor of a transaction (`dbapi_transaction`).

    Args:
        statement: A Core statement with named bind parameters (`bindparam("x")`, or an INSERT's columns).
        dialect: The engine's dialect (`engine.dialect`).
        column_keys: For an INSERT without explicit values: the columns each parameter set supplies.
    """

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None = None
    ) -> None:
        compiled = cast(
            SQLCompiler, statement.compile(dialect=dialect, column_keys=list(column_keys or ()) or None)
        )
        self.sql = compiled.string
        processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(compiled.binds)
        self._binds = tuple((name, processors.get(name)) for name in names)
        self._position = {name: index for index, name in enumerate(names)}
        self._positional = dialect.positional
        self._results: tuple[_Processor | None, ...] = ()
        if isinstance(statement, Select):
            self._results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in statement.selected_columns
            )
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

    def all(self, cursor: Any, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a query with one parameter set; its rows, with the column types' result processing."""
        self._execute(cursor, values)
        rows = cursor.fetchall()
        results = self._results
        if not any(results):
            return [tuple(row) for row in rows]
        return [
            tuple(
                value if process is None or value is None else process(value)
                for process, value in zip(results, row, strict=True)
            )
            for row in rows
        ]

    def first(self, cursor: Any, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run a query with one parameter set; its first row, or None."""
        rows = self.all(cursor, values)
        return rows[0] if rows else None

    def run(self, cursor: Any, values: Mapping[str, Any]) -> int:
        """Run a statement with one parameter set; returns the number of rows it changed."""
        self._execute(cursor, values)
        return int(cursor.rowcount)

    def run_many(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement once per parameter set (`executemany`)."""
        if not rows:
            return
        parameters = [self._parameters(values) for values in rows]
        try:
            cursor.executemany(self.sql, parameters)
        except self._dbapi_error as error:
            raise DBAPIError.instance(self.sql, parameters, error, self._dbapi_error) from error

    def encode(self, values: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """One parameter set as the driver takes it (types processed), to run later with `run_encoded`.

        A bulk write encodes its rows before it takes the write lock; `set_encoded` fills in a value known
        only inside the transaction (a new case's id).
        """
        if self._positional:
            return [
                values[name] if process is None else process(values[name]) for name, process in self._binds
            ]
        return self._parameters(values)  # type: ignore[return-value]

    def set_encoded(self, encoded: list[Any] | dict[str, Any], name: str, value: Any) -> None:
        """Put `value` (of a type the driver takes as it is, e.g. an id) in an encoded set, in place."""
        if isinstance(encoded, dict):
            encoded[name] = value
        else:
            encoded[self._position[name]] = value

    def first_encoded(self, cursor: Any, encoded: list[Any] | dict[str, Any]) -> tuple[Any, ...] | None:
        """`first` with an encoded parameter set (no result processing: for an INSERT's RETURNING id)."""
        try:
            cursor.execute(self.sql, encoded)
        except self._dbapi_error as error:
            raise DBAPIError.instance(self.sql, encoded, error, self._dbapi_error) from error
        row = cursor.fetchone()
        return None if row is None else tuple(row)

    def run_encoded(self, cursor: Any, encoded: Sequence[list[Any] | dict[str, Any]]) -> None:
        """`run_many` with encoded parameter sets."""
        if not encoded:
            return
        try:
            cursor.executemany(self.sql, encoded)
        except self._dbapi_error as error:
            raise DBAPIError.instance(self.sql, encoded, error, self._dbapi_error) from error

    def _parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self._positional:
            return [
                values[name] if process is None else process(values[name]) for name, process in self._binds
            ]
        return {
            name: values[name] if process is None else process(values[name]) for name, process in self._binds
        }

    def _execute(self, cursor: Any, values: Mapping[str, Any]) -> None:
        parameters = self._parameters(values)
        try:
            cursor.execute(self.sql, parameters)
        except self._dbapi_error as error:
            raise DBAPIError.instance(self.sql, parameters, error, self._dbapi_error) from error
