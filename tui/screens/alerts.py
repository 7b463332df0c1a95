"""The alert outbox: pending, sent, failed (and cancelled) alerts, newest first.

Read with `tracker.alerts.outbox.list_alerts` in a thread worker and refreshed on the LiveScreen timer. The
TUI only shows alerts: deciding and sending them is the `caseclock check`/`watch` process's job. An alert
names its case by reference; Enter opens the case.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Header, Tab, Tabs

from tracker.alerts.outbox import AlertRow, list_alerts, pending_count
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
        self._shown: list[AlertRow] | None = None

    def compose(self) -> ComposeResult:
        """Status tabs, the table, the status line."""
        yield Header()
        yield Tabs(*(Tab(label, id=f"alerts-{key}") for key, label in TABS.items()), id="alert-tabs")
        yield DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
        yield StatusLine(line_id="alerts-status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Columns, then the first read."""
        table = self.query_one("#alerts", DataTable)
        for title in ("Status", "Ref", "Clock", "Alert", "Due", "To", "Tries", "When", "Problem"):
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
            pending = pending_count(engine)
        except CaseclockError as error:
            self.post_message(StoreFailed(error.message))
            return
        self.post_message(AlertsLoaded(rows, pending))

    def on_alerts_loaded(self, message: AlertsLoaded) -> None:
        """Draw the rows (unless nothing changed)."""
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
                alert.clock,
                f"{alert.type} {alert.level}".strip(),
                alert.due_on.isoformat() if alert.due_on else "",
                alert.recipient,
                str(alert.attempts),
                when.strftime("%Y-%m-%d %H:%M") if when else "",
                alert.last_error or "",
            )
            table.add_row(*(Text(c, style=style, no_wrap=True) for c in cells), key=alert.id)
        label = TABS[self.status]
        self.query_one(StatusLine).say(
            f"{label}: {len(message.alerts)} shown (newest first) · {message.pending} waiting to be sent"
        )

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
        row = next((a for a in self._shown or [] if a.id == event.row_key.value), None)
        if row is not None and row.ref:
            open_case(self.app, self.ctx, row.ref)

    def action_refresh(self) -> None:
        """Read the outbox again now."""
        self._shown = None
        self.poll()
