"""Tiers as the criteria set issues them, and four solver findings (issue 18, item 5).

Decision 318 (2021–2025) issues NTM ⊂ advanced ⊂ model; Decision 51 (2026–2030) one
commune set and the modern-commune pilot, which nests directly on NTM, and no district
tiers. The model, the rules, the evaluation and the simulation follow the set; results
name its own tiers. Each finding is a case small enough to compute by hand:

1. a tier upgrade whose yearly cost exceeds the absorption limit is spread over more
   years, as criterion projects are (it was dropped);
2. an objective with a district stage but no tier stage can buy what a district unit
   needs (the stage was empty and the money unspent);
3. a top-tier (model) upgrade finishes no earlier than the advanced one it requires;
4. no district unit or advanced district under a set without district tiers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from ntm_sim.analysis.compare import indicator_table
from ntm_sim.data.checks import check_dataset
from ntm_sim.data.criteria import load_criteria_set
from ntm_sim.data.dataset import make_dataset
from ntm_sim.errors import InputError
from ntm_sim.model.instance import build_instance
from ntm_sim.model.ledger import allocate_flows, class_spend
from ntm_sim.model.plan import Decisions, check, evaluate
from ntm_sim.model.scenario import Scenario
from ntm_sim.optimize import solve
from ntm_sim.optimize.baselines import planners_rule
from ntm_sim.present.console import format_solve_summary
from ntm_sim.present.report_html import indicators_html
from ntm_sim.run.runs import load_run
from ntm_sim.run.workflow import run_scenario
from ntm_sim.simulate import simulate
from ntm_sim.simulate.settings import UncertaintySettings
from test_simulate_reference import STRONG, assert_reproduces_plan, check_against_reference

# one worker: the module's costly fixture is built once, not once per worker
pytestmark = pytest.mark.xdist_group("tiers")

OLD = load_criteria_set("qd318-2021-2025")
NEW = load_criteria_set("qd51-2026-2030")
EXACT = {"mip_gap": 0.0, "tiebreak_gap": 0.0, "node_limit": None, "tiebreak_node_limit": None,
         "fix_completion": False}


def tiny(crit=OLD, *, codes=("A",), missing=None, adv_cost=10.0, model_cost=10.0, advanced=(), envelopes=None,
         district: dict | None = None, carry_over_years=(2021, 2022)):
    """Communes ``codes`` meeting every criterion but ``missing`` (code → {criterion: cost}); one source.

    ``district``: the communes' district (``ntm``, ``cost``, ``adv_cost``), or None for no district.
    """
    missing = missing or {}
    status = pd.DataFrame(True, index=list(codes), columns=crit.ids)
    cost = pd.DataFrame(np.nan, index=list(codes), columns=crit.ids)
    for c, items in missing.items():
        for k, amount in items.items():
            status.loc[c, k] = False
            cost.loc[c, k] = amount
    communes = pd.DataFrame({"commune_name": [f"Xã {c}" for c in codes],
                             "district_code": "9" if district else "",
                             "advanced": [c in advanced for c in codes],
                             "advanced_cost_mvnd": adv_cost, "model_cost_mvnd": model_cost,
                             "villages": 0, "villages_ntm": 0, "villages_model": 0}, index=list(codes))
    districts = None
    if district:
        districts = pd.DataFrame({"district_name": ["Huyện Thử"], "ntm": [district.get("ntm", False)],
                                  "district_cost_mvnd": [district.get("cost", 30.0)],
                                  "district_advanced_cost_mvnd": [district.get("adv_cost", 40.0)]}, index=["9"])
    sources = pd.DataFrame({"name_vi": ["Tỉnh"], "name_en": ["province"], "eligible": ["Tất cả"]},
                           index=pd.Index(["b"], name="source_id"))
    envelopes = envelopes or {y: 100.0 for y in carry_over_years}
    env = pd.DataFrame({y: [float(v)] for y, v in envelopes.items()}, index=sources.index)
    return make_dataset(crit, communes, status, cost, districts=districts, sources=sources, envelopes=env,
                        file="tiny")


def scenario(years=(2021, 2022), order=("communes_ntm", "district_units", "tiers", "criteria_met", "cost"),
             **extra) -> Scenario:
    return Scenario.model_validate({"name": "tiers", "years": list(years), "objective": {"order": list(order)},
                                    "solver": EXACT, "robustness": {"enabled": False}, **extra})


def funded(dec: Decisions, inst) -> dict[str, list[str]]:
    return {"advanced": [inst.communes[c] for c in np.flatnonzero(dec.adv_start >= 0)],
            "model": [inst.communes[c] for c in np.flatnonzero(dec.model_start >= 0)]}


def with_flows(inst, dec: Decisions) -> Decisions:
    dec = dec.copy()
    dec.flows = allocate_flows(inst, class_spend(inst, dec))[0]
    return dec


# ----- finding 1: a tier upgrade above the absorption limit is stretched, not dropped ----------------

def test_an_upgrade_above_the_absorption_limit_is_spread_over_years():
    # A is NTM; its advanced upgrade costs 80 and A can spend 50 a year: 40 in 2021 and 40 in 2022.
    # Money: 100 a year. The upgrade was dropped (80 > 50 in one year): 0 advanced communes.
    ds = tiny(adv_cost=80.0, model_cost=1e6)
    sc = scenario(budget={"absorption_limit_mvnd": 50.0}, targets={"advanced": 1}, enforce=["advanced"])
    inst = build_instance(ds, sc)
    result = solve(ds, sc, guard=False)
    dec = result.plan.decisions
    assert result.plan.outcomes.advanced.sum() == 1
    assert list(dec.adv_start) == [2021]
    assert list(inst.adv_lead) == [2]
    assert check(inst, dec) == []
    np.testing.assert_allclose(result.plan.outcomes.spend_by_year, [40.0, 40.0])
    assert result.shortfalls == []
    # the projects table says so: 2021–2022, 80 in all
    row = result.plan.projects.query("kind == 'advanced'").iloc[0]
    assert (row.start_year, row.end_year, row.cost_mvnd) == (2021, 2022, 80.0)
    # the rules stretch it too
    rule = planners_rule(inst)
    assert list(rule.adv_start) == [2021]
    assert check(inst, rule) == []
    assert evaluate(inst, rule).advanced.sum() == 1
    # and the simulation carries it out over the same two years
    sim = simulate(inst, {"optimum": dec}, UncertaintySettings.none(), n_draws=2, seed=0)
    assert list(sim.outcomes["optimum"]["advanced"]) == [1, 1]
    np.testing.assert_allclose(sim.outcomes["optimum"]["spent"], [80.0, 80.0])


def test_a_stretched_upgrade_that_cannot_finish_in_time_is_not_offered():
    # 160 at 50 a year takes 4 years: not within 2021–2022, so no advanced commune (and no violation)
    ds = tiny(adv_cost=160.0, model_cost=1e6)
    sc = scenario(budget={"absorption_limit_mvnd": 50.0}, targets={"advanced": 1}, enforce=["advanced"])
    result = solve(ds, sc, guard=False)
    assert result.plan.outcomes.advanced.sum() == 0
    assert [s.key for s in result.shortfalls] == ["advanced"]
    assert check(result.instance, planners_rule(result.instance)) == []


def test_stretched_upgrades_simulate_as_the_reference_does():
    # two communes whose upgrades take two and three years at 30 a year; the engine equals the reference
    ds = tiny(codes=("A", "B"), missing={"B": {"TC2": 50.0}}, adv_cost=55.0, model_cost=85.0,
              envelopes={2021: 150.0, 2022: 100.0, 2023: 100.0}, district={"ntm": True})
    sc = scenario(years=(2021, 2023), budget={"absorption_limit_mvnd": 30.0})
    inst = build_instance(ds, sc)
    dec = Decisions.empty(inst)
    dec.proj_start[:] = 2021
    dec.adv_start[:] = [2021, 2022]
    dec.model_start[0] = 2021
    dec = with_flows(inst, dec)
    for settings in (UncertaintySettings(), STRONG):
        check_against_reference(inst, dec, settings, n=200, seed=11, label="stretched")
    assert_reproduces_plan(inst, dec, "stretched")
    assert evaluate(inst, dec).model.sum() == 1
    assert list(inst.adv_lead) == [2, 2]
    assert list(inst.model_lead) == [3, 3]


# ----- finding 2: a district stage without a tier stage buys what the unit needs ---------------------

def _district_rule_without_advanced(tmp_path: Path):
    """Decision 318 with a district unit that asks for no advanced commune (the advanced district still does)."""
    text = (Path(__file__).resolve().parents[1] / "src/ntm_sim/data/criteria/qd318_2021_2025.yaml").read_text(
        encoding="utf-8")
    old = "min_share_communes_ntm: 1.0, min_share_communes_advanced: 0.10, min_share_communes_model: 0.0"
    assert old in text
    path = tmp_path / "rule.yaml"
    path.write_text(text.replace(old, old.replace("advanced: 0.10", "advanced: 0.0")).replace(
        "id: qd318-2021-2025", "id: test-district-rule"), encoding="utf-8")
    return load_criteria_set(path)


def test_a_district_stage_without_a_tier_stage_buys_the_unit(tmp_path):
    # two NTM communes; the district unit needs its own criteria (30); the advanced district needs one
    # advanced (10) and one model commune (10, the same one) and its project (40): 90 of the 200 in all.
    # The district stage was empty (no district columns without a tier stage) and the money unspent.
    crit = _district_rule_without_advanced(tmp_path)
    ds = tiny(crit, codes=("A", "B"), district={"ntm": False, "cost": 30.0, "adv_cost": 40.0})
    sc = scenario(order=("communes_ntm", "district_units", "criteria_met", "cost"))
    inst = build_instance(ds, sc)
    assert list(inst.district_need_adv) == [0]
    assert list(inst.district_need_adv2) == [1]
    result = solve(ds, sc, guard=False)
    by = {s.name: s.objective for s in result.stages}
    assert by["district_units"] == pytest.approx(2.0)
    o = result.plan.outcomes
    assert o.district_unit.tolist() == [True]
    assert o.district_advanced.tolist() == [True]
    assert (o.advanced.sum(), o.model.sum()) == (1, 1)
    assert o.total_cost == pytest.approx(90.0)
    assert check(inst, result.plan.decisions) == []


# ----- finding 3: the model tier does not finish before the advanced tier it requires ---------------

def _order_case():
    # A is NTM. No carry-over: 20 in 2021, 30 in 2022. Advanced costs 30, model 20: both fit only as
    # model in 2021 and advanced in 2022, which breaks the nesting. Kept in order: advanced (2022) alone.
    ds = tiny(adv_cost=30.0, model_cost=20.0, envelopes={2021: 20.0, 2022: 30.0})
    return ds, scenario(budget={"carry_over": False})


def test_the_model_upgrade_does_not_finish_before_the_advanced_one():
    ds, sc = _order_case()
    result = solve(ds, sc, guard=False)
    dec = result.plan.decisions
    assert {s.name: s.objective for s in result.stages}["tiers"] == pytest.approx(1.0)
    assert list(dec.adv_start) == [2022]
    assert list(dec.model_start) == [-1]
    assert check(result.instance, dec) == []


def test_check_refuses_a_model_upgrade_before_the_advanced_one():
    ds, sc = _order_case()
    inst = build_instance(ds, sc)
    dec = Decisions.empty(inst)
    dec.adv_start[0], dec.model_start[0] = 2022, 2021
    problems = check(inst, with_flows(inst, dec))
    assert [p.rule for p in problems] == ["tier"]
    assert "before its advanced upgrade (2022)" in problems[0].detail


def test_the_rules_keep_the_tiers_in_order():
    # the planners' rule funds the advanced target first (2022: 2021 has only 20), then the model
    # upgrade no earlier: nothing is left in 2022, so it is not funded (it was, in 2021)
    ds, sc = _order_case()
    sc = sc.with_(targets={"advanced": 1, "model": 1}, enforce=["advanced", "model"])
    inst = build_instance(ds, sc)
    rule = planners_rule(inst)
    assert list(rule.adv_start) == [2022]
    assert list(rule.model_start) == [-1]
    assert check(inst, rule) == []


def test_the_order_rows_are_added_only_when_the_plan_breaks_the_order():
    # the model is solved without them first: a case they do not bind solves once, with the same plan
    from ntm_sim.optimize.model import build_model

    ds, sc = _order_case()
    inst = build_instance(ds, sc)
    with_rows, without = build_model(inst), build_model(inst, tier_order=False)
    assert with_rows.n_rows == without.n_rows + 1   # model 2021 needs advanced done by 2021
    ds2 = tiny(adv_cost=30.0, model_cost=20.0, envelopes={2021: 60.0, 2022: 30.0})
    result = solve(ds2, sc, guard=False)
    assert list(result.plan.decisions.adv_start) == [2021]
    assert result.plan.decisions.model_start[0] >= 2021
    assert check(result.instance, result.plan.decisions) == []


# ----- finding 4: no district unit under a set without district tiers ---------------------------------

def test_no_district_unit_is_bought_under_a_set_without_district_tiers():
    # Decision 51 on a dataset that still has a district: the unit (10) and the advanced district (10)
    # were bought for their projects alone; the set recognises neither.
    ds = tiny(NEW, codes=("A", "B"), district={"ntm": False, "cost": 10.0, "adv_cost": 10.0},
              envelopes={2026: 100.0, 2027: 100.0}, model_cost=1e6)
    sc = scenario(years=(2026, 2027))
    inst = build_instance(ds, sc)
    result = solve(ds, sc, guard=False)
    o = result.plan.outcomes
    assert not o.district_unit.any()
    assert not o.district_advanced.any()
    assert (result.plan.decisions.district_start < 0).all()
    assert (result.plan.decisions.district_adv_start < 0).all()
    assert "district_units" not in {s.name for s in result.stages}
    assert o.total_cost == 0.0
    assert not inst.has_district_units
    assert not inst.has_advanced_districts
    # a plan that buys one anyway does not get the unit, and check names the set
    dec = Decisions.empty(inst)
    dec.district_start[0] = dec.district_adv_start[0] = 2026
    dec = with_flows(inst, dec)
    assert not evaluate(inst, dec).district_unit.any()
    assert {p.rule for p in check(inst, dec)} == {"district"}
    sim = simulate(inst, {"plan": dec}, UncertaintySettings.none(), n_draws=2, seed=0)
    assert list(sim.outcomes["plan"]["district_units"]) == [0, 0]


def test_district_targets_under_a_set_without_district_tiers_are_refused():
    ds = tiny(NEW, district={"ntm": False}, envelopes={2026: 100.0})
    sc = scenario(years=(2026, 2026), targets={"district_units": ["9"], "advanced_districts": ["9"]})
    with pytest.raises(InputError) as err:
        build_instance(ds, sc)
    text = str(err.value)
    assert "targets.district_units" in text
    assert "targets.advanced_districts" in text
    assert "qd51-2026-2030" in text


# ----- tiers as Decision 51 issues them ------------------------------------------------------------------

def test_the_modern_commune_nests_directly_on_ntm():
    # A is NTM; its modern upgrade costs 10, the money is 10: one modern commune. With the assumed
    # advanced tier between them (the old file) it needed an advanced upgrade first: 0.
    ds = tiny(NEW, model_cost=10.0, adv_cost=10.0, envelopes={2026: 10.0})
    sc = scenario(years=(2026, 2026), targets={"model": 1}, enforce=["model"])
    inst = build_instance(ds, sc)
    result = solve(ds, sc, guard=False)
    o = result.plan.outcomes
    assert (o.advanced.sum(), o.model.sum()) == (0, 1)
    assert not inst.has_advanced_tier
    assert "adv" not in {name.split("_")[0] for name in result.plan.projects["kind"]}
    assert list(result.plan.projects["criterion"]) == ["modern"]
    # the rules fund it on NTM alone too
    rule = planners_rule(inst)
    assert evaluate(inst, rule).model.sum() == 1
    assert (rule.adv_start < 0).all()
    sim = simulate(inst, {"optimum": result.plan.decisions}, UncertaintySettings.none(), n_draws=2, seed=0)
    assert list(sim.outcomes["optimum"]["model"]) == [1, 1]


def test_an_advanced_target_under_decision_51_is_refused_with_the_key_and_the_set():
    ds = tiny(NEW, envelopes={2026: 10.0})
    with pytest.raises(InputError) as err:
        build_instance(ds, scenario(years=(2026, 2026), targets={"advanced": 2}))
    text = str(err.value)
    assert "targets.advanced" in text
    assert "qd51-2026-2030" in text
    assert "issues no advanced tier" in text
    assert "modern" in text  # says what the set does issue


def test_model_and_modern_are_one_key():
    assert Scenario.model_validate({"name": "x", "targets": {"model": 3}}).targets.model == 3
    assert Scenario.model_validate({"name": "x", "targets": {"modern": 3}, "enforce": ["modern"]}).enforce == ["model"]
    with pytest.raises(ValueError, match="one target"):
        Scenario.model_validate({"name": "x", "targets": {"model": 3, "modern": 2}})


def test_a_commune_marked_advanced_under_decision_51_is_not_advanced():
    # the mark (recognised under the earlier set) does not make a tier the new set does not issue
    ds = tiny(NEW, codes=("A", "B"), advanced=("A",), envelopes={2026: 10.0})
    inst = build_instance(ds, scenario(years=(2026, 2026)))
    assert not inst.base_adv.any()
    assert evaluate(inst, Decisions.empty(inst)).advanced.sum() == 0


def test_a_modern_commune_must_meet_every_criterion_and_need_not_be_advanced():
    ds = tiny(NEW, codes=("A", "B"), missing={"B": {"TC2": 5.0}}, envelopes={2026: 10.0})
    communes = ds.communes.copy()
    communes["model"] = [True, False]
    ok = make_dataset(NEW, communes, ds.status, ds.cost, sources=ds.sources, envelopes=ds.envelopes)
    assert [p for p in check_dataset(ok) if p.severity == "error"] == []
    communes["model"] = [False, True]
    with pytest.raises(InputError, match="marked hiện đại"):
        make_dataset(NEW, communes, ds.status, ds.cost, sources=ds.sources, envelopes=ds.envelopes)


def test_decision_51_engine_equals_reference():
    # (a district as before 1 July 2025: the reference needs one; the set still recognises no unit)
    ds = tiny(NEW, codes=("A", "B", "C"), missing={"B": {"TC2": 40.0}, "C": {"TC3": 30.0, "TC8": 20.0}},
              model_cost=25.0, envelopes={2026: 60.0, 2027: 60.0, 2028: 40.0}, district={"ntm": False})
    sc = scenario(years=(2026, 2028), targets={"model": 2})
    result = solve(ds, sc, guard=False)
    inst, dec = result.instance, result.plan.decisions
    assert result.plan.outcomes.model.sum() >= 1
    assert_reproduces_plan(inst, dec, "qd51")
    for settings in (UncertaintySettings(), STRONG):
        check_against_reference(inst, dec, settings, n=200, seed=5, label="qd51")


# ----- results name the set's own tiers ----------------------------------------------------------------

@pytest.fixture(scope="module")
def modern_run(tmp_path_factory) -> Path:
    ds = tiny(NEW, codes=("A", "B"), missing={"B": {"TC2": 20.0}}, model_cost=10.0,
              envelopes={2026: 40.0, 2027: 40.0})
    sc = scenario(years=(2026, 2027), targets={"communes_ntm": 2, "modern": 1}, enforce=["modern"])
    out = tmp_path_factory.mktemp("runs") / "modern"
    run_scenario(ds, sc, out, draws=0)
    return out


def test_results_carry_the_sets_tiers_and_no_advanced_or_district_count(modern_run):
    summary = json.loads((modern_run / "summary.json").read_text(encoding="utf-8"))
    assert summary["tiers"] == {"model": {"id": "modern", "name_vi": "Xã nông thôn mới hiện đại (thí điểm)",
                                          "name_en": "Modern NTM commune (pilot)", "short_vi": "hiện đại (thí điểm)",
                                          "short_en": "modern (pilot)"}}
    for absent in ("advanced", "district_units", "district_unit_names", "advanced_districts"):
        assert absent not in summary
        assert all(absent not in b for b in summary["baselines"].values())
    assert summary["model"] == 2
    assert summary["targets"]["model"]["achieved"] == 2
    assert "district_units" not in {s["name"] for s in summary["stages"]}
    assert {s["name"]: s["name_vi"] for s in summary["stages"]}["tiers"] == "xã hiện đại (thí điểm)"
    text = format_solve_summary(summary)
    assert "hiện đại (thí điểm) 2" in text
    assert "nâng cao" not in text
    assert "kiểu mẫu" not in text.replace("thôn kiểu mẫu", "")  # model villages: the province's village set
    assert "cấp huyện" not in text


def test_the_plan_workbook_names_the_sets_tiers(modern_run):
    wb = load_workbook(modern_run / "plan.xlsx", read_only=True)
    cells = {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
    assert "Xã hiện đại (thí điểm)" in cells
    assert "Lên xã NTM hiện đại (thí điểm)" in cells
    assert not {"Xã nâng cao", "Xã kiểu mẫu", "Đơn vị cấp huyện"} & cells


def test_report_rows_name_each_runs_tiers(modern_run, compare_root):
    baseline_results = compare_root / "baseline"
    modern = load_run(modern_run)
    table = indicator_table([modern])
    assert "advanced" not in set(table["indicator"])
    assert "district_units" not in set(table["indicator"])
    assert table.set_index("indicator").loc["model", "label_vi"] == "Xã NTM hiện đại (thí điểm)"
    both = indicator_table([load_run(baseline_results), modern]).set_index("indicator")
    assert both.loc["model", "label_vi"] == "Xã NTM kiểu mẫu / hiện đại (thí điểm)"
    assert both.loc["advanced", "label_vi"] == "Xã NTM nâng cao"
    assert np.isnan(both.loc["advanced", modern.name])
    html = indicators_html([load_run(baseline_results), modern])
    assert "Xã NTM kiểu mẫu / hiện đại (thí điểm)" in html


def test_decision_318_results_keep_their_labels(compare_root):
    baseline_results = compare_root / "baseline"
    summary = json.loads((Path(baseline_results) / "summary.json").read_text(encoding="utf-8"))
    assert {slot: t["short_vi"] for slot, t in summary["tiers"].items()} == {"advanced": "nâng cao",
                                                                             "model": "kiểu mẫu"}
    assert {"advanced", "model", "district_units"} <= set(summary)
    text = format_solve_summary(summary)
    assert f"nâng cao {summary['advanced']}, kiểu mẫu {summary['model']}; đơn vị cấp huyện: " in text
    names = dict(zip(indicator_table([load_run(baseline_results)])["indicator"],
                     indicator_table([load_run(baseline_results)])["label_vi"], strict=True))
    assert (names["advanced"], names["model"]) == ("Xã NTM nâng cao", "Xã NTM kiểu mẫu")


def test_old_results_without_tiers_read_as_decision_318():
    from ntm_sim.present.console import tier_labels_vi

    assert tier_labels_vi({"advanced": 1, "model": 2}) == {"advanced": "nâng cao", "model": "kiểu mẫu"}


def test_workbooks_of_decision_51_name_its_tier_and_read_back(tmp_path):
    from ntm_sim.data.io.excel_write import write_template, write_workbook
    from ntm_sim.data.registry import load_dataset

    ds = tiny(NEW, codes=("A", "B"), missing={"B": {"TC2": 20.0}}, envelopes={2026: 40.0})
    communes = ds.communes.copy()
    communes["model"] = [True, False]
    ds = make_dataset(NEW, communes, ds.status, ds.cost, sources=ds.sources, envelopes=ds.envelopes)
    write_workbook(ds, tmp_path / "data.xlsx")
    headers = {str(v) for row in load_workbook(tmp_path / "data.xlsx", read_only=True)["Danh sách xã"].iter_rows(
        max_row=6, values_only=True) for v in row if v}
    assert {"Đạt NTM hiện đại (thí điểm)", "Vốn lên NTM hiện đại (thí điểm) (tr.đ)"} <= headers
    back = load_dataset(tmp_path / "data.xlsx", units="none")
    assert back.criteria.id == NEW.id
    assert back.communes["model"].tolist() == [True, False]
    # the blank template asks for the tier the set issues, and for no advanced one
    write_template(tmp_path / "blank.xlsx", NEW, with_lao_cai=False)
    cells = {str(v) for row in load_workbook(tmp_path / "blank.xlsx", read_only=True)["Danh sách xã"].iter_rows(
        max_row=6, values_only=True) for v in row if v}
    assert "Đạt NTM hiện đại (thí điểm)" in cells
    assert not any("nâng cao" in c for c in cells)
    write_template(tmp_path / "old.xlsx", OLD, with_lao_cai=False)
    cells = {str(v) for row in load_workbook(tmp_path / "old.xlsx", read_only=True)["Danh sách xã"].iter_rows(
        max_row=6, values_only=True) for v in row if v}
    assert {"Đạt NTM nâng cao", "Đạt NTM kiểu mẫu", "Vốn lên NTM nâng cao (tr.đ)"} <= cells


@pytest.mark.parametrize(("change", "message"), [
    # a third tier above NTM: the tool has two places (advanced and top)
    (lambda t: t.replace(
        "     provisional: true}\n\n", "     provisional: true}\n  - {id: extra, name_vi: Thêm, name_en: Extra, "
        "requires: modern}\n  - {id: more, name_vi: Nữa, name_en: More, requires: extra}\n\n", 1),
     "the tool plans at most two"),
    # a district unit asking for advanced communes under a set without an advanced tier
    (lambda t: t.replace("district_tiers: []", "district_tiers:\n  - {id: ntm, name_vi: Huyện, name_en: District, "
                         "min_share_communes_ntm: 1.0, min_share_communes_advanced: 0.1, "
                         "cost_column: district_cost_mvnd}"),
     "issues no advanced commune tier"),
    # the top tier's cost in a column the data do not have
    (lambda t: t.replace("upgrade_cost_column: model_cost_mvnd", "upgrade_cost_column: modern_cost_mvnd"),
     "upgrade_cost_column must be model_cost_mvnd"),
])
def test_a_criteria_file_the_tiers_cannot_follow_is_refused_with_its_key(tmp_path, change, message):
    text = (Path(__file__).resolve().parents[1] / "src/ntm_sim/data/criteria/qd51_2026_2030.yaml").read_text(
        encoding="utf-8")
    path = tmp_path / "set.yaml"
    path.write_text(change(text), encoding="utf-8")
    assert change(text) != text
    with pytest.raises(InputError, match=message) as err:
        load_criteria_set(path)
    assert str(path) in str(err.value)
