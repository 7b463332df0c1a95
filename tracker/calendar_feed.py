"""The calendar feed as a file: meetings and due dates in iCalendar, for Outlook and others to subscribe to.

Who calls what: `caseclock ics` (`tracker.cli.commands.feed`) writes it once, to stdout or `--out`;
`caseclock watch` hands a `FeedWriter` built from `[calendar_feed]` to the scheduler, which writes the file on
each pass. The cases are read through the store (`Store.open_cases`: the same fold as `show`), the entries
made by `tracker.domain.feed`, and the text by the `icalendar` package. Reads never write to the database.

The file is written atomically (a temporary file in the same folder, then renamed over the old one), so a
calendar that reads it mid-write sees the old feed or the new one, and it is created readable by its owner
only, as the database file is. DTSTAMP is midnight (UTC) of the as-of date, so the same data gives the same
bytes all day: a rerun is reproducible, and a file copied to a web folder changes only when a case does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from tracker.domain.config import Settings
from tracker.domain.errors import InvalidValue
from tracker.domain.feed import FeedEntry, check_caseworker, feed_entries
from tracker.store import Store
from tracker.store.private_files import write_private

PRODID = "-//caseclock//calendar feed//EN"
CALENDAR_NAME = "caseclock deadlines"
REFRESH = dt.timedelta(hours=1)
"""How often a subscribed calendar is asked to read the feed again (REFRESH-INTERVAL, X-PUBLISHED-TTL)."""


def check_known_caseworker(store: Store, settings: Settings, option: str, name: str) -> None:
    """Refuse a caseworker named on no case and not in `[caseworkers]` (a did-you-mean of those that are)."""
    check_caseworker(option, name, {*store.owners(), *settings.caseworkers})


def entries(store: Store, caseworker: str | None = None) -> list[FeedEntry]:
    """The feed's entries: the open cases' meetings and open clocks (of one caseworker's cases)."""
    return feed_entries(store.open_cases(caseworker), store.rules.packs)


def stamp(as_of: dt.date) -> dt.datetime:
    """The DTSTAMP of a feed made as of a date: midnight UTC, so reruns give the same bytes."""
    return dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)


def render(feed: Sequence[FeedEntry], as_of: dt.date) -> bytes:
    """The entries as an iCalendar file (RFC 5545): one all-day VEVENT each."""
    from icalendar import Calendar, Event  # here: only the commands that write a feed load it

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamped = stamp(as_of)
    for entry in feed:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamped)
        event.add("sequence", entry.sequence)
        event.add("dtstart", entry.on)
        event.add("dtend", entry.on + dt.timedelta(days=1))
        event.add("summary", entry.summary)
        event.add("description", entry.description)
        event.add("categories", ["Meeting" if entry.kind == "meeting" else "Deadline"])
        event.add("transp", "TRANSPARENT")  # an all-day reminder: it does not make the day busy
        calendar.add_component(event)
    text: bytes = calendar.to_ical()
    return text


def check_path(option: str, path: Path) -> Path:
    """Refuse a feed path whose folder does not exist, or that is a folder; returns it made absolute."""
    path = path.expanduser().absolute()
    if path.is_dir():
        raise InvalidValue(option, path, "is a folder; name the file, e.g. caseclock.ics in that folder")
    if not path.parent.is_dir():
        raise InvalidValue(option, path, f"the folder {path.parent} does not exist; create it first")
    return path


class FeedWriter:
    """Writes the feed to one file on each `watch` pass (`[calendar_feed]`).

    Args:
        store: The store the cases are read from.
        path: The file, checked with `check_path`.
        caseworker: Only this caseworker's cases (None: every case).
    """

    def __init__(self, store: Store, path: Path, caseworker: str | None = None) -> None:
        self.store = store
        self.path = path
        self.caseworker = caseworker

    def __call__(self, as_of: dt.date) -> str:
        """Write the feed as of `as_of`; returns the pass's log line. Raises OSError or CaseclockError."""
        feed = entries(self.store, self.caseworker)
        write_private(self.path, render(feed, as_of))
        return f"calendar feed: {describe(feed)} written to {self.path}"


def describe(feed: Iterable[FeedEntry]) -> str:
    """`3 meetings and 12 deadlines`."""
    kinds = [entry.kind for entry in feed]
    meetings, deadlines = kinds.count("meeting"), kinds.count("deadline")
    return f"{_count(meetings, 'meeting')} and {_count(deadlines, 'deadline')}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
