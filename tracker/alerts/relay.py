"""Delivering the outbox without holding the database: claim with a lease, send, then mark (a relay).

Who calls what: a `check` or `watch` pass (`tracker.alerts.dispatch`) calls `deliver` after
`tracker.alerts.outbox.enqueue` has recorded what is due. SQLAlchemy Core on the engine of
`tracker.store.engine`.

No transaction is open while an alert is on the wire, so a caseworker's write never waits for a webhook or
an SMTP server (on SQLite a pass used to hold the database's write lock for as long as a send took):

1. **claim** a few undelivered rows, oldest first, in one short write transaction: they become `sending`
   with this pass's `claimed_by` and a `lease_until`, and the transaction commits. On PostgreSQL the rows
   are picked `FOR UPDATE SKIP LOCKED`, so two processes never claim the same row; on SQLite the claim
   takes the write lock for a moment.
2. **send** each claimed row with no transaction open, after renewing its lease in a short transaction of
   its own; a row whose claim ran out and was taken by another sender meanwhile is left to that sender.
3. **mark** each row in a short transaction of its own: `sent`, `pending` again (with the error, the attempt
   count and the next attempt's time) or `failed`; only while it is still this pass's claim, and only then
   counted in the pass's report.

A sender that dies between 1 and 3 leaves its rows `sending`: they are claimed again once the lease has run
out, or at once by a pass on the same machine that finds the claiming process gone. So delivery stays at
least once and never lost, with at most one repeat (the same id) per crash mid-send.

An endpoint that is down (a refused connection, a time-out, a failed login) costs its time-out once per
pass: the first such failure holds back every later row of its channels until the pass ends, and those rows
stay pending without an attempt counted. A `429` (or a `503` with `Retry-After`) holds the endpoint until
the time it asked for, and the row is tried no earlier (`not_before`), by `check` too.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.engine import Engine

from tracker.alerts.notify import (
    BACKOFF_MAX_SECONDS,
    AlertStatus,
    DeliveryResult,
    Notifier,
    Outcome,
    endpoint_of,
    next_attempt_at,
    retry_after_until,
)
from tracker.alerts.rules import Alert
from tracker.store import schema
from tracker.store.engine import transaction

LEASE_SECONDS = 900.0
"""How long a claim lasts, renewed just before each row is sent: far longer than one send takes."""
CLAIM_BATCH = 20
"""Rows claimed per transaction: few enough that a stopped pass hands little back."""

_O = schema.alert_outbox.c
Hook = Callable[[Alert], None]


@dataclass
class Delivered:
    """What one delivery pass did."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    """Rows of a channel that cannot work now (a missing setting): left pending, not attempted."""
    deferred: int = 0
    """Rows not attempted because their endpoint was down or asked to wait in this pass: left pending."""
    errors: dict[str, str] = field(default_factory=dict)
    """The last error of each channel that had one in this pass."""


@dataclass
class _Hold:
    reason: str
    until: dt.datetime | None
    """None: for the rest of the pass."""
    retry_at: dt.datetime


class _Gate:
    """The endpoints held back in this pass, and why."""

    def __init__(self) -> None:
        self._held: dict[str, _Hold] = {}

    def learn(self, endpoint: str, result: DeliveryResult, at: dt.datetime, retry_at: dt.datetime) -> None:
        if result.outcome is Outcome.RETRY and result.hold:
            until = retry_after_until(at, result.retry_after) if result.retry_after is not None else None
            self._held[endpoint] = _Hold(result.detail or "unreachable", until, retry_at)

    def held(self, endpoint: str, now: dt.datetime) -> _Hold | None:
        hold = self._held.get(endpoint)
        if hold is not None and hold.until is not None and now >= hold.until:
            del self._held[endpoint]
            return None
        return hold


def claimer() -> str:
    """This pass's `claimed_by`: the machine, the process and a random part (`host:pid:nonce`)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(claimed_by: str) -> bool:
    """Whether a claim was made on this machine by a process that no longer runs."""
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists but is not ours to signal
        return False
    return False


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
    """Attempt every undelivered alert at most once, oldest first, with no transaction open while sending.

    Args:
        engine: The database.
        notifiers: By channel (`email`, `webhook:<name>`).
        now: The clock (claims, sent times, retry times, `Retry-After`).
        blocked: Channels that cannot work now, with the one-line reason: their rows stay pending.
        due_only: Only rows whose retry time has come (the `watch` retry job); `check` tries them all,
            except those a receiver asked to wait for (`Retry-After`).
        before_send: Called with the row claimed, just before its claim is renewed and it is sent (tests).
        after_send: Called after sending, before the row is marked (crash-safety tests).
        stop: Set to end the pass after the current row (shutdown); claimed rows not sent go back.
    """
    pass_ = _Pass(engine, notifiers, now, blocked or {}, before_send, after_send)
    after_id = 0
    while stop is None or not stop.is_set():
        rows = pass_.claim(after_id, due_only)
        if not rows:
            break
        after_id = rows[-1].id
        for index, row in enumerate(rows):
            if stop is not None and stop.is_set():
                pass_.release(rows[index:])
                break
            pass_.one(row)
    pass_.defer_held()
    return pass_.report


class _Pass:
    """One delivery pass: its claim token, what it has learnt about endpoints, and its report."""

    def __init__(
        self,
        engine: Engine,
        notifiers: Mapping[str, Notifier],
        now: Callable[[], dt.datetime],
        blocked: Mapping[str, str],
        before_send: Hook | None,
        after_send: Hook | None,
    ) -> None:
        self.engine = engine
        self.notifiers = notifiers
        self.now = now
        self.blocked = blocked
        self.before_send = before_send
        self.after_send = after_send
        self.token = claimer()
        self.gate = _Gate()
        self.report = Delivered()
        self.endpoints = {channel: endpoint_of(n) for channel, n in notifiers.items()}

    def held_channels(self, at: dt.datetime) -> list[str]:
        return [c for c, endpoint in self.endpoints.items() if self.gate.held(endpoint, at) is not None]

    def claim(self, after_id: int, due_only: bool) -> list[Row[Any]]:
        """Claim the next few rows and commit, so no lock is held while they are sent."""
        at = self.now()
        held = self.held_channels(at)
        with transaction(self.engine, write=True) as connection:
            claims = connection.execute(
                select(_O.claimed_by).distinct().where(_O.status == AlertStatus.SENDING.value)
            ).scalars()
            gone = [c for c in claims if c and _gone(c)]
            waiting = and_(
                _O.status == AlertStatus.PENDING.value,
                or_(_O.not_before.is_(None), _O.not_before <= at),
            )
            if due_only:
                waiting = and_(waiting, or_(_O.next_attempt_at.is_(None), _O.next_attempt_at <= at))
            abandoned = and_(
                _O.status == AlertStatus.SENDING.value,
                or_(_O.lease_until < at, _O.claimed_by.in_(gone)),
            )
            query = select(_O.id).where(_O.id > after_id, or_(waiting, abandoned))
            if held:
                query = query.where(_O.channel.not_in(held))
            ids = list(
                connection.execute(
                    query.order_by(_O.id).limit(CLAIM_BATCH).with_for_update(skip_locked=True)
                ).scalars()
            )
            if not ids:
                return []
            connection.execute(
                update(schema.alert_outbox)
                .where(_O.id.in_(ids))
                .values(
                    status=AlertStatus.SENDING.value,
                    claimed_by=self.token,
                    lease_until=at + dt.timedelta(seconds=LEASE_SECONDS),
                )
            )
            return list(connection.execute(select(schema.alert_outbox).where(_O.id.in_(ids)).order_by(_O.id)))

    def one(self, row: Row[Any]) -> None:
        """Send one claimed row (unless its channel cannot work or its endpoint is held), then mark it."""
        notifier = self.notifiers.get(row.channel)
        if notifier is None and row.channel in self.blocked:
            # Not attempted: the setting must be put right first. `watch` looks again in an hour;
            # `check` tries every undelivered row on every run.
            reason = self.blocked[row.channel]
            self.report.skipped += 1
            self.report.errors[row.channel] = reason
            later = self.now() + dt.timedelta(seconds=BACKOFF_MAX_SECONDS)
            self.release([row], last_error=reason, next_attempt_at=later)
            return
        if notifier is None:
            result = DeliveryResult.failed(f"{row.channel}: no such channel is configured any more")
            self.mark(row, result, self.now())
            return
        endpoint = self.endpoints[row.channel]
        hold = self.gate.held(endpoint, self.now())
        if hold is not None:
            self.report.deferred += 1
            self.release([row], **_deferral(hold))
            return
        alert = _alert(row)
        if self.before_send is not None:
            self.before_send(alert)
        if not self.renew(row):
            return  # another sender has it: sending it here as well would deliver it twice
        result = _send(notifier, alert)
        at = self.now()
        if self.after_send is not None:
            self.after_send(alert)
        retry_at = self.mark(row, result, at)
        if retry_at is not None:
            self.gate.learn(endpoint, result, at, retry_at)

    def renew(self, row: Row[Any]) -> bool:
        """Extend this pass's claim on one row just before sending it; False if the claim is no longer ours.

        The batch was claimed on one lease: behind a slow endpoint a later row's lease can run out and
        another sender claim it, which must then be the only one to send it.
        """
        lease_until = self.now() + dt.timedelta(seconds=LEASE_SECONDS)
        with transaction(self.engine, write=True) as connection:
            done = connection.execute(
                update(schema.alert_outbox).where(self._ours(row.id)).values(lease_until=lease_until)
            )
            return bool(done.rowcount)

    def mark(self, row: Row[Any], result: DeliveryResult, at: dt.datetime) -> dt.datetime | None:
        """Record one attempt in its own transaction; returns the retry time of a retried row."""
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "claimed_by": None, "lease_until": None}
        retry_at: dt.datetime | None = None
        if result.outcome is Outcome.DELIVERED:
            values |= {"status": AlertStatus.SENT.value, "sent_at": at, "next_attempt_at": None}
            values |= {"last_error": None, "not_before": None}
        elif result.outcome is Outcome.RETRY:
            self.report.errors[row.channel] = result.detail or "delivery failed"
            retry_at = next_attempt_at(at, attempts, result.retry_after)
            not_before = retry_at if result.retry_after is not None else None
            values |= {"status": AlertStatus.PENDING.value, "next_attempt_at": retry_at}
            values |= {"last_error": result.detail, "not_before": not_before}
        else:
            self.report.errors[row.channel] = result.detail or "delivery failed"
            values |= {"status": AlertStatus.FAILED.value, "next_attempt_at": None}
            values |= {"last_error": result.detail, "not_before": None}
        with transaction(self.engine, write=True) as connection:
            done = connection.execute(update(schema.alert_outbox).where(self._ours(row.id)).values(**values))
            ours = bool(done.rowcount)
        # Counted only if the row was still ours: a claim that ran out mid-send went to another sender,
        # whose outcome is the row's (the endpoint's error above is still worth reporting).
        if ours:
            if result.outcome is Outcome.DELIVERED:
                self.report.sent += 1
            elif result.outcome is Outcome.RETRY:
                self.report.retry += 1
            else:
                self.report.failed += 1
        return retry_at

    def release(self, rows: Sequence[Row[Any]], **values: Any) -> None:
        """Hand claimed rows back, pending, without counting an attempt."""
        if not rows:
            return
        values |= {"status": AlertStatus.PENDING.value, "claimed_by": None, "lease_until": None}
        with transaction(self.engine, write=True) as connection:
            for row in rows:
                connection.execute(update(schema.alert_outbox).where(self._ours(row.id)).values(**values))

    def defer_held(self) -> None:
        """The end of the pass: the pending rows of an endpoint held back wait for its retry time, with why.

        Without this the `watch` retry job would pay a dead endpoint's time-out again every minute.
        """
        at = self.now()
        holds = {e: h for e in set(self.endpoints.values()) if (h := self.gate.held(e, at)) is not None}
        if not holds:
            return
        with transaction(self.engine, write=True) as connection:
            for endpoint, hold in holds.items():
                channels = [c for c, e in self.endpoints.items() if e == endpoint]
                done = connection.execute(
                    update(schema.alert_outbox)
                    .where(
                        _O.status == AlertStatus.PENDING.value,
                        _O.channel.in_(channels),
                        or_(_O.next_attempt_at.is_(None), _O.next_attempt_at < hold.retry_at),
                    )
                    .values(**_deferral(hold))
                )
                self.report.deferred += int(done.rowcount or 0)
                for channel in channels:
                    self.report.errors.setdefault(channel, hold.reason)

    def _ours(self, row_id: int) -> Any:
        # Only while the claim is still ours: a claim that ran out and was taken over is the other's to mark.
        return and_(_O.id == row_id, _O.status == AlertStatus.SENDING.value, _O.claimed_by == self.token)


def _deferral(hold: _Hold) -> dict[str, Any]:
    """A row held back with its endpoint: why, when to try next, and no earlier than a `Retry-After`."""
    values: dict[str, Any] = {
        "last_error": f"not tried in this pass: {hold.reason}",
        "next_attempt_at": hold.retry_at,
    }
    if hold.until is not None:  # the receiver asked the whole host to wait: `check` waits too
        values["not_before"] = hold.until
    return values


def _send(notifier: Notifier, alert: Alert) -> DeliveryResult:
    try:
        return notifier.send(alert)
    except Exception as error:  # a bug in one notifier must not stop the others: retry it later
        return DeliveryResult.retry(f"{alert.channel}: internal error {type(error).__name__}: {error}")


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
