"""Benchmark of alert delivery beside caseworkers: how long writers wait while `check` sends, and what a dead
webhook costs a pass.

Run from the project root:

    PYTHONPATH=. .venv/bin/python bench/bench_alert_relay.py [--alerts 393] [--writers 6]

The shape of the fault probe of issue 19: 393 alerts to one webhook on 127.0.0.1.

* **Healthy but slow webhook**: it answers each request after 0.3 s. `caseclock check` runs in a subprocess;
  once the first alert is on the wire, `--writers` concurrent `caseclock open` subprocesses each open a case.
  Printed: the pass time, each writer's time beside the same writers run at once with no pass running
  (the difference is what the pass cost them), and how long SQLite's write lock took to get, 50 times,
  during the pass. Before the relay, the pass held SQLite's write lock while each
  alert was on the wire: 5 of 6 writers failed "database is locked" after 30 s.
* **Hanging webhook**: it accepts each request and never answers (`timeout_seconds` 10, the default). The
  pass time with 393 alerts: the time-out is paid once, the rest of the rows stay pending. Before, each
  alert waited its own time-out (about 65 minutes for 393).

Nothing is asserted: the figures are printed with the machine line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.machine import machine_line
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade

ROOT = Path(__file__).resolve().parents[1]
REQUESTED = dt.date(2026, 3, 2)  # a Monday: KPI 2 due Thursday, its warning due Wednesday
AS_OF = "2026-03-04"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers after `delay` seconds, or never (`delay` None)."""

    def __init__(self, delay: float | None) -> None:
        self.first = threading.Event()
        self.count = 0
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.count += 1
                owner.first.set()
                if delay is None:
                    owner.release.wait()
                    return
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def caseclock(db: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CASECLOCK_")}
    command = [sys.executable, "-m", "tracker.cli", "--db", f"sqlite:///{db}", "--config", str(config)]
    return subprocess.run(
        [*command, *args], cwd=ROOT, env=environ, capture_output=True, text=True, check=False
    )


def seeded(folder: Path, alerts: int) -> Path:
    """A database with `alerts` cases whose KPI 2 warning is due on AS_OF (one webhook alert each)."""
    db = folder / "cases.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    store = Store(engine, Rules(discover_packs(), WorkingCalendar()))
    for number in range(1, alerts + 1):
        ref = f"M-{number:04d}"
        store.open_case(ref, "mediation", REQUESTED, {}, "bench", NOW, REQUESTED)
        store.record(ref, "mediation_requested", REQUESTED, {}, "bench", NOW, REQUESTED)
    engine.dispose()
    return db


def timed_open(db: Path, config: Path, ref: str, results: dict[str, tuple[float, int, str]]) -> None:
    began = time.perf_counter()
    done = caseclock(db, config, "--as-of", AS_OF, "open", ref, "--type", "mediation", "--on", AS_OF)
    results[ref] = (time.perf_counter() - began, done.returncode, done.stderr.strip()[:80])


def write_lock_waits(db: Path, times: int) -> list[float]:
    """Seconds `BEGIN IMMEDIATE` waited for SQLite's write lock, `times` times in a row, 20 ms apart."""
    waits = []
    connection = sqlite3.connect(db, timeout=60, isolation_level=None)
    try:
        for _ in range(times):
            began = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            waits.append(time.perf_counter() - began)
            connection.execute("ROLLBACK")
            time.sleep(0.02)
    finally:
        connection.close()
    return waits


def concurrent_opens(db: Path, config: Path, prefix: str, writers: int) -> dict[str, tuple[float, int, str]]:
    """`writers` `caseclock open` subprocesses at once: each one's seconds, exit code and error."""
    results: dict[str, tuple[float, int, str]] = {}
    threads = [
        threading.Thread(target=timed_open, args=(db, config, f"{prefix}-{n}", results))
        for n in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def slow_webhook(folder: Path, seed: Path, writers: int) -> None:
    db = folder / "slow.db"
    shutil.copy(seed, db)
    receiver = Receiver(0.3)
    config = folder / "slow.toml"
    config.write_text(f'[[webhooks]]\nname = "team"\nurl = "{receiver.url}"\n', encoding="utf-8")
    # The same writers at once with no pass running: on a small machine most of their time is starting
    # Python side by side, which is not waiting for the database.
    idle = concurrent_opens(db, config, "IDLE", writers)
    baseline = sorted(seconds for seconds, _, _ in idle.values())[len(idle) // 2]
    try:
        began = time.perf_counter()
        check = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tracker.cli",
                "--db",
                f"sqlite:///{db}",
                "--config",
                str(config),
                "--as-of",
                AS_OF,
                "check",
                "--json",
            ],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("CASECLOCK_")},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        receiver.first.wait(60)
        busy = concurrent_opens(db, config, "BUSY", writers)
        lock_waits = write_lock_waits(db, 50)
        out, _ = check.communicate()
        wall = time.perf_counter() - began
    finally:
        receiver.stop()
    report = json.loads(out or "{}")
    print(
        f"slow webhook (0.3 s per answer): {report.get('sent')} of {receiver.count} alerts sent in "
        f"{report.get('seconds')} s (wall {wall:.1f} s)"
    )
    print(f"  {writers} concurrent `caseclock open` with no pass running: {baseline:.2f} s (median)")
    for ref, (seconds, code, err) in sorted(busy.items()):
        waited = max(seconds - baseline, 0.0)
        print(f"  {ref}: {seconds:.2f} s, exit {code}, waited ~{waited:.2f} s{'  ' + err if code else ''}")
    failed = sum(1 for _, code, _ in busy.values() if code)
    print(f"  writers failed: {failed} of {writers}")
    lock_waits.sort()
    print(
        f"  SQLite write lock taken {len(lock_waits)} times during the pass: median "
        f"{lock_waits[len(lock_waits) // 2] * 1000:.1f} ms, longest {lock_waits[-1] * 1000:.1f} ms"
    )


def hanging_webhook(folder: Path, seed: Path) -> None:
    db = folder / "hang.db"
    shutil.copy(seed, db)
    receiver = Receiver(None)
    config = folder / "hang.toml"
    config.write_text(f'[[webhooks]]\nname = "team"\nurl = "{receiver.url}"\n', encoding="utf-8")
    try:
        began = time.perf_counter()
        done = caseclock(db, config, "--as-of", AS_OF, "check", "--json")
        wall = time.perf_counter() - began
    finally:
        receiver.stop()
    report = json.loads(done.stdout or "{}")
    print(
        f"hanging webhook (timeout_seconds 10): pass {report.get('seconds')} s (wall {wall:.1f} s), "
        f"{receiver.count} request(s), {report.get('retry')} tried, {report.get('deferred')} held back, "
        f"{report.get('pending')} pending, exit {done.returncode}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=393)
    parser.add_argument("--writers", type=int, default=6)
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        seed = seeded(folder, args.alerts)
        print(f"{args.alerts} alerts to one webhook, SQLite, {args.writers} concurrent writers")
        slow_webhook(folder, seed, args.writers)
        with contextlib.suppress(KeyboardInterrupt):
            hanging_webhook(folder, seed)


if __name__ == "__main__":
    main()
