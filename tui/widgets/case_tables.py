"""The case screen's two tables: its clocks (due, stopped, status, exception) and its timeline of events.

Each `show()`s a case as read from the store; the case screen owns the reading and the actions. Urgency is
a marker and a style, voided events are struck through and say why (the words come from `tui.words` and
`tracker.reports.views.clock_json`, as on the command line).
"""

from __future__ import annotations

import datetime as dt

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.events import Event
from tracker.domain.rules import RulePack
from tracker.reports.views import clock_json
from tracker.store import CaseRecord
from tui.widgets.case_table import urgency_style
from tui.widgets.row_table import Column, Row, RowTable
from tui.words import MARKERS, Urgency, event_details, time_left

CLOCK_WIDTH = {True: 18, False: 28}
"""Width of the clock names in narrow and wide terminals (a longer one ends with "…": at 120 columns the
due, status, left and stopped columns come first)."""
_CLOCK_TITLES = ("Due", "Status", "Left", "Stopped", "Exception")


class ClockTable(RowTable):
    """Every clock a case has had, superseded ones included."""

    def __init__(self, *, table_id: str | None = None) -> None:
        super().__init__(table_id=table_id)
        self.border_title = "Clocks"

    def fit(self, narrow: bool) -> None:
        """(Re)create the columns for a narrow or a wide terminal."""
        self.set_columns(
            [
                Column("clock", "Clock", CLOCK_WIDTH[narrow], ellipsis=True),
                *(Column(title.lower(), title, ellipsis=True) for title in _CLOCK_TITLES),
            ]
        )

    def show(self, record: CaseRecord, pack: RulePack, today: dt.date, calendar: WorkingCalendar) -> None:
        """Replace the rows with the case's clocks as of `today`."""
        colours = self.app.theme_variables
        rows = []
        for clock in record.state.clocks:
            view = clock_json(clock, today, calendar)
            level, left = (
                time_left(clock.due_on, today, calendar, clock.spec) if clock.open else (Urgency.NONE, "")
            )
            marker = MARKERS[level]
            stopped = view["stopped_on"] or (
                f"{pack.label(view['ended_by'])} {view['ended_on']}" if view["ended_on"] else ""
            )
            exception = view["exception"]
            cells = (
                f"{clock.spec.kpi} {clock.spec.title}" + (f" #{clock.number}" if clock.number > 1 else ""),
                view["due_on"],
                f"{marker} {view['status']}" if marker else view["status"],
                left,
                stopped,
                pack.label(exception["reason"]) if exception else "",
            )
            rows.append(
                Row(f"{clock.clock}-{clock.number}", tuple(map(str, cells)), urgency_style(colours, level))
            )
        self.set_rows(rows)


class Timeline(RowTable):
    """Every event of a case in order, voided ones struck through with the reason."""

    def __init__(self, *, table_id: str | None = None) -> None:
        super().__init__(table_id=table_id)
        self.border_title = "Timeline"
        self._events: tuple[Event, ...] = ()
        # the columns; details last, as they are the longest
        self.set_columns(
            [
                Column("seq", "#"),
                Column("on", "On"),
                Column("event", "Event"),
                Column("by", "By"),
                Column("details", "Details"),
            ]
        )

    @property
    def current_event(self) -> Event | None:
        """The event under the cursor."""
        if not 0 <= self.cursor_row < len(self._events):
            return None
        return self._events[self.cursor_row]

    def show(self, record: CaseRecord, pack: RulePack) -> None:
        """Replace the rows; the cursor stays where it was, or starts on the latest event."""
        keep = self.cursor_row if self._events else len(record.events) - 1
        self._events = record.events
        rows = []
        for event in record.events:
            reason = record.state.voided.get(event.seq)
            cells = (
                str(event.seq),
                event.on.isoformat(),
                pack.label(event.type),
                event.actor,
                event_details(pack, event, reason),
            )
            rows.append(Row(str(event.seq), cells, "strike dim" if reason is not None else ""))
        self.set_rows(rows, cursor=keep)

    def forget(self) -> None:
        """Empty the table (another case is about to be shown)."""
        self._events = ()
        self.clear()
