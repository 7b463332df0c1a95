"""Messages the TUI's workers post back to their screens, and the screens post for tests and benchmarks.

Workers run store calls in threads and never touch widgets: they post one of these to their screen, whose
handler updates the widgets on the event loop. `PollTick` coalesces (a slow database never queues a pile of
refreshes); the `…Shown` messages say a screen finished drawing fresh data, which Pilot tests and
`bench/bench_tui.py` wait for. None of them bubble: each concerns only the screen it is posted to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from textual.message import Message

from tracker.alerts.outbox import AlertRow
from tracker.domain.compliance import ComplianceReport
from tracker.store import CaseRecord, CaseSummary


@dataclass(frozen=True)
class CaseQuery:
    """What the case list shows: a view, its filters and the as-of date they were computed for."""

    view: str
    """One of the cases screen's view ids (`open`, `week`, `overdue`, `ended`, `all`, `mine`)."""
    store_view: str
    """The `Store.cases` view it maps to (`open`, `overdue`, `ended`, `all`)."""
    search: str | None
    search_fields: tuple[str, ...]
    """The case fields the search matches besides the reference and the caseworker."""
    owner: str | None
    due_by: dt.date | None
    """Only cases with a clock due on or before it."""
    today: dt.date
    """The as-of date."""


@dataclass
class PollTick(Message, bubble=False):
    """Time to re-read the store; several pending ticks collapse into one."""

    def can_replace(self, message: Message) -> bool:
        """A newer tick replaces an older one still in the queue."""
        return isinstance(message, PollTick)


@dataclass
class CasesLoaded(Message, bubble=False):
    """A page of the case list was read (rows start at `offset`)."""

    query: CaseQuery
    rows: list[CaseSummary]
    offset: int


@dataclass
class CasesCounted(Message, bubble=False):
    """How many cases the query matches in all (read after the rows, so the table need not wait)."""

    query: CaseQuery
    total: int
    elsewhere: dict[str, int] = field(default_factory=dict)
    """While searching: the matches in the views this one leaves out (`open`, `ended`), by view id."""


@dataclass
class CasesShown(Message, bubble=False):
    """The case table now shows fresh rows."""

    rows: int


@dataclass
class CaseLoaded(Message, bubble=False):
    """A case and its history were read, with the events its pack allows next."""

    record: CaseRecord
    allowed: list[str]


@dataclass
class CaseShown(Message, bubble=False):
    """The case screen now shows the case."""

    ref: str


@dataclass
class StoreFailed(Message, bubble=False):
    """A read or write was refused or failed; `message` is the one-line reason to show inline."""

    message: str


@dataclass
class EventWritten(Message, bubble=False):
    """An event (or a new case, seq 1) was written."""

    ref: str
    seq: int


@dataclass
class ReferenceSuggested(Message, bubble=False):
    """The next free case reference for the new-case form."""

    ref: str


@dataclass
class ReportLoaded(Message, bubble=False):
    """The compliance report of a period was computed."""

    report: ComplianceReport


@dataclass
class AlertsLoaded(Message, bubble=False):
    """The outbox's alerts were read, with how many there are of each status."""

    alerts: list[AlertRow]
    counts: dict[str, int]
