"""The exports printed: the workbook through LibreOffice and the HTML page through headless Chromium, as PDF.

The cases of `tests/test_export.py` (a half year, four cases) are exported with the command line; each PDF is
read back with pypdf: every page is A4, headed with the report's name and the period, and numbered "Page i
of N" where N is the PDF's page count, and the pages are as many as the sheets or sections need. The page
setup is also read from the workbook with openpyxl, which needs neither program. The conversions skip with
the reason when LibreOffice or Chromium is not installed; CI installs both (`.ci/run`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.test_export import PERIOD, export_file
from tests.test_export import cases as cases  # the fixture: the cases of the half year

TITLE = "SEND mediation and disagreement resolution: performance report"
DATES = f"{PERIOD} (2026-04-01 to 2026-09-30)"
A4 = (595, 842)  # points


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: what is printed does not depend on the database (tests/test_export.py runs both)."""
    return f"sqlite:///{tmp_path / 'cases.db'}"


def pages(pdf: Path) -> list[tuple[str, str]]:
    """Each page's orientation and text (ligatures written out), after checking that it is A4."""
    found = []
    for page in PdfReader(pdf).pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert sorted((width, height)) == [pytest.approx(A4[0], abs=2), pytest.approx(A4[1], abs=2)]
        text = page.extract_text().replace("\ufb01", "fi").replace("\ufb02", "fl")
        found.append(("portrait" if height > width else "landscape", text))
    return found


def heading(text: str) -> str:
    """The sheet's or section's title, which follows the report's name in the page header."""
    after = text.split(TITLE, 1)[1].strip().splitlines()[0]
    return after.split(DATES)[0].strip()


def assert_headed_and_numbered(found: list[tuple[str, str]]) -> None:
    for number, (_orientation, text) in enumerate(found, start=1):
        assert TITLE in text, number
        assert DATES in text, number
        assert f"Page {number} of {len(found)}" in text, number


@pytest.mark.usefixtures("cases")
def test_the_workbook_is_set_up_for_a4_pages_with_headers(cli, tmp_path: Path) -> None:
    workbook = load_workbook(export_file(cli, tmp_path, "xlsx"))
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        assert setup.paperSize == 9, sheet.title  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), sheet.title  # 1 wide is the default
        assert TITLE in sheet.oddHeader.left.text, sheet.title
        assert DATES in sheet.oddHeader.right.text, sheet.title
        assert sheet.oddFooter.right.text == "Page &P of &N", sheet.title
        assert sheet.print_title_rows is not None, sheet.title
    orientation = {sheet.title: sheet.page_setup.orientation for sheet in workbook.worksheets}
    assert orientation["Summary"] == "landscape"  # twelve columns
    assert orientation["Profile"] == "portrait"  # three
    assert orientation["Notes"] == "portrait"
    assert orientation["KPI 2"] == "landscape"
    assert "KPI 2: LA/ICB notified" in workbook["KPI 2"].oddHeader.left.text
    summary = workbook["Summary"]
    header = next(row[0].row for row in summary.iter_rows() if row[0].value == "KPI")
    assert summary.print_title_rows == f"${header}:${header}"  # the KPI table's header row


@pytest.mark.usefixtures("cases")
def test_the_notes_wrap_with_row_heights_that_hold_their_lines(cli, tmp_path: Path) -> None:
    notes = load_workbook(export_file(cli, tmp_path, "xlsx"))["Notes"]
    width = notes.column_dimensions["B"].width
    for row in notes.iter_rows(min_row=2):
        term, definition = row[0], row[1]
        assert definition.alignment.wrap_text, term.value
        lines = len(str(definition.value)) / (width - 2)  # characters per line, as wide as the column
        assert (notes.row_dimensions[term.row].height or 15) >= 15 * lines, term.value  # 15: the default


@pytest.mark.slow
@pytest.mark.usefixtures("cases")
def test_the_workbook_prints_on_a4_with_every_page_headed_and_numbered(cli, tmp_path: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed (scripts/install-libreoffice.sh installs it; CI runs it)")
    workbook = export_file(cli, tmp_path, "xlsx")
    out = tmp_path / "pdf"
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to", "pdf",
         "--outdir", str(out), str(workbook)],
        check=True,
        capture_output=True,
        timeout=240,
    )  # fmt: skip
    found = pages(out / "report.pdf")
    assert_headed_and_numbered(found)
    # A page per sheet, in workbook order, portrait where its columns fit; Referrals and Notes take two.
    expected = [
        ("landscape", "Summary"),
        *[("landscape", "Referrals")] * 2,
        ("landscape", "Flow and waiting times"),
        ("portrait", "Profile"),
        ("landscape", "Satisfaction"),
        ("portrait", "Feedback"),
        ("portrait", "Monthly trend"),
        *[("portrait", "Notes")] * 2,
        ("landscape", "Breaches and exceptions: breached clocks first, then excepted"),
        ("landscape", "KPI 2: LA/ICB notified: every clock due"),
        ("landscape", "KPI 3: Meeting confirmation circulated: every clock due"),
        ("landscape", "KPI 4: Certificate issued: every clock due"),
        ("landscape", "KPI 5: Meeting within 30 days: every clock due"),
    ]
    assert [(orientation, heading(text)) for orientation, text in found] == expected
    assert "KPI results against targets" in found[0][1]  # the chart is on the Summary's page
    assert "Result (%)" in found[0][1]  # its axis: KPI 3's 0% spreads the results over the whole scale
    kpi2 = found[-4][1]
    assert kpi2.index("M-2") < kpi2.index("M-1")  # the breached clock first, though due later


@pytest.mark.slow
@pytest.mark.usefixtures("cases")
def test_the_html_page_prints_on_a4_with_every_page_headed_and_numbered(cli, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("Chromium is not installed (scripts/install-chromium.sh installs it; CI runs it)")
    page = export_file(cli, tmp_path, "html")
    pdf = tmp_path / "report-html.pdf"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
         page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    found = pages(pdf)
    assert_headed_and_numbered(found)
    # Each section starts a page; portrait where its table fits (the rule of the workbook's sheets). The
    # clock lists are in the workbook only.
    expected = [
        ("landscape", "Summary"),
        *[("landscape", "Referrals")] * 3,
        ("landscape", "Flow and waiting times"),
        *[("portrait", "Profile")] * 2,
        ("landscape", "Satisfaction"),
        ("portrait", "Feedback"),
        ("portrait", "Monthly trend"),
        *[("portrait", "Notes")] * 2,
    ]
    assert [(orientation, heading(text)) for orientation, text in found] == expected
    assert "coloured by RAG" in found[0][1]  # the KPI chart is on the Summary's page
