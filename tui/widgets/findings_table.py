"""The compliance screen's breaches and exceptions: each clock breached or excepted, and how late it was.

The rows are the report's listed clock lines (`ClockLines.listed`, the export's "Breaches and exceptions"
sheet), never a second selection. Days late count as the clock itself counts: working days for a clock
due a number of working days after (or before) its start, calendar days for one due a number of calendar
days after; from the due date to the day the clock stopped, or to the as-of date while it is still open.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.widgets import DataTable

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.clocks import ClockStatus
from tracker.domain.compliance import ClockLine, ComplianceReport
from tracker.domain.rules import PackRegistry
from tui.widgets.case_table import urgency_style
from tui.words import Urgency

COLUMNS = ("Ref", "KPI", "Due", "Status", "Late", "Stopped", "Reason", "Caseworker")


def days_late(
    line: ClockLine, as_of: dt.date, packs: PackRegistry, pack_id: str, calendar: WorkingCalendar
) -> str:
    """How late a breached clock was, in its own kind of days ("3 working days", "5 calendar days")."""
    if line.status is not ClockStatus.BREACHED:
        return ""
    end = min(line.stopped_on or line.ended_on or as_of, as_of)
    version = next((p for p in packs.versions(pack_id) if p.version == line.pack_version), None)
    spec = (version or packs.latest(pack_id)).clocks.get(line.clock)
    if spec is not None and spec.due.calendar_days_after is not None:
        late, kind = (end - line.due_on).days, "calendar"
    else:
        late, kind = calendar.working_days_between(line.due_on, end), "working"
    return f"{late} {kind} day{'' if late == 1 else 's'}"


class FindingsTable(DataTable[Text]):
    """Breached and excepted clocks with days late; a row's key is `ref|clock|number`."""

    def on_mount(self) -> None:
        """The columns."""
        for title in COLUMNS:
            self.add_column(title, key=title.lower())

    def show(
        self, report: ComplianceReport, packs: PackRegistry, calendar: WorkingCalendar
    ) -> list[ClockLine]:
        """Show the report's breaches and exceptions (in its order); returns the lines shown."""
        self.clear()
        colours = self.app.theme_variables
        shown = list(report.clocks.listed())
        for line in shown:
            breached = line.status is ClockStatus.BREACHED
            style = urgency_style(colours, Urgency.BREACHED) if breached else ""
            stopped = line.stopped_on or line.ended_on
            cells = (
                line.ref,
                line.kpi,
                line.due_on.isoformat(),
                ("!! " if breached else "") + line.status.value,
                days_late(line, report.as_of, packs, report.pack_id, calendar),
                stopped.isoformat() if stopped else "not yet",
                report.label(line.exception_reason),
                line.owner or "",
            )
            self.add_row(*(Text(c, style=style) for c in cells), key=f"{line.ref}|{line.clock}|{line.number}")
        return shown
