"""Optimality against an independent exhaustive search on small instances."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm_sim.model.plan import check
from ntm_sim.optimize import solve
from optimize_cases import CRIT, _money_hall, _money_lp, brute_force, make_case, unit_without_advanced


def optimizer_key(result, scenario):
    by = {s.name: s.objective for s in result.stages}
    short = by.get("targets", 0.0)
    if scenario.mode == "min-cost":
        return (-round(short, 6), -round(by["cost"] / 1e-3, 3))
    key = [-round(short, 6)]
    for name in scenario.objective.order:
        v = by[name]
        key.append(-round(v / 1e-3, 3) if name == "cost" else round(v, 6))
    return tuple(key)


def close(a, b):
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-4) for x, y in zip(a, b, strict=True))


VARIANTS = {
    "carry": {},
    "no_carry": {"carry_over": False},
    "absorption": {"absorption": 45.0},
    "three_years": {"n_years": 3, "n_communes": 3},
    "enforced_targets": {"enforce": ("advanced", "min_criteria", "criterion_communes")},
    "no_tiers": {"tiers": False, "n_communes": 4},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("seed", range(4))
def test_max_achievement_matches_exhaustive_search(seed, variant):
    case = make_case(seed, **VARIANTS[variant])
    best = brute_force(case)
    result = solve(case.ds, case.scenario, baselines=False)
    assert result.proven_optimal, [s.termination for s in result.stages]
    assert close(optimizer_key(result, case.scenario), best["key"]), (optimizer_key(result, case.scenario), best)
    assert check(result.instance, result.plan.decisions) == []
    # the outcomes computed from the plan agree with the model's own counts
    o = result.plan.outcomes
    by = {s.name: s.objective for s in result.stages}
    assert o.communes_ntm == round(by["communes_ntm"])
    assert math.isclose(o.total_cost, by["cost"] / 1e-3, rel_tol=1e-6, abs_tol=1e-3)


@pytest.mark.parametrize("rule", ["decision_318", "unit_without_advanced"])
@pytest.mark.parametrize("seed", range(4))
def test_a_district_stage_without_a_tier_stage_matches_exhaustive_search(seed, rule):
    """The district stage buys what a unit needs (its project, its communes' tiers) with no tier stage (issue 18)."""
    crit = unit_without_advanced() if rule == "unit_without_advanced" else CRIT
    case = make_case(seed, crit=crit, budget_scale=2.0,
                     order=["communes_ntm", "district_units", "criteria_met", "earliness", "cost"])
    best = brute_force(case)
    result = solve(case.ds, case.scenario, baselines=False)
    assert result.proven_optimal
    assert close(optimizer_key(result, case.scenario), best["key"]), (optimizer_key(result, case.scenario), best)
    assert check(result.instance, result.plan.decisions) == []


@pytest.mark.parametrize("variant", ["carry", "no_carry", "absorption"])
@pytest.mark.parametrize("seed", range(4))
def test_min_cost_matches_exhaustive_search(seed, variant):
    case = make_case(seed, mode="min-cost", **VARIANTS[variant])
    best = brute_force(case)
    result = solve(case.ds, case.scenario, baselines=False)
    assert result.proven_optimal
    assert close(optimizer_key(result, case.scenario), best["key"]), (optimizer_key(result, case.scenario), best)
    assert math.isclose(float(result.funding_gap.sum()), best["gap"], rel_tol=1e-6, abs_tol=1e-3)
    assert check(result.instance, result.plan.decisions) == [] or best["gap"] > 0


def test_cbc_agrees_with_highs():
    case = make_case(2, n_years=3)
    best = brute_force(case)
    result = solve(case.ds, case.scenario, solver="cbc", baselines=False)
    assert result.solver == "cbc"
    assert close(optimizer_key(result, case.scenario), best["key"])


@pytest.mark.parametrize(("carry_over", "absorption", "budget_b"), [
    (False, None, (50.0, 50.0)),    # money cannot wait: one criterion each year
    (True, 50.0, (100.0, 0.0)),     # the commune absorbs 50 a year at most
])
def test_projects_spread_over_years_when_they_must(carry_over, absorption, budget_b):
    from optimize_cases import spread_case

    case = spread_case(carry_over=carry_over, absorption=absorption, budget_b=budget_b)
    best = brute_force(case)
    assert best["values"]["communes_ntm"] == 2  # the brute force finishes the commune in 2022
    result = solve(case.ds, case.scenario, baselines=False)
    assert close(optimizer_key(result, case.scenario), best["key"])
    assert result.plan.outcomes.communes_ntm == 2


def test_regression_stale_warm_start_solution():
    """HiGHS once returned the MIP start instead of a better root solution (found by hypothesis)."""
    case = make_case(136, carry_over=True, n_years=3, enforce=("advanced", "min_criteria"), budget_scale=1.3)
    best = brute_force(case)
    result = solve(case.ds, case.scenario, baselines=False)
    assert close(optimizer_key(result, case.scenario), best["key"])


_MONEY_CASE = make_case(0, n_years=3)
_NEED_KEYS = [(frozenset(e), t) for e in ({"a", "b"}, {"b"}, {"a"}) for t in range(3)]


@settings(max_examples=150, deadline=None)
@given(amounts=st.lists(st.one_of(st.just(0.0), st.floats(0, 100)), min_size=9, max_size=9), carry=st.booleans(),
       scale=st.floats(0.05, 2.0))
def test_the_oracles_money_check_equals_its_lp(amounts, carry, scale):
    """The brute force pays needs by Gale's condition instead of an LP: the two agree (the oracle's own check)."""
    case = _MONEY_CASE
    needs = {k: a * scale for k, a in zip(_NEED_KEYS, amounts, strict=True) if a * scale > 1e-9}
    keys = sorted(needs, key=lambda k: (sorted(k[0]), k[1]))
    if not keys:
        return
    assert _money_hall(case, keys, needs, carry) == _money_lp(case, keys, needs, carry, False)[0]
