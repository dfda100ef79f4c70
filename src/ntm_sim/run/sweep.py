"""Scenario sweeps: many scenarios (levers) solved and simulated, locally or on Dask.

Each scenario of a sweep is solved, then its plans are simulated on the same seed, so
every scenario meets the same draws of the uncertainties (common random numbers) and
their differences are the levers' doing. A sweep runs one scenario per task; on a Dask
cluster (``scheduler=``) the tasks run on the workers and the table is identical to a
local run, because each task depends only on its scenario and the seed.

>>> result = sweep(ds, budget_variants(scenario, [0.6, 0.8, 1.0]), draws=1000)  # doctest: +SKIP
>>> result.table[["budget_scale", "communes_ntm", "sim_mean", "p_target"]]     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.data.dataset import Dataset
from ntm_sim.data.io.cells import write_csv
from ntm_sim.messages import Catalogue
from ntm_sim.model.plan import RECOMMENDED
from ntm_sim.model.scenario import Scenario
from ntm_sim.run.workflow import SolvedScenario, solve_and_simulate, write_run
from ntm_sim.simulate.runner import run_tasks

COLUMNS = ["scenario", "title", "mode", "budget_scale", "budget_mvnd", "status", "proven_optimal", "mip_gap",
           "communes_ntm", "advanced", "model", "district_units", "total_cost_mvnd", "funding_gap_mvnd",
           "planners_rule_communes", "draws", "seed", "sim_mean", "sim_p5", "sim_p95", "p_target", "p_all_targets"]
VI = Catalogue("vi")


@dataclass
class SweepResult:
    """A sweep: one row per scenario (levers, then outcomes), and each scenario's run."""

    table: pd.DataFrame
    runs: dict[str, SolvedScenario]


def budget_variants(scenario: Scenario, scales: list[float]) -> list[Scenario]:
    """Copies of ``scenario`` with every envelope multiplied by each of ``scales``."""
    from ntm_sim.bounds import check_levels

    check_levels(scales, "--budget-scale", ",".join(f"{s:g}" for s in scales), base=scenario.budget.scale,
                 positive=False)
    # titled as the page titles a budget level (run.title), in the same words
    return [scenario.scaled(s, named=True, title=VI("run.title", base=scenario.title or scenario.name,
                                                    pct=round(s * 100)))
            for s in scales]


def _row(run: SolvedScenario) -> dict:
    r, sc = run.result, run.scenario
    o = r.plan.outcomes
    row = {
        "scenario": sc.name, "title": sc.title, "mode": r.mode, "budget_scale": sc.budget.scale,
        "budget_mvnd": r.instance.real_budget, "status": r.status, "proven_optimal": r.proven_optimal,
        "mip_gap": r.mip_gap, "communes_ntm": o.communes_ntm, "advanced": int(o.advanced.sum()),
        "model": int(o.model.sum()), "district_units": int(o.district_unit.sum()), "total_cost_mvnd": o.total_cost,
        "funding_gap_mvnd": float(r.funding_gap.sum()) if r.funding_gap is not None else np.nan,
        "planners_rule_communes": (r.baselines["planners_rule"].outcomes.communes_ntm
                                   if "planners_rule" in r.baselines else np.nan),
        "draws": 0, "seed": np.nan, "sim_mean": np.nan, "sim_p5": np.nan, "sim_p95": np.nan,
        "p_target": np.nan, "p_all_targets": np.nan,
    }
    for name in r.instance.absent_outcomes & set(COLUMNS):
        row[name] = np.nan  # blank: the scenario's criteria set issues no such tier or unit (Decision 51)
    if run.simulation is not None:
        from ntm_sim.analysis import target_probabilities

        x = np.asarray(run.simulation.outcomes[RECOMMENDED]["communes_ntm"], dtype=float)
        probs = target_probabilities(run.simulation, RECOMMENDED)
        row.update(draws=run.simulation.n_draws, seed=run.simulation.seed, sim_mean=float(x.mean()),
                   sim_p5=float(np.percentile(x, 5)), sim_p95=float(np.percentile(x, 95)),
                   p_target=probs.get("communes_ntm", np.nan), p_all_targets=probs.get("all_targets", np.nan))
    return row


def _solve_task(ds: Dataset, options: dict, scenario: Scenario) -> SolvedScenario:
    """One scenario of a sweep (a task of :func:`ntm_sim.simulate.runner.run_tasks`)."""
    return solve_and_simulate(ds, scenario, **options)


def sweep(ds: Dataset, scenarios: list[Scenario], *, draws: int = 1000, seed: int = 0, sampler: str = "mc",
          time_limit: float | None = None, scheduler: str | None = None, deterministic: bool = False,
          progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Solve and simulate every scenario; locally, or on Dask when ``scheduler`` is given.

    Parameters
    ----------
    ds
        The data every scenario is planned on.
    scenarios
        The scenarios (their names must differ).
    draws, seed, sampler
        The simulation of each scenario's plans; the same seed for all (common random numbers).
    time_limit
        Safety limit in seconds per solve (default: each scenario's own).
    deterministic
        Each scenario's plan is its optimum on paper (fast), not the plan chosen by
        simulation (see :func:`ntm_sim.run.workflow.solve_and_simulate`).
    scheduler
        A Dask scheduler address, or ``"local"`` for a ``LocalCluster`` started here.
    progress
        Called with (scenarios done, scenarios in all).
    """
    names = [sc.name for sc in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ in a sweep: {names}")
    options = {"draws": draws, "seed": seed, "sampler": sampler, "time_limit": time_limit,
               "deterministic": deterministic}
    finished = 0

    def scenario_done(_: int) -> None:
        nonlocal finished
        finished += 1
        if progress:
            progress(finished, len(scenarios))

    runs = run_tasks(_solve_task, scenarios, shared=(ds, options), scheduler=scheduler, progress=scenario_done,
                     name="ntm-sweep")
    done_runs = [r for r in runs if r is not None]
    table = pd.DataFrame([_row(r) for r in done_runs], columns=COLUMNS)
    return SweepResult(table=table, runs={r.scenario.name: r for r in done_runs})


def write_sweep(result: SweepResult, out: Path | str, *, command: list[str] | None = None,
                force: bool = False) -> Path:
    """Write a sweep atomically: ``sweep.csv``, ``manifest.json`` and one results folder per scenario.

    The scenario folders are what ``ntm-sim solve`` and ``simulate`` write, so the
    dashboard and ``ntm-sim report`` read ``out`` as a folder of runs.
    """
    from ntm_sim.run.results import package_versions, write_json
    from ntm_sim.storage import atomic_folder

    out = Path(out)
    with atomic_folder(out, kind="sweep", force=force) as tmp:
        for name, run in result.runs.items():
            write_run(run, tmp / name, command=command)
        write_csv(result.table, tmp / "sweep.csv", index=False, lineterminator="\n", float_format=None)
        first = next(iter(result.runs.values()))
        write_json(tmp / "manifest.json", {
            "kind": "sweep", "command": command, "versions": package_versions(),
            "data": {"name": first.result.instance.dataset.meta.name,
                     "hash": first.result.instance.dataset.content_hash()},
            "scenarios": {n: r.scenario.content_hash() for n, r in result.runs.items()},
            "seed": None if result.table.empty else result.table["seed"].iloc[0],
            "draws": None if result.table.empty else int(result.table["draws"].iloc[0]),
        })
    return out
