"""The compliance report as a zip of CSV files, one per sheet of the workbook, plus `report.csv`.

`report.csv` holds the Summary's key/value block (period, as-of date, rule-pack version); every other file
is one sheet's table with its header row. Dates are ISO, percentages the JSON's 0-100 figures, suppressed
counts "<5" or "[c]" (`tracker.domain.compliance.disclosure`). Called by `caseclock export --format csv`.

Each file is streamed into the zip as its rows are read: `csv` writes a cell as `str()` of it, which for
the sheets' cells (text, whole and decimal numbers, dates) is the text wanted (a date's `str()` is its ISO
form), and None as an empty field, so a year's 200,000 clock rows go out without a conversion per cell.
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


def _write_csv(target: IO[bytes], rows: Iterable[Sequence[Cell]]) -> None:
    """CSV rows as UTF-8 with the byte-order mark (Excel opens UTF-8 CSV correctly only with it)."""
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=False)
    try:
        csv.writer(text, lineterminator="\r\n").writerows(rows)
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
