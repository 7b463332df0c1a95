"""A compliance report's tallies, read from the store: the running counts, or grouped by the database.

`tracker.reporting.compliance_report` calls `read_tallies`, which reads the running counts kept at catch-up
(`tracker.report_counts`) when they were made with the report's version of the pack. Otherwise (a report
of an older version) `grouped_tallies` groups the report rows as follows; `compute_tallies` applies every
counting rule to what either returns. The queries only *gather*: they group rows that agree on
everything a rule reads (the clocks by KPI, due date and final status; the waits by their dates), count
cases (by field value, last outcome, days to a step, flow step) and leave out voided events, so a year of a
large service (~200,000 clocks, ~300,000 events) reaches Python as a few thousand rows instead of half a
million. `tests/test_report_reads.py` holds every tally to the one `tracker.compliance.tally` makes from
the fold's facts, on SQLite and PostgreSQL.

Clocks and events are read from `report_clocks` and `report_events` (migration 0004: their rows with the
case's pack, reference, caseworker and opening date, stored in the order reports read them), the case
fields of the referrals from `cases`; voided events are left out by a look-up of the few corrections.

The tallies are read in the caller's read transaction (`tracker.report_db.reading`: an open `snapshot`'s,
so the clocks counted are the clocks its lines list), except the referrals: a second thread reads them
meanwhile, in a transaction of its own. An adapter: SQLAlchemy; knows no rule pack by name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.engine import Connection, Engine

from tracker import schema
from tracker.compliance import (
    ActivityFact,
    ClockCount,
    FeedbackFact,
    ReferralTally,
    SurveyFact,
    Tallies,
    WaitFact,
    breakdown_fields,
    feedback_events,
    outcome_fields,
    step_events,
    text_fields,
)
from tracker.db import transaction
from tracker.driver_rows import Values, fetch_rows, rows_on
from tracker.events import VOIDS, upcast
from tracker.fields import JsonValue
from tracker.periods import Period
from tracker.report_db import reading, snapshot
from tracker.report_sql import counted_tallies
from tracker.rules import FieldType, PackRegistry, RulePack

_R, _E, _C = schema.report_clocks.c, schema.report_events.c, schema.cases.c


# ---------------------------------------------------------------------------------------------- tallies


def read_tallies(
    engine: Engine, packs: PackRegistry, pack: RulePack, period: Period, as_of: dt.date
) -> Tallies:
    """The tallies of `pack`'s cases for `period` as of `as_of` (see `tracker.compliance.Tallies`).

    Read from the running counts (`tracker.report_counts`) when they were made with this version of the
    pack, else grouped from the report rows (`grouped_tallies`); in the caller's `snapshot` when one is
    open (so that they count the clocks its lines list), else in one of its own.
    """
    with snapshot(engine, packs), reading(engine) as connection:
        counted = counted_tallies(rows_on(connection), Values(connection).dates, pack, period, as_of)
    if counted is not None:
        return counted
    return grouped_tallies(engine, packs, pack, period, as_of)


def grouped_tallies(
    engine: Engine, packs: PackRegistry, pack: RulePack, period: Period, as_of: dt.date
) -> Tallies:
    """`read_tallies` the long way: grouping the period's report rows (the counts are of another version).

    The referrals, the longest read, go to a second thread with a read transaction of its own while this
    one reads the rest: the database does most of the work, so on a machine with two cores the two overlap.
    """
    voided = voided_events(packs, pack.id)
    with (
        snapshot(
            engine, packs
        ),  # the caller's, or one of its own (which brings the report tables up to date)
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="caseclock-report") as pool,
    ):
        referrals = pool.submit(_read_alone, engine, _referrals, pack, period, voided)
        with reading(engine) as connection:
            values = Values(connection)
            clocks = _clock_counts(connection, values, pack, period)
            waits = _waits(connection, values, pack, period, as_of)
            flow = _flow(connection, pack, period, voided)
            surveys = _surveys(connection, values, pack, period, voided)
            feedback = _feedback(connection, values, pack, period, voided)
            activities = _activities(connection, values, pack, period, voided)
        return Tallies(
            clocks=clocks,
            surveys=surveys,
            referrals=referrals.result(),
            feedback=feedback,
            flow=flow,
            activities=activities,
            waits=waits,
        )


def _read_alone(
    engine: Engine,
    read: Callable[[Connection, Values, RulePack, Period, Select[Any] | None], ReferralTally],
    pack: RulePack,
    period: Period,
    voided: Select[Any] | None,
) -> ReferralTally:
    """`read` in a read transaction of its own (in another thread)."""
    with transaction(engine, write=False) as connection:
        return read(connection, Values(connection), pack, period, voided)


def _clock_counts(
    connection: Connection, values: Values, pack: RulePack, period: Period
) -> tuple[ClockCount, ...]:
    """The clocks due in the period, grouped as `ClockCount.key_of` groups them."""
    still_open = _R.final_status.is_(None)
    keys = [
        _R.clock,
        _R.kpi,
        _R.pack_version,
        _R.due_on,
        _R.final_status,
        case((still_open, _R.stopped_on)),
        case((still_open, _R.ended_on)),
        case((and_(still_open, _R.exception_reason.is_not(None)), 1), else_=0),
    ]
    query = (
        select(*keys, func.count())
        .where(_R.pack == pack.id, _R.due_on >= period.start, _R.due_on <= period.end)
        .group_by(*keys)
    )
    date = values.date
    return tuple(
        ClockCount(clock, kpi, version, date(due), final, date(stopped), date(ended), bool(excepted), count)
        for clock, kpi, version, due, final, stopped, ended, excepted, count in fetch_rows(connection, query)
    )


def _waits(
    connection: Connection, values: Values, pack: RulePack, period: Period, as_of: dt.date
) -> tuple[WaitFact, ...]:
    """The clocks that stopped in the period or were waiting at its end (or the as-of date), grouped."""
    at = min(period.end, as_of)
    keys = [_R.clock, _R.starts_on, _R.stopped_on, _R.ended_on]
    query = (
        select(*keys, func.count())
        .where(
            _R.pack == pack.id,
            or_(
                and_(_R.stopped_on >= period.start, _R.stopped_on <= period.end),
                and_(
                    _R.starts_on <= at,
                    or_(_R.stopped_on.is_(None), _R.stopped_on > at),
                    or_(_R.ended_on.is_(None), _R.ended_on > at),
                ),
            ),
        )
        .group_by(*keys)
    )
    date = values.date
    return tuple(
        WaitFact(clock, date(starts), date(stopped), date(ended), count)
        for clock, starts, stopped, ended, count in fetch_rows(connection, query)
    )


# ---------------------------------------------------------------------------------------------- events


def voided_events(packs: PackRegistry, pack_id: str) -> Select[Any] | None:
    """(case id, seq) of every event voided by a correction of any version of the pack (None: none can be).

    Also what `Store.report_events` (imports) leaves out.
    """
    corrections = sorted(
        {name for version in packs.versions(pack_id) if (name := version.event_with_role("void")) is not None}
    )
    if not corrections:
        return None
    # From `events`, whose index leads with the type: a case's id is unique across packs, so the
    # corrections of other packs' cases match nothing here.
    events = schema.events.c
    voids = events.data[VOIDS].as_integer()
    return select(events.case_id, voids).where(events.type.in_(corrections), voids.is_not(None))


def _live(voided: Select[Any] | None) -> list[ColumnElement[bool]]:
    """The condition that leaves voided events out (the few corrections are read once, then looked up)."""
    return [] if voided is None else [tuple_(_E.case_id, _E.seq).not_in(voided)]


def _dated(pack: RulePack, types: Sequence[str], period: Period) -> list[ColumnElement[bool]]:
    return [
        _E.pack == pack.id,
        _E.type.in_(types),
        _E.occurred_on >= period.start,
        _E.occurred_on <= period.end,
    ]


def _flow(
    connection: Connection, pack: RulePack, period: Period, voided: Select[Any] | None
) -> dict[str, int]:
    """For each `[reporting] flow` step, the cases with a (live) one dated in the period."""
    steps = list(pack.reporting.flow)
    if not steps:
        return {}
    query = (
        select(_E.type, func.count(_E.case_id.distinct()))
        .where(*_dated(pack, steps, period), *_live(voided))
        .group_by(_E.type)
    )
    found: dict[str, int] = {kind: cases for kind, cases in fetch_rows(connection, query)}
    return {step: int(found.get(step, 0)) for step in steps}


def _surveys(
    connection: Connection, values: Values, pack: RulePack, period: Period, voided: Select[Any] | None
) -> tuple[SurveyFact, ...]:
    """The surveys dated in the period: the answers the report reads, and the case's group."""
    spec = pack.satisfaction
    if spec is None:
        return ()
    keys = list(dict.fromkeys([spec.question, *spec.other_questions, *text_fields(pack, spec.event)]))
    # The group is a case field, which can change after the survey: read it from the case.
    group = _C.fields[spec.by_field].as_string() if spec.by_field else null()
    query = select(_E.ref, _E.occurred_on, group, *(_E.data[key].as_string() for key in keys)).where(
        *_dated(pack, [spec.event], period), *_live(voided)
    )
    if spec.by_field:
        query = query.join(schema.cases, _C.id == _E.case_id)
    date = values.date
    return tuple(
        SurveyFact(
            ref,
            date(on),
            {key: value for key, value in zip(keys, answers, strict=True) if value is not None},
            by,
        )
        for ref, on, by, *answers in fetch_rows(connection, query)
    )


def _feedback(
    connection: Connection, values: Values, pack: RulePack, period: Period, voided: Select[Any] | None
) -> tuple[FeedbackFact, ...]:
    """The feedback events dated in the period, with their exportable choice and yes/no values."""
    kinds = (FieldType.CHOICE, FieldType.BOOLEAN)
    events = feedback_events(pack)
    if not events:
        return ()
    found = []
    # One type at a time: for several, SQLite's planner (without statistics) reads every event of the pack.
    for event in events:
        query = select(_E.ref, _E.occurred_on, _E.seq, _E.data).where(
            *_dated(pack, [event], period), *_live(voided)
        )
        fields = pack.events[event].fields
        for ref, on, seq, data in connection.execute(query):  # a few hundred a year: processed rows
            choices = {
                name: value
                for name, value in upcast(data).items()
                if name in fields and fields[name].exportable and fields[name].type in kinds
            }
            found.append(((on, ref, seq), FeedbackFact(ref, event, on, choices)))
    return tuple(fact for _key, fact in sorted(found, key=lambda item: item[0]))


def _activities(
    connection: Connection, values: Values, pack: RulePack, period: Period, voided: Select[Any] | None
) -> tuple[ActivityFact, ...]:
    """The sessions dated in the period: type, length (minutes) and mode."""
    spec = pack.reporting.activity
    if spec is None:
        return ()
    length = _E.data[spec.length_field].as_string() if spec.length_field else null()
    mode = _E.data[spec.mode_field].as_string() if spec.mode_field else null()
    query = select(_E.ref, _E.occurred_on, _E.data[spec.type_field].as_string(), length, mode).where(
        *_dated(pack, [spec.event], period), *_live(voided)
    )
    date = values.date
    return tuple(
        ActivityFact(ref, date(on), activity, _integer(minutes) if spec.length_field else None, kind)
        for ref, on, activity, minutes, kind in fetch_rows(connection, query)
    )


def _integer(text: str | None) -> int | None:
    """An integer field's value as the database gives it back as text ("45"), None when missing."""
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------- referrals


def _referrals(
    connection: Connection, values: Values, pack: RulePack, period: Period, voided: Select[Any] | None
) -> ReferralTally:
    """The cases opened in the period: by day, type and breakdown field; their outcomes and steps."""
    opened = and_(_C.pack == pack.id, _C.opened_on >= period.start, _C.opened_on <= period.end)
    names = [name for name, _spec in breakdown_fields(pack)]
    query = select(_C.opened_on, _C.case_type, _field_values(connection.dialect.name, names)).where(opened)
    rows = fetch_rows(connection, query)
    days: Counter[dt.date] = Counter()
    for day, n in Counter(row[0] for row in rows).items():
        days[values.date(day)] += n
    types = Counter(row[1] for row in rows)
    fields: dict[str, Counter[JsonValue]] = {name: Counter() for name in names}
    if names:
        # Cases share field values often enough that decoding each distinct array once is the cheaper way.
        for text, n in Counter(row[2] for row in rows).items():
            for name, value in zip(names, json.loads(text), strict=False):
                fields[name][value] += n
    outcomes, steps = _outcomes_and_steps(connection, pack, period, voided)
    return ReferralTally(days, dict(types), fields, outcomes, steps)


def _field_values(dialect: str, names: Sequence[str]) -> ColumnElement[Any]:
    """A case's values of the fields `names`, as the JSON text of an array (JSON types kept; null: none).

    One extraction per case instead of one per field: SQLite parses the JSON once per call.
    """
    if not names:
        return null()
    if dialect == "postgresql":
        return cast(func.jsonb_build_array(*(_C.fields[name] for name in names)), String)
    paths = [f'$."{name}"' for name in names]
    return func.json_extract(_C.fields, *(paths * 2 if len(paths) == 1 else paths), type_=String)


def _outcomes_and_steps(
    connection: Connection, pack: RulePack, period: Period, voided: Select[Any] | None
) -> tuple[dict[str, Counter[JsonValue]], dict[str, Counter[int]]]:
    """Each outcome field's last value per case, and the days from referral to each step's first date.

    One pass over the events of the cases opened: per case, the first date of each step and, for each
    outcome field, the value of the last event (by date, then sequence) that carries it; then counted.
    """
    steps = step_events(pack)
    carriers = {
        name: sorted({event for event, _spec in specs}) for name, specs in outcome_fields(pack).items()
    }
    types = sorted(set(steps).union(*carriers.values()))
    outcomes: dict[str, Counter[JsonValue]] = {name: Counter() for name in carriers}
    found_steps: dict[str, Counter[int]] = {event: Counter() for event in steps}
    if not types:
        return outcomes, found_steps
    dialect = connection.dialect.name
    columns = [_E.opened_on.label("opened_on")]
    columns += [
        func.min(case((_E.type == event, _E.occurred_on))).label(f"s{i}") for i, event in enumerate(steps)
    ]
    columns += [
        func.max(case((_E.type.in_(events), _last_key(dialect, _E.data[name].as_string())))).label(f"o{i}")
        for i, (name, events) in enumerate(carriers.items())
    ]
    per_case = (
        select(*columns)
        # One range of the key (pack, opening date, case, seq), grouped in key order: wrapping the type in
        # a function keeps SQLite's planner off the type index, which would read every such event ever.
        .where(
            _E.pack == pack.id,
            _E.opened_on >= period.start,
            _E.opened_on <= period.end,
            func.coalesce(_E.type, "").in_(types),
            *_live(voided),
        )
        .group_by(_E.opened_on, _E.case_id)
        .cte("per_case")
    )
    parts = []
    for i in range(len(steps)):
        first = per_case.c[f"s{i}"]
        days = _days_between(dialect, first, per_case.c.opened_on)
        parts.append(
            select(literal(f"s{i}"), days.label("days"), cast(null(), String), func.count())
            .where(first.is_not(None))
            .group_by(days)
        )
    for i in range(len(carriers)):
        last = per_case.c[f"o{i}"]
        value = func.substr(last, _KEY_WIDTH + 1)
        parts.append(
            select(literal(f"o{i}"), cast(null(), Integer), value.label("value"), func.count())
            .where(last.is_not(None))
            .group_by(value)
        )
    names = list(carriers)
    for part, days_value, text_value, count in fetch_rows(connection, union_all(*parts)):
        if part.startswith("s"):
            found_steps[steps[int(part[1:])]][int(days_value)] += count
        else:
            outcomes[names[int(part[1:])]][text_value] += count
    return outcomes, found_steps


_KEY_WIDTH = 20
"""`_last_key`'s prefix: the date (10 characters) and the sequence number (10 digits)."""


def _last_key(dialect: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """Date, sequence number and value as one text whose maximum is the last event's (None: no value)."""
    if dialect == "postgresql":
        day = func.to_char(_E.occurred_on, "YYYY-MM-DD", type_=String)
        prefix = day + func.lpad(cast(_E.seq, String), 10, "0", type_=String)
    else:
        prefix = cast(_E.occurred_on, String) + func.printf("%010d", _E.seq, type_=String)
    return prefix + value


def _days_between(dialect: str, later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[Any]:
    """Calendar days from `earlier` to `later` (dates), as an integer."""
    if dialect == "postgresql":
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)
