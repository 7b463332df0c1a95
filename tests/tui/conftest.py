"""Fixtures of the TUI tests: a seeded SQLite store, the app over it, a fixed as-of date, no cursor blink.

Cases are seeded through the public Store API (as the CLI would write them), so the TUI reads exactly what
a real database holds. Polling is slowed right down by default; tests that need it call the poll directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Input
from textual.worker import WorkerCancelled

from tests.conftest import shared_rules
from tracker.domain.config import Settings, UserSettings
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade
from tui.app import CaseclockApp, make_app
from tui.screens.case import CaseScreen

AS_OF = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)
ME = "Jo Smith"
SLOW_POLL = 3600.0

# (ref, type, opened, caseworker, [(event, on, fields), ...])
SEED: list[tuple[str, str, str, str, list[tuple[str, str, dict[str, str]]]]] = [
    ("M-0001", "mediation", "2026-02-02", ME, [("mediation_requested", "2026-02-02", {})]),
    ("M-0002", "mediation", "2026-03-02", "Sam Patel", [("mediation_requested", "2026-03-05", {})]),
    (
        "M-0003",
        "mediation",
        "2026-03-02",
        ME,
        [
            ("mediation_requested", "2026-03-02", {}),
            ("la_notified", "2026-03-04", {}),
            ("meeting_scheduled", "2026-03-05", {"meeting_date": "2026-03-30"}),
        ],
    ),
    ("D-0004", "disagreement_resolution", "2026-03-03", "Sam Patel", []),
    (
        "M-0005",
        "mediation",
        "2026-01-05",
        ME,
        [
            ("mediation_requested", "2026-01-05", {}),
            ("mediation_declined", "2026-01-07", {}),
            ("certificate_issued", "2026-01-08", {"kind": "advice_only"}),
            ("closed", "2026-01-09", {}),
            ("survey", "2026-02-10", {"satisfied": "agree", "listened_to": "strongly_agree"}),
        ],
    ),
    (
        "M-0006",
        "mediation",
        "2026-02-09",
        "Sam Patel",
        [
            ("mediation_requested", "2026-02-09", {}),
            ("la_notified", "2026-02-10", {}),
            ("exception", "2026-02-16", {"clock": "kpi5", "reason": "school_holiday"}),
        ],
    ),
]


def seed(store: Store) -> None:
    """Write the seed cases through the store, as the CLI would."""
    for ref, case_type, opened, owner, steps in SEED:
        fields = {"caseworker": owner, "source": "school", "name": f"Person {ref}"}
        store.open_case(ref, case_type, dt.date.fromisoformat(opened), fields, "seed", NOW, AS_OF)
        for event, on, data in steps:
            store.record(ref, event, dt.date.fromisoformat(on), data, "seed", NOW, AS_OF)


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor would make screenshots differ from run to run."""
    monkeypatch.setattr(Input, "cursor_blink", False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tui.db"


@pytest.fixture
def tui_store(db_path: Path) -> Iterator[Store]:
    """A seeded SQLite store in a temporary file."""
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    store = Store(engine, shared_rules())
    seed(store)
    yield store
    engine.dispose()


@pytest.fixture
def other_store(db_path: Path, tui_store: Store) -> Iterator[Store]:
    """A second connection to the same database: "anyone else" writing while the TUI runs."""
    engine = make_engine(f"sqlite:///{db_path}")
    yield Store(engine, shared_rules())
    engine.dispose()


@pytest.fixture
def settings() -> Settings:
    return Settings(user=UserSettings(name=ME))


@pytest.fixture
def app_factory(tui_store: Store, settings: Settings) -> Callable[..., CaseclockApp]:
    """`app_factory()` builds the app over the seeded store, as of AS_OF, with polling slowed down."""

    def build(**options: object) -> CaseclockApp:
        options.setdefault("poll_seconds", SLOW_POLL)
        options.setdefault("actor", ME)
        return make_app(settings, tui_store, AS_OF, **options)  # type: ignore[arg-type]

    return build


@pytest.fixture
def app(app_factory: Callable[..., CaseclockApp]) -> CaseclockApp:
    return app_factory()


async def settle(pilot) -> None:
    """Let every worker finish and every message it posted be handled (rows, then counts)."""
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):  # an exclusive read replaced by a newer one
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_case(app: CaseclockApp, pilot, ref: str) -> CaseScreen:
    """Open a case's screen (how Enter on the list gets there is tested with the cases screen)."""
    await settle(pilot)
    await app.push_screen(CaseScreen(app.ctx, ref))
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen)
    assert app.screen.ref == ref
    return app.screen


def refs(app: CaseclockApp) -> list[str]:
    """The references the case table shows, top to bottom."""
    from tui.widgets.case_table import CaseTable

    return [s.ref for s in app.screen.query_one(CaseTable).summaries]


def cell(app: CaseclockApp, row: int, column: str) -> str:
    """The text of one cell of the case table."""
    from tui.widgets.case_table import CaseTable

    return app.screen.query_one(CaseTable).cell(row, column)


@pytest.fixture
def seeded_url(tmp_path: Path) -> str:
    """A seeded SQLite file for the tests that run `caseclock tui` in a real terminal, by its URL."""
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed(Store(engine, shared_rules()))
    engine.dispose()
    return url
