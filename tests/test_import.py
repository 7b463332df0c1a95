"""`caseclock import cases|surveys FILE.csv`: bad rows reported, nothing written; re-imports add nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AS_OF = "2026-10-05"

CASES = "\n".join(
    [
        ",".join(
            [
                "Reference,Type,Opened,Caseworker,Referral source,District,Name,Mediation requested",
                "la_notified,meeting_scheduled,Meeting date,meeting_held,meeting_held.outcome",
                "certificate_issued,certificate_issued.kind",
            ]
        ),
        ",".join(
            [
                "M-1,mediation,2026-04-01,Jo Smith,School,Norwich,Ava Brown,2026-04-02",
                "2026-04-09,2026-04-10,2026-04-24,2026-04-24,agreed,2026-04-29,after_mediation",
            ]
        ),
        "M-2,Mediation,02/06/2026,Sam Patel,parent/carer,south norfolk,,2026-06-02,2026-06-03,,,,,,",
        "M-3,disagreement_resolution,2026-08-03,Jo Smith,SENDIASS,Breckland,,,,,,,,,",
        "",
    ]
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def all_cases(cli) -> list[dict]:
    return json.loads(cli("--as-of", AS_OF, "cases", "--all", "--json").out)


def test_a_good_cases_file_is_imported_through_the_state_machine(cli, tmp_path: Path) -> None:
    result = cli("--as-of", AS_OF, "import", "cases", str(write(tmp_path, "cases.csv", CASES)))
    assert result.code == 0, result.err
    assert "imported 3 cases" in result.out
    assert sorted(c["ref"] for c in all_cases(cli)) == ["M-1", "M-2", "M-3"]
    m1 = json.loads(cli("--as-of", AS_OF, "show", "M-1", "--json", "--personal").out)
    assert m1["state"] == "certificate_issued"
    assert m1["fields"]["source"] == "school"
    assert m1["fields"]["district"] == "norwich"
    assert m1["personal"] == {"name": "Ava Brown"}
    clocks = {(c["clock"], c["status"]) for c in m1["clocks"]}
    assert clocks == {("kpi2", "met"), ("kpi3", "breached"), ("kpi5", "met"), ("kpi4", "met")}
    held = next(e for e in m1["events"] if e["type"] == "meeting_held")
    assert held["data"] == {"outcome": "agreed"}
    m2 = json.loads(cli("--as-of", AS_OF, "show", "M-2", "--json").out)
    assert (m2["opened_on"], m2["state"], m2["fields"]["district"]) == (
        "2026-06-02",
        "la_notified",
        "south_norfolk",
    )
    assert m2["fields"]["source"] == "parent_carer"


def test_importing_the_same_file_twice_creates_nothing_twice(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "cases.csv", CASES)
    assert cli("--as-of", AS_OF, "import", "cases", str(path)).code == 0
    before = [json.loads(cli("--as-of", AS_OF, "show", r, "--json").out) for r in ("M-1", "M-2", "M-3")]
    again = cli("--as-of", AS_OF, "import", "cases", str(path), "--json")
    assert again.code == 0, again.err
    body = json.loads(again.out)
    assert body["written"] == 0
    assert [s["ref"] for s in body["skipped"]] == ["M-1", "M-2", "M-3"]
    after = [json.loads(cli("--as-of", AS_OF, "show", r, "--json").out) for r in ("M-1", "M-2", "M-3")]
    assert after == before


BAD_CASES = """\
reference,type,opened_on,district,mediation_requested,la_notified,meeting_held.outcome
M-10,mediation,2026-04-01,norwich,2026-04-02,2026-04-03,
M-11,mediation,2026-04-01,Norwich City,,,
M-12,mediation,31/31/2026,norwich,,,
M-13,mediation,2026-04-01,norwich,,2026-04-03,
M-10,mediation,2026-04-01,norwich,,,
,mediation,2026-04-01,norwich,,,
M-14,adoption,2026-04-01,,,,
M-15,mediation,2026-11-01,,,,
M-16,mediation,2026-04-01,,2026-04-02,,agreed
M 17,mediation,2026-04-01,,,,
"""


def test_every_bad_row_is_reported_and_nothing_is_written(cli, tmp_path: Path) -> None:
    result = cli("--as-of", AS_OF, "import", "cases", str(write(tmp_path, "bad.csv", BAD_CASES)))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 10, result.err
    assert "9 bad row(s)" in lines[-1]
    assert "nothing was written" in lines[-1]
    assert "line 3, column district: 'Norwich City': use one of breckland" in lines[0]
    assert "line 4, column opened_on: '31/31/2026'" in lines[1]
    assert "line 5, column la_notified: '2026-04-03'" in lines[2]
    assert "needs mediation_requested first" in lines[2]
    assert "line 6, column reference: 'M-10': the same reference is on line 2" in lines[3]
    assert "line 7, column reference: ''" in lines[4]
    assert "line 8, column type: 'adoption'" in lines[5]
    assert "line 9, column opened_on: '2026-11-01'" in lines[6]
    assert "after today" in lines[6]
    assert "line 10, column meeting_held: ''" in lines[7]
    assert "line 11, column reference: 'M 17'" in lines[8]
    assert "Traceback" not in result.err
    assert all_cases(cli) == []


def test_skip_bad_writes_the_good_rows_and_lists_the_rest(cli, tmp_path: Path) -> None:
    result = cli(
        "--as-of", AS_OF, "import", "cases", str(write(tmp_path, "bad.csv", BAD_CASES)), "--skip-bad"
    )
    assert result.code == 0
    assert result.out.splitlines()[-1] == (
        "imported 1 case; 0 already there; 9 bad rows skipped (listed on stderr)"
    )
    assert result.err.count("\n") == 9
    assert [c["ref"] for c in all_cases(cli)] == ["M-10"]


def test_every_run_with_skip_bad_says_what_it_imported_found_and_skipped(cli, tmp_path: Path) -> None:
    path = str(write(tmp_path, "bad.csv", BAD_CASES))
    assert cli("--as-of", AS_OF, "import", "cases", path, "--skip-bad").code == 0
    again = cli("--as-of", AS_OF, "import", "cases", path, "--skip-bad")
    assert again.code == 0, again.err
    assert again.out.splitlines() == [
        "line 2: M-10: skipped: a case with this reference exists already",
        "imported 0 cases; 1 already there; 9 bad rows skipped (listed on stderr)",
    ]
    assert again.err.count("\n") == 9
    clean = cli("--as-of", AS_OF, "import", "cases", str(write(tmp_path, "cases.csv", CASES)), "--skip-bad")
    assert clean.out.splitlines()[-1] == "imported 3 cases; 0 already there; 0 bad rows skipped"
    surveys = str(write(tmp_path, "surveys.csv", SURVEYS + "r-4,M-99,2026-05-05,agree,,,\n"))
    first = cli("--as-of", AS_OF, "import", "surveys", surveys, "--skip-bad")
    assert first.out.splitlines()[-1] == (
        "imported 3 survey responses; 0 already there; 1 bad row skipped (listed on stderr)"
    )
    second = cli("--as-of", AS_OF, "import", "surveys", surveys, "--skip-bad")
    assert second.out.splitlines()[-1] == (
        "imported 0 survey responses; 3 already there; 1 bad row skipped (listed on stderr)"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("reference,colour\nM-1,red\n", ["column colour", "not a column caseclock knows"]),
        (
            "type,opened_on\nmediation,2026-04-01\n",
            ["column reference", "add a column named reference or ref"],
        ),
        ("", ["FILE=", "the file is empty"]),
    ],
)
def test_a_bad_header_refuses_the_whole_file(cli, tmp_path: Path, text: str, words: list[str]) -> None:
    result = cli("--as-of", AS_OF, "import", "cases", str(write(tmp_path, "h.csv", text)))
    assert result.code == 2
    for word in words:
        assert word in result.err
    assert all_cases(cli) == []


def test_a_missing_file_is_refused(cli, tmp_path: Path) -> None:
    result = cli("--as-of", AS_OF, "import", "cases", str(tmp_path / "nope.csv"))
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "cannot read it" in result.err


SURVEYS = """\
Response ID,Reference,Date,I was satisfied with the service,I felt listened to,Understood,Comment
r-1,M-1,2026-05-05,Agree,Strongly agree,,Really helpful
r-2,M-3,2026-09-10,disagree,agree,neutral,
r-3,M-3,2026-09-11,Strongly agree,,,
"""


def test_surveys_from_an_online_form_count_in_kpi1_once(cli, tmp_path: Path) -> None:
    assert cli("--as-of", AS_OF, "import", "cases", str(write(tmp_path, "cases.csv", CASES))).code == 0
    path = write(tmp_path, "surveys.csv", SURVEYS)
    result = cli("--as-of", AS_OF, "import", "surveys", str(path))
    assert result.code == 0, result.err
    assert "imported 3 survey responses" in result.out
    m1 = json.loads(cli("--as-of", AS_OF, "show", "M-1", "--json").out)
    survey = next(e for e in m1["events"] if e["type"] == "survey")
    assert survey["data"] == {
        "response_id": "r-1",
        "satisfied": "agree",
        "listened_to": "strongly_agree",
        "comment": "Really helpful",
    }
    again = cli("--as-of", AS_OF, "import", "surveys", str(path))
    assert again.code == 0
    assert "imported 0 survey responses; 3 already there" in again.out
    report = json.loads(cli("--as-of", AS_OF, "export", "--period", "FY2026-H1", "--format", "json").out)
    assert report["kpis"]["kpi1"]["responses"] == 3
    assert report["kpis"]["kpi1"]["agree"] == "[c]"  # 3 responses: the result is withheld
    assert report["satisfaction"]["understood"]["responses"] == 1
    assert report["satisfaction"]["comments"] == 1


def test_identical_surveys_without_a_response_id_are_recorded_once(cli, tmp_path: Path) -> None:
    assert cli("--as-of", AS_OF, "import", "cases", str(write(tmp_path, "cases.csv", CASES))).code == 0
    text = "reference,date,satisfied\nM-1,2026-05-05,agree\nM-1,2026-05-05,agree\nM-1,2026-05-06,agree\n"
    result = cli("--as-of", AS_OF, "import", "surveys", str(write(tmp_path, "s.csv", text)), "--json")
    body = json.loads(result.out)
    assert (body["written"], [s["line"] for s in body["skipped"]]) == (2, [3])


def test_bad_survey_rows_are_reported_and_nothing_is_written(cli, tmp_path: Path) -> None:
    assert cli("--as-of", AS_OF, "import", "cases", str(write(tmp_path, "cases.csv", CASES))).code == 0
    text = (
        "reference,date,satisfied\n"
        "M-1,2026-05-05,agree\n"
        "M-99,2026-05-05,agree\n"
        "M-1,2026-05-05,maybe\n"
        "M-1,2027-01-01,agree\n"
        "M-1,2026-03-01,agree\n"
    )
    result = cli("--as-of", AS_OF, "import", "surveys", str(write(tmp_path, "s.csv", text)), "--json")
    assert result.code == 2
    body = json.loads(result.out)
    assert body["written"] == 0
    assert [(b["line"], b["column"], b["value"]) for b in body["bad"]] == [
        (3, "reference", "M-99"),
        (4, "satisfied", "maybe"),
        (5, "date", "2027-01-01"),
        (6, "date", "2026-03-01"),
    ]
    assert "before the case was opened" in body["bad"][3]["why"]
    m1 = json.loads(cli("--as-of", AS_OF, "show", "M-1", "--json").out)
    assert not [e for e in m1["events"] if e["type"] == "survey"]


def test_districts_are_configurable(cli, tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "config.toml",
        '[packs.overrides.send-mediation.choices]\ndistrict = ["allerdale", "carlisle", "eden"]\n',
    )
    text = "reference,opened_on,district\nC-1,2026-04-01,Carlisle\nC-2,2026-04-01,Norwich\n"
    path = write(tmp_path, "c.csv", text)
    result = cli("--config", str(config), "--as-of", AS_OF, "import", "cases", str(path))
    assert result.code == 2
    assert "line 3, column district: 'Norwich': use one of allerdale, carlisle, eden" in result.err
    assert (
        cli("--config", str(config), "--as-of", AS_OF, "import", "cases", str(path), "--skip-bad").code == 0
    )
    report = cli(
        "--config", str(config), "--as-of", AS_OF, "export", "--period", "2026-04", "--format", "json"
    )
    # the one count above 0 is the total: a 0 is hidden beside it, so that it is not given away
    assert json.loads(report.out)["profile"]["district"] == {"allerdale": "<5", "carlisle": "<5", "eden": 0}
