"""Wall-clock helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Least wall time of ``repeat`` runs (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Wall time and result of one call."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out
