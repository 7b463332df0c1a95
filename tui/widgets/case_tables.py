"""The case screen's two tables: its clocks (due, stopped, status, exception) and its timeline of events.

Each `show()`s a case as read from the store; the case screen owns the reading and the actions. Urgency is
a marker and a style, voided events are struck through and say why (the words come from `tui.words` and
`tracker.views.clock_json`, as on the command line).
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.widgets import DataTable

from tracker.calendar import WorkingCalendar
from tracker.events import Event
from tracker.rules import RulePack
from tracker.store import CaseRecord
from tracker.views import clock_json
from tui.widgets.case_table import urgency_style
from tui.words import MARKERS, Urgency, days_left, event_details, urgency

CLOCK_WIDTH = {True: 18, False: 30}
"""Width of the clock names in narrow and wide terminals."""


class ClockTable(DataTable[Text]):
    """Every clock a case has had, superseded ones included."""

    def __init__(self, *, table_id: str | None = None) -> None:
        super().__init__(id=table_id, cursor_type="row", zebra_stripes=True)
        self.border_title = "Clocks"

    def fit(self, narrow: bool) -> None:
        """(Re)create the columns for a narrow or a wide terminal."""
        self.clear(columns=True)
        self.add_column("Clock", key="clock", width=CLOCK_WIDTH[narrow])
        for title in ("Due", "Status", "Left", "Stopped", "Exception"):
            self.add_column(title, key=title.lower())

    def show(self, record: CaseRecord, pack: RulePack, today: dt.date, calendar: WorkingCalendar) -> None:
        """Replace the rows with the case's clocks as of `today`."""
        self.clear()
        for clock in record.state.clocks:
            view = clock_json(clock, today, calendar)
            level, left = urgency(clock.due_on, today, calendar) if clock.open else (Urgency.NONE, None)
            marker = MARKERS[level]
            stopped = view["stopped_on"] or (
                f"{pack.label(view['ended_by'])} {view['ended_on']}" if view["ended_on"] else ""
            )
            exception = view["exception"]
            style = urgency_style(self.app.theme_variables, level)
            cells = (
                f"{clock.spec.kpi} {clock.spec.title}" + (f" #{clock.number}" if clock.number > 1 else ""),
                view["due_on"],
                f"{marker} {view['status']}" if marker else view["status"],
                days_left(left, level is Urgency.BREACHED),
                stopped,
                pack.label(exception["reason"]) if exception else "",
            )
            self.add_row(
                *(Text(str(c), style=style, overflow="ellipsis", no_wrap=True) for c in cells),
                key=f"{clock.clock}-{clock.number}",
            )


class Timeline(DataTable[Text]):
    """Every event of a case in order, voided ones struck through with the reason."""

    def __init__(self, *, table_id: str | None = None) -> None:
        super().__init__(id=table_id, cursor_type="row", zebra_stripes=True)
        self.border_title = "Timeline"
        self._events: tuple[Event, ...] = ()

    def on_mount(self) -> None:
        """The columns; details last, as they are the longest."""
        for title, key in (
            ("#", "seq"),
            ("On", "on"),
            ("Event", "event"),
            ("By", "by"),
            ("Details", "details"),
        ):
            self.add_column(title, key=key)

    @property
    def current_event(self) -> Event | None:
        """The event under the cursor."""
        if not 0 <= self.cursor_row < len(self._events):
            return None
        return self._events[self.cursor_row]

    def show(self, record: CaseRecord, pack: RulePack) -> None:
        """Replace the rows; the cursor stays where it was, or starts on the latest event."""
        keep = self.cursor_row if self._events else -1
        self._events = record.events
        self.clear()
        for event in record.events:
            reason = record.state.voided.get(event.seq)
            style = "strike dim" if reason is not None else ""
            cells = (
                str(event.seq),
                event.on.isoformat(),
                pack.label(event.type),
                event.actor,
                event_details(pack, event, reason),
            )
            self.add_row(*(Text(c, style=style, no_wrap=True) for c in cells), key=str(event.seq))
        if record.events:
            last = len(record.events) - 1
            self.move_cursor(row=min(keep, last) if keep >= 0 else last, animate=False)

    def forget(self) -> None:
        """Empty the table (another case is about to be shown)."""
        self._events = ()
        self.clear()
