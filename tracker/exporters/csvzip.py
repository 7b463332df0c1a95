"""The compliance report as a zip of CSV files, one per sheet of the workbook, plus `report.csv`.

`report.csv` holds the Summary's key/value block (period, as-of date, rule-pack version); every other file
is one sheet's table with its header row. Dates are ISO, percentages the JSON's 0-100 figures, suppressed
counts "<5". Called by `caseclock export --format csv`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

from tracker.compliance import ComplianceReport
from tracker.exporters.sheets import Cell, Sheet, sheets


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 CSV correctly only with the BOM


def csv_files(report: ComplianceReport) -> dict[str, bytes]:
    """File name -> CSV bytes, in workbook order."""
    files: dict[str, bytes] = {}
    layout: list[Sheet] = sheets(report)
    about = [[key, _text(value)] for sheet in layout for key, value in sheet.about]
    files["report.csv"] = _csv([["Item", "Value"], *about])
    for index, sheet in enumerate(layout, start=1):
        rows = [[column.title for column in sheet.columns]]
        rows += [[_text(value) for value in row] for row in sheet.rows]
        files[f"{index:02d}-{sheet.slug}.csv"] = _csv(rows)
    return files


def write_csv_zip(report: ComplianceReport, path: Path) -> None:
    """Write the zip to `path`."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in csv_files(report).items():
            archive.writestr(name, data)
