"""The TUI's own widgets with Pilot, each in a small app: the row table, the key bar, the text panel."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tui.widgets.key_bar import KeyBar
from tui.widgets.row_table import Column, Row, RowTable
from tui.widgets.text_panel import TextPanel

ROWS = [Row(f"r{n}", (f"R-{n:03}", "x" * n), "bold" if n % 2 else "") for n in range(40)]


class TableApp(App[None]):
    """A row table of 40 rows, recording the table's messages."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, int, str]] = []

    def compose(self) -> ComposeResult:
        yield RowTable(table_id="table")

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        table.set_columns([Column("ref", "Ref", 5, ellipsis=True), Column("text", "Text")])
        table.set_rows(ROWS)
        table.focus()

    def on_row_table_highlighted(self, message: RowTable.Highlighted) -> None:
        self.seen.append(("highlighted", message.row, message.key))

    def on_row_table_selected(self, message: RowTable.Selected) -> None:
        self.seen.append(("selected", message.row, message.key))


def line(table: RowTable, y: int) -> str:
    return table.render_line(y).text


async def test_the_row_table_moves_its_cursor_with_the_keys_and_selects_with_enter() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RowTable)
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("pagedown")
        assert table.cursor_row > 2
        await pilot.press("end")
        assert table.cursor_key == "r39"
        assert table.scroll_y > 0  # the last row was brought into view
        await pilot.press("home", "enter")
        await pilot.pause()
        assert ("selected", 0, "r0") in app.seen
        assert ("highlighted", 39, "r39") in app.seen


async def test_the_row_table_draws_a_header_and_fits_its_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RowTable)
        await pilot.pause()
        assert line(table, 0).startswith(" Ref    Text")
        assert line(table, 1).startswith(" R-000       ")
        table.set_rows([Row("long", ("ABCDEFGH", "y"))])
        await pilot.pause()
        assert line(table, 1).startswith(" ABCD…  y")  # cut to the column's width, with an ellipsis
        assert table.get_row("long") == ("ABCDEFGH", "y")
        assert table.cell(0, "text") == "y"


async def test_the_row_table_keeps_the_cursor_on_the_same_row_when_the_rows_change() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RowTable)
        table.move_cursor(5)
        table.set_rows(ROWS[3:])  # r5 is now the third row
        assert table.cursor_key == "r5"
        table.set_rows(ROWS[:2])  # r5 is gone: the cursor stays within the rows
        assert table.cursor_row == 1
        table.clear()
        assert (table.row_count, table.cursor_key) == (0, None)
        await pilot.press("enter")
        await pilot.pause()
        assert not any(kind == "selected" for kind, _, _ in app.seen)


async def test_a_click_on_a_row_selects_it() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.click(RowTable, offset=(3, 3))  # the header, then rows 0, 1, 2
        await pilot.pause()
        assert app.seen[-1] == ("selected", 2, "r2")


class KeysScreenApp(App[None]):
    """A key bar over two bindings, one of which can be switched off."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "first", "First"),
        Binding("b", "second", "Second"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.second_enabled = True

    def compose(self) -> ComposeResult:
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "second":
            return self.second_enabled or None
        return True

    def action_first(self) -> None:
        pass

    def action_second(self) -> None:
        pass


def keys(app: App[Any]) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


async def test_the_key_bar_is_a_footer_that_rebuilds_only_when_its_keys_change() -> None:
    app = KeysScreenApp()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        assert isinstance(app.query_one(KeyBar), Footer)
        drawn = keys(app)
        assert [key.description for key in drawn[:2]] == ["First", "Second"]
        app.refresh_bindings()
        await pilot.pause()
        assert keys(app) == drawn  # the same widgets: nothing was rebuilt
        app.second_enabled = False
        app.refresh_bindings()
        await pilot.pause()
        now = keys(app)
        assert now != drawn
        assert now[1].has_class("-disabled")


class PanelApp(App[None]):
    CSS = "TextPanel { height: 3; }"

    def compose(self) -> ComposeResult:
        yield TextPanel(panel_id="panel")


async def test_the_text_panel_wraps_its_text_and_scrolls_when_it_is_taller() -> None:
    app = PanelApp()
    async with app.run_test(size=(20, 4)) as pilot:
        panel = app.query_one(TextPanel)
        panel.update(Text("one two three four five six seven eight nine ten eleven twelve\n"))
        await pilot.pause()
        assert panel.virtual_size.height > 3
        assert panel.max_scroll_y > 0
        assert panel.render_line(0).text.rstrip() == "one two three four"
        panel.update("short")
        await pilot.pause()
        assert panel.text.plain == "short"
        assert panel.virtual_size.height == 1


async def test_a_row_table_wider_than_itself_scrolls_sideways_with_the_arrow_keys() -> None:
    app = TableApp()
    async with app.run_test(size=(30, 12)) as pilot:
        table = app.query_one(RowTable)
        table.move_cursor(39)  # the widest text
        await pilot.press("right", "right")
        assert table.scroll_x > 0
        await pilot.press("left", "left")
        assert table.scroll_x == 0
