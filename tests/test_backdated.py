"""Back-dated steps: state and clocks fold events in business-date order, whatever the recording order.

Caseworkers record steps a day or two late, so a step dated earlier is often recorded after a later one. The
case is folded by business date (`on`), then by recording order within a day, for the state and the clocks
alike, on the incremental path and in `rebuild`; and an event is accepted when it fits the history by date.

Every case here is a mediation case opened and requested on Monday 2 March 2026 unless said otherwise, so
`kpi2` is due 2026-03-05 and `kpi5` 2026-04-01. Statuses are taken as of 2026-06-30.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine

from tracker.domain.clocks import clock_status
from tracker.domain.errors import EventRefused
from tracker.domain.workflow import CaseState
from tracker.store import Store, schema

D = dt.date.fromisoformat
TODAY = D("2026-06-30")
AS_OF = TODAY
NOW = dt.datetime(2026, 6, 30, 9, 30, tzinfo=dt.UTC)
OPENED = "2026-03-02"

ClockRow = tuple[str, int, str, str, str | None, str | None, str | None, str | None, str]
"""clock, number, starts_on, due_on, stopped_on, ended_on, ended_by, exception reason, status as of AS_OF."""


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def clock_table(state: CaseState) -> list[ClockRow]:
    """The case's clock instances, sorted by clock and number, as comparable rows."""
    return sorted(
        (
            c.clock,
            c.number,
            c.starts_on.isoformat(),
            c.due_on.isoformat(),
            _iso(c.stopped_on),
            _iso(c.ended_on),
            c.ended_by,
            c.exception.reason if c.exception else None,
            c.status(AS_OF).value,
        )
        for c in state.clocks
    )


def stored_clock_table(engine: Engine, ref: str) -> list[ClockRow]:
    """The case's rows in the `clocks` table, in the same form as `clock_table`."""
    k, c = schema.clocks.c, schema.cases.c
    query = (
        select(
            k.clock,
            k.number,
            k.starts_on,
            k.due_on,
            k.stopped_on,
            k.ended_on,
            k.ended_by,
            k.exception_reason,
            k.excepted_on,
        )
        .join(schema.cases, c.id == k.case_id)
        .where(c.ref == ref)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return sorted(
        (
            clock,
            number,
            starts.isoformat(),
            due.isoformat(),
            _iso(stopped),
            _iso(ended),
            ended_by,
            reason,
            clock_status(due, stopped, ended, excepted_on, AS_OF).value,
        )
        for clock, number, starts, due, stopped, ended, ended_by, reason, excepted_on in rows
    )


def stored_case_row(engine: Engine, ref: str) -> dict[str, Any]:
    """The case's row in `cases`, without its id, reference, version and wall-clock time."""
    columns = [c for c in schema.cases.c if c.name not in ("id", "ref", "last_seq", "updated_at")]
    with engine.connect() as connection:
        row = connection.execute(select(*columns).where(schema.cases.c.ref == ref)).one()
    return dict(row._mapping)


def open_requested(store: Store, ref: str) -> CaseState:
    store.open_case(ref, "mediation", D(OPENED), {"caseworker": "Jo Smith"}, "jo", NOW, TODAY)
    return record(store, ref, "mediation_requested", OPENED)


def record(store: Store, ref: str, event_type: str, on: str, **fields: object) -> CaseState:
    _, state = store.record(ref, event_type, D(on), dict(fields), "jo", NOW, TODAY)
    return state


def assert_clocks(store: Store, engine: Engine, ref: str, state: CaseState, expected: list[ClockRow]) -> None:
    """The same clocks from the write that was just made, from a refold of the stored history, from the
    stored clock rows, and again from all of them after `rebuild`."""
    expected = sorted(expected)
    assert clock_table(state) == expected, "the state the write returned"
    assert clock_table(store.case(ref).state) == expected, "the stored history folded again"
    assert stored_clock_table(engine, ref) == expected, "the clock rows the write left"
    incremental_case_row = stored_case_row(engine, ref)
    store.rebuild(NOW)
    assert stored_clock_table(engine, ref) == expected, "the clock rows after rebuild"
    assert clock_table(store.case(ref).state) == expected, "the case read after rebuild"
    assert stored_case_row(engine, ref) == incremental_case_row, "the case row after rebuild"


# ---------------------------------------------------------------------------------------------- R1-R4


def test_r1_la_notified_back_dated_before_a_decline_stops_kpi2(store: Store, engine: Engine) -> None:
    open_requested(store, "R1")
    record(store, "R1", "mediation_declined", "2026-03-10")
    state = record(store, "R1", "la_notified", "2026-03-04")
    assert state.state == "mediation_declined"
    assert_clocks(
        store,
        engine,
        "R1",
        state,
        [
            ("kpi2", 1, "2026-03-02", "2026-03-05", "2026-03-04", None, None, None, "met"),
            ("kpi4", 1, "2026-03-10", "2026-03-13", None, None, None, None, "breached"),
            (
                "kpi5",
                1,
                "2026-03-02",
                "2026-04-01",
                None,
                "2026-03-10",
                "mediation_declined",
                None,
                "cancelled",
            ),
        ],
    )


def test_r2_confirmation_back_dated_before_a_reschedule_confirms_the_first_meeting(
    store: Store, engine: Engine
) -> None:
    open_requested(store, "R2")
    record(store, "R2", "meeting_scheduled", "2026-03-03", meeting_date="2026-03-20")
    record(store, "R2", "meeting_scheduled", "2026-03-12", meeting_date="2026-03-27")
    state = record(store, "R2", "confirmation_sent", "2026-03-10")
    assert state.state == "meeting_scheduled"
    assert_clocks(
        store,
        engine,
        "R2",
        state,
        [
            ("kpi2", 1, "2026-03-02", "2026-03-05", None, None, None, None, "breached"),
            # Confirmed on 03-10, before the reschedule of 03-12: met, and not superseded.
            ("kpi3", 1, "2026-03-03", "2026-03-13", "2026-03-10", None, None, None, "met"),
            # The meeting of 03-27 was never confirmed; a confirmation cannot stop a clock before it starts.
            ("kpi3", 2, "2026-03-12", "2026-03-20", None, None, None, None, "breached"),
            ("kpi5", 1, "2026-03-02", "2026-04-01", None, None, None, None, "breached"),
        ],
    )


def test_r3_confirmation_back_dated_before_mediation_not_arranged_meets_kpi3(
    store: Store, engine: Engine
) -> None:
    open_requested(store, "R3")
    record(store, "R3", "meeting_scheduled", "2026-03-03", meeting_date="2026-03-20")
    record(store, "R3", "mediation_not_arranged", "2026-03-20")
    state = record(store, "R3", "confirmation_sent", "2026-03-12")
    assert state.state == "mediation_not_arranged"
    assert_clocks(
        store,
        engine,
        "R3",
        state,
        [
            ("kpi2", 1, "2026-03-02", "2026-03-05", None, None, None, None, "breached"),
            ("kpi3", 1, "2026-03-03", "2026-03-13", "2026-03-12", None, None, None, "met"),
            ("kpi4", 1, "2026-03-20", "2026-03-25", None, None, None, None, "breached"),
            (
                "kpi5",
                1,
                "2026-03-02",
                "2026-04-01",
                None,
                "2026-03-20",
                "mediation_not_arranged",
                None,
                "cancelled",
            ),
        ],
    )


def test_r4_a_second_mediation_not_arranged_after_a_deemed_certificate_is_refused(
    store: Store, engine: Engine
) -> None:
    open_requested(store, "R4")
    record(store, "R4", "la_notified", "2026-03-04")
    record(store, "R4", "mediation_not_arranged", "2026-03-20")
    certified = record(store, "R4", "certificate_issued", "2026-03-23", kind="deemed")
    expected: list[ClockRow] = [
        ("kpi2", 1, "2026-03-02", "2026-03-05", "2026-03-04", None, None, None, "met"),
        ("kpi4", 1, "2026-03-20", "2026-03-25", "2026-03-23", None, None, None, "met"),
        (
            "kpi5",
            1,
            "2026-03-02",
            "2026-04-01",
            None,
            "2026-03-20",
            "mediation_not_arranged",
            None,
            "cancelled",
        ),
    ]
    stored_before = (stored_case_row(engine, "R4"), stored_clock_table(engine, "R4"))

    with pytest.raises(EventRefused, match=r"R4.*mediation_not_arranged"):
        record(store, "R4", "mediation_not_arranged", "2026-03-24")

    after = store.case("R4")
    assert after.state.last_seq == certified.last_seq == 5
    assert len(after.events) == 5
    assert after.state.state == "certificate_issued"
    assert (stored_case_row(engine, "R4"), stored_clock_table(engine, "R4")) == stored_before
    assert_clocks(store, engine, "R4", after.state, expected)


# ---------------------------------------------------------------------------------------------- acceptance


def test_a_confirmation_back_dated_before_the_meeting_held_is_accepted_and_meets_kpi3(
    store: Store, engine: Engine
) -> None:
    open_requested(store, "A1")
    record(store, "A1", "meeting_scheduled", "2026-03-05", meeting_date="2026-03-27")
    record(store, "A1", "meeting_held", "2026-03-27", outcome="agreed")
    state = record(store, "A1", "confirmation_sent", "2026-03-16")
    assert state.state == "meeting_held"
    assert [e.type for e in store.case("A1").events][-1] == "confirmation_sent"
    assert_clocks(
        store,
        engine,
        "A1",
        state,
        [
            ("kpi2", 1, "2026-03-02", "2026-03-05", None, None, None, None, "breached"),
            ("kpi3", 1, "2026-03-05", "2026-03-20", "2026-03-16", None, None, None, "met"),
            ("kpi4", 1, "2026-03-27", "2026-04-01", None, None, None, None, "breached"),
            ("kpi5", 1, "2026-03-02", "2026-04-01", "2026-03-27", None, None, None, "met"),
        ],
    )


def test_a_kpi5_exception_back_dated_to_while_it_ran_is_accepted_after_the_meeting_stopped_it(
    store: Store, engine: Engine
) -> None:
    open_requested(store, "A2")
    # A meeting after the kpi5 due date (2026-04-01) is accepted with a warning: an exception may apply.
    record(store, "A2", "meeting_scheduled", "2026-03-05", meeting_date="2026-04-10")
    held = record(store, "A2", "meeting_held", "2026-04-10", outcome="partly_agreed")
    assert [c[-1] for c in clock_table(held) if c[0] == "kpi5"] == ["breached"]

    state = record(
        store, "A2", "exception", "2026-03-20", clock="kpi5", reason="parent_unavailable", until="2026-04-10"
    )
    assert state.state == "meeting_held"
    kpi5 = next(c for c in state.clocks if c.clock == "kpi5")
    assert kpi5.exception is not None
    assert (kpi5.exception.reason, kpi5.exception.until) == ("parent_unavailable", D("2026-04-10"))
    assert_clocks(
        store,
        engine,
        "A2",
        state,
        [
            ("kpi2", 1, "2026-03-02", "2026-03-05", None, None, None, None, "breached"),
            # Never confirmed: the meeting held ends the need, past due, so it stays breached.
            ("kpi3", 1, "2026-03-05", "2026-04-01", None, "2026-04-10", "meeting_held", None, "breached"),
            ("kpi4", 1, "2026-04-10", "2026-04-15", None, None, None, None, "breached"),
            # The exception (03-20) came before the meeting that stopped it (04-10), by business date.
            (
                "kpi5",
                1,
                "2026-03-02",
                "2026-04-01",
                "2026-04-10",
                None,
                None,
                "parent_unavailable",
                "excepted",
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------- any order


@dataclass(frozen=True)
class Step:
    """One event of a generated history: its type, business date, fields, and the steps it needs first."""

    type: str
    on: dt.date
    fields: Mapping[str, object] = field(default_factory=dict)
    needs: frozenset[int] = frozenset()
    """Indexes of earlier steps that must be recorded before this one can fit (by date) at all."""


REQUESTED = 1
"""Index of `mediation_requested`: every generated history has it right after `opened` (index 0)."""
EXCEPTION_REASONS = ["school_holiday", "parent_unavailable", "young_person_unavailable", "other_agreed"]
DISTRICTS = ["breckland", "broadland", "great_yarmouth", "norwich", "south_norfolk"]
CERTIFICATE_FOR = {"meeting_held": "after_mediation", "mediation_declined": "advice_only"}
CERTIFICATE_FOR["mediation_not_arranged"] = "deemed"


@st.composite
def mediation_histories(draw: st.DrawFn) -> list[Step]:
    """A valid mediation history in business-date order (dates never decrease; several may share a day).

    opened, mediation_requested, then in any plausible order la_notified (once), meeting_scheduled (up to
    three times, each meeting on or after the day it was scheduled), confirmation_sent (after a schedule),
    one kpi5 exception and details changes; then the meeting held on or after the final meeting date, or
    mediation declined, or not arranged, or nothing yet; then the matching certificate, and closed or
    withdrawn.
    """
    day = D("2026-01-05") + dt.timedelta(days=draw(st.integers(0, 50), label="opened"))
    steps: list[Step] = [Step("opened", day)]

    def later() -> dt.date:
        nonlocal day
        day += dt.timedelta(days=draw(st.sampled_from([0, 0, 1, 1, 2, 3, 5]), label="gap"))
        return day

    def add(event_type: str, on: dt.date, needs: set[int] | None = None, **fields: object) -> int:
        steps.append(Step(event_type, on, fields, frozenset(needs or ())))
        return len(steps) - 1

    def details() -> None:
        name = draw(st.sampled_from(["district", "caseworker", "name"]), label="detail")
        value = (
            draw(st.sampled_from(DISTRICTS), label="district")
            if name == "district"
            else draw(st.sampled_from(["Ann Lee", "Bo Khan", "Cy Ward"]), label=name)
        )
        add("details_changed", later(), **{name: value})

    add("mediation_requested", later())
    schedules: list[int] = []
    meeting_date: dt.date | None = None
    confirmed = notified = excepted = False
    details_left = 2
    for action in draw(
        st.lists(st.sampled_from(["notify", "schedule", "confirm", "except", "details"]), max_size=8),
        label="middle",
    ):
        if action == "notify" and not notified:
            notified = True
            add("la_notified", later(), {REQUESTED})
        elif action == "schedule" and len(schedules) < 3:
            on = later()
            meeting_date = on + dt.timedelta(days=draw(st.integers(0, 21), label="meeting in"))
            schedules.append(add("meeting_scheduled", on, {REQUESTED}, meeting_date=meeting_date.isoformat()))
            confirmed = False
        elif action == "confirm" and schedules and not confirmed:
            confirmed = True
            add("confirmation_sent", later(), {REQUESTED, *schedules})
        elif action == "except" and not excepted:
            excepted = True
            on = later()
            fields: dict[str, object] = {
                "clock": "kpi5",
                "reason": draw(st.sampled_from(EXCEPTION_REASONS), label="reason"),
            }
            if draw(st.booleans(), label="until"):
                fields["until"] = (
                    on + dt.timedelta(days=draw(st.integers(0, 20), label="until in"))
                ).isoformat()
            add("exception", on, {REQUESTED}, **fields)
        elif action == "details" and details_left:
            details_left -= 1
            details()

    ending = draw(
        st.sampled_from(["meeting_held", "mediation_declined", "mediation_not_arranged", None]),
        label="ending",
    )
    certificate: int | None = None
    if ending == "meeting_held":
        if meeting_date is None:
            on = later()
            meeting_date = on + dt.timedelta(days=draw(st.integers(0, 21), label="meeting in"))
            schedules.append(add("meeting_scheduled", on, {REQUESTED}, meeting_date=meeting_date.isoformat()))
        day = max(later(), meeting_date)
        outcome = draw(st.sampled_from(["agreed", "partly_agreed", "not_agreed"]), label="outcome")
        ended = add("meeting_held", day, {REQUESTED, *schedules}, outcome=outcome)
    elif ending is not None:
        ended = add(ending, later(), {REQUESTED})
    if ending is not None and draw(st.booleans(), label="certified"):
        certificate = add("certificate_issued", later(), {REQUESTED, ended}, kind=CERTIFICATE_FOR[ending])
    if details_left and draw(st.booleans(), label="late details"):
        details()
    finish = draw(st.sampled_from(["closed", "withdrawn", None]), label="finish")
    if finish == "closed" and certificate is not None:
        add("closed", later(), {REQUESTED, certificate})
    elif finish == "withdrawn":
        add("withdrawn", later(), reason="family moved away")
    assume(day <= TODAY)
    return steps


def recording_order(draw: st.DrawFn, steps: list[Step]) -> list[int]:
    """A random order to record the steps in: `opened` first, every step after the steps it needs, and the
    steps of one day in their order (the fold keeps recording order within a day)."""
    needs = [set(step.needs) for step in steps]
    for i, step in enumerate(steps):
        same_day_before = [j for j in range(1, i) if steps[j].on == step.on]
        if same_day_before:
            needs[i].add(same_day_before[-1])
    order = [0]
    waiting = list(range(1, len(steps)))
    while waiting:
        ready = [i for i in waiting if needs[i] <= set(order)]
        chosen = draw(st.sampled_from(ready), label="record next")
        order.append(chosen)
        waiting.remove(chosen)
    return order


_REFS = itertools.count(1)


def record_history(store: Store, ref: str, steps: list[Step], order: list[int]) -> CaseState:
    """Record the steps in `order`; any refusal fails the test (the history is valid by date)."""
    opened = steps[0]
    state = store.open_case(ref, "mediation", opened.on, {"caseworker": "Jo Smith"}, "jo", NOW, TODAY)
    for i in order[1:]:
        step = steps[i]
        _, state = store.record(ref, step.type, step.on, dict(step.fields), "jo", NOW, TODAY)
    return state


def case_view(state: CaseState) -> dict[str, Any]:
    """Everything of a folded case that must not depend on the order its events were recorded in."""
    return {
        "state": state.state,
        "opened_on": state.opened_on,
        "closed_on": state.closed_on,
        "fields": dict(state.fields),
        "personal": dict(state.personal),
        "owner": state.owner,
        "happened": {name: sorted(days) for name, days in state.happened.items()},
        "clocks": sorted(
            (
                c.clock,
                c.number,
                c.pack_version,
                c.starts_on,
                c.due_on,
                c.stopped_on,
                c.ended_on,
                c.ended_by,
                (c.exception.reason, c.exception.until, c.exception.note) if c.exception else None,
                c.status(AS_OF).value,
            )
            for c in state.clocks
        ),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_recording_order_of_a_valid_history_gives_the_same_state_and_clocks(
    store: Store, engine: Engine, data: st.DataObject
) -> None:
    steps = data.draw(mediation_histories(), label="history")
    order = data.draw(st.composite(recording_order)(steps), label="order")
    n = next(_REFS)
    by_date, shuffled = f"H-{n}-A", f"H-{n}-B"

    reference = record_history(store, by_date, steps, list(range(len(steps))))
    state = record_history(store, shuffled, steps, order)

    expected = case_view(reference)
    assert case_view(state) == expected, "the state the last write returned (folded from the facts)"
    read = case_view(store.case(by_date).state)
    assert case_view(store.case(shuffled).state) == read, "the stored history folded again"
    # A read puts the personal values back (a name, an exception's note): nothing else differs.
    apart = ("personal", "clocks")
    assert {k: v for k, v in read.items() if k not in apart} == {
        k: v for k, v in expected.items() if k not in apart
    }
    assert [c[:8] for c in read["clocks"]] == [c[:8] for c in expected["clocks"]]
    assert stored_case_row(engine, shuffled) == stored_case_row(engine, by_date)
    assert stored_clock_table(engine, shuffled) == stored_clock_table(engine, by_date)
