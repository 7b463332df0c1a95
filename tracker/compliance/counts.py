"""A report's tallies kept as running counts: what each case adds, and the tallies of a period from the sums.

A year's report of a large service would otherwise group 200,000 clocks and 300,000 events each time it is
read. Instead each case's facts (`tracker.compliance.facts.facts_of`, the same derivation as the fold's)
become a few *count rows* `(kind, day, since, key)`, and the store keeps their sums per pack
(`tracker.report_counts`), updated for the cases written since the last report. `tallies_from_counts`
turns the rows of a period back into the `Tallies` that `compute_tallies` judges: a few thousand rows for a
year instead of half a million.

`day` is the date a period selects the row by, `key` the JSON text of everything else the tally reads:

| kind     | day                   | key                                                        |
|----------|-----------------------|------------------------------------------------------------|
| clocks   | due date              | `ClockCount`'s group (clock, KPI, version, final status, ...) |
| stops    | stop date             | clock, start, stop and end dates (a wait that stopped)     |
| waits    | stop or end (or OPEN) | the same; `since` is the start date                        |
| referrals| opening date          | case type                                                  |
| fields   | opening date          | breakdown field, the case's value                          |
| outcomes | opening date          | outcome field, the case's last value                       |
| steps    | opening date          | step event, days from the referral to its first date       |
| surveys  | survey date           | the case's group, the answers (free text: only "answered") |
| flows    | event date            | flow step, the date of the case's previous one (or null)   |
| feedbacks| event date            | reference, event, its exportable choices                   |
| sessions | session date          | reference, type, minutes, mode                             |

A flow step counts a case once however many it has in the period: a row counts where its previous date is
null or before the period. The counts are made with one version of a pack (the latest): `fingerprint`
names it, so a report of another version (or after the pack changed) is read the long way.

Pure domain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

from tracker.compliance.facts import CaseFacts
from tracker.compliance.flow import ActivityFact, WaitFact
from tracker.compliance.model import ClockCount, ClockFact, FeedbackFact, SurveyFact
from tracker.compliance.selection import (
    breakdown_fields,
    outcome_fields,
    per_pack,
    step_events,
    text_fields,
)
from tracker.compliance.tally import ReferralTally, Tallies
from tracker.fields import JsonValue
from tracker.periods import Period
from tracker.rules import RulePack

COUNTS_FORMAT = 1
"""The version of the count rows' layout: a change makes every pack's counts be made afresh."""

OPEN = dt.date(9999, 12, 31)
"""The `day` of a wait that has neither stopped nor ended."""

DAY_KINDS = (
    "clocks",
    "stops",
    "referrals",
    "fields",
    "outcomes",
    "steps",
    "surveys",
    "flows",
    "feedbacks",
    "sessions",
)
"""The kinds a period selects by `day` (`waits` rows: `day` after a date and `since` on or before it)."""

SUMMED_KINDS = ("fields", "outcomes", "steps", "flows")
"""The kinds whose tally does not read the day: a period's rows of each key can be summed as they are read."""

CountRow = tuple[str, dt.date, dt.date | None, str]
"""(kind, day, since, key): one thing a case counts once (or more: see `case_counts`)."""


def fingerprint(pack: RulePack) -> str:
    """What the counts of a pack were made with: its version's whole definition and the rows' layout."""
    text = f"{COUNTS_FORMAT}\n{pack.model_dump_json()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode


class _Items(tuple[tuple[str, Any], ...]):
    """A mapping's items, sorted: hashable, so that a key with answers or choices can be cached."""


def _key_with(*parts: Any) -> str:
    """`_key` of parts that may hold mappings (answers, choices)."""
    plain = tuple(_Items(sorted(part.items())) if isinstance(part, dict) else part for part in parts)
    try:
        return _key(*plain)
    except TypeError:  # a list among the values (unhashable): not cached
        return _encoded(plain)


@lru_cache(maxsize=1 << 16)
def _key(*parts: Any) -> str:
    """The JSON text of a row's key (dates as ISO text, mappings with their keys sorted); cached."""
    return _encoded(parts)


def _encoded(parts: tuple[Any, ...]) -> str:
    return _ENCODE(
        [
            part.isoformat()
            if isinstance(part, dt.date)
            else dict(part)
            if isinstance(part, _Items)
            else part
            for part in parts
        ]
    )


class _Plan(NamedTuple):
    """What a pack counts of a case, derived once per pack."""

    breakdowns: tuple[str, ...]
    outcomes: tuple[str, ...]
    steps: tuple[str, ...]
    questions: tuple[str, ...]
    texts: tuple[str, ...]


@per_pack
def _plan(pack: RulePack) -> _Plan:
    spec = pack.satisfaction
    return _Plan(
        tuple(name for name, _spec in breakdown_fields(pack)),
        tuple(outcome_fields(pack)),
        tuple(step_events(pack)),
        tuple(dict.fromkeys([spec.question, *spec.other_questions])) if spec else (),
        tuple(text_fields(pack, spec.event)) if spec else (),
    )


CLOCK_KINDS = ("clocks", "stops", "waits")
"""The kinds counted from a case's clocks alone (`clock_counts`): what a clock that moves changes."""


def clock_counts(clocks: Iterable[ClockFact], into: Counter[CountRow] | None = None) -> Counter[CountRow]:
    """The count rows of a case's clocks: their groups by due date, and their waits (`CLOCK_KINDS`)."""
    rows: Counter[CountRow] = Counter() if into is None else into
    for clock in clocks:
        group = ClockCount.key_of(clock)
        key = _key(*group[:3], *group[4:8])  # all but the due date (the row's day) and the count
        rows["clocks", clock.due_on, None, key] += 1
        stopped, ended = clock.stopped_on, clock.ended_on
        # its wait (`WaitFact`): stopped, and still waiting until it stopped or ended
        key = _key(clock.clock, clock.starts_on, stopped, ended)
        if stopped is not None:
            rows["stops", stopped, None, key] += 1
        until = (
            OPEN if stopped is None and ended is None else min(d for d in (stopped, ended) if d is not None)
        )
        rows["waits", until, clock.starts_on, key] += 1
    return rows


def case_counts(pack: RulePack, facts: CaseFacts, into: Counter[CountRow] | None = None) -> Counter[CountRow]:
    """The count rows of one case's facts (a row twice when two of its facts are alike).

    `into`: add them to this counter (many cases' sum) instead of a new one.
    """
    plan = _plan(pack)
    rows = clock_counts(facts.clocks, into)
    referral = facts.referral
    opened = referral.opened_on
    rows["referrals", opened, None, _key(referral.case_type)] += 1
    for name in plan.breakdowns:
        rows["fields", opened, None, _key_with(name, referral.fields.get(name))] += 1
    for name in plan.outcomes:
        if name in referral.outcomes:
            rows["outcomes", opened, None, _key_with(name, referral.outcomes[name])] += 1
    for event in plan.steps:
        if event in referral.steps:
            rows["steps", opened, None, _key(event, (referral.steps[event] - opened).days)] += 1
    for survey in facts.surveys:
        answers: dict[str, Any] = {q: survey.answers[q] for q in plan.questions if q in survey.answers}
        # Free text is only ever counted ("has a comment"), so only whether it was given is kept.
        answers |= {name: True for name in plan.texts if survey.answers.get(name) and name not in answers}
        rows["surveys", survey.on, None, _key_with(survey.group, answers)] += 1
    previous: dict[str, dt.date] = {}
    for flow in sorted(facts.flow, key=lambda f: (f.event, f.on)):
        rows["flows", flow.on, None, _key(flow.event, previous.get(flow.event))] += 1
        previous[flow.event] = flow.on
    for item in facts.feedback:
        rows["feedbacks", item.on, None, _key_with(item.ref, item.event, item.choices)] += 1
    for session in facts.activities:
        key = _key(session.ref, session.activity, session.minutes, session.mode)
        rows["sessions", session.on, None, key] += 1
    return rows


def tallies_from_counts(
    pack: RulePack, period: Period, rows: Iterable[tuple[str, dt.date, str, int]]
) -> Tallies:
    """The `Tallies` of a period from its count rows `(kind, day, key, n)`.

    The rows are those of `DAY_KINDS` dated in the period, and the `waits` rows of the waits still
    open at the period's end (or the as-of date): ended after it and started on or before it.
    """
    clocks: list[ClockCount] = []
    waits: dict[str, WaitFact] = {}
    days: Counter[dt.date] = Counter()
    types: Counter[str] = Counter()
    fields: dict[str, Counter[JsonValue]] = {name: Counter() for name, _spec in breakdown_fields(pack)}
    outcomes: dict[str, Counter[JsonValue]] = {name: Counter() for name in outcome_fields(pack)}
    steps: dict[str, Counter[int]] = {event: Counter() for event in step_events(pack)}
    surveys: list[SurveyFact] = []
    flow: Counter[str] = Counter()
    feedback: list[FeedbackFact] = []
    activities: list[ActivityFact] = []
    date = _Dates()
    decoded: dict[str, Any] = {}
    for kind, day, key, n in rows:
        parts = decoded.get(key)
        if parts is None:
            parts = decoded[key] = json.loads(key)
        if kind == "clocks":
            clock, kpi, version, final, stopped, ended, excepted = parts
            clocks.append(
                ClockCount(clock, kpi, version, day, final, date[stopped], date[ended], excepted, n)
            )
        elif kind in ("stops", "waits"):
            clock, starts, stopped, ended = parts
            waits[key] = WaitFact(clock, dt.date.fromisoformat(starts), date[stopped], date[ended], n)
        elif kind == "referrals":
            days[day] += n
            types[parts[0]] += n
        elif kind == "fields":
            if parts[0] in fields:
                fields[parts[0]][parts[1]] += n
        elif kind == "outcomes":
            if parts[0] in outcomes:
                outcomes[parts[0]][parts[1]] += n
        elif kind == "steps":
            if parts[0] in steps:
                steps[parts[0]][parts[1]] += n
        elif kind == "surveys":
            surveys.append(SurveyFact("", day, parts[1], parts[0], n))
        elif kind == "flows":
            event, before = parts
            if before is None or dt.date.fromisoformat(before) < period.start:
                flow[event] += n
        elif kind == "feedbacks":
            feedback.extend([FeedbackFact(parts[0], parts[1], day, parts[2])] * n)
        elif kind == "sessions":
            activities.extend([ActivityFact(parts[0], day, parts[1], parts[2], parts[3])] * n)
    return Tallies(
        clocks=tuple(clocks),
        surveys=tuple(sorted(surveys, key=lambda s: s.on)),
        referrals=ReferralTally(days, dict(types), fields, outcomes, steps),
        feedback=tuple(sorted(feedback, key=lambda f: (f.on, f.ref))),
        flow={step: flow.get(step, 0) for step in pack.reporting.flow},
        activities=tuple(sorted(activities, key=lambda a: (a.on, a.ref))),
        waits=tuple(waits.values()),
    )


class _Dates(dict[str | None, "dt.date | None"]):
    """ISO text -> date, parsed once per distinct value."""

    def __missing__(self, value: str | None) -> dt.date | None:
        day = self[value] = None if value is None else dt.date.fromisoformat(value)
        return day
