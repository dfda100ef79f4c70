"""From a scenario to a results folder: solve, simulate the plans, write both.

What ``ntm-sim solve`` followed by ``ntm-sim simulate`` does, for callers that are not the
command line (the dashboard, sweeps, notebooks): the solve folder is written atomically
first, then its ``simulation/`` subfolder, so a failed simulation never spoils the plan.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ntm_sim.dataset import BUNDLED, Dataset, load_dataset
from ntm_sim.optimize import SolveResult
from ntm_sim.scenario import Scenario, resolve_data_path
from ntm_sim.simulate import SimulationResult


@dataclass
class SolvedScenario:
    """A scenario, its solve, and the simulation of its optimum and baselines (if any)."""

    scenario: Scenario
    result: SolveResult
    simulation: SimulationResult | None


def scenario_dataset(scenario: Scenario) -> Dataset:
    """The dataset a scenario names (bundled, or a planner's file next to the scenario)."""
    ref = resolve_data_path(scenario)
    if ref in BUNDLED or ref.startswith("bundled:"):
        return load_dataset(ref)
    from ntm_sim.units import lao_cai_units

    return load_dataset(ref, units=lao_cai_units())


UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv")


def dataset_from_upload(filename: str, content: bytes, folder: Path | str) -> tuple[Dataset, Path]:
    """Load a planner's uploaded workbook (or CSV) and keep it in ``folder``.

    The file is kept only when it loads, so that the results' manifest points at data
    that still exist and a refused file leaves nothing behind.

    Raises
    ------
    InputError
        If the file type is not accepted, or the file cannot be used (each problem with
        file, sheet, row and column).
    """
    from ntm_sim.errors import InputError, Problem
    from ntm_sim.units import lao_cai_units

    name = Path(filename).name
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise InputError([Problem(name, "file type not accepted", expected="an Excel workbook (.xlsx) or a CSV",
                                  found=Path(name).suffix or "no extension")])
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # loaded from a scratch folder under its own name (problems name the planner's file);
    # moved into place only when it loads, so a refused file leaves nothing behind
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        (scratch / name).write_bytes(content)
        ds = load_dataset(scratch / name, units=lao_cai_units())
        if folder.exists():
            shutil.rmtree(folder)
        scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    path = folder / name
    # the manifest names the kept file, not the scratch copy
    return dataclasses.replace(ds, meta=dataclasses.replace(ds.meta, source=str(path))), path


def solve_and_simulate(ds: Dataset, scenario: Scenario, *, draws: int = 1000, seed: int = 0,
                       sampler: str = "mc", time_limit: float | None = None) -> SolvedScenario:
    """Solve a scenario, then simulate its optimum and baselines on common random numbers.

    Parameters
    ----------
    ds, scenario
        The data and the scenario.
    draws
        Monte Carlo draws (0: solve only).
    seed, sampler
        As for :func:`ntm_sim.simulate.simulate`.
    time_limit
        Solver seconds for all stages (default: the scenario's).
    """
    from ntm_sim.optimize import solve
    from ntm_sim.simulate import simulate

    result = solve(ds, scenario, time_limit=time_limit)
    sim = None
    if draws > 0:
        plans = {"optimum": result.plan.decisions, **{n: p.decisions for n, p in result.baselines.items()}}
        sim = simulate(result.instance, plans, scenario.uncertainty, n_draws=draws, seed=seed,
                       sampler=sampler)  # type: ignore[arg-type]
    return SolvedScenario(scenario=scenario, result=result, simulation=sim)


def write_run(run: SolvedScenario, out: Path | str, *, command: list[str] | None = None) -> Path:
    """Write a solved scenario as ``ntm-sim solve`` and ``simulate`` do: ``out`` and ``out/simulation``."""
    from ntm_sim.results import write_simulation_results, write_solve_results

    out = Path(out)
    write_solve_results(run.result, out, command=command)
    if run.simulation is not None:
        r = run.result
        write_simulation_results(run.simulation, out / "simulation", command=command,
                                 solver={"name": r.solver, "version": r.solver_version, "status": r.status})
    return out


def run_scenario(ds: Dataset, scenario: Scenario, out: Path | str, *, draws: int = 1000, seed: int = 0,
                 sampler: str = "mc", time_limit: float | None = None) -> Path:
    """Solve a scenario and simulate its plans into the results folder ``out`` (see :func:`write_run`)."""
    run = solve_and_simulate(ds, scenario, draws=draws, seed=seed, sampler=sampler, time_limit=time_limit)
    command = ["ntm_sim.workflow.run_scenario", scenario.name, f"draws={draws}", f"seed={seed}", sampler]
    return write_run(run, out, command=command)
