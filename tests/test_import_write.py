"""The import's write: rows encoded before the transaction, written all or nothing, the same as the demo's.

`Store.encode_histories` builds and encodes the rows before the write lock; `Store.write_encoded` inserts
them in one transaction. A case opened meanwhile under one of the references makes the whole write a
conflict, with nothing of the file kept.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from tests.conftest import NOW
from tracker.domain.errors import ConcurrencyError
from tracker.domain.events import Event
from tracker.domain.workflow import decide, decide_open, project
from tracker.store import Store, schema

D = dt.date.fromisoformat
TODAY = D("2026-06-30")


def history(store: Store, ref: str) -> tuple[str, list[Event]]:
    rules = store.rules
    opened = decide_open(rules, ref, "mediation", D("2026-03-02"), {"name": "A Person"}, "t", NOW, TODAY)
    state = project(rules, ref, [opened])
    requested = decide(rules, state, [opened], "mediation_requested", D("2026-03-03"), {}, "t", NOW, TODAY)
    events = [opened, requested]
    return ref, events


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (schema.cases, schema.events, schema.clocks)
        )


def test_encoded_cases_read_back_as_the_demo_path_writes_them(store: Store, engine: Engine) -> None:
    refs = [f"M-{n}" for n in range(1, 2502)]  # more than one batch
    encoded = store.encode_histories([history(store, ref) for ref in refs], NOW)
    assert store.write_encoded(encoded) == len(refs)
    other = Store(engine, store.rules)
    assert other.import_histories([history(store, "N-1")], NOW) == 1
    imported, demo = store.case("M-2501"), store.case("N-1")
    assert [e.model_dump(exclude={"data"}) for e in imported.events] == [
        e.model_dump(exclude={"data"}) for e in demo.events
    ]
    assert imported.state.personal == {"name": "A Person"}
    assert [c.clock for c in imported.state.clocks] == [c.clock for c in demo.state.clocks]
    assert counts(engine) == (2502, 2 * 2502, 2 * 2502)


def test_a_reference_taken_meanwhile_makes_the_whole_write_a_conflict(store: Store, engine: Engine) -> None:
    encoded = store.encode_histories([history(store, ref) for ref in ("M-1", "M-2", "M-3")], NOW)
    store.open_case("M-3", "mediation", D("2026-03-02"), {}, "someone else", NOW, TODAY)
    before = counts(engine)
    with pytest.raises(ConcurrencyError):
        store.write_encoded(encoded)
    assert counts(engine) == before
