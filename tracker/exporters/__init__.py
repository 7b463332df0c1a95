"""Writing the compliance report as files: xlsx (XlsxWriter), a zip of CSVs, JSON and printable HTML.

Every writer takes the one `ComplianceReport` that `tracker.reports.report.compliance_report` computed and
lays out the same cells (`tracker.exporters.sheets`), so the formats cannot disagree with each other or with
the TUI's compliance screen. Called by `caseclock export`; each format's module is imported only when it is
written (the spreadsheet library is slow to import).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from tracker.domain.compliance import ComplianceReport, clock_chunks, report_json

FORMATS = ("xlsx", "csv", "json", "html")
"""The `--format` values, the first the default."""
_SUFFIX = {"xlsx": ".xlsx", "csv": ".zip", "json": ".json", "html": ".html"}


def json_text(report: ComplianceReport) -> str:
    """The report as JSON text with a final newline: `json.dumps(report_json(report))`, as `write_json`."""
    out = io.StringIO()
    write_json(report, out)
    return out.getvalue()


def write_json(report: ComplianceReport, out: TextIO) -> None:
    """Write the report as JSON text with a final newline, streaming the clock list.

    The text is exactly `json.dumps(report_json(report), ensure_ascii=False)`: each value is encoded by the
    same (C) encoder with the same separators, but a year's 200,000 clocks go out a chunk at a time instead
    of being held as one list of dicts and one string of 40 MB.
    """
    encode = json.JSONEncoder(ensure_ascii=False).encode
    out.write("{")
    for index, (key, value) in enumerate(report_json(report, clocks=False).items()):
        out.write(f"{', ' if index else ''}{encode(key)}: ")
        if key != "clocks":
            out.write(encode(value))
            continue
        _write_clocks(report, out, encode)
    out.write("}\n")


def _write_clocks(report: ComplianceReport, out: TextIO, encode: Callable[[object], str]) -> None:
    """The `clocks` list, encoded a chunk at a time."""
    out.write("[")
    for number, chunk in enumerate(clock_chunks(report.clocks)):
        out.write(f"{', ' if number else ''}{encode(chunk)[1:-1]}")
    out.write("]")


def default_path(report: ComplianceReport, fmt: str, folder: Path) -> Path:
    """`<pack>-compliance-<period>.<ext>` in `folder`, e.g. `send-mediation-compliance-FY2026-H1.xlsx`."""
    period = report.period.name.replace("..", "_to_")
    return folder / f"{report.pack_id}-compliance-{period}{_SUFFIX[fmt]}"


def write(report: ComplianceReport, fmt: str, path: Path) -> None:
    """Write the report in format `fmt` to `path`."""
    if fmt == "xlsx":
        from tracker.exporters.xlsx import write_xlsx

        write_xlsx(report, path)
    elif fmt == "csv":
        from tracker.exporters.csvzip import write_csv_zip

        write_csv_zip(report, path)
    elif fmt == "html":
        from tracker.exporters.html import write_html

        write_html(report, path)
    elif fmt == "json":
        with path.open("w", encoding="utf-8") as out:
            write_json(report, out)
    else:
        raise ValueError(f"unknown format {fmt!r}")
