"""Who a report is from and what it measures, in the commissioner's words, on every format's first page."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from openpyxl import load_workbook

PROVIDER = """
[provider]
name = "Example Mediation Services Ltd"
commissioner = "Norfolk County Council, Children's Services"
contract_reference = "NCC-EXAMPLE-001"
contact_role = "Service manager"
"""


def opened(cli, config: Path) -> None:
    base = ("--config", str(config), "--as-of", "2026-05-20")
    fields = ("--field", "district=great_yarmouth", "--field", "ethnicity=white_british")
    assert cli(*base, "open", "M-1", "--type", "mediation", "--on", "2026-05-01", *fields).code == 0
    assert cli(*base, "record", "M-1", "mediation_requested", "--on", "2026-05-01").code == 0


def summary(path: Path) -> dict[str, object]:
    sheet = load_workbook(path, read_only=True)["Summary"]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}


def test_every_format_says_who_the_report_is_from_and_that_it_is_provisional(cli, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(PROVIDER, encoding="utf-8")
    opened(cli, config)
    base = ("--config", str(config), "--as-of", "2026-05-20", "export", "--period", "FY2026-Q1")
    assert cli(*base, "--format", "xlsx", "--out", str(tmp_path / "r.xlsx")).code == 0
    head = summary(tmp_path / "r.xlsx")
    assert head["Report"] == "SEND mediation and disagreement resolution: performance report"
    assert head["Provider"] == "Example Mediation Services Ltd"
    assert head["Commissioner"] == "Norfolk County Council, Children's Services"
    assert head["Contract reference"] == "NCC-EXAMPLE-001"
    assert head["Contact"] == "Service manager"
    assert str(head["Status"]).startswith("provisional")
    assert "As known on" in head
    body = json.loads(cli(*base, "--format", "json").out)
    assert body["provisional"] is True
    assert body["report"]["Provider"] == "Example Mediation Services Ltd"
    assert cli(*base, "--format", "csv", "--out", str(tmp_path / "r.zip")).code == 0
    with zipfile.ZipFile(tmp_path / "r.zip") as archive:
        first = archive.read("report.csv").decode("utf-8-sig")
    assert "Example Mediation Services Ltd" in first
    assert cli(*base, "--format", "html", "--out", str(tmp_path / "r.html")).code == 0
    assert "Example Mediation Services Ltd" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_no_internal_words_reach_the_commissioner(cli, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[packs]\nenabled = ["send-mediation", "adoption-support"]\n', encoding="utf-8")
    opened(cli, config)
    for pack in ("send-mediation", "adoption-support"):
        out = tmp_path / f"{pack}.xlsx"
        args = ("--config", str(config), "--as-of", "2026-07-20", "export", "--period", "FY2026-Q1")
        assert cli(*args, "--pack", pack, "--format", "xlsx", "--out", str(out)).code == 0
        book = load_workbook(out, read_only=True)
        words = " ".join(
            str(value)
            for sheet in book
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value
        )
        lowered = words.lower()
        assert "rule pack" not in lowered
        assert "rule-pack" not in lowered
        assert "placeholder" not in lowered
        assert pack not in words  # no pack id
        if pack == "adoption-support":
            assert "target not set" in words  # the waiting times' targets are the Authority's to set
        else:
            assert "Great Yarmouth" in words
            assert "White British" in words
            assert "final" in str(summary(out)["Status"])


def test_a_report_of_an_ended_period_is_final(cli, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    opened(cli, config)
    args = ("--config", str(config), "--as-of", "2026-07-01", "export", "--period", "FY2026-Q1")
    body = json.loads(cli(*args, "--format", "json").out)
    assert body["provisional"] is False
