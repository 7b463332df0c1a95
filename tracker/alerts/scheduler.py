"""`caseclock watch`: the one process that owns a scheduler (APScheduler 3). Nothing else imports APScheduler.

Who calls what: the `watch` command (`tracker.cli.commands.alerts`) builds the notifiers from the
configuration,
hands them to a `Watcher` and calls `run`. The jobs (all in Europe/London):

* **catch-up** at start: one pass as of the last working day whose send time has passed (today after
  `alerts.send_at`, else the working day before), so what fell due while nothing ran goes out now;
* **daily** at `alerts.send_at`, Monday to Friday; a bank holiday or configured closure is skipped by the
  working-day calendar; the pass also records the day's digest emails when `alerts.digest` is on;
* **retry** every minute: delivers the pending alerts whose retry time has come (exponential backoff,
  `Retry-After` honoured).

With `[calendar_feed]` configured the command line also hands over a feed writer
(`tracker.calendar_feed.FeedWriter`): the catch-up and daily passes then write the calendar file after the
alerts, whether or not the alerts went out, and a feed that cannot be written is one warning line.

Passes never overlap in one process; between processes the outbox's claims keep each alert to one sender.
SIGTERM and SIGINT end the scheduler cleanly: the row being sent is finished and recorded first, and a
second signal during that stop is noted and ignored. Each pass logs one line.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from tracker.alerts import dispatch
from tracker.alerts.outbox import Delivered
from tracker.alerts.rules import alert_day
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import Settings
from tracker.domain.errors import CaseclockError
from tracker.domain.rules import PackRegistry

T = TypeVar("T")

LONDON = ZoneInfo("Europe/London")
RETRY_SECONDS = 60
"""How often the retry job looks for pending alerts whose retry time has come."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _debug() -> bool:
    # The CLI's convention: tracebacks only on request (CASECLOCK_DEBUG=1).
    return bool(os.environ.get("CASECLOCK_DEBUG"))


class Watcher:
    """The jobs of `caseclock watch`, independent of the scheduler that runs them (tests call them too).

    Args:
        engine: The database.
        packs: The rule packs (clock titles, KPIs and actions).
        calendar: The working-day calendar.
        settings: The configuration (`alerts`, routing).
        channels: The notifiers, built by the command line.
        now: The clock (timezone-aware); tests inject their own.
        as_of: A fixed decision date (`--as-of`), else the date follows `now`.
        hooks: Test-only delivery hooks.
        log: Where the one line per pass goes.
        feed: Writes the calendar feed as of a pass's date and returns its log line (None: no feed).
        retention: Applies the retention policy as of a date and returns its one log line (None: no
            policy configured, no job).
    """

    def __init__(
        self,
        engine: Engine,
        packs: PackRegistry,
        calendar: WorkingCalendar,
        settings: Settings,
        channels: dispatch.Channels,
        *,
        now: Callable[[], dt.datetime] = _utc_now,
        as_of: dt.date | None = None,
        hooks: dispatch.Hooks | None = None,
        log: logging.Logger | None = None,
        feed: Callable[[dt.date], str] | None = None,
        retention: Callable[[dt.date], str] | None = None,
    ) -> None:
        self.engine = engine
        self.packs = packs
        self.calendar = calendar
        self.settings = settings
        self.channels = channels
        self.now = now
        self.as_of = as_of
        self.hooks = hooks
        self.log = log or logging.getLogger("caseclock.watch")
        self.feed = feed
        self.retention = retention
        self.stop = threading.Event()
        self.busy = threading.Lock()

    def today(self) -> dt.date:
        """Today in Europe/London (or the fixed as-of date)."""
        return self.as_of or self.now().astimezone(LONDON).date()

    def decision_date(self) -> dt.date:
        """The date a pass decides alerts as of: see the module docstring."""
        if self.as_of is not None:
            return self.as_of
        return alert_day(self.now().astimezone(LONDON), self.settings.alerts.send_time, self.calendar)

    def catch_up(self) -> dispatch.PassReport | None:
        """The pass at start-up."""
        return self._pass(self.decision_date())

    def daily(self) -> dispatch.PassReport | None:
        """The pass at `alerts.send_at`; nothing on a day that is not a working day."""
        today = self.today()
        if not self.calendar.is_working_day(today):
            self.log.info("no pass on %s: not a working day", today.isoformat())
            return None
        return self._pass(today)

    def retry(self) -> Delivered | None:
        """Deliver the pending alerts whose retry time has come; skipped while a pass runs."""
        if self.stop.is_set() or not self.busy.acquire(blocking=False):
            return None
        try:
            done = self._guarded(
                "retry failed",
                lambda: dispatch.deliver(
                    self.engine, self.channels, self.now, due_only=True, hooks=self.hooks, stop=self.stop
                ),
            )
        finally:
            self.busy.release()
        if done is None:
            return None
        if done.sent or done.retry or done.failed:
            self.log.info("retry: %d sent, %d to retry, %d failed", done.sent, done.retry, done.failed)
            self._errors(done)
        return done

    def _guarded(
        self, failure: str, job: Callable[[], T], expected: type[Exception] | None = None
    ) -> T | None:
        """Run one job; a refusal, an `expected` error or a bug is one line starting `failure`, and None.

        The scheduler keeps running whatever a job raises: a caseclock refusal (and an `expected` error, such
        as a feed's OSError) is a warning, anything else is a bug, logged as an internal error (with its
        traceback only when CASECLOCK_DEBUG is set).
        """
        try:
            return job()
        except CaseclockError as error:
            self.log.warning("%s: %s", failure, error.message)
        except Exception as error:
            if expected is not None and isinstance(error, expected):
                self.log.warning("%s: %s", failure, error)
            else:
                self.log.error(
                    "%s: internal error %s: %s", failure, type(error).__name__, error, exc_info=_debug()
                )
        return None

    def _pass(self, as_of: dt.date) -> dispatch.PassReport | None:
        if self.stop.is_set():
            return None
        with self.busy:
            report = self._alerts(as_of)
            self._write_feed(self.today())
        return report

    def _alerts(self, as_of: dt.date) -> dispatch.PassReport | None:
        report = self._guarded(
            f"pass as of {as_of.isoformat()} failed",
            lambda: dispatch.run_pass(
                self.engine,
                self.packs,
                self.calendar,
                self.settings,
                self.channels,
                as_of,
                self.now,
                digest=self.settings.alerts.digest,
                hooks=self.hooks,
                stop=self.stop,
            ),
        )
        if report is None:
            return None
        self.log.info(report.line())
        self._errors(report.delivered)
        for note in report.notes:
            self.log.warning(note)
        return report

    def _write_feed(self, as_of: dt.date) -> None:
        if self.feed is None:
            return
        feed = self.feed
        line = self._guarded(
            f"calendar feed as of {as_of.isoformat()} not written", lambda: feed(as_of), expected=OSError
        )
        if line is not None:
            self.log.info(line)

    def apply_retention(self) -> str | None:
        """The daily retention job: erase what the policy makes due today, and log one line.

        It waits for a pass running at the same minute (`busy`): its clean-up rewrites the database, which
        a pass reading it would hold back. Nothing starts once `watch` is stopping.
        """
        if self.retention is None or self.stop.is_set():
            return None
        today = self.today()
        retention = self.retention
        with self.busy:
            line = self._guarded(f"retention as of {today.isoformat()} not applied", lambda: retention(today))
        if line is None:
            return None
        self.log.info(line)
        return line

    def _errors(self, done: Delivered) -> None:
        for error in done.errors.values():
            self.log.warning(error)

    def add_jobs(self, scheduler: BaseScheduler) -> None:
        """Schedule the catch-up pass (now), the daily pass and the retry job."""
        send_at = self.settings.alerts.send_time
        common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "replace_existing": True}
        scheduler.add_job(self.catch_up, id="catch-up", name="catch-up pass", **common)
        scheduler.add_job(
            self.daily,
            CronTrigger(day_of_week="mon-fri", hour=send_at.hour, minute=send_at.minute, timezone=LONDON),
            id="daily",
            name="daily pass",
            misfire_grace_time=3600,
            **common,
        )
        if self.retention is not None:
            scheduler.add_job(
                self.apply_retention,
                CronTrigger(hour=send_at.hour, minute=send_at.minute, timezone=LONDON),
                id="retention",
                name="retention",
                misfire_grace_time=3600,
                **common,
            )
        scheduler.add_job(
            self.retry,
            IntervalTrigger(seconds=RETRY_SECONDS, timezone=LONDON),
            id="retry",
            name="retry",
            **common,
        )


def make_scheduler(*, blocking: bool = True) -> BaseScheduler:
    """A scheduler in Europe/London: blocking for `watch`, in the background for tests."""
    if blocking:
        return BlockingScheduler(timezone=LONDON)
    return BackgroundScheduler(timezone=LONDON)


def run(watcher: Watcher, scheduler: BaseScheduler | None = None) -> int:
    """Run the watcher's jobs until SIGTERM or SIGINT; returns the exit code (0)."""
    scheduler = scheduler or make_scheduler()
    watcher.add_jobs(scheduler)

    def stop(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if watcher.stop.is_set():
            # A second signal (systemd, an impatient Ctrl-C) must not cut the orderly stop short: the row
            # on the wire is still to be marked, and "stopped" still to be said.
            watcher.log.info("already stopping (%s): finishing the alert being sent", name)
            return
        # Set before the log line: a second signal may arrive while the line is being written.
        watcher.stop.set()
        watcher.log.info("stopping (%s)", name)
        if scheduler.state != STATE_STOPPED:
            scheduler.shutdown(wait=False)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    send_at = watcher.settings.alerts.send_at
    watcher.log.info("watching: alerts at %s on working days (Europe/London)", send_at)
    try:
        scheduler.start()
        with watcher.busy:  # the pass in progress finishes its current row and records it
            watcher.channels.close()
        watcher.log.info("stopped")
    finally:
        for sig, handler in previous.items():  # only once "stopped" is said
            signal.signal(sig, handler)
    return 0
