"""The compliance screen's month-by-month chart of one KPI: bars on a fixed 0-100% scale, the target marked.

A sparkline scales itself to its data, so 95% and 100% look like empty and full; a team lead reading a
trend needs the scale a percentage has. Each month is a bar drawn with eighth blocks on a 0-100 scale,
the row the target falls in is dashed (`┄`; the screen's RAG line names the target) where no bar covers
it, and a month with nothing to judge shows `–` ("no data", never 0%). The points are the report's
`MonthTrend` percentages as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"
"""A cell filled by 0 to 8 eighths."""
TARGET_MARK = "┄"
AXIS = 5
"""Columns of the scale on the left ("100%")."""
LABELLED = 4
"""From this many lines, the last one names the months."""


class TrendChart(Widget):
    """Bars of percentages by month on a 0-100 scale, with the target row marked.

    Set `points` to (month label, percent or None) pairs and `target` to the KPI's target (None: not set).
    The chart's height is its CSS height: from 4 lines, every line but the last holds bars and the last the
    month labels; a shorter chart is all bars (the screen names the months elsewhere).
    """

    DEFAULT_CSS = """
    TrendChart { height: 3; }
    TrendChart > .trend-chart--bar { color: $primary; }
    TrendChart > .trend-chart--target { color: $warning; }
    TrendChart > .trend-chart--axis { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"trend-chart--bar", "trend-chart--target", "trend-chart--axis"}

    points: reactive[tuple[tuple[str, float | None], ...]] = reactive(())
    """(month label, percent) in order; None: no data that month."""
    target: reactive[float | None] = reactive(None)
    """The KPI's target in percent, or None."""

    def show(self, points: Sequence[tuple[str, float | None]], target: float | None) -> None:
        """Chart these months against this target."""
        self.points = tuple(points)
        self.target = target

    def render(self) -> Text:
        """The bars, top line first, then the month labels."""
        lines = self.content_size.height
        labelled = lines >= LABELLED
        return chart_text(
            self.points,
            self.target,
            max(lines - labelled, 1),
            self.content_size.width,
            labels=labelled,
            bar=self.get_component_rich_style("trend-chart--bar"),
            mark=self.get_component_rich_style("trend-chart--target"),
            axis=self.get_component_rich_style("trend-chart--axis"),
        )


def chart_text(
    points: Sequence[tuple[str, float | None]],
    target: float | None,
    height: int,
    width: int,
    *,
    labels: bool = True,
    bar: Style | str = "",
    mark: Style | str = "",
    axis: Style | str = "",
) -> Text:
    """The chart as text: `height` lines of bars on a 0-100 scale and a line of month labels.

    Args:
        points: (month label, percent or None).
        target: The target in percent (None: no target row).
        height: Lines of bars (each 100 / height points; a cell holds eighths of that).
        labels: Whether to add the line of month labels.
        width: Columns available, the scale included.
        bar: The bars' style; mark: the target's; axis: the scale's and the labels'.
    """
    text = Text(no_wrap=True, overflow="crop")
    count = max(len(points), 1)
    column = max(3, min(6, (width - AXIS) // count))
    target_row = None if target is None or height < 2 else min(height - 1, int(target * height / 100))
    for row in range(height - 1, -1, -1):  # top line first; row 0 is the bottom
        text.append(_scale(row, height, target_row, target), style=axis)
        for _label, percent in points:
            eighths = 0 if percent is None else round(max(0.0, min(percent, 100.0)) * height * 8 / 100)
            fill = max(0, min(eighths - row * 8, 8))
            if fill == 0 and row == target_row:
                text.append(TARGET_MARK * (column - 1), style=mark)
            elif fill == 0 and row == 0 and percent is None:
                text.append("–".center(column - 1), style=axis)
            else:
                text.append(BLOCKS[fill] * (column - 1), style=bar)
            text.append(TARGET_MARK if row == target_row else " ", style=mark)
        if row or labels:
            text.append("\n")
    if not labels:
        return text
    text.append(" " * AXIS)
    for label, _percent in points:
        text.append(label[: column - 1].ljust(column), style=axis)
    return text


def _scale(row: int, height: int, target_row: int | None, target: float | None) -> str:
    """The scale's words beside one line: 100% at the top, 0% at the bottom, the target on its own line."""
    if row == height - 1:
        words = "100%"
    elif row == 0:
        words = "0%"
    elif row == target_row and target is not None:
        words = f"{target:g}%"
    else:
        words = ""
    return words.rjust(AXIS - 1) + " "
