"""A robust plan: contingency buffers tuned by simulation, checked on fresh draws.

The deterministic optimum spends every đồng on paper, so any overrun or late
disbursement stops its last projects. A plan made as if costs were ``1 + b`` times
higher keeps money in reserve that the simulation then uses where costs overrun. The
buffer is chosen on training draws to maximise the probability of reaching the target
(or the expected number of NTM communes when the target is out of reach either way),
then both plans are compared on fresh draws, so the choice is not judged on the draws
that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ntm_sim.dataset import Dataset
from ntm_sim.instance import build_instance
from ntm_sim.optimize import solve
from ntm_sim.plan import Decisions
from ntm_sim.scenario import Scenario
from ntm_sim.simulate import SimulationResult, simulate
from ntm_sim.uncertainty import UncertaintySettings

DEFAULT_BUFFERS = (0.0, 0.05, 0.10, 0.15, 0.20)


@dataclass
class RobustPlanResult:
    """The buffers tried, the one chosen, and the comparison on fresh draws."""

    training: pd.DataFrame      # per buffer: planned communes, mean and P(target) on training draws
    buffer: float               # the chosen buffer
    criterion: str              # "probability" or "mean"
    fresh: pd.DataFrame         # deterministic optimum vs robust plan on fresh draws
    plans: dict[str, Decisions]
    fresh_result: SimulationResult


def _name(b: float) -> str:
    return f"buffer_{b:.2f}"


def robust_plan(ds: Dataset, scenario: Scenario, *, buffers: tuple[float, ...] = DEFAULT_BUFFERS,
                settings: UncertaintySettings | None = None, n_train: int = 1000, n_test: int = 2000,
                seed: int = 0, time_limit: float = 30.0, target: int | None = None) -> RobustPlanResult:
    """Tune a contingency buffer by simulation and compare with the deterministic optimum.

    Parameters
    ----------
    buffers
        Cost buffers to try (0.1 plans as if every cost were 10% higher); 0 must be in
        the list: it is the deterministic optimum.
    n_train, n_test
        Draws used to choose the buffer, and fresh draws (another seed) to judge it.
    target
        Communes NTM to reach (default: the scenario's target).
    """
    if scenario.mode != "max-achievement":
        # a buffer here shrinks the money to plan with; in min-cost mode that only moves
        # spending onto the gap source, with no contingency at all
        raise ValueError("robust plans are tuned in max-achievement mode")
    if 0.0 not in buffers:
        buffers = (0.0, *buffers)
    settings = settings or scenario.uncertainty
    inst = build_instance(ds, scenario)
    target = target if target is not None else inst.targets.communes_ntm
    plans: dict[str, Decisions] = {}
    planned: dict[str, int] = {}
    for b in buffers:
        budget = scenario.budget.model_dump()
        budget["scale"] = scenario.budget.scale / (1.0 + b)
        r = solve(ds, scenario.with_(budget=budget), time_limit=time_limit, baselines=False)
        plans[_name(b)] = r.plan.decisions
        planned[_name(b)] = r.plan.outcomes.communes_ntm
    train = simulate(inst, plans, settings, n_draws=n_train, seed=seed)
    rows = {}
    for b in buffers:
        x = train.outcomes[_name(b)]["communes_ntm"]
        rows[b] = {"planned_communes": planned[_name(b)], "mean_communes": float(x.mean()),
                   "p_target": float((x >= target).mean()) if target is not None else np.nan}
    training = pd.DataFrame.from_dict(rows, orient="index")
    training.index.name = "buffer"
    informative = target is not None and training["p_target"].between(0.02, 0.98).any()
    criterion = "probability" if informative else "mean"
    key = ["p_target", "mean_communes"] if informative else ["mean_communes"]
    best = float(training.sort_values(key, ascending=False).index[0])
    chosen = {"deterministic": plans[_name(0.0)], "robust": plans[_name(best)]}
    fresh = simulate(inst, chosen, settings, n_draws=n_test, seed=seed + 1_000_003)
    table = {}
    for name in chosen:
        x = fresh.outcomes[name]["communes_ntm"]
        table[name] = {"buffer": 0.0 if name == "deterministic" else best, "mean_communes": float(x.mean()),
                       "p5": float(np.percentile(x, 5)), "p50": float(np.percentile(x, 50)),
                       "p95": float(np.percentile(x, 95)),
                       "p_target": float((x >= target).mean()) if target is not None else np.nan}
    return RobustPlanResult(training=training, buffer=best, criterion=criterion,
                            fresh=pd.DataFrame.from_dict(table, orient="index"), plans=chosen, fresh_result=fresh)
