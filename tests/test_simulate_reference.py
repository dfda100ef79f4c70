"""The Monte Carlo engine against an independent slow reference, and its basic properties.

* Every per-draw outcome of the engine equals the plain-loop reference in
  ``reference_sim.py`` on the same random numbers (integers exactly, money to 1e-9).
* Zero uncertainty reproduces the deterministic evaluation of the plan exactly.
* More overrun never raises the probability of reaching a number of NTM communes.
* Same seed, same numbers, however the draws are split into blocks; samplers stay in
  their ranges.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ntm_sim.model.instance import Instance, build_instance
from ntm_sim.model.plan import (
    Decisions,
    allocate_flows,
    class_spend,
    counted_by_year,
    evaluate,
    kept_on_paper,
    make_plan,
)
from ntm_sim.optimize import solve
from ntm_sim.optimize.baselines import RULES
from ntm_sim.simulate import BLOCK, _run_block, sample_experiments, simulate
from ntm_sim.simulate.blocks import BlockOutcomes, draw_block
from ntm_sim.simulate.engine import Engine
from ntm_sim.simulate.settings import Range, UncertaintySettings
from optimize_cases import INFRA, make_case
from reference_sim import Events, reference_run

# one worker: the module's costly fixture is built once, not once per worker
pytestmark = pytest.mark.xdist_group("simulate_reference")

ROOT = Path(__file__).resolve().parents[1]

# strong enough that money runs short, projects slip, are late or fail, criteria fall
# back and disasters strike in most draws, yet outcomes still vary between draws
STRONG = UncertaintySettings(
    overrun_median=Range(low=0.9, high=1.7), disbursement_mean=Range(low=0.5, high=1.0),
    delay_multiplier=Range(low=1.0, high=4.0), slip_multiplier=Range(low=1.0, high=6.0),
    disaster_rate=Range(low=0.1, high=0.5), disaster_damage=Range(low=0.2, high=0.8),
    overrun_sigma={"infrastructure": 0.4, "development": 0.3, "governance": 0.2, "upgrade": 0.3},
    overrun_district_correlation=0.3, disbursement_sd=0.2,
    failure_probability={"development": 0.15, "infrastructure": 0.05, "TC10": 0.3},
    slip_probability={"infrastructure": 0.002, "development": 0.005, "governance": 0.002, "TC10": 0.02},
    recovery_probability=0.5, disaster_recovery_probability=0.4,
    disbursement_kind_factor={"investment": 0.9, "recurrent": 0.5}, disbursement_year_factor={2022: 0.7},
    disaster_district_share=0.7, disaster_money_share=0.6, threshold_zone3_factor=2.0, threshold_gap_factor=3.0,
    revocation_probability=0.5,
)
# the edges: probabilities at their caps, certain or impossible recovery, disbursement
# clipped at 0 and 1, no district correlation
EXTREME = UncertaintySettings(
    overrun_median=Range(low=0.5, high=2.5), disbursement_mean=Range(low=0.0, high=1.2),
    delay_multiplier=Range(low=0.0, high=12.0), slip_multiplier=Range(low=0.0, high=300.0),
    disaster_rate=Range(low=0.0, high=1.0), disaster_damage=Range(low=0.0, high=1.0),
    overrun_district_correlation=0.0, disbursement_sd=0.5,
    failure_probability={"infrastructure": 0.5, "development": 1.0},
    recovery_probability=1.0, disaster_recovery_probability=0.0,
    disbursement_kind_factor={"investment": 1.5, "recurrent": 0.0}, disaster_years={2021: 1.0, 2023: 0.0},
    disaster_district_share=1.0, disaster_money_share=1.0, revocation_probability=1.0,
)
SETTINGS = {"default": UncertaintySettings(), "strong": STRONG, "extreme": EXTREME,
            "disaster_2024": UncertaintySettings.named("disaster_2024")}

SMALL_CASES = {
    "carry": {"seed": 0},
    "no_carry": {"seed": 1, "carry_over": False},
    "three_years": {"seed": 2, "n_years": 3},
    "absorption": {"seed": 3, "absorption": 45.0},
    "no_tiers": {"seed": 4, "tiers": False, "n_communes": 4},
    "four_years_no_carry": {"seed": 5, "n_years": 4, "n_communes": 4, "carry_over": False},
}
# counts, flags and the average of counts: exactly equal
EXACT_OUTCOMES = ("ntm_by_year", "advanced", "model", "district_units", "district_advanced", "villages_ntm",
                "villages_model", "avg_criteria", "min_criteria", "below_floor", "criterion_communes",
                "slipped_projects", "unfinished_projects", "reserve_funded", "commune_ntm_count",
                "recognised_by_year", "meeting_by_year", "criteria_by_year", "advanced_by_year", "advanced_criteria",
                "start_recognised")
MONEY_OUTCOMES = ("spent", "unspent", "recovery")


# ----- helpers ---------------------------------------------------------------------------------

def block_inputs(inst: Instance, settings: UncertaintySettings, n: int, seed: int) -> tuple[dict, object]:
    """Experiment parameters and block randoms, as ``simulate`` makes them for block 0."""
    exp = sample_experiments(settings, n, "mc", seed)
    params = {name: exp[name].to_numpy() for name in settings.PARAMETERS}
    return params, draw_block(inst, n, np.random.SeedSequence([seed, 1, 0]))


def assert_same(engine: BlockOutcomes, ref: dict[str, np.ndarray], money_scale: float, label: str) -> None:
    """Every outcome equal: counts exactly, money to 1e-9 relative."""
    for name in EXACT_OUTCOMES:
        got, want = np.asarray(getattr(engine, name)), ref[name]
        assert got.shape == want.shape, (label, name, got.shape, want.shape)
        if not np.array_equal(got, want):
            bad = np.flatnonzero((got != want).reshape(len(got), -1).any(axis=1))
            raise AssertionError(f"{label}: {name} differs in {len(bad)} rows, first {bad[0]}: "
                                 f"engine {got[bad[0]]}, reference {want[bad[0]]}")
    for name in MONEY_OUTCOMES:
        got, want = np.asarray(getattr(engine, name)), ref[name]
        # round-off on sums of up to the whole budget: relative to the money in play
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * money_scale, err_msg=f"{label}: {name}")


def check_against_reference(inst: Instance, dec: Decisions, settings: UncertaintySettings, n: int, seed: int,
                            label: str, events: Events | None = None) -> dict[str, np.ndarray]:
    params, rnd = block_inputs(inst, settings, n, seed)
    engine = Engine(inst, dec, settings).run(params, rnd)
    # the reference takes the plan's flows as given; a plan without them gets the engine's own allocation
    ref = reference_run(inst, dec if dec.flows is not None else with_flows(inst, dec), settings, params, rnd, events)
    assert_same(engine, ref, inst.total_budget, label)
    if inst.carry_over:
        # with carry-over no money lapses: what is not spent is still there at the horizon
        np.testing.assert_allclose(ref["spent"] + ref["unspent"], inst.total_budget, rtol=1e-9)
    return ref


def with_flows(inst: Instance, dec: Decisions) -> Decisions:
    dec = dec.copy()
    dec.flows = allocate_flows(inst, class_spend(inst, dec))[0]
    return dec


def assert_reproduces_plan(inst: Instance, dec: Decisions, label: str, n: int = 4) -> None:
    """Zero uncertainty: every draw gives exactly the deterministic outcomes of the plan."""
    none = UncertaintySettings.none()
    params, rnd = block_inputs(inst, none, n, seed=5)
    o = Engine(inst, dec, none).run(params, rnd)
    e = evaluate(inst, dec)
    assert (o.ntm_by_year == e.ntm_by_year[None, :]).all(), (label, o.ntm_by_year[0], e.ntm_by_year)
    assert (o.advanced == e.advanced.sum()).all(), label
    assert (o.model == e.model.sum()).all(), label
    assert (o.district_units == e.district_unit[None, :]).all(), label
    assert (o.district_advanced == e.district_advanced[None, :]).all(), label
    assert (o.villages_ntm == e.villages_ntm_new).all(), label
    assert (o.villages_model == e.villages_model_new).all(), label
    assert (o.criterion_communes == e.criterion_communes[None, :]).all(), label
    assert (o.avg_criteria == e.avg_criteria).all(), label
    assert (o.min_criteria == e.criteria_met_end.min()).all(), label
    assert (o.below_floor == e.floor_violations(inst.targets.min_criteria)).all(), label
    # each commune counted as the scenario counts (recognised by default) in every draw, as on paper
    done_year = np.where(dec.proj_start >= 0, dec.proj_start + inst.proj_lead - 1, 10**6)
    commune_year = np.where(e.commune_year_ntm > 0, e.commune_year_ntm, 10**6)
    counted = counted_by_year(inst, kept_on_paper(inst, done_year), commune_year)
    assert np.array_equal(o.commune_ntm_count, n * counted.astype(int)), label
    assert (o.meeting_by_year == e.meeting_by_year[None, :]).all(), label
    np.testing.assert_allclose(o.spent, e.total_cost, rtol=1e-9, err_msg=label)
    assert (o.slipped_projects == 0).all(), label
    assert (o.unfinished_projects == 0).all(), label


# ----- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_plans() -> dict[str, tuple[Instance, dict[str, Decisions]]]:
    """Each small case with the optimizer's plan and the baselines."""
    out = {}
    for name, kw in SMALL_CASES.items():
        kw = dict(kw)
        case = make_case(kw.pop("seed"), **kw)
        result = solve(case.ds, case.scenario, baselines=True)
        plans = {"optimum": result.plan.decisions, **{k: p.decisions for k, p in result.baselines.items()}}
        out[name] = (result.instance, plans)
    return out


@pytest.fixture(scope="module")
def lao_cai_plans(baseline_solved) -> tuple[Instance, dict[str, Decisions]]:
    """Lào Cai, baseline scenario: the optimizer's plan and the baselines."""
    result = baseline_solved
    plans = {"optimum": result.plan.decisions, **{k: p.decisions for k, p in result.baselines.items()}}
    return result.instance, plans


# ----- the engine against the reference ------------------------------------------------------------

@pytest.mark.parametrize("settings_name", list(SETTINGS))
@pytest.mark.parametrize("case_name", list(SMALL_CASES))
def test_engine_equals_reference_on_small_cases(small_plans, case_name, settings_name):
    inst, plans = small_plans[case_name]
    settings = SETTINGS[settings_name]
    events = Events()
    for plan, dec in plans.items():
        check_against_reference(inst, dec, settings, n=300, seed=17, label=f"{case_name}/{plan}/{settings_name}",
                                events=events)
    if settings_name == "strong":
        # the comparison means something only if every mechanism was at work
        happened = events.counts
        for event in ("short_money", "top_up", "class_stopped", "never_started", "delay", "failure", "slip",
                      "disaster_loss", "backlog"):
            assert happened[event] > 0, (case_name, event, happened)
        assert (happened["lapsed_money"] > 0) == (not inst.carry_over), happened


def test_strong_settings_exercise_slipped_starts(small_plans):
    """Some project starts later than planned yet still starts (not only never)."""
    events = Events()
    for inst, plans in small_plans.values():
        for dec in plans.values():
            check_against_reference(inst, dec, STRONG, n=300, seed=17, label="slip", events=events)
    assert events.counts["slipped_start"] > 0, events.counts


def test_strong_outcomes_vary(small_plans):
    """The strong settings do not make every draw fail: outcomes spread."""
    inst, plans = small_plans["three_years"]
    ref = check_against_reference(inst, plans["optimum"], STRONG, n=300, seed=3, label="spread")
    assert len(np.unique(ref["ntm_by_year"][:, -1])) >= 3
    assert 0 < (ref["slipped_projects"] > 0).mean() < 1


@pytest.mark.parametrize("settings_name", ["default", "strong"])
def test_engine_equals_reference_on_lao_cai(lao_cai_plans, settings_name):
    """Many sources, classes, districts, villages and district units."""
    inst, plans = lao_cai_plans
    for plan in ("optimum", "planners_rule"):
        check_against_reference(inst, plans[plan], SETTINGS[settings_name], n=30, seed=23,
                                label=f"lao_cai/{plan}/{settings_name}")


def test_engine_equals_reference_with_villages_and_district_items(small_plans):
    """Items the small plans lack: villages in several years, district projects, every tier."""
    base, plans = small_plans["four_years_no_carry"]
    varied: dict[str, bool] = {}
    # money short (×2) and ample (×4): together every kind of item is done in some draws and missed in others
    for money in (2, 4):
        inst = replace(base, villages=np.full(base.n_communes, 6), village_ntm_cost=np.full(base.n_communes, 7.0),
                       village_model_cost=np.full(base.n_communes, 4.0), budget=base.budget * money)
        dec = plans["optimum"].copy()
        years = [int(y) for y in inst.years]
        dec.proj_start[dec.proj_start < 0] = years[1]
        dec.village_ntm[:, :] = 0
        dec.village_ntm[0, 0], dec.village_ntm[0, 2], dec.village_ntm[1, 1] = 2, 1, 3
        dec.village_model[0, 3] = 1
        dec.adv_start[:] = years[0]
        dec.model_start[:2] = years[1]
        dec.district_start[:] = years[1]
        dec.district_adv_start[:] = years[2]
        dec = with_flows(inst, dec)
        for name, settings in SETTINGS.items():
            ref = check_against_reference(inst, dec, settings, n=300, seed=29, label=f"villages/{money}/{name}")
            if name == "default":
                for outcome in ("district_units", "district_advanced", "model", "villages_ntm", "villages_model"):
                    values = ref[outcome].sum(axis=1) if ref[outcome].ndim == 2 else ref[outcome]
                    varied[outcome] = varied.get(outcome, False) or bool(0 < values.mean() < values.max())
    assert all(varied.values()), varied


@pytest.mark.parametrize("case_name", ["carry", "no_carry", "three_years"])
def test_engine_equals_reference_with_a_reserve_list(small_plans, case_name):
    """A plan that schedules part of its projects and keeps the rest on its reserve list."""
    inst, plans = small_plans[case_name]
    inst = replace(inst, budget=inst.budget * 1.5)
    dec = plans["optimum"].copy()
    scheduled = np.flatnonzero(dec.proj_start >= 0)
    # the last commune's scheduled projects, and everything unfunded, go on the reserve list
    moved = scheduled[inst.proj_commune[scheduled] == inst.proj_commune[scheduled].max()]
    dec.proj_start[moved] = -1
    dec.reserve = dec.proj_start < 0
    dec = with_flows(inst, dec)
    funded = []
    for name, settings in SETTINGS.items():
        ref = check_against_reference(inst, dec, settings, n=300, seed=31, label=f"reserve/{case_name}/{name}")
        funded.append(ref["reserve_funded"])
    # the reserve list is used in some draws and not in others
    assert any(0 < f.mean() < f.max() for f in funded), [f.mean() for f in funded]


def test_a_reserve_list_uses_only_money_the_plan_leaves():
    """With no uncertainty, a reserve list changes nothing the plan does, and spends only what it leaves."""
    case = make_case(1)
    r = solve(case.ds, case.scenario, baselines=False)
    inst = replace(r.instance, budget=r.instance.budget * 3)
    dec = with_flows(inst, r.plan.decisions)
    listed = dec.copy()
    listed.reserve = dec.proj_start < 0
    none = UncertaintySettings.none()
    params, rnd = block_inputs(inst, none, 3, seed=5)
    plain = Engine(inst, dec, none).run(params, rnd)
    with_list = Engine(inst, listed, none).run(params, rnd)
    assert (with_list.slipped_projects == 0).all()
    assert (with_list.unfinished_projects == 0).all()
    assert (with_list.reserve_funded == listed.reserve.sum()).all()
    assert (with_list.ntm_by_year >= plain.ntm_by_year).all()
    assert (with_list.spent > plain.spent).all()
    assert (with_list.spent <= inst.total_budget + 1e-6).all()


# ----- zero uncertainty reproduces the plan ----------------------------------------------------------

@pytest.mark.parametrize("case_name", list(SMALL_CASES))
def test_zero_uncertainty_reproduces_plan_on_small_cases(small_plans, case_name):
    inst, plans = small_plans[case_name]
    for plan, dec in plans.items():
        assert_reproduces_plan(inst, dec, f"{case_name}/{plan}")


def test_zero_uncertainty_reproduces_plan_on_lao_cai(lao_cai_plans):
    inst, plans = lao_cai_plans
    assert set(plans) == {"optimum", *RULES}
    for plan, dec in plans.items():
        assert_reproduces_plan(inst, dec, f"lao_cai/{plan}")
    # the public entry point gives the same
    result = simulate(inst, plans, UncertaintySettings.none(), n_draws=3, seed=2)
    for plan, dec in plans.items():
        e = evaluate(inst, dec)
        assert (result.outcomes[plan]["communes_ntm"] == e.communes_ntm).all()
        assert (result.outcomes[plan]["district_units"] == e.district_unit.sum()).all()


def replan_case(tmp_path: Path) -> Instance:
    """A re-plan from the second year with a two-year project started in the first year."""
    case = make_case(0, n_years=3)
    under_way = [(c, k) for c, k, _, _ in case.projects if k == INFRA[0]]
    assert under_way  # seed 0 has one: the test needs it
    pd.DataFrame([{"kind": "criterion", "commune_code": c, "criterion": k, "start_year": case.years[0]}
                  for c, k in under_way]).to_csv(tmp_path / "projects.csv", index=False)
    scenario = case.scenario.with_(replan={"from_year": case.years[1], "previous_plan": str(tmp_path)})
    inst = build_instance(case.ds, scenario)
    assert (inst.proj_committed_start == case.years[0]).sum() == len(under_way)
    return inst


def test_projects_under_way_before_the_horizon(tmp_path):
    """Re-planning: a project started before the horizon has paid its earlier years and finishes on time."""
    inst = replan_case(tmp_path)
    for name, rule in RULES.items():
        dec = make_plan(inst, rule(inst), name).decisions
        assert_reproduces_plan(inst, dec, f"replan/{name}")
        for settings_name, settings in SETTINGS.items():
            check_against_reference(inst, dec, settings, n=200, seed=31, label=f"replan/{name}/{settings_name}")


def test_items_that_cost_nothing_are_done():
    """A zero-cost item (a missing cost read as 0) is still carried out."""
    case = make_case(0)
    inst = build_instance(case.ds, case.scenario)
    dec = make_plan(inst, RULES["planners_rule"](inst), "planners_rule").decisions.copy()
    dec.adv_start[:] = int(inst.years[0])
    free = replace(inst, adv_cost=np.zeros(inst.n_communes), model_cost=np.zeros(inst.n_communes))
    dec.model_start[:] = int(inst.years[-1])
    dec = with_flows(free, dec)
    assert evaluate(free, dec).advanced.sum() > 0
    assert_reproduces_plan(free, dec, "zero cost")
    for settings_name, settings in SETTINGS.items():
        check_against_reference(free, dec, settings, n=200, seed=37, label=f"zero cost/{settings_name}")


# ----- more overrun never helps -----------------------------------------------------------------------

def test_more_overrun_never_raises_success(lao_cai_plans):
    inst, plans = lao_cai_plans
    levels = (1.0, 1.1, 1.2, 1.3)
    results = [simulate(inst, plans, UncertaintySettings(overrun_median=Range(low=m, high=m)), n_draws=2000, seed=7)
               for m in levels]
    # common random numbers: the other parameters are the same draw by draw
    for r in results[1:]:
        others = [c for c in r.experiments.columns if c != "overrun_median"]
        pd.testing.assert_frame_equal(r.experiments[others], results[0].experiments[others])
    for plan in plans:
        ntm = np.array([r.outcomes[plan]["communes_ntm"] for r in results])
        lo, hi = int(ntm.min()), int(ntm.max())
        thresholds = sorted({inst.targets.communes_ntm, *np.quantile(ntm[0], [0.1, 0.5, 0.9]).astype(int),
                             (lo + hi) // 2})
        for k in thresholds:
            p = (ntm >= k).mean(axis=1)
            assert (np.diff(p) <= 0).all(), (plan, k, dict(zip(levels, p, strict=True)))
        # the test has teeth: overrun does bite some plan at some threshold
    assert any(np.mean(results[0].outcomes[p]["communes_ntm"]) > np.mean(results[-1].outcomes[p]["communes_ntm"])
               for p in plans)


# ----- reproducibility and samplers ---------------------------------------------------------------

def test_same_seed_same_numbers(small_plans):
    inst, plans = small_plans["three_years"]
    a = simulate(inst, plans, STRONG, n_draws=1200, seed=11)
    b = simulate(inst, plans, STRONG, n_draws=1200, seed=11)
    c = simulate(inst, plans, STRONG, n_draws=1200, seed=12)
    pd.testing.assert_frame_equal(a.experiments, b.experiments)
    for plan in plans:
        for name, value in a.outcomes[plan].items():
            assert np.array_equal(value, b.outcomes[plan][name]), (plan, name)
        pd.testing.assert_frame_equal(a.commune_probability[plan], b.commune_probability[plan])
    assert not a.experiments.equals(c.experiments)
    assert any(not np.array_equal(a.outcomes[p]["spent"], c.outcomes[p]["spent"]) for p in plans)


def test_block_scheduling_does_not_change_numbers(small_plans):
    inst, plans = small_plans["absorption"]
    n = 2 * BLOCK + 123  # two full blocks and a partial one
    full = simulate(inst, plans, STRONG, n_draws=n, seed=13)
    # every block re-run on its own, last first, gives the same rows
    bounds = [0, BLOCK, 2 * BLOCK, n]
    for b in reversed(range(3)):
        rows = slice(bounds[b], bounds[b + 1])
        params = {name: full.experiments[name].to_numpy()[rows] for name in STRONG.PARAMETERS}
        alone = _run_block(inst, plans, STRONG, 13, (b, params))
        for plan in plans:
            o = alone[plan]
            assert np.array_equal(o.ntm_by_year, full.outcomes[plan]["ntm_by_year"][rows]), (b, plan)
            assert np.array_equal(o.spent, full.outcomes[plan]["spent"][rows]), (b, plan)
            assert np.array_equal(o.slipped_projects, full.outcomes[plan]["slipped_projects"][rows]), (b, plan)
            assert np.array_equal(o.criterion_communes, full.outcomes[plan]["criterion_communes"][rows]), (b, plan)
    # fewer draws: the full blocks are the same draws (plain Monte Carlo rows come in order)
    shorter = simulate(inst, plans, STRONG, n_draws=2 * BLOCK, seed=13)
    pd.testing.assert_frame_equal(shorter.experiments, full.experiments.iloc[: 2 * BLOCK])
    for plan in plans:
        for name, value in shorter.outcomes[plan].items():
            assert np.array_equal(value, full.outcomes[plan][name][: 2 * BLOCK]), (plan, name)
    # and a progress callback sees every block
    seen: list[tuple[int, int]] = []
    simulate(inst, plans, STRONG, n_draws=n, seed=13, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(BLOCK, n), (2 * BLOCK, n), (n, n)]


@pytest.mark.parametrize("sampler", ["mc", "lhs", "sobol"])
def test_samplers_stay_in_ranges(sampler):
    settings = STRONG.model_copy(update={"disaster_rate": Range(low=0.05, high=0.05)})
    n = 256
    exp = sample_experiments(settings, n, sampler, seed=3)
    assert list(exp.columns) == list(settings.PARAMETERS)
    assert len(exp) == n
    for name, r in settings.ranges().items():
        x = exp[name].to_numpy()
        if r.fixed:
            assert (x == r.low).all(), name
            continue
        assert ((x >= r.low) & (x <= r.high)).all(), name
        assert len(np.unique(x)) == n, name
        if sampler in ("lhs", "sobol"):
            # one point in each of the n equal strata of every parameter (Sobol: n = 2^8)
            strata = np.floor((x - r.low) / (r.high - r.low) * n).astype(int)
            assert sorted(strata) == list(range(n)), name
    pd.testing.assert_frame_equal(exp, sample_experiments(settings, n, sampler, seed=3))
    assert not exp.equals(sample_experiments(settings, n, sampler, seed=4))


def test_lhs_fills_strata_for_any_count():
    n = 37
    exp = sample_experiments(UncertaintySettings(), n, "lhs", seed=8)
    for name, r in UncertaintySettings().ranges().items():
        strata = np.floor((exp[name].to_numpy() - r.low) / (r.high - r.low) * n).astype(int)
        assert sorted(strata) == list(range(n)), name


def test_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="sampler"):
        sample_experiments(UncertaintySettings(), 10, "grid", seed=0)  # type: ignore[arg-type]


def test_fixed_ranges_give_constant_columns():
    exp = sample_experiments(UncertaintySettings.none(), 50, "sobol", seed=1)
    for name, r in UncertaintySettings.none().ranges().items():
        assert (exp[name] == r.low).all(), name
    assert not any(math.isnan(v) for v in exp.to_numpy().ravel())


def test_the_reference_imports_nothing_the_engine_computes_with():
    """Independent by construction: its inputs' types only (instance, plan, settings), none of the engine's code."""
    import ast

    tree = ast.parse((Path(__file__).parent / "reference_sim.py").read_text(encoding="utf-8"))
    imported = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names if node.module and node.module.startswith("ntm_sim")}
    assert imported == {("ntm_sim.model.instance", "Instance"), ("ntm_sim.model.plan", "Decisions"),
                        ("ntm_sim.model.uncertainty", "UncertaintySettings")}
