"""Simulation orchestration, Dask scale-out and the robustness analysis."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ntm_sim.analysis import discover, prim, regret, sensitivity, target_probabilities
from ntm_sim.cli import app
from ntm_sim.model.instance import build_instance
from ntm_sim.model.plan import make_plan
from ntm_sim.model.scenario import load_scenario
from ntm_sim.model.uncertainty import Range
from ntm_sim.optimize.baselines import RULES
from ntm_sim.simulate import UncertaintySettings, sample_experiments, simulate
from test_optimize_laocai import BASELINE

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts


@pytest.fixture(scope="module")
def laocai_plans(lao_cai):
    inst = build_instance(lao_cai, load_scenario(BASELINE))
    return inst, {name: make_plan(inst, rule(inst), name).decisions for name, rule in RULES.items()}


def test_prim_finds_the_failure_region():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(4000), "b": rng.random(4000), "c": rng.random(4000)})
    y = (x["a"] > 0.7) & (x["b"] < 0.4)
    boxes = prim(x, y.to_numpy())
    best = max(boxes, key=lambda b: b.density * b.coverage)
    assert best.density > 0.8
    assert best.coverage > 0.7
    assert best.limits["a"][0] > 0.6
    assert best.limits["b"][1] < 0.5
    assert best.limits["c"] == (x["c"].min(), x["c"].max()) or best.limits["c"][1] - best.limits["c"][0] > 0.7


def test_sensitivity_ranks_the_parameter_that_matters(laocai_plans):
    inst, plans = laocai_plans
    s = UncertaintySettings.none().model_copy(update={"overrun_median": Range(low=1.0, high=1.6),
                                                      "slip_multiplier": Range(low=0.0, high=0.0)})
    s = s.model_copy(update={"disaster_rate": Range(low=0.0, high=0.2)})
    res = simulate(inst, {"p": plans["planners_rule"]}, s, n_draws=1500, seed=3, sampler="lhs")
    table = sensitivity(res, "p")
    assert table.index[0] == "overrun_median"
    assert table.loc["overrun_median", "spearman"] < -0.5  # more overrun, fewer communes


def test_regret_and_probabilities_on_common_random_numbers(laocai_plans):
    inst, plans = laocai_plans
    res = simulate(inst, plans, n_draws=1000, seed=5)
    reg = regret(res)
    assert (reg["mean_regret"] >= 0).all()
    assert reg["share_best"].max() > 0
    # common random numbers: plans that differ little differ little in each draw
    diff = res.outcomes["planners_rule"]["communes_ntm"] - res.outcomes["cheapest_first"]["communes_ntm"]
    assert np.abs(diff).mean() < 3
    probs = target_probabilities(res, "planners_rule")
    assert set(probs) >= {"communes_ntm", "advanced", "model", "all_targets"}
    assert all(0 <= v <= 1 for v in probs.values())
    d = discover(res, "planners_rule")
    assert d.text_vi
    assert d.text_en
    assert 0 < d.failure_rate < 1


@pytest.mark.parametrize("sampler", ["mc", "lhs", "sobol"])
def test_samplers_are_seeded_and_inside_their_ranges(sampler):
    s = UncertaintySettings()
    a = sample_experiments(s, 512, sampler, seed=9)
    b = sample_experiments(s, 512, sampler, seed=9)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(sample_experiments(s, 512, sampler, seed=10))
    for name, r in s.ranges().items():
        assert a[name].between(r.low, r.high).all()


def test_dask_local_cluster_gives_the_local_numbers(laocai_plans):
    pytest.importorskip("dask.distributed")
    inst, plans = laocai_plans
    some = {k: plans[k] for k in ("planners_rule", "d07_shareout")}
    local = simulate(inst, some, n_draws=2500, seed=11, sampler="lhs")
    dist = simulate(inst, some, n_draws=2500, seed=11, sampler="lhs", scheduler="local")
    pd.testing.assert_frame_equal(local.experiments, dist.experiments)
    for plan in some:
        for name, arr in local.outcomes[plan].items():
            np.testing.assert_array_equal(arr, dist.outcomes[plan][name], err_msg=f"{plan}.{name}")


@pytest.mark.xdist_group("cli_run")
def test_cli_simulate_with_a_saved_plan(tmp_path, quick_cli_run):
    res = quick_cli_run
    out = tmp_path / "sim"
    r = CliRunner().invoke(app, ["simulate", str(BASELINE), "--plan", str(res), "--draws", "1200", "--seed", "4",
                                 "--sampler", "sobol", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "xã NTM bình quân" in r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    solved = json.loads((res / "summary.json").read_text(encoding="utf-8"))
    beside = {"deterministic", "planners_rule", "cheapest_first", "d07_shareout"} - {solved["recommendation"]["chosen"]}
    assert set(summary["plans"]) == {"recommended", *beside}
    assert summary["draws"] == 1200
    assert summary["seed"] == 4
    opt = summary["plans"]["recommended"]
    assert 0 <= opt["target_probabilities"]["communes_ntm"] <= 1
    experiments = pd.read_csv(out / "experiments.csv")
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert len(experiments) == 1200
    assert len(outcomes) == (1 + len(beside)) * 1200
    communes = pd.read_csv(out / "communes.csv")
    assert communes["p_ntm_2025"].between(0, 1).all()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 4
    assert manifest["kind"] == "simulate"
    # the saved plan is simulated with its own money split: zero uncertainty gives the solve's numbers
    solved = json.loads((res / "summary.json").read_text(encoding="utf-8"))
    inst = build_instance(__import__("ntm_sim.data.registry", fromlist=["x"]).load_dataset("lao_cai"),
                          load_scenario(BASELINE))
    from ntm_sim.run.results import load_plans

    plans = load_plans(inst, res)
    n_reserve = int(solved["recommendation"]["reserve_projects"])
    if solved["recommendation"]["chosen_kind"] == "expected" and n_reserve:
        assert plans["recommended"].reserve is not None  # the reserve list is read back
        assert int(plans["recommended"].reserve.sum()) == n_reserve
    else:  # no reserve list (the calibrated data's quick search chooses none): none is read back
        assert plans["recommended"].reserve is None or not plans["recommended"].reserve.any()
    zero = simulate(inst, {"recommended": plans["recommended"]}, UncertaintySettings.none(), n_draws=3, seed=0)
    paper = solved["headline"]["outcomes"]["communes_ntm"]["deterministic"]
    assert zero.outcomes["recommended"]["communes_ntm"].tolist() == [paper] * 3
    # and with the solve's own seed and draws, the saved plans give the solve's simulation back
    again = tmp_path / "again"
    draws = str(solved["headline"]["draws"])
    r = CliRunner().invoke(app, ["simulate", str(res.parent / "baseline_quick.yaml"), "--plan", str(res),
                                 "--draws", draws, "--seed", "0", "--out", str(again)])
    assert r.exit_code == 0, r.output
    first = pd.read_csv(res / "simulation" / "outcomes.csv")
    second = pd.read_csv(again / "outcomes.csv")
    cols = ["plan", "draw", "communes_ntm", "advanced", "model"]
    pd.testing.assert_frame_equal(first[cols].sort_values(["plan", "draw"]).reset_index(drop=True),
                                  second[cols].sort_values(["plan", "draw"]).reset_index(drop=True))


def test_cli_simulate_rejects_a_plan_made_for_other_data(tmp_path):
    folder = tmp_path / "fake"
    folder.mkdir()
    (folder / "projects.csv").write_text("project_id,kind,commune_code,district_code,criterion,start_year,"
                                         "end_year,quantity,cost_mvnd,priority\n", encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"data": {"hash": "0" * 64}}), encoding="utf-8")
    out = tmp_path / "sim"
    r = CliRunner().invoke(app, ["simulate", str(BASELINE), "--plan", str(folder), "--draws", "10", "--out", str(out)])
    assert r.exit_code == 2
    assert "other data" in r.output
    assert not out.exists()
