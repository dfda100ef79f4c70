"""Wall-clock helpers shared by the benchmarks, and the machine's load beside every figure."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable

import psutil


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


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its child processes, ended or running.

    The solver's worker processes are kept from one solve to the next, so they are read
    while they run (psutil) as well as from the ones already waited for.
    """
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    live = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
        except psutil.Error:  # ended meanwhile: counted by RUSAGE_CHILDREN once waited for
            continue
        live += t.user + t.system
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime + live


def load() -> str:
    """The machine's load (1-minute average) and cores, to print beside a figure measured now."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def verdict(value: float, goal: float, *, at_least: bool = False) -> str:
    """``met`` or ``NOT met (by …)``: a goal of at most ``goal`` (or at least, ``at_least``)."""
    ok = value >= goal if at_least else value < goal
    if ok:
        return "met"
    return f"NOT met (by {abs(value / goal - 1):.0%})" if goal else "NOT met"
