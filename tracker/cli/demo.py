"""Realistic synthetic cases for demos, manual testing and benchmarks (`caseclock demo`).

Deterministic for a seed and an as-of date. Cases are spread over the 18 months before the as-of date and
follow every path of the SEND mediation pack (advice only, declined after a request, mediated, rescheduled,
not arranged, withdrawn, disagreement resolution) at roughly the rates a real service sees, with late
steps, KPI 5 exceptions and surveys, so every clock status appears. Every event goes through `decide`, as a
caseworker's would, so the demo can never contain a history the rules refuse.

This is the one module outside the tests that names the events of a particular pack; it is skipped when
that pack is not enabled.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from tracker.domain.errors import Refused
from tracker.domain.events import Event
from tracker.domain.workflow import CaseState, Rules, advance, decide, decide_open, project

_CASEWORKERS = ["Jo Smith", "Sam Patel", "Alex Turner", "Priya Shah", "Chris Evans", "Morgan Lee"]
_FIRST = ["Ava", "Noah", "Isla", "Leo", "Mia", "Oscar", "Ruby", "Finn", "Lily", "Jack", "Evie", "Alfie"]
_LAST = ["Brown", "Clarke", "Davies", "Edwards", "Green", "Hughes", "King", "Lewis", "Moore", "Wright"]
_NOTES = [
    "Phoned parent to explain the mediation process.",
    "Parent prefers afternoon meetings; school run in the morning.",
    "Left voicemail; will try again tomorrow.",
    "Sent information leaflet by email.",
]


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


_NEEDS = {  # the primary needs of children and young people with an EHC plan in England, roughly
    "asd": 0.32,
    "slcn": 0.2,
    "semh": 0.14,
    "sld": 0.06,
    "mld": 0.06,
    "spld": 0.04,
    "pmld": 0.02,
    "pd": 0.03,
    "hi": 0.02,
    "vi": 0.01,
    "msi": 0.005,
    "other": 0.035,
    "not_known": 0.05,
}


def _need_and_professionals(rng: random.Random) -> dict[str, object]:
    """The primary need and the other professionals involved.

    Drawn from a generator of their own, so the rest of the demo stays what it was with the same seed.
    """
    return {
        "primary_need": _weighted(rng, _NEEDS),
        "school_involved": rng.random() < 0.6,
        "other_professionals_involved": rng.random() < 0.08,
    }


def _profile(rng: random.Random) -> dict[str, object]:
    role = _weighted(rng, {"parent_carer": 0.86, "young_person": 0.14})
    profile = _mediation_profile(rng, role)
    return {**profile, **_need_and_professionals(random.Random(str(profile["contact"])))}


def _mediation_profile(rng: random.Random, role: str) -> dict[str, object]:
    return {
        "caseworker": rng.choice(_CASEWORKERS),
        "la": "Norfolk County Council",
        "health_involved": rng.random() < 0.3,
        "social_care_involved": rng.random() < 0.18,
        "source": _weighted(
            rng,
            {
                "parent_carer": 0.55,
                "young_person": 0.06,
                "la": 0.12,
                "school": 0.1,
                "sendiass": 0.12,
                "health": 0.03,
                "other": 0.02,
            },
        ),
        "decision_disputed": _weighted(
            rng,
            {
                "refusal_to_assess": 0.3,
                "refusal_to_issue_plan": 0.15,
                "plan_contents": 0.4,
                "refusal_to_amend": 0.07,
                "ceasing_plan": 0.05,
                "other": 0.03,
            },
        ),
        "role": role,
        "age_band": _weighted(
            rng,
            {"0_4": 0.08, "5_10": 0.42, "11_15": 0.32, "16_19": 0.14, "20_25": 0.04}
            if role == "parent_carer"
            else {"16_19": 0.8, "20_25": 0.2},
        ),
        "gender": _weighted(rng, {"male": 0.66, "female": 0.31, "non_binary": 0.01, "not_stated": 0.02}),
        "ethnicity": _weighted(
            rng,
            {
                "white_british": 0.84,
                "white_other": 0.05,
                "mixed_white_black_caribbean": 0.02,
                "mixed_other": 0.02,
                "asian_indian": 0.01,
                "asian_other": 0.01,
                "black_african": 0.02,
                "other_any": 0.01,
                "not_stated": 0.02,
            },
        ),
        "disability": _weighted(rng, {"yes": 0.55, "no": 0.35, "not_stated": 0.1}),
        "district": _weighted(
            rng,
            {
                "norwich": 0.17,
                "breckland": 0.15,
                "south_norfolk": 0.16,
                "broadland": 0.15,
                "kings_lynn_west_norfolk": 0.17,
                "great_yarmouth": 0.11,
                "north_norfolk": 0.1,
                "out_of_county": 0.01,
            },
        ),
        "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "contact": f"07700 9{rng.randrange(10000, 99999)}",
    }


def _survey(rng: random.Random) -> dict[str, object]:
    def answer() -> str:
        return _weighted(
            rng,
            {
                "strongly_agree": 0.55,
                "agree": 0.33,
                "neutral": 0.06,
                "disagree": 0.04,
                "strongly_disagree": 0.02,
            },
        )

    survey: dict[str, object] = {"satisfied": answer(), "listened_to": answer()}
    if rng.random() < 0.9:
        survey["understood"] = answer()
    return survey


class _Plan:
    """A case's steps in date order, before they are decided."""

    def __init__(self, rules: Rules, rng: random.Random, opened: dt.date) -> None:
        self.rules = rules
        self.rng = rng
        self.steps: list[tuple[str, dt.date, dict[str, object]]] = []
        self.day = opened

    def wd(self, low: int, high: int, base: dt.date | None = None) -> dt.date:
        """A date `low`..`high` working days after `base` (default: the last step)."""
        return self.rules.calendar.working_days_after(base or self.day, self.rng.randint(low, high))

    def add(self, event: str, on: dt.date, **fields: object) -> dt.date:
        self.steps.append((event, on, fields))
        self.day = max(self.day, on)
        return on


def _mediation_plan(plan: _Plan, rng: random.Random) -> None:
    path = rng.random()
    if path < 0.22:  # advice only: decides not to mediate
        declined = plan.add("mediation_declined", plan.wd(0, 6))
        plan.add(
            "certificate_issued",
            plan.wd(1, 3) if rng.random() < 0.93 else plan.wd(4, 7, declined),
            kind="advice_only",
        )
        plan.add("closed", plan.wd(0, 5))
        return
    requested = plan.add("mediation_requested", plan.wd(0, 4))
    plan.add("la_notified", plan.wd(1, 3) if rng.random() < 0.94 else plan.wd(4, 7, requested))
    if path < 0.27:  # changes their mind
        plan.add("mediation_declined", plan.wd(2, 8, requested))
        plan.add("certificate_issued", plan.wd(1, 3), kind="advice_only")
        plan.add("closed", plan.wd(0, 3))
        return
    if path < 0.32:  # withdrawn part-way
        # After the steps so far: a withdrawal dated before the notification would be refused.
        plan.add("withdrawn", plan.wd(1, 12), reason="Family no longer wish to continue")
        return
    if path < 0.37:  # the LA/ICB cannot arrange mediation in time
        plan.add("mediation_not_arranged", requested + dt.timedelta(days=rng.randint(20, 30)))
        plan.add("certificate_issued", plan.wd(1, 3) if rng.random() < 0.9 else plan.wd(4, 6), kind="deemed")
        plan.add("closed", plan.wd(0, 4))
        return
    deadline = requested + dt.timedelta(days=30)
    scheduled_on = plan.wd(2, 8, requested)
    meeting = requested + dt.timedelta(
        days=rng.randint(15, 29) if rng.random() < 0.88 else rng.randint(31, 45)
    )
    meeting = plan.rules.calendar.working_days_after(meeting - dt.timedelta(days=1), 1)
    meeting = max(meeting, scheduled_on)
    plan.add("meeting_scheduled", scheduled_on, meeting_date=meeting.isoformat())
    if rng.random() < 0.14:  # rescheduled
        moved_on = plan.wd(1, 4)
        meeting = max(plan.rules.calendar.working_days_after(meeting, rng.randint(2, 8)), moved_on)
        plan.add("meeting_scheduled", moved_on, meeting_date=meeting.isoformat())
    if rng.random() < 0.05:
        plan.add("note", plan.day, note=rng.choice(_NOTES))
    confirm_due = plan.rules.calendar.working_days_before(meeting, 5)
    confirmed = (
        confirm_due - dt.timedelta(days=rng.randint(0, 4))
        if rng.random() < 0.9
        else plan.wd(1, 3, confirm_due)
    )
    plan.add("confirmation_sent", min(max(confirmed, plan.day), meeting))
    if meeting > deadline and rng.random() < 0.6:
        reason = rng.choice(
            ["school_holiday", "parent_unavailable", "young_person_unavailable", "other_agreed"]
        )
        plan.add("exception", plan.day, clock="kpi5", reason=reason, until=meeting.isoformat())
    if rng.random() < 0.04:
        plan.add("withdrawn", plan.wd(1, 2), reason="Agreement reached before the meeting")
        return
    plan.add(
        "meeting_held",
        meeting,
        outcome=_weighted(rng, {"agreed": 0.45, "partly_agreed": 0.3, "not_agreed": 0.25}),
    )
    plan.add(
        "certificate_issued", plan.wd(1, 3) if rng.random() < 0.92 else plan.wd(4, 6), kind="after_mediation"
    )
    plan.add("closed", plan.wd(0, 5))
    if rng.random() < 0.55:
        plan.add("survey", plan.wd(2, 20), **_survey(rng))


def _dr_plan(plan: _Plan, rng: random.Random) -> None:
    if rng.random() < 0.1:
        plan.add("withdrawn", plan.wd(2, 20), reason="Resolved with the school directly")
        return
    plan.add(
        "closed",
        plan.wd(5, 40),
        outcome=_weighted(rng, {"resolved": 0.5, "partly_resolved": 0.3, "not_resolved": 0.2}),
    )
    if rng.random() < 0.5:
        plan.add("survey", plan.wd(2, 20), **_survey(rng))


def _adoption_profile(rng: random.Random) -> dict[str, object]:
    group = _weighted(rng, {"adopter": 0.6, "adopted_adult": 0.28, "birth_parent": 0.12})
    return {
        "caseworker": rng.choice(_CASEWORKERS),
        "service_user": group,
        "source": _weighted(
            rng,
            {
                "self": 0.45,
                "la": 0.25,
                "regional_adoption_agency": 0.2,
                "health": 0.05,
                "voluntary_sector": 0.05,
            },
        ),
        "age_band": _weighted(rng, {"18_25": 0.12, "26_40": 0.38, "41_60": 0.4, "over_60": 0.1}),
        "gender": _weighted(rng, {"female": 0.68, "male": 0.3, "not_stated": 0.02}),
        "ethnicity": _weighted(
            rng, {"white_british": 0.88, "white_other": 0.05, "mixed_other": 0.03, "not_stated": 0.04}
        ),
        "disability": _weighted(rng, {"yes": 0.2, "no": 0.7, "not_stated": 0.1}),
        "district": _weighted(
            rng,
            {
                "norwich": 0.2,
                "breckland": 0.15,
                "south_norfolk": 0.15,
                "broadland": 0.15,
                "kings_lynn_west_norfolk": 0.15,
                "great_yarmouth": 0.1,
                "north_norfolk": 0.1,
            },
        ),
        "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "contact": f"07700 9{rng.randrange(10000, 99999)}",
    }


def _adoption_plan(plan: _Plan, rng: random.Random) -> None:
    if rng.random() < 0.06:
        plan.add("exited", plan.wd(2, 15), reason="withdrew")
        return
    assessed = plan.add("assessed", plan.wd(5, 18) if rng.random() < 0.85 else plan.wd(21, 35))
    if rng.random() < 0.05:
        plan.add("exited", plan.wd(1, 10), reason=rng.choice(["moved_away", "transferred", "withdrew"]))
        return
    plan.add(
        "support_started", plan.wd(3, 18, assessed) if rng.random() < 0.85 else plan.wd(21, 30, assessed)
    )
    for _ in range(rng.randint(1, 10)):
        plan.add(
            "session_delivered",
            plan.wd(3, 12),
            activity=_weighted(
                rng,
                {
                    "one_to_one": 0.4,
                    "group_session": 0.2,
                    "advice_line": 0.15,
                    "peer_support": 0.1,
                    "therapeutic_support": 0.1,
                    "training": 0.05,
                },
            ),
            minutes=rng.choice([30, 45, 60, 60, 90, 120]),
            mode=_weighted(rng, {"in_person": 0.4, "online": 0.3, "phone": 0.2, "group": 0.1}),
        )
    plan.add(
        "exited",
        plan.wd(2, 20),
        reason=_weighted(
            rng, {"goals_met": 0.7, "withdrew": 0.15, "moved_away": 0.05, "transferred": 0.05, "other": 0.05}
        ),
    )
    if rng.random() < 0.5:
        answer = _weighted(
            rng,
            {
                "strongly_agree": 0.45,
                "agree": 0.37,
                "neutral": 0.08,
                "disagree": 0.06,
                "strongly_disagree": 0.04,
            },
        )
        plan.add("survey", plan.wd(2, 15), support_and_advice=answer)


# case type -> (share of demo cases, its steps, its profile)
_PATHS = {
    "mediation": (0.74, _mediation_plan, _profile),
    "disagreement_resolution": (0.12, _dr_plan, _profile),
    "adoption_support": (0.14, _adoption_plan, _adoption_profile),
}


def generate(
    rules: Rules,
    cases: int,
    seed: int,
    as_of: dt.date,
    now: dt.datetime,
    start_number: int = 1,
    actor: str = "demo",
) -> Iterator[tuple[str, list[Event]]]:
    """Yield (reference, events) for `cases` new cases, as of `as_of` (steps after it are not yet taken).

    Cases are spread over the shipped packs that are enabled (SEND mediation, adoption support).
    """
    enabled = {t: path for t, path in _PATHS.items() if rules.packs.pack_for_case_type(t) is not None}
    if not enabled:
        return
    rng = random.Random(f"{seed}:{as_of.isoformat()}")
    first_day = as_of - dt.timedelta(days=548)
    types, weights = list(enabled), [share for share, _, _ in enabled.values()]
    for number in range(start_number, start_number + cases):
        case_type = rng.choices(types, weights=weights)[0]
        _, steps, profile = enabled[case_type]
        pack_id = rules.packs.pack_for_case_type(case_type)
        assert pack_id is not None
        ref = f"{rules.packs.latest(pack_id).reference_prefix}{number:05d}"
        opened = first_day + dt.timedelta(days=rng.randrange((as_of - first_day).days + 1))
        if not rules.calendar.is_working_day(opened):
            opened = rules.calendar.working_days_after(opened, 1)
        opened = min(opened, as_of)
        plan = _Plan(rules, rng, opened)
        steps(plan, rng)
        yield ref, _decided(rules, ref, case_type, opened, profile(rng), plan.steps, as_of, now, actor)


def _decided(
    rules: Rules,
    ref: str,
    case_type: str,
    opened: dt.date,
    profile: dict[str, object],
    steps: list[tuple[str, dt.date, dict[str, Any]]],
    as_of: dt.date,
    now: dt.datetime,
    actor: str,
) -> list[Event]:
    first = decide_open(rules, ref, case_type, opened, profile, actor, now, as_of)
    events = [first]
    state: CaseState = project(rules, ref, events)
    for event_type, on, fields in steps:
        if on > as_of:
            break  # not happened yet
        try:
            event = decide(rules, state, events, event_type, on, fields, actor, now, as_of)
        except Refused:
            continue  # e.g. an exception whose clock already stopped: a caseworker would not record it
        state = advance(rules, state, events, event)
        events.append(event)
    return events
