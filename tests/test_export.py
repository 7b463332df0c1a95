"""`caseclock export` end to end: every format shows the JSON's figures, none carries personal data or text.

The cases are recorded through the command line with a name, a contact, notes, a withdrawal reason, an
exception note, a survey comment, a complaint's words and an impact story, none of which may leave the
provider. The workbook is opened with openpyxl and its cells compared with the JSON.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

AS_OF = "2026-10-05"
PERIOD = "FY2026-H1"
SECRETS = (
    "Ava Brown",
    "07700 900123",
    "Phoned mum about the venue",
    "Family moved to Leeds",
    "half term clash",
    "Brilliant mediator",
    "The room was cold",
    "Ava now attends",
)


def run_ok(cli, *args: str):
    result = cli("--as-of", AS_OF, *args)
    assert result.code == 0, result.err
    return result


@pytest.fixture
def cases(cli) -> None:
    """Four cases of the first half of FY2026, with every kind of private detail."""
    personal = ["--name", "Ava Brown", "--contact", "07700 900123", "--field", "caseworker=Jo Smith"]
    run_ok(
        cli,
        "open",
        "M-1",
        "--on",
        "2026-04-01",
        "--field",
        "district=norwich",
        "--field",
        "source=school",
        *personal,
    )
    for args in (
        ["mediation_requested", "--on", "2026-04-02"],
        ["la_notified", "--on", "2026-04-09"],  # met (Easter)
        ["note", "--on", "2026-04-09", "--note", "Phoned mum about the venue"],
        ["meeting_scheduled", "--on", "2026-04-10", "--meeting-date", "2026-04-24"],
        ["confirmation_sent", "--on", "2026-04-20"],  # breached
        ["meeting_held", "--on", "2026-04-24", "--outcome", "agreed"],
        ["certificate_issued", "--on", "2026-04-29", "--kind", "after_mediation"],
        ["closed", "--on", "2026-04-30"],
        [
            "survey",
            "--on",
            "2026-05-05",
            "--field",
            "satisfied=agree",
            "--field",
            "comment=Brilliant mediator",
        ],
        ["feedback", "--on", "2026-05-06", "--kind", "complaint", "--detail", "The room was cold"],
        ["impact_story", "--on", "2026-05-07", "--story", "Ava now attends her local school"],
    ):
        run_ok(cli, "record", "M-1", *args)
    run_ok(cli, "open", "M-2", "--on", "2026-06-01", "--field", "district=breckland", *personal)
    for args in (
        ["mediation_requested", "--on", "2026-06-01"],
        ["la_notified", "--on", "2026-06-08"],  # breached
        ["withdrawn", "--on", "2026-06-10", "--reason", "Family moved to Leeds"],
    ):
        run_ok(cli, "record", "M-2", *args)
    run_ok(cli, "open", "M-3", "--on", "2026-07-01", "--field", "district=norwich", *personal)
    for args in (
        ["mediation_requested", "--on", "2026-07-01"],
        ["la_notified", "--on", "2026-07-02"],
        [
            "exception",
            "--on",
            "2026-07-03",
            "--clock",
            "kpi5",
            "--reason",
            "school_holiday",
            "--note",
            "half term clash",
        ],
    ):
        run_ok(cli, "record", "M-3", *args)
    run_ok(cli, "open", "M-4", "--type", "disagreement_resolution", "--on", "2026-08-03", *personal)
    run_ok(cli, "record", "M-4", "closed", "--on", "2026-09-01", "--outcome", "resolved")


def export_json(cli, *extra: str) -> dict:
    return json.loads(run_ok(cli, "export", "--period", PERIOD, "--format", "json", *extra).out)


def export_file(cli, tmp_path: Path, fmt: str, *extra: str) -> Path:
    path = tmp_path / f"report.{fmt}"
    result = run_ok(cli, "export", "--period", PERIOD, "--format", fmt, "--out", str(path), *extra)
    assert str(path) in result.out
    return path


def test_json_goes_to_stdout_in_the_contract_shape(cli, cases) -> None:
    body = export_json(cli)
    assert body["period"] == {"from": "2026-04-01", "to": "2026-09-30", "name": "FY2026-H1"}
    assert body["as_of"] == AS_OF
    kpi2 = body["kpis"]["kpi2"]
    assert (kpi2["met"], kpi2["breached"], kpi2["percent"], kpi2["met_target"]) == (2, 1, 66.7, False)
    assert body["kpis"]["kpi5"]["excepted"] == 1
    assert body["kpis"]["kpi5"]["cancelled"] == 1
    assert body["kpis"]["kpi1"]["responses"] == 1
    assert body["referrals"]["received"] == 4
    assert body["profile"]["district"]["norwich"] == "<5"
    exact = export_json(cli, "--no-suppression")
    assert exact["profile"]["district"]["norwich"] == 2
    assert exact["referrals"]["by_type"] == {"mediation": 3, "disagreement_resolution": 1}


def summary_rows(sheet) -> tuple[dict[str, object], dict[str, list]]:
    about: dict[str, object] = {}
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(rows) if row[0] == "KPI")
    for row in rows[:header_at]:
        if row[0]:
            about[row[0]] = row[1]
    header = rows[header_at]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows[header_at + 1 :] if row[0]}
    return about, table


def test_the_workbook_shows_the_json_figures(cli, cases, tmp_path: Path) -> None:
    body = export_json(cli)
    workbook = load_workbook(export_file(cli, tmp_path, "xlsx"))
    assert workbook.sheetnames == [  # the short sheets, then the long lists
        "Summary",
        "Referrals",
        "Flow and waiting times",
        "Profile",
        "Satisfaction",
        "Feedback",
        "Monthly trend",
        "Notes",
        "Breaches and exceptions",
        "KPI 2",
        "KPI 3",
        "KPI 4",
        "KPI 5",
    ]
    summary = workbook["Summary"]
    about, table = summary_rows(summary)
    assert about["Period"] == "FY2026-H1"
    assert about["From"].date().isoformat() == "2026-04-01"
    assert about["As of"].date().isoformat() == AS_OF
    assert about["KPI definitions"] == f"version {body['pack']['version']}"
    for key, figures in body["kpis"].items():
        row = table[figures["kpi"]]
        assert row["Target"] * 100 == pytest.approx(figures["target"])
        if figures.get("suppressed"):
            assert row["Result"] == "[c]"
        elif figures["percent"] is None:
            assert row["Result"] is None
        else:
            assert row["Result"] * 100 == pytest.approx(figures["percent"])
        assert (row["RAG"] or "").lower() == (figures["rag"] or "")
        for word, name in (("Met", "met"), ("Breached", "breached"), ("Excepted", "excepted")):
            if key != "kpi1":
                assert row[word] == figures[name]
        if key == "kpi1":
            assert (row["Survey responses"], row["Agree"]) == (figures["responses"], figures["agree"])
    # real numbers with a percent format, and a RAG fill
    header_row = next(r for r in summary.iter_rows() if r[0].value == "KPI")[0].row
    kpi2_cell = next(r for r in summary.iter_rows(min_row=header_row + 1) if r[0].value == "KPI 2")
    assert kpi2_cell[3].number_format == "0.0%"
    assert kpi2_cell[4].fill.start_color.rgb == "FFFFC7CE"  # red
    assert summary.freeze_panes == f"A{header_row + 1}"
    # one row per clock on each KPI sheet, with real dates: the breached first, marked, then the others
    for key in ("kpi2", "kpi3", "kpi4", "kpi5"):
        figures = body["kpis"][key]
        sheet = workbook[figures["kpi"]]
        assert sheet.freeze_panes == "A2"
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        in_order = [c for c in body["clocks"] if c["clock"] == key]
        clocks = [c for c in in_order if c["status"] == "breached"]
        clocks += [c for c in in_order if c["status"] != "breached"]
        assert [r[0] for r in rows] == [c["ref"] for c in clocks]
        assert [r[3].date().isoformat() for r in rows] == [c["due_on"] for c in clocks]
        assert [r[7].lower() for r in rows] == [c["status"] for c in clocks]
        assert len(rows) == figures["total"]
        fills = [row[7].fill.start_color.rgb for row in sheet.iter_rows(min_row=2)]
        assert fills == ["FFFFC7CE" if c["status"] == "breached" else "00000000" for c in clocks]
    due = workbook["KPI 2"]["D2"]
    assert due.is_date
    assert due.number_format == "yyyy-mm-dd"
    breaches = list(workbook["Breaches and exceptions"].iter_rows(min_row=2, values_only=True))
    listed = [c for c in body["clocks"] if c["status"] == "breached"]
    listed += [c for c in body["clocks"] if c["status"] == "excepted"]
    assert [(r[0], r[5].lower()) for r in breaches] == [(c["ref"], c["status"]) for c in listed]
    assert ("M-3", "KPI 5") in {(r[0], r[1]) for r in breaches}
    assert any(r[7] == "School holiday" for r in breaches)
    referrals = list(workbook["Referrals"].iter_rows(min_row=2, values_only=True))
    assert referrals[0][:3] == ("Referrals received", "All", 4)
    # the Summary's chart: one bar per KPI row of the table, its figures those of the JSON (none withheld)
    assert len(summary._charts) == 1
    for figures in body["kpis"].values():
        row = table[figures["kpi"]]
        shown = None if figures["percent"] is None else pytest.approx(figures["percent"] / 100)
        assert (row["Chart: result"], row["Chart: target"]) == (shown, pytest.approx(figures["target"] / 100))
    trend = workbook["Monthly trend"]
    assert len(trend._charts) == 1
    assert [r[0] for r in trend.iter_rows(min_row=2, values_only=True)] == [m["month"] for m in body["trend"]]
    notes = " ".join(str(r[1]) for r in workbook["Notes"].iter_rows(min_row=2, values_only=True))
    assert "due date" in notes
    assert "3 working days after" in notes
    assert workbook["Referrals"].column_dimensions["A"].width >= len("Days from referral to")


def test_the_csv_zip_has_one_file_per_sheet(cli, cases, tmp_path: Path) -> None:
    body = export_json(cli)
    archive = zipfile.ZipFile(export_file(cli, tmp_path, "csv"))
    names = archive.namelist()
    assert names[0] == "report.csv"
    assert names[1:] == [
        "01-summary.csv",
        "02-referrals.csv",
        "03-flow-and-waiting-times.csv",
        "04-profile.csv",
        "05-satisfaction.csv",
        "06-service-feedback.csv",
        "07-monthly-trend.csv",
        "08-notes.csv",
        "09-breaches-and-exceptions.csv",
        "10-kpi-2.csv",
        "11-kpi-3.csv",
        "12-kpi-4.csv",
        "13-kpi-5.csv",
    ]
    summary = list(csv.DictReader(io.StringIO(archive.read("01-summary.csv").decode("utf-8-sig"))))
    kpi2 = next(row for row in summary if row["KPI"] == "KPI 2")
    assert (kpi2["Result"], kpi2["Met"], kpi2["Breached"]) == ("66.7", "2", "1")
    assert float(kpi2["Result"]) == body["kpis"]["kpi2"]["percent"]
    clocks = list(csv.DictReader(io.StringIO(archive.read("10-kpi-2.csv").decode("utf-8-sig"))))
    kpi2_clocks = [c for c in body["clocks"] if c["clock"] == "kpi2"]
    in_order = sorted(kpi2_clocks, key=lambda c: c["status"] != "breached")  # stable: breached first
    assert [(c["Reference"], c["Due"], c["Status"]) for c in clocks] == [
        (c["ref"], c["due_on"], c["status"].capitalize()) for c in in_order
    ]
    about = dict(csv.reader(io.StringIO(archive.read("report.csv").decode("utf-8-sig"))))
    assert (about["Period"], about["As of"]) == ("FY2026-H1", AS_OF)


def test_the_html_page_has_the_kpi_table_and_charts(cli, cases, tmp_path: Path) -> None:
    page = export_file(cli, tmp_path, "html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<th>KPI</th>" in page
    assert "<td>KPI 2</td><td>LA/ICB notified</td>" in page
    assert "66.7%" in page
    assert page.count("<svg") == 2
    assert "background:#ffc7ce" in page  # a red RAG cell
    assert "<script" not in page
    # printed: A4 pages headed and numbered (tests/test_print.py prints it), the table headers repeated
    assert "@page { size: A4 portrait;" in page
    assert '"Page " counter(page) " of " counter(pages)' in page
    assert "thead { display: table-header-group; }" in page


def test_no_personal_data_or_free_text_in_any_format(cli, cases, tmp_path: Path) -> None:
    texts = {"json": json.dumps(export_json(cli, "--no-suppression"))}
    for fmt in ("xlsx", "csv"):
        with zipfile.ZipFile(export_file(cli, tmp_path, fmt, "--no-suppression")) as archive:
            texts[fmt] = " ".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    texts["html"] = export_file(cli, tmp_path, "html", "--no-suppression").read_text(encoding="utf-8")
    for fmt, text in texts.items():
        for secret in SECRETS:
            assert secret not in text, (fmt, secret)
        assert "M-1" in text, fmt


def test_without_out_a_file_named_after_the_period_is_written_here(
    cli, cases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_ok(cli, "export", "--period", "2026-04", "--format", "html")
    expected = tmp_path / "send-mediation-compliance-2026-04.html"
    assert expected.is_file()
    assert str(expected) in result.out
    run_ok(cli, "export", "--period", "2026-04-01..2026-04-30", "--out", str(tmp_path))
    assert (tmp_path / "send-mediation-compliance-2026-04-01_to_2026-04-30.xlsx").is_file()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--period", "FY26"], ["--period=FY26", "e.g. FY2026-H1"]),
        (["--period", "FY2026", "--pack", "nope"], ["--pack=nope"]),
        (["--period", "FY2026", "--format", "pdf"], ["invalid choice"]),
    ],
)
def test_export_refusals_exit_2_with_one_line(cli, args, words) -> None:
    result = cli("--as-of", AS_OF, "export", *args)
    assert result.code == 2
    assert result.err.count("\n") == 1
    for word in words:
        assert word in result.err


def test_an_unwritable_out_fails_with_exit_1(cli, cases, tmp_path: Path) -> None:
    result = cli(
        "--as-of", AS_OF, "export", "--period", PERIOD, "--out", str(tmp_path / "no" / "such" / "r.xlsx")
    )
    assert result.code == 1
    assert "cannot write" in result.err


def test_sheet_names_stay_unique_when_a_pack_labels_two_kpis_alike() -> None:
    import copy
    import datetime as dt
    import tomllib

    from tracker.domain.compliance import compute
    from tracker.domain.periods import parse_period
    from tracker.domain.rules import parse_pack
    from tracker.exporters.sheets import sheets

    raw = tomllib.loads(
        (Path(__file__).resolve().parent.parent / "rules" / "send-mediation.toml").read_text()
    )
    raw = copy.deepcopy(raw)
    raw["clocks"]["kpi3"]["kpi"] = "KPI 2"
    pack = parse_pack(raw, "test")
    report = compute(pack, parse_period(PERIOD), dt.date(2026, 10, 5), [], [], [])
    names = [sheet.name for sheet in sheets(report)]
    assert names[-4:-2] == ["KPI 2", "KPI 2 (2)"]  # the clock lists come last
    assert len({n.lower() for n in names}) == len(names)
