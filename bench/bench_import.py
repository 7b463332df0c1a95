"""Import benchmark: `caseclock import cases FILE.csv` of a large file, as a user runs it.

Run: .venv/bin/python bench/bench_import.py [--rows 50000]

Writes a cases file of `--rows` rows (each case with a whole mediation path: eight dated steps), imports it
into a fresh SQLite database in a child process, and prints the rows, the wall time, the child's peak memory
and how long the database's write lock was held: a probe thread tries `BEGIN IMMEDIATE` without waiting
every 5 ms and reports the longest run of refusals (what a caseworker's `caseclock open` would have waited).
Prints the machine's core count and speed first; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import machine_line  # noqa: E402

AS_OF = "2026-11-20"
CLI = [sys.executable, "-m", "tracker.cli"]
HEADER = [
    "reference",
    "type",
    "opened_on",
    "caseworker",
    "source",
    "district",
    "name",
    "mediation_requested",
    "la_notified",
    "meeting_scheduled",
    "meeting_date",
    "confirmation_sent",
    "meeting_held",
    "meeting_held.outcome",
    "certificate_issued",
    "certificate_issued.kind",
    "closed",
]


def write_file(path: Path, rows: int) -> None:
    """A cases file of `rows` whole mediation paths, opened on working days spread over a year."""
    start = dt.date(2025, 6, 2)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for number in range(rows):
            opened = start + dt.timedelta(days=7 * (number % 50))  # Mondays

            def day(offset: int, base: dt.date = opened) -> str:
                return (base + dt.timedelta(days=offset)).isoformat()

            writer.writerow(
                [
                    f"I-{number:06d}",
                    "mediation",
                    day(0),
                    "Jo Smith",
                    "school",
                    "norwich",
                    f"Service User {number}",
                    day(1),
                    day(2),
                    day(3),
                    day(24),
                    day(10),
                    day(24),
                    "agreed",
                    day(25),
                    "after_mediation",
                    day(28),
                ]
            )


class LockProbe(threading.Thread):
    """Tries to take the write lock every 5 ms without waiting; remembers the longest run of refusals."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.stop = threading.Event()
        self.longest = 0.0
        self.attempts = 0

    def run(self) -> None:
        blocked_since: float | None = None
        while not self.stop.is_set():
            now = time.perf_counter()
            try:
                connection = sqlite3.connect(self.database, timeout=0, isolation_level=None)
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    connection.execute("ROLLBACK")
                finally:
                    connection.close()
                blocked_since = None
            except sqlite3.OperationalError:  # "database is locked"
                blocked_since = now if blocked_since is None else blocked_since
                self.longest = max(self.longest, time.perf_counter() - blocked_since)
            self.attempts += 1
            self.stop.wait(0.005)


def bench_import(rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        csv_path, database = Path(folder) / "cases.csv", Path(folder) / "import.db"
        write_file(csv_path, rows)
        url = f"sqlite:///{database}"
        subprocess.run([*CLI, "--db", url, "init"], check=True, capture_output=True, cwd=ROOT)
        probe = LockProbe(database)
        probe.start()
        began = time.perf_counter()
        done = subprocess.run(
            [*CLI, "--db", url, "--as-of", AS_OF, "import", "cases", str(csv_path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - began
        probe.stop.set()
        probe.join()
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode != 0:
            print(done.stderr[-2000:])
            raise SystemExit(f"import failed with exit {done.returncode}")
        with sqlite3.connect(database) as connection:
            cases = connection.execute("SELECT count(*) FROM cases").fetchone()[0]
            events = connection.execute("SELECT count(*) FROM events").fetchone()[0]
        print(
            f"import: {rows:,} rows ({cases:,} cases, {events:,} events, "
            f"{csv_path.stat().st_size / 2**20:.1f} MiB CSV) in {seconds:.1f} s wall, "
            f"peak memory {peak_kib / 1024:.0f} MiB, write lock held {probe.longest:.1f} s at most "
            f"({probe.attempts:,} probes)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000, help="rows in the cases file")
    args = parser.parse_args()
    print(f"{machine_line()}; Python {sys.version.split()[0]}")
    bench_import(args.rows)


if __name__ == "__main__":
    main()
