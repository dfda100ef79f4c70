"""Settings the test suite shares: paths, and a smaller search for the recommended plan."""

from __future__ import annotations

import fcntl
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from ntm_sim.model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
# smaller than the shipped default (which benchmarks/bench_robust.py measures): one reserve level and the
# expected-money plan, fewer draws
QUICK = {"reserves": [0.0], "weight_draws": 400, "train_draws": 400, "test_draws": 600}


def quick(scenario: Scenario) -> Scenario:
    """The scenario with the test suite's smaller search for the recommended plan."""
    return scenario.with_(robustness={**scenario.robustness.model_dump(), **QUICK})


def for_dashboard(scenario: Scenario) -> Scenario:
    """The scenario as the browser tests run it: the smaller search, one objective stage, no expected-money plan.

    The browser tests check what the page shows of a results folder, not the search: the shipped objective
    order and the recommended plan's search are tested in ``test_optimize_laocai`` and ``test_recommend``.
    """
    sc = quick(scenario).with_(objective={"order": ["communes_ntm"]})
    return sc.with_(robustness={**sc.robustness.model_dump(), "expected_money": False})


CUT_COMMUNES = 87  # budget_cut_20's headline (for_dashboard), proven at the root node on the re-calibrated data


def solved_cut(factory: pytest.TempPathFactory):
    """``budget_cut_20`` (:func:`for_dashboard`) solved on paper, once for the whole run.

    The compared runs and both dashboards' results start from this one solve (87 communes counted,
    proven at the root; on the old data the proof took 8–17 s and the stage stopped at a 1.5% gap).
    """
    from ntm_sim.data.registry import load_dataset
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.optimize import solve

    def build(folder: Path) -> None:
        sc = for_dashboard(load_scenario(ROOT / "scenarios" / "budget_cut_20.yaml"))
        result = solve(load_dataset("lao_cai"), sc)
        assert result.proven_optimal, [(s.name, s.termination) for s in result.stages]
        assert result.plan.outcomes.communes_ntm == CUT_COMMUNES, result.plan.outcomes.communes_ntm
        (folder / "solved.pickle").write_bytes(pickle.dumps(result))

    return pickle.loads((shared(factory, "solved_cut", build) / "solved.pickle").read_bytes())


def shared(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """``build(folder)`` once for the whole run, whichever worker asks first; the others wait and reuse it.

    The folder lies beside the workers' own temporary folders (pytest-xdist's recipe for session data);
    a marker file says it is complete, so a failed build is not reused.
    """
    base = factory.getbasetemp()
    root = base.parent if base.name.startswith("popen-gw") else base
    folder, done = root / f"shared-{name}", root / f"shared-{name}.done"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            folder.mkdir(exist_ok=True)
            build(folder)
            done.touch()
    return folder
