"""The charts: the Summary's KPI results as bars coloured by their RAG, targets marked; the monthly trend.

`points` reads the chart from the Summary sheet's own cells (`tracker.exporters.sheets`), so the chart
shows exactly the figures and ratings of the table beside it, in xlsx (`summary_chart`, a native Excel chart)
and html (`tracker.exporters.html`, inline SVG). `axis_floor` chooses where the result axis starts: at 0
only when the results and targets spread that wide, otherwise just below the lowest of them, so the bars
show the differences (the axis title says where it starts).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.exporters.layout import Kind, Sheet

BAR_COLOURS = {"Green": "#63BE7B", "Amber": "#FFC000", "Red": "#E0474C"}
"""A bar's colour by its RAG word: stronger than the cells' pale fills, and told apart in grey print."""
NO_RAG_COLOUR = "#A6A6A6"
"""A result with no target to rate it against."""
TARGET_COLOUR = "#1F1F1F"
_ROW_PIXELS = 20  # a default row (15 points)


@dataclass(frozen=True, slots=True)
class Point:
    """One KPI of the chart: its label, result and target (0-100, None when none is shown) and RAG word."""

    label: str
    result: float | None
    target: float | None
    rag: str
    note: str = ""
    """Why a bar or a target is missing: "[c]" (withheld), "no data", "no target"; "" when neither is."""

    @property
    def caption(self) -> str:
        """The label with its note, as the chart's category axis shows it."""
        return f"{self.label} ({self.note})" if self.note else self.label


def points(summary: Sheet) -> list[Point]:
    """The Summary's KPI rows as chart points: a withheld ("[c]") or missing result has no bar."""
    index = {column.title: i for i, column in enumerate(summary.columns)}
    found = []
    for row in summary.rows:
        result, target = row[index["Result"]], row[index["Target"]]
        note = ""
        if not isinstance(result, int | float):
            note = str(result) if result else "no data"
        elif not isinstance(target, int | float):
            note = "no target"
        found.append(
            Point(
                label=str(row[index["KPI"]]),
                result=float(result) if isinstance(result, int | float) else None,
                target=float(target) if isinstance(target, int | float) else None,
                rag=str(row[index["RAG"]] or ""),
                note=note,
            )
        )
    return found


def axis_floor(chart: Iterable[Point | float | None]) -> int:
    """Where the result axis starts: 0, or the tens below the lowest result or target less 5 points.

    0 when the figures spread over half the scale (or there are none): cutting the axis would then hide
    little, and a full scale reads more honestly.
    """
    shown = [
        v
        for p in chart
        for v in ((p.result, p.target) if isinstance(p, Point) else (p,))
        if isinstance(v, int | float)
    ]
    if not shown or min(shown) < 50:
        return 0
    return max(0, math.floor((min(shown) - 5) / 10) * 10)


def axis_title(floor: int) -> str:
    """The result axis's title, saying where the axis starts when it does not start at 0."""
    return "Result (%)" if floor == 0 else f"Result (%): the axis starts at {floor}%"


def summary_chart(workbook: Any, worksheet: Any, sheet: Sheet, widths: Sequence[int], top: int) -> None:
    """A native column chart of the Summary's KPIs beside its key/value block, above the table.

    The chart's figures are written, as numbers, in hidden columns after the table (a withheld result or an
    unset target is a blank, where the table shows words, which a chart would draw as 0), with each KPI's
    label saying why a bar is missing; the chart plots hidden cells. `top` is the height of the key/value
    block in pixels.
    """
    chart_points = points(sheet)
    header_row = len(sheet.about) + 1
    first, last = header_row + 1, header_row + len(chart_points)
    result_col, target_col, label_col = (len(sheet.columns) + i for i in range(3))
    worksheet.write_string(header_row, result_col, "Chart: result")
    worksheet.write_string(header_row, target_col, "Chart: target")
    worksheet.write_string(header_row, label_col, "Chart: label")
    for r, point in enumerate(chart_points, start=first):
        worksheet.write_string(r, label_col, point.caption)
        if point.result is not None:
            worksheet.write_number(r, result_col, point.result / 100)
        if point.target is not None:
            worksheet.write_number(r, target_col, point.target / 100)
    worksheet.set_column(result_col, label_col, None, None, {"hidden": True})
    name = sheet.name
    bars = workbook.add_chart({"type": "column"})
    bars.add_series(
        {
            "name": "Result (colour: RAG; grey: no target)",
            "categories": [name, first, label_col, last, label_col],
            "values": [name, first, result_col, last, result_col],
            "points": [{"fill": {"color": BAR_COLOURS.get(p.rag, NO_RAG_COLOUR)}} for p in chart_points],
            "fill": {"color": NO_RAG_COLOUR},  # the legend's; each bar has its RAG's
            "data_labels": {"value": True, "num_format": "0.0%"},
            "gap": 60,
        }
    )
    targets = workbook.add_chart({"type": "line"})
    targets.add_series(
        {
            "name": "Target",
            "categories": [name, first, label_col, last, label_col],
            "values": [name, first, target_col, last, target_col],
            "line": {"none": True},
            "marker": {
                "type": "dash",
                "size": 20,
                "fill": {"color": TARGET_COLOUR},
                "border": {"color": TARGET_COLOUR},
            },
        }
    )
    bars.combine(targets)
    floor = axis_floor(chart_points)
    bars.set_y_axis(
        {
            "name": axis_title(floor),
            "min": floor / 100,
            "max": 1,
            "major_unit": 0.1 if floor >= 50 else 0.2,
            "num_format": "0%",
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    bars.set_title({"name": "KPI results against targets", "name_font": {"size": 12}})
    bars.set_legend({"position": "bottom"})
    bars.show_hidden_data()
    # Beside the key/value block: from the third column to the table's last, as tall as the block.
    width = sum(round(w * 7 + 5) for w in widths[2:])
    height = max(top, 12 * _ROW_PIXELS)
    bars.set_size({"width": max(width - 10, 360), "height": height})
    worksheet.insert_chart(0, 2, bars, {"x_offset": 10, "y_offset": 0, "object_position": 3})


def trend_chart(workbook: Any, worksheet: Any, sheet: Sheet, widths: Sequence[int]) -> None:
    """A line chart of every KPI's percentage by month, under the Monthly trend table and as wide.

    As on the Summary, the figures are written as numbers in hidden columns after the table: a month's
    withheld result ("[c]") or a month with no data is a gap in its line, not a fall to 0.
    """
    rows = list(sheet.rows)
    first, last = 1, len(rows)  # the header row is the first (no key/value block)
    chart = workbook.add_chart({"type": "line"})
    figures: list[float | None] = []
    hidden = len(sheet.columns)
    for c, column in enumerate(sheet.columns):
        if column.kind is not Kind.PERCENT:
            continue
        worksheet.write_string(0, hidden, f"Chart: {column.title}")
        for r, row in enumerate(rows, start=first):
            value = row[c]
            if isinstance(value, int | float):
                worksheet.write_number(r, hidden, value / 100)
                figures.append(value)
        chart.add_series(
            {
                "name": column.title,
                "categories": [sheet.name, first, 0, last, 0],
                "values": [sheet.name, first, hidden, last, hidden],
                "marker": {"type": "circle"},
            }
        )
        hidden += 1
    worksheet.set_column(len(sheet.columns), hidden - 1, None, None, {"hidden": True})
    floor = axis_floor(figures)
    chart.set_title({"name": "KPI results by month", "name_font": {"size": 12}})
    chart.set_y_axis({"name": axis_title(floor), "min": floor / 100, "max": 1, "num_format": "0%"})
    chart.set_x_axis({"name": "Month"})
    chart.set_legend({"position": "bottom"})
    chart.show_hidden_data()
    chart.set_size({"width": max(sum(round(w * 7 + 5) for w in widths), 480), "height": 340})
    worksheet.insert_chart(last + 2, 0, chart)
