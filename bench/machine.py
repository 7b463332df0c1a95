"""What the benchmarks print about the machine, so that figures from different runs can be compared."""

from __future__ import annotations

import os
import time


def reference_loop() -> float:
    """Seconds for 3 million additions in pure Python: this machine's speed right now."""
    began = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    return time.perf_counter() - began


def machine_line() -> str:
    """Cores, load and the reference loop, for the first line of a benchmark's output."""
    return (
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
        f"reference loop (3M additions) {reference_loop():.2f} s"
    )
