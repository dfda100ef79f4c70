from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from ntm_sim.data.criteria import load_criteria_set
from ntm_sim.data.dataset import Dataset
from ntm_sim.data.registry import load_dataset
from ntm_sim.model.scenario import load_scenario
from suite_settings import BASELINE, ROOT, for_dashboard, quick, shared, solved_cut


@pytest.fixture(scope="session")
def baseline_solved(tmp_path_factory, lao_cai):
    """The baseline scenario's optimum on paper, with the rules beside it (solved once per run)."""
    from ntm_sim.optimize import solve

    def build(folder: Path) -> None:
        (folder / "solved.pickle").write_bytes(pickle.dumps(solve(lao_cai, load_scenario(BASELINE))))

    return pickle.loads((shared(tmp_path_factory, "baseline_solved", build) / "solved.pickle").read_bytes())


@pytest.fixture(scope="session")
def _quick_cli(tmp_path_factory):
    """``ntm-sim solve`` of the baseline scenario (smaller search) into a results folder, once, and the
    recommendation behind it (the CLI runs in this process: its one search serves both fixtures)."""
    from typer.testing import CliRunner

    import ntm_sim.analysis.recommend as recommend_module
    from ntm_sim.cli import app

    folder = tmp_path_factory.mktemp("cli")
    path = folder / "baseline_quick.yaml"
    # smaller still than QUICK: this run checks the command and its files, the plan's gain (with the
    # expected-money plan: test_recommended_plan_holds_under_the_pessimistic_uncertainty) and its repeatability
    sc = quick(load_scenario(BASELINE))
    sc = sc.with_(robustness={**sc.robustness.model_dump(), "expected_money": False, "weight_draws": 300,
                              "train_draws": 300, "test_draws": 400})
    path.write_text(sc.to_yaml(), encoding="utf-8")
    out = folder / "res"
    made = []
    search = recommend_module.recommend

    def recording(*args, **kwargs):
        made.append(search(*args, **kwargs))
        return made[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recommend_module, "recommend", recording)
        result = CliRunner().invoke(app, ["solve", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(made) == 1
    (folder / "output.txt").write_text(result.output, encoding="utf-8")
    return out, made[0]


@pytest.fixture(scope="session")
def quick_cli_run(_quick_cli) -> Path:
    """The results folder of ``ntm-sim solve`` of the baseline scenario (smaller search; see :func:`_quick_cli`)."""
    return _quick_cli[0]


@pytest.fixture(scope="session")
def quick_recommendation(_quick_cli):
    """The recommended plan for the baseline scenario (smaller search): the one the CLI run made."""
    return _quick_cli[1]


@pytest.fixture(scope="session")
def criteria():
    return load_criteria_set()


@pytest.fixture(scope="session")
def lao_cai() -> Dataset:
    return load_dataset("lao_cai")


@pytest.fixture(scope="session")
def compare_root(tmp_path_factory, lao_cai) -> Path:
    """Two solved scenarios (baseline also simulated) as results folders, and a folder that is not one."""
    from ntm_sim.run.workflow import SolvedScenario, solve_and_simulate, write_run

    def build(root: Path) -> None:
        sc = load_scenario(BASELINE).with_(objective={"order": ["communes_ntm"]})
        write_run(solve_and_simulate(lao_cai, sc, draws=200, seed=3, deterministic=True), root / "baseline")
        cut = solved_cut(tmp_path_factory)  # on paper only
        write_run(SolvedScenario(cut.instance.scenario, cut, None), root / "budget_cut_20")
        (root / "notes").mkdir()  # not a results folder: ignored

    return shared(tmp_path_factory, "runs", build)  # read only: tests copy what they change


@pytest.fixture
def english(monkeypatch):
    """The command line in English (``NTM_SIM_LANG=en``), for tests that read the problems' English texts.

    Vietnamese is the default; the tests of the Vietnamese texts (``tests/test_messages.py``) unset it.
    """
    monkeypatch.setenv("NTM_SIM_LANG", "en")


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> Path:
    """lao_cai_2026_2030 with the smallest search the scenario allows, solved and simulated (on paper)."""
    from ntm_sim.data.registry import load_dataset
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.run.workflow import solve_and_simulate, write_run

    def build(root: Path) -> None:
        sc = for_dashboard(load_scenario(ROOT / "scenarios" / "lao_cai_2026_2030.yaml"))
        sc = sc.with_(robustness={**sc.robustness.model_dump(), "weight_draws": 100, "train_draws": 100,
                                  "test_draws": 100})
        write_run(solve_and_simulate(load_dataset(sc.data), sc, draws=100, seed=3, deterministic=True),
                  root / "lao_cai_2026_2030")

    return shared(tmp_path_factory, "curve_run", build) / "lao_cai_2026_2030"
