"""Budget curves kept on disk: the second call reads, changed inputs get another key, a run's own inputs."""

from __future__ import annotations

import pytest

from ntm_sim.analysis import frontier as frontier_module
from ntm_sim.data.synthetic import national_dataset
from ntm_sim.model.scenario import Scenario
from ntm_sim.run.frontier_cache import (
    CACHE_FOLDER,
    cache_folder,
    frontier_cached,
    frontier_key,
    marginal_table,
    run_inputs,
    run_position,
)
from ntm_sim.run.runs import load_run, scan_runs

SMALL = {"reserves": [0.0], "expected_money": False, "weight_draws": 100, "train_draws": 100, "test_draws": 150}
LEVELS = (0.7, 1.3)


@pytest.fixture(scope="module")
def province():
    return national_dataset(n_provinces=1, n_communes=40, seed=5)


def small(target: int) -> Scenario:
    return Scenario.model_validate({"name": "small", "years": (2021, 2025), "targets": {"communes_ntm": target},
                                    "robustness": SMALL})


def test_second_call_reads_the_cache_and_changed_inputs_get_another_key(province, tmp_path, monkeypatch):
    sc = small(int(province.is_ntm.sum()) + 2)
    first, cached = frontier_cached(tmp_path, province, sc, LEVELS, seed=1)
    assert not cached
    folder = cache_folder(tmp_path, province, sc, LEVELS, 1)
    assert folder.parent.name == CACHE_FOLDER
    assert (folder / "frontier.csv").is_file()
    assert (folder / ".ntm-sim").is_file()  # written atomically by the storage helpers

    def no_solve(*_args, **_kwargs):
        raise AssertionError("solved again although the curve is cached")

    monkeypatch.setattr(frontier_module, "frontier", no_solve)
    monkeypatch.setattr("ntm_sim.run.frontier_cache.frontier", no_solve)
    again, cached = frontier_cached(tmp_path, province, sc, LEVELS, seed=1)
    assert cached
    assert list(again.table["budget_mvnd"]) == pytest.approx(list(first.table["budget_mvnd"]))
    assert list(again.table["p50"]) == pytest.approx(list(first.table["p50"]))
    assert again.least_budget_mvnd == first.least_budget_mvnd
    # anything the curve depends on gives another key
    key = frontier_key(province, sc, LEVELS, 1)
    other_data = national_dataset(n_provinces=1, n_communes=40, seed=6)
    assert frontier_key(other_data, sc, LEVELS, 1) != key
    assert frontier_key(province, small(int(province.is_ntm.sum()) + 3), LEVELS, 1) != key
    assert frontier_key(province, sc, (0.7, 1.4), 1) != key
    assert frontier_key(province, sc, LEVELS, 2) != key
    with pytest.raises(AssertionError, match="solved again"):
        frontier_cached(tmp_path, province, sc, LEVELS, seed=2)
    # the marginal money between levels, in tỷ đồng
    steps = marginal_table(first)
    assert len(steps) == len(LEVELS) - 1
    assert steps["to_bn"].iloc[0] * 1000 == pytest.approx(first.table["budget_mvnd"].iloc[1])


def test_a_run_gives_its_scenario_data_and_position(compare_root, tmp_path, lao_cai):
    runs, _ = scan_runs(compare_root)
    run = load_run(compare_root / "budget_cut_20")
    scenario, ds = run_inputs(run)
    assert scenario.content_hash() == run.manifest["scenario"]["hash"]
    assert ds.content_hash() == lao_cai.content_hash()
    pos = run_position(run)
    assert pos is not None
    assert pos.budget_mvnd == run.summary["budget_mvnd"]
    assert pos.communes == run.summary["communes_ntm"]  # on paper only: no simulation
    assert not pos.simulated
    assert run_position(load_run(compare_root / "baseline")).simulated
    assert all(not r.name.startswith(".") for r in runs)
