"""A Dask cluster is safe to lose: what it cannot finish runs here, with the same numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import ntm_sim.simulate.runner
from ntm_sim.model.instance import build_instance
from ntm_sim.model.scenario import load_scenario
from ntm_sim.optimize.baselines import planners_rule
from ntm_sim.simulate import BLOCK, simulate
from ntm_sim.simulate.runner import run_tasks

distributed = pytest.importorskip("dask.distributed")

pytestmark = pytest.mark.xdist_group("dask")


@pytest.fixture(scope="module")
def cluster():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    yield cluster
    cluster.close()


@pytest.fixture
def one_worker(cluster):
    """The module's cluster with exactly one worker (a test may take it away)."""
    cluster.scale(1)
    with distributed.Client(cluster.scheduler_address) as client:
        client.wait_for_workers(1, timeout=60)
    return cluster


def test_losing_the_only_worker_finishes_here_with_the_same_numbers(lao_cai, one_worker, monkeypatch):
    monkeypatch.setattr(ntm_sim.simulate.runner, "NO_WORKER_GRACE_S", 2.0)
    sc = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml")
    inst = build_instance(lao_cai, sc)
    plans = {"planners_rule": planners_rule(inst)}
    n = 3 * BLOCK
    local = simulate(inst, plans, sc.uncertainty, n_draws=n, seed=3)
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        if not seen:
            one_worker.scale(0)  # the cluster's only worker goes away after the first block
        seen.append(done)

    remote = simulate(inst, plans, sc.uncertainty, n_draws=n, seed=3, scheduler=one_worker.scheduler_address,
                      progress=progress)
    assert seen[-1] == n
    for name, value in local.outcomes["planners_rule"].items():
        assert np.array_equal(value, remote.outcomes["planners_rule"][name]), name


def test_a_task_that_fails_fails_the_run(one_worker):
    # the task's own error is raised, not taken for a lost worker and retried here
    with pytest.raises(ValueError, match="math domain error"):
        run_tasks(math.sqrt, [4.0, -1.0], scheduler=one_worker.scheduler_address)
    assert run_tasks(math.sqrt, [4.0, 9.0], scheduler=one_worker.scheduler_address) == [2.0, 3.0]
