"""The case list table: one row per case, most urgent first, coloured *and* marked by urgency.

Used by the cases screen, which owns the paging; this widget only draws the rows it is given, keeps the
cursor on the same case across refreshes, and fits its columns to the terminal's width (80 columns up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.widgets import DataTable

from tracker.calendar import WorkingCalendar
from tracker.rules import RulePack
from tracker.store import CaseSummary
from tui.words import MARKERS, Urgency, days_left, urgency

_COLUMNS = ("ref", "type", "state", "next", "due", "left", "owner")
_TITLES = {
    "ref": "Ref",
    "type": "Type",
    "state": "State",
    "next": "Next",
    "due": "Due",
    "left": "Left",
    "owner": "Caseworker",
}
_FIXED = {"ref": 8, "next": 7, "due": 10, "left": 10}
_SHARES = {"type": 0.28, "state": 0.42, "owner": 0.30}
_CAPS = {"type": 24, "state": 24, "owner": 24}


def column_widths(total: int) -> dict[str, int]:
    """Widths that fit `total` cells: fixed columns first, the rest shared by type, state and caseworker."""
    padding = 2 * len(_COLUMNS) + 4  # a cell either side of each column, the border and the scroll bar
    free = max(total - padding - sum(_FIXED.values()), 24)
    widths = dict(_FIXED)
    for name, share in _SHARES.items():
        widths[name] = min(max(int(free * share), 6), _CAPS[name])
    # what rounding left over goes to the caseworker's name
    widths["owner"] = min(max(free - widths["type"] - widths["state"], 6), _CAPS["owner"])
    return {name: widths[name] for name in _COLUMNS}


class CaseTable(DataTable[Text]):
    """The case list. `show()` replaces the rows; the cursor stays on the same case if it is still listed."""

    DEFAULT_CSS = """
    CaseTable { height: 1fr; }
    """

    fit_width: reactive[int] = reactive(0)
    """The width the columns were last fitted to; changing it rebuilds the columns."""

    def __init__(self, *, table_id: str | None = None) -> None:
        super().__init__(id=table_id, cursor_type="row", zebra_stripes=True)
        self._rows: list[CaseSummary] = []
        self._today = dt.date.min
        self._calendar: WorkingCalendar | None = None
        self._packs: dict[str, RulePack] = {}

    @property
    def summaries(self) -> list[CaseSummary]:
        """The rows shown, in order."""
        return list(self._rows)

    @property
    def current_ref(self) -> str | None:
        """The reference of the case under the cursor."""
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row].ref

    def on_resize(self, event: events.Resize) -> None:
        """Refit the columns when the terminal's width changes."""
        self.fit_width = event.size.width

    def watch_fit_width(self, width: int) -> None:
        """Rebuild the columns for the new width and redraw the rows."""
        if width <= 0:
            return
        self.clear(columns=True)
        for name, size in column_widths(width).items():
            self.add_column(_TITLES[name], width=size, key=name)
        self._draw(self.current_ref)

    def show(
        self,
        rows: Sequence[CaseSummary],
        today: dt.date,
        calendar: WorkingCalendar,
        packs: dict[str, RulePack],
    ) -> None:
        """Replace the rows, keeping the cursor on the same case if it is still listed."""
        keep = self.current_ref
        self._rows = list(rows)
        self._today, self._calendar, self._packs = today, calendar, packs
        self._draw(keep)

    def _draw(self, keep: str | None) -> None:
        if not self.columns or self._calendar is None:
            return
        cursor = self.cursor_row
        self.clear()
        for summary in self._rows:
            self.add_row(*self._cells(summary), key=summary.ref)
        if not self._rows:
            return
        refs = [s.ref for s in self._rows]
        row = refs.index(keep) if keep in refs else min(max(cursor, 0), len(refs) - 1)
        self.move_cursor(row=row, animate=False)

    def _cells(self, summary: CaseSummary) -> list[Text]:
        assert self._calendar is not None
        pack = self._packs.get(summary.pack)
        level, left = urgency(summary.next_due_on, self._today, self._calendar)
        style = self._style(level)
        label = pack.label if pack else _plain
        clock = pack.clocks.get(summary.next_clock or "") if pack else None
        marker = MARKERS[level]
        left_text = days_left(left, level is Urgency.BREACHED)
        values = [
            summary.ref,
            label(summary.case_type),
            label(summary.state),
            clock.kpi if clock else (summary.next_clock or ""),
            summary.next_due_on.isoformat() if summary.next_due_on else "",
            f"{marker:<3}{left_text}" if marker else f"   {left_text}",
            summary.owner or "",
        ]
        return [Text(value, style=style, overflow="ellipsis", no_wrap=True) for value in values]

    def _style(self, level: Urgency) -> str:
        return urgency_style(self.app.theme_variables, level)


def urgency_style(colours: Mapping[str, str], level: Urgency) -> str:
    """The Rich style of a row or cell of this urgency, in the theme's error and warning colours."""
    if level is Urgency.BREACHED:
        return f"bold {colours.get('error', 'red')}"
    if level is Urgency.SOON:
        return f"bold {colours.get('warning', 'yellow')}"
    if level is Urgency.NONE:
        return "dim"
    return ""


def _plain(value: str) -> str:
    return value.replace("_", " ").capitalize()
