"""The alert outbox: every alert is recorded in the database before it is sent, and marked when it went out.

Who calls what: `tracker.alerts.dispatch` (a `check` or `watch` pass) calls `enqueue` and then `deliver`; the
CLI's `caseclock alerts` and the TUI call `list_alerts`, `caseclock alerts --ack` calls `acknowledge`.
SQLAlchemy Core on the engine of `tracker.store.engine`.

* `enqueue` runs in ONE write transaction: it reads the open clocks, asks the pure rules (a callable from
  `tracker.alerts.rules`) what is due, inserts the rows that are new (`INSERT … ON CONFLICT DO NOTHING` on the
  unique key, so two processes deciding at once record each alert once) and cancels the undelivered rows of
  clocks that are no longer open.
  A clock found already breached has its warnings superseded: those not yet sent never go, only the
  breach does.
* `deliver` (`tracker.alerts.relay`) claims rows with a lease and commits, sends with no transaction open,
  then marks each row: at least once, never lost, repeated at most once per crash mid-send.
* `acknowledge` records that someone has seen a failed alert (`caseclock alerts --ack ID`); `check` exits
  1 while any failed alert is not acknowledged (`unacknowledged_failures`).
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from tracker.alerts.notify import AlertStatus
from tracker.alerts.relay import Delivered as Delivered
from tracker.alerts.relay import deliver as deliver
from tracker.alerts.rules import BREACHED, WARNING, Alert, OpenClock
from tracker.domain.errors import InvalidValue
from tracker.domain.rules import ClockSpec, PackRegistry
from tracker.store import schema
from tracker.store.engine import transaction

_CHUNK = 2000
_O = schema.alert_outbox.c
_UNDELIVERED = (AlertStatus.PENDING.value, AlertStatus.SENDING.value)


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One outbox row as `caseclock alerts` and the TUI show it."""

    id: str
    status: str
    type: str
    ref: str
    clock: str
    number: int
    level: str
    channel: str
    recipient: str
    due_on: dt.date | None
    decided_on: dt.date
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    last_error: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    """What the alert says (CONTRACT.md's webhook JSON: KPI, title, due date, action; or a digest's lists)."""

    def as_json(self) -> dict[str, Any]:
        """The `caseclock alerts --json` entry."""
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "ref": self.ref or None,
            "clock": self.clock or None,
            "number": self.number,
            "level": self.level,
            "channel": self.channel,
            "recipient": self.recipient,
            "due_on": _iso(self.due_on),
            "decided_on": self.decided_on.isoformat(),
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "next_attempt_at": _iso(self.next_attempt_at),
            "sent_at": _iso(self.sent_at),
            "last_error": self.last_error,
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
        }


@dataclass(frozen=True, slots=True)
class Enqueued:
    """What one decision recorded: every alert due, the new ones, and how many queued ones were cancelled."""

    due: int
    new: list[Alert]
    cancelled: int
    unknown_packs: frozenset[str] = frozenset()
    superseded: int = 0
    """Warnings not yet sent of clocks whose breach alert is recorded: they never go."""


def open_clocks(
    connection: Connection, packs: PackRegistry, due_to: dt.date
) -> tuple[list[OpenClock], dict[str, int], set[str]]:
    """Every open clock due on or before `due_to`, the case id of each reference, and unknown packs."""
    k, c = schema.clocks.c, schema.cases.c
    rows = connection.execute(
        select(k.case_id, k.clock, k.number, k.pack_version, k.starts_on, k.due_on, c.ref, c.owner, c.pack)
        .join(schema.cases, c.id == k.case_id)
        .where(k.final_status.is_(None), k.due_on <= due_to)
        .order_by(k.due_on, c.ref, k.clock, k.number)
    )
    specs: dict[tuple[str, str, str], ClockSpec | None] = {}
    clocks: list[OpenClock] = []
    case_ids: dict[str, int] = {}
    unknown: set[str] = set()
    for row in rows:
        key = (row.pack, row.pack_version, row.clock)
        if key not in specs:
            specs[key] = _spec(packs, *key)
        spec = specs[key]
        if spec is None:  # the pack (version) is not enabled here any more: nothing to say about it
            unknown.add(f"{row.pack} {row.pack_version}")
            continue
        case_ids[row.ref] = row.case_id
        clocks.append(
            OpenClock(
                row.ref,
                row.clock,
                row.number,
                row.owner,
                row.starts_on,
                row.due_on,
                spec.kpi,
                spec.title,
                spec.action,
            )
        )
    return clocks, case_ids, unknown


def _spec(packs: PackRegistry, pack_id: str, version: str, clock: str) -> ClockSpec | None:
    if pack_id not in packs:
        return None
    for pack in packs.versions(pack_id):
        if pack.version == version:
            return pack.clocks.get(clock)
    return None


def enqueue(
    engine: Engine,
    packs: PackRegistry,
    due_to: dt.date,
    decide: Callable[[list[OpenClock]], list[Alert]],
    now: dt.datetime,
    *,
    dry_run: bool = False,
) -> Enqueued:
    """Decide and record, in one transaction, the alerts due; with `dry_run`, decide and write nothing.

    Args:
        engine: The database.
        packs: The rule packs, for each clock's KPI, title and action.
        due_to: The latest due date the decision can concern (`tracker.alerts.rules.horizon`).
        decide: The pure rules: open clocks in, alerts out.
        now: When the rows are created.
        dry_run: Only report what would be recorded.
    """
    with transaction(engine, write=not dry_run) as connection:
        clocks, case_ids, unknown = open_clocks(connection, packs, due_to)
        alerts = decide(clocks)
        known = _existing_ids(connection, [a.id for a in alerts])
        new = [a for a in alerts if a.id not in known]
        if dry_run:
            cancelled = connection.execute(
                select(func.count()).select_from(schema.alert_outbox).where(_stale())
            ).scalar_one()
            return Enqueued(len(alerts), new, int(cancelled), frozenset(unknown))
        if new:
            connection.execute(_insert_ignoring_duplicates(connection), [_row(a, case_ids, now) for a in new])
        cancelled = connection.execute(
            update(schema.alert_outbox)
            .where(_stale())
            .values(status=AlertStatus.CANCELLED.value, next_attempt_at=None, last_error=_CANCELLED)
        ).rowcount
        superseded = connection.execute(
            update(schema.alert_outbox)
            .where(_stale_warning())
            .values(status=AlertStatus.SUPERSEDED.value, next_attempt_at=None, last_error=_SUPERSEDED)
        ).rowcount
    return Enqueued(len(alerts), new, int(cancelled or 0), frozenset(unknown), int(superseded or 0))


_CANCELLED = "not sent: the clock stopped, was excepted or was cancelled first"
_SUPERSEDED = "not sent: the clock was already breached, so its breach alert went instead"


def _stale_warning() -> Any:
    """Undelivered warnings of a clock whose breach alert is recorded: the breach says more, and later."""
    breach = schema.alert_outbox.alias("breach")
    b = breach.c
    breached = exists().where(
        and_(
            b.case_id == _O.case_id,
            b.clock == _O.clock,
            b.number == _O.number,
            b.type == BREACHED,
        )
    )
    return and_(_O.status == AlertStatus.PENDING.value, _O.type == WARNING, _O.case_id.is_not(None), breached)


def _stale() -> Any:
    """Undelivered rows whose clock is no longer open (stopped, excepted, cancelled, or gone)."""
    k = schema.clocks.c
    still_open = exists().where(
        and_(
            k.case_id == _O.case_id,
            k.clock == _O.clock,
            k.number == _O.number,
            k.final_status.is_(None),
        )
    )
    return and_(_O.status == AlertStatus.PENDING.value, _O.case_id.is_not(None), ~still_open)


def _existing_ids(connection: Connection, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(connection.execute(select(_O.alert_id).where(_O.alert_id.in_(chunk))).scalars())
    return found


def _insert_ignoring_duplicates(connection: Connection) -> Any:
    # Another process may record the same alert between our look-up and our insert (PostgreSQL has no
    # database-wide write lock): the unique key turns that into a no-op instead of an error.
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(schema.alert_outbox).on_conflict_do_nothing()


def _row(alert: Alert, case_ids: Mapping[str, int], now: dt.datetime) -> dict[str, Any]:
    due_on = alert.payload.get("due_on")
    return {
        "alert_id": alert.id,
        "case_id": case_ids.get(alert.ref),
        "ref": alert.ref,
        "clock": alert.clock,
        "number": alert.number,
        "level": alert.level,
        "channel": alert.channel,
        "recipient": alert.recipient,
        "type": alert.type,
        "due_on": dt.date.fromisoformat(due_on) if isinstance(due_on, str) else None,
        "decided_on": alert.decided_on,
        "payload": dict(alert.payload),
        "status": AlertStatus.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": None,
        "sent_at": None,
        "last_error": None,
    }


def pending_count(engine: Engine) -> int:
    """How many alerts are recorded but not yet delivered (pending, or being sent)."""
    with transaction(engine, write=False) as connection:
        query = select(func.count()).select_from(schema.alert_outbox)
        return int(connection.execute(query.where(_O.status.in_(_UNDELIVERED))).scalar_one())


def unacknowledged_failures(engine: Engine) -> int:
    """How many alerts failed for good and nobody has acknowledged yet (`caseclock alerts --ack`)."""
    with transaction(engine, write=False) as connection:
        query = select(func.count()).select_from(schema.alert_outbox)
        query = query.where(_O.status == AlertStatus.FAILED.value, _O.acknowledged_at.is_(None))
        return int(connection.execute(query).scalar_one())


ACK_PREFIX_MIN = 8
"""The shortest start of an alert id `--ack` takes (`caseclock alerts` shows the first 12 characters)."""


def acknowledge(engine: Engine, given: str, by: str, at: dt.datetime) -> AlertRow:
    """Record that `by` has seen the failed alert whose id is (or starts with) `given`; returns it.

    Refused (InvalidValue, nothing written): no alert has that id, several do, or it has not failed.
    """
    wanted = given.strip().lower()
    fix = "give an id from `caseclock alerts --failed` (its first 12 characters will do)"
    if len(wanted) < ACK_PREFIX_MIN or not all(c in string.hexdigits for c in wanted):
        raise InvalidValue(
            "--ack", given, f"an alert id is hexadecimal, at least {ACK_PREFIX_MIN} characters; {fix}"
        )
    with transaction(engine, write=True) as connection:
        query = select(schema.alert_outbox).where(_O.alert_id.like(wanted + "%")).limit(2)
        rows = list(connection.execute(query))
        if not rows:
            raise InvalidValue("--ack", given, f"no alert has this id; {fix}")
        if len(rows) > 1:
            raise InvalidValue("--ack", given, f"several alerts start with this; give more of the id; {fix}")
        row = rows[0]
        if row.status != AlertStatus.FAILED.value:
            raise InvalidValue(
                "--ack",
                given,
                f"this alert is {row.status}, not failed: only a failed alert is acknowledged; {fix}",
            )
        if row.acknowledged_at is None:
            connection.execute(
                update(schema.alert_outbox)
                .where(_O.id == row.id)
                .values(acknowledged_at=at, acknowledged_by=by)
            )
        found = connection.execute(select(schema.alert_outbox).where(_O.id == row.id)).one()
    return _row_of(found)


def alert_counts(engine: Engine) -> dict[str, int]:
    """How many alerts the outbox holds of each status (every status present, 0 when none)."""
    with transaction(engine, write=False) as connection:
        rows = connection.execute(select(_O.status, func.count()).group_by(_O.status))
        found = {str(status): int(count) for status, count in rows}
    return {status.value: found.get(status.value, 0) for status in AlertStatus}


def list_alerts(
    engine: Engine, status: str | None = None, limit: int | None = 200, *, ref: str | None = None
) -> list[AlertRow]:
    """Outbox rows, newest first.

    `status` is one of `AlertStatus` (None: all); `ref` keeps one case's rows only (a
    digest names many cases and is the row of none).
    """
    query = select(schema.alert_outbox).order_by(_O.id.desc())
    if ref is not None:
        query = query.where(_O.ref == ref)
    if status is not None:
        query = query.where(_O.status == AlertStatus(status).value)
    if limit is not None:
        query = query.limit(limit)
    with transaction(engine, write=False) as connection:
        return [_row_of(r) for r in connection.execute(query)]


def _row_of(r: Row[Any]) -> AlertRow:
    return AlertRow(
        r.alert_id,
        r.status,
        r.type,
        r.ref,
        r.clock,
        r.number,
        r.level,
        r.channel,
        r.recipient,
        r.due_on,
        r.decided_on,
        r.attempts,
        r.created_at,
        r.next_attempt_at,
        r.sent_at,
        r.last_error,
        dict(r.payload or {}),
        r.acknowledged_at,
        r.acknowledged_by,
    )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None
