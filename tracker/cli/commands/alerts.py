"""Commands on deadline alerts: `check` (one pass), `alerts` (the outbox), `watch` (the scheduler).

This is where the notifiers are built from the configuration (`build_channels`) and handed to the pass
(`tracker.alerts.dispatch`) or the scheduler (`tracker.alerts.scheduler`); both are imported inside the
command that needs them, so the other commands start quickly. Every configuration problem is one line naming
the setting, and the channels that work keep working.

Test-only hooks: CASECLOCK_TEST_PAUSE_BEFORE_DELIVERY / CASECLOCK_TEST_PAUSE_AFTER_DELIVERY name a FIFO. The
first delivery then writes the alert id to it, with the outbox row locked (before sending, or after sending
and before marking it sent), and blocks until the process is killed: the crash-safety tests use it. Never
set them in production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tracker.cli.commands.output import print_json, table
from tracker.cli.context import Context
from tracker.domain.config import Settings, smtp_password, webhook_secret, webhook_secret_env
from tracker.domain.errors import InvalidValue

if TYPE_CHECKING:
    from tracker.alerts.dispatch import Channels, Hooks
    from tracker.alerts.rules import Alert
    from tracker.calendar_feed import FeedWriter

_STATUSES = ("pending", "sending", "failed", "sent", "cancelled", "superseded")
PAUSE_BEFORE_ENV = "CASECLOCK_TEST_PAUSE_BEFORE_DELIVERY"
PAUSE_AFTER_ENV = "CASECLOCK_TEST_PAUSE_AFTER_DELIVERY"


def register(commands: Any) -> None:
    """Add the alert commands to the `caseclock` parser."""
    check = commands.add_parser(
        "check",
        help="one pass of the alert rules: queue and send what is due",
        description=(
            "Decide which deadline alerts are due as of --as-of (default today), record them in the outbox, "
            "and attempt every undelivered alert once (a dead endpoint is tried once per run, a receiver's "
            "Retry-After is honoured). Exit 0 when all went out, 1 when some are pending, or failed and not "
            "acknowledged (caseclock alerts --ack ID)."
        ),
        epilog="Example (cron, every working day at 08:30): caseclock check",
    )
    check.add_argument(
        "--dry-run", action="store_true", help="list what would be queued; send and write nothing"
    )
    check.add_argument("--digest", action="store_true", help="also queue today's digest email per recipient")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(run=run_check)

    alerts = commands.add_parser(
        "alerts",
        help="list the alert outbox: pending, failed and sent alerts; acknowledge a failed one",
        epilog="Examples: caseclock alerts --pending --json; caseclock alerts --ack 2565433003ea",
    )
    which = alerts.add_mutually_exclusive_group()
    for status in _STATUSES:
        which.add_argument(
            f"--{status}", dest="status", action="store_const", const=status, help=f"only {status} alerts"
        )
    which.add_argument(
        "--ack",
        metavar="ID",
        help="acknowledge the failed alert ID (its first 12 characters do): check no longer exits 1 for it",
    )
    alerts.add_argument("--limit", type=int, default=200, metavar="N", help="at most N, newest first (200)")
    alerts.add_argument("--json", action="store_true", help="machine-readable output")
    alerts.set_defaults(run=run_alerts, status=None, ack=None)

    watch = commands.add_parser(
        "watch",
        help="run the alert scheduler until stopped (SIGTERM/SIGINT end it cleanly)",
        description=(
            "Send the day's alerts at alerts.send_at on working days (Europe/London), catch up at start, "
            "retry pending deliveries, and send a daily digest email per recipient; with [calendar_feed] "
            "configured, also write the calendar file on each pass. Logs one line per pass."
        ),
        epilog="Example: caseclock watch   (see deploy/caseclock-watch.service)",
    )
    watch.set_defaults(run=run_watch)


def build_channels(settings: Settings, environ: Mapping[str, str], *, required: bool = True) -> Channels:
    """The notifiers the configuration asks for, and a one-line note for each setting that is wrong.

    With `required` (the default) a configuration without any channel is refused; `watch` with a calendar
    feed runs without one.
    """
    from notifiers.email import EmailNotifier, missing_password
    from notifiers.webhook import WebhookNotifier
    from tracker.alerts.dispatch import Channels

    channels = Channels()
    email = settings.email
    if email is None and settings.caseworkers:
        channels.problems.append(
            "caseworkers: addresses are set but there is no [email] section, so no email is sent: "
            "add [email] with host and sender"
        )
    if email is not None:
        password = smtp_password(environ)
        notifier = EmailNotifier(email, password)
        if email.username and password is None:
            channels.blocked[notifier.channel] = missing_password(email)
            channels.problems.append(missing_password(email))
        else:
            channels.notifiers[notifier.channel] = notifier
    for hook in settings.webhooks:
        secret = webhook_secret(hook.name, environ)
        if secret is None and hook.format == "generic":
            channels.problems.append(
                f"webhooks.{hook.name}: {webhook_secret_env(hook.name)} is not set, so its requests are "
                "sent unsigned: set it to sign them"
            )
        webhook = WebhookNotifier(hook, secret)
        channels.notifiers[webhook.channel] = webhook
    if required and not channels.notifiers and not channels.blocked:
        raise InvalidValue(
            "alerts",
            "no channel",
            "configure an [email] section or a [[webhooks]] block (see config.example.toml)",
        )
    return channels


def _problems(channels: Channels) -> None:
    for problem in channels.problems:
        print(f"caseclock: {problem}", file=sys.stderr)


def delivery_test_hooks(environ: Mapping[str, str]) -> Hooks | None:
    """The crash-safety test hooks, when their variables are set (test-only; see the module docstring)."""
    from tracker.alerts.dispatch import Hooks

    before, after = environ.get(PAUSE_BEFORE_ENV), environ.get(PAUSE_AFTER_ENV)
    if not before and not after:
        return None
    return Hooks(_pause(before) if before else None, _pause(after) if after else None)


def _pause(fifo: str) -> Any:
    def hook(alert: Alert) -> None:
        with open(fifo, "w", encoding="utf-8") as signal_file:  # blocks until the test reads
            signal_file.write(alert.id + "\n")
        threading.Event().wait()  # until SIGKILL

    return hook


def run_check(context: Context, args: argparse.Namespace) -> int:
    """`caseclock check`."""
    from tracker.alerts.dispatch import run_pass

    store = context.store  # checks (or creates) the schema
    channels = build_channels(context.settings, context.environ)
    _problems(channels)
    report = run_pass(
        store.engine,
        context.packs,
        context.calendar,
        context.settings,
        channels,
        context.as_of,
        context.now,
        digest=args.digest,
        dry_run=args.dry_run,
        hooks=delivery_test_hooks(context.environ),
    )
    for note in report.notes:
        print(f"caseclock: {note}", file=sys.stderr)
    if args.dry_run:
        rows = [_would(a) for a in report.new]
        if args.json:
            print_json({"as_of": report.as_of.isoformat(), "due": report.due, "would_queue": rows})
        else:
            print(
                f"check as of {report.as_of.isoformat()} (dry run): {report.due} due, "
                f"{len(rows)} would be queued"
            )
            if rows:
                headers = ["ref", "clock", "level", "type", "due", "days left", "channel", "recipient"]
                print(table(headers, [[r[key] for key in _WOULD_KEYS] for r in rows]))
        return 0
    for error in report.delivered.errors.values():
        if error not in channels.problems:  # a blocked channel's reason was printed above
            print(f"caseclock: {error}", file=sys.stderr)
    if args.json:
        print_json(report.as_json())
    else:
        d = report.delivered
        superseded = f", {report.superseded} superseded" if report.superseded else ""
        held = f", {d.deferred} held back" if d.deferred else ""
        print(
            f"check as of {report.as_of.isoformat()}: {report.due} due, {len(report.new)} queued, "
            f"{report.cancelled} cancelled{superseded}; {d.sent} sent, {d.retry} to retry, "
            f"{d.failed} failed; {report.pending} pending{held}"
        )
    if report.unacknowledged:
        print(
            f"caseclock: {report.unacknowledged} alert(s) failed for good and are not acknowledged: "
            "see caseclock alerts --failed, put the cause right, then caseclock alerts --ack ID",
            file=sys.stderr,
        )
    return 0 if report.ok else 1


_WOULD_KEYS = ["ref", "clock", "level", "type", "due_on", "working_days_left", "channel", "recipient"]


def _would(alert: Alert) -> dict[str, Any]:
    payload = alert.payload
    return {
        "id": alert.id,
        "ref": alert.ref or None,
        "clock": alert.clock or None,
        "level": alert.level,
        "type": alert.type,
        "due_on": payload.get("due_on"),
        "working_days_left": payload.get("working_days_left"),
        "channel": alert.channel,
        "recipient": alert.recipient,
    }


def run_alerts(context: Context, args: argparse.Namespace) -> int:
    """`caseclock alerts`."""
    from tracker.alerts.outbox import acknowledge, list_alerts

    if args.ack is not None:
        row = acknowledge(context.store.engine, args.ack, context.actor, context.now())
        if args.json:
            print_json(row.as_json())
        else:
            what = " ".join(part for part in (row.ref, row.clock, row.level) if part)
            print(
                f"acknowledged alert {row.id[:12]} ({what} to {row.recipient} by {row.channel}) "
                f"as seen by {row.acknowledged_by}: check no longer counts it"
            )
        return 0
    if args.limit < 1:
        raise InvalidValue("--limit", args.limit, "use a whole number of at least 1")
    rows = list_alerts(context.store.engine, args.status, args.limit)
    if args.json:
        print_json([r.as_json() for r in rows])
        return 0
    if not rows:
        print(f"no {args.status or ''} alerts".replace("  ", " "))
        return 0
    headers = [
        "id",
        "status",
        "ref",
        "clock",
        "level",
        "due",
        "channel",
        "recipient",
        "tries",
        "when",
        "error",
    ]
    print(
        table(
            headers,
            [
                [
                    r.id[:12],
                    r.status,
                    r.ref,
                    r.clock,
                    r.level,
                    r.due_on,
                    r.channel,
                    r.recipient,
                    r.attempts,
                    _when(r),
                    (r.last_error or "")[:100],
                ]
                for r in rows
            ],
        )
    )
    return 0


def _when(row: Any) -> str | None:
    moment = row.sent_at if row.status == "sent" else row.next_attempt_at
    return moment.strftime("%Y-%m-%d %H:%M") if moment else None


def run_watch(context: Context, args: argparse.Namespace) -> int:
    """`caseclock watch`."""
    import logging

    from tracker.alerts import scheduler

    store = context.store
    feed = _feed_writer(context)
    channels = build_channels(context.settings, context.environ, required=feed is None)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s caseclock watch: %(message)s", "%Y-%m-%d %H:%M:%S"))
    log = logging.getLogger("caseclock.watch")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    for problem in channels.problems:
        log.warning(problem)
    pinned = args.as_of or context.environ.get("CASECLOCK_AS_OF")
    fixed = context.as_of if pinned else None  # --as-of pins every pass to that date (tests, what-if)
    watcher = scheduler.Watcher(
        store.engine,
        context.packs,
        context.calendar,
        context.settings,
        channels,
        as_of=fixed,
        hooks=delivery_test_hooks(context.environ),
        log=log,
        feed=feed,
        retention=_retention_job(context),
    )
    if watcher.retention is not None:
        years = context.settings.retention.personal_data_years_after_end if context.settings.retention else 0
        log.info("retention: personal data erased %d years after a case ends, daily", years)
    if feed is not None:
        log.info("calendar feed: %s, on each pass", feed.path)
    if not channels.notifiers and not channels.blocked:
        log.info("no [email] or [[webhooks]]: no alerts are sent, only the calendar feed is written")
    try:
        return scheduler.run(watcher)
    finally:
        log.removeHandler(handler)


def _retention_job(context: Context) -> Callable[[dt.date], str] | None:
    """The daily retention job of `[retention]` (None: no policy configured, nothing is erased)."""
    policy = context.settings.retention
    if policy is None:
        return None
    from tracker.cli.commands.personal import apply_retention, retention_line
    from tracker.store.retention import due_for_erasure

    years = policy.personal_data_years_after_end

    def apply(as_of: dt.date) -> str:
        due = due_for_erasure(context.store.engine, years, as_of)
        return retention_line(len(apply_retention(context, years, as_of, [d.ref for d in due])))

    return apply


def _feed_writer(context: Context) -> FeedWriter | None:
    """The writer of `[calendar_feed]`, its folder and caseworker checked first (None: not configured)."""
    settings = context.settings.calendar_feed
    if settings is None:
        return None
    from tracker import calendar_feed

    where = f"{context.config_file}: calendar_feed" if context.config_file else "calendar_feed"
    path = calendar_feed.check_path(f"{where}.path", settings.path)
    if settings.caseworker is not None:
        calendar_feed.check_known_caseworker(
            context.store, context.settings, f"{where}.caseworker", settings.caseworker
        )
    return calendar_feed.FeedWriter(context.store, path, settings.caseworker)
