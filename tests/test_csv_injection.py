"""The csv export neutralises formulas: a caseworker named `=HYPERLINK(...)` is text in every spreadsheet.

OWASP's advice for CSV injection: a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets
a single quote in front, and the cell is quoted. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from tracker.exporters.csvzip import FORMULA_STARTS, neutralised

AS_OF = "2026-05-01"
LINK = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (LINK, "'" + LINK),
        ("+1+2", "'+1+2"),
        ("-3", "'-3"),  # text that looks like a number is text: OWASP prefixes it
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Jo Smith", "Jo Smith"),
        ("<5", "<5"),
        ("[c]", "[c]"),
        ("", ""),
        (-3, -3),  # a number is written as a number
        (-2.5, -2.5),
        (None, None),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 1)),
    ],
)
def test_only_text_that_starts_like_a_formula_is_changed(cell: object, written: object) -> None:
    assert neutralised(cell) == written  # type: ignore[arg-type]
    assert type(neutralised(cell)) is type(written)  # type: ignore[arg-type]


def test_a_caseworker_named_as_a_formula_reads_back_as_text(cli, tmp_path: Path) -> None:
    steps = [
        ("open", "M-1", "--type", "mediation", "--on", "2026-04-01", "--caseworker", LINK),
        ("record", "M-1", "mediation_requested", "--on", "2026-04-01"),
        ("record", "M-1", "la_notified", "--on", "2026-04-10"),  # late: a breach line with the name
        ("open", "M-2", "--type", "mediation", "--on", "2026-04-02", "--caseworker", "-Jo"),
        ("record", "M-2", "mediation_requested", "--on", "2026-04-02"),
    ]
    for step in steps:
        result = cli("--as-of", AS_OF, *step)
        assert result.code == 0, result.err
    out = tmp_path / "report.zip"
    result = cli(
        "--as-of", AS_OF, "export", "--period", "FY2026", "--format", "csv", "--out", str(out),
        "--with-caseworkers", "--no-suppression",
    )  # fmt: skip
    assert result.code == 0, result.err
    cells: list[str] = []
    with zipfile.ZipFile(out) as archive:
        raw = {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}
    for text in raw.values():
        cells += [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert cells.count("'" + LINK) >= 3, "the name is in the clock lines and the Caseworkers sheet"
    assert "'-Jo" in cells
    assert LINK not in cells
    assert "-Jo" not in cells
    for cell in cells:
        if cell.startswith(FORMULA_STARTS):
            float(cell)  # only a number (a negative figure, written unquoted) may start with "-"
    caseworkers = next(text for name, text in raw.items() if name.endswith("-caseworkers.csv"))
    assert '"\'=HYPERLINK(""http://x"",""y"")",' in caseworkers  # quoted, its quotes doubled


def test_the_workbook_writes_the_same_name_as_text_never_a_formula(cli, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    for step in [
        ("open", "M-1", "--type", "mediation", "--on", "2026-04-01", "--caseworker", LINK),
        ("record", "M-1", "mediation_requested", "--on", "2026-04-01"),
    ]:
        assert cli("--as-of", AS_OF, *step).code == 0
    out = tmp_path / "report.xlsx"
    result = cli(
        "--as-of", AS_OF, "export", "--period", "FY2026", "--format", "xlsx", "--out", str(out),
        "--with-caseworkers", "--no-suppression",
    )  # fmt: skip
    assert result.code == 0, result.err
    book = load_workbook(out)
    found = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value == LINK]
    assert found, "the caseworker's name is in the provider's copy"
    assert {cell.data_type for cell in found} == {"s"}  # a string cell: openpyxl reads a formula as "f"
