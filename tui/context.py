"""What every screen of the TUI needs: the settings, the store, the clock and who is recording.

`make_app` (tui/app.py) builds one `TuiContext` from the CLI's `Context` (or a test's fixtures) and hands it
to each screen, so screens never reach into the App for services and tests can build a screen on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import Settings
from tracker.domain.rules import RulePack
from tracker.domain.workflow import CaseState, Rules
from tracker.store import Store


@dataclass(frozen=True)
class Clock:
    """'Today' and 'now' for the TUI: fixed by `--as-of` (and in tests), else following the real date."""

    today: Callable[[], dt.date]
    """The as-of date of every status, due date and default form date."""
    now: Callable[[], dt.datetime]
    """The timezone-aware wall-clock time stamped on recorded events."""

    @classmethod
    def fixed(cls, as_of: dt.date, now: dt.datetime | None = None) -> Clock:
        """A clock stopped at `as_of` (and `now`, default 09:00 UTC that day)."""
        moment = now or dt.datetime.combine(as_of, dt.time(9, 0), tzinfo=dt.UTC)
        return cls(today=lambda: as_of, now=lambda: moment)


@dataclass(frozen=True)
class TuiContext:
    """The services the screens share."""

    settings: Settings
    store: Store
    clock: Clock
    actor: str
    """Who records events from this TUI (the configured user, else the operating-system user)."""
    poll_seconds: float = 1.5
    """How often open screens re-read the store, so other writers' changes show within 2 seconds."""

    @property
    def rules(self) -> Rules:
        """The rule packs, calendar and field defaults of the store."""
        return self.store.rules

    @property
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar."""
        return self.store.rules.calendar

    @property
    def me(self) -> str | None:
        """The configured caseworker name (`[user] name`), for the "Mine" view."""
        return self.settings.user.name

    def pack(self, state: CaseState) -> RulePack:
        """The pack version that governs a case."""
        return self.store.rules.pack(state)

    def pack_for_type(self, case_type: str) -> RulePack:
        """The pack version in force today for a case type (new-case form)."""
        pack_id = self.rules.packs.pack_for_case_type(case_type) or next(iter(self.rules.packs))
        return self.rules.packs.in_force(pack_id, self.clock.today())

    def pack_by_id(self, pack_id: str) -> RulePack:
        """The newest version of a pack (labels for list rows, which carry only the pack id)."""
        return self.rules.packs.latest(pack_id)
