"""One runner for independent tasks: here, or on a Dask cluster, with the same results.

A task is ``func(*shared, item)``: blocks of draws of a simulation, scenarios of a
sweep. Tasks depend only on their inputs (random numbers come from the seed and the
task's index), so where a task runs never changes what it returns. That is what makes
the cluster safe to lose: a task whose worker died is retried on another worker, and
when the cluster has no worker left, or the scheduler itself is gone, the tasks not yet
done run here, and the run still ends with exactly the numbers of a local run.

>>> run_tasks(pow, [2, 3], shared=(10,))                       # doctest: +SKIP
[100, 1000]
>>> run_tasks(pow, [2, 3], shared=(10,), scheduler="local")    # doctest: +SKIP
[100, 1000]
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from ntm_sim.errors import InputError, Problem, Text

log = logging.getLogger(__name__)

# a cluster with no worker for this long is given up on; the rest runs here
NO_WORKER_GRACE_S = 20.0
# a task whose worker died is tried this many more times on the cluster
RETRIES = 2
_POLL_S = 1.0


def _client(scheduler: str) -> tuple[Any, Any]:
    """A Dask client (and the LocalCluster it owns, for ``"local"``)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError([Problem("--scheduler", Text("dask.missing"),
                                  expected=Text("dask.missing.expected"))]) from None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="10s"), None
    except (OSError, TimeoutError) as exc:
        raise InputError([Problem("--scheduler", Text("dask.unreachable", error=str(exc)),
                                  expected=Text("dask.address.expected"),
                                  found=scheduler)]) from None


def run_tasks(func: Callable[..., Any], items: Sequence[Any], *, shared: Sequence[Any] = (),
              scheduler: str | None = None, progress: Callable[[int], None] | None = None,
              name: str = "ntm") -> list[Any]:
    """Return ``[func(*shared, item) for item in items]``, here or on a Dask cluster.

    Parameters
    ----------
    func
        The task; it must depend only on its arguments (and be importable by workers).
    items
        One item per task.
    shared
        Arguments common to every task (sent once to every worker).
    scheduler
        ``None``: run here; ``"local"``: a LocalCluster of two worker processes;
        otherwise a Dask scheduler address.
    progress
        Called with the index of each task as it finishes.
    name
        Prefix of the task keys (unique per run, so a shared cluster's older results are
        never taken for this run's).

    Returns
    -------
    list
        The results, in the order of ``items``.
    """
    if scheduler is None:
        return _run_here(func, items, shared, range(len(items)), [None] * len(items), progress)
    results: list[Any] = [None] * len(items)
    done: set[int] = set()
    client, cluster = _client(scheduler)
    try:
        _run_on_cluster(client, func, items, shared, results, done, progress, name)
    except (OSError, TimeoutError) as exc:  # the scheduler went away: finish here
        log.warning("Dask scheduler lost (%s): %d task(s) run here", exc, len(items) - len(done))
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
    rest = [i for i in range(len(items)) if i not in done]
    return _run_here(func, items, shared, rest, results, progress)


def _run_here(func: Callable[..., Any], items: Sequence[Any], shared: Sequence[Any], which: Sequence[int],
              results: list[Any], progress: Callable[[int], None] | None) -> list[Any]:
    for i in which:
        results[i] = func(*shared, items[i])
        if progress:
            progress(i)
    return results


def _run_on_cluster(client: Any, func: Callable[..., Any], items: Sequence[Any], shared: Sequence[Any],
                    results: list[Any], done: set[int], progress: Callable[[int], None] | None, name: str) -> None:
    """Submit every task and collect results until done, or until the cluster cannot finish them."""
    from dask.distributed import wait

    shared_f = [client.scatter(x, broadcast=True) for x in shared]
    run = uuid.uuid4().hex[:12]
    futures = {i: client.submit(func, *shared_f, item, pure=False, retries=RETRIES, key=f"{name}-{run}-{i}")
               for i, item in enumerate(items)}
    idle_since: float | None = None
    while len(done) < len(items):
        pending = [f for i, f in futures.items() if i not in done]
        try:
            wait(pending, timeout=_POLL_S, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass  # nothing finished in this poll
        except BaseException as exc:  # cancelled futures (lost data, lost scheduler): see each below
            if isinstance(exc, KeyboardInterrupt):
                raise
        for i, f in futures.items():
            if i in done or f.status not in ("finished", "error", "cancelled"):
                continue
            if f.status == "finished":
                results[i] = f.result()
                done.add(i)
                if progress:
                    progress(i)
            elif not _lost_worker(f):
                f.result()  # the task itself failed: raise its error here
            else:
                log.warning("Dask lost task %d (its workers died): %d task(s) run here", i, len(items) - len(done))
                return
        if not client.scheduler_info().get("workers"):
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > NO_WORKER_GRACE_S:
                log.warning("no Dask worker left: %d task(s) run here", len(items) - len(done))
                return
        else:
            idle_since = None


def _lost_worker(future: Any) -> bool:
    """Whether a failed task failed because its workers died (not because of its own error)."""
    from dask.distributed import KilledWorker

    if future.status == "cancelled":
        return True
    try:
        exc = future.exception(timeout=5)
    except Exception:  # the scheduler cannot tell: treat as lost
        return True
    return isinstance(exc, KilledWorker)
