"""The compliance report as one printable HTML page with inline SVG charts (no scripts, no external files).

The KPI table with RAG colours, a bar chart of each KPI's result against its target, a line chart of the
monthly trend, then the referrals, profile, satisfaction and feedback tables and the notes. The clock-by-clock
listings stay in the workbook: a year of them would be thousands of pages. Called by `caseclock export
--format html`; every value is escaped.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from tracker.domain.compliance import ComplianceReport
from tracker.exporters.layout import Cell, Kind, Sheet
from tracker.exporters.sheets import sheets

_RAG_COLOURS = {"Green": "#c6efce", "Amber": "#ffeb9c", "Red": "#ffc7ce"}
_LINE_COLOURS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021"]
_SKIPPED = {"breaches-and-exceptions"}  # long listings: in the workbook and the csv zip only

_STYLE = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; color: #111; margin: 1.5em; }
h1 { font-size: 16pt; margin-bottom: 0.2em; } h2 { font-size: 12pt; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; page-break-inside: auto; }
th, td { border: 1px solid #999; padding: 2px 6px; vertical-align: top; }
th { background: #d9e1f2; text-align: left; } td.n { text-align: right; }
tr { page-break-inside: avoid; } dl { display: grid; grid-template-columns: max-content auto; gap: 0 1em; }
dt { font-weight: bold; } dd { margin: 0; } svg { display: block; margin: 0.5em 0 1em; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; } }
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
            cells.append(f"<td{' class=n' if numeric else ''}{style}>{shown}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _bars(report: ComplianceReport) -> str:
    """Each KPI's result as a horizontal bar, with its target marked."""
    items = [(r.kpi, r.percent, r.target, r.suppressed) for r in report.satisfaction_kpis]
    items += [(k.kpi, k.percent, k.target, False) for k in report.kpis]
    left, width, bar = 10 + 7 * max((len(label) for label, *_rest in items), default=5), 360, 18
    height = len(items) * (bar + 8) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" height="{height}" '
        'role="img" aria-label="KPI results against targets">'
    ]
    for i, (label, value, target, withheld) in enumerate(items):
        y = 10 + i * (bar + 8)
        parts.append(f'<text x="0" y="{y + 13}" font-size="11">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{width}" height="{bar}" fill="#eee"/>')
        if value is None:
            words = "withheld: too few responses" if withheld else "no data"
            parts.append(f'<text x="{left + 6}" y="{y + 13}" font-size="11" fill="#555">{words}</text>')
        else:
            parts.append(
                f'<rect x="{left}" y="{y}" width="{width * value / 100:.1f}" height="{bar}" fill="#2e75b6"/>'
            )
            parts.append(f'<text x="{left + width + 6}" y="{y + 13}" font-size="11">{value:.1f}%</text>')
        if target is not None:
            x = left + width * target / 100
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + bar + 2}" '
                'stroke="#c00" stroke-width="2"/>'
            )
    parts.append(
        f'<text x="{left}" y="{height - 4}" font-size="10" fill="#555">bar: result; red line: target</text>'
    )
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
    title = f"{report.pack_title}: compliance report {report.period.name}"
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<dl>{about}</dl>",
        "<h2>Key performance indicators</h2>",
        _table(summary),
        _bars(report),
    ]
    skipped = {s.slug for s in layout[1 : 1 + len(report.kpis)]} | _SKIPPED | {"summary"}
    for sheet in layout:
        if sheet.slug in skipped:
            continue
        sections.append(f"<h2>{escape(sheet.name)}</h2>")
        if sheet.slug == "monthly-trend":
            sections.append(_trend_chart(report))
        sections.append(_table(sheet) if sheet.rows else "<p>None in this period.</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


def write_html(report: ComplianceReport, path: Path) -> None:
    """Write the page to `path`."""
    path.write_text(render_html(report), encoding="utf-8")
