"""The command line's side of the step rules: warnings on stderr, field refusals and back-dated steps."""

from __future__ import annotations

import json

AS_OF = ("--as-of", "2026-06-30")


def open_requested(cli, ref: str) -> None:
    assert cli(*AS_OF, "open", ref, "--type", "mediation", "--on", "2026-03-02").code == 0
    assert cli(*AS_OF, "record", ref, "mediation_requested", "--on", "2026-03-02").code == 0


def test_a_meeting_after_the_kpi5_deadline_is_recorded_with_a_warning_on_stderr(cli) -> None:
    open_requested(cli, "M-1")  # kpi5 due 2026-04-01
    result = cli(
        *AS_OF, "record", "M-1", "meeting_scheduled", "--on", "2026-03-03", "--meeting-date", "2026-04-08"
    )
    assert result.code == 0
    assert result.err == (
        "caseclock: warning: M-1: the meeting is after the 30-day deadline (due 2026-04-01): "
        "record an exception if one applies\n"
    )
    assert "meeting_scheduled recorded as event 3" in result.out
    on_time = cli(
        *AS_OF, "record", "M-1", "meeting_scheduled", "--on", "2026-03-04", "--meeting-date", "2026-04-01"
    )
    assert on_time.code == 0
    assert on_time.err == ""


def test_a_field_refusal_names_the_field_and_writes_nothing(cli) -> None:
    open_requested(cli, "M-1")
    result = cli(
        *AS_OF, "record", "M-1", "exception", "--on", "2026-03-10",
        "--clock", "kpi5", "--reason", "parent_unavailable", "--until", "2026-03-09",
    )  # fmt: skip
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert result.err.startswith("caseclock: until=2026-03-09: case M-1: exception: ")
    assert "does not fit state" not in result.err
    events = json.loads(cli(*AS_OF, "show", "M-1", "--json").out)["events"]
    assert [e["type"] for e in events] == ["opened", "mediation_requested"]


def test_a_step_recorded_late_counts_where_it_happened(cli) -> None:
    open_requested(cli, "M-1")
    assert cli(*AS_OF, "record", "M-1", "mediation_declined", "--on", "2026-03-10").code == 0
    assert cli(*AS_OF, "record", "M-1", "la_notified", "--on", "2026-03-04").code == 0
    clocks = json.loads(cli(*AS_OF, "show", "M-1", "--json").out)["clocks"]
    kpi2 = next(c for c in clocks if c["clock"] == "kpi2")
    assert (kpi2["stopped_on"], kpi2["status"]) == ("2026-03-04", "met")


def test_export_after_a_pack_change_waits_for_rebuild(cli, tmp_path) -> None:
    open_requested(cli, "M-1")
    assert cli(*AS_OF, "export", "--period", "FY2025", "--format", "json").code == 0
    config = tmp_path / "config.toml"
    config.write_text("[packs.overrides.send-mediation.clocks.kpi2]\ntarget = 95.0\n", encoding="utf-8")
    refused = cli("--config", str(config), *AS_OF, "export", "--period", "FY2025", "--format", "json")
    assert refused.code == 1
    assert refused.err.startswith("caseclock: the cases were last computed with other rules")
    assert "run `caseclock rebuild`" in refused.err
    assert cli("--config", str(config), *AS_OF, "rebuild").code == 0
    after = cli("--config", str(config), *AS_OF, "export", "--period", "FY2025", "--format", "json")
    assert after.code == 0
    assert json.loads(after.out)["kpis"]["kpi2"]["target"] == 95.0
