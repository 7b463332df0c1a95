"""Store benchmarks: events appended per second, `rebuild` of a large database, `caseclock show` wall time.

Run: .venv/bin/python bench/bench_store.py [--cases 100000] [--keep]

Prints figures with the size of the data and the machine's core count; asserts nothing. The large demo
database is cached in the temp directory (per case count) so repeated runs skip generating it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import machine_line  # noqa: E402
from tracker.cli.demo import generate  # noqa: E402
from tracker.domain.calendar import WorkingCalendar  # noqa: E402
from tracker.domain.rules import discover_packs  # noqa: E402
from tracker.domain.workflow import Rules  # noqa: E402
from tracker.store import Store  # noqa: E402
from tracker.store.engine import make_engine, upgrade  # noqa: E402

AS_OF = dt.date(2026, 11, 20)
CLI = [sys.executable, "-m", "tracker.cli"]


def rules() -> Rules:
    return Rules(discover_packs(), WorkingCalendar())


_STEPS = [
    ("mediation_requested", 0, {}),
    ("la_notified", 1, {}),
    ("meeting_scheduled", 3, {"meeting_date": "2026-04-11"}),
    ("confirmation_sent", 4, {}),
    ("meeting_held", 40, {"outcome": "agreed"}),
    ("certificate_issued", 41, {"kind": "after_mediation"}),
    ("closed", 42, {}),
]


def bench_appends(cases: int = 300) -> None:
    """Record a whole mediation path on fresh cases: one transaction per event, then in batches.

    Three figures: each case's steps in turn (a caseworker working through a case: the store still holds
    the case it just wrote); the steps round-robin over more cases than a store remembers (every append
    reads and refolds its case's history first); and `record_many` batches of 700 (an import).
    """
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/append.db")
        upgrade(engine)
        store = Store(engine, rules())
        now = dt.datetime.now(dt.UTC)
        today = dt.date(2026, 6, 30)
        start = dt.date(2026, 3, 2)

        def open_cases(prefix: str, count: int) -> list[str]:
            refs = [f"{prefix}-{i}" for i in range(count)]
            for ref in refs:  # warm-up of imports, caches and the calendar index happens here too
                store.open_case(ref, "mediation", start, {"caseworker": "Jo Smith"}, "bench", now, today)
            return refs

        def timed(entries: list[tuple[str, str, dt.date, dict[str, object]]]) -> float:
            began = time.perf_counter()
            for ref, event_type, on, fields in entries:
                store.record(ref, event_type, on, fields, "bench", now, today)
            return len(entries) / (time.perf_counter() - began)

        def path(ref: str) -> list[tuple[str, str, dt.date, dict[str, object]]]:
            return [(ref, kind, start + dt.timedelta(days=offset), fields) for kind, offset, fields in _STEPS]

        # Three rounds on fresh cases: this figure is the target's, and a shared machine's speed drifts.
        rounds = []
        for number in range(3):
            in_turn = [entry for ref in open_cases(f"B{number}", cases) for entry in path(ref)]
            rounds.append(timed(in_turn))
        print(
            f"append: {len(in_turn)} events on {cases} cases, one transaction each: "
            f"{statistics.median(rounds):,.0f} events/s median of {len(rounds)} rounds "
            f"({', '.join(f'{rate:,.0f}' for rate in rounds)})"
        )
        many = open_cases("R", 2 * cases)  # more than a store remembers
        round_robin = [steps[i] for i in range(len(_STEPS)) for steps in map(path, many)]
        rate = timed(round_robin)
        print(
            f"append: {len(round_robin)} events round-robin over {len(many)} cases, one transaction each "
            f"(every append refolds its case): {rate:,.0f} events/s"
        )
        entries = [entry for ref in open_cases("C", cases) for entry in path(ref)]
        began = time.perf_counter()
        for first in range(0, len(entries), 700):
            store.record_many(entries[first : first + 700], "bench", now, today)
        rate = len(entries) / (time.perf_counter() - began)
        print(f"append: {len(entries)} events in batches of 700 (record_many): {rate:,.0f} events/s")
        engine.dispose()
    print("(target: >= 2,000 events/s)")


def appends_per_second(store: Store, prefix: str, cases: int = 300) -> tuple[float, int]:
    """Open `cases` new cases, then record each one's whole path in turn, one transaction per event.

    Returns (events/s, events). Shared with bench/bench_reports.py.
    """
    now = dt.datetime.now(dt.UTC)
    today, start = dt.date(2026, 6, 30), dt.date(2026, 3, 2)
    refs = [f"{prefix}-{i}" for i in range(cases)]
    for ref in refs:  # warms imports, caches and the calendar too
        store.open_case(ref, "mediation", start, {"caseworker": "Jo Smith"}, "bench", now, today)
    entries = [
        (ref, kind, start + dt.timedelta(days=offset), fields)
        for ref in refs
        for kind, offset, fields in _STEPS
    ]
    began = time.perf_counter()
    for ref, event_type, on, fields in entries:
        store.record(ref, event_type, on, fields, "bench", now, today)
    return len(entries) / (time.perf_counter() - began), len(entries)


def bench_appends_on(path: Path, cases: int = 300) -> None:
    """The caseworker's steps again, on the large demo database: deeper indexes than a fresh file's."""
    engine = make_engine(f"sqlite:///{path}")
    rate, events = appends_per_second(Store(engine, rules()), f"L{int(time.time())}", cases)
    engine.dispose()
    print(
        f"append: {events} events on {cases} new cases of the {_count(path, 'cases'):,}-case database, "
        f"one transaction each: {rate:,.0f} events/s"
    )


def demo_database(cases: int) -> Path:
    """A SQLite file with `cases` demo cases, cached in the temp directory."""
    path = Path(tempfile.gettempdir()) / f"caseclock-bench-{cases}.db"
    if path.exists():
        return path
    began = time.perf_counter()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    store = Store(engine, rules())
    now = dt.datetime.now(dt.UTC)
    store.import_histories(generate(store.rules, cases, 1, AS_OF, now), now)
    engine.dispose()
    print(f"(built {path} with {cases:,} demo cases in {time.perf_counter() - began:.0f} s)")
    return path


def bench_rebuild(path: Path, cases: int) -> None:
    """`caseclock rebuild` in a child process: wall time and the child's peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    subprocess.run([*CLI, "--db", f"sqlite:///{path}", "rebuild"], check=True, capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - began
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    events = _count(path, "events")
    print(
        f"rebuild: {cases:,} cases ({events:,} events) in {seconds:.1f} s wall, "
        f"peak memory {max(peak_kib, before) / 1024:.0f} MiB (target: <= 60 s, <= 1 GiB)"
    )


def bench_show(path: Path, runs: int = 10) -> None:
    """`caseclock show REF` end to end, as a user types it."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(
            [*CLI, "--db", f"sqlite:///{path}", "--as-of", AS_OF.isoformat(), "show", "M-00001"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - began)
    print(
        f"show: median {statistics.median(times):.3f} s, best {min(times):.3f} s over {runs} runs "
        f"on the {_count(path, 'cases'):,}-case database (target: <= 0.4 s)"
    )


def _count(path: Path, table: str) -> int:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000, help="size of the rebuild/show database")
    parser.add_argument("--keep", action="store_true", help="keep the cached demo database afterwards")
    args = parser.parse_args()
    print(f"{machine_line()}; Python {sys.version.split()[0]}")
    bench_appends()
    path = demo_database(args.cases)
    bench_rebuild(path, args.cases)
    bench_show(path)
    bench_appends_on(path)
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
