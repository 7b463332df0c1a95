"""Regenerate the README's screenshots of the terminal UI (docs/tui-cases.svg, docs/tui-compliance.svg).

    PYTHONPATH=. .venv/bin/python scripts/tui-screenshots.py

400 demo cases (seed 7) as of 2026-03-10 in a temporary SQLite file, the app at 120×34, and Textual's own
`save_screenshot`, so the pictures are exactly what a caseworker sees.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from tracker.cli.demo import generate
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import Settings, UserSettings
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade
from tui.app import make_app

AS_OF = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
DOCS = Path(__file__).resolve().parent.parent / "docs"


async def shoot(store: Store) -> None:
    app = make_app(Settings(user=UserSettings(name="Jo Smith")), store, AS_OF, poll_seconds=3600)
    async with app.run_test(size=(170, 38)) as pilot:  # wide enough for the service data beside the breaches
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.save_screenshot("tui-cases.svg", str(DOCS))
        await pilot.press("c")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.save_screenshot("tui-compliance.svg", str(DOCS))


def main() -> None:
    rules = Rules(discover_packs(), WorkingCalendar())
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'demo.db'}")
        upgrade(engine)
        store = Store(engine, rules)
        store.import_histories(generate(rules, 400, 7, AS_OF, NOW), NOW)
        asyncio.run(shoot(store))
        engine.dispose()
    print(f"wrote {DOCS / 'tui-cases.svg'} and {DOCS / 'tui-compliance.svg'}")


if __name__ == "__main__":
    main()
