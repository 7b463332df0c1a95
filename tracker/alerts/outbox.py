"""The alert outbox: every alert is recorded in the database before it is sent, and marked when it went out.

Who calls what: `tracker.alerts.dispatch` (a `check` or `watch` pass) calls `enqueue` and then `deliver`; the
CLI's `caseclock alerts` and the TUI call `list_alerts`. SQLAlchemy Core on the engine of
`tracker.store.engine`.

* `enqueue` runs in ONE write transaction: it reads the open clocks, asks the pure rules (a callable from
  `tracker.alerts.rules`) what is due, inserts the rows that are new (`INSERT … ON CONFLICT DO NOTHING` on the
  unique key, so two processes deciding at once record each alert once) and cancels the undelivered rows of
  clocks that are no longer open.
* `deliver` claims one undelivered row at a time in its own transaction: `SELECT … FOR UPDATE SKIP LOCKED`
  on PostgreSQL, so two processes never hold the same row; on SQLite the transaction begins `IMMEDIATE`
  (the engine's `caseclock_write` option), which serialises them. The row stays locked while it is sent and
  is marked sent (with the time), pending (with the error, the attempt count and the next attempt's time) or
  failed before commit. A crash between sending and commit leaves it pending: it is sent again, with the
  same id, on the next pass. Delivery is at least once, never lost, and repeated at most once per crash.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from tracker.alerts.notify import (
    BACKOFF_MAX_SECONDS,
    AlertStatus,
    DeliveryResult,
    Notifier,
    Outcome,
    next_attempt_at,
)
from tracker.alerts.rules import Alert, OpenClock
from tracker.domain.rules import ClockSpec, PackRegistry
from tracker.store import schema
from tracker.store.engine import transaction

_CHUNK = 2000
_O = schema.alert_outbox.c
Hook = Callable[[Alert], None]


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
        }


@dataclass(frozen=True, slots=True)
class Enqueued:
    """What one decision recorded: every alert due, the new ones, and how many queued ones were cancelled."""

    due: int
    new: list[Alert]
    cancelled: int
    unknown_packs: frozenset[str] = frozenset()


@dataclass
class Delivered:
    """What one delivery pass did."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    """Rows of a channel that cannot work now (a missing setting): left pending, not attempted."""
    errors: dict[str, str] = field(default_factory=dict)
    """The last error of each channel that had one in this pass."""


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
    return Enqueued(len(alerts), new, int(cancelled or 0), frozenset(unknown))


_CANCELLED = "not sent: the clock stopped, was excepted or was cancelled first"


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


def deliver(
    engine: Engine,
    notifiers: Mapping[str, Notifier],
    now: Callable[[], dt.datetime],
    *,
    blocked: Mapping[str, str] | None = None,
    due_only: bool = False,
    before_send: Hook | None = None,
    after_send: Hook | None = None,
    stop: threading.Event | None = None,
) -> Delivered:
    """Attempt every undelivered alert once, one row per transaction, oldest first.

    Args:
        engine: The database.
        notifiers: By channel (`email`, `webhook:<name>`).
        now: The clock (sent times, retry times).
        blocked: Channels that cannot work now, with the one-line reason: their rows stay pending.
        due_only: Only rows whose retry time has come (the `watch` retry job); `check` tries them all.
        before_send: Called with the row locked, just before sending (crash-safety tests).
        after_send: Called after sending, before the row is marked (crash-safety tests).
        stop: Set to end the pass after the current row (shutdown).
    """
    blocked = blocked or {}
    report = Delivered()
    after_id = 0
    while stop is None or not stop.is_set():
        with transaction(engine, write=True) as connection:
            query = select(schema.alert_outbox).where(
                _O.status == AlertStatus.PENDING.value, _O.id > after_id
            )
            if due_only:
                query = query.where((_O.next_attempt_at.is_(None)) | (_O.next_attempt_at <= now()))
            row = connection.execute(query.order_by(_O.id).limit(1).with_for_update(skip_locked=True)).first()
            if row is None:
                break
            after_id = row.id
            alert = _alert(row)
            notifier = notifiers.get(row.channel)
            if notifier is None and row.channel in blocked:
                # Not attempted: the setting must be put right first. `watch` looks again in an hour;
                # `check` tries every undelivered row on every run.
                report.skipped += 1
                report.errors[row.channel] = blocked[row.channel]
                later = now() + dt.timedelta(seconds=BACKOFF_MAX_SECONDS)
                _mark(connection, row.id, last_error=blocked[row.channel], next_attempt_at=later)
                continue
            if notifier is None:
                result = DeliveryResult.failed(f"{row.channel}: no such channel is configured any more")
            else:
                if before_send is not None:
                    before_send(alert)
                result = _send(notifier, alert)
                if after_send is not None:
                    after_send(alert)
            _record(connection, row, result, now(), report)
    return report


def _send(notifier: Notifier, alert: Alert) -> DeliveryResult:
    try:
        return notifier.send(alert)
    except Exception as error:  # a bug in one notifier must not stop the others: retry it later
        return DeliveryResult.retry(f"{alert.channel}: internal error {type(error).__name__}: {error}")


def _record(
    connection: Connection, row: Row[Any], result: DeliveryResult, at: dt.datetime, report: Delivered
) -> None:
    attempts = row.attempts + 1
    if result.outcome is Outcome.DELIVERED:
        report.sent += 1
        _mark(
            connection,
            row.id,
            status=AlertStatus.SENT.value,
            attempts=attempts,
            sent_at=at,
            next_attempt_at=None,
            last_error=None,
        )
        return
    report.errors[row.channel] = result.detail or "delivery failed"
    if result.outcome is Outcome.RETRY:
        report.retry += 1
        retry_at = next_attempt_at(at, attempts, result.retry_after)
        _mark(connection, row.id, attempts=attempts, next_attempt_at=retry_at, last_error=result.detail)
    else:
        report.failed += 1
        _mark(
            connection,
            row.id,
            status=AlertStatus.FAILED.value,
            attempts=attempts,
            next_attempt_at=None,
            last_error=result.detail,
        )


def _mark(connection: Connection, row_id: int, **values: Any) -> None:
    connection.execute(update(schema.alert_outbox).where(_O.id == row_id).values(**values))


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        row.alert_id,
        row.ref,
        row.clock,
        row.number,
        row.level,
        row.channel,
        row.recipient,
        row.decided_on,
        row.payload,
    )


def pending_count(engine: Engine) -> int:
    """How many alerts are recorded but not yet delivered."""
    with transaction(engine, write=False) as connection:
        query = select(func.count()).select_from(schema.alert_outbox)
        return int(connection.execute(query.where(_O.status == AlertStatus.PENDING.value)).scalar_one())


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

    `status` is one of pending, sent, failed, cancelled (None: all); `ref` keeps one case's rows only (a
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
        return [
            AlertRow(
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
            )
            for r in connection.execute(query)
        ]


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None
