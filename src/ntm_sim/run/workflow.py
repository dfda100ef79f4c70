"""From a scenario to a results folder: solve, simulate the plans, write both.

What ``ntm-sim solve`` followed by ``ntm-sim simulate`` does, for callers that are not the
command line (the dashboard, sweeps, notebooks): the solve folder is written atomically
first, then its ``simulation/`` subfolder, so a failed simulation never spoils the plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ntm_sim.bounds import MAX_DRAWS, MIN_JUDGE_DRAWS
from ntm_sim.data.dataset import Dataset
from ntm_sim.data.registry import load_dataset
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.model.plan import RECOMMENDED, Decisions
from ntm_sim.model.scenario import Scenario, resolve_data_path
from ntm_sim.optimize import SolveResult
from ntm_sim.simulate import SimulationResult
from ntm_sim.storage import atomic_folder

if TYPE_CHECKING:
    from ntm_sim.analysis.recommend import Recommendation


@dataclass
class SolvedScenario:
    """A scenario, its plan, and the simulation of that plan beside the others (if any).

    ``result.plan`` is the plan the tool recommends: chosen by simulation in
    max-achievement mode (``recommendation`` says how), the optimum on paper otherwise.
    ``simulation`` holds it as ``recommended`` with the plans it is compared with.
    """

    scenario: Scenario
    result: SolveResult
    simulation: SimulationResult | None
    recommendation: Recommendation | None = None


def scenario_dataset(scenario: Scenario) -> Dataset:
    """The dataset a scenario names (bundled, or a planner's file next to the scenario)."""
    ref = resolve_data_path(scenario)
    return load_dataset(ref)  # a planner's file: its province detected from its codes (or names)


UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv")


def dataset_from_upload(filename: str, content: bytes, folder: Path | str,
                        check: Callable[[Dataset], object] | None = None) -> tuple[Dataset, Path]:
    """Load a planner's uploaded workbook (or CSV) and keep it in ``folder``.

    The file is kept only when it loads (and passes ``check``, e.g. building the run's
    instance), so that the results' manifest points at data that still exist and a refused
    file leaves nothing behind.

    Raises
    ------
    InputError
        If the file type is not accepted, or the file cannot be used (each problem with
        file, sheet, row and column).
    """
    from ntm_sim.errors import InputError, Problem, Text

    name = Path(filename).name
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise InputError([Problem(name, Text("upload.type"), expected=Text("upload.type.expected"),
                                  found=Path(name).suffix or Text("upload.no_suffix"))])
    folder = Path(folder)
    # loaded from the temporary folder under its own name (problems name the planner's
    # file); the folder takes its place only when the file loads, so a refused file leaves
    # nothing behind (an earlier upload under this name is replaced)
    with atomic_folder(folder, kind="upload", force=True) as tmp:
        (tmp / name).write_bytes(content)
        ds = load_dataset(tmp / name)  # any province: detected from the sheet's codes (or names)
        if check is not None:
            check(ds)  # raises InputError before the file is kept
    path = folder / name
    # the manifest names the kept file, not the scratch copy
    return dataclasses.replace(ds, meta=dataclasses.replace(ds.meta, source=str(path))), path


def plans_of(result: SolveResult) -> dict[str, Decisions]:
    """A solve's plan (as :data:`~ntm_sim.model.plan.RECOMMENDED`) and the plans beside it, by name."""
    return {RECOMMENDED: result.plan.decisions, **{n: p.decisions for n, p in result.baselines.items()}}


def solved_from(rec: Recommendation) -> SolvedScenario:
    """A recommendation as a solved scenario: its plan, and the fresh draws that judged it."""
    sim = rec.fresh.select({RECOMMENDED: rec.chosen, **{n: n for n in rec.fresh_plans()[1:]}})
    return SolvedScenario(scenario=rec.scenario, result=rec.solve_result(), simulation=sim, recommendation=rec)


def solve_and_simulate(ds: Dataset, scenario: Scenario, *, draws: int | None = None, seed: int = 0,
                       sampler: str = "mc", time_limit: float | None = None,
                       deterministic: bool = False, on_stage: Callable[[str], None] | None = None) -> SolvedScenario:
    """Find the plan to recommend and simulate it beside the others on common random numbers.

    In max-achievement mode (unless ``deterministic`` or the scenario turns it off) the
    plan is chosen by simulation (:func:`ntm_sim.analysis.recommend.recommend`) and
    judged on ``draws`` fresh draws with ``seed``; otherwise the optimum on paper is
    simulated.

    Parameters
    ----------
    ds, scenario
        The data and the scenario.
    draws
        Monte Carlo draws that judge the plans (default: the scenario's
        ``robustness.test_draws``; 0: solve only, on paper).
    seed, sampler
        As for :func:`ntm_sim.simulate.simulate`.
    time_limit
        Safety limit in seconds per solve (default: the scenario's).
    deterministic
        Recommend the optimum on paper instead.
    on_stage
        Called with each stage's name as it starts: ``solve`` and ``simulate`` (the
        search by simulation: ``weights``, ``solve``, ``train``, ``judge``).
    """
    from ntm_sim.analysis.recommend import recommend
    from ntm_sim.optimize import solve
    from ntm_sim.simulate import simulate

    rob = scenario.robustness
    draws = rob.test_draws if draws is None else int(draws)
    if scenario.mode == "max-achievement" and rob.enabled and not deterministic and draws > 0:
        _check_judge_draws(draws)
        judged = scenario if draws == rob.test_draws else scenario.with_(
            robustness={**rob.model_dump(), "test_draws": draws})
        rec = recommend(ds, judged, seed=seed, time_limit=time_limit, on_stage=on_stage)
        if sampler == "mc":
            return solved_from(rec)
        result = rec.solve_result()
        sim = simulate(result.instance, plans_of(result), scenario.uncertainty, n_draws=draws, seed=seed,
                       sampler=sampler)  # type: ignore[arg-type]
        return SolvedScenario(scenario=scenario, result=result, simulation=sim, recommendation=rec)
    stage = on_stage or (lambda _name: None)
    stage("solve")
    result = solve(ds, scenario, time_limit=time_limit)
    sim = None
    if draws > 0:
        stage("simulate")
        sim = simulate(result.instance, plans_of(result), scenario.uncertainty, n_draws=draws, seed=seed,
                       sampler=sampler)  # type: ignore[arg-type]
    return SolvedScenario(scenario=scenario, result=result, simulation=sim)


def write_run(run: SolvedScenario, out: Path | str, *, command: list[str] | None = None,
              force: bool = False) -> dict:
    """Write a solved scenario (plan, simulation and recommendation) as one atomic results folder.

    ``out`` may replace only an earlier output of this tool, and only with ``force``
    (see :mod:`ntm_sim.storage`).
    """
    from ntm_sim.run.results import write_solve_results

    return write_solve_results(run.result, Path(out), command=command, simulation=run.simulation,
                               recommendation=run.recommendation, force=force)


def _check_judge_draws(draws: int) -> None:
    """Refuse fewer fresh draws than a recommended plan is judged on (a named problem, not a traceback)."""
    if not MIN_JUDGE_DRAWS <= draws <= MAX_DRAWS:
        raise InputError([Problem("--draws", Text("run.judge_draws"),
                                  expected=Text("run.judge_draws.expected", least=MIN_JUDGE_DRAWS, most=MAX_DRAWS),
                                  found=str(draws))])


def run_scenario(ds: Dataset, scenario: Scenario, out: Path | str, *, draws: int | None = None, seed: int = 0,
                 sampler: str = "mc", time_limit: float | None = None, deterministic: bool = False,
                 force: bool = False) -> Path:
    """Solve a scenario and simulate its plans into the results folder ``out`` (see :func:`write_run`).

    ``out`` is checked and locked before the solve, so a second run into the same
    folder (another session, another process) is refused at once.
    """
    from ntm_sim.storage import reserve

    with reserve(out, force=force):
        run = solve_and_simulate(ds, scenario, draws=draws, seed=seed, sampler=sampler, time_limit=time_limit,
                                 deterministic=deterministic)
        command = ["ntm_sim.run.workflow.run_scenario", scenario.name, f"draws={draws}", f"seed={seed}", sampler]
        write_run(run, out, command=command, force=force)
    return Path(out)
