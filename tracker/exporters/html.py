"""The compliance report as one printable HTML page with inline SVG charts (no scripts, no external files).

The KPI table with RAG colours and a bar chart of each KPI's result, coloured by its RAG, against its target;
then the referrals, flow, profile, satisfaction and feedback tables, the monthly trend with a line chart and
the notes, each a section of its own. The clock-by-clock listings stay in the workbook: a year of them would
be thousands of pages. Printed (Chromium 131 or later prints CSS page margin boxes), every section starts
a page of A4, portrait or landscape as its table fits, with the header row of its table repeated on each
page, and every page carries the report's name, the section's title, the period, the as-of date and "Page n
of m" (`_page_css`). Called by `caseclock export --format html`; every value is escaped.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from tracker.domain.compliance import HIDDEN, ComplianceReport
from tracker.exporters.chart import BAR_COLOURS, NO_RAG_COLOUR, TARGET_COLOUR, axis_floor, axis_title
from tracker.exporters.chart import points as kpi_points
from tracker.exporters.layout import Cell, Kind, Rows, Sheet, column_widths, portrait
from tracker.exporters.sheets import report_title, sheets

_RAG_COLOURS = {"Green": "#c6efce", "Amber": "#ffeb9c", "Red": "#ffc7ce"}
_LINE_COLOURS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021"]

_STYLE = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; color: #111; margin: 1.5em; }
h1 { font-size: 16pt; margin-bottom: 0.2em; } h2 { font-size: 12pt; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; page-break-inside: auto; }
thead { display: table-header-group; }
th, td { border: 1px solid #999; padding: 2px 6px; vertical-align: top; }
th { background: #d9e1f2; text-align: left; } td.n { text-align: right; }
td.breached { background: #ffc7ce; font-weight: bold; }
tr { page-break-inside: avoid; } dl { display: grid; grid-template-columns: max-content auto; gap: 0 1em; }
dt { font-weight: bold; } dd { margin: 0; } svg { display: block; margin: 0.5em 0 1em; }
@media print {
  body { margin: 0; }
  section + section { break-before: page; }
  h2 { break-after: avoid; margin-top: 0; }
}
"""


def _text(value: Cell, kind: Kind) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if kind is Kind.PERCENT and isinstance(value, int | float):
        return f"{value:.1f}%"
    return str(value)


def _table(sheet: Sheet) -> str:
    head = "".join(f"<th>{escape(c.title)}</th>" for c in sheet.columns)
    body = []
    for row in sheet.rows:
        cells = []
        for column, value in zip(sheet.columns, row, strict=True):
            shown = escape(_text(value, column.kind))
            numeric = column.kind in (Kind.INT, Kind.COUNT, Kind.NUMBER, Kind.PERCENT)
            style = f' style="background:{_RAG_COLOURS[shown]}"' if shown in _RAG_COLOURS else ""
            marked = column.kind is Kind.STATUS and shown == "Breached"
            css = " class=n" if numeric else " class=breached" if marked else ""
            cells.append(f"<td{css}{style}>{shown}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _bars(summary: Sheet) -> str:
    """Each KPI's result as a horizontal bar coloured by its RAG, its target a black mark across the bar.

    The KPIs, results, targets and ratings are the Summary table's own cells (`chart.points`); the scale
    starts where `chart.axis_floor` says, and the note under the chart says where.
    """
    items = kpi_points(summary)
    floor = axis_floor(items)
    left, width, bar = 10 + 7 * max((len(p.label) for p in items), default=5), 440, 18
    height = len(items) * (bar + 8) + 44

    def x(value: float) -> float:
        return left + width * (value - floor) / (100 - floor)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{max(left + width + 60, 640)}" height="{height}" '
        'role="img" aria-label="KPI results against targets">'
    ]
    for tick in range(floor, 101, 10 if floor >= 50 else 20):
        parts.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="6" y2="{height - 30}" stroke="#ddd"/>'
            f'<text x="{x(tick) - 8:.1f}" y="{height - 18}" font-size="9" fill="#555">{tick}%</text>'
        )
    for i, point in enumerate(items):
        y = 10 + i * (bar + 8)
        parts.append(f'<text x="0" y="{y + 13}" font-size="11">{escape(point.label)}</text>')
        if point.result is None:
            words = "withheld: too few responses" if point.note == HIDDEN else "no data"
            parts.append(f'<text x="{left + 6}" y="{y + 13}" font-size="11" fill="#555">{words}</text>')
        else:
            colour = BAR_COLOURS.get(point.rag, NO_RAG_COLOUR)
            end = max(x(point.result), left)
            parts.append(
                f'<rect x="{left}" y="{y}" width="{end - left:.1f}" height="{bar}" fill="{colour}">'
                f"<title>{escape(point.caption)}: {point.result:.1f}% {escape(point.rag)}</title></rect>"
            )
            parts.append(  # right of the scale: clear of the bar and the target mark
                f'<text x="{left + width + 8}" y="{y + 13}" font-size="11">{point.result:.1f}%</text>'
            )
        if point.target is not None:
            tx = x(point.target)
            parts.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - 3}" y2="{y + bar + 3}" '
                f'stroke="{TARGET_COLOUR}" stroke-width="3"/>'
            )
    note = f"bar: result, coloured by RAG (grey: no target); black mark: target. {axis_title(floor)}"
    parts.append(f'<text x="0" y="{height - 4}" font-size="10" fill="#555">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _trend_chart(report: ComplianceReport) -> str:
    """Each KPI's monthly result as a line, 0-100%."""
    months = list(report.trend)
    if not months:
        return ""
    keys = [(s.key, s.kpi) for s in report.satisfaction_kpis] + [(k.key, k.kpi) for k in report.kpis]
    left, top, width, height = 40, 10, 520, 200
    step = width / max(len(months) - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 110}" height="{top + height + 40}" '
        'role="img" aria-label="KPI results by month">'
    ]
    for tick in (0, 25, 50, 75, 100):
        y = top + height - height * tick / 100
        parts.append(f'<line x1="{left}" x2="{left + width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="0" y="{y + 4:.1f}" font-size="10">{tick}%</text>')
    for i, month in enumerate(months):
        x = left + i * step
        parts.append(
            f'<text x="{x - 18:.1f}" y="{top + height + 16}" font-size="9">{escape(month.period.name)}</text>'
        )
    for index, (key, label) in enumerate(keys):
        colour = _LINE_COLOURS[index % len(_LINE_COLOURS)]
        points = [
            (left + i * step, top + height - height * pct / 100)
            for i, month in enumerate(months)
            if (pct := month.kpis[key][2]) is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in points]
        ly = top + 12 + index * 14
        parts.append(f'<rect x="{left + width + 12}" y="{ly - 8}" width="10" height="3" fill="{colour}"/>')
        parts.append(f'<text x="{left + width + 26}" y="{ly - 3}" font-size="10">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: ComplianceReport) -> str:
    """The whole page as text."""
    layout = sheets(report)
    summary = layout[0]
    about = "".join(f"<dt>{escape(k)}</dt><dd>{escape(_text(v, Kind.TEXT))}</dd>" for k, v in summary.about)
    title = f"{report_title(report)}, {report.period.name}"
    sections = [
        (
            summary,
            f"<h1>{escape(title)}</h1><dl>{about}</dl><h2>Key performance indicators</h2>"
            f"{_table(summary)}{_bars(summary)}",
        )
    ]
    for sheet in layout[1:]:
        if isinstance(sheet.rows, Rows):  # the long clock listings: in the workbook and the csv zip only
            continue
        body = f"<h2>{escape(sheet.heading)}</h2>"
        if sheet.slug == "monthly-trend":
            body += _trend_chart(report)
        body += _table(sheet) if sheet.rows else "<p>None in this period.</p>"
        sections.append((sheet, body))
    pages = "".join(
        f'<section style="page: s{number}">{body}</section>\n' for number, (_s, body) in enumerate(sections)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}{_page_css(report, [s for s, _b in sections])}</style>"
        f"</head><body>\n{pages}</body></html>\n"
    )


def _page_css(report: ComplianceReport, sections: list[Sheet]) -> str:
    """Printed pages: A4, each section's page portrait or landscape as its table fits, headed and numbered.

    Every page's margins carry the report's name and the section's title (top left), the period (top
    right), the as-of date (bottom left) and "Page n of m" (bottom right); each section is a named page
    (`page: s<n>`), so its orientation and title are its own.
    """
    period = report.period
    dates = f"{period.name} ({period.start.isoformat()} to {period.end.isoformat()})"
    as_of = f"As of {report.as_of.isoformat()}{', provisional' if report.provisional else ''}"
    box = "font: 8pt Arial, Helvetica, sans-serif; color: #333;"
    rules = [
        "@page { size: A4 portrait; margin: 20mm 12mm 15mm;"
        f" @top-right {{ content: {_css_string(dates)}; {box} }}"
        f" @bottom-left {{ content: {_css_string(as_of)}; {box} }}"
        f' @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} }} }}'
    ]
    for number, sheet in enumerate(sections):
        size = "portrait" if portrait(column_widths(sheet)) else "landscape"
        heading = _css_string(f"{report_title(report)}\n{sheet.heading}")
        rules.append(
            f"@page s{number} {{ size: A4 {size};"
            f" @top-left {{ content: {heading}; white-space: pre; {box} }} }}"
        )
    return "\n".join(rules)


def _css_string(text: str) -> str:
    """`text` as a CSS string: quotes, backslashes and "<" escaped (it sits in a <style>), newlines kept."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", "\\a ")
    return f'"{escaped}"'


def write_html(report: ComplianceReport, path: Path) -> None:
    """Write the page to `path`."""
    path.write_text(render_html(report), encoding="utf-8")
