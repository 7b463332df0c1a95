"""A refusal names a personal or free-text field, never its value: `open`, `record`, `import` and the TUI.

Refusals are printed, logged by cron and shown on shared screens, so `name=Alice Example: ...` must read
`name (personal, value not shown): ...`. Values of the other fields are still shown (they help the fix).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.errors import InvalidValue
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules, decide_open
from tui.refusals import word_refusal

AS_OF = "2026-10-05"
SECRET = "Alice Example"


def one_line_refusal(result) -> str:
    assert result.code == 2, (result.out, result.err)
    assert result.err.count("\n") == 1, result.err
    assert SECRET not in result.err
    assert SECRET.lower() not in result.err.lower()
    return result.err.strip().removeprefix("caseclock: ")


@pytest.fixture
def opened(cli) -> None:
    assert cli("--as-of", AS_OF, "open", "M-1", "--on", "2026-09-01").code == 0
    assert cli("--as-of", AS_OF, "record", "M-1", "mediation_requested", "--on", "2026-09-02").code == 0


def test_a_personal_field_on_an_event_without_it_is_named_not_shown(cli, opened) -> None:
    line = one_line_refusal(
        cli("--as-of", AS_OF, "record", "M-1", "la_notified", "--field", f"name={SECRET}")
    )
    assert line.startswith("name (personal, value not shown): la_notified has no field name")


def test_a_personal_value_too_long_is_named_not_shown(cli) -> None:
    long_name = SECRET + " " + "x" * 200
    line = one_line_refusal(cli("--as-of", AS_OF, "open", "M-2", "--field", f"name={long_name}"))
    assert line == "name (personal, value not shown): use at most 200 characters"


def test_free_text_too_long_is_named_not_shown(cli, opened) -> None:
    note = SECRET + " said " + "y" * 4000
    line = one_line_refusal(cli("--as-of", AS_OF, "record", "M-1", "la_notified", "--note", note))
    assert line == "note (free text, value not shown): use at most 4000 characters"


def test_an_unknown_field_is_named_and_its_value_not_shown(cli) -> None:
    line = one_line_refusal(cli("--as-of", AS_OF, "open", "M-3", "--field", f"nmae={SECRET}"))
    assert line.startswith("nmae (unknown field, value not shown): opened has no field nmae (did you mean")


def test_a_field_without_its_name_is_not_echoed(cli) -> None:
    line = one_line_refusal(cli("--as-of", AS_OF, "open", "M-4", "--field", SECRET))
    assert (
        line
        == "--field (no field named, value not shown): write it as NAME=VALUE, e.g. --field source=school"
    )


def test_other_values_are_still_shown(cli) -> None:
    result = cli("--as-of", AS_OF, "open", "M-5", "--field", "district=Norwich City")
    assert result.code == 2
    assert result.err.startswith("caseclock: district=Norwich City: use one of")


def test_import_rows_name_the_personal_column_and_hide_its_value(cli, tmp_path: Path) -> None:
    long_name = SECRET + "z" * 200
    content = (
        "reference,opened_on,name,district\n"
        f"M-1,2026-04-01,{long_name},norwich\n"
        f"M-2,2026-04-01,{SECRET},Norwich City\n"
    )
    path = tmp_path / "cases.csv"
    path.write_text(content, encoding="utf-8")
    result = cli("--as-of", AS_OF, "import", "cases", str(path))
    assert result.code == 2
    assert SECRET not in result.err
    lines = result.err.strip().splitlines()
    assert lines[0].endswith("line 2, column name (personal, value not shown): use at most 200 characters")
    assert "line 3, column district: 'Norwich City': use one of breckland" in lines[1]
    body = json.loads(cli("--as-of", AS_OF, "import", "cases", str(path), "--json").out)
    assert body["bad"][0] == {
        "line": 2,
        "column": "name",
        "value": None,
        "why": "use at most 200 characters",
        "withheld": "personal",
    }
    assert SECRET not in json.dumps(body)


def test_import_of_surveys_hides_a_long_comment(cli, tmp_path: Path) -> None:
    assert cli("--as-of", AS_OF, "open", "M-1", "--on", "2026-04-01").code == 0
    path = tmp_path / "s.csv"
    path.write_text(f"reference,date,satisfied,comment\nM-1,2026-05-05,agree,{SECRET}{'w' * 4000}\n")
    result = cli("--as-of", AS_OF, "import", "surveys", str(path))
    assert result.code == 2
    assert SECRET not in result.err
    assert "line 2, column comment (free text, value not shown): use at most 4000 characters" in result.err


def test_the_tui_words_a_withheld_refusal_without_the_value() -> None:
    rules = Rules(discover_packs(), WorkingCalendar())
    now = dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC)
    with pytest.raises(InvalidValue) as caught:
        decide_open(rules, "M-1", None, dt.date(2026, 10, 1), {"name": SECRET * 20}, "jo", now, now.date())
    error = caught.value
    assert (error.value, error.withheld) == (InvalidValue.NOT_SHOWN, "personal")
    refusal = word_refusal(rules.packs.latest("send-mediation"), error, {"name": "Name"})
    assert refusal.field == "name"
    assert SECRET not in refusal.text
    assert refusal.text == "Name: use at most 200 characters"
