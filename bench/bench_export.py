"""Export times for a financial year of a large service: `caseclock export` in each format, end to end.

Builds (once, then reuses) a SQLite database of N demo cases spread over the 18 months before the as-of
date, then runs the real command, `caseclock export --period FY2026 --format F --out FILE`, as a child
process for each format: the time is the whole command (start-up, reading the facts, counting, writing the
file) and the memory is that process's peak resident set size. It also times the two halves in this
process: the shared computation (`compliance_report`) and each format's writer. Prints the data size, the
core count, the load and a pure-Python reference loop, so figures from different machines can be compared.

    .venv/bin/python bench/bench_export.py [--cases 100000] [--db PATH] [--runs 3]

Targets (issue 5): json <= 1 s, xlsx <= 10 s, memory <= 500 MiB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import machine_line  # noqa: E402
from tracker.cli.context import Context  # noqa: E402
from tracker.cli.demo import generate  # noqa: E402
from tracker.domain.periods import parse_period  # noqa: E402
from tracker.exporters import write  # noqa: E402
from tracker.reports.report import compliance_report, report_snapshot  # noqa: E402
from tracker.store.engine import upgrade  # noqa: E402

AS_OF = "2027-04-10"
PERIOD = "FY2026"
TARGETS = {"json": "<= 1 s", "xlsx": "<= 10 s"}


def build(db: Path, cases: int) -> Context:
    context = Context(db=f"sqlite:///{db}", as_of=AS_OF, create_database=True)
    upgrade(context.engine)
    store = context.store
    have = store.count_cases(context.as_of, "all")
    if have < cases:
        print(f"generating {cases - have} demo cases into {db} (once; minutes) ...", flush=True)
        started = time.perf_counter()
        histories = generate(
            context.rules, cases - have, 3, context.as_of, context.now(), start_number=have + 1
        )
        store.import_histories(histories, context.now())
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    return context


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


def run_command(db: Path, fmt: str, out: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one `caseclock export` in a child process."""
    arguments = [
        "--db", f"sqlite:///{db}", "--as-of", AS_OF,
        "export", "--period", PERIOD, "--format", fmt, "--out", str(out),
    ]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, *arguments], cwd=ROOT, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"caseclock export --format {fmt} failed: {child.stderr.strip()}")
    return seconds, int(child.stderr.split()[-1]) / 1024  # kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="database file to build or reuse (default: in the temp dir)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="json,xlsx,csv,html", help="comma-separated (default: all four)")
    args = parser.parse_args()
    db = args.db or Path(tempfile.gettempdir()) / f"caseclock-bench-export-{args.cases}.db"
    context = build(db, args.cases)
    period = parse_period(PERIOD)
    computed = []
    for _ in range(args.runs):
        started = time.perf_counter()
        report = compliance_report(context.store, None, period, context.as_of)  # as the TUI reads it
        computed.append(time.perf_counter() - started)
    print(
        f"data: {args.cases} cases ({db.stat().st_size / 2**20:.0f} MiB SQLite); {PERIOD} as of {AS_OF}: "
        f"{len(report.clocks)} clocks, {report.referrals.received} referrals"
    )
    print(machine_line())
    print(f"compliance_report (shared by every format and the TUI): best {min(computed):.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in args.formats.split(","):
            out = Path(folder) / f"report.{fmt}"
            writes = []
            for _ in range(args.runs):
                # As the export does it: the figures first, then the clock lines as the writer reads them.
                with report_snapshot(context.store):
                    lazy = compliance_report(context.store, None, period, context.as_of, lazy_clocks=True)
                    started = time.perf_counter()
                    write(lazy, fmt, out)
                    writes.append(time.perf_counter() - started)
            runs = [run_command(db, fmt, out) for _ in range(args.runs)]
            best = min(seconds for seconds, _ in runs)
            peak = max(rss for _, rss in runs)
            target = f" (target {TARGETS[fmt]})" if fmt in TARGETS else ""
            print(
                f"{fmt:5s} caseclock export: best {best:6.2f} s{target}, peak RSS {peak:4.0f} MiB "
                f"(target <= 500 MiB); writer (reading the clock lines) {min(writes):5.2f} s; "
                f"file {out.stat().st_size / 2**20:.1f} MiB"
            )
    context.close()


if __name__ == "__main__":
    main()
