"""A budget curve in a child process, like a run: its levels done, and a way to stop it.

A curve (:func:`ntm_sim.analysis.frontier.frontier`) is one recommended-plan search per budget
level: minutes on Lào Cai. The dashboard starts it here (:class:`CurveJob`, ``python -m
ntm_sim.run.curve_job``) so that the page stays responsive, shows how many levels are done
(``{"stage": "level", "level": i, "levels": n}``, ``i`` of ``n`` done), then ``"blockers"`` while the uncertainties
are switched off in turn) and can stop it with everything it started; a curve stopped halfway
is not stored. The curve is stored in the results root's cache
(:mod:`ntm_sim.run.frontier_cache`), under its lock, where the page reads it back.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ntm_sim.analysis.compare import ScenarioRun
from ntm_sim.analysis.frontier import DEFAULT_SCALES, Frontier
from ntm_sim.data.dataset import Dataset
from ntm_sim.errors import InputError
from ntm_sim.model.scenario import Scenario
from ntm_sim.run.jobs import RunJob, _emit, child_main


@dataclass(frozen=True)
class CurveRequest:
    """The budget curve of one run's scenario and data.

    Parameters
    ----------
    root
        The results root (the curve is stored in its ``.frontier`` cache).
    run
        The run's results folder: its scenario (``scenario.yaml``) and data, checked against
        its manifest (:func:`ntm_sim.run.frontier_cache.run_inputs`).
    scales
        Budget levels as multiples of the scenario's money.
    seed
        Seed of the fresh draws (common to every level).
    """

    root: str
    run: str
    scales: tuple[float, ...] = DEFAULT_SCALES
    seed: int = 0

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CurveRequest:
        """The request :meth:`to_json` wrote."""
        data = json.loads(text)
        return cls(root=str(data["root"]), run=str(data["run"]),
                   scales=tuple(float(s) for s in data.get("scales", DEFAULT_SCALES)), seed=int(data.get("seed", 0)))


class CurveJob(RunJob):
    """A budget curve under way in a child process (start it with :meth:`CurveJob.start`).

    ``progress`` holds the levels done (``level`` of ``levels``) once the search has begun.
    """

    MODULE = "ntm_sim.run.curve_job"


def curve_inputs(run: ScenarioRun) -> tuple[Scenario, Dataset]:
    """The scenario and data a run's budget curve is drawn from.

    A min-cost run's curve is its scenario in max-achievement mode: what each level of money
    buys, and so the least money that reaches the target with the scenario's confidence
    (beside the gap on paper the min-cost plan gives).

    Raises
    ------
    InputError
        As :func:`ntm_sim.run.frontier_cache.run_inputs`.
    """
    from ntm_sim.run.frontier_cache import run_inputs

    scenario, ds = run_inputs(run)
    if scenario.mode != "max-achievement":
        scenario = scenario.with_(mode="max-achievement")
    return scenario, ds


def curve_scenario(run: ScenarioRun) -> Scenario | None:
    """The scenario a run's budget curve is drawn from (:func:`curve_inputs`), without its data; None if not kept."""
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.run.frontier_cache import SCENARIO_FILE

    path = Path(run.folder) / SCENARIO_FILE
    if not path.is_file():
        return None
    scenario = load_scenario(path)
    return scenario if scenario.mode == "max-achievement" else scenario.with_(mode="max-achievement")


def stored_curve_of(run: ScenarioRun, scales: tuple[float, ...] = DEFAULT_SCALES, seed: int = 0) -> Frontier | None:
    """The run's budget curve if one is stored under its results root, found by the hashes its manifest records.

    A page or report asks for every run it shows: no dataset is loaded for that. None when
    none is stored, the run keeps no scenario, or the stored curve cannot be read.
    """
    from ntm_sim.run.frontier_cache import CACHE_FOLDER, key_of_hashes, read_frontier

    data_hash = (run.manifest.get("data") or {}).get("hash")
    try:
        scenario = curve_scenario(run)
    except InputError:
        return None
    if scenario is None or not isinstance(data_hash, str):
        return None
    folder = Path(run.folder).parent / CACHE_FOLDER / key_of_hashes(scenario, data_hash, scales, seed)
    if not (folder / "summary.json").is_file():
        return None
    try:
        return read_frontier(folder)
    except (OSError, ValueError, KeyError):
        return None


def run_curve(req: CurveRequest) -> Path:
    """Compute (or read) the curve ``req`` asks for and store it, telling each level (the child's work).

    Raises
    ------
    InputError
        If the run's folder keeps no scenario, its data have changed, or another process is
        storing the same curve.
    """
    from ntm_sim.run.frontier_cache import cache_folder, frontier_cached
    from ntm_sim.run.runs import load_run

    _emit(stage="data")
    scenario, ds = curve_inputs(load_run(Path(req.run)))

    def level(i: int, n: int) -> None:
        _emit(stage="level" if i < n else "blockers", level=i, levels=n)

    frontier_cached(req.root, ds, scenario, req.scales, seed=req.seed, on_level=level)
    return cache_folder(req.root, ds, scenario, req.scales, req.seed)


def main() -> int:
    """``python -m ntm_sim.run.curve_job``: the curve of the request read from standard input."""
    req = CurveRequest.from_json(sys.stdin.read())
    return child_main(lambda: run_curve(req), req.run)


if __name__ == "__main__":
    sys.exit(main())
