"""One alert pass: decide and record what is due, then attempt every undelivered alert once.

Who calls what: `caseclock check` (`tracker.cli.commands.alerts`) runs one pass; `caseclock watch`
(`tracker.alerts.scheduler`) runs one at the send time of each working day and at start-up, and `retry` in
between. Both receive `Channels`: the notifiers the command line built from the configuration, and the
one-line problems of the channels that cannot work now. The rules are `tracker.alerts.rules` (pure); the
recording is `tracker.alerts.outbox`, the claiming and sending `tracker.alerts.relay`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from tracker.alerts import outbox
from tracker.alerts.notify import Notifier
from tracker.alerts.rules import Alert, OpenClock, Routing, decide_alerts, digest_alerts, horizon
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import Settings
from tracker.domain.rules import PackRegistry


@dataclass
class Channels:
    """The notifiers of a run, by channel, and what is wrong with the configuration."""

    notifiers: dict[str, Notifier] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    """Channels that are configured but cannot work now (a missing password): their alerts are recorded
    and stay pending until the setting is put right."""
    problems: list[str] = field(default_factory=list)
    """One line per configuration problem, naming the setting."""

    def close(self) -> None:
        """End of a pass: every notifier releases its connections."""
        for notifier in self.notifiers.values():
            notifier.close()


@dataclass(frozen=True)
class Hooks:
    """Test-only: called with the row claimed, before and after sending (`tracker.cli.commands.alerts`)."""

    before_send: Callable[[Alert], None] | None = None
    after_send: Callable[[Alert], None] | None = None


@dataclass
class PassReport:
    """What one pass decided and delivered."""

    as_of: dt.date
    due: int = 0
    new: list[Alert] = field(default_factory=list)
    cancelled: int = 0
    superseded: int = 0
    """Warnings not sent because their clock's breach alert went instead."""
    delivered: outbox.Delivered = field(default_factory=outbox.Delivered)
    pending: int = 0
    unacknowledged: int = 0
    """Alerts that failed for good, in this pass or before, and nobody has acknowledged."""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every alert went out: nothing pending, and no failure left unacknowledged."""
        return self.pending == 0 and self.delivered.failed == 0 and self.unacknowledged == 0

    def line(self) -> str:
        """The one log line of a pass."""
        d = self.delivered
        extra = f", {self.superseded} superseded" if self.superseded else ""
        held = f", {d.deferred} held back (endpoint down or asked to wait)" if d.deferred else ""
        unacknowledged = (
            f"; {self.unacknowledged} failed not acknowledged (caseclock alerts --failed, then --ack ID)"
            if self.unacknowledged
            else ""
        )
        return (
            f"pass as of {self.as_of.isoformat()}: {self.due} due, {len(self.new)} new, "
            f"{self.cancelled} cancelled{extra}; {d.sent} sent, {d.retry} to retry, {d.failed} failed, "
            f"{self.pending} pending{held}{unacknowledged} ({self.seconds:.2f} s)"
        )

    def as_json(self) -> dict[str, Any]:
        """`caseclock check --json`."""
        d = self.delivered
        return {
            "as_of": self.as_of.isoformat(),
            "due": self.due,
            "queued": len(self.new),
            "cancelled": self.cancelled,
            "superseded": self.superseded,
            "sent": d.sent,
            "retry": d.retry,
            "failed": d.failed,
            "deferred": d.deferred,
            "pending": self.pending,
            "failed_unacknowledged": self.unacknowledged,
            "errors": dict(d.errors),
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
        }


def decide(
    settings: Settings,
    calendar: WorkingCalendar,
    as_of: dt.date,
    *,
    digest: bool,
    notes: list[str] | None = None,
) -> Callable[[list[OpenClock]], list[Alert]]:
    """The pure decision of one pass, for `outbox.enqueue`: alerts, and the day's digests if asked.

    `notes` receives one line naming the caseworkers with alerts but no address in `[caseworkers]`.
    """
    routing = Routing.from_settings(settings)

    def rules(clocks: list[OpenClock]) -> list[Alert]:
        alerts = decide_alerts(clocks, as_of, calendar, settings.alerts, routing)
        if digest:
            alerts.extend(digest_alerts(clocks, as_of, calendar, routing))
        if notes is not None and routing.email and routing.caseworkers:
            alerted = {alert.ref for alert in alerts}
            missing = sorted(
                {
                    c.owner
                    for c in clocks
                    if c.owner and c.ref in alerted and c.owner not in routing.caseworkers
                }
            )
            if missing:
                names = ", ".join(repr(name) for name in missing)
                notes.append(
                    f"caseworkers: no address for {names}, so their alerts go to email.to only: "
                    "add them under [caseworkers]"
                )
        return alerts

    return rules


def run_pass(
    engine: Engine,
    packs: PackRegistry,
    calendar: WorkingCalendar,
    settings: Settings,
    channels: Channels,
    as_of: dt.date,
    now: Callable[[], dt.datetime],
    *,
    digest: bool = False,
    dry_run: bool = False,
    hooks: Hooks | None = None,
    stop: threading.Event | None = None,
) -> PassReport:
    """Decide and record the alerts due as of `as_of`, then attempt every undelivered one once.

    With `dry_run` nothing is written and nothing sent: the report's `new` lists what would be recorded.
    """
    started = time.perf_counter()
    notes: list[str] = []
    recorded = outbox.enqueue(
        engine,
        packs,
        horizon(as_of, calendar, settings.alerts),
        decide(settings, calendar, as_of, digest=digest, notes=notes),
        now(),
        dry_run=dry_run,
    )
    report = PassReport(
        as_of, recorded.due, recorded.new, recorded.cancelled, recorded.superseded, notes=notes
    )
    report.notes.extend(
        f"rule pack {pack} is not enabled: its open clocks get no alerts"
        for pack in sorted(recorded.unknown_packs)
    )
    if not dry_run:
        report.delivered = deliver(engine, channels, now, hooks=hooks, stop=stop)
        report.pending = outbox.pending_count(engine)
        report.unacknowledged = outbox.unacknowledged_failures(engine)
    report.seconds = time.perf_counter() - started
    return report


def deliver(
    engine: Engine,
    channels: Channels,
    now: Callable[[], dt.datetime],
    *,
    due_only: bool = False,
    hooks: Hooks | None = None,
    stop: threading.Event | None = None,
) -> outbox.Delivered:
    """Attempt the undelivered alerts (with `due_only`, those whose retry time has come), then close."""
    hooks = hooks or Hooks()
    try:
        return outbox.deliver(
            engine,
            channels.notifiers,
            now,
            blocked=channels.blocked,
            due_only=due_only,
            before_send=hooks.before_send,
            after_send=hooks.after_send,
            stop=stop,
        )
    finally:
        channels.close()
