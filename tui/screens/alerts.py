"""The alert outbox: pending, sent, failed (and cancelled) alerts, newest first, in the alerts' own words.

Read with `tracker.alerts.outbox.list_alerts` and `alert_counts` in a thread worker on every LiveScreen
tick, so the counts on the tabs and in the status line follow what `caseclock check`/`watch` records and
sends. The TUI only shows alerts: deciding and sending them is that process's job, and an empty tab says
so. Each row says what the alert says (its KPI, the clock's title and what is due, from the alert's own
payload), and the line under the table gives the highlighted alert's action, channel and any problem. An
alert names its case by reference; Enter opens the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Static, Tab, Tabs

from tracker.alerts.outbox import AlertRow, alert_counts, list_alerts
from tracker.domain.config import Settings
from tracker.domain.errors import CaseclockError
from tui.context import TuiContext
from tui.messages import AlertsLoaded, StoreFailed
from tui.screens.base import LiveScreen
from tui.screens.case import open_case
from tui.widgets.key_bar import KeyBar
from tui.widgets.status_line import StatusLine

SHOWN = 500
"""The newest alerts shown (the CLI's `caseclock alerts` lists more)."""

TABS = {"pending": "Pending", "sent": "Sent", "failed": "Failed", "cancelled": "Cancelled", "all": "All"}
MARKS = {"pending": "…", "sent": "✓", "failed": "!!", "cancelled": "-"}
COLUMNS = ("Status", "Ref", "Due", "Alert", "To", "Tries", "When", "Problem")


def _days(count: int) -> str:
    return f"{count} working day{'' if count == 1 else 's'}"


def alert_words(alert: AlertRow) -> str:
    """What the alert says: "KPI 4 Certificate issued: due in 1 working day", "Daily digest: 2 overdue"."""
    payload = alert.payload
    if alert.type == "digest":
        parts = [
            f"{len(payload.get(key) or [])} {words}"
            for key, words in (("due_today", "due today"), ("due_soon", "due soon"), ("overdue", "overdue"))
            if payload.get(key)
        ]
        return "Daily digest: " + (", ".join(parts) or "nothing due")
    name = " ".join(str(payload[key]) for key in ("kpi", "title") if payload.get(key)) or alert.clock
    left = payload.get("working_days_left")
    late = f", {_days(-left)} late" if isinstance(left, int) and left < 0 else ""
    if alert.type == "clock.breached":
        return f"{name}: deadline missed{late}"
    warned = alert.level.removeprefix("warn-")
    if not warned.isdigit():
        return f"{name}: {alert.level}"
    ahead = "due today" if warned == "0" else f"due in {_days(int(warned))}"
    return f"{name}: {ahead}" + (f" (caught up{late})" if late else "")


def channel_words(alert: AlertRow) -> str:
    """ "email to team@provider.example", "webhook team"."""
    if alert.channel.startswith("webhook:"):
        return f"webhook {alert.recipient}"
    return f"{alert.channel} to {alert.recipient}"


def explain(settings: Settings, status: str) -> str:
    """What an empty tab says: what alerts are, who sends them, and where they go in this configuration."""
    rules = settings.alerts
    when = [
        f"{_days(n)} before it is due" if n else "on the day it is due"
        for n in sorted(rules.warn_working_days, reverse=True)
    ]
    if rules.breach:
        when.append("on the first working day after it is missed")
    said = ", ".join(when[:-1]) + (" and " if len(when) > 1 else "") + (when[-1] if when else "never")
    channels = [f"email to {', '.join(settings.email.to) or 'each caseworker'}"] if settings.email else []
    channels += [f"webhook {hook.name}" for hook in settings.webhooks]
    where = (
        "They go by " + " and ".join(channels) + "."
        if channels
        else "No channel is configured yet: add an [email] section or a [[webhooks]] block to the config "
        "(see config.example.toml)."
    )
    shown = "No alerts yet." if status == "all" else f"No {TABS[status].lower()} alerts."
    return (
        f"{shown}\n\n"
        f"An alert is a reminder of a statutory deadline (a clock of a case): {said}. {where}\n\n"
        "This screen only shows them. They are decided, recorded here and sent by `caseclock check` (one "
        "pass: run it each working morning, e.g. from cron) or by `caseclock watch` (the scheduler, which "
        f"sends at {rules.send_at} on working days and retries what could not be sent). The tabs count "
        "them as they are recorded and sent."
    )


class AlertsScreen(LiveScreen):
    """The outbox, by status."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "app.pop_screen", "Back", tooltip="Back to the case list", id="caseclock.alerts.back"
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Read the outbox again now",
            id="caseclock.alerts.refresh",
        ),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx, screen_id="alerts-screen")
        self.status = "pending"
        self.counts: dict[str, int] = {}
        """Alerts of each status, as last read."""
        self._shown: list[AlertRow] | None = None

    def compose(self) -> ComposeResult:
        """Status tabs, the table (or what alerts are, when there are none), the detail and status lines."""
        yield Header()
        yield Tabs(*(Tab(label, id=f"alerts-{key}") for key, label in TABS.items()), id="alert-tabs")
        yield DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
        yield Static("", id="alerts-empty", markup=False)
        yield Static("", id="alert-detail", markup=False)
        yield StatusLine(line_id="alerts-status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Columns, then the first read."""
        table = self.query_one("#alerts", DataTable)
        for title in COLUMNS:
            table.add_column(title, key=title.lower())
        table.focus()
        self.poll()

    def poll(self) -> None:
        """Read the outbox again."""
        self._load(self.status)

    @work(thread=True, exclusive=True, group="alerts", exit_on_error=False)
    def _load(self, status: str) -> None:
        engine = self.ctx.store.engine
        try:
            rows = list_alerts(engine, None if status == "all" else status, limit=SHOWN)
            counts = alert_counts(engine)
        except CaseclockError as error:
            self.post_message(StoreFailed(error.message))
            return
        self.post_message(AlertsLoaded(rows, counts))

    def on_alerts_loaded(self, message: AlertsLoaded) -> None:
        """Count on every read; draw the rows when they changed."""
        self._count(message.counts, len(message.alerts))
        if message.alerts == self._shown:
            return
        self._shown = message.alerts
        table = self.query_one("#alerts", DataTable)
        table.clear()
        for alert in message.alerts:
            when = alert.sent_at or alert.next_attempt_at or alert.created_at
            style = "bold red" if alert.status == "failed" else ""
            cells = (
                f"{MARKS.get(alert.status, '')} {alert.status}",
                alert.ref,
                alert.due_on.isoformat() if alert.due_on else "",
                alert_words(alert),
                alert.recipient,
                str(alert.attempts),
                when.strftime("%Y-%m-%d %H:%M") if when else "",
                alert.last_error or "",
            )
            table.add_row(*(Text(c, style=style, no_wrap=True) for c in cells), key=alert.id)
        empty = not message.alerts
        self.set_class(empty, "-empty")
        self.query_one("#alerts-empty", Static).update(
            explain(self.ctx.settings, self.status) if empty else ""
        )
        self._detail(message.alerts[0] if message.alerts else None)

    def _count(self, counts: Mapping[str, int], shown: int) -> None:
        """The counts on the tabs and in the status line."""
        self.counts = dict(counts)
        tabs = self.query_one("#alert-tabs", Tabs)
        for key, label in TABS.items():
            number = sum(counts.values()) if key == "all" else counts.get(key, 0)
            tabs.query_one(f"#alerts-{key}", Tab).label = f"{label} {number}"
        more = f" (the newest {SHOWN})" if shown >= SHOWN else ""
        self.query_one(StatusLine).say(
            f"{TABS[self.status]}: {shown} shown{more}, newest first · {counts.get('pending', 0)} waiting "
            f"to be sent · {counts.get('failed', 0)} failed"
        )

    def _detail(self, alert: AlertRow | None) -> None:
        """The highlighted alert in full: what to do, how it was sent, what went wrong."""
        if alert is None:
            self.query_one("#alert-detail", Static).update("")
            return
        action = alert.payload.get("action")
        parts = [f"{alert.ref} " if alert.ref else "", alert_words(alert)]
        parts.append(f" · {action}" if action else "")
        parts.append(f" · {channel_words(alert)}")
        parts.append(f" · {alert.last_error}" if alert.last_error else "")
        self.query_one("#alert-detail", Static).update("".join(parts))

    @on(DataTable.RowHighlighted, "#alerts")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._detail(_row(self._shown, event.row_key.value))

    def on_store_failed(self, message: StoreFailed) -> None:
        """The outbox could not be read."""
        self.query_one(StatusLine).refuse(message.message)

    @on(Tabs.TabActivated, "#alert-tabs")
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        self.status = (event.tab.id or "alerts-pending").removeprefix("alerts-")
        self._shown = None
        self.poll()

    @on(DataTable.RowSelected, "#alerts")
    def _open_case(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = _row(self._shown, event.row_key.value)
        if row is not None and row.ref:
            open_case(self.app, self.ctx, row.ref)

    def action_refresh(self) -> None:
        """Read the outbox again now."""
        self._shown = None
        self.poll()


def _row(rows: list[AlertRow] | None, key: Any) -> AlertRow | None:
    return next((a for a in rows or [] if a.id == key), None)
