"""The pure alert rules: which alerts are due as of a date, for whom, with which stable id and payload."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import shared_rules
from tracker.alerts.notify import next_attempt_at
from tracker.alerts.rules import (
    BREACHED,
    DIGEST,
    EMAIL,
    WARNING,
    OpenClock,
    Routing,
    alert_day,
    alert_id,
    decide_alerts,
    digest_alerts,
    due_alerts,
    horizon,
)
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import AlertsSettings, Settings

D = dt.date.fromisoformat
CAL = shared_rules().calendar
DEFAULT = AlertsSettings()
CONTRACT_KEYS = {"id", "type", "ref", "clock", "kpi", "title", "due_on", "working_days_left", "action"}


def clock(starts: str = "2026-03-02", due: str = "2026-03-05", **changes: object) -> OpenClock:
    values: dict[str, object] = {
        "ref": "M-0042",
        "clock": "kpi2",
        "number": 1,
        "owner": "Jo Smith",
        "starts_on": D(starts),
        "due_on": D(due),
        "kpi": "KPI 2",
        "title": "LA/ICB notified",
        "action": "Notify the LA and ICB that the parent wishes to mediate",
    }
    values.update(changes)
    return OpenClock(**values)  # type: ignore[arg-type]


def levels(as_of: str, item: OpenClock | None = None, settings: AlertsSettings = DEFAULT, cal=CAL):
    return [(a.level, a.on.isoformat()) for a in due_alerts([item or clock()], D(as_of), cal, settings)]


# Monday 2 March 2026 + 3 working days = Thursday 5 March.
@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-03-02", []),
        ("2026-03-03", []),
        ("2026-03-04", [("warn-1", "2026-03-04")]),
        ("2026-03-05", [("warn-1", "2026-03-04"), ("warn-0", "2026-03-05")]),
        # the breach supersedes the warnings it makes stale
        ("2026-03-06", [("breach", "2026-03-06")]),
        # catch-up: nothing ran for weeks, the clock is still open: the breach is still due, alone
        ("2026-04-20", [("breach", "2026-03-06")]),
    ],
)
def test_each_level_becomes_due_on_its_working_day_until_the_breach_supersedes_it(as_of, expected) -> None:
    assert levels(as_of) == expected


def every_day(as_of: str, item: OpenClock | None = None, cal=CAL):
    """The day of every level, warnings and breach, however late `as_of` is."""
    warnings = levels(as_of, item, AlertsSettings(breach=False), cal)
    return warnings + levels(as_of, item, AlertsSettings(warn_working_days=[]), cal)


def test_breach_off_sends_no_breach() -> None:
    assert levels("2026-03-09", settings=AlertsSettings(breach=False)) == [
        ("warn-1", "2026-03-04"),
        ("warn-0", "2026-03-05"),
    ]


def test_no_warnings_configured_leaves_only_the_breach() -> None:
    assert levels("2026-03-09", settings=AlertsSettings(warn_working_days=[])) == [("breach", "2026-03-06")]


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        # due on a Sunday (a calendar-day clock): the Friday is its last working day, Monday the breach
        ("2026-03-01", [("warn-1", "2026-02-26"), ("warn-0", "2026-02-27"), ("breach", "2026-03-02")]),
        # due the Tuesday after Easter: Good Friday and Easter Monday are not working days
        ("2026-04-07", [("warn-1", "2026-04-02"), ("warn-0", "2026-04-07"), ("breach", "2026-04-08")]),
        # due the Thursday before Easter: the breach waits for Tuesday
        ("2026-04-02", [("warn-1", "2026-04-01"), ("warn-0", "2026-04-02"), ("breach", "2026-04-07")]),
        # 28 Dec 2026 is a substitute bank holiday
        ("2026-12-24", [("warn-1", "2026-12-23"), ("warn-0", "2026-12-24"), ("breach", "2026-12-29")]),
    ],
)
def test_days_count_in_working_days_of_england_and_wales(due, expected) -> None:
    assert every_day("2027-01-29", clock(starts="2026-01-05", due=due)) == expected


def test_a_deployment_closure_moves_the_alert_days() -> None:
    closed = WorkingCalendar([D("2026-03-04")])
    assert every_day("2026-03-06", cal=closed) == [
        ("warn-1", "2026-03-03"),
        ("warn-0", "2026-03-05"),
        ("breach", "2026-03-06"),
    ]


def test_a_warning_further_out_than_the_clock_ever_was_is_not_sent() -> None:
    # Started Wednesday, due Thursday: it never had 3 or 2 working days left.
    item = clock(starts="2026-03-04", due="2026-03-05")
    settings = AlertsSettings(warn_working_days=[3, 2, 1, 0])
    assert levels("2026-03-05", item, settings) == [("warn-1", "2026-03-04"), ("warn-0", "2026-03-05")]


def test_no_clocks_no_alerts() -> None:
    assert due_alerts([], D("2026-03-06"), CAL, DEFAULT) == []


def routing(**changes: object) -> Routing:
    values: dict[str, object] = {
        "email": True,
        "email_to": ("team@provider.example",),
        "escalate_to": ("manager@provider.example",),
        "caseworkers": {"Jo Smith": "jo.smith@provider.example"},
        "webhooks": ("team-channel",),
    }
    values.update(changes)
    return Routing(**values)  # type: ignore[arg-type]


def routes(as_of: str, item: OpenClock | None = None, route: Routing | None = None) -> dict[str, list]:
    found: dict[str, list] = {}
    for alert in decide_alerts([item or clock()], D(as_of), CAL, DEFAULT, route or routing()):
        found.setdefault(alert.level, []).append((alert.channel, alert.recipient))
    return found


def test_warnings_go_to_the_team_the_caseworker_and_every_webhook() -> None:
    assert routes("2026-03-04") == {
        "warn-1": [
            (EMAIL, "team@provider.example"),
            (EMAIL, "jo.smith@provider.example"),
            ("webhook:team-channel", "team-channel"),
        ]
    }


def test_a_breach_is_escalated() -> None:
    assert routes("2026-03-06")["breach"] == [
        (EMAIL, "team@provider.example"),
        (EMAIL, "jo.smith@provider.example"),
        (EMAIL, "manager@provider.example"),
        ("webhook:team-channel", "team-channel"),
    ]


@pytest.mark.parametrize(
    ("changes", "owner", "expected"),
    [
        ({}, "Sam Patel", [(EMAIL, "team@provider.example"), ("webhook:team-channel", "team-channel")]),
        ({}, None, [(EMAIL, "team@provider.example"), ("webhook:team-channel", "team-channel")]),
        ({"email": False}, "Jo Smith", [("webhook:team-channel", "team-channel")]),
        (
            {"webhooks": ()},
            "Jo Smith",
            [(EMAIL, "team@provider.example"), (EMAIL, "jo.smith@provider.example")],
        ),
        # the caseworker is also on the team list: one message, not two
        (
            {"email_to": ("jo.smith@provider.example",), "webhooks": ()},
            "Jo Smith",
            [(EMAIL, "jo.smith@provider.example")],
        ),
    ],
)
def test_recipients_follow_the_configuration(changes, owner, expected) -> None:
    assert routes("2026-03-04", clock(owner=owner), routing(**changes))["warn-1"] == expected


def test_routing_from_settings_uses_bare_lower_case_addresses() -> None:
    settings = Settings.model_validate(
        {
            "caseworkers": {"Jo Smith": "Jo Smith <Jo.Smith@Provider.example>"},
            "email": {"host": "h", "sender": "a@b.example", "to": ["Team <TEAM@provider.example>"]},
            "webhooks": [{"name": "ops", "url": "https://example.invalid/x"}],
        }
    )
    built = Routing.from_settings(settings)
    assert built.email
    assert built.email_to == ("team@provider.example",)
    assert built.caseworkers == {"Jo Smith": "jo.smith@provider.example"}
    assert built.webhooks == ("ops",)
    assert not Routing.from_settings(Settings()).email


def test_the_payload_is_exactly_the_contract_and_the_id_is_stable() -> None:
    hooks = routing(webhooks=("h",), email=False)
    warned = decide_alerts([clock()], D("2026-03-05"), CAL, DEFAULT, hooks)
    first = decide_alerts([clock()], D("2026-03-06"), CAL, DEFAULT, hooks)
    again = decide_alerts([clock()], D("2026-03-09"), CAL, DEFAULT, hooks)
    assert [a.id for a in first] == [a.id for a in again]
    assert len({a.id for a in warned + first}) == 3
    breach = first[-1]
    assert set(breach.payload) == CONTRACT_KEYS
    assert breach.payload == {
        "id": breach.id,
        "type": BREACHED,
        "ref": "M-0042",
        "clock": "kpi2",
        "kpi": "KPI 2",
        "title": "LA/ICB notified",
        "due_on": "2026-03-05",
        "working_days_left": -1,
        "action": "Notify the LA and ICB that the parent wishes to mediate",
    }
    assert warned[0].payload["type"] == WARNING
    assert "Jo Smith" not in str([a.payload for a in warned + first])


BASE_KEY = ("M-0042", "kpi2", 1, "warn-1", EMAIL, "jo@x.example")


@pytest.mark.parametrize("position", range(6))
def test_the_id_changes_with_every_part_of_the_key(position) -> None:
    changed = list(BASE_KEY)
    changed[position] = 2 if position == 2 else str(changed[position]) + "x"
    assert alert_id(*BASE_KEY) == alert_id(*BASE_KEY)
    assert alert_id(*changed) != alert_id(*BASE_KEY)  # type: ignore[arg-type]


def test_the_digest_lists_due_today_due_soon_and_overdue_per_recipient() -> None:
    clocks = [
        clock(ref="M-1", due="2026-03-10"),  # due today
        clock(ref="M-2", due="2026-03-12", owner="Sam Patel"),  # 2 working days left
        clock(ref="M-3", due="2026-03-13"),  # 3 left: not listed
        clock(ref="M-4", due="2026-03-06", owner="Sam Patel"),  # overdue
    ]
    digests = {a.recipient: a for a in digest_alerts(clocks, D("2026-03-10"), CAL, routing())}
    refs = {
        who: {key: [i["ref"] for i in a.payload[key]] for key in ("due_today", "due_soon", "overdue")}
        for who, a in digests.items()
    }
    assert refs == {
        "team@provider.example": {"due_today": ["M-1"], "due_soon": ["M-2"], "overdue": ["M-4"]},
        "jo.smith@provider.example": {"due_today": ["M-1"], "due_soon": [], "overdue": []},
        "manager@provider.example": {"due_today": [], "due_soon": [], "overdue": ["M-4"]},
    }
    team = digests["team@provider.example"]
    assert (team.payload["type"], team.channel, team.level) == (DIGEST, EMAIL, "digest-2026-03-10")
    assert digest_alerts(clocks, D("2026-03-10"), CAL, routing(email=False)) == []


def test_horizon_reaches_the_furthest_warning_and_the_digest() -> None:
    # Tuesday 10 March: the digest looks 2 working days ahead (Thursday), a 5-day warning to Tuesday 17th.
    assert horizon(D("2026-03-10"), CAL, DEFAULT) == D("2026-03-12")
    assert horizon(D("2026-03-10"), CAL, AlertsSettings(warn_working_days=[5])) == D("2026-03-17")
    # Friday: a clock due on Sunday has 0 working days left, so Tuesday is 2 working days ahead
    assert horizon(D("2026-03-06"), CAL, DEFAULT) == D("2026-03-10")


NOW = dt.datetime(2026, 3, 10, 8, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("attempts", "retry_after", "seconds"),
    [(1, None, 60), (2, None, 120), (3, None, 240), (7, None, 3600), (30, None, 3600), (1, 300.0, 300),
     (5, 0.0, 0), (1, 10**9, 86400)],
)  # fmt: skip
def test_retries_back_off_exponentially_and_honour_retry_after(attempts, retry_after, seconds) -> None:
    assert next_attempt_at(NOW, attempts, retry_after) == NOW + dt.timedelta(seconds=seconds)


LONDON = dt.timezone(dt.timedelta(hours=0))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-03-10 08:29", "2026-03-09"),  # Tuesday before the send time: Monday's alerts
        ("2026-03-10 08:30", "2026-03-10"),
        ("2026-03-14 12:00", "2026-03-13"),  # Saturday: Friday's
        ("2026-04-06 09:00", "2026-04-02"),  # Easter Monday: Thursday's (Good Friday is a holiday)
    ],
)
def test_watch_decides_as_of_the_last_day_whose_send_time_has_passed(now, expected) -> None:
    moment = dt.datetime.fromisoformat(now).replace(tzinfo=LONDON)
    assert alert_day(moment, dt.time(8, 30), CAL) == D(expected)
