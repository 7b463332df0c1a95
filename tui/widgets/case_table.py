"""The case list table: one row per case, most urgent first, coloured *and* marked by urgency.

Used by the cases screen, which owns the paging; this widget only draws the rows it is given, keeps the
cursor on the same case across refreshes, and fits its columns to the terminal's width (80 columns up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from textual import events

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.rules import RulePack
from tracker.store import CaseSummary
from tui.widgets.row_table import Column, Row, RowTable
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


class CaseTable(RowTable):
    """The case list. `show()` replaces the rows; the cursor stays on the same case if it is still listed."""

    DEFAULT_CSS = """
    CaseTable { height: 1fr; }
    """

    def __init__(self, *, table_id: str | None = None) -> None:
        super().__init__(table_id=table_id)
        self._summaries: list[CaseSummary] = []
        self._fit_width = 0

    @property
    def summaries(self) -> list[CaseSummary]:
        """The rows shown, in order."""
        return list(self._summaries)

    @property
    def current_ref(self) -> str | None:
        """The reference of the case under the cursor."""
        return self.cursor_key

    def on_resize(self, event: events.Resize) -> None:
        """Refit the columns when the terminal's width changes."""
        width = event.size.width
        if width > 0 and width != self._fit_width:
            self._fit_width = width
            self.set_columns(
                [
                    Column(name, _TITLES[name], size, ellipsis=True)
                    for name, size in column_widths(width).items()
                ]
            )

    def show(
        self,
        rows: Sequence[CaseSummary],
        today: dt.date,
        calendar: WorkingCalendar,
        packs: dict[str, RulePack],
    ) -> None:
        """Replace the rows, keeping the cursor on the same case if it is still listed."""
        self._summaries = list(rows)
        colours = self.app.theme_variables
        self.set_rows([_row(summary, today, calendar, packs, colours) for summary in rows])


def _row(
    summary: CaseSummary,
    today: dt.date,
    calendar: WorkingCalendar,
    packs: Mapping[str, RulePack],
    colours: Mapping[str, str],
) -> Row:
    pack = packs.get(summary.pack)
    level, left = urgency(summary.next_due_on, today, calendar)
    label = pack.label if pack else _plain
    clock = pack.clocks.get(summary.next_clock or "") if pack else None
    marker = MARKERS[level]
    left_text = days_left(left, level is Urgency.BREACHED)
    cells = (
        summary.ref,
        label(summary.case_type),
        label(summary.state),
        clock.kpi if clock else (summary.next_clock or ""),
        summary.next_due_on.isoformat() if summary.next_due_on else "",
        f"{marker:<3}{left_text}" if marker else f"   {left_text}",
        summary.owner or "",
    )
    return Row(summary.ref, cells, urgency_style(colours, level))


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
