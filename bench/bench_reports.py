"""A financial year's reports on 5,000 and 100,000 cases, side by side, with the targets of issue 13.

For each size it builds (once, then reuses from a cache folder) a SQLite database of demo cases spread over
the 18 months before the as-of date, created as `caseclock init` creates one, and prints:

* `caseclock export --period FY2026 --format F --out FILE` for F in json, xlsx, csv, html, each run as a
  whole child process (start-up, the report's queries, the writer): best wall time of N runs, and the
  child's peak resident set size (its own VmHWM, which leaves out pages the fork copied from this process);
* the bare query floor: the SQL statements (with their parameters) that one in-process
  `compliance_report(..., lazy_clocks=True)` and a pass over its clock lines execute, captured on the engine
  and run again with the plain `sqlite3` module, fetching every row (best of N); and the ratio of the json
  export to it, i.e. what the Python around the queries costs;
* the same report in this process (queries, tallies and a pass over the clock lines), best of N;
* the database file's size, in MB and MiB;
* appends: a few hundred new cases on a copy of the database, one `Store.record` (one transaction) per
  event, as bench/bench_store.py does it;
* `caseclock show REF` as a child process (best of N), and `caseclock rebuild` on a copy (once).

Each figure is printed beside its target (issue 13) with "met" or "missed"; if a target at the largest
size is missed, a cProfile of the json export in this process (report and writer) follows, and the query
floor statement by statement. The machine's core count, load and a reference loop are printed at the start
and the load again at the end: the machine is shared, and a busy one makes every figure slower. Asserts
nothing.

    .venv/bin/python bench/bench_reports.py [--cases 5000,100000] [--runs 3] [--folder DIR]
                                            [--profile auto|always|never]

Generating 100,000 cases takes minutes: the databases are kept in --folder (default: caseclock-bench in
the temp directory) and reused while their case count, schema revision and rules fingerprint still match.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_store import appends_per_second  # noqa: E402
from bench.machine import machine_line  # noqa: E402
from tracker.cli.context import Context  # noqa: E402
from tracker.cli.demo import generate  # noqa: E402
from tracker.domain.periods import parse_period  # noqa: E402
from tracker.exporters import write  # noqa: E402
from tracker.reports.report import compliance_report  # noqa: E402
from tracker.store.engine import upgrade  # noqa: E402

AS_OF = "2027-04-10"
PERIOD = "FY2026"
SEED = 3
FORMATS = ("json", "xlsx", "csv", "html")

# ---------------------------------------------------------------------------------------------- targets

AT_MOST, AT_LEAST = "<=", ">="
TARGETS: dict[int, dict[str, tuple[str, float]]] = {
    5_000: {f"export_{fmt}": (AT_MOST, 0.5) for fmt in FORMATS},
    100_000: {
        "export_json": (AT_MOST, 2.0),
        "export_xlsx": (AT_MOST, 8.0),
        **{f"peak_{fmt}": (AT_MOST, 300.0) for fmt in FORMATS},
        "file_mb": (AT_MOST, 260.0),
        "appends": (AT_LEAST, 2_000.0),
        "show": (AT_MOST, 0.4),
        "rebuild": (AT_MOST, 60.0),
    },
}
"""Issue 13's targets, by case count and figure: no entry, no target at that size."""


# ---------------------------------------------------------------------------------------------- databases


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def checkpoint(path: Path) -> None:
    """Fold the WAL into the file, so that its size is the data's and a copy of it is whole."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def schema_head(folder: Path) -> str:
    """The schema revision `caseclock init` creates now: an empty database made and read."""
    probe = folder / "schema-probe.db"
    remove_database(probe)
    context = Context(db=url(probe), create_database=True)
    upgrade(context.engine)
    context.close()
    try:
        return revision_of(probe) or "none"
    finally:
        remove_database(probe)


def revision_of(path: Path) -> str | None:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        connection.close()


def count(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        connection.close()


def unusable(path: Path, cases: int, head: str) -> str | None:
    """Why the cached database cannot be reused (None: it can)."""
    if not path.exists():
        return "not built yet"
    revision = revision_of(path)
    if revision != head:
        return f"schema revision {revision}, now {head}"
    have = count(path, "cases")
    if have != cases:
        return f"{have} cases, not {cases}"
    context = Context(db=url(path), as_of=AS_OF)
    try:
        if not context.store.projections_current():
            return "its projections were computed with other rules"
    finally:
        context.close()
    return None


def database(folder: Path, cases: int, head: str) -> Path:
    """The cached database of `cases` demo cases, built as `caseclock init` + `caseclock demo` would."""
    path = folder / f"caseclock-{cases}-cases-as-of-{AS_OF}-seed-{SEED}.db"
    why = unusable(path, cases, head)
    if why is None:
        print(f"reusing {path}", flush=True)
        return path
    print(f"building {path} ({why}): {cases:,} demo cases, once ...", flush=True)
    remove_database(path)
    building = path.with_name(path.name + ".building")
    remove_database(building)
    started = time.perf_counter()
    context = Context(db=url(building), as_of=AS_OF, create_database=True)
    upgrade(context.engine)
    store = context.store
    histories = generate(context.rules, cases, SEED, context.as_of, context.now())
    store.import_histories(progress(histories, cases, started), context.now())
    context.close()
    checkpoint(building)
    os.replace(building, path)
    remove_database(building)  # the empty -wal/-shm a closed connection may leave
    print(f"  written in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def progress(items: Iterable[Any], total: int, started: float) -> Iterator[Any]:
    step = max(total // 10, 1)
    for number, item in enumerate(items, 1):
        yield item
        if number % step == 0:
            print(f"  {number:,}/{total:,} generated ({time.perf_counter() - started:.0f} s)", flush=True)


def scratch_copy(path: Path, name: str) -> Path:
    """A copy of the (checkpointed) cached database to write on, so the cache stays as generated."""
    copy = path.with_name(f"{name}-{path.name}")
    remove_database(copy)
    shutil.copyfile(path, copy)
    return copy


# ---------------------------------------------------------------------------------------------- children

_CHILD = """
import resource, sys
from pathlib import Path
from tracker.cli import main
code = main(sys.argv[1:])
# VmHWM is this process image's own peak: ru_maxrss would also count the parent's pages copied at fork.
status = Path("/proc/self/status")
lines = status.read_text().splitlines() if status.exists() else []
peak = next((int(l.split()[1]) for l in lines if l.startswith("VmHWM:")), None)
peak = peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak, file=sys.stderr)
sys.exit(code)
"""


def caseclock(db: Path, *arguments: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one `caseclock --db DB --as-of AS_OF ...` in a child process."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, "--db", url(db), "--as-of", AS_OF, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"caseclock {' '.join(arguments)} failed: {child.stderr.strip()}")
    return seconds, int(child.stderr.split()[-1]) / 1024  # kilobytes


def best_of(runs: int, child: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    """The best time of `runs` runs, and the highest peak."""
    results = [child() for _ in range(runs)]
    return min(seconds for seconds, _ in results), max(peak for _, peak in results)


# ---------------------------------------------------------------------------------------------- measures


def report_statements(context: Context) -> tuple[list[tuple[str, Any]], float]:
    """The statements one lazy report and a pass over its clock lines execute, and that pass's time."""
    captured: list[tuple[str, Any]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        captured.append((statement, parameters))

    engine = context.store.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        report_and_lines(context)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    started = time.perf_counter()
    report_and_lines(context)
    return captured, time.perf_counter() - started


def report_and_lines(context: Context) -> int:
    report = compliance_report(context.store, None, parse_period(PERIOD), context.as_of, lazy_clocks=True)
    return sum(1 for _ in report.clocks)


def query_floor(path: Path, statements: list[tuple[str, Any]]) -> tuple[float, list[tuple[float, int]]]:
    """Seconds to run `statements` with plain sqlite3 in one read transaction, every row fetched; and each
    statement's (seconds, rows)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        each = []
        started = time.perf_counter()
        connection.execute("BEGIN")
        for statement, parameters in statements:
            began = time.perf_counter()
            rows = len(connection.execute(statement, parameters).fetchall())
            each.append((time.perf_counter() - began, rows))
        connection.execute("COMMIT")
        return time.perf_counter() - started, each
    finally:
        connection.close()


def appends(path: Path, cases: int = 300) -> tuple[float, int]:
    """(events/s, events): each new case's steps in turn, one `Store.record` (transaction) per event."""
    copy = scratch_copy(path, "appends")
    context = Context(db=url(copy), as_of=AS_OF)
    try:
        return appends_per_second(context.store, "BENCH", cases)
    finally:
        context.close()
        remove_database(copy)


def rebuild(path: Path) -> tuple[float, float]:
    copy = scratch_copy(path, "rebuild")
    try:
        return caseclock(copy, "rebuild")
    finally:
        remove_database(copy)


def middle_ref(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(
            "SELECT ref FROM cases ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM cases)"
        )
        return str(row.fetchone()[0])
    finally:
        connection.close()


def measure(path: Path, runs: int) -> dict[str, Any]:
    """Every figure of one database."""
    figures: dict[str, Any] = {}
    checkpoint(path)
    size = path.stat().st_size
    figures["file_mb"], figures["file_mib"] = size / 1e6, size / 2**20
    figures["cases"], figures["events"] = count(path, "cases"), count(path, "events")

    context = Context(db=url(path), as_of=AS_OF)
    try:
        statements, _ = report_statements(context)
        timings = [report_statements(context)[1] for _ in range(runs)]
        figures["in_process"] = min(timings)
        figures["lines"] = report_and_lines(context)
    finally:
        context.close()
    floors = [query_floor(path, statements) for _ in range(runs)]
    figures["floor"] = min(seconds for seconds, _ in floors)
    figures["statements"], figures["rows"] = len(statements), sum(rows for _, rows in floors[0][1])
    figures["by_statement"] = [
        (min(each[i][0] for _, each in floors), floors[0][1][i][1], statement)
        for i, (statement, _) in enumerate(statements)
    ]

    with tempfile.TemporaryDirectory() as folder:
        for fmt in FORMATS:
            out = Path(folder) / f"report.{fmt}"
            export = ("export", "--period", PERIOD, "--format", fmt, "--out", str(out))
            figures[f"export_{fmt}"], figures[f"peak_{fmt}"] = best_of(
                runs, lambda e=export: caseclock(path, *e)
            )
    figures["ratio"] = figures["export_json"] / figures["floor"]

    ref = middle_ref(path)
    figures["show"], figures["peak_show"] = best_of(runs, lambda: caseclock(path, "show", ref))
    figures["show_ref"] = ref
    figures["appends"], figures["appended"] = appends(path)
    figures["rebuild"], figures["peak_rebuild"] = rebuild(path)
    return figures


# ---------------------------------------------------------------------------------------------- output


def verdict(cases: int, key: str, value: float, unit: str) -> str:
    target = TARGETS.get(cases, {}).get(key)
    if target is None:
        return ""
    sense, limit = target
    met = value <= limit if sense == AT_MOST else value >= limit
    return f"  {sense} {limit:,g}{unit} {'met' if met else 'missed'}"


def missed(cases: int, figures: dict[str, Any]) -> list[str]:
    found = []
    for key, (sense, limit) in TARGETS.get(cases, {}).items():
        value = figures[key]
        if not (value <= limit if sense == AT_MOST else value >= limit):
            found.append(key)
    return found


ROWS: list[tuple[str, Callable[[int, dict[str, Any]], str]]] = [
    ("cases / events", lambda n, f: f"{f['cases']:,} / {f['events']:,}"),
    (f"{PERIOD} clock lines", lambda n, f: f"{f['lines']:,}"),
    (
        "database file",
        lambda n, f: (
            f"{f['file_mb']:.1f} MB ({f['file_mib']:.1f} MiB)" + verdict(n, "file_mb", f["file_mb"], " MB")
        ),
    ),
    *(
        row
        for fmt in FORMATS
        for row in (
            (
                f"export {fmt}, best",
                lambda n, f, fmt=fmt: (
                    f"{f[f'export_{fmt}']:.2f} s" + verdict(n, f"export_{fmt}", f[f"export_{fmt}"], " s")
                ),
            ),
            (
                f"export {fmt}, peak RSS",
                lambda n, f, fmt=fmt: (
                    f"{f[f'peak_{fmt}']:.0f} MiB" + verdict(n, f"peak_{fmt}", f[f"peak_{fmt}"], " MiB")
                ),
            ),
        )
    ),
    ("query floor (sqlite3), best", lambda n, f: f"{f['floor']:.3f} s"),
    ("  statements / rows fetched", lambda n, f: f"{f['statements']} / {f['rows']:,}"),
    ("json export / query floor", lambda n, f: f"{f['ratio']:.1f}x"),
    ("report + lines in process", lambda n, f: f"{f['in_process']:.2f} s"),
    (
        "appends, 1 transaction each",
        lambda n, f: f"{f['appends']:,.0f}/s ({f['appended']:,})" + verdict(n, "appends", f["appends"], "/s"),
    ),
    ("show REF, best", lambda n, f: f"{f['show']:.3f} s" + verdict(n, "show", f["show"], " s")),
    ("  REF / peak RSS", lambda n, f: f"{f['show_ref']} / {f['peak_show']:.0f} MiB"),
    ("rebuild (once)", lambda n, f: f"{f['rebuild']:.1f} s" + verdict(n, "rebuild", f["rebuild"], " s")),
    ("  peak RSS", lambda n, f: f"{f['peak_rebuild']:.0f} MiB"),
]


def table(results: dict[int, dict[str, Any]]) -> str:
    label_width, width = 30, 36
    lines = [f"{'':{label_width}}" + "".join(f"{f'{n:,} cases':{width}}" for n in results)]
    for label, cell in ROWS:
        lines.append(f"{label:{label_width}}" + "".join(f"{cell(n, f):{width}}" for n, f in results.items()))
    return "\n".join(line.rstrip() for line in lines)


def profile_json_export(path: Path) -> str:
    """The top 15 functions by cumulative time of the json export, in this process: report and writer."""
    context = Context(db=url(path), as_of=AS_OF)
    profiler = cProfile.Profile()
    try:
        context.store.projections_current()  # the rules loaded and the schema checked before profiling
        with tempfile.TemporaryDirectory() as folder:
            profiler.enable()
            report = compliance_report(
                context.store, None, parse_period(PERIOD), context.as_of, lazy_clocks=True
            )
            write(report, "json", Path(folder) / "report.json")
            profiler.disable()
    finally:
        context.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
    return out.getvalue().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="5000,100000", help="comma-separated sizes (default: 5000,100000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each timed figure; the best is shown")
    parser.add_argument(
        "--folder",
        type=Path,
        default=Path(tempfile.gettempdir()) / "caseclock-bench",
        help="where the generated databases are kept and reused (default: %(default)s)",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="profile the json export at the largest size (auto: when a target there is missed)",
    )
    args = parser.parse_args()
    sizes = [int(text.replace("_", "")) for text in args.cases.split(",")]
    args.folder.mkdir(parents=True, exist_ok=True)

    head = schema_head(args.folder)
    paths = {cases: database(args.folder, cases, head) for cases in sizes}
    print()
    print(f"caseclock reports: {PERIOD} as of {AS_OF}, cases opened over the 18 months before (seed {SEED})")
    print(f"{machine_line()}; Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    print(f"schema {head}; timed figures are the best of {args.runs} runs; databases in {args.folder}")
    started = time.perf_counter()
    results = {}
    for cases, path in paths.items():
        print(f"measuring {cases:,} cases ...", flush=True)
        results[cases] = measure(path, args.runs)
    print()
    print(table(results))
    print()
    print(
        f"measured in {time.perf_counter() - started:.0f} s; load at the end {os.getloadavg()[0]:.1f} "
        f"(1 min), {os.getloadavg()[1]:.1f} (5 min) on {os.cpu_count()} cores"
    )
    largest = max(sizes)
    misses = missed(largest, results[largest])
    every = [f"{key} at {n:,}" for n in sizes for key in missed(n, results[n])]
    print(f"targets (issue 13) missed: {', '.join(every)}" if every else "targets (issue 13): all met")
    if args.profile == "always" or (args.profile == "auto" and misses):
        print()
        print(f"profile of the json export in process at {largest:,} cases (top 15 by cumulative time):")
        print(profile_json_export(paths[largest]))
        print()
        print(f"query floor by statement at {largest:,} cases (best of {args.runs}, slowest first):")
        for seconds, rows, statement in sorted(results[largest]["by_statement"], reverse=True):
            print(f"{seconds:7.3f} s {rows:8,} rows  {' '.join(statement.split())[:78]}")


if __name__ == "__main__":
    main()
