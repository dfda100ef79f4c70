"""The budget curve: odds along budget levels, the least money for a confidence, or what stands in the way."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ntm_sim.analysis.frontier import GROUPS_VI, frontier
from ntm_sim.cli import app
from ntm_sim.data.io.folder import write_folder
from ntm_sim.data.synthetic import national_dataset
from ntm_sim.model.scenario import Scenario

SMALL = {"reserves": [0.0], "expected_money": False, "weight_draws": 200, "train_draws": 200, "test_draws": 300}


@pytest.fixture(scope="module")
def province():
    return national_dataset(n_provinces=1, n_communes=60, seed=8)


def scenario(target: int, **robustness: object) -> Scenario:
    return Scenario.model_validate({"name": "small", "years": (2021, 2025), "targets": {"communes_ntm": target},
                                    "robustness": {**SMALL, **robustness}})


def test_more_money_more_communes_and_the_least_money_for_the_confidence(province):
    start = int(province.is_ntm.sum())
    f = frontier(province, scenario(start + 3, confidence=0.6), (0.5, 1.0, 1.5), seed=2)
    t = f.table
    assert list(t["scale"]) == [0.5, 1.0, 1.5]
    assert t["budget_mvnd"].is_monotonic_increasing
    assert t["p50"].is_monotonic_increasing
    assert (t["p5"] <= t["p50"]).all()
    assert (t["p50"] <= t["p95"]).all()
    # the least money is the first level whose chance reaches the confidence
    reached = t[t["p_target"] >= 0.6]
    assert len(reached)
    assert f.least_budget_mvnd == reached["budget_mvnd"].iloc[0]
    assert not f.blockers
    assert "Cần ít nhất khoảng" in f.statement_vi()


def test_more_money_never_shows_a_plan_worse_than_the_level_below(province, monkeypatch):
    """A level whose search chose worse than the plan below (forced here) shows that plan, named; × 1 stays its own."""
    import ntm_sim.analysis.frontier as frontier_module
    import ntm_sim.analysis.recommend as recommend_module

    choose, chosen = recommend_module._choose, []

    def worst_after_the_first(training):
        if not chosen:
            chosen.append(choose(training))
        else:  # the weakest finalist on the training draws
            finalists = training[training["finalist"]]
            chosen.append(str(finalists.sort_values(["score", "mean"]).index[0]))
        return chosen[-1]

    monkeypatch.setattr(recommend_module, "_choose", worst_after_the_first)
    monkeypatch.setattr(frontier_module, "CHAINS", 1)  # the levels in order: the forced choices land where meant
    start = int(province.is_ntm.sum())
    t = frontier(province, scenario(start + 3), (0.6, 0.8, 1.0), seed=2).table
    assert chosen[1] != chosen[0]
    # × 0.8: its own (worst) choice gives way to the plan × 0.6 shows, simulated on × 0.8's money
    assert t["plan"].tolist()[:2] == [chosen[0], chosen[0]]
    assert t["carried_from"].iloc[0] != t["carried_from"].iloc[0]  # NaN: its own
    assert t["carried_from"].iloc[1] == 0.6
    assert t["mean"].iloc[1] >= t["mean"].iloc[0]
    # × 1 is the run's own plan, whatever the level below shows
    assert t["plan"].iloc[2] == chosen[2]
    assert t["carried_from"].iloc[2] != t["carried_from"].iloc[2]


def test_an_unreachable_target_names_what_stands_in_the_way(province):
    n = len(province.communes)
    f = frontier(province, scenario(n), (1.0, 2.0), seed=2)  # every commune, with 80% confidence
    assert f.least_budget_mvnd is None
    assert set(f.blockers) == set(GROUPS_VI)
    top = f.table["p_target"].iloc[-1]
    # switching a group of uncertainties off never lowers the chance (same draws)
    assert all(p >= top for p in f.blockers.values())
    text = f.statement_vi()
    assert "Không mức vốn nào" in text
    assert GROUPS_VI[max(f.blockers, key=f.blockers.get)] in text


def test_cli_frontier_writes_its_folder_and_refuses_bad_levels(province, tmp_path):
    data = tmp_path / "data"
    write_folder(province, data)
    path = tmp_path / "small.yaml"
    path.write_text(scenario(int(province.is_ntm.sum()) + 3).with_(data=str(data)).to_yaml(), encoding="utf-8")
    out = tmp_path / "curve"
    r = CliRunner().invoke(app, ["frontier", str(path), "--budget-scale", "0,1", "--out", str(out)])
    assert r.exit_code == 2
    assert "--budget-scale" in r.output
    assert not out.exists()
    r = CliRunner().invoke(app, ["frontier", str(path), "--budget-scale", "0.7,1.4", "--units", "none",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["levels"]) == 2
    assert summary["statement_vi"] in r.output
    assert (out / "frontier.csv").exists()
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["kind"] == "frontier"
