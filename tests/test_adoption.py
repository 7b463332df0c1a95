"""The adoption support pack on the same engine: its clocks, overrides, and a database holding both packs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.clocks import ClockStatus
from tracker.domain.errors import ConfigError, EventRefused, InvalidValue
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import CaseState, Rules, decide, decide_open, project

D = dt.date.fromisoformat
NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
TODAY = D("2026-06-30")
BOTH = ["send-mediation", "adoption-support"]
RULES = Rules(discover_packs(enabled=BOTH), WorkingCalendar())


class Case:
    def __init__(self, opened: str = "2026-03-02", rules: Rules = RULES, **fields: object) -> None:
        self.rules = rules
        profile = {"service_user": "adopter", "caseworker": "Sam Patel", **fields}
        self.events = [decide_open(rules, "A-1", "adoption_support", D(opened), profile, "t", NOW, TODAY)]
        self.state: CaseState = project(rules, "A-1", self.events)

    def rec(self, event_type: str, on: str, **fields: object) -> Case:
        self.events.append(
            decide(self.rules, self.state, self.events, event_type, D(on), fields, "t", NOW, TODAY)
        )
        self.state = project(self.rules, "A-1", self.events)
        return self

    def clock(self, clock_id: str):
        return next(c for c in reversed(self.state.clocks) if c.clock == clock_id)


def test_the_referral_starts_the_assessment_clock() -> None:
    case = Case("2026-03-02")
    assessment = case.clock("assessment")
    assert (assessment.starts_on, assessment.due_on) == (D("2026-03-02"), D("2026-03-30"))
    assert assessment.status(D("2026-03-30")) is ClockStatus.RUNNING
    assert assessment.status(D("2026-03-31")) is ClockStatus.BREACHED


def test_assessment_then_support_clocks_over_easter() -> None:
    case = Case("2026-03-02").rec("assessed", "2026-03-27").rec("support_started", "2026-04-29")
    assert case.clock("assessment").status(TODAY) is ClockStatus.MET
    support = case.clock("support")
    # 20 working days after Fri 27 Mar 2026, skipping Good Friday (3 Apr) and Easter Monday (6 Apr).
    assert support.due_on == D("2026-04-28")
    assert support.status(TODAY) is ClockStatus.BREACHED
    assert case.state.state == "support_started"


def test_sessions_only_after_support_started_and_exit_ends_the_case() -> None:
    case = Case().rec("assessed", "2026-03-10")
    with pytest.raises(EventRefused, match="needs support_started first"):
        case.rec("session_delivered", "2026-03-11", activity="one_to_one", minutes="60", mode="online")
    case.rec("support_started", "2026-03-12")
    case.rec("session_delivered", "2026-03-13", activity="one_to_one", minutes="60", mode="online")
    with pytest.raises(InvalidValue, match="minutes"):
        case.rec("session_delivered", "2026-03-14", activity="one_to_one", minutes="0", mode="online")
    case.rec("exited", "2026-04-01", reason="goals_met")
    assert case.state.terminal
    with pytest.raises(EventRefused, match="exited"):
        case.rec("session_delivered", "2026-04-02", activity="one_to_one", minutes="60", mode="online")
    case.rec("survey", "2026-04-10", support_and_advice="agree")


def test_exit_before_assessment_cancels_the_clock_and_exceptions_use_the_packs_reasons() -> None:
    case = Case("2026-03-02")
    with pytest.raises(InvalidValue, match="service_user_unavailable"):
        case.rec("exception", "2026-03-05", clock="assessment", reason="school_holiday")
    case.rec("exception", "2026-03-05", clock="assessment", reason="service_user_unavailable")
    assert case.clock("assessment").status(TODAY) is ClockStatus.EXCEPTED
    other = Case("2026-03-02").rec("exited", "2026-03-10", reason="withdrew")
    assert other.clock("assessment").status(TODAY) is ClockStatus.CANCELLED


def test_the_service_user_group_is_required() -> None:
    with pytest.raises(InvalidValue, match="service_user"):
        decide_open(RULES, "A-2", "adoption_support", D("2026-03-02"), {}, "t", NOW, TODAY)


def test_config_sets_the_waiting_time_targets_not_set_yet() -> None:
    overrides = {"adoption-support": {"clocks": {"assessment": {"working_days_after": 10, "target": 90.0}}}}
    rules = Rules(discover_packs(enabled=BOTH, overrides=overrides), WorkingCalendar())
    case = Case("2026-03-02", rules=rules)
    assert case.clock("assessment").due_on == D("2026-03-16")
    assert case.clock("assessment").spec.target == 90.0
    with pytest.raises(ConfigError, match="assessment is counted in working_days_after"):
        discover_packs(
            enabled=BOTH,
            overrides={"adoption-support": {"clocks": {"assessment": {"calendar_days_after": 5}}}},
        )


def test_the_adoption_pack_is_off_unless_enabled() -> None:
    assert discover_packs().pack_for_case_type("adoption_support") is None
    assert discover_packs(enabled=BOTH).pack_for_case_type("adoption_support") == "adoption-support"


@pytest.fixture
def both_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config.toml"
    config.write_text('[packs]\nenabled = ["send-mediation", "adoption-support"]\n', encoding="utf-8")
    monkeypatch.setenv("CASECLOCK_CONFIG", str(config))
    return config


def test_one_database_holds_both_packs(cli, both_packs: Path) -> None:
    assert cli("--as-of", "2026-06-30", "open", "M-1", "--on", "2026-03-02").code == 0
    assert (
        cli(
            "--as-of",
            "2026-06-30",
            "open",
            "A-1",
            "--type",
            "adoption_support",
            "--on",
            "2026-03-02",
            "--service-user",
            "birth_parent",
        ).code
        == 0
    )
    listed = {c["ref"]: c for c in json.loads(cli("--as-of", "2026-03-03", "cases", "--json").out)}
    assert listed["M-1"]["type"] == "mediation"
    assert listed["M-1"]["next"] is None
    assert listed["A-1"]["next"]["clock"] == "assessment"
    refused = cli("--as-of", "2026-06-30", "record", "A-1", "mediation_requested")
    assert refused.code == 2
    assert "not an event of adoption-support" in refused.err


def test_the_demo_fills_both_packs_when_both_are_enabled(cli, both_packs: Path) -> None:
    assert cli("--as-of", "2026-11-20", "demo", "--cases", "120", "--seed", "3").code == 0
    every = json.loads(cli("--as-of", "2026-11-20", "cases", "--all", "--json").out)
    types = {c["type"] for c in every}
    assert {"mediation", "adoption_support"} <= types
