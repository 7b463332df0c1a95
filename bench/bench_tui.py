"""Benchmark of the terminal UI on a large database: first paint, a filter keystroke, opening a case.

Run from the project root:

    PYTHONPATH=. .venv/bin/python bench/bench_tui.py                 # 100,000 demo cases (~3-4 min to build)
    PYTHONPATH=. .venv/bin/python bench/bench_tui.py --db /tmp/big.db  # build once, reuse afterwards

The demo cases (`tracker.cli.demo.generate`, seed 7, as of 2026-03-10) are written with
`Store.import_histories` into a temporary SQLite file. The app runs headless (`App.run_test`, 120×40) with the
same `make_app` as `caseclock tui`; keys are delivered as the terminal driver delivers them. A figure is the
time from the key to the moment the screen has drawn the new data: its `CasesShown`/`CaseShown` message
(posted once the widgets hold the new rows) and the frame composed. Each is the median of several runs.
Targets (issue 4): first paint ≤ 1.0 s, filter keystroke ≤ 100 ms, open a case ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual import events
from textual.message import Message

from tracker.cli.demo import generate
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import Settings, UserSettings
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade
from tui.app import CaseclockApp, make_app
from tui.messages import CaseShown, CasesShown

AS_OF = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
SIZE = (120, 40)
TARGETS = {"first paint": 1.0, "filter keystroke": 0.100, "open a case": 0.150}
"""Issue 4's targets. "First paint" is timed in-process from building the app; the cold start of the whole
command (interpreter, imports, database check) is printed beside it."""


async def key(pilot, name: str) -> None:
    """A key arriving from the terminal, as the driver delivers it (`Pilot.press` would then also wait
    for the whole process to go idle, which would time the background count too)."""
    event = events.Key(name, name if len(name) == 1 else None)
    event.set_sender(pilot.app)
    pilot.app._driver.send_message(event)


async def paint(pilot) -> None:
    """Compose the frame now, as the screen's 60 Hz refresh timer would on its next tick."""
    pilot.app.screen._on_timer_update()


class Watch:
    """Collects the screens' "shown" messages so an action can wait for the drawing it causes."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.kinds: tuple[type[Message], ...] = (CasesShown,)

    def hook(self, message: Message) -> None:
        if isinstance(message, self.kinds):
            self.event.set()

    async def time(
        self, pilot, kinds: tuple[type[Message], ...], action: Callable[[], Awaitable[object]]
    ) -> float:
        self.kinds = kinds
        self.event.clear()
        started = time.perf_counter()
        await action()
        await asyncio.wait_for(self.event.wait(), timeout=30)
        await paint(pilot)
        return time.perf_counter() - started


def build(path: Path, cases: int, rules: Rules) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    store = Store(engine, rules)
    have = store.count_cases(AS_OF, "all")
    if have < cases:
        started = time.perf_counter()
        store.import_histories(generate(rules, cases - have, 7, AS_OF, NOW, start_number=have + 1), NOW)
        print(f"built {cases - have:,} demo cases in {time.perf_counter() - started:.0f} s")
    engine.dispose()


async def first_paint(store: Store, settings: Settings) -> float:
    watch = Watch()
    started = time.perf_counter()
    app = make_app(settings, store, AS_OF, poll_seconds=3600)
    async with app.run_test(size=SIZE, message_hook=watch.hook) as pilot:
        await asyncio.wait_for(watch.event.wait(), timeout=30)
        await paint(pilot)
        return time.perf_counter() - started


async def interact(store: Store, settings: Settings) -> dict[str, list[float]]:
    watch = Watch()
    app: CaseclockApp = make_app(settings, store, AS_OF, poll_seconds=3600)
    figures: dict[str, list[float]] = {"filter keystroke": [], "open a case": []}
    async with app.run_test(size=SIZE, message_hook=watch.hook) as pilot:
        await asyncio.wait_for(watch.event.wait(), timeout=30)
        await pilot.press("5")  # every case, not only the open ones
        await app.workers.wait_for_complete()
        await pilot.pause()
        for text in ("m-01", "sam", "priya", "7"):
            await pilot.press("slash")
            for char in text:
                figures["filter keystroke"].append(
                    await watch.time(pilot, (CasesShown,), lambda k=char: key(pilot, k))
                )
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
        for row in range(5):
            await pilot.press("down")
            figures["open a case"].append(await watch.time(pilot, (CaseShown,), lambda: key(pilot, "enter")))
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
            del row
    return figures


def cold_start(db: Path, first_ref: str) -> float:
    """`caseclock tui` in a new process on a pseudo-terminal: seconds until the most urgent case is drawn."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    environ = {
        **os.environ,
        "CASECLOCK_DB": f"sqlite:///{db}",
        "CASECLOCK_AS_OF": AS_OF.isoformat(),
        "TERM": "xterm-256color",
    }
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become `caseclock tui` on the pseudo-terminal
        os.execve(sys.executable, [sys.executable, "-m", "tracker.cli", "tui"], environ)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    seen = b""
    elapsed = float("nan")
    try:
        while time.perf_counter() - started < 30:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                seen += os.read(fd, 65536)
                if first_ref.encode() in seen:
                    elapsed = time.perf_counter() - started
                    break
        os.write(fd, b"\x11")  # ctrl+q
        while True:  # drain until the child has gone
            ready, _, _ = select.select([fd], [], [], 5)
            if not ready or not os.read(fd, 65536):
                break
    except OSError:
        pass  # the pseudo-terminal closes when the child exits
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    return elapsed


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import tui.app; print(time.perf_counter() - t)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument(
        "--db", type=Path, help="SQLite file to build (or reuse, if it has the cases already)"
    )
    args = parser.parse_args()
    rules = Rules(discover_packs(), WorkingCalendar())
    settings = Settings(user=UserSettings(name="Sam Patel"))
    with tempfile.TemporaryDirectory() as scratch:
        path = args.db or Path(scratch) / "bench-tui.db"
        build(path, args.cases, rules)
        engine = make_engine(f"sqlite:///{path}")
        store = Store(engine, rules)
        total = store.count_cases(AS_OF, "all")
        open_cases = store.count_cases(AS_OF, "open")
        size_mb = path.stat().st_size / 1e6
        first_ref = store.cases(AS_OF, "open", limit=1)[0].ref
        paints = [asyncio.run(first_paint(store, settings)) for _ in range(3)]
        figures = {"first paint": paints, **asyncio.run(interact(store, settings))}
        engine.dispose()
        colds = [cold_start(path, first_ref) for _ in range(3)]
    print(
        f"caseclock TUI on {total:,} cases ({open_cases:,} open; SQLite file {size_mb:.0f} MB), "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}, "
        f"terminal {SIZE[0]}×{SIZE[1]}, load average {os.getloadavg()[0]:.1f} (shared)"
    )
    print(f"  import of the TUI code (fresh interpreter): {import_seconds() * 1000:.0f} ms")
    print(
        "  `caseclock tui` cold start to the most urgent case on a pty (interpreter, imports, database "
        f"check, first page): {', '.join(f'{c * 1000:.0f} ms' for c in colds)}"
    )
    for name, values in figures.items():
        median = statistics.median(values)
        target = TARGETS[name]
        verdict = "within target" if median <= target else "OVER TARGET"
        print(
            f"  {name:17} median {median * 1000:6.0f} ms  (min {min(values) * 1000:.0f}, "
            f"max {max(values) * 1000:.0f}, n={len(values)})  target ≤ {target * 1000:.0f} ms: {verdict}"
        )


if __name__ == "__main__":
    main()
