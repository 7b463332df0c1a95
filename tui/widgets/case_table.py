"""The case list table: one row per case, most urgent first, coloured *and* marked by urgency.

Used by the cases screen, which owns the paging; this widget only draws the rows it is given, keeps the
cursor on the same case across refreshes, and fits its columns to the terminal's width (80 columns up):
each column is as wide as its widest text where the terminal has room, and where it has not the long
texts (the next action above all) share what is left, so a short one is never cut to make room. Below
`NARROW` columns the type and the caseworker leave the table for the line under it (`detail_words`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from textual import events

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.rules import RulePack
from tracker.store import CaseSummary
from tui.widgets.row_table import Column, Row, RowTable
from tui.words import MARKERS, Urgency, time_left

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
NARROW = 100
"""Below this many columns the caseworker leaves the table for the line under it, as the type does
whenever it would not fit whole."""
_WHOLE = ("ref", "due", "left")
"""Columns never cut: the reference, the date and the time left are read whole or not at all."""
_FIRST = ("state", "owner")
"""Given their whole width before the next action, as far as the room allows (with `_MINIMUM` kept for it)."""
_MINIMUM = 6
_CHROME = 4
"""Cells of each line taken by the table's border and its scroll bar."""


def fit_columns(total: int, natural: Mapping[str, int]) -> dict[str, int]:
    """The columns shown in a table `total` cells wide and their widths, from each one's widest text.

    The reference, the due date and the time left are never cut; the state and the caseworker come next,
    then the next action takes the rest. The type is shown only when every column fits whole beside it,
    and the caseworker only from `NARROW` columns: the line under the table says both."""
    names = [n for n in _COLUMNS if n in natural and not (n == "owner" and total < NARROW)]
    if sum(natural[n] + 2 for n in names) + _CHROME > total:
        names.remove("type")
    room = (
        total
        - _CHROME
        - sum(natural[n] + 2 for n in names if n in _WHOLE)
        - 2 * len([n for n in names if n not in _WHOLE])
    )
    widths = {n: natural[n] for n in names if n in _WHOLE or n == "type"}
    room -= widths.get("type", 0)
    for name in (n for n in _FIRST if n in names):
        widths[name] = max(min(natural[name], room - _MINIMUM), min(_MINIMUM, natural[name]))
        room -= widths[name]
    widths["next"] = max(min(natural["next"], room), min(_MINIMUM, natural["next"]))
    return {n: widths[n] for n in names}


class CaseTable(RowTable):
    """The case list. `show()` replaces the rows; the cursor stays on the same case if it is still listed."""

    DEFAULT_CSS = """
    CaseTable { height: 1fr; }
    """

    def __init__(self, *, table_id: str | None = None) -> None:
        super().__init__(table_id=table_id)
        self._summaries: list[CaseSummary] = []
        self._cells: list[dict[str, str]] = []
        self._made: list[tuple[dict[str, str], str]] = []
        self._fit_width = 0
        self._fit_for: tuple[int, dict[str, int]] | None = None

    @property
    def summaries(self) -> list[CaseSummary]:
        """The rows shown, in order."""
        return list(self._summaries)

    @property
    def current_ref(self) -> str | None:
        """The reference of the case under the cursor."""
        return self.cursor_key

    @property
    def current(self) -> dict[str, str] | None:
        """Every cell of the row under the cursor by column, those left out of a narrow table included."""
        return self._cells[self.cursor_row] if self._cells else None

    def on_resize(self, event: events.Resize) -> None:
        """Refit the columns when the terminal's width changes."""
        width = event.size.width
        if width > 0 and width != self._fit_width:
            self._fit_width = width
            if self._refit():
                self._draw_rows()

    def show(
        self,
        rows: Sequence[CaseSummary],
        today: dt.date,
        calendar: WorkingCalendar,
        packs: dict[str, RulePack],
        *,
        cursor: int | None = None,
    ) -> None:
        """Replace the rows, keeping the cursor on the same case if it is still listed (unless `cursor`
        places it: the first row for another view)."""
        self._summaries = list(rows)
        colours = self.app.theme_variables
        self._made = [_row(summary, today, calendar, packs, colours) for summary in rows]
        self._cells = [cells for cells, _style in self._made]
        self._refit()
        self._draw_rows(cursor)

    def _draw_rows(self, cursor: int | None = None) -> None:
        """Give the table the cells of the columns it shows (after new rows, or new columns)."""
        shown = self._shown_columns()
        self.set_rows(
            [
                Row(summary.ref, tuple(cells[name] for name in shown), style)
                for summary, (cells, style) in zip(self._summaries, self._made, strict=True)
            ],
            cursor=cursor,
        )

    def _shown_columns(self) -> tuple[str, ...]:
        if self._fit_for is None:
            return _COLUMNS
        return tuple(self._fit_for[1])

    def _refit(self) -> bool:
        """Fit the columns to the width and the texts; True if they changed."""
        if self._fit_width <= 0:
            return False
        natural = {
            name: max([cell_len(_TITLES[name]), *(cell_len(cells[name]) for cells in self._cells)])
            for name in _COLUMNS
        }
        widths = fit_columns(self._fit_width, natural)
        if self._fit_for == (self._fit_width, widths):
            return False
        self._fit_for = (self._fit_width, widths)
        self.set_columns([Column(name, _TITLES[name], widths[name], ellipsis=True) for name in widths])
        return True


def detail_words(cells: Mapping[str, str]) -> str:
    """The row under the cursor in full, for the line under the table: whose, what next, by when (two
    lines of an 80-column terminal hold it, with the type and caseworker a narrow table leaves out)."""
    who = " · ".join(part for part in (cells["ref"], cells["type"], cells["owner"]) if part)
    if not cells["next"]:
        return f"{who}: no clock running"
    left = cells["left"].lstrip("! ")
    return f"{who}: {cells['next']}, due {cells['due']}, {left}"


def _row(
    summary: CaseSummary,
    today: dt.date,
    calendar: WorkingCalendar,
    packs: Mapping[str, RulePack],
    colours: Mapping[str, str],
) -> tuple[dict[str, str], str]:
    pack = packs.get(summary.pack)
    label = pack.label if pack else _plain
    clock = pack.clocks.get(summary.next_clock or "") if pack else None
    level, left_text = time_left(summary.next_due_on, today, calendar, clock)
    marker = MARKERS[level]
    cells = {
        "ref": summary.ref,
        "type": label(summary.case_type),
        "state": label(summary.state),
        "next": (clock.action if clock else label(summary.next_clock)) if summary.next_clock else "",
        "due": summary.next_due_on.isoformat() if summary.next_due_on else "",
        "left": f"{marker:<3}{left_text}" if marker else f"   {left_text}",
        "owner": summary.owner or "",
    }
    return cells, urgency_style(colours, level)


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
