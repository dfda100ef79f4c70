"""Min-cost plans: baselines spend only real money, and simulations fund exactly the gap asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ntm_sim.cli import app
from ntm_sim.model.instance import build_instance
from ntm_sim.model.plan import evaluate
from ntm_sim.model.scenario import load_scenario
from ntm_sim.optimize import solve
from ntm_sim.run.results import load_plans, write_solve_results
from ntm_sim.simulate import UncertaintySettings, simulate

# these tests read the problems' English texts; in one worker, the module's costly fixture is built once
pytestmark = [pytest.mark.usefixtures("english"), pytest.mark.xdist_group("min_cost_simulation")]

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "funding_gap.yaml"


@pytest.fixture(scope="module")
def short_money(lao_cai):
    """The plan's targets with 40% of the money: min-cost must ask for a funding gap."""
    sc = load_scenario(SCENARIO)
    sc = sc.with_(name="funding_gap_40", budget={**sc.budget.model_dump(), "scale": 0.4})
    return sc, solve(lao_cai, sc, time_limit=60)


def test_the_gap_is_positive_and_the_rules_spend_only_real_money(short_money):
    sc, result = short_money
    inst = result.instance
    g = inst.gap_source
    assert g is not None
    assert result.funding_gap.sum() > 1_000  # million VND
    np.testing.assert_allclose(result.plan.outcomes.spend_by_source_year[g], result.funding_gap)
    for name, plan in result.baselines.items():
        spend = plan.outcomes.spend_by_source_year
        assert spend[g].sum() == 0, name
        # within every real envelope, year by year, with carry-over
        real = np.delete(spend, g, axis=0)
        budget = np.delete(inst.budget, g, axis=0)
        assert (np.cumsum(real, axis=1) <= np.cumsum(budget, axis=1) + 1e-6).all(), name
    full = build_instance(inst.dataset, load_scenario(SCENARIO))
    assert full.gap_source is None
    assert inst.real_budget == pytest.approx(0.4 * full.real_budget)
    assert inst.real_budget < inst.total_budget  # the gap source's bound is not money on the table


def test_summary_counts_real_money_only(short_money, tmp_path):
    sc, result = short_money
    summary = write_solve_results(result, tmp_path / "r")
    inst = result.instance
    assert summary["budget_mvnd"] == pytest.approx(inst.real_budget)
    real_spend = summary["total_cost_mvnd"] - summary["funding_gap_mvnd"]
    assert summary["unspent_mvnd"] == pytest.approx(inst.real_budget - real_spend)
    assert summary["unspent_mvnd"] >= -1e-6
    for b in summary["baselines"].values():
        assert b["total_cost_mvnd"] <= inst.real_budget + 1e-6
        assert "recommended_minus_baseline_cost_mvnd" in b


def test_simulation_funds_exactly_the_gap(short_money, tmp_path):
    sc, result = short_money
    write_solve_results(result, tmp_path / "r")
    plans = load_plans(result.instance, tmp_path / "r")
    sim = simulate(result.instance, plans, sc.uncertainty, n_draws=200, seed=4)
    g = sim.instance.gap_source
    np.testing.assert_allclose(sim.instance.budget[g], result.funding_gap, atol=1e-6)
    # no bottomless source: what is spent never exceeds the real money plus the gap
    assert (sim.outcomes["recommended"]["spent"] <= result.instance.real_budget + result.funding_gap.sum() + 1e-6).all()
    # zero uncertainty gives the deterministic plan back, gap money included
    none = simulate(result.instance, plans, UncertaintySettings.none(), n_draws=3, seed=1)
    for name, dec in plans.items():
        e = evaluate(none.instance, dec)
        assert (none.outcomes[name]["communes_ntm"] == e.communes_ntm).all(), name
    assert (none.outcomes["recommended"]["communes_ntm"] >= sc.targets.communes_ntm).all()


def test_cli_simulates_a_min_cost_folder_and_names_a_mismatch(short_money, tmp_path):
    sc, result = short_money
    folder = tmp_path / "gap"
    write_solve_results(result, folder)
    scen = tmp_path / "funding_gap_40.yaml"
    scen.write_text(sc.to_yaml(), encoding="utf-8")
    ok = CliRunner().invoke(app, ["simulate", str(scen), "--plan", str(folder), "--draws", "100",
                                  "--out", str(tmp_path / "sim")])
    assert ok.exit_code == 0, ok.output
    # the same plan under a max-achievement scenario has no gap source: named, not a traceback
    bad = CliRunner().invoke(app, ["simulate", str(ROOT / "scenarios" / "baseline.yaml"), "--plan", str(folder),
                                   "--draws", "100", "--out", str(tmp_path / "sim2")])
    assert bad.exit_code == 2, bad.output
    assert "plan.csv, row " in bad.output
    assert "column source: unknown funding source (a min-cost plan" in bad.output
    assert "found 'von_con_thieu'" in bad.output
    assert not (tmp_path / "sim2").exists()


def test_the_gap_reaches_the_comparison_and_the_report(short_money, tmp_path):
    from ntm_sim.analysis.compare import indicator_table
    from ntm_sim.present.report_page import build_report
    from ntm_sim.run.runs import load_run
    from ntm_sim.text import format_number_vi

    sc, result = short_money
    summary = write_solve_results(result, tmp_path / "funding_gap_40")
    run = load_run(tmp_path / "funding_gap_40")
    t = indicator_table([run]).set_index("indicator")
    assert t.loc["funding_gap_mvnd", "funding_gap_40"] == pytest.approx(summary["funding_gap_mvnd"])
    # the report gives money in tỷ đồng, one decimal (the files keep million VND)
    gap_bn = format_number_vi(summary["funding_gap_mvnd"] / 1000, 1)
    assert f'<td class="num">{gap_bn}</td>' in build_report([run])


def test_min_cost_plans_are_not_chosen_by_simulation(lao_cai):
    """A reserve in min-cost mode only moves spending onto the gap source: refused with a reason."""
    from ntm_sim.analysis.recommend import recommend

    with pytest.raises(ValueError, match="max-achievement"):
        recommend(lao_cai, load_scenario(SCENARIO))


def test_a_reserve_list_is_written_and_read_back(short_money, tmp_path):
    # the reserve list's own round trip (the baseline's quick search may choose none)
    sc, result = short_money
    dec = result.plan.decisions
    unscheduled = np.flatnonzero(dec.proj_start < 0)[:3]
    assert len(unscheduled) == 3
    dec.reserve = np.zeros(result.instance.n_projects, dtype=bool)
    dec.reserve[unscheduled] = True
    try:
        write_solve_results(result, tmp_path / "r")
        plans = load_plans(result.instance, tmp_path / "r")
    finally:
        dec.reserve = None
    assert (tmp_path / "r" / "reserve.csv").exists()
    assert np.flatnonzero(plans["recommended"].reserve).tolist() == unscheduled.tolist()
