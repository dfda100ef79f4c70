"""The solve's safety clock: loading the model counts, and the watchdog leaves HiGHS its overshoot.

On the synthetic country (8,000 communes) the communes stage ran to its 100 s limit after seconds of
loading, HiGHS ended it 1.5–5 s late, and the watchdog (limit + 5 s from the job's start) came first
in two runs of four: the stage's plan was thrown away for a rule's.
"""

from __future__ import annotations

import time

import numpy as np

import ntm_sim.optimize.solver as solver
from ntm_sim.optimize.linear import LinExpr
from ntm_sim.optimize.solver import SolveJob, Stage, run_stages

LOAD_S = 0.4


class _SlowToLoad:
    """A back-end that takes :data:`LOAD_S` to load and records the time limit each stage is given."""

    name, version = "fake", "0"

    def __init__(self) -> None:
        time.sleep(LOAD_S)
        self.limits: list[float] = []

    def solve(self, name, objective, maximize, time_limit, mip_gap, warm, node_limit):
        self.limits.append(time_limit)
        return None, None  # no plan: the job ends after its first stage


def test_loading_the_model_counts_against_the_jobs_time_limit(monkeypatch):
    made: list[_SlowToLoad] = []
    monkeypatch.setattr(solver, "make_backend", lambda *args: made.append(_SlowToLoad()) or made[-1])
    stage = Stage("communes_ntm", LinExpr(np.array([0]), np.array([1.0])), True, 1e-4, None, True)
    job = SolveJob(model=None, stages=(stage,), solver="fake", threads=1, time_limit=2.0)  # type: ignore[arg-type]
    run_stages(job, lambda kind, payload: None)
    assert made[0].limits[0] <= 2.0 - LOAD_S + 0.05  # what is left after loading, not the whole limit


def test_the_watchdog_leaves_a_share_of_the_limit_beyond_it():
    # HiGHS ended a 100 s stage up to 5 s late: the watchdog waits longer than that, and a 5 s floor
    assert 100.0 * solver.GRACE_SHARE + solver.GRACE_S > 5.0 + 5.0
