"""One home for targets: a plan on paper and the same plan in a world without uncertainty are judged alike."""

from __future__ import annotations

import numpy as np

from ntm_sim.model.targets import TOLERANCE, Target, enforced_names, targets_of
from ntm_sim.run.results import targets_report
from ntm_sim.simulate import UncertaintySettings, simulate


def test_paper_and_zero_uncertainty_agree_on_every_target(baseline_solved):
    result = baseline_solved
    inst = result.instance
    plans = {"optimum": result.plan, **result.baselines}
    sim = simulate(inst, {n: p.decisions for n, p in plans.items()}, UncertaintySettings.none(), n_draws=3, seed=0)
    keys = [t.key for t in targets_of(inst)]
    assert len(keys) == len(set(keys)) > 10
    for name, plan in plans.items():
        paper = targets_report(result, plan)
        drawn = sim.target_success(name)
        assert list(paper) == keys == [k for k in drawn if k != "all_targets"]
        for key in keys:
            assert drawn[key].all() == drawn[key].any() == paper[key]["met"], (name, key)


def test_a_target_is_met_within_the_tolerance_only():
    avg = Target("avg_criteria", "avg_criteria", 17.3, True)
    assert avg.met(17.3)
    assert avg.met(17.3 - TOLERANCE / 2)
    assert not avg.met(17.2996)  # shown as 17.3 with three decimals: still not met
    assert list(avg.met(np.array([17.4, 17.29]))) == [True, False]


def test_enforced_targets_by_mode(baseline_solved):
    sc = baseline_solved.instance.scenario
    assert enforced_names(sc) == set(sc.enforce)
    assert enforced_names(sc, "min-cost") == set(sc.targets.named())
    assert "communes_ntm" not in enforced_names(sc)
    flags = {t.key: t.enforced for t in targets_of(baseline_solved.instance)}
    assert flags["communes_ntm"] is False
    assert flags["min_criteria"] is True
    assert all(t.enforced for t in targets_of(baseline_solved.instance, "min-cost"))
