"""The command line of CONTRACT.md, end to end on SQLite and PostgreSQL: exit codes, refusals, JSON shapes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tracker.cli import main
from tracker.store.schema import SCHEMA_HEAD

AS_OF = "2026-03-10"


def open_mediation(cli, ref: str = "M-0042", on: str = "2026-03-02") -> None:
    result = cli(
        "--as-of",
        AS_OF,
        "open",
        ref,
        "--type",
        "mediation",
        "--on",
        on,
        "--field",
        "source=school",
        "--field",
        "caseworker=Jo Smith",
        "--name",
        "Ava Brown",
    )
    assert result.code == 0, result.err


def test_a_mediation_path_shows_every_clock(cli) -> None:
    open_mediation(cli)
    for args in (
        ["mediation_requested", "--on", "2026-03-02"],
        ["la_notified", "--on", "2026-03-04"],
        ["meeting_scheduled", "--on", "2026-03-05", "--meeting-date", "2026-03-20"],
    ):
        result = cli("--as-of", AS_OF, "record", "M-0042", *args)
        assert result.code == 0, result.err
    shown = cli("--as-of", AS_OF, "show", "M-0042", "--json")
    body = json.loads(shown.out)
    assert body["ref"] == "M-0042"
    assert body["pack"] == "send-mediation"
    assert body["type"] == "mediation"
    assert body["state"] == "meeting_scheduled"
    clocks = {c["clock"]: c for c in body["clocks"]}
    assert clocks["kpi2"] | {} == clocks["kpi2"]
    assert (clocks["kpi2"]["starts_on"], clocks["kpi2"]["due_on"]) == ("2026-03-02", "2026-03-05")
    assert (clocks["kpi2"]["stopped_on"], clocks["kpi2"]["status"]) == ("2026-03-04", "met")
    assert clocks["kpi2"]["kpi"] == "KPI 2"
    assert clocks["kpi2"]["exception"] is None
    assert (clocks["kpi3"]["due_on"], clocks["kpi3"]["status"]) == ("2026-03-13", "running")
    assert (clocks["kpi5"]["due_on"], clocks["kpi5"]["status"]) == ("2026-04-01", "running")
    events = body["events"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert events[0]["type"] == "opened"
    assert set(events[0]) >= {"seq", "type", "on", "recorded_at", "actor", "voided", "data"}
    assert events[3]["data"] == {"meeting_date": "2026-03-20"}


def test_personal_fields_stay_out_of_show_unless_asked(cli) -> None:
    open_mediation(cli)
    plain = cli("--as-of", AS_OF, "show", "M-0042", "--json")
    assert "Ava Brown" not in plain.out
    personal = cli("--as-of", AS_OF, "show", "M-0042", "--json", "--personal")
    assert json.loads(personal.out)["personal"] == {"name": "Ava Brown"}


def test_cases_lists_most_urgent_first(cli) -> None:
    open_mediation(cli, "M-1", "2026-02-02")
    cli("--as-of", AS_OF, "record", "M-1", "mediation_requested", "--on", "2026-02-02")
    open_mediation(cli, "M-2", "2026-03-06")
    cli("--as-of", AS_OF, "record", "M-2", "mediation_requested", "--on", "2026-03-09")
    open_mediation(cli, "M-3", "2026-03-09")
    listed = json.loads(cli("--as-of", AS_OF, "cases", "--json").out)
    assert [c["ref"] for c in listed] == ["M-1", "M-2", "M-3"]
    assert listed[0]["next"] == {
        "clock": "kpi2",
        "due_on": "2026-02-05",
        "status": "breached",
        "working_days_left": -23,
    }
    assert listed[1]["next"]["clock"] == "kpi2"
    assert listed[1]["next"]["working_days_left"] == 2
    assert listed[1]["caseworker"] == "Jo Smith"
    assert listed[2]["next"] is None
    overdue = json.loads(cli("--as-of", AS_OF, "cases", "--overdue", "--json").out)
    assert [c["ref"] for c in overdue] == ["M-1"]
    soon = json.loads(cli("--as-of", AS_OF, "cases", "--due-within", "2", "--json").out)
    assert [c["ref"] for c in soon] == ["M-1", "M-2"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["record", "M-0042", "certificate_issued", "--kind", "deemed"],
            ["M-0042", "certificate_issued", "opened", "allowed now"],
        ),
        (["record", "M-0042", "la_notified"], ["needs mediation_requested"]),
        (["record", "M-0042", "mediation_requested", "--on", "2026-03-01"], ["before the case was opened"]),
        (["record", "M-0042", "mediation_requested", "--on", "2026-03-11"], ["after today"]),
        (["record", "M-0042", "bogus_event"], ["bogus_event", "allowed now"]),
        (
            ["record", "M-0042", "mediation_requested", "--field", "colour=red"],
            ["colour", "mediation_requested has no field"],
        ),
        (["record", "M-0042", "mediation_requested", "--on", "31/31/26"], ["--on=31/31/26", "2026-05-04"]),
        (["record", "M-0099", "mediation_requested"], ["M-0099", "no case"]),
        (["open", "M-0042"], ["already used"]),
        (["open", "M 42"], ["REF=M 42"]),
        (["open", "M-7", "--field", "role=grandparent"], ["role=grandparent", "parent_carer, young_person"]),
        (["open", "M-7", "--type", "adoption"], ["--type=adoption", "mediation"]),
        (["void", "M-0042", "1", "--reason", "oops"], ["opening event cannot be voided"]),
        (["void", "M-0042", "9", "--reason", "oops"], ["SEQ=9"]),
        (["cases", "--due-within", "x"], ["--due-within"]),
        (["nonsense"], ["invalid choice"]),
    ],
)
def test_refusals_exit_2_with_one_line_and_write_nothing(cli, args, words) -> None:
    open_mediation(cli)
    before = cli("--as-of", AS_OF, "show", "M-0042", "--json").out
    before_cases = cli("--as-of", AS_OF, "cases", "--all", "--json").out
    result = cli("--as-of", AS_OF, *args)
    assert result.code == 2, result
    assert result.out == ""
    assert result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    for word in words:
        assert word in result.err
    assert cli("--as-of", AS_OF, "show", "M-0042", "--json").out == before
    assert cli("--as-of", AS_OF, "cases", "--all", "--json").out == before_cases


def test_void_keeps_the_event_and_recomputes(cli) -> None:
    open_mediation(cli)
    cli("--as-of", AS_OF, "record", "M-0042", "mediation_requested", "--on", "2026-03-02")
    cli("--as-of", AS_OF, "record", "M-0042", "la_notified", "--on", "2026-03-04")
    result = cli("--as-of", AS_OF, "void", "M-0042", "3", "--reason", "recorded on the wrong case", "--json")
    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert body["state"] == "mediation_requested"
    voided = body["events"][2]
    assert (voided["seq"], voided["type"], voided["voided"]) == (3, "la_notified", True)
    assert voided["void_reason"] == "recorded on the wrong case"
    assert body["events"][3]["type"] == "correction"
    kpi2 = next(c for c in body["clocks"] if c["clock"] == "kpi2")
    assert (kpi2["stopped_on"], kpi2["status"]) == (None, "breached")
    again = cli("--as-of", AS_OF, "void", "M-0042", "3", "--reason", "twice")
    assert again.code == 2
    assert "already void" in again.err


def test_void_refused_when_a_later_event_depends_on_it(cli) -> None:
    open_mediation(cli)
    cli("--as-of", AS_OF, "record", "M-0042", "mediation_requested", "--on", "2026-03-02")
    cli("--as-of", AS_OF, "record", "M-0042", "la_notified", "--on", "2026-03-04")
    result = cli("--as-of", AS_OF, "void", "M-0042", "2", "--reason", "oops")
    assert result.code == 2
    assert "event 3 (la_notified) would no longer fit" in result.err


def test_exception_shape_and_refused_reason(cli) -> None:
    open_mediation(cli)
    cli("--as-of", AS_OF, "record", "M-0042", "mediation_requested", "--on", "2026-03-02")
    bad = cli("--as-of", AS_OF, "record", "M-0042", "exception", "--clock", "kpi5", "--reason", "holiday")
    assert bad.code == 2
    assert "school_holiday" in bad.err
    not_allowed = cli(
        "--as-of", AS_OF, "record", "M-0042", "exception", "--clock", "kpi2", "--reason", "other_agreed"
    )
    assert not_allowed.code == 2
    assert "kpi2 allows no exceptions" in not_allowed.err
    good = cli(
        "--as-of",
        AS_OF,
        "record",
        "M-0042",
        "exception",
        "--clock",
        "kpi5",
        "--reason",
        "parent_unavailable",
        "--until",
        "2026-04-20",
        "--note",
        "away until after Easter",
        "--json",
    )
    assert good.code == 0, good.err
    kpi5 = next(c for c in json.loads(good.out)["clocks"] if c["clock"] == "kpi5")
    assert kpi5["status"] == "excepted"
    assert kpi5["exception"] == {
        "reason": "parent_unavailable",
        "until": "2026-04-20",
        "note": "away until after Easter",
    }


def test_as_of_from_the_environment(cli, monkeypatch) -> None:
    monkeypatch.setenv("CASECLOCK_AS_OF", AS_OF)
    open_mediation(cli)
    cli("record", "M-0042", "mediation_requested", "--on", "2026-03-02")
    body = json.loads(cli("show", "M-0042", "--json").out)
    assert next(c for c in body["clocks"] if c["clock"] == "kpi2")["status"] == "breached"


def test_rebuild_changes_nothing_that_was_right(cli) -> None:
    open_mediation(cli)
    cli("--as-of", AS_OF, "record", "M-0042", "mediation_requested", "--on", "2026-03-02")
    before = cli("--as-of", AS_OF, "show", "M-0042", "--json").out
    result = cli("rebuild", "--json")
    assert result.code == 0
    assert json.loads(result.out)["cases"] == 1
    assert cli("--as-of", AS_OF, "show", "M-0042", "--json").out == before


def test_init_is_idempotent(cli) -> None:
    first = cli("init", "--json")
    second = cli("init", "--json")
    assert first.code == second.code == 0
    assert json.loads(second.out)["was"] == SCHEMA_HEAD


def test_the_code_expects_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "tracker.store:migrations")
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_HEAD]


def test_demo_is_deterministic(cli, tmp_path: Path, monkeypatch) -> None:
    assert cli("--as-of", "2026-11-20", "demo", "--cases", "60", "--seed", "5").code == 0
    listed = cli("--as-of", "2026-11-20", "cases", "--all", "--json").out
    other = tmp_path / "other.db"
    monkeypatch.setenv("CASECLOCK_DB", f"sqlite:///{other}")
    assert cli("--as-of", "2026-11-20", "demo", "--cases", "60", "--seed", "5").code == 0
    assert cli("--as-of", "2026-11-20", "cases", "--all", "--json").out == listed


def test_default_database_is_private_to_its_owner(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["init"]) == 0
    created = next((tmp_path / "data").rglob("caseclock.db"))
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    assert stat.S_IMODE(created.parent.stat().st_mode) == 0o700
    assert "caseclock.db" in capsys.readouterr().out


def test_unreachable_server_fails_with_exit_1(capsys) -> None:
    code = main(["--db", "postgresql://nobody@127.0.0.1:1/none", "cases"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("caseclock: database unreachable")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["nonsense"], "caseclock: argument COMMAND: invalid choice: 'nonsense'"),
        (["open"], "caseclock: open: the following arguments are required: REF; see `caseclock open --help`"),
        (
            ["cases", "--due-within", "x"],
            "caseclock: cases: argument --due-within: 'x' is not a whole number",
        ),
        (["--bogus", "cases"], "caseclock: unrecognized arguments: --bogus"),
    ],
)
def test_a_usage_error_is_one_line_with_one_prefix(capsys, args, line) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(line), captured.err
    assert captured.err.count("\n") == 1
    assert captured.err.count("caseclock:") == 1


class _Stream:
    """Stands in for a standard stream whose terminal-ness a test decides (pytest's are never terminals)."""

    def __init__(self, real: object, tty: bool) -> None:
        self._real, self._tty = real, tty

    def isatty(self) -> bool:
        return self._tty

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


@pytest.mark.parametrize("not_a_terminal", ["stdin", "stdout", "stderr"])
def test_tui_without_a_terminal_is_refused_at_once(
    capsys, monkeypatch, tmp_path: Path, not_a_terminal: str
) -> None:
    import sys

    for name in ("stdin", "stdout", "stderr"):
        monkeypatch.setattr(sys, name, _Stream(getattr(sys, name), name != not_a_terminal))
    assert main(["--db", f"sqlite:///{tmp_path / 'cases.db'}", "tui"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "caseclock: tui needs a terminal: run it in an interactive terminal, with no input or output "
        "redirected (scripts and cron jobs use `caseclock cases` and `caseclock check`)\n"
    )


def test_tui_under_pytest_has_no_terminal(capsys, tmp_path: Path) -> None:
    assert main(["--db", f"sqlite:///{tmp_path / 'cases.db'}", "tui"]) == 2
    assert "tui needs a terminal" in capsys.readouterr().err


def test_tui_in_a_terminal_goes_on_to_open_the_database(capsys, monkeypatch) -> None:
    import sys

    for name in ("stdin", "stdout", "stderr"):
        monkeypatch.setattr(sys, name, _Stream(getattr(sys, name), True))
    # An unreachable server: the command got past the terminal check, and stops before any screen opens.
    assert main(["--db", "postgresql://nobody@127.0.0.1:1/none", "tui"]) == 1
    assert capsys.readouterr().err.startswith("caseclock: database unreachable")


def test_events_lists_the_clocks_and_reasons_of_an_exception(capsys) -> None:
    assert main(["events", "--type", "mediation", "--json"]) == 0
    events = {e["event"]: e for e in json.loads(capsys.readouterr().out)}
    fields = {f["name"]: f for f in events["exception"]["fields"]}
    assert fields["clock"]["choices"] == ["kpi5"]  # the only clock that allows exceptions
    reasons = ["school_holiday", "parent_unavailable", "young_person_unavailable", "other_agreed"]
    assert fields["reason"]["choices"] == reasons
    assert fields["until"]["choices"] is None
    assert events["meeting_held"]["fields"][0]["choices"] == ["agreed", "partly_agreed", "not_agreed"]
    assert main(["events", "--type", "mediation"]) == 0
    text = capsys.readouterr().out
    exception = text[text.index("\nexception:") :].split("\n\n")[0]
    assert "--clock   clock (required)             kpi5\n" in exception
    assert "--reason  exception_reason (required)  " + ", ".join(reasons) in exception


def test_events_lists_the_reasons_of_each_clock_when_they_differ(capsys, tmp_path: Path) -> None:
    from tracker.domain.rules import shipped_pack_dir

    text = (shipped_pack_dir() / "adoption-support.toml").read_text(encoding="utf-8")
    assert text.count('exception_reasons = ["service_user_unavailable", "other_agreed"]') == 2
    text = text.replace(
        'exception_reasons = ["service_user_unavailable", "other_agreed"]',
        'exception_reasons = ["other_agreed"]',
        1,
    )
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "local.toml").write_text(text.replace('"adoption-support"', '"local"'), "utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[packs]\nenabled = ["local"]\ndirs = ["packs"]\n', encoding="utf-8")
    assert main(["--config", str(config), "events", "--json"]) == 0
    events = {e["event"]: e for e in json.loads(capsys.readouterr().out)}
    fields = {f["name"]: f for f in events["exception"]["fields"]}
    assert fields["clock"]["choices"] == ["assessment", "support"]
    assert fields["reason"]["choices"] == ["other_agreed", "service_user_unavailable"]
    assert fields["reason"]["choices_by_clock"] == {
        "assessment": ["other_agreed"],
        "support": ["service_user_unavailable", "other_agreed"],
    }
    assert main(["--config", str(config), "events"]) == 0
    assert (
        "assessment: other_agreed; support: service_user_unavailable, other_agreed" in capsys.readouterr().out
    )
