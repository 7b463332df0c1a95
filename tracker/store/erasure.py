"""Erasing a case's personal data: one transaction, then the database's own clean-up of the freed space.

In one transaction: the case's rows in the personal store are deleted and an erasure event (who and why,
nothing personal) is appended, its projection saved as any append saves it. The projections hold no
personal value (`cases` and `clocks` are folded from the facts), the alert outbox carries references only
and `letter_sends` message ids, so nothing else in the database holds one. A second erasure finds the first
and writes nothing, unless values were recorded apart since (those it erases).

Deleted rows leave their bytes in free pages until they are reused, so every SQLite connection runs with
`secure_delete` (freed content is overwritten with zeros: `tracker.store.engine`), then `VACUUM` rewrites the
file and a `wal_checkpoint(TRUNCATE)` empties the write-ahead log; while another connection reads (the TUI,
a `watch` pass) the checkpoint cannot finish and the old pages stay in the log until a later one, which
`compact` reports. PostgreSQL gets a `VACUUM` of the personal store, which makes the space reusable but does
not overwrite it; its WAL and base backups still hold old values until they age out. Called by
`Store.erase`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tracker.domain.errors import InvalidValue
from tracker.domain.workflow import Erasure

MIN_MATCHED = 3
"""Values shorter than this are not looked for in a reason (a note "ok" would refuse every reason)."""


@dataclass(frozen=True, slots=True)
class Erased:
    """What `Store.erase` did: the case's erasure, and whether this call made it (False: it was done)."""

    erasure: Erasure
    new: bool
    values: int
    """How many values held apart were deleted."""
    compacted: bool = True
    """Whether the freed space was rewritten (False: another connection kept SQLite's log; see `compact`)."""


def check_reason(reason: str, values: Iterable[tuple[str, Any]], by_word: Collection[str]) -> None:
    """Refuse a reason that contains one of the case's personal values (naming the field, never the value).

    The reason stays in the record as the accountability of the erasure, so it must not carry what it
    erases. The fields in `by_word` (a name, a contact) are matched word by word too: "asked by Zebediah"
    names the person as surely as the whole name does; a free text is matched whole.
    """
    folded = reason.casefold()
    for key, value in values:
        whole = str(value).strip().casefold()
        words = [whole, *(whole.split() if key in by_word else ())]
        if any(len(word) >= MIN_MATCHED and word in folded for word in words):
            raise InvalidValue(
                "--reason",
                "(withheld)",
                f"it contains the case's {key} (personal data kept in the record); say why without it, "
                "e.g. --reason 'request of the data subject'",
                reason=f"it contains the case's {key}",
            )


def compact(engine: Engine) -> bool:
    """Rewrite the database so no freed page keeps an erased value; False when SQLite's log could not be.

    SQLite is vacuumed and its WAL checkpointed and truncated: the checkpoint reports busy while another
    connection reads, and the log then keeps the old pages until a later checkpoint (False). PostgreSQL
    vacuums the personal store (True: its WAL is the server's, see the module's note).
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()
            cursor.execute("VACUUM")
            busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        return not busy
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM personal_values"))
    return True


def erased_on(erasure: Erasure) -> str:
    """The date of an erasure as the CLI says it."""
    return erasure.recorded_at.astimezone(dt.UTC).date().isoformat()
