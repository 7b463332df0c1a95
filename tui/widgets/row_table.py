"""A read-only table of one-line rows with a row cursor, drawn line by line with Textual's line API.

The case list, a case's clocks and its timeline are all such tables. Textual's `DataTable` renders every
cell through Rich (padding, measuring, cropping: about a third of a millisecond a cell) and asks for a new
layout of the whole screen for each row added, which made a filter keystroke or the opening of a case
spend most of its time drawing. Here a row is its cells as plain strings and one Rich style: a line is
built from a few segments when it is drawn, and replacing the rows repaints only this widget (a layout is
asked for only when the number of rows changes, as an `auto` height then may too).

It looks like a `DataTable` with `cursor_type="row"` and zebra stripes (the same component classes, under
this widget's name) and behaves like one for the keyboard and the mouse: the cursor keys, page up and
down, home and end move the cursor (and, as in less and vim, j and k, g and G), Enter or a click selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["Column", "Row", "RowMessage", "RowTable"]

_PADDING = 1
"""Blank cells either side of each column's text, as in a DataTable."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its key, its title and its width in cells (None: as wide as its widest text)."""

    key: str
    title: str
    width: int | None = None
    ellipsis: bool = False
    """End text that does not fit with "…" (else it is cut off)."""


@dataclass(frozen=True, slots=True)
class Row:
    """A row: a key unique in the table, the text of each cell, and a Rich style for the text."""

    key: str
    cells: tuple[str, ...]
    style: str = ""


@dataclass
class RowMessage(Message):
    """A message about one row of a `RowTable`: `RowTable.Highlighted` and `RowTable.Selected`."""

    table: RowTable
    row: int
    """The row's index."""
    key: str
    """The row's key."""

    @property
    def control(self) -> RowTable:
        """The table, so that a handler can be picked by a selector: `@on(..., "#cases")`."""
        return self.table


class RowTable(ScrollView, can_focus=True):
    """A table of one-line rows with a row cursor.

    Args:
        table_id: The widget's id.
    """

    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up,k", "cursor_up", "Cursor up", show=False),
        Binding("down,j", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home,g", "first", "First row", show=False),
        Binding("end,ctrl+end,G", "last", "Last row", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "row-table--header",
        "row-table--cursor",
        "row-table--hover",
        "row-table--even-row",
        "row-table--odd-row",
    }

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .row-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .row-table--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark {
            & > .row-table--even-row {
                background: $surface-darken-1 40%;
            }
        }
        & > .row-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-table--odd-row {
        }
        & > .row-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .row-table--hover {
            background: $block-hover-background;
        }
    }
    """

    class Highlighted(RowMessage):
        """The cursor moved to another row (or new rows came under it)."""

    class Selected(RowMessage):
        """A row was chosen: Enter on it, or a click."""

    def __init__(self, *, table_id: str | None = None) -> None:
        super().__init__(id=table_id)
        self._columns: tuple[Column, ...] = ()
        self._widths: tuple[int, ...] = ()
        self._rows: tuple[Row, ...] = ()
        self._cursor = 0
        self._hover: int | None = None
        self._styles: dict[object, Style] = {}
        self._lines: dict[tuple[int, bool, bool], Strip] = {}
        self._drawn_for: tuple[int, bool] = (0, False)
        self._base = Style()

    # ------------------------------------------------------------------ data

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns, left to right."""
        return self._columns

    @property
    def rows(self) -> tuple[Row, ...]:
        """The rows, top to bottom."""
        return self._rows

    @property
    def row_count(self) -> int:
        """How many rows the table holds."""
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        """The index of the row under the cursor (0 when the table is empty)."""
        return self._cursor

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor."""
        return self._rows[self._cursor].key if self._rows else None

    def row(self, key: str) -> Row:
        """The row with this key; raises KeyError."""
        for row in self._rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def get_row(self, key: str) -> tuple[str, ...]:
        """The cells of the row with this key; raises KeyError."""
        return self.row(key).cells

    def cell(self, row: int, column: str) -> str:
        """The text of one cell, by row index and column key."""
        index = next(i for i, c in enumerate(self._columns) if c.key == column)
        return self._rows[row].cells[index]

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Replace the columns (the rows are kept, and should have one cell per column)."""
        self._columns = tuple(columns)
        self._fit()

    def set_rows(self, rows: Sequence[Row], *, cursor: int | None = None) -> None:
        """Replace the rows. The cursor stays on the row with the same key if there is one, else at the
        same index (within the rows), unless `cursor` places it."""
        keep = self.cursor_key
        self._rows = tuple(rows)
        if cursor is None:
            keys = [row.key for row in self._rows]
            cursor = keys.index(keep) if keep in keys else self._cursor
        self._cursor = min(max(cursor, 0), max(len(self._rows) - 1, 0))
        self._hover = None
        self._fit()
        self._scroll_to_cursor()
        if self._rows:
            self.post_message(self.Highlighted(self, self._cursor, self._rows[self._cursor].key))

    def clear(self) -> None:
        """Remove every row."""
        self.set_rows(())

    def move_cursor(self, row: int) -> None:
        """Put the cursor on a row (clamped to the rows) and bring it into view."""
        if not self._rows:
            return
        row = min(max(row, 0), len(self._rows) - 1)
        self._hover = None
        if row != self._cursor:
            old, self._cursor = self._cursor, row
            self._refresh_row(old)
            self._refresh_row(row)
            self.post_message(self.Highlighted(self, row, self._rows[row].key))
        self._scroll_to_cursor()

    def _fit(self) -> None:
        """Work out the column widths and the virtual size, and repaint."""
        widths = []
        for index, column in enumerate(self._columns):
            if column.width is not None:
                widths.append(column.width)
                continue
            texts = [row.cells[index] for row in self._rows if index < len(row.cells)]
            widths.append(max([cell_len(column.title), *map(cell_len, texts)]))
        self._widths = tuple(widths)
        self._lines.clear()
        width = sum(widths) + 2 * _PADDING * len(widths)
        self.virtual_size = Size(width, len(self._rows) + 1)
        self.refresh()

    # ------------------------------------------------------------------ drawing

    def notify_style_update(self) -> None:
        """The CSS changed (focus, theme): forget the styles and lines drawn with the old one."""
        super().notify_style_update()
        self._styles.clear()
        self._lines.clear()

    def _style(self, key: object) -> Style:
        style = self._styles.get(key)
        if style is None:
            if isinstance(key, str) and key.startswith("row-table--"):
                style = self.get_component_rich_style(key)
            else:
                style = Style.parse(str(key)) if key else Style()
            self._styles[key] = style
        return style

    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw the lines in `crop`, having forgotten lines drawn for another width or focus."""
        state = (self.size.width, self.has_focus)
        if state != self._drawn_for:
            self._drawn_for = state
            self._styles.clear()
            self._lines.clear()
        self._base = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """The header on the first line; the rows below it, scrolled."""
        scroll_x, scroll_y = self.scroll_offset
        width = self._drawn_for[0]
        if y == 0:
            key = (-1, False, False)
            line = self._lines.get(key)
            if line is None:
                line = self._lines[key] = self._header_line()
        else:
            index = y - 1 + scroll_y
            if index >= len(self._rows):
                return Strip.blank(width, self._base)
            key = (index, index == self._cursor, index == self._hover)
            line = self._lines.get(key)
            if line is None:
                line = self._lines[key] = self._row_line(index)
        if scroll_x == 0 and line.cell_length == width:
            return line
        return line.crop_extend(scroll_x, scroll_x + width, self._base)

    def _header_line(self) -> Strip:
        style = self._style("row-table--header")
        text = "".join(
            _fit(column.title, width, False, padded=True)
            for column, width in zip(self._columns, self._widths, strict=True)
        )
        return self._line([(text, style)], style)

    def _row_line(self, index: int) -> Strip:
        row = self._rows[index]
        base = self._style("row-table--odd-row" if index % 2 else "row-table--even-row")
        over = Style()
        if index == self._hover:
            base += self._style("row-table--hover")
        if index == self._cursor:
            cursor = self._style("row-table--cursor")
            base += cursor
            # As in a DataTable, the cursor's colour wins over the row's (a row's background would win).
            over = Style.from_color(color=cursor.color)
        pad = base + over
        text = base + self._style(row.style) + over
        if text == pad:
            text = pad
        parts: list[tuple[str, Style]] = []
        blank = " " * _PADDING
        for column, width, value in zip(self._columns, self._widths, row.cells, strict=False):
            parts += [(blank, pad), (_fit(value, width, column.ellipsis, padded=False), text), (blank, pad)]
        return self._line(parts, base)

    def _line(self, parts: list[tuple[str, Style]], fill: Style) -> Strip:
        """A line of these pieces (neighbours in one style joined), drawn on in `fill` to the full width."""
        used = sum(self._widths) + 2 * _PADDING * len(self._widths)
        rest = max(self._drawn_for[0] - used, 0)
        if rest:
            parts.append((" " * rest, fill))
        segments: list[Segment] = []
        text, style = parts[0] if parts else ("", fill)
        for more, more_style in parts[1:]:
            if more_style is style:
                text += more
            else:
                segments.append(Segment(text, style))
                text, style = more, more_style
        segments.append(Segment(text, style))
        return Strip(segments, used + rest)

    def _refresh_row(self, index: int) -> None:
        for key in [key for key in self._lines if key[0] == index]:
            del self._lines[key]
        self.refresh_line(index + 1)

    # ------------------------------------------------------------------ scrolling and the keys

    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        visible = self._visible_rows()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False)

    def action_cursor_up(self) -> None:
        """The row above."""
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        """The row below."""
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        """A screenful up."""
        self.move_cursor(self._cursor - self._visible_rows())

    def action_page_down(self) -> None:
        """A screenful down."""
        self.move_cursor(self._cursor + self._visible_rows())

    def action_first(self) -> None:
        """The first row."""
        self.move_cursor(0)

    def action_last(self) -> None:
        """The last row."""
        self.move_cursor(len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        """Choose the row under the cursor."""
        if self._rows:
            self.post_message(self.Selected(self, self._cursor, self._rows[self._cursor].key))

    # ------------------------------------------------------------------ the mouse

    def _row_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return None
        index = offset.y - 1 + round(self.scroll_y)
        return index if index < len(self._rows) else None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """Highlight the row under the mouse pointer."""
        self._set_hover(self._row_at(event))

    def on_leave(self, _event: events.Leave) -> None:
        """The pointer left: no row is under it."""
        self._set_hover(None)

    def _set_hover(self, index: int | None) -> None:
        if index != self._hover:
            old, self._hover = self._hover, index
            for row in (old, index):
                if row is not None:
                    self._refresh_row(row)

    def on_click(self, event: events.Click) -> None:
        """A click on a row moves the cursor there and chooses the row."""
        index = self._row_at(event)
        if index is None:
            return
        event.stop()
        self.move_cursor(index)
        self.action_select_cursor()


def _fit(text: str, width: int, ellipsis: bool, *, padded: bool) -> str:
    """`text` cut (or ended with "…") or filled with spaces to exactly `width` cells (plus the padding)."""
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…" if ellipsis and width > 0 else set_cell_size(text, width)
    else:
        text = text + " " * (width - cell_len(text))
    return f" {text} " if padded else text
