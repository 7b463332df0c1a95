"""Alert rules: which deadline alerts are due, for whom, and what they say. Pure: no I/O, no clock.

Who calls what: a pass of `caseclock check` or `caseclock watch` (`tracker.alerts.dispatch`) reads the open
clocks from the database, calls `decide_alerts` (and `digest_alerts` once a day), records the result in the
outbox (`tracker.alerts.outbox`), and hands each recorded `Alert` to a `tracker.alerts.notify.Notifier`
(`notifiers.email`, `notifiers.webhook`), built by the command line from the configuration.

The rules, for every *open* clock (running or past due, neither stopped, excepted nor cancelled):

* a **warning** for each N of `alerts.warn_working_days`, due on the first working day with N working days
  left (0 = the due day, or the working day before a due date that is not a working day); a warning whose
  day came before the clock had N working days left never applied and is not sent;
* when `alerts.breach` is on, one **breach** alert on the first working day after the due date;
* **catch-up**: an alert whose day has passed is still due as long as the clock is open; the outbox's unique
  key (case, clock, instance, level, channel, recipient) makes it go out once however often it is decided.
  A breach supersedes the warnings it makes stale: once a clock's breach alert is due, its warnings are no
  longer (and the outbox marks those recorded but not yet sent `superseded`).

A clock that stops, is excepted or is cancelled is no longer open, so it produces nothing, and the outbox
cancels what was queued for it but not yet sent. An alert carries the case reference, the clock, its KPI
and title, the due date, the working days left and the action from the rule pack: never a personal field or
free text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import AlertsSettings, Settings

WARNING = "clock.warning"
"""`type` of a warning before the due date (CONTRACT.md)."""
BREACHED = "clock.breached"
"""`type` of the alert on the first working day after a missed due date (CONTRACT.md)."""
DIGEST = "digest"
"""`type` of a daily digest message (email only)."""
BREACH_LEVEL = "breach"
EMAIL = "email"
"""The channel of every email row; its recipient is the address."""
WEBHOOK_PREFIX = "webhook:"
"""Prefix of a webhook's channel (`webhook:<name>`); its recipient is the webhook's name."""
DIGEST_AHEAD = 2
"""The digest lists clocks due within this many working days."""


def warning_level(days: int) -> str:
    """The level name of the warning `days` working days before the due date: `warn-1`."""
    return f"warn-{days}"


def digest_level(on: dt.date) -> str:
    """The level name of the digest of one day: `digest-2026-03-10`."""
    return f"digest-{on.isoformat()}"


def webhook_channel(name: str) -> str:
    """The outbox channel of the webhook called `name`."""
    return WEBHOOK_PREFIX + name


@dataclass(frozen=True, slots=True)
class OpenClock:
    """One open clock instance of a case, with what its rule pack says about it."""

    ref: str
    clock: str
    number: int
    owner: str | None
    """The case's caseworker (the pack's owner field), used to route email; never sent in an alert."""
    starts_on: dt.date
    due_on: dt.date
    kpi: str
    title: str
    action: str


@dataclass(frozen=True, slots=True)
class DueAlert:
    """An alert a clock calls for as of a date, before it is routed to channels and recipients."""

    clock: OpenClock
    level: str
    type: str
    on: dt.date
    """The working day it became due (earlier than the as-of date when caught up)."""
    working_days_left: int
    """As of the date it was decided: 0 on the due day, negative once past due."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One message to one recipient on one channel: exactly one outbox row."""

    id: str
    """Stable: the same for the same (case, clock, instance, level, channel, recipient), on every retry."""
    ref: str
    clock: str
    number: int
    level: str
    channel: str
    recipient: str
    decided_on: dt.date
    payload: Mapping[str, Any] = field(compare=False)
    """The CONTRACT.md webhook JSON (or the digest's lists): references and deadlines only."""

    @property
    def type(self) -> str:
        """`clock.warning`, `clock.breached` or `digest`."""
        return str(self.payload["type"])


# ---------------------------------------------------------------------------------------------- rules


def horizon(as_of: dt.date, calendar: WorkingCalendar, settings: AlertsSettings) -> dt.date:
    """The latest due date an alert or digest decided as of `as_of` can concern (for the clock query)."""
    ahead = max([*settings.warn_working_days, DIGEST_AHEAD])
    # A clock concerns us while it has at most `ahead` working days left, i.e. it is due before the
    # (ahead + 1)th working day after the as-of date.
    return calendar.working_days_after(as_of, ahead + 1) - dt.timedelta(days=1)


def due_alerts(
    clocks: Iterable[OpenClock], as_of: dt.date, calendar: WorkingCalendar, settings: AlertsSettings
) -> list[DueAlert]:
    """Every alert the open `clocks` call for as of `as_of`, caught-up ones included."""
    due: list[DueAlert] = []
    levels = sorted(set(settings.warn_working_days), reverse=True)
    for clock in clocks:
        left = calendar.working_days_between(as_of, clock.due_on)
        breach_day = calendar.next_working_day(clock.due_on)
        if settings.breach and breach_day <= as_of:
            # Already breached: the warnings are stale, and the breach says more (catch-up after a gap).
            due.append(DueAlert(clock, BREACH_LEVEL, BREACHED, breach_day, left))
            continue
        left_at_start = calendar.working_days_between(clock.starts_on, clock.due_on)
        last_day = calendar.working_days_before(clock.due_on, 0)
        for days in levels:
            if days > left_at_start:
                continue  # the clock never had this many working days left
            day = last_day if days == 0 else calendar.working_days_before(last_day, days)
            if day <= as_of:
                due.append(DueAlert(clock, warning_level(days), WARNING, day, left))
    return due


@dataclass(frozen=True)
class Routing:
    """Who receives what, from the configuration: the channels that are set up and their recipients."""

    email: bool = False
    """Whether an `[email]` section is configured."""
    email_to: tuple[str, ...] = ()
    escalate_to: tuple[str, ...] = ()
    caseworkers: Mapping[str, str] = field(default_factory=dict)
    webhooks: tuple[str, ...] = ()
    """The names of the configured webhooks."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Routing:
        """The routing a configuration asks for."""
        email = settings.email
        return cls(
            email=email is not None,
            email_to=tuple(address(a) for a in email.to) if email else (),
            escalate_to=tuple(address(a) for a in email.escalate_to) if email else (),
            caseworkers={name: address(a) for name, a in settings.caseworkers.items()},
            webhooks=tuple(hook.name for hook in settings.webhooks),
        )

    def email_recipients(self, owner: str | None, breach: bool) -> list[str]:
        """`email.to`, the case's caseworker, and `email.escalate_to` for a breach; each address once."""
        if not self.email:
            return []
        wanted = list(self.email_to)
        if owner is not None and owner in self.caseworkers:
            wanted.append(self.caseworkers[owner])
        if breach:
            wanted.extend(self.escalate_to)
        return list(dict.fromkeys(wanted))

    def routes(self, due: DueAlert) -> list[tuple[str, str]]:
        """(channel, recipient) pairs of one due alert: one outbox row each."""
        pairs = [(EMAIL, a) for a in self.email_recipients(due.clock.owner, due.type == BREACHED)]
        pairs.extend((webhook_channel(name), name) for name in self.webhooks)
        return pairs


def address(text: str) -> str:
    """The bare, lower-case address of `Name <addr@x>`: the recipient key.

    A new display name is no new recipient.
    """
    return parseaddr(text)[1].lower()


def alert_id(ref: str, clock: str, number: int, level: str, channel: str, recipient: str) -> str:
    """The stable id of an alert: a hash of its outbox key, so every retry and repeat carries the same id."""
    key = "\x1f".join((ref, clock, str(number), level, channel, recipient))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def clock_payload(alert_id_: str, due: DueAlert) -> dict[str, Any]:
    """The CONTRACT.md webhook JSON of one alert."""
    clock = due.clock
    return {
        "id": alert_id_,
        "type": due.type,
        "ref": clock.ref,
        "clock": clock.clock,
        "kpi": clock.kpi,
        "title": clock.title,
        "due_on": clock.due_on.isoformat(),
        "working_days_left": due.working_days_left,
        "action": clock.action,
    }


def route(due: Iterable[DueAlert], routing: Routing, as_of: dt.date) -> list[Alert]:
    """One `Alert` per due alert, channel and recipient."""
    alerts: list[Alert] = []
    for item in due:
        clock = item.clock
        for channel, recipient in routing.routes(item):
            ident = alert_id(clock.ref, clock.clock, clock.number, item.level, channel, recipient)
            alerts.append(
                Alert(
                    ident,
                    clock.ref,
                    clock.clock,
                    clock.number,
                    item.level,
                    channel,
                    recipient,
                    as_of,
                    clock_payload(ident, item),
                )
            )
    return alerts


def decide_alerts(
    clocks: Iterable[OpenClock],
    as_of: dt.date,
    calendar: WorkingCalendar,
    settings: AlertsSettings,
    routing: Routing,
) -> list[Alert]:
    """Every alert (per channel and recipient) the open `clocks` call for as of `as_of`."""
    return route(due_alerts(clocks, as_of, calendar, settings), routing, as_of)


def digest_alerts(
    clocks: Iterable[OpenClock], as_of: dt.date, calendar: WorkingCalendar, routing: Routing
) -> list[Alert]:
    """One digest email per recipient for `as_of`: due today, due within 2 working days, overdue.

    `email.to` receives every open clock, a caseworker their own cases', `email.escalate_to` the overdue
    ones. A recipient with nothing to list gets no digest.
    """
    if not routing.email:
        return []
    lists: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for clock in sorted(clocks, key=lambda c: (c.due_on, c.ref, c.clock, c.number)):
        left = calendar.working_days_between(as_of, clock.due_on)
        if as_of > clock.due_on:
            section = "overdue"
        elif left == 0:
            section = "due_today"
        elif left <= DIGEST_AHEAD:
            section = "due_soon"
        else:
            continue
        item = {
            "ref": clock.ref,
            "clock": clock.clock,
            "kpi": clock.kpi,
            "title": clock.title,
            "due_on": clock.due_on.isoformat(),
            "working_days_left": left,
            "action": clock.action,
        }
        for recipient in routing.email_recipients(clock.owner, section == "overdue"):
            sections = lists.setdefault(recipient, {"due_today": [], "due_soon": [], "overdue": []})
            sections[section].append(item)
    level = digest_level(as_of)
    alerts = []
    for recipient, sections in lists.items():
        ident = alert_id("", "", 0, level, EMAIL, recipient)
        payload = {"id": ident, "type": DIGEST, "on": as_of.isoformat(), **sections}
        alerts.append(Alert(ident, "", "", 0, level, EMAIL, recipient, as_of, payload))
    return alerts


# ---------------------------------------------------------------------------------------------- timing


def alert_day(now: dt.datetime, send_at: dt.time, calendar: WorkingCalendar) -> dt.date:
    """The date `watch` decides alerts as of at `now` (Europe/London).

    Today once its send time has passed on a working day, else the last working day before (catch-up of
    what was missed).
    """
    today = now.date()
    if calendar.is_working_day(today) and now.time() >= send_at:
        return today
    return calendar.working_days_before(today, 1)
