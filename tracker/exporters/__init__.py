"""Writing the compliance report as files: xlsx (XlsxWriter), a zip of CSVs, JSON and printable HTML.

Every writer takes the one `ComplianceReport` that `tracker.reporting.compliance_report` computed and lays
out the same cells (`tracker.exporters.sheets`), so the formats cannot disagree with each other or with the
TUI's compliance screen. Called by `caseclock export`; each format's module is imported only when it is
written (the spreadsheet library is slow to import).
"""

from __future__ import annotations

import json
from pathlib import Path

from tracker.compliance import ComplianceReport, report_json

FORMATS = ("xlsx", "csv", "json", "html")
"""The `--format` values, the first the default."""
_SUFFIX = {"xlsx": ".xlsx", "csv": ".zip", "json": ".json", "html": ".html"}


def json_text(report: ComplianceReport) -> str:
    """The report as compact JSON text with a final newline (for a file or stdout).

    `json.dumps` in one go: unlike `json.dump` to a file, it uses the C encoder (several times faster on
    a year's 200,000 clocks).
    """
    return json.dumps(report_json(report), ensure_ascii=False) + "\n"


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
        path.write_text(json_text(report), encoding="utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}")
