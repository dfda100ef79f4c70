"""A search that spends its draws wisely, and a budget curve from one search (issue 21).

* The first draws of a run, simulated alone (a screen), are those draws of the full run;
  random numbers kept in a :class:`DrawCache` give the same numbers as drawn afresh.
* The race: every candidate is screened on the first training draws, only finalists get
  all of them and the fresh draws; the recommendation is the one a search without the
  screen makes.
* Solves start from a plan offered to them (a budget level's neighbour) when it is the best
  start, and never from one that breaks the model's rules.
* A budget curve computes the communes' success chances once for all its levels, and each
  level's solves are offered the plans of the level below.
"""

from __future__ import annotations

import numpy as np
import pytest

import ntm_sim.analysis.recommend as recommend_module
import ntm_sim.simulate as simulate_module
from ntm_sim.analysis.frontier import frontier
from ntm_sim.analysis.recommend import DETERMINISTIC, SearchDraws, recommend
from ntm_sim.data.synthetic import national_dataset
from ntm_sim.model.instance import build_instance
from ntm_sim.model.plan import make_plan
from ntm_sim.model.scenario import Scenario
from ntm_sim.optimize import solve
from ntm_sim.optimize.baselines import RULES
from ntm_sim.simulate import BLOCK, DrawCache, simulate
from test_simulate_reference import STRONG

# one worker: the module's costly fixture is built once, not once per worker
pytestmark = pytest.mark.xdist_group("search_draws")

SMALL = {"reserves": [0.0, 0.2], "expected_money": True, "weight_draws": 200, "train_draws": 1000,
         "test_draws": 300}


@pytest.fixture(scope="module")
def province():
    return national_dataset(n_provinces=1, n_communes=60, seed=8)


def scenario(province, **robustness: object) -> Scenario:
    return Scenario.model_validate({"name": "small", "years": (2021, 2025),
                                    "targets": {"communes_ntm": int(province.is_ntm.sum()) + 6},
                                    "robustness": {**SMALL, **robustness}})


@pytest.fixture(scope="module")
def rule_plans(province):
    inst = build_instance(province, scenario(province))
    return inst, {name: make_plan(inst, rule(inst), name).decisions for name, rule in RULES.items()}


def test_a_screen_is_the_first_draws_of_the_full_run(rule_plans):
    inst, plans = rule_plans
    n = BLOCK + 400
    full = simulate(inst, plans, STRONG, n_draws=n, seed=5)
    cache = DrawCache()
    for first in (120, BLOCK, BLOCK + 150):
        screen = simulate(inst, plans, STRONG, n_draws=n, seed=5, first=first, draws=cache)
        assert screen.n_draws == first
        assert screen.experiments.equals(full.experiments.iloc[:first])
        for plan in plans:
            for name in ("ntm_by_year", "criterion_communes", "slipped_projects", "recognised_by_year"):
                assert np.array_equal(screen.outcomes[plan][name], full.outcomes[plan][name][:first]), (first, name)
            np.testing.assert_allclose(screen.outcomes[plan]["spent"], full.outcomes[plan]["spent"][:first],
                                       rtol=1e-9)
    # kept random numbers give the very same run as numbers drawn afresh
    again = simulate(inst, plans, STRONG, n_draws=n, seed=5, draws=cache)
    for plan in plans:
        for name, value in full.outcomes[plan].items():
            assert np.array_equal(value, again.outcomes[plan][name]), (plan, name)


def test_the_race_recommends_what_the_full_search_recommends(province, monkeypatch):
    sc = scenario(province)
    raced = recommend(province, sc, seed=4)
    t = raced.training
    screened_out = t[~t["finalist"]]
    assert len(screened_out), t  # the screen dropped someone: the race has teeth
    assert (screened_out["draws"] == recommend_module.SCREEN_DRAWS).all()
    assert screened_out["score"].isna().all()
    assert (t.loc[t["finalist"], "draws"] == sc.robustness.train_draws).all()
    # only finalists, the optimum on paper and the rules are judged on fresh draws
    judged = set(raced.fresh.plans)
    assert judged == set(t.index[t["finalist"]]) | {DETERMINISTIC, *RULES}
    assert raced.chosen in set(t.index[t["finalist"]])
    # without the screen (every candidate on every training draw): the same plan, the same odds
    monkeypatch.setattr(recommend_module, "SCREEN_DRAWS", sc.robustness.train_draws)
    full = recommend(province, sc, seed=4)
    assert full.training["finalist"].all()
    assert full.chosen == raced.chosen
    for name in raced.fresh.plans:
        assert np.array_equal(full.fresh.outcomes[name]["communes_ntm"], raced.fresh.outcomes[name]["communes_ntm"])
    finalists = t.index[t["finalist"]]
    assert full.training.loc[finalists, "score"].equals(t.loc[finalists, "score"])


def test_a_solve_starts_from_a_plan_offered_when_it_is_the_best(province):
    sc = scenario(province)
    optimum = solve(province, sc, baselines=True)
    again = solve(province, sc, baselines=True, starts={"neighbour": optimum.plan.decisions})
    assert again.warm_start == "neighbour"  # better than every rule on the stages' values
    assert again.plan.outcomes.communes_ntm == optimum.plan.outcomes.communes_ntm
    # a plan made with twice the money breaks this model's budget rows: never offered
    rich = solve(province, sc.with_(budget={**sc.budget.model_dump(), "scale": 2.0}), baselines=False)
    assert rich.plan.outcomes.communes_ntm > optimum.plan.outcomes.communes_ntm
    offered = solve(province, sc, baselines=True, starts={"rich": rich.plan.decisions})
    assert offered.warm_start in RULES


def test_a_budget_curve_is_one_search(province, monkeypatch):
    weights_made: list[int] = []
    real_weights = recommend_module.success_weights
    monkeypatch.setattr(recommend_module, "success_weights",
                        lambda *a, **k: weights_made.append(1) or real_weights(*a, **k))
    offered: list[tuple[str, set[str]]] = []
    real_recommend = recommend_module.recommend

    def recording(ds, sc, **kwargs):
        offered.append((sc.name, set(kwargs.get("starts") or {})))
        assert isinstance(kwargs.get("shared"), SearchDraws)
        return real_recommend(ds, sc, **kwargs)

    monkeypatch.setattr(recommend_module, "recommend", recording)
    drawn: list[tuple[int, int]] = []
    real_block = simulate_module.draw_block
    monkeypatch.setattr(simulate_module, "draw_block",
                        lambda inst, n, seed: drawn.append((n, int(seed.entropy[0]))) or real_block(inst, n, seed))
    sc = scenario(province, reserves=[0.0], expected_money=False, train_draws=200)
    f = frontier(province, sc, (0.6, 0.8, 1.0, 1.3), seed=2)
    assert len(f.table) == 4
    assert len(weights_made) == 1  # the communes' chances do not depend on the money
    # two chains of neighbours: the second level of each starts from the first's candidates
    starts = dict(offered)
    assert starts["small_x060"] == set()
    assert starts["small_x100"] == set()
    assert starts["small_x080"] == starts["small_x130"] == {DETERMINISTIC, "expected_r00"}
    # each stream of draws drawn once for the whole curve: the chances', the training and the fresh draws
    assert len(drawn) == len(set(drawn)) == 3


def test_the_scenarios_own_money_is_the_runs_own_search(province, monkeypatch):
    """The curve's row at × 1 is the plan and the odds the run itself recommends (no neighbour's start there)."""
    offered: dict[str, set[str]] = {}
    real_recommend = recommend_module.recommend

    def recording(ds, sc, **kwargs):
        offered[sc.name] = set(kwargs.get("starts") or {})
        return real_recommend(ds, sc, **kwargs)

    sc = scenario(province, reserves=[0.0], expected_money=False, train_draws=200)
    with monkeypatch.context() as patch:
        patch.setattr(recommend_module, "recommend", recording)
        f = frontier(province, sc, (0.6, 0.8, 1.0, 1.3, 1.6, 2.0), seed=2)  # chains 0.6 → 0.8 → 1.0, 1.3 → …
    assert offered["small_x080"] == {DETERMINISTIC, "expected_r00"}  # neighbours still start each other
    assert offered["small_x100"] == set()  # the scenario's own money: as the run searches it
    own = real_recommend(province, sc, seed=2)
    row = f.table.set_index("scale").loc[1.0]
    assert row["plan"] == own.chosen
    assert row["mean"] == float(own.fresh.outcomes[own.chosen]["communes_ntm"].astype(float).mean())
