"""The robust plan: a buffer tuned on training draws, judged on fresh draws."""

from __future__ import annotations

from ntm_sim.analysis.robust_plan import robust_plan
from ntm_sim.scenario import load_scenario
from test_optimize_laocai import BASELINE


def test_robust_plan_is_tuned_then_judged_on_fresh_draws(lao_cai):
    sc = load_scenario(BASELINE).with_(objective={"order": ["communes_ntm", "cost"]},
                                       solver={"time_limit_s": 20, "tiebreak_time_limit_s": 5})
    r = robust_plan(lao_cai, sc, buffers=(0.0, 0.1), n_train=400, n_test=400, seed=2, time_limit=20)
    assert list(r.training.index) == [0.0, 0.1]
    # a buffer plans fewer communes on paper
    assert r.training.loc[0.1, "planned_communes"] <= r.training.loc[0.0, "planned_communes"]
    assert r.buffer in (0.0, 0.1)
    assert set(r.fresh.index) == {"deterministic", "robust"}
    # judged on draws other than the training ones
    assert r.fresh_result.seed != 2
    best = r.training.sort_values(["mean_communes"], ascending=False).index[0]
    if r.criterion == "mean":
        assert r.buffer == best
