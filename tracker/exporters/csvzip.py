"""The compliance report as a zip of CSV files, one per sheet of the workbook, plus `report.csv`.

`report.csv` holds the Summary's key/value block (period, as-of date, rule-pack version); every other file
is one sheet's table with its header row. Dates are ISO, percentages the JSON's 0-100 figures, suppressed
counts "<5" or "[c]" (`tracker.domain.compliance.disclosure`). Called by `caseclock export --format csv`.

Each file is streamed into the zip as its rows are read: `csv` writes a cell as `str()` of it, which for
the sheets' cells (text, whole and decimal numbers, dates) is the text wanted (a date's `str()` is its ISO
form), and None as an empty field, so a year's 200,000 clock rows go out without a conversion per cell.

A spreadsheet opening the file runs a cell that starts with `=`, `+`, `-` or `@` as a formula (a caseworker
named `=HYPERLINK(...)` becomes a link that leaks data or worse), and a leading tab or carriage return can
hide such a start. As OWASP advises for CSV injection, a text cell starting with any of them gets a single
quote in front (`'=HYPERLINK(...)`), shown as text, and every text cell is quoted, so no separator inside
one can start a new cell in a spreadsheet that splits on another character. Numbers (a count, a negative
figure) are written as numbers, unquoted and unchanged; text that merely looks like a number, such as
"-3", is text and gets the quote.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from tracker.domain.compliance import ComplianceReport
from tracker.exporters.layout import Cell, Sheet
from tracker.exporters.sheets import sheets

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP's list for CSV injection)."""


def neutralised(cell: Cell) -> Cell:
    """A text cell a spreadsheet would run as a formula, with a single quote in front; any other as it is."""
    if type(cell) is str and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _guarded(rows: Iterable[Sequence[Cell]]) -> Iterable[Sequence[Cell]]:
    starts = FORMULA_STARTS
    for row in rows:
        # Most rows have no such cell: they go out as they are, without a copy (a plain loop: a year's
        # 200,000 clock rows cost 0.4 s here, where any() over a generator took twice as long).
        for cell in row:
            if type(cell) is str and cell.startswith(starts):
                yield [neutralised(cell) for cell in row]
                break
        else:
            yield row


def _write_csv(target: IO[bytes], rows: Iterable[Sequence[Cell]]) -> None:
    """CSV rows as UTF-8 with the byte-order mark (Excel opens UTF-8 CSV correctly only with it).

    Text cells are quoted and numbers are not (`QUOTE_NONNUMERIC`); a text cell that starts like a formula
    is neutralised first (see the module docstring).
    """
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=False)
    try:
        csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC).writerows(_guarded(rows))
        text.flush()
    finally:
        text.detach()


def _files(report: ComplianceReport) -> list[tuple[str, Iterable[Sequence[Cell]]]]:
    """(file name, rows) in workbook order; long sheets' rows are read as they are written."""
    layout: list[Sheet] = sheets(report)
    files: list[tuple[str, Iterable[Sequence[Cell]]]] = [
        ("report.csv", [["Item", "Value"], *([key, value] for s in layout for key, value in s.about)])
    ]
    for index, sheet in enumerate(layout, start=1):
        header = [column.title for column in sheet.columns]
        files.append((f"{index:02d}-{sheet.slug}.csv", _with_header(header, sheet.rows)))
    return files


def _with_header(header: list[str], rows: Iterable[Sequence[Cell]]) -> Iterable[Sequence[Cell]]:
    yield header
    yield from rows


def csv_files(report: ComplianceReport) -> dict[str, bytes]:
    """File name -> CSV bytes, in workbook order."""
    found = {}
    for name, rows in _files(report):
        buffer = io.BytesIO()
        _write_csv(buffer, rows)
        found[name] = buffer.getvalue()
    return found


def write_csv_zip(report: ComplianceReport, path: Path) -> None:
    """Write the zip to `path`."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in _files(report):
            with archive.open(name, "w", force_zip64=True) as entry:
                _write_csv(entry, rows)
