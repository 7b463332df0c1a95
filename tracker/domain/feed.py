"""The calendar feed's entries: planned meetings and the due dates of open clocks, one entry each.

Pure: from folded cases (`CaseState`) and their rule packs to `FeedEntry` values. `tracker.feed` reads the
cases through the store and writes the entries as iCalendar (`caseclock ics`, and `watch` on each pass).

* A **meeting** is what a pack's `not_before` bounds describe: an event that may not be dated before a date
  field of the latest earlier event of another type (the SEND pack: `meeting_held` not before the
  `meeting_date` of the latest `meeting_scheduled`), so that date is when it is planned. It is listed while
  the case is open and neither the planned event nor an event that cancels the clocks counted from that date
  (mediation declined or not arranged, the case withdrawn or closed) has happened since the latest
  scheduling. No event name is written here: the pack says them all.
* A **deadline** is an open clock (running, or past its due date and still not done; neither stopped,
  excepted nor cancelled) on its due date: `M-00042 KPI 2 due: Notify the LA and ICB ...`.

Both are all-day entries that name the case by its reference and say what the pack says, never a name,
date of birth, contact detail or note. The UID is stable, `<ref>.<clock>@caseclock` or
`<ref>.<date field>@caseclock`, so a calendar that reads the feed again updates an entry instead of adding
another. The clock's instance number is left out on purpose: a rescheduled meeting supersedes its
confirmation clock with a new instance, and the entry moves to the new due date (a case has at most one open
instance of a clock at a time). SEQUENCE is the case's revision, its number of events (voids included),
which grows with every step recorded, so a changed entry always comes with a higher SEQUENCE; a due date
moved by a rule or calendar change and `rebuild` changes DTSTART under the same SEQUENCE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from tracker.domain.errors import InvalidValue
from tracker.domain.rules import PackRegistry, RulePack, did_you_mean
from tracker.domain.workflow import CaseState

UID_DOMAIN = "caseclock"
"""The fixed right-hand side of every UID: `M-00042.kpi2@caseclock`."""
_LISTED_NAMES = 10
"""A refused caseworker name lists the known names when there are at most this many."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One all-day entry of the calendar feed."""

    uid: str
    ref: str
    on: dt.date
    summary: str
    description: str
    sequence: int
    kind: Literal["meeting", "deadline"]


@dataclass(frozen=True, slots=True)
class MeetingRule:
    """How a pack plans a meeting: the event that schedules it and its date field, and what ends the plan."""

    scheduled_by: str
    field: str
    held_by: str
    ended_by: frozenset[str]
    """The event that holds the meeting, and the events that cancel the clocks counted from its date."""
    label: str
    """What the entry calls it: the date field's label without "date" ("Meeting")."""


def meeting_rules(pack: RulePack) -> list[MeetingRule]:
    """The meetings a pack plans, from its `not_before` bounds (none in a pack without them)."""
    rules: list[MeetingRule] = []
    for held_by, spec in pack.events.items():
        for bound in spec.not_before:
            cancelled_by = {
                event
                for clock in pack.clocks.values()
                if clock.due.field == bound.field and bound.event in clock.start
                for event in clock.cancel
            }
            field = pack.event_fields(bound.event)[bound.field]  # a date field: the pack's validation
            label = field.label(bound.field)
            if label.lower().endswith(" date") and len(label) > len(" date"):
                label = label[: -len(" date")]
            ended_by = frozenset({held_by, *cancelled_by} - {bound.event})
            rules.append(MeetingRule(bound.event, bound.field, held_by, ended_by, label))
    return rules


def uid(ref: str, part: str) -> str:
    """The stable UID of a case's entry: `M-00042.kpi2@caseclock`."""
    return f"{ref}.{part}@{UID_DOMAIN}"


def feed_entries(cases: Iterable[CaseState], packs: PackRegistry) -> list[FeedEntry]:
    """The entries of these cases: meetings and deadlines, by date, then reference, then UID."""
    meetings: dict[tuple[str, str], list[MeetingRule]] = {}
    entries: list[FeedEntry] = []
    for case in cases:
        if case.terminal:
            continue
        pack = packs.in_force(case.pack_id, case.opened_on)
        key = (pack.id, pack.version)
        if key not in meetings:
            meetings[key] = meeting_rules(pack)
        entries.extend(_meetings(case, meetings[key]))
        entries.extend(_deadlines(case))
    return sorted(entries, key=lambda e: (e.on, e.ref, e.uid))


def _meetings(case: CaseState, rules: Sequence[MeetingRule]) -> Iterable[FeedEntry]:
    for rule in rules:
        scheduled = case.happened.get(rule.scheduled_by)
        value = case.latest_data.get(rule.scheduled_by, {}).get(rule.field)
        if not scheduled or not value:
            continue
        since = scheduled[-1]  # dates are in fold order: the latest scheduling is the last
        if any(on >= since for event in rule.ended_by for on in case.happened.get(event, ())):
            continue
        on = dt.date.fromisoformat(str(value))
        yield FeedEntry(
            uid=uid(case.ref, rule.field),
            ref=case.ref,
            on=on,
            summary=f"{case.ref} {rule.label}",
            description=f"Case {case.ref}: {rule.label.lower()} planned for {_long(on)}",
            sequence=case.last_seq,
            kind="meeting",
        )


def _deadlines(case: CaseState) -> Iterable[FeedEntry]:
    for clock in case.clocks:
        if not clock.open:
            continue
        spec = clock.spec
        yield FeedEntry(
            uid=uid(case.ref, clock.clock),
            ref=case.ref,
            on=clock.due_on,
            summary=f"{case.ref} {spec.kpi} due: {spec.action}",
            description=f"Case {case.ref}: {spec.kpi} ({spec.title}) due {_long(clock.due_on)}",
            sequence=case.last_seq,
            kind="deadline",
        )


def _long(day: dt.date) -> str:
    """`Tue 24 Nov 2026`."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def check_caseworker(option: str, name: str, known: Iterable[str]) -> None:
    """Refuse a caseworker name that no case and no `[caseworkers]` entry uses, naming the near ones.

    Args:
        option: How the user gave it (`--caseworker`, `calendar_feed.caseworker`).
        name: The name given.
        known: The caseworkers known: the owners of cases and the names in `[caseworkers]`.
    """
    names = sorted(set(known))
    if name in names:
        return
    if not names:
        raise InvalidValue(option, name, "no case has a caseworker yet; leave it out to include every case")
    listed = f": {', '.join(names)}" if len(names) <= _LISTED_NAMES else ""
    same = [n for n in names if n.casefold() == name.casefold()]  # capitals: the likeliest slip
    hint = f" (did you mean {same[0]!r}?)" if same else did_you_mean(name, names)
    raise InvalidValue(
        option, name, f"no case has this caseworker{hint}; use a name as it is on the cases{listed}"
    )
