"""Invariants of optimal plans on random small instances (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntm_sim.model.instance import build_instance
from ntm_sim.model.plan import check, evaluate, make_plan
from ntm_sim.optimize import solve
from ntm_sim.optimize.baselines import RULES
from optimize_cases import make_case

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
cases = st.builds(
    lambda seed, carry, absorption, years, enforce: dict(
        seed=seed, carry_over=carry, absorption=absorption, n_years=years,
        enforce=("advanced", "min_criteria") if enforce else ()),
    st.integers(0, 10_000), st.booleans(), st.sampled_from([None, 45.0, 80.0]), st.sampled_from([2, 3]),
    st.booleans(),
)


def lex_key(inst, dec):
    """(−shortfall, communes, districts, tiers, criteria, earliness, −cost) of any plan."""
    o = evaluate(inst, dec)
    sc = inst.scenario
    t = inst.targets
    short = 0
    if "advanced" in sc.enforce:
        short += max(0, t.advanced - int(o.advanced.sum()))
    if "min_criteria" in sc.enforce:
        low = inst.base_criteria_met < t.min_criteria
        short += int(np.maximum(0, t.min_criteria - o.criteria_met_end[low]).sum())
    earliness = sum(int((o.commune_year_ntm[c] <= y) and o.commune_year_ntm[c] > 0)
                    for c in range(inst.n_communes) if not inst.base_ntm[c] for y in inst.years)
    return (-short, o.communes_ntm, int(o.district_unit.sum() + o.district_advanced.sum()),
            int(o.advanced.sum() + o.model.sum()), int((dec.proj_start >= 0).sum()), earliness,
            -round(o.total_cost, 3))


@SETTINGS
@given(cases)
def test_optimal_plan_respects_every_rule(params):
    case = make_case(**params)
    result = solve(case.ds, case.scenario)
    inst = result.instance
    dec = result.plan.decisions
    assert check(inst, dec) == []
    # budgets by source and year, recomputed from the funding table
    funding = result.plan.funding.groupby(["source", "year"])["amount_mvnd"].sum()
    for f, source in enumerate(inst.sources):
        spent = np.array([funding.get((source, int(y)), 0.0) for y in inst.years])
        if inst.carry_over:
            assert (np.cumsum(spent) <= np.cumsum(inst.budget[f]) + 1e-6).all()
        else:
            assert (spent <= inst.budget[f] + 1e-6).all()
    # a commune counts only when every criterion it missed is met by the horizon
    o = result.plan.outcomes
    done = (dec.proj_start >= 0) & (dec.proj_start + inst.proj_lead - 1 <= inst.horizon_end)
    for c in range(inst.n_communes):
        mine = inst.proj_commune == c
        assert (o.commune_year_ntm[c] > 0) == bool(done[mine].all()), c
    # the optimum is never worse than any baseline, in the scenario's own order
    best = lex_key(inst, dec)
    for name, plan in result.baselines.items():
        assert check(inst, plan.decisions) == [], name
        assert best >= lex_key(inst, plan.decisions), (name, best, lex_key(inst, plan.decisions))


@SETTINGS
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from([1.3, 2.0]))
def test_more_budget_never_gives_fewer_communes(seed, carry, factor):
    small = make_case(seed, carry_over=carry, n_years=3)
    large = make_case(seed, carry_over=carry, n_years=3, budget_scale=factor)
    a = solve(small.ds, small.scenario, baselines=False).plan.outcomes
    b = solve(large.ds, large.scenario, baselines=False).plan.outcomes
    assert b.communes_ntm >= a.communes_ntm
    # and with enforced targets, the whole lexicographic result never gets worse
    small_t = make_case(seed, carry_over=carry, n_years=3, enforce=("advanced", "min_criteria"))
    large_t = make_case(seed, carry_over=carry, n_years=3, enforce=("advanced", "min_criteria"),
                        budget_scale=factor)
    ra = solve(small_t.ds, small_t.scenario, baselines=False)
    rb = solve(large_t.ds, large_t.scenario, baselines=False)
    ka = lex_key(ra.instance, ra.plan.decisions)
    kb = lex_key(rb.instance, rb.plan.decisions)
    assert kb[:-1] >= ka[:-1]  # cost aside: more money may buy more of everything


@SETTINGS
@given(st.integers(0, 10_000), st.booleans())
def test_baselines_are_valid_plans(seed, carry):
    case = make_case(seed, carry_over=carry, n_years=3, n_communes=4)
    inst = build_instance(case.ds, case.scenario)
    for name, rule in RULES.items():
        dec = rule(inst)
        assert check(inst, dec) == [], name
        plan = make_plan(inst, dec, name)
        assert abs(plan.funding["amount_mvnd"].sum() - plan.outcomes.total_cost) < 1e-6


def test_jobs_asking_other_thread_counts_share_one_solver_process():
    """HiGHS keeps one thread scheduler per process and refuses a model asking another count; the solver
    processes are reused from job to job, so scenarios asking one thread, two, then the default
    must each be solved, in the guarded process and in this one."""
    case = make_case(7, n_years=3)
    plans = []
    for threads in (None, 1, 2, None):
        sc = case.scenario.with_(solver={**case.scenario.solver.model_dump(), "threads": threads})
        for guard in (True, False):
            result = solve(case.ds, sc, baselines=False, guard=guard)
            assert result.termination == "optimal", (threads, guard, result.stages)
            plans.append(lex_key(result.instance, result.plan.decisions))
    assert len(set(plans)) == 1
