"""One call from a scenario to a results folder: solve, then simulate the plans.

What ``ntm-sim solve`` followed by ``ntm-sim simulate --plan`` does, for callers that are
not the command line (the dashboard, notebooks): the solve folder is written atomically
first, then its ``simulation/`` subfolder, so a failed simulation never spoils the plan.
"""

from __future__ import annotations

from pathlib import Path

from ntm_sim.dataset import BUNDLED, Dataset, load_dataset
from ntm_sim.scenario import Scenario, resolve_data_path


def scenario_dataset(scenario: Scenario) -> Dataset:
    """The dataset a scenario names (bundled, or a planner's file next to the scenario)."""
    ref = resolve_data_path(scenario)
    if ref in BUNDLED or ref.startswith("bundled:"):
        return load_dataset(ref)
    from ntm_sim.units import lao_cai_units

    return load_dataset(ref, units=lao_cai_units())


UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv")


def dataset_from_upload(filename: str, content: bytes, folder: Path | str) -> tuple[Dataset, Path]:
    """Keep a planner's uploaded workbook (or CSV) in ``folder`` and load it.

    The file is kept, so that the results' manifest points at data that still exist.

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
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return load_dataset(path, units=lao_cai_units()), path


def run_scenario(ds: Dataset, scenario: Scenario, out: Path | str, *, draws: int = 1000, seed: int = 0,
                 sampler: str = "mc", time_limit: float | None = None) -> Path:
    """Solve a scenario and simulate its plans into the results folder ``out``.

    Parameters
    ----------
    ds, scenario
        The data and the scenario.
    out
        The results folder: ``out`` holds the solve, ``out/simulation`` the simulation.
    draws
        Monte Carlo draws (0: solve only).
    seed, sampler
        As for :func:`ntm_sim.simulate.simulate`.
    time_limit
        Solver seconds for all stages (default: the scenario's).

    Returns
    -------
    Path
        ``out``.
    """
    from ntm_sim.optimize import solve
    from ntm_sim.results import load_plans, write_simulation_results, write_solve_results
    from ntm_sim.simulate import simulate

    out = Path(out)
    result = solve(ds, scenario, time_limit=time_limit)
    command = ["ntm_sim.workflow.run_scenario", scenario.name, f"draws={draws}", f"seed={seed}", sampler]
    write_solve_results(result, out, command=command)
    if draws > 0:
        plans = load_plans(result.instance, out)
        sim = simulate(result.instance, plans, scenario.uncertainty, n_draws=draws, seed=seed,
                       sampler=sampler)  # type: ignore[arg-type]
        write_simulation_results(sim, out / "simulation", command=command,
                                 solver={"name": result.solver, "version": result.solver_version,
                                         "status": result.status})
    return out
