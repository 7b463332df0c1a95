"""A scrolling panel of wrapped text, drawn line by line with Textual's line API (the case's profile).

A `Static` inside a `VerticalScroll` does the same, as two widgets: the text is laid out again on every
frame that draws it, and each new text changes the Static's height, which has Textual lay the screen out a
second time. Here the text is wrapped once for the panel's width, and its height is known as soon as it is
given, so a new case's profile costs one layout and a few cached lines.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["TextPanel"]


class TextPanel(ScrollView, can_focus=True):
    """Wrapped text that scrolls when it is taller than the panel.

    Args:
        panel_id: The widget's id.
    """

    DEFAULT_CSS = """
    TextPanel {
        height: auto;
    }
    """

    def __init__(self, *, panel_id: str | None = None) -> None:
        super().__init__(id=panel_id)
        self._text = Text()
        self._lines: list[Strip] = []
        self._width = -1
        self._styled: dict[int, Strip] = {}
        self._style = Style()

    @property
    def text(self) -> Text:
        """The text shown."""
        return self._text

    def update(self, text: Text | str) -> None:
        """Show another text."""
        self._text = Text(text) if isinstance(text, str) else text
        # Wrap for the width the text will have: the whole panel, less the scroll bar if it will not fit.
        width, height = self.content_region.size
        self._wrap(width)
        if len(self._lines) > height and self.styles.overflow_y != "hidden":
            self._wrap(width - self.styles.scrollbar_size_vertical)
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def _wrap(self, width: int) -> None:
        self._width = width
        if width <= 0:
            self._lines = []
            return
        console = self.app.console
        lines = self._text.wrap(console, width, overflow="fold")
        self._lines = [Strip(list(line.render(console, end="")), line.cell_len) for line in lines]
        self._styled.clear()
        self.virtual_size = Size(width, len(self._lines))

    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw the lines in `crop`, wrapping the text again if the width changed."""
        width = self.scrollable_content_region.width
        if width != self._width:
            self._wrap(width)
        style = self.rich_style
        if style != self._style:
            self._style = style
            self._styled.clear()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """One line of the wrapped text, scrolled, in the panel's colours (as a Static's text is)."""
        index = y + self.scroll_offset.y
        width = self.size.width
        if index >= len(self._lines):
            return Strip.blank(width, self._style)
        line = self._styled.get(index)
        if line is None:
            line = self._lines[index].apply_style(self._style).crop_extend(0, width, self._style)
            self._styled[index] = line
        return line
