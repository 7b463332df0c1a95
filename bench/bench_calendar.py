"""Benchmark of the working-day calendar: single dates, the numpy bulk path, and a naive day-by-day loop.

Run from the project root:

    PYTHONPATH=. .venv/bin/python bench/bench_calendar.py

Every figure comes from the same run on the same machine and names its data size. Random trigger dates are
drawn uniformly from the supported range (2000-01-01 to 2100-12-31) with a fixed seed; N = 3 working days
(the KPI 2 and KPI 4 rule) and N = 30, where a day-by-day loop has to walk much further.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable

import holidays
import numpy as np

from tracker.domain.calendar import FIRST_DATE, LAST_DATE, WorkingCalendar

N_VALUES = (3, 30)
SEED = 20260501
SINGLE_OPS = 300_000
BULK_DATES = 1_000_000
NAIVE_OPS = 100_000
ONE_DAY = dt.timedelta(days=1)


def random_dates(size: int, rng: np.random.Generator) -> np.ndarray:
    low = np.datetime64(FIRST_DATE.isoformat(), "D").astype(np.int64)
    high = np.datetime64(LAST_DATE.isoformat(), "D").astype(np.int64)
    return rng.integers(low, high + 1, size=size).astype("datetime64[D]")


def naive_after(trigger: dt.date, n: int, closed: set[dt.date]) -> dt.date:
    """Day-by-day reference: roll a non-working trigger back, then step n working days forward."""
    day = trigger
    while day.weekday() >= 5 or day in closed:
        day -= ONE_DAY
    counted = 0
    while counted < n:
        day += ONE_DAY
        if day.weekday() < 5 and day not in closed:
            counted += 1
    return day


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """The fastest of `repeats` timings of `run()` in seconds (the least disturbed by other load)."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings)


def report(label: str, rate: float, unit: str, size: int, repeats: int) -> None:
    print(f"  {label:<42} {rate:>14,.0f} {unit:<8} ({size:,} dates, best of {repeats})")


def measure(
    calendar: WorkingCalendar,
    n: int,
    single_dates: list[dt.date],
    bulk_dates: np.ndarray,
    closed: set[dt.date],
) -> None:
    after = calendar.working_days_after

    def run_single() -> None:
        for day in single_dates:
            after(day, n)

    single_rate = len(single_dates) / best_of(3, run_single)
    bulk_rate = len(bulk_dates) / best_of(5, lambda: calendar.working_days_after_many(bulk_dates, n))
    naive_dates = single_dates[:NAIVE_OPS]

    def run_naive() -> None:
        for day in naive_dates:
            naive_after(day, n, closed)

    naive_rate = len(naive_dates) / best_of(3, run_naive)

    # the three paths agree on a sample (a benchmark of wrong answers is worthless; reported, not asserted)
    sample = bulk_dates[:10_000]
    days = sample.astype(dt.date).tolist()
    bulk_sample = calendar.working_days_after_many(sample, n).astype(dt.date).tolist()
    agree = bulk_sample == [after(d, n) for d in days] == [naive_after(d, n, closed) for d in days]

    print(f"N = {n} working days after")
    report("single working_days_after", single_rate, "ops/s", len(single_dates), 3)
    report("bulk working_days_after_many", bulk_rate, "dates/s", len(bulk_dates), 5)
    report("naive day-by-day loop over the holidays set", naive_rate, "ops/s", len(naive_dates), 3)
    print(f"  single vs naive: {single_rate / naive_rate:8.1f}x")
    print(f"  bulk vs naive:   {bulk_rate / naive_rate:8.1f}x")
    print(f"  bulk vs single:  {bulk_rate / single_rate:8.1f}x")
    print(f"  results agree on a 10,000-date sample: {'yes' if agree else 'NO'}")
    print()


def main() -> None:
    print(f"cores (os.cpu_count): {os.cpu_count()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, holidays {holidays.__version__}")
    print(f"random triggers {FIRST_DATE} .. {LAST_DATE}, seed {SEED}; single-threaded")
    print()

    rng = np.random.default_rng(SEED)
    calendar = WorkingCalendar()

    start = time.perf_counter()
    calendar.working_days_after(dt.date(2026, 1, 1), 3)  # builds the index and loads the holidays
    index_seconds = time.perf_counter() - start
    start = time.perf_counter()
    calendar.working_days_after_many(np.array(["2026-01-01"], dtype="datetime64[D]"), 3)
    numpy_index_seconds = time.perf_counter() - start
    print(f"index build (one-off, 1998-2102): {index_seconds * 1000:8.1f} ms")
    print(f"numpy index copy (one-off):       {numpy_index_seconds * 1000:8.1f} ms")
    print()

    single_dates = random_dates(SINGLE_OPS, rng).astype(dt.date).tolist()
    bulk_dates = random_dates(BULK_DATES, rng)
    closed = set(holidays.country_holidays("GB", subdiv="ENG", years=range(1998, 2103)))
    for n in N_VALUES:
        measure(calendar, n, single_dates, bulk_dates, closed)


if __name__ == "__main__":
    main()
