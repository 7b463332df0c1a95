"""The send-mediation state machine and its clocks, against DOMAIN.md's event table and clock rules."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.clocks import SUPERSEDED, ClockInstance, ClockStatus
from tracker.domain.errors import EventRefused, InvalidValue, Refused
from tracker.domain.events import Event
from tracker.domain.rules import PackRegistry, RulePack, discover_packs, parse_pack
from tracker.domain.workflow import (
    CaseState,
    Rules,
    allowed_events,
    decide,
    decide_open,
    decide_void,
    project,
    warnings_for,
)

D = dt.date.fromisoformat
PACK_FILE = Path(__file__).resolve().parent.parent / "rules" / "send-mediation.toml"
CALENDAR = WorkingCalendar()
RULES = Rules(discover_packs(), CALENDAR)
TODAY = D("2026-05-01")
NOW = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
REF = "M-1"

MET, BREACHED, RUNNING = ClockStatus.MET, ClockStatus.BREACHED, ClockStatus.RUNNING
EXCEPTED, CANCELLED = ClockStatus.EXCEPTED, ClockStatus.CANCELLED


class Case:
    """A case driven through decide/project exactly as the CLI does, without a store."""

    def __init__(
        self,
        case_type: str | None = "mediation",
        opened: str = "2026-02-02",
        rules: Rules = RULES,
        today: dt.date = TODAY,
    ) -> None:
        self.rules = rules
        self.today = today
        fields = {"caseworker": "Jo", "name": "A Parent", "district": "norwich"}
        self.events: list[Event] = [decide_open(rules, REF, case_type, D(opened), fields, "jo", NOW, today)]
        self.state: CaseState = project(rules, REF, self.events)

    def rec(self, event_type: str, on: str, **fields: object) -> Case:
        event = decide(self.rules, self.state, self.events, event_type, D(on), fields, "jo", NOW, self.today)
        self.events.append(event)
        self.state = project(self.rules, REF, self.events)
        return self

    def refuse(self, event_type: str, on: str, error: type[Refused] = EventRefused, **fields: object) -> str:
        """Assert the event is refused and nothing changes; return the message."""
        before = list(self.events)
        with pytest.raises(error) as info:
            self.rec(event_type, on, **fields)
        assert self.events == before
        return str(info.value)

    def void(self, seq: int, reason: str = "recorded on the wrong case") -> Case:
        event = decide_void(self.rules, self.events, self.state, seq, reason, "jo", NOW, self.today)
        self.events.append(event)
        self.state = project(self.rules, REF, self.events)
        return self

    def seq_of(self, event_type: str, nth: int = 0) -> int:
        return [e.seq for e in self.events if e.type == event_type][nth]

    def clocks(self, clock_id: str) -> list[ClockInstance]:
        return [c for c in self.state.clocks if c.clock == clock_id]

    def clock(self, clock_id: str) -> ClockInstance:
        """The latest instance of a clock."""
        instances = self.clocks(clock_id)
        assert instances, f"no {clock_id} clock: {self.state.clocks}"
        return instances[-1]

    def status(self, clock_id: str, as_of: str = "2026-05-01") -> ClockStatus:
        return self.clock(clock_id).status(D(as_of))


# Fields that make each event valid on its own, so that only the state machine decides.
VALID_FIELDS: Mapping[str, Mapping[str, str]] = {
    "meeting_scheduled": {"meeting_date": "2026-03-20"},
    "meeting_held": {"outcome": "agreed"},
    "certificate_issued": {"kind": "after_mediation"},
    "withdrawn": {"reason": "family moved away"},
    "note": {"note": "phoned mum"},
    "survey": {"satisfied": "agree"},
    "feedback": {"kind": "compliment"},
    "impact_story": {"story": "the meeting helped the family and school agree a plan"},
    "details_changed": {"district": "broadland"},
    "closed": {},
}

# Histories of a mediation case opened Monday 2 February 2026; every event is dated before 2026-03-10.
HISTORIES: Mapping[str, list[tuple[str, str, dict[str, str]]]] = {
    "opened": [],
    "requested": [("mediation_requested", "2026-02-02", {})],
    "notified": [("mediation_requested", "2026-02-02", {}), ("la_notified", "2026-02-03", {})],
    "declined": [("mediation_declined", "2026-02-03", {})],
    "requested_declined": [
        ("mediation_requested", "2026-02-02", {}),
        ("mediation_declined", "2026-02-04", {}),
    ],
    "scheduled": [
        ("mediation_requested", "2026-02-02", {}),
        ("meeting_scheduled", "2026-02-09", {"meeting_date": "2026-02-27"}),
    ],
    "confirmed": [
        ("mediation_requested", "2026-02-02", {}),
        ("meeting_scheduled", "2026-02-09", {"meeting_date": "2026-02-27"}),
        ("confirmation_sent", "2026-02-10", {}),
    ],
    "held": [
        ("mediation_requested", "2026-02-02", {}),
        ("meeting_scheduled", "2026-02-09", {"meeting_date": "2026-02-27"}),
        ("meeting_held", "2026-02-27", {"outcome": "partly_agreed"}),
    ],
    "not_arranged": [("mediation_requested", "2026-02-02", {}), ("mediation_not_arranged", "2026-02-20", {})],
    "certified": [
        ("mediation_requested", "2026-02-02", {}),
        ("meeting_scheduled", "2026-02-09", {"meeting_date": "2026-02-27"}),
        ("meeting_held", "2026-02-27", {"outcome": "agreed"}),
        ("certificate_issued", "2026-03-02", {"kind": "after_mediation"}),
    ],
    "closed": [
        ("mediation_requested", "2026-02-02", {}),
        ("meeting_scheduled", "2026-02-09", {"meeting_date": "2026-02-27"}),
        ("meeting_held", "2026-02-27", {"outcome": "agreed"}),
        ("certificate_issued", "2026-03-02", {"kind": "after_mediation"}),
        ("closed", "2026-03-03", {}),
    ],
    "withdrawn": [
        ("mediation_requested", "2026-02-02", {}),
        ("withdrawn", "2026-02-10", {"reason": "moved"}),
    ],
}
LATER = "2026-03-10"


def case_at(history: str) -> Case:
    case = Case()
    for event_type, on, fields in HISTORIES[history]:
        case.rec(event_type, on, **fields)
    return case


# The event table of DOMAIN.md: (history, event, accepted?)
TRANSITIONS = [
    ("opened", "mediation_requested", True),
    ("requested", "mediation_requested", False),
    ("declined", "mediation_requested", False),
    ("opened", "mediation_declined", True),
    ("requested", "mediation_declined", True),  # a parent may change their mind after requesting
    ("notified", "mediation_declined", True),
    ("scheduled", "mediation_declined", True),
    ("held", "mediation_declined", False),
    ("declined", "mediation_declined", False),  # already declined
    ("requested_declined", "mediation_declined", False),
    ("certified", "mediation_declined", False),
    ("opened", "la_notified", False),
    ("declined", "la_notified", False),
    ("requested", "la_notified", True),
    ("notified", "la_notified", False),  # once
    ("opened", "meeting_scheduled", False),
    ("requested", "meeting_scheduled", True),
    ("scheduled", "meeting_scheduled", True),  # rescheduled
    ("confirmed", "meeting_scheduled", True),
    ("held", "meeting_scheduled", False),
    ("requested", "confirmation_sent", False),
    ("scheduled", "confirmation_sent", True),
    ("held", "confirmation_sent", False),
    ("opened", "meeting_held", False),
    ("requested", "meeting_held", False),  # before a meeting was scheduled
    ("scheduled", "meeting_held", True),
    ("held", "meeting_held", False),  # once
    ("opened", "mediation_not_arranged", False),
    ("requested", "mediation_not_arranged", True),
    ("scheduled", "mediation_not_arranged", True),
    ("held", "mediation_not_arranged", False),
    ("not_arranged", "mediation_not_arranged", False),  # once
    ("opened", "certificate_issued", False),
    ("requested", "certificate_issued", False),  # nothing calls for one yet
    ("notified", "certificate_issued", False),
    ("scheduled", "certificate_issued", False),
    ("declined", "certificate_issued", True),
    ("requested_declined", "certificate_issued", True),
    ("held", "certificate_issued", True),
    ("not_arranged", "certificate_issued", True),
    ("certified", "certificate_issued", False),  # once
    ("opened", "closed", False),
    ("requested", "closed", False),
    ("held", "closed", False),
    ("certified", "closed", True),
    ("closed", "closed", False),
    ("opened", "withdrawn", True),
    ("requested", "withdrawn", True),
    ("held", "withdrawn", True),
    ("certified", "withdrawn", True),
    ("closed", "withdrawn", False),
    ("withdrawn", "withdrawn", False),
    *[(history, "note", True) for history in HISTORIES],
    *[(history, "survey", True) for history in HISTORIES],
    *[
        ("withdrawn", event, False)
        for event in (
            "mediation_requested",
            "mediation_declined",
            "la_notified",
            "meeting_scheduled",
            "confirmation_sent",
            "meeting_held",
            "mediation_not_arranged",
            "certificate_issued",
            "closed",
        )
    ],
    *[
        ("closed", event, False)
        for event in ("mediation_declined", "la_notified", "meeting_scheduled", "mediation_not_arranged")
    ],
]


# The certificate that matches each path (DOMAIN.md: the kind must match the path).
CERTIFICATE_FOR = {"declined": "advice_only", "requested_declined": "advice_only", "not_arranged": "deemed"}


@pytest.mark.parametrize(("history", "event_type", "accepted"), TRANSITIONS)
def test_event_table(history: str, event_type: str, accepted: bool) -> None:
    case = case_at(history)
    fields = dict(VALID_FIELDS.get(event_type, {}))
    if event_type == "certificate_issued":
        fields["kind"] = CERTIFICATE_FOR.get(history, "after_mediation")
    if accepted:
        case.rec(event_type, LATER, **fields)
        assert case.events[-1].type == event_type
        assert case.events[-1].seq == len(case.events)
    else:
        message = case.refuse(event_type, LATER, **fields)
        assert_names_case_event_state_and_allowed(message, case, event_type)


def assert_names_case_event_state_and_allowed(message: str, case: Case, event_type: str) -> None:
    assert f"case {REF}" in message
    assert event_type in message
    assert f"state {case.state.state}" in message
    assert "allowed now: " in message
    allowed = message.rsplit("allowed now: ", 1)[1]
    for name in allowed_events(case.rules, case.state, case.today):
        assert name in allowed, (name, message)


@pytest.mark.parametrize("history", list(HISTORIES))
def test_allowed_events_are_exactly_the_events_decide_accepts(history: str) -> None:
    probe = case_at(history)
    pack = RULES.pack(probe.state)
    offered = set(allowed_events(RULES, probe.state, TODAY))
    for event_type, spec in pack.events.items():
        if spec.role in ("open", "void", "except_clock"):
            continue
        case = case_at(history)
        fields = dict(VALID_FIELDS.get(event_type, {}))
        if event_type == "certificate_issued":
            fields["kind"] = CERTIFICATE_FOR.get(history, "after_mediation")
        try:
            case.rec(event_type, LATER, **fields)
            accepted = True
        except EventRefused:
            accepted = False
        assert accepted == (event_type in offered), (history, event_type, offered)


@pytest.mark.parametrize("history", ["withdrawn", "closed"])
def test_details_changed_refused_after_a_terminal_state(history: str) -> None:
    case_at(history).refuse("details_changed", LATER, **VALID_FIELDS["details_changed"])


def test_details_changed_updates_the_case_fields_and_keeps_personal_ones_apart() -> None:
    case = Case().rec("details_changed", "2026-02-03", district="broadland", contact="07700 900000")
    assert case.state.fields["district"] == "broadland"
    assert case.state.fields["caseworker"] == "Jo"
    assert case.state.personal == {"name": "A Parent", "contact": "07700 900000"}
    assert "name" not in case.state.fields
    assert case.state.state == "opened"  # not a milestone


# ------------------------------------------------------------------------------------ specific refusals


def test_certificate_before_anything_that_calls_for_one() -> None:
    case = case_at("scheduled")
    message = case.refuse("certificate_issued", LATER, kind="deemed")
    assert "needs mediation_declined, meeting_held or mediation_not_arranged first" in message
    assert "state meeting_scheduled" in message
    assert "meeting_held" in message.rsplit("allowed now: ", 1)[1]


def test_meeting_held_before_meeting_scheduled() -> None:
    case = case_at("notified")
    message = case.refuse("meeting_held", LATER, outcome="agreed")
    assert "needs meeting_scheduled first" in message
    assert "state la_notified" in message


def test_la_notified_twice() -> None:
    case = case_at("notified")
    message = case.refuse("la_notified", "2026-02-04")
    assert "already recorded on 2026-02-03" in message


def test_a_date_before_the_case_was_opened() -> None:
    case = Case()
    message = case.refuse("mediation_requested", "2026-01-30", error=InvalidValue)
    assert message.startswith("on=2026-01-30: ")
    assert "before the case was opened on 2026-02-02" in message
    assert "does not fit state" not in message


def test_a_date_before_the_step_it_needs() -> None:
    case = Case().rec("mediation_requested", "2026-02-05")
    message = case.refuse("la_notified", "2026-02-04")
    assert "dated 2026-02-04 does not fit state opened of that date" in message
    assert "needs mediation_requested first" in message
    case.rec("la_notified", "2026-02-05")  # the same day is fine


def test_a_date_after_today() -> None:
    case = Case()
    message = case.refuse("mediation_requested", "2026-05-02", error=InvalidValue)
    assert f"case {REF}" in message
    assert "mediation_requested" in message
    assert "after today (2026-05-01)" in message
    case.rec("mediation_requested", "2026-05-01")  # today itself is fine


def test_opening_after_today_is_refused() -> None:
    with pytest.raises(EventRefused, match="after today"):
        decide_open(RULES, REF, "mediation", D("2026-05-02"), {}, "jo", NOW, TODAY)


def test_a_meeting_date_may_lie_in_the_future() -> None:
    case = case_at("requested").rec("meeting_scheduled", "2026-04-30", meeting_date="2026-06-15")
    assert case.clock("kpi3").due_on == D("2026-06-08")


def test_a_meeting_date_earlier_than_the_day_it_was_scheduled() -> None:
    case = case_at("requested")
    message = case.refuse("meeting_scheduled", "2026-02-10", error=Refused, meeting_date="2026-02-09")
    assert f"case {REF}" in message
    assert "meeting_scheduled" in message
    assert "meeting_date" in message
    case.rec("meeting_scheduled", "2026-02-10", meeting_date="2026-02-10")  # the same day is fine


@pytest.mark.parametrize(
    ("history", "event_type", "fields", "field"),
    [
        ("opened", "mediation_requested", {}, "on"),
        ("requested", "meeting_scheduled", {"meeting_date": "2026-02-09"}, "meeting_date"),
        ("requested", "exception", {"clock": "kpi5", "reason": "holiday", "until": "2026-03-20"}, "reason"),
        (
            "requested",
            "exception",
            {"clock": "kpi5", "reason": "school_holiday", "until": "2026-03-01"},
            "until",
        ),
    ],
)
def test_a_refusal_about_a_field_names_the_field_not_the_state(
    history: str, event_type: str, fields: dict[str, str], field: str
) -> None:
    case = case_at(history)
    on = "2026-05-02" if field == "on" else "2026-03-02"
    message = case.refuse(event_type, on, error=InvalidValue, **fields)
    assert message.startswith(f"{field}=")
    assert f"case {REF}: {event_type}: " in message
    assert "does not fit state" not in message
    assert "allowed now" not in message


def test_required_fields() -> None:
    case = case_at("scheduled")
    assert "needs outcome" in case.refuse("meeting_held", LATER, error=InvalidValue)
    assert "use one of agreed, partly_agreed, not_agreed" in case.refuse(
        "meeting_held", LATER, error=InvalidValue, outcome="maybe"
    )
    assert "needs meeting_date" in case.refuse("meeting_scheduled", LATER, error=InvalidValue)
    assert "needs reason" in case.refuse("withdrawn", LATER, error=InvalidValue)


def test_unknown_event_and_opening_twice_are_refused() -> None:
    case = case_at("requested")
    message = case.refuse("mediation_agreed", LATER)
    assert f"case {REF}" in message
    assert "mediation_agreed" in message
    assert "allowed now: " in message
    assert "already open" in case.refuse("opened", LATER)


def test_an_unknown_event_or_choice_gets_the_nearest_valid_name() -> None:
    case = case_at("opened")
    message = case.refuse("mediaton_requested", LATER)
    assert "(did you mean 'mediation_requested'?)" in message
    message = case_at("scheduled").refuse("meeting_held", LATER, error=InvalidValue, outcome="agred")
    assert "(did you mean 'agreed'?)" in message
    message = case.refuse("details_changed", LATER, error=InvalidValue, distrct="norwich")
    assert "(did you mean 'district'?)" in message


def test_meeting_held_before_the_scheduled_date_is_refused_with_the_fix() -> None:
    case = case_at("requested").rec("meeting_scheduled", "2026-02-03", meeting_date="2026-03-20")
    message = case.refuse("meeting_held", "2026-02-06", error=InvalidValue, outcome="agreed")
    assert message.startswith("on=2026-02-06: ")
    assert "before the meeting date 2026-03-20" in message
    assert "record meeting_scheduled with the real date first" in message
    # Brought forward: rescheduled first, then held on the new date.
    case.rec("meeting_scheduled", "2026-02-05", meeting_date="2026-02-06")
    case.rec("meeting_held", "2026-02-06", outcome="agreed")
    assert case.state.state == "meeting_held"


@pytest.mark.parametrize(
    ("history", "kind", "fits"),
    [
        ("held", "after_mediation", True),
        ("held", "advice_only", False),
        ("held", "deemed", False),
        ("requested_declined", "advice_only", True),
        ("requested_declined", "after_mediation", False),
        ("not_arranged", "deemed", True),
        ("not_arranged", "after_mediation", False),
    ],
)
def test_a_certificate_kind_must_match_the_path(history: str, kind: str, fits: bool) -> None:
    case = case_at(history)
    if fits:
        case.rec("certificate_issued", LATER, kind=kind)
        return
    message = case.refuse("certificate_issued", LATER, error=InvalidValue, kind=kind)
    assert message.startswith(f"kind={kind}: ")
    assert f"use one of {CERTIFICATE_FOR.get(history, 'after_mediation')}" in message
    assert "does not fit state" not in message


def test_a_survey_with_no_answer_at_all_is_refused() -> None:
    case = case_at("closed")
    message = case.refuse("survey", LATER, error=InvalidValue)
    assert "needs at least one of satisfied, listened_to, understood or comment" in message
    case.rec("survey", LATER, listened_to="agree")
    assert "needs reason" in case_at("requested").refuse("withdrawn", LATER, error=InvalidValue)


def test_a_meeting_after_the_kpi5_deadline_is_accepted_with_a_warning() -> None:
    case = case_at("requested")  # kpi5 due 2026-03-04
    assert warnings_for(RULES, case.state, "meeting_scheduled", {"meeting_date": "2026-03-04"}) == []
    late = {"meeting_date": "2026-03-05"}
    assert warnings_for(RULES, case.state, "meeting_scheduled", late) == [
        "the meeting is after the 30-day deadline (due 2026-03-04): record an exception if one applies"
    ]
    case.rec("meeting_scheduled", "2026-02-09", **late)
    case.rec("exception", "2026-02-09", clock="kpi5", reason="parent_unavailable")
    assert warnings_for(RULES, case.state, "meeting_scheduled", late) == []  # excepted: nothing to warn of


def test_correction_is_recorded_by_voiding_not_by_decide() -> None:
    assert "void" in case_at("requested").refuse("correction", LATER)


# ------------------------------------------------------------------------------------ disagreement resolution


def test_disagreement_resolution_has_no_mediation_events_and_no_clocks() -> None:
    case = Case(case_type="disagreement_resolution")
    assert case.state.case_type == "disagreement_resolution"
    for event_type in (
        "mediation_requested",
        "mediation_declined",
        "la_notified",
        "meeting_scheduled",
        "confirmation_sent",
        "meeting_held",
        "mediation_not_arranged",
        "certificate_issued",
    ):
        message = case.refuse(event_type, "2026-02-03", **VALID_FIELDS.get(event_type, {}))
        assert f"disagreement_resolution cases have no {event_type}" in message
        assert "state opened" in message
    offered = allowed_events(RULES, case.state, TODAY)
    assert offered == ["details_changed", "closed", "withdrawn", "note", "survey", "feedback", "impact_story"]
    case.rec("note", "2026-02-03", note="met both parties")
    assert case.state.clocks == ()
    message = case.refuse("exception", "2026-02-03", error=Refused, clock="kpi5", reason="school_holiday")
    assert "not running" in message


@pytest.mark.parametrize("closed_on", ["2026-02-02", "2026-02-20", "2026-05-01"])
def test_disagreement_resolution_can_be_closed_any_time(closed_on: str) -> None:
    case = Case(case_type="disagreement_resolution").rec("closed", closed_on, outcome="partly_resolved")
    assert case.state.state == "closed"
    assert case.state.terminal
    assert case.state.closed_on == D(closed_on)
    assert case.state.clocks == ()
    case.rec("survey", "2026-05-01", satisfied="strongly_agree")
    assert "closed" in case.refuse("withdrawn", "2026-05-01", reason="x")


def test_disagreement_resolution_can_be_withdrawn() -> None:
    case = Case(case_type="disagreement_resolution").rec("withdrawn", "2026-02-05", reason="resolved itself")
    assert case.state.state == "withdrawn"
    assert "withdrawn" in case.refuse("closed", "2026-02-06")


# ------------------------------------------------------------------------------------ state


def test_state_is_the_last_milestone_reached() -> None:
    case = Case()
    assert case.state.state == "opened"
    steps = [
        ("mediation_requested", "2026-02-02", {}, "mediation_requested"),
        ("la_notified", "2026-02-03", {}, "la_notified"),
        ("meeting_scheduled", "2026-02-09", {"meeting_date": "2026-02-27"}, "meeting_scheduled"),
        ("confirmation_sent", "2026-02-10", {}, "meeting_scheduled"),  # not a milestone
        ("note", "2026-02-11", {"note": "called"}, "meeting_scheduled"),  # not a milestone
        ("exception", "2026-02-12", {"clock": "kpi5", "reason": "school_holiday"}, "meeting_scheduled"),
        ("meeting_scheduled", "2026-02-16", {"meeting_date": "2026-03-03"}, "meeting_scheduled"),
        ("meeting_held", "2026-03-03", {"outcome": "not_agreed"}, "meeting_held"),
        ("certificate_issued", "2026-03-04", {"kind": "after_mediation"}, "certificate_issued"),
        ("closed", "2026-03-05", {}, "closed"),
        ("survey", "2026-03-20", {"satisfied": "agree"}, "closed"),
        ("note", "2026-03-21", {"note": "thanked us"}, "closed"),
    ]
    for event_type, on, fields, expected in steps:
        case.rec(event_type, on, **fields)
        assert case.state.state == expected, event_type
    assert case.state.closed_on == D("2026-03-05")


@pytest.mark.parametrize(
    ("milestone", "fields"),
    [("mediation_declined", {}), ("mediation_not_arranged", {}), ("withdrawn", {"reason": "x"})],
)
def test_state_after_other_milestones(milestone: str, fields: dict[str, str]) -> None:
    case = case_at("requested").rec(milestone, "2026-02-04", **fields)
    assert case.state.state == milestone


def test_a_back_dated_milestone_does_not_move_the_state_back() -> None:
    case = case_at("scheduled").rec("la_notified", "2026-02-04")  # recorded after, dated before
    assert case.state.state == "meeting_scheduled"
    assert case.state.happened["la_notified"] == (D("2026-02-04"),)


def test_a_back_dated_withdrawal_still_ends_the_case() -> None:
    case = case_at("requested").rec("meeting_scheduled", "2026-02-10", meeting_date="2026-02-20")
    try:
        case.rec("withdrawn", "2026-02-05", reason="changed their mind")
    except EventRefused:
        return  # refusing a withdrawal dated before later steps would also be consistent
    assert case.state.state == "withdrawn"
    assert case.state.terminal
    case.refuse("meeting_held", "2026-02-20", outcome="agreed")


# ------------------------------------------------------------------------------------ voiding


def test_voided_events_are_skipped() -> None:
    case = case_at("notified")
    seq = case.seq_of("la_notified")
    case.void(seq, "it was the school, not the LA")
    correction = case.events[-1]
    assert correction.type == "correction"
    assert correction.data == {"voids": seq, "reason": "it was the school, not the LA"}
    assert correction.on == TODAY
    assert case.state.voided == {seq: "it was the school, not the LA"}
    assert "la_notified" not in case.state.happened
    assert case.state.state == "mediation_requested"
    kpi2 = case.clock("kpi2")
    assert kpi2.stopped_on is None
    assert kpi2.status(D("2026-02-05")) is RUNNING
    assert kpi2.status(D("2026-02-06")) is BREACHED
    # the step can be recorded again now that the mistaken one is void ("once" counts live events only)
    case.rec("la_notified", "2026-02-04")
    assert case.state.state == "la_notified"
    assert case.status("kpi2") is MET


def test_voiding_a_reschedule_brings_back_the_earlier_meeting() -> None:
    case = case_at("scheduled").rec("meeting_scheduled", "2026-02-16", meeting_date="2026-03-03")
    assert [c.status(TODAY) for c in case.clocks("kpi3")] == [CANCELLED, BREACHED]
    case.void(case.seq_of("meeting_scheduled", 1))
    assert len(case.clocks("kpi3")) == 1
    assert case.clock("kpi3").due_on == D("2026-02-20")
    assert case.clock("kpi3").ended_by is None


def test_void_that_would_orphan_a_later_event_is_refused() -> None:
    case = case_at("notified")
    request, notified = case.seq_of("mediation_requested"), case.seq_of("la_notified")
    before = list(case.events)
    with pytest.raises(EventRefused) as info:
        case.void(request)
    assert case.events == before
    message = str(info.value)
    assert f"case {REF}: void {request}" in message
    assert f"event {notified} (la_notified) would no longer fit" in message
    assert f"void event {notified} first" in message
    case.void(notified).void(request)  # in that order it works
    assert case.state.state == "opened"
    assert case.state.clocks == ()


def test_void_that_would_orphan_an_exception_is_refused() -> None:
    case = case_at("requested").rec("exception", "2026-02-05", clock="kpi5", reason="parent_unavailable")
    with pytest.raises(EventRefused, match="would no longer fit"):
        case.void(case.seq_of("mediation_requested"))


def test_the_opening_event_cannot_be_voided() -> None:
    case = case_at("requested")
    with pytest.raises(EventRefused, match="opening event cannot be voided"):
        case.void(1)


def test_a_correction_cannot_be_voided() -> None:
    case = case_at("notified")
    case.void(case.seq_of("la_notified"))
    with pytest.raises(EventRefused, match="itself a correction"):
        case.void(case.seq_of("correction"))


def test_an_event_cannot_be_voided_twice() -> None:
    case = case_at("notified")
    seq = case.seq_of("la_notified")
    case.void(seq)
    with pytest.raises(EventRefused, match="already void"):
        case.void(seq)


def test_void_needs_a_known_seq_and_a_reason() -> None:
    case = case_at("notified")
    with pytest.raises(InvalidValue, match="SEQ"):
        case.void(99)
    with pytest.raises(InvalidValue, match="reason"):
        case.void(case.seq_of("la_notified"), "   ")


def test_void_after_the_case_closed() -> None:
    case = case_at("closed")
    case.void(case.seq_of("closed"), "closed by mistake")
    assert case.state.state == "certificate_issued"
    assert not case.state.terminal


# ------------------------------------------------------------------------------------ clocks: due dates


def test_due_dates_of_every_clock() -> None:
    # Monday 2 Feb 2026: request; meeting on Friday 27 Feb; held that day.
    case = case_at("held")
    kpi2, kpi3, kpi4, kpi5 = (case.clock(c) for c in ("kpi2", "kpi3", "kpi4", "kpi5"))
    assert (kpi2.starts_on, kpi2.due_on) == (D("2026-02-02"), D("2026-02-05"))  # 3 working days after
    assert (kpi3.starts_on, kpi3.due_on) == (D("2026-02-09"), D("2026-02-20"))  # 5 working days before 27 Feb
    assert (kpi4.starts_on, kpi4.due_on) == (D("2026-02-27"), D("2026-03-04"))  # 3 working days after
    assert (kpi5.starts_on, kpi5.due_on) == (D("2026-02-02"), D("2026-03-04"))  # 30 calendar days
    assert {c.pack_version for c in case.state.clocks} == {"2025.1"}


def test_due_dates_use_the_domain_examples() -> None:
    case = Case(opened="2025-12-23").rec("mediation_requested", "2025-12-23")
    assert case.clock("kpi2").due_on == D("2025-12-30")
    case.rec("meeting_scheduled", "2025-12-23", meeting_date="2026-01-05")
    assert case.clock("kpi3").due_on == D("2025-12-24")
    case = Case(opened="2026-01-30").rec("mediation_requested", "2026-01-30")
    assert case.clock("kpi5").due_on == D("2026-03-01")
    case = Case(opened="2026-03-07").rec("mediation_requested", "2026-03-07")  # a Saturday
    assert case.clock("kpi2").due_on == D("2026-03-11")
    case = Case(opened="2026-04-02").rec("mediation_declined", "2026-04-02")
    assert case.clock("kpi4").due_on == D("2026-04-09")


@pytest.mark.parametrize(
    ("start", "on", "due"),
    [
        ("mediation_declined", "2026-02-06", "2026-02-11"),
        ("mediation_not_arranged", "2026-03-04", "2026-03-09"),
    ],
)
def test_kpi4_starts_on_each_of_its_events(start: str, on: str, due: str) -> None:
    case = case_at("requested").rec(start, on)
    assert case.clock("kpi4").starts_on == D(on)
    assert case.clock("kpi4").due_on == D(due)
    assert case.status("kpi4", on) is RUNNING


def test_kpi4_from_a_decline_without_a_request() -> None:
    case = case_at("declined")
    assert [c.clock for c in case.state.clocks] == ["kpi4"]
    assert case.clock("kpi4").due_on == D("2026-02-06")


# ------------------------------------------------------------------------------------ clocks: status


@pytest.mark.parametrize(
    ("notified_on", "expected"),
    [("2026-02-03", MET), ("2026-02-05", MET), ("2026-02-06", BREACHED), ("2026-03-02", BREACHED)],
)
def test_kpi2_met_or_breached(notified_on: str, expected: ClockStatus) -> None:
    case = case_at("requested").rec("la_notified", notified_on)  # kpi2 due 2026-02-05
    assert case.clock("kpi2").stopped_on == D(notified_on)
    assert case.status("kpi2", notified_on) is expected
    assert case.status("kpi2") is expected
    # As of the day before it stopped, the clock was still open (DOMAIN.md: status from its own dates).
    before = D(notified_on) - dt.timedelta(days=1)
    assert case.status("kpi2", before.isoformat()) is (BREACHED if before > D("2026-02-05") else RUNNING)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [("2026-02-02", RUNNING), ("2026-02-05", RUNNING), ("2026-02-06", BREACHED), ("2026-05-01", BREACHED)],
)
def test_kpi2_running_then_breached_as_of(as_of: str, expected: ClockStatus) -> None:
    assert case_at("requested").status("kpi2", as_of) is expected


@pytest.mark.parametrize(
    ("sent_on", "expected"), [("2026-02-10", MET), ("2026-02-20", MET), ("2026-02-23", BREACHED)]
)
def test_kpi3_met_or_breached(sent_on: str, expected: ClockStatus) -> None:
    case = case_at("scheduled").rec("confirmation_sent", sent_on)
    assert case.status("kpi3") is expected


@pytest.mark.parametrize(
    ("as_of", "expected"), [("2026-02-09", RUNNING), ("2026-02-20", RUNNING), ("2026-02-23", BREACHED)]
)
def test_kpi3_running_then_breached_as_of(as_of: str, expected: ClockStatus) -> None:
    assert case_at("scheduled").status("kpi3", as_of) is expected


@pytest.mark.parametrize(
    ("issued_on", "expected"), [("2026-02-27", MET), ("2026-03-04", MET), ("2026-03-05", BREACHED)]
)
def test_kpi4_met_or_breached(issued_on: str, expected: ClockStatus) -> None:
    case = case_at("held").rec("certificate_issued", issued_on, kind="after_mediation")  # due 2026-03-04
    assert case.status("kpi4") is expected
    assert case.status("kpi4", issued_on) is expected
    assert case.status("kpi4", "2026-02-26") is RUNNING  # before it stopped, still open


@pytest.mark.parametrize(("as_of", "expected"), [("2026-03-04", RUNNING), ("2026-03-05", BREACHED)])
def test_kpi4_running_then_breached_as_of(as_of: str, expected: ClockStatus) -> None:
    assert case_at("held").status("kpi4", as_of) is expected


@pytest.mark.parametrize(
    ("meeting", "expected"), [("2026-02-27", MET), ("2026-03-04", MET), ("2026-03-05", BREACHED)]
)
def test_kpi5_met_or_breached(meeting: str, expected: ClockStatus) -> None:
    case = case_at("requested").rec("meeting_scheduled", "2026-02-09", meeting_date=meeting)
    case.rec("meeting_held", meeting, outcome="agreed")
    assert case.status("kpi5") is expected


@pytest.mark.parametrize(("as_of", "expected"), [("2026-03-04", RUNNING), ("2026-03-05", BREACHED)])
def test_kpi5_running_then_breached_as_of(as_of: str, expected: ClockStatus) -> None:
    assert case_at("scheduled").status("kpi5", as_of) is expected


def test_kpi2_is_not_restarted_while_running() -> None:
    # mediation_requested cannot be recorded twice, so kpi2 and kpi5 have exactly one instance each
    case = case_at("scheduled")
    assert [c.number for c in case.clocks("kpi2")] == [1]
    assert [c.number for c in case.clocks("kpi5")] == [1]


# ------------------------------------------------------------------------------------ rescheduling


def test_rescheduling_supersedes_kpi3() -> None:
    case = case_at("scheduled").rec("meeting_scheduled", "2026-02-16", meeting_date="2026-03-03")
    old, new = case.clocks("kpi3")
    assert (old.number, new.number) == (1, 2)
    assert old.ended_by == SUPERSEDED
    assert old.ended_on == D("2026-02-16")
    assert old.status(TODAY) is CANCELLED
    assert not old.live
    assert new.starts_on == D("2026-02-16")
    assert new.due_on == D("2026-02-24")  # 5 working days before Tuesday 3 March
    assert new.status(D("2026-02-24")) is RUNNING
    case.rec("confirmation_sent", "2026-02-23")
    assert case.clocks("kpi3")[1].status(TODAY) is MET
    assert case.clocks("kpi3")[0].status(TODAY) is CANCELLED


def test_rescheduling_after_the_confirmation_starts_a_new_kpi3() -> None:
    case = case_at("confirmed").rec("meeting_scheduled", "2026-02-16", meeting_date="2026-03-03")
    old, new = case.clocks("kpi3")
    assert old.status(TODAY) is MET  # the confirmation for the old date stays met
    assert old.ended_by is None
    assert new.status(D("2026-02-16")) is RUNNING
    assert new.due_on == D("2026-02-24")


def test_rescheduling_after_the_old_kpi3_was_past_due_leaves_it_breached() -> None:
    # kpi3 for 27 Feb was due 20 Feb; rescheduled on 23 Feb: the old clock was already past due.
    case = case_at("scheduled").rec("meeting_scheduled", "2026-02-23", meeting_date="2026-03-10")
    old, new = case.clocks("kpi3")
    assert old.ended_by == SUPERSEDED
    assert old.status(TODAY) is BREACHED
    assert new.due_on == D("2026-03-03")


# ------------------------------------------------------------------------------------ cancelling


def test_decline_before_due_cancels_kpi2_kpi3_kpi5_and_starts_kpi4() -> None:
    case = case_at("requested").rec("meeting_scheduled", "2026-02-03", meeting_date="2026-02-27")
    case.rec("mediation_declined", "2026-02-04")
    for clock_id in ("kpi2", "kpi3", "kpi5"):
        instance = case.clock(clock_id)
        assert instance.ended_by == "mediation_declined"
        assert instance.status(TODAY) is CANCELLED, clock_id
    assert case.clock("kpi4").due_on == D("2026-02-09")
    assert case.status("kpi4", "2026-02-09") is RUNNING


def test_decline_on_the_due_day_still_cancels() -> None:
    case = case_at("requested").rec("mediation_declined", "2026-02-05")  # kpi2 due 5 Feb
    assert case.status("kpi2") is CANCELLED


def test_decline_after_a_clock_is_past_due_leaves_it_breached() -> None:
    # meeting on Tuesday 10 Feb: kpi3 due Tuesday 3 Feb; kpi2 due Thursday 5 Feb.
    case = case_at("requested").rec("meeting_scheduled", "2026-02-03", meeting_date="2026-02-10")
    assert case.clock("kpi3").due_on == D("2026-02-03")
    case.rec("mediation_declined", "2026-02-09")
    assert case.status("kpi2") is BREACHED
    assert case.status("kpi3") is BREACHED
    assert case.status("kpi5") is CANCELLED
    assert case.clock("kpi2").ended_by == "mediation_declined"


def test_decline_leaves_stopped_clocks_alone() -> None:
    case = case_at("confirmed").rec("la_notified", "2026-02-09").rec("mediation_declined", "2026-02-11")
    assert case.status("kpi2") is BREACHED  # notified late on 9 Feb: breached before the decline
    assert case.clock("kpi2").ended_by is None
    assert case.status("kpi3") is MET
    assert case.status("kpi5") is CANCELLED


def test_mediation_not_arranged_ends_kpi3_and_kpi5_but_not_kpi2() -> None:
    case = case_at("requested").rec("meeting_scheduled", "2026-02-03", meeting_date="2026-02-27")
    case.rec("mediation_not_arranged", "2026-02-04")
    assert case.status("kpi3") is CANCELLED
    assert case.status("kpi5") is CANCELLED
    assert case.clock("kpi2").live
    assert case.status("kpi2", "2026-02-05") is RUNNING
    assert case.status("kpi2") is BREACHED
    assert case.clock("kpi4").due_on == D("2026-02-09")


def test_withdrawn_ends_every_clock() -> None:
    case = case_at("held")  # kpi2 past due, kpi3 past due, kpi4 running, kpi5 met
    case.rec("withdrawn", "2026-03-02", reason="agreed with the school")
    assert case.status("kpi2") is BREACHED  # already past due
    assert case.status("kpi3") is BREACHED
    assert case.status("kpi4") is CANCELLED
    assert case.status("kpi5") is MET
    assert not any(c.live for c in case.state.clocks)


def test_withdrawn_before_any_due_date_cancels_them_all() -> None:
    case = case_at("requested").rec("meeting_scheduled", "2026-02-03", meeting_date="2026-02-27")
    case.rec("withdrawn", "2026-02-04", reason="moved away")
    assert {c.clock: c.status(TODAY) for c in case.state.clocks} == {
        "kpi2": CANCELLED,
        "kpi3": CANCELLED,
        "kpi5": CANCELLED,
    }
    assert {c.ended_by for c in case.state.clocks} == {"withdrawn"}


# ------------------------------------------------------------------------------------ exceptions


@pytest.mark.parametrize(
    "reason", ["school_holiday", "parent_unavailable", "young_person_unavailable", "other_agreed"]
)
def test_kpi5_exception_with_an_allowed_reason(reason: str) -> None:
    case = case_at("scheduled")
    case.rec("exception", "2026-02-16", clock="kpi5", reason=reason, until="2026-03-20", note="half term")
    kpi5 = case.clock("kpi5")
    assert kpi5.exception is not None
    assert kpi5.exception.reason == reason
    assert kpi5.exception.until == D("2026-03-20")
    assert kpi5.status(D("2026-02-16")) is EXCEPTED
    assert kpi5.status(TODAY) is EXCEPTED  # not breached although 4 March has passed
    assert case.state.state == "meeting_scheduled"
    case.rec("meeting_held", "2026-03-20", outcome="agreed")  # held after the due date: still excepted
    assert case.status("kpi5") is EXCEPTED


def test_exception_reason_is_normalised() -> None:
    case = case_at("requested").rec("exception", "2026-02-05", clock="kpi5", reason="School holiday")
    assert case.status("kpi5") is EXCEPTED


def test_exception_with_a_reason_not_listed_is_refused() -> None:
    case = case_at("requested")
    message = case.refuse(
        "exception", "2026-02-05", error=InvalidValue, clock="kpi5", reason="caseworker_on_leave"
    )
    assert message.startswith("reason=caseworker_on_leave: ")
    assert "caseworker_on_leave is not an exception reason of kpi5" in message
    assert "use one of school_holiday, parent_unavailable, young_person_unavailable, other_agreed" in message


@pytest.mark.parametrize("clock", ["kpi2", "kpi3", "kpi4"])
def test_kpi2_kpi3_kpi4_allow_no_exceptions(clock: str) -> None:
    case = (
        case_at("held")
        if clock == "kpi4"
        else case_at("requested").rec("meeting_scheduled", "2026-02-03", meeting_date="2026-03-20")
    )
    assert case.clock(clock).live
    message = case.refuse("exception", "2026-03-02", error=InvalidValue, clock=clock, reason="school_holiday")
    assert f"clock {clock} allows no exceptions" in message


@pytest.mark.parametrize(
    ("history", "clock"),
    [
        ("opened", "kpi5"),  # not started
        ("requested", "kpi4"),  # not started
        ("held", "kpi5"),  # stopped by meeting_held
        ("requested_declined", "kpi5"),  # cancelled by the decline
    ],
)
def test_exception_on_a_clock_that_is_not_running_is_refused(history: str, clock: str) -> None:
    case = case_at(history)
    message = case.refuse("exception", LATER, error=InvalidValue, clock=clock, reason="school_holiday")
    assert message.startswith(f"clock={clock}: ")
    assert f"clock {clock} is not running" in message


def test_exception_after_withdrawal_is_refused() -> None:
    message = case_at("withdrawn").refuse("exception", LATER, clock="kpi5", reason="school_holiday")
    assert "withdrawn" in message


def test_exception_on_an_unknown_clock_is_refused() -> None:
    message = case_at("requested").refuse("exception", LATER, error=InvalidValue, clock="kpi9", reason="x")
    assert "kpi2, kpi3, kpi4, kpi5" in message


def test_exception_is_offered_only_while_an_exceptionable_clock_runs() -> None:
    assert "exception" not in allowed_events(RULES, case_at("opened").state, TODAY)
    assert "exception" in allowed_events(RULES, case_at("requested").state, TODAY)
    assert "exception" not in allowed_events(RULES, case_at("held").state, TODAY)  # only kpi4 runs
    assert "exception" not in allowed_events(RULES, case_at("withdrawn").state, TODAY)


def test_exception_dated_before_the_clock_started_is_refused() -> None:
    case = Case().rec("mediation_requested", "2026-02-05")
    message = case.refuse(
        "exception", "2026-02-03", error=InvalidValue, clock="kpi5", reason="school_holiday"
    )
    assert "clock kpi5 is not running on 2026-02-03" in message


# ------------------------------------------------------------------------------------ pack versions


def second_version(working_days: int = 5) -> RulePack:
    raw = tomllib.loads(PACK_FILE.read_text(encoding="utf-8"))
    changed = copy.deepcopy(raw)
    changed["version"] = "2026.1"
    changed["effective_from"] = dt.date(2026, 3, 1)
    changed["clocks"]["kpi2"]["due"]["working_days_after"] = working_days
    return parse_pack(changed, "test:send-mediation-2026.1")


@pytest.fixture(scope="module")
def versioned() -> Rules:
    first = list(discover_packs().versions("send-mediation"))
    assert [p.version for p in first] == ["2025.1"]
    return Rules(PackRegistry([*first, second_version()]), CALENDAR)


def test_clock_before_the_new_version_keeps_the_old_rule(versioned: Rules) -> None:
    case = Case(rules=versioned).rec("mediation_requested", "2026-02-02")
    assert case.clock("kpi2").pack_version == "2025.1"
    assert case.clock("kpi2").due_on == D("2026-02-05")  # 3 working days


def test_clock_started_after_the_new_version_uses_it(versioned: Rules) -> None:
    case = Case(rules=versioned, opened="2026-03-02").rec("mediation_requested", "2026-03-02")
    assert case.state.pack_version == "2026.1"
    assert case.clock("kpi2").pack_version == "2026.1"
    assert case.clock("kpi2").due_on == D("2026-03-09")  # 5 working days
    assert case.clock("kpi5").due_on == D("2026-04-01")  # unchanged rule


def test_the_clock_start_date_governs_not_the_case_opening_date(versioned: Rules) -> None:
    # opened under 2025.1, requested after 2026.1 took effect
    case = Case(rules=versioned, opened="2026-02-02").rec("mediation_requested", "2026-03-02")
    assert case.state.pack_version == "2025.1"
    assert case.clock("kpi2").pack_version == "2026.1"
    assert case.clock("kpi2").due_on == D("2026-03-09")
    case.rec("la_notified", "2026-03-06")  # late under 2025.1 (due 5 March), on time under 2026.1
    assert case.status("kpi2") is MET


def test_clocks_of_one_case_under_two_versions(versioned: Rules) -> None:
    case = Case(rules=versioned).rec("mediation_requested", "2026-02-26")
    case.rec("meeting_scheduled", "2026-03-02", meeting_date="2026-03-20")
    assert case.clock("kpi2").pack_version == "2025.1"
    assert case.clock("kpi2").due_on == D("2026-03-03")
    assert case.clock("kpi3").pack_version == "2026.1"
    case.rec("la_notified", "2026-03-04")
    assert case.status("kpi2") is BREACHED  # the 2025.1 rule still governs it


def test_clock_starting_on_the_effective_date_uses_the_new_version(versioned: Rules) -> None:
    case = Case(rules=versioned, opened="2026-03-01").rec("mediation_requested", "2026-03-01")  # a Sunday
    assert case.clock("kpi2").pack_version == "2026.1"
    assert case.clock("kpi2").due_on == D("2026-03-06")  # counted from Friday 27 Feb


def test_a_meeting_held_without_confirmation_leaves_kpi3_breached_and_final() -> None:
    case = case_at("held")
    kpi3 = case.clock("kpi3")
    assert kpi3.status(TODAY) is ClockStatus.BREACHED
    assert not kpi3.open  # no longer the case's next clock: nothing can stop it now
    assert (kpi3.ended_on, kpi3.ended_by) == (D("2026-02-27"), "meeting_held")


def test_closing_ends_an_la_notification_never_sent_as_breached() -> None:
    case = case_at("certified").rec("closed", "2026-03-03")
    kpi2 = case.clock("kpi2")
    assert kpi2.status(TODAY) is ClockStatus.BREACHED
    assert [c.clock for c in case.state.clocks if c.open] == []
