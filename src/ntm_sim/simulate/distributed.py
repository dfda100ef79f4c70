"""Running blocks of draws on a Dask cluster (the optional ``[distributed]`` extra).

Blocks are the unit of work: each task gets the instance and the plans (scattered once
to every worker), the block's experiment parameters and the block index, and draws its
random numbers from ``(seed, block)``; so a cluster returns exactly the numbers of a
local run, whatever the number of workers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from ntm_sim.errors import InputError, Problem


def _client(scheduler: str) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError([Problem("--scheduler", "Dask is not installed",
                                  expected="pip install 'ntm-sim[distributed]'")]) from None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="10s"), None
    except OSError as exc:
        raise InputError([Problem("--scheduler", f"cannot reach the Dask scheduler: {exc}",
                                  expected="an address such as tcp://10.0.0.5:8786, or 'local'",
                                  found=scheduler)]) from None


def run_blocks(scheduler: str, func: Callable, inst: object, plans: dict, settings: object,
               blocks: list[dict[str, np.ndarray]], seed: int,
               progress: Callable[[int, int], None] | None, bounds: np.ndarray) -> list:
    """Run every block on the cluster; return the results in block order."""
    from dask.distributed import as_completed

    client, cluster = _client(scheduler)
    try:
        inst_f = client.scatter(inst, broadcast=True)
        plans_f = client.scatter(plans, broadcast=True)
        run = uuid.uuid4().hex[:12]  # keys unique to this run: a shared cluster may hold older results
        futures = [client.submit(func, inst_f, plans_f, settings, params, seed, b, pure=False,
                                 key=f"ntm-block-{run}-{b}") for b, params in enumerate(blocks)]
        index = {f.key: b for b, f in enumerate(futures)}
        results: list = [None] * len(blocks)
        done = 0
        for fut in as_completed(futures):
            b = index[fut.key]
            results[b] = fut.result()
            done += int(bounds[b + 1] - bounds[b])
            if progress:
                progress(done, int(bounds[-1]))
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
