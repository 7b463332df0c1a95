"""Delivering an alert: the `Notifier` protocol, what an attempt reports, and when to try again. Pure.

Who calls what: the command line builds notifiers (`notifiers.email.EmailNotifier`,
`notifiers.webhook.WebhookNotifier`) from the configuration and passes them to a pass
(`tracker.alerts.dispatch`); `tracker.alerts.outbox.deliver` calls `send` for each recorded alert, turns the
`DeliveryResult` into the row's new `AlertStatus` (with `next_attempt_at` for a retry), holds back the rest
of an endpoint that is down or asked to wait (`DeliveryResult.hold`, `endpoint_of`), and calls `close` at
the end of the pass.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tracker.alerts.rules import Alert

BACKOFF_FIRST_SECONDS = 60.0
BACKOFF_MAX_SECONDS = 3600.0
RETRY_AFTER_MAX_SECONDS = 86400.0


class AlertStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    """Recorded, not yet delivered (new, or waiting for a retry)."""
    SENDING = "sending"
    """Claimed by a pass that is sending it now (until its `lease_until`); a dead sender's claim runs out."""
    SENT = "sent"
    FAILED = "failed"
    """Refused permanently by the receiver; not retried."""
    CANCELLED = "cancelled"
    """Its clock stopped, was excepted or cancelled before it went out."""
    SUPERSEDED = "superseded"
    """A warning not sent because its clock's breach alert went out instead (catch-up after a gap)."""


class Outcome(StrEnum):
    """How one delivery attempt ended."""

    DELIVERED = "delivered"
    RETRY = "retry"
    """A transient failure (server down, 5xx, 429): try again later."""
    FAILED = "failed"
    """Refused for good (a 4xx, a recipient the server rejects): not retried."""


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What a notifier reports for one attempt; `detail` is one line naming the setting at fault."""

    outcome: Outcome
    detail: str | None = None
    retry_after: float | None = None
    """Seconds the receiver asked us to wait (`Retry-After`), if it did."""
    hold: bool = False
    """The endpoint, not just this message, cannot take more now (unreachable, timed out, 429): the pass
    sends nothing else to it until the pass ends, or until `retry_after` has passed."""

    @classmethod
    def delivered(cls) -> DeliveryResult:
        """The receiver accepted the message."""
        return cls(Outcome.DELIVERED)

    @classmethod
    def retry(cls, detail: str, retry_after: float | None = None, *, hold: bool = False) -> DeliveryResult:
        """A transient failure; with `hold`, one of the whole endpoint (see `hold`)."""
        return cls(Outcome.RETRY, detail, retry_after, hold)

    @classmethod
    def failed(cls, detail: str) -> DeliveryResult:
        """A permanent failure."""
        return cls(Outcome.FAILED, detail)


class Notifier(Protocol):
    """Sends alerts on one channel. Built by the command line from the configuration and passed in."""

    @property
    def channel(self) -> str:
        """The outbox channel this notifier serves: `email` or `webhook:<name>`."""
        ...

    def send(self, alert: Alert) -> DeliveryResult:
        """Deliver one alert; never raises for a delivery problem, it reports it."""
        ...

    def close(self) -> None:
        """Release connections at the end of a pass (and forget a server found down in it)."""
        ...


def endpoint_of(notifier: Notifier) -> str:
    """The server a notifier talks to (`endpoint`, e.g. a webhook's host), else its channel.

    A pass holds back every channel of an endpoint that is down or asked to wait: two webhooks on one host
    share its `Retry-After`.
    """
    return str(getattr(notifier, "endpoint", None) or notifier.channel)


def retry_after_until(now: dt.datetime, retry_after: float) -> dt.datetime:
    """The time a receiver's `Retry-After` (seconds, at most a day) asks us not to try before."""
    return now + dt.timedelta(seconds=min(max(retry_after, 0.0), RETRY_AFTER_MAX_SECONDS))


def next_attempt_at(now: dt.datetime, attempts: int, retry_after: float | None = None) -> dt.datetime:
    """When to try again after `attempts` failed attempts.

    The receiver's `Retry-After` if it gave one (up to a day), else exponential backoff from one minute up
    to an hour.
    """
    if retry_after is not None:
        return retry_after_until(now, retry_after)
    delay = min(BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    return now + dt.timedelta(seconds=delay)
