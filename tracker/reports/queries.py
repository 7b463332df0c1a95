"""A compliance report's reads: set-based queries over the projections the append writes.

`tracker.reports.report.compliance_report` reads a period's *tallies* here (`read_tallies`) and its clock
lines (`StoreClockLines`), and hands them to the pure `tracker.domain.compliance.compute_tallies`, which owns
every counting rule. The queries only *gather*, from `cases`, `clocks` and `events` as they are: they group
the clocks by every date the status rule reads (their status as of the report's date is judged in Python), the
waits by their dates, count the cases opened by field value and days to each step, and the cases with an
outcome dated in the period by its last value, leaving voided events out; so a year of a large service
(~200,000 clocks, ~300,000 events) reaches Python as a few thousand rows. `tests/test_report_reads.py`
holds every tally to the one `tracker.domain.compliance.tally` makes from the fold's facts, on SQLite and
PostgreSQL.

Reads never write. `snapshot` pins one read transaction for every read of a report inside it, so the
figures and the clock lines a format iterates later come from one view of the database; a report on
projections computed with other rules (a pack or the calendar changed since) is refused until `rebuild`.

An adapter: SQLAlchemy Core, the same statements on SQLite and PostgreSQL; knows no rule pack by name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    collate,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from tracker.domain.clocks import ClockStatus, clock_status
from tracker.domain.compliance import (
    LISTED,
    ActivityFact,
    ClockCount,
    ClockLine,
    ClockLines,
    FeedbackFact,
    ReferralTally,
    SurveyFact,
    Tallies,
    WaitFact,
    breakdown_fields,
    feedback_events,
    step_events,
    text_fields,
)
from tracker.domain.compliance.selection import outcome_carriers, owner_shown
from tracker.domain.errors import OperationFailed, StoreUnavailable
from tracker.domain.events import upcast
from tracker.domain.fields import JsonValue
from tracker.domain.periods import Period
from tracker.domain.rules import FieldType, PackRegistry, RulePack
from tracker.domain.workflow import Rules
from tracker.store import schema, voided_events
from tracker.store.engine import error_summary, transaction

_K, _E, _C = schema.clocks.c, schema.events.c, schema.cases.c


class StaleProjections(OperationFailed):
    """The projections were computed with other rules than the ones loaded: `rebuild` recomputes them."""


# ---------------------------------------------------------------------------------------------- snapshot

_pinned: ContextVar[Connection | None] = ContextVar("caseclock_report_snapshot", default=None)


@contextmanager
def snapshot(engine: Engine, rules: Rules) -> Iterator[None]:
    """Make every report read inside the block (in this thread) share one read transaction.

    SQLite's read transaction sees one snapshot (WAL: writers carry on meanwhile); PostgreSQL's is
    REPEATABLE READ for the same effect. Nested use shares the outer snapshot. Refused (StaleProjections)
    when the projections were computed with other rules than `rules`.
    """
    if _pinned.get() is not None:
        yield
        return
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                check_current(connection, rules)
                token = _pinned.set(connection)
                try:
                    yield
                finally:
                    _pinned.reset(token)
    except (OperationalError, ProgrammingError) as error:
        raise StoreUnavailable(f"database unavailable: {error_summary(error)}") from None


def check_current(connection: Connection, rules: Rules) -> None:
    """Refuse projections computed with other rules (none recorded: nothing was ever written, all fine)."""
    made_with = connection.execute(select(schema.projection_rules.c.fingerprint)).scalar()
    if made_with is not None and made_with != rules.fingerprint():
        raise StaleProjections(
            "the cases were last computed with other rules (a rule pack, its settings or the calendar "
            "changed since, or the database was upgraded): run `caseclock rebuild`, then report again"
        )


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """The open `snapshot`'s connection, else a read transaction of its own."""
    pinned = _pinned.get()
    if pinned is not None:
        yield pinned
        return
    with transaction(engine, write=False) as connection:
        yield connection


def _rows(connection: Connection, query: Any) -> list[Sequence[Any]]:
    """Every row as the driver returns it: no per-value processing (a year's reads are a million values)."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


class _Dates(dict[Any, Any]):
    """Driver values into dates, once per distinct value: SQLite gives dates as ISO text."""

    def __missing__(self, value: Any) -> Any:
        day = self[value] = dt.date.fromisoformat(value) if isinstance(value, str) else value
        return day


# ---------------------------------------------------------------------------------------------- tallies


def read_tallies(
    engine: Engine, packs: PackRegistry, pack: RulePack, period: Period, as_of: dt.date
) -> Tallies:
    """The tallies of `pack`'s cases for `period` as of `as_of` (see `tracker.domain.compliance.Tallies`).

    Read in the caller's `snapshot` when one is open (so that they count the clocks its lines list), else
    in a read transaction of their own.
    """
    voided = voided_events(packs, pack.id)
    with reading(engine) as connection:
        dates = _Dates()
        return Tallies(
            clocks=_clock_counts(connection, dates, pack, period, as_of),
            surveys=_surveys(connection, dates, pack, period, voided),
            referrals=_referrals(connection, dates, pack, period, voided),
            feedback=_feedback(connection, pack, period, voided),
            flow=_flow(connection, pack, period, voided),
            activities=_activities(connection, dates, pack, period, voided),
            waits=_waits(connection, dates, pack, period, as_of),
            outcomes=_outcomes(connection, pack, period, voided),
        )


def _of_pack(pack: RulePack) -> ColumnElement[bool]:
    return _C.pack == pack.id


def _clock_counts(
    connection: Connection, dates: _Dates, pack: RulePack, period: Period, as_of: dt.date
) -> tuple[ClockCount, ...]:
    """The clocks due in the period that had started by `as_of`, grouped as `ClockCount.key_of` does."""
    keys = [_K.clock, _K.kpi, _K.pack_version, _K.due_on, _K.stopped_on, _K.ended_on, _K.excepted_on]
    query = (
        select(*keys, func.count())
        .join_from(schema.clocks, schema.cases, _C.id == _K.case_id)
        .where(_of_pack(pack), _K.due_on >= period.start, _K.due_on <= period.end, _K.starts_on <= as_of)
        .group_by(*keys)
    )
    return tuple(
        ClockCount(clock, kpi, version, dates[due], dates[stopped], dates[ended], dates[excepted], count)
        for clock, kpi, version, due, stopped, ended, excepted, count in _rows(connection, query)
    )


def _waits(
    connection: Connection, dates: _Dates, pack: RulePack, period: Period, as_of: dt.date
) -> tuple[WaitFact, ...]:
    """The clocks that stopped in the period or were waiting at its end (or the as-of date), grouped."""
    at = min(period.end, as_of)
    keys = [_K.clock, _K.starts_on, _K.stopped_on, _K.ended_on]
    query = (
        select(*keys, func.count())
        .join_from(schema.clocks, schema.cases, _C.id == _K.case_id)
        .where(
            _of_pack(pack),
            or_(
                and_(_K.stopped_on >= period.start, _K.stopped_on <= period.end),
                and_(
                    _K.starts_on <= at,
                    or_(_K.stopped_on.is_(None), _K.stopped_on > at),
                    or_(_K.ended_on.is_(None), _K.ended_on > at),
                ),
            ),
        )
        .group_by(*keys)
    )
    return tuple(
        WaitFact(clock, dates[starts], dates[stopped], dates[ended], count)
        for clock, starts, stopped, ended, count in _rows(connection, query)
    )


# ---------------------------------------------------------------------------------------------- events


def _live(voided: Select[Any] | None) -> list[ColumnElement[bool]]:
    """The condition that leaves voided events out (the few corrections are read once, then looked up)."""
    return [] if voided is None else [tuple_(_E.case_id, _E.seq).not_in(voided)]


def _events(*columns: Any) -> Select[Any]:
    """Events with their case's columns at hand."""
    return select(*columns).join_from(schema.events, schema.cases, _C.id == _E.case_id)


def _dated(pack: RulePack, types: Sequence[str], period: Period) -> list[ColumnElement[bool]]:
    return [
        _of_pack(pack),
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
        _events(_E.type, func.count(_E.case_id.distinct()))
        .where(*_dated(pack, steps, period), *_live(voided))
        .group_by(_E.type)
    )
    found: dict[str, int] = {kind: cases for kind, cases in _rows(connection, query)}
    return {step: int(found.get(step, 0)) for step in steps}


def _surveys(
    connection: Connection, dates: _Dates, pack: RulePack, period: Period, voided: Select[Any] | None
) -> tuple[SurveyFact, ...]:
    """The surveys dated in the period: the answers the report reads, and the case's group."""
    spec = pack.satisfaction
    if spec is None:
        return ()
    keys = list(dict.fromkeys([spec.question, *spec.other_questions, *text_fields(pack, spec.event)]))
    # The group is a case field, which can change after the survey: read it from the case.
    group = _C.fields[spec.by_field].as_string() if spec.by_field else null()
    query = _events(_C.ref, _E.occurred_on, group, *(_E.data[key].as_string() for key in keys)).where(
        *_dated(pack, [spec.event], period), *_live(voided)
    )
    return tuple(
        SurveyFact(
            ref,
            dates[on],
            {key: value for key, value in zip(keys, answers, strict=True) if value is not None},
            by,
        )
        for ref, on, by, *answers in _rows(connection, query)
    )


def _feedback(
    connection: Connection, pack: RulePack, period: Period, voided: Select[Any] | None
) -> tuple[FeedbackFact, ...]:
    """The feedback events dated in the period, with their exportable choice and yes/no values."""
    kinds = (FieldType.CHOICE, FieldType.BOOLEAN)
    events = feedback_events(pack)
    if not events:
        return ()
    found = []
    for event in events:
        query = _events(_C.ref, _E.occurred_on, _E.seq, _E.data).where(
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
    connection: Connection, dates: _Dates, pack: RulePack, period: Period, voided: Select[Any] | None
) -> tuple[ActivityFact, ...]:
    """The sessions dated in the period: type, length (minutes) and mode."""
    spec = pack.reporting.activity
    if spec is None:
        return ()
    length = _E.data[spec.length_field].as_string() if spec.length_field else null()
    mode = _E.data[spec.mode_field].as_string() if spec.mode_field else null()
    query = _events(_C.ref, _E.occurred_on, _E.data[spec.type_field].as_string(), length, mode).where(
        *_dated(pack, [spec.event], period), *_live(voided)
    )
    return tuple(
        ActivityFact(ref, dates[on], activity, _integer(minutes) if spec.length_field else None, kind)
        for ref, on, activity, minutes, kind in _rows(connection, query)
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
    connection: Connection, dates: _Dates, pack: RulePack, period: Period, voided: Select[Any] | None
) -> ReferralTally:
    """The cases opened in the period: by day, type and breakdown field; the days to their steps."""
    names = [name for name, _spec in breakdown_fields(pack)]
    query = select(_C.opened_on, _C.case_type, _field_values(connection.dialect.name, names)).where(
        _opened_in(pack, period)
    )
    rows = _rows(connection, query)
    days: Counter[dt.date] = Counter()
    for day, n in Counter(row[0] for row in rows).items():
        days[dates[day]] += n
    types = Counter(row[1] for row in rows)
    fields: dict[str, Counter[JsonValue]] = {name: Counter() for name in names}
    if names:
        # Cases share field values often enough that decoding each distinct array once is the cheaper way.
        for text, n in Counter(row[2] for row in rows).items():
            for name, value in zip(names, json.loads(text), strict=False):
                fields[name][value] += n
    return ReferralTally(days, dict(types), fields, _steps(connection, pack, period, voided))


def _opened_in(pack: RulePack, period: Period) -> ColumnElement[bool]:
    return and_(_of_pack(pack), _C.opened_on >= period.start, _C.opened_on <= period.end)


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


def _steps(
    connection: Connection, pack: RulePack, period: Period, voided: Select[Any] | None
) -> dict[str, Counter[int]]:
    """The days from referral to each step's first date, over the cases opened in the period.

    One pass over the events of the cases opened: per case, the first date of each step; then counted.
    """
    steps = step_events(pack)
    found_steps: dict[str, Counter[int]] = {event: Counter() for event in steps}
    if not steps:
        return found_steps
    dialect = connection.dialect.name
    columns = [_C.opened_on.label("opened_on")]
    columns += [
        func.min(case((_E.type == event, _E.occurred_on))).label(f"s{i}") for i, event in enumerate(steps)
    ]
    per_case = (
        _events(*columns)
        # The type inside a function keeps SQLite's planner off the (type, date) index, which would read
        # every such event ever: the cases opened in the period lead, their events follow by case.
        .where(_opened_in(pack, period), func.coalesce(_E.type, "").in_(steps), *_live(voided))
        .group_by(_C.id, _C.opened_on)
        .cte("per_case")
    )
    parts = []
    for i in range(len(steps)):
        first = per_case.c[f"s{i}"]
        days = _days_between(dialect, first, per_case.c.opened_on)
        parts.append(
            select(literal(i), days.label("days"), func.count()).where(first.is_not(None)).group_by(days)
        )
    for part, days_value, count in _rows(connection, union_all(*parts)):
        found_steps[steps[int(part)]][int(days_value)] += count
    return found_steps


def _outcomes(
    connection: Connection, pack: RulePack, period: Period, voided: Select[Any] | None
) -> dict[str, Counter[JsonValue]]:
    """For each outcome field, the cases with an event recording it (or requiring it) dated in the period.

    Whenever the case was opened: per case, the value of the last such event (by date, then sequence) that
    has one, and whether an event requiring it was dated in the period (none with a value: counted under
    None, not recorded); then counted. The rule of `tracker.domain.compliance.outcome_tally`, over the
    events `outcome_carriers` names.
    """
    carriers = outcome_carriers(pack)
    outcomes: dict[str, Counter[JsonValue]] = {name: Counter() for name in carriers}
    if not carriers:
        return outcomes
    dialect = connection.dialect.name
    columns = []
    for i, (name, (events, requiring)) in enumerate(carriers.items()):
        value = _last_key(dialect, _E.data[name].as_string())
        columns.append(func.max(case((_E.type.in_(events), value))).label(f"o{i}"))
        columns.append(func.max(case((_E.type.in_(requiring), 1))).label(f"r{i}"))
    types = sorted({event for events, _requiring in carriers.values() for event in events})
    per_case = (
        _events(*columns).where(*_dated(pack, types, period), *_live(voided)).group_by(_E.case_id)
    ).cte("outcomes_per_case")
    parts = []
    for i in range(len(carriers)):
        last, requires = per_case.c[f"o{i}"], per_case.c[f"r{i}"]
        value = func.substr(last, _KEY_WIDTH + 1)
        parts.append(
            select(literal(i), value.label("value"), func.count())
            .where(or_(last.is_not(None), requires.is_not(None)))
            .group_by(value)
        )
    names = list(carriers)
    for part, value, count in _rows(connection, union_all(*parts)):
        outcomes[names[int(part)]][value] += count
    return outcomes


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


def read_opened_by_caseworker(engine: Engine, pack: RulePack, period: Period) -> dict[str | None, int]:
    """Caseworker (None: none) -> the cases of `pack` opened in the period (the provider's copy only)."""
    query = select(_C.owner, func.count()).where(_opened_in(pack, period)).group_by(_C.owner)
    with reading(engine) as connection:
        return {owner: int(count) for owner, count in _rows(connection, query)}


# ---------------------------------------------------------------------------------------------- lines


class StoreClockLines(ClockLines):
    """A report's clock lines, read from `clocks` each time they are iterated, in the report's order.

    Each pass is one read of the clocks due in the period (those that had started by the as-of date),
    ordered by due date, reference, clock and number; inside a `snapshot` every pass sees the rows the
    report's figures were counted from. The caseworker is read only for the provider's copy
    (`with_caseworkers`), and only where the pack's owner field may leave the provider.
    """

    def __init__(
        self,
        engine: Engine,
        pack: RulePack,
        period: Period,
        as_of: dt.date,
        total: int,
        *,
        with_caseworkers: bool = False,
    ) -> None:
        self.engine, self.pack, self.period, self.as_of, self.total = engine, pack, period, as_of, total
        self.with_caseworkers = with_caseworkers

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[ClockLine]:
        return self._lines()

    def of_clock(self, clock: str) -> Iterator[ClockLine]:
        """The lines of one clock (a KPI's sheet), in order."""
        return self._lines(_K.clock == clock)

    def listed(self) -> Iterator[ClockLine]:
        """The breached and excepted lines (the findings), in order."""
        # Only clocks that were not stopped or ended on time can be listed: judged line by line below.
        return (line for line in self._lines() if line.status in LISTED)

    def breached(self, clock: str | None = None) -> Iterator[ClockLine]:
        """The breached lines (of one clock, or of every clock), in order."""
        # Read only the clocks that can be breached (due before the as-of date, not stopped by their due
        # date, not excepted by the as-of date: a tenth of a year's clocks, not all of them), and judge
        # each by the status rule, as every line is.
        where = [
            _K.due_on < self.as_of,
            or_(_K.stopped_on.is_(None), _K.stopped_on > _K.due_on),
            or_(_K.excepted_on.is_(None), _K.excepted_on > self.as_of),
            *([_K.clock == clock] if clock is not None else []),
        ]
        return (line for line in self._lines(*where) if line.status is ClockStatus.BREACHED)

    def _lines(self, *where: ColumnElement[bool]) -> Iterator[ClockLine]:
        owner = _C.owner if owner_shown(self.pack, with_caseworkers=self.with_caseworkers) else null()
        with reading(self.engine) as connection:
            ref: ColumnElement[Any] = _C.ref
            if connection.dialect.name == "postgresql":
                ref = collate(_C.ref, "C")  # by code point, as SQLite and Python order text
            query = (
                select(
                    _C.ref,
                    _K.clock,
                    _K.kpi,
                    _K.number,
                    _K.pack_version,
                    _K.starts_on,
                    _K.due_on,
                    _K.stopped_on,
                    _K.ended_on,
                    _K.ended_by,
                    _K.excepted_on,
                    _K.exception_reason,
                    _K.exception_until,
                    owner,
                )
                .join_from(schema.clocks, schema.cases, _C.id == _K.case_id)
                .where(
                    _of_pack(self.pack),
                    _K.due_on >= self.period.start,
                    _K.due_on <= self.period.end,
                    _K.starts_on <= self.as_of,
                    *where,
                )
                .order_by(_K.due_on, ref, _K.clock, _K.number)
            )
            result = connection.execute(query)
            try:
                dates, as_of = _Dates(), self.as_of
                while batch := result.cursor.fetchmany(5000):
                    for row in batch:
                        ref_, clock, kpi, number, version, starts, due, stop, end, by, exc, *rest = row
                        why, until, who = rest
                        due, stop, end, exc = dates[due], dates[stop], dates[end], dates[exc]
                        status = clock_status(due, stop, end, exc, as_of)
                        yield ClockLine(
                            ref_, clock, kpi, number, version, dates[starts], due, stop, end, by, exc, why,
                            dates[until], who, status,
                        )  # fmt: skip
            finally:
                result.close()
