"""The compliance report as an Excel workbook: XlsxWriter for the workbook, a fast path for long sheets.

Summary first (RAG fills, the period, as-of date and rule-pack version, and a native bar chart of the KPI
results coloured by RAG with each target marked), Referrals, Profile, Satisfaction, Feedback, the Monthly
trend with a native line chart and the Notes; then the long lists: Breaches and exceptions and a sheet per
KPI listing every clock counted, breached clocks first with their status filled red. Every sheet has its
header row frozen and columns sized to fit; dates are real dates, percentages real numbers with a percent
format. Printed (or converted to PDF), every sheet is on A4, portrait when its columns fit a portrait page
and landscape otherwise, one page wide with the header row repeated, and every page is headed with the
report's name, the sheet's title and the period, and footed with the as-of date and "Page n of m"
(`page_setup`).

Speed, measured on a year of 100,000 demo cases (183,000 clocks, 1.4 million cells, 2 busy cores):
openpyxl's write-only mode took 85 s (55 s with lxml), XlsxWriter's constant-memory mode 21 s, both spending
nearly all of it per cell. So XlsxWriter writes the workbook (styles, sheets, chart, page setup: the parts
Excel is strict about) with only the first data row of each long sheet, and the remaining rows of those
sheets are then streamed into its package as plain SpreadsheetML rows (inline strings, numbers, dates with
XlsxWriter's own date style): a few seconds for the same workbook. openpyxl stays for reading workbooks in
the tests. Imported lazily by `caseclock export`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter

from tracker.domain.compliance import ComplianceReport
from tracker.exporters.chart import summary_chart, trend_chart
from tracker.exporters.layout import NOTES_WIDTHS, Kind, Rows, Sheet, column_widths, portrait
from tracker.exporters.sheets import report_title, sheets

PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
_RAG_COLOURS = {"Green": "#C6EFCE", "Amber": "#FFEB9C", "Red": "#FFC7CE"}
_BREACHED = "Breached"
_A4 = 9  # Excel's paper size code
_HEADER_COLOUR = "#D9E1F2"
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()  # a date's serial number is its distance from this day
# Long sheets are ~100 MB of repetitive XML: zlib's fastest level takes a third of the default's time for a
# file a few per cent larger.
_LONG_SHEET_COMPRESSION = 1


def write_xlsx(report: ComplianceReport, path: Path) -> None:
    """Write the workbook to `path`."""
    # Open the file first: a path that cannot be written fails before any work is done.
    with path.open("wb") as file:
        package = io.BytesIO()
        workbook = xlsxwriter.Workbook(package, {"in_memory": True})
        long_sheets: dict[str, Sheet] = {}
        try:
            styles = _Styles(workbook)
            for number, sheet in enumerate(sheets(report), start=1):
                long = isinstance(sheet.rows, Rows) and len(sheet.rows) > 1
                if long:
                    long_sheets[f"xl/worksheets/sheet{number}.xml"] = sheet
                worksheet = workbook.add_worksheet(sheet.name)
                _write(workbook, worksheet, sheet, styles, first_row_only=long)
                page_setup(worksheet, report, sheet)
        finally:
            workbook.close()
        with (
            zipfile.ZipFile(package) as source,
            zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=_LONG_SHEET_COMPRESSION) as target,
        ):
            for item in source.infolist():
                if item.filename in long_sheets:
                    _stream_rows(
                        source.read(item).decode("utf-8"), long_sheets[item.filename], styles, target, item
                    )
                else:
                    target.writestr(item, source.read(item))


class _Styles:
    """The workbook's cell formats, made once (XlsxWriter dedupes them, but creating them costs)."""

    def __init__(self, workbook: Any) -> None:
        self.bold = workbook.add_format({"bold": True, "valign": "top"})
        self.header = workbook.add_format({"bold": True, "bg_color": _HEADER_COLOUR, "bottom": 1})
        self.percent = workbook.add_format({"num_format": PERCENT_FORMAT})
        self.date = workbook.add_format({"num_format": DATE_FORMAT})
        self.left = workbook.add_format({"align": "left"})
        self.left_date = workbook.add_format({"align": "left", "num_format": DATE_FORMAT})
        self.right = workbook.add_format({"align": "right"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.rag = {word: workbook.add_format({"bg_color": colour}) for word, colour in _RAG_COLOURS.items()}
        self.breached = workbook.add_format({"bg_color": _RAG_COLOURS["Red"], "bold": True})


def _serial(day: dt.date) -> int:
    return day.toordinal() - _EXCEL_EPOCH


def _write(workbook: Any, worksheet: Any, sheet: Sheet, styles: _Styles, *, first_row_only: bool) -> None:
    header_row = len(sheet.about) + (1 if sheet.about else 0)  # zero-based
    notes = sheet.slug == "notes"
    widths = list(NOTES_WIDTHS) if notes else column_widths(sheet)
    for i, width in enumerate(widths):
        worksheet.set_column(i, i, width)
    worksheet.freeze_panes(header_row + 1, 0)
    # Printed: every column on one page width, the header row on every page (`page_setup` does the rest).
    worksheet.set_portrait() if portrait(widths) else worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(header_row)
    about_pixels = 20 * len(sheet.about)  # default rows are 15 points, 20 pixels
    for r, (key, value) in enumerate(sheet.about):
        worksheet.write_string(r, 0, key, styles.bold)
        if isinstance(value, dt.date):
            worksheet.write_number(r, 1, _serial(value), styles.left_date)
        elif isinstance(value, int | float):
            worksheet.write_number(r, 1, value, styles.left)
        elif value is not None:  # wrapped in its column, with the row as tall as its lines (never cut)
            lines = _lines(value, widths[1] * 1.15)  # proportional text: most letters are narrower than "0"
            worksheet.write_string(r, 1, value, styles.wrap if lines > 1 else None)
            if lines > 1:
                worksheet.set_row(r, 15 * lines)
                about_pixels += 20 * (lines - 1)
    for c, column in enumerate(sheet.columns):
        worksheet.write_string(header_row, c, column.title, styles.header)
    writers = [_writer(worksheet, column.kind, styles, notes) for column in sheet.columns]
    r = header_row
    rows = islice(sheet.rows, 1) if first_row_only else sheet.rows
    for r, row in enumerate(rows, start=header_row + 1):
        for c, value in enumerate(row):
            if value is not None and value != "":
                writers[c](r, c, value)
        if notes:  # wrapped text: set each row's height, as a printout does not grow rows to fit
            lines = max(_lines(str(value or ""), width) for value, width in zip(row, widths, strict=True))
            worksheet.set_row(r, 15 * lines)
    if sheet.slug == "monthly-trend" and r > header_row:
        trend_chart(workbook, worksheet, sheet, widths)
    if sheet.slug == "summary" and r > header_row:
        summary_chart(workbook, worksheet, sheet, widths, about_pixels)


def _lines(text: str, width: float) -> int:
    """How many lines `text` wraps to in a column `width` characters wide (a little generous: never cut)."""
    per_line = max(int(width) - 2, 1)
    count = 0
    for paragraph in text.split("\n"):
        words, line = paragraph.split(" "), 0
        count += 1
        for word in words:
            if line and line + 1 + len(word) > per_line:
                count += 1
                line = len(word)
            else:
                line += (1 if line else 0) + len(word)
    return count


def page_setup(worksheet: Any, report: ComplianceReport, sheet: Sheet) -> None:
    """A4, and every printed page headed with the report, the sheet's title and the period, and numbered.

    Header: the report's name and below it what the sheet lists (left), the period (right); footer: the
    as-of date and whether the figures are provisional (left), "Page n of m" (right).
    """
    worksheet.set_paper(_A4)
    worksheet.set_margins(left=0.5, right=0.5, top=1.0, bottom=0.8)
    period = report.period
    dates = f"{period.name} ({period.start.isoformat()} to {period.end.isoformat()})"
    status = ", provisional" if report.provisional else ""
    left = _header_text(report_title(report), 90)
    heading = _header_text(sheet.heading, 90)
    worksheet.set_header(f"&L{left}\n&B{heading}&B&R{_header_text(dates, 60)}", {"margin": 0.35})
    as_of = f"As of {report.as_of.isoformat()}{status}"
    worksheet.set_footer(f"&L{_header_text(as_of, 60)}&RPage &P of &N", {"margin": 0.35})


def _header_text(text: str, most: int) -> str:
    """Text for a page header: at most `most` characters (Excel allows 255 in all), "&" written "&&"."""
    short = text if len(text) <= most else text[: most - 1] + "…"
    return short.replace("&", "&&")


def _stream_rows(
    xml: str, sheet: Sheet, styles: _Styles, target: zipfile.ZipFile, item: zipfile.ZipInfo
) -> None:
    """Write a long sheet's part: XlsxWriter's XML with every row after the first inserted as plain XML."""
    head, tail = xml.split("</sheetData>", 1)
    first = 2 if not sheet.about else len(sheet.about) + 3  # 1-based: the header row, then the row written
    last = first + len(sheet.rows) - 1
    head = re.sub(
        r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{_LETTERS[len(sheet.columns) - 1]}{last}"/>', head
    )
    date_style = styles.date.xf_index
    # Breached lines come first, so the first row (written by XlsxWriter) gave the mark its style, if any
    # line is breached.
    breached_style = styles.breached.xf_index
    cell = [_cell_maker(i, column.kind, date_style, breached_style) for i, column in enumerate(sheet.columns)]
    # By name: the entry takes the target's compression and level (`_LONG_SHEET_COMPRESSION`).
    with target.open(item.filename, "w", force_zip64=True) as out:
        out.write(head.encode("utf-8"))
        chunk: list[str] = []
        for r, row in enumerate(islice(sheet.rows, 1, None), start=first + 1):
            chunk.append(f'<row r="{r}">')
            chunk += [
                make(r, value)
                for make, value in zip(cell, row, strict=True)
                if value is not None and value != ""
            ]
            chunk.append("</row>")
            if len(chunk) > 20_000:
                out.write("".join(chunk).encode("utf-8"))
                chunk.clear()
        chunk.append("</sheetData>")
        chunk.append(tail)
        out.write("".join(chunk).encode("utf-8"))


_LETTERS = [chr(65 + i) for i in range(26)]  # a long sheet has fewer than 27 columns


def _cell_maker(
    index: int, kind: Kind, date_style: int, breached_style: int | None
) -> Callable[[int, Any], str]:
    """How a column's cells are written as XML: inline strings, numbers, dates as serials (date style)."""
    column = _LETTERS[index]
    if kind is Kind.STATUS and breached_style is not None:
        marked = f'<c r="{column}{{}}" s="{breached_style}" t="inlineStr"><is><t>{_BREACHED}</t></is></c>'
        return lambda r, v: (
            marked.format(r)
            if v == _BREACHED
            else f'<c r="{column}{r}" t="inlineStr"><is><t>{_text(v)}</t></is></c>'
        )
    if kind is Kind.DATE:
        return lambda r, v: f'<c r="{column}{r}" s="{date_style}"><v>{v.toordinal() - _EXCEL_EPOCH}</v></c>'
    if kind in (Kind.INT, Kind.NUMBER):
        return lambda r, v: f'<c r="{column}{r}"><v>{v}</v></c>'
    return lambda r, v: f'<c r="{column}{r}" t="inlineStr"><is><t>{_text(v)}</t></is></c>'


@lru_cache(maxsize=65536)  # statuses, labels and caseworkers repeat on every row
def _text(value: object) -> str:
    text = escape(str(value))
    return _CONTROL.sub("", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML


def _writer(worksheet: Any, kind: Kind, styles: _Styles, wrap: bool) -> Any:
    """The fastest call that writes a cell of a column of `kind` (typed calls skip XlsxWriter's dispatch)."""
    write_string, write_number = worksheet.write_string, worksheet.write_number
    if kind is Kind.DATE:
        return lambda r, c, v: write_number(r, c, v.toordinal() - _EXCEL_EPOCH, styles.date)
    if kind is Kind.PERCENT:  # or words in its place ("target not set", a withheld result's "[c]")
        return lambda r, c, v: (
            write_string(r, c, v, styles.right)
            if isinstance(v, str)
            else write_number(r, c, v / 100, styles.percent)
        )
    if kind is Kind.RAG:
        return lambda r, c, v: write_string(r, c, v, styles.rag.get(v))
    if kind is Kind.STATUS:
        return lambda r, c, v: write_string(r, c, v, styles.breached if v == _BREACHED else None)
    if kind in (Kind.INT, Kind.NUMBER, Kind.COUNT):
        # a suppressed count or withheld figure is the text "<5" or "[c]": right-aligned beside the numbers
        return lambda r, c, v: (
            write_string(r, c, v, styles.right) if isinstance(v, str) else write_number(r, c, v)
        )
    if wrap:
        return lambda r, c, v: write_string(r, c, str(v), styles.wrap)
    return lambda r, c, v: write_string(r, c, str(v))
