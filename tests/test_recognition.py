"""Recognition kept apart from meeting every criterion (issue 9, part 2).

A recognised commune short of a criterion of the current set stays recognised on paper,
but needs its re-qualification projects to count as *meeting* the standard; the scenario
says which the communes target counts, and a yearly maintenance cost per recognised
commune takes money. Cases are small enough to compute by hand.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ntm_sim.data.criteria import load_criteria_set
from ntm_sim.data.dataset import bundled_path, make_dataset
from ntm_sim.data.registry import load_dataset
from ntm_sim.errors import InputError
from ntm_sim.model.instance import build_instance
from ntm_sim.model.plan import Decisions, evaluate
from ntm_sim.model.scenario import Scenario
from ntm_sim.model.targets import achieved_on_draws, achieved_on_plan, targets_of
from ntm_sim.optimize import solve
from ntm_sim.optimize.baselines import planners_rule
from ntm_sim.run.results import targets_report
from ntm_sim.simulate import UncertaintySettings, simulate

CRIT = load_criteria_set()
K1, K2 = CRIT.ids[0], CRIT.ids[1]


def _dataset(recognition: bool = True):
    """Three communes, one year, 15 (million VND) of money.

    ``A`` recognised in 2015 but short of criterion K1 (re-qualifying costs 10); ``B``
    never recognised, short of K2 (finishing costs 15); ``C`` recognised, meets all.
    """
    codes = ["A", "B", "C"]
    status = pd.DataFrame(True, index=codes, columns=CRIT.ids)
    status.loc["A", K1] = status.loc["B", K2] = False
    cost = pd.DataFrame(np.nan, index=codes, columns=CRIT.ids)
    cost.loc["A", K1], cost.loc["B", K2] = 10.0, 15.0
    communes = pd.DataFrame({"commune_name": ["Xã A", "Xã B", "Xã C"], "district_code": "9",
                             "advanced_cost_mvnd": 1e6, "model_cost_mvnd": 1e6}, index=codes)
    if recognition:
        communes["recognised_year"] = [2015, None, 2019]
    districts = pd.DataFrame({"district_name": ["Huyện Thử"], "ntm": [True]}, index=["9"])
    sources = pd.DataFrame({"name_vi": ["Tỉnh"], "eligible": ["Tất cả"]}, index=pd.Index(["b"], name="source_id"))
    env = pd.DataFrame({2021: [15.0]}, index=sources.index)
    return make_dataset(CRIT, communes, status, cost, districts=districts, sources=sources, envelopes=env,
                        file="case")


def _case(count: str = "meeting", maintenance: float = 0.0):
    """The three communes of :func:`_dataset` and a scenario counting communes as ``count``."""
    ds = _dataset()
    scenario = Scenario.model_validate({
        "name": "recognition", "years": (2021, 2021), "lead_times": {K1: 1, K2: 1},
        "budget": {"maintenance_mvnd_per_commune": maintenance},
        "targets": {"communes_ntm": 3, "communes_count": count},
        "objective": {"order": ["communes_ntm", "criteria_met", "earliness", "cost"]},
        "solver": {"mip_gap": 0.0, "tiebreak_gap": 0.0},
    })
    return ds, scenario


def _funded(inst, dec) -> set[str]:
    return {inst.communes[inst.proj_commune[p]] for p in np.flatnonzero(dec.proj_start >= 0)}


def _communes_target(inst):
    return next(t for t in targets_of(inst) if t.key == "communes_ntm")


def test_recognition_is_read_apart_from_the_criteria():
    ds = _dataset()
    assert list(ds.recognised) == [True, False, True]
    assert list(ds.is_ntm) == [False, False, True]
    without = _dataset(recognition=False)
    assert list(without.recognised) == list(without.is_ntm) == [False, False, True]


@pytest.mark.parametrize(("count", "funded", "counted"), [("meeting", {"A"}, 2), ("recognised", {"B"}, 3)])
def test_requalifying_a_recognised_commune_competes_with_finishing_a_new_one(count, funded, counted):
    # meeting: A (10) or B (15) each add one commune meeting every criterion, not both (25 > 15):
    # the cheaper, A, re-qualifies; C + A = 2. recognised: A counts already (kept), so B is
    # finished: A + C kept + B = 3.
    ds, scenario = _case(count)
    result = solve(ds, scenario, guard=False)
    inst = result.instance
    assert _funded(inst, result.plan.decisions) == funded
    target = _communes_target(inst)
    assert target.count == count
    assert achieved_on_plan(target, result.plan.outcomes) == counted
    report = targets_report(result, result.plan)["communes_ntm"]
    assert report == {"target": 3, "achieved": counted, "met": counted == 3, "counts": count}
    # the planners' rule and the simulation measure it the same way
    rule = planners_rule(inst)
    assert _funded(inst, rule) == funded
    assert achieved_on_plan(target, evaluate(inst, rule)) == counted
    sim = simulate(inst, {"optimum": result.plan.decisions}, UncertaintySettings.none(), n_draws=2, seed=0)
    assert list(achieved_on_draws(target, sim.outcomes["optimum"], inst)) == [counted, counted]


def test_maintenance_of_recognised_communes_takes_money():
    # two recognised communes at 2.5 a year leave 10: B (15) no longer fits, even when the
    # target counts recognised communes; A (10) still does
    ds, scenario = _case("recognised", maintenance=2.5)
    inst = build_instance(ds, scenario)
    assert inst.budget.sum() == pytest.approx(10.0)
    assert list(inst.maintenance) == [pytest.approx(5.0)]
    result = solve(ds, scenario, guard=False)
    assert _funded(result.instance, result.plan.decisions) == {"A"}
    assert _funded(inst, planners_rule(inst)) == {"A"}


def test_without_the_column_recognised_is_meeting_every_criterion(lao_cai):
    # without a recognition column a commune is recognised when it meets every criterion, and stating
    # exactly that (and the default maintenance of 0) changes no plan
    small = lao_cai.subset(list(lao_cai.communes.groupby("district_code").head(2).index))
    bare = small.with_(communes=small.communes.drop(columns="recognised_year").assign(advanced=False))
    assert (bare.recognised == bare.is_ntm).all()
    explicit = bare.with_(communes=bare.communes.assign(recognised_year=np.where(bare.is_ntm, 2020.0, np.nan)))
    scenario = Scenario.model_validate({"name": "small", "years": (2021, 2022), "targets": {"communes_ntm": 18},
                                        "solver": {"mip_gap": 0.0, "tiebreak_gap": 0.0}})
    plans = [solve(ds, scenario, guard=False, baselines=False).plan for ds in (bare, explicit)]
    for counted in ("meeting", "recognised"):
        sc = scenario.model_copy(update={"targets": scenario.targets.model_copy(update={"communes_count": counted})})
        plans.append(solve(bare, sc, guard=False, baselines=False).plan)
    first = plans[0].decisions
    for plan in plans[1:]:
        assert np.array_equal(plan.decisions.proj_start, first.proj_start)
        assert plan.outcomes.spend_by_source_year.tobytes() == plans[0].outcomes.spend_by_source_year.tobytes()


def test_a_bad_recognition_year_is_named_by_its_cell(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(bundled_path("lao_cai"), folder)
    communes = pd.read_csv(folder / "communes.csv", dtype=str, keep_default_na=False)
    communes["recognised_year"] = ""
    communes["advanced"] = ""  # a recognised tier needs a recognised commune
    communes.loc[0, "recognised_year"] = "2015"
    communes.loc[3, "recognised_year"] = "năm 2015"
    communes.loc[5, "recognised_year"] = "15"
    communes.to_csv(folder / "communes.csv", index=False)
    with pytest.raises(InputError) as err:
        load_dataset(folder)
    lines = {line.split(":")[0].strip(" -"): line for line in str(err.value).splitlines()[1:]}
    assert set(lines) == {"data/communes.csv, row 5, column recognised_year",
                          "data/communes.csv, row 7, column recognised_year"}
    assert "not a number" in lines["data/communes.csv, row 5, column recognised_year"]
    assert "must not be below 2010" in lines["data/communes.csv, row 7, column recognised_year"]
    communes.loc[[3, 5], "recognised_year"] = ""
    communes.to_csv(folder / "communes.csv", index=False)
    ds = load_dataset(folder)
    assert list(ds.recognised.index[ds.recognised]) == [ds.communes.index[0]]


def test_recognition_years_round_trip_through_the_folder_and_the_workbook(tmp_path):
    from ntm_sim.data.io import read_any
    from ntm_sim.data.io.excel_write import write_workbook
    from ntm_sim.data.io.folder import write_folder

    ds = _dataset()
    write_folder(ds, tmp_path / "folder")
    assert list(load_dataset(tmp_path / "folder").recognised) == [True, False, True]
    write_workbook(ds, tmp_path / "book.xlsx")
    back = read_any(tmp_path / "book.xlsx", units="none")
    assert list(back.communes["recognised_year"].fillna(0)) == [2015, 0, 2019]


def test_the_bundled_data_keep_recognition_while_criteria_fall_short(lao_cai):
    # October 2024 under the Decision 318 set (public): of the recognised, 4 keep 19/19, 40 of 62 keep
    # 14–18, 16 keep 10–13, 2 fewer than 10; 18 held by the revocation rule, by district as published
    rec, met = lao_cai.recognised, lao_cai.criteria_met
    assert rec.sum() == 61
    assert [(rec & (met == 19)).sum(), (rec & met.between(14, 18)).sum(), (rec & met.between(10, 13)).sum(),
            (rec & (met < 10)).sum()] == [4, 39, 16, 2]
    held = lao_cai.held_by_rule
    by_district = lao_cai.communes.loc[held, "district_name"].value_counts().to_dict()
    assert by_district == {"Huyện Bát Xát": 7, "Huyện Mường Khương": 5, "Huyện Bắc Hà": 4, "Thị xã Sa Pa": 1,
                           "Huyện Bảo Yên": 1}
    names = lao_cai.communes["commune_name"]
    assert set(names[rec & (met < 10)]) == {"Liên Minh", "Tà Chải"}
    assert set(names[lao_cai.communes["advanced"]]) == {"Sơn Hà", "Sơn Hải", "Xuân Quang", "Liên Minh", "Tà Chải"}
    assert not lao_cai.cost.where(~lao_cai.status).isna().where(~lao_cai.status, False).to_numpy().any()
    years = lao_cai.communes["recognised_year"]
    assert years[names == "Đồng Tuyển"].item() == 2015
    assert years[names == "Nậm Mòn"].item() == 2020
    assert lao_cai.meta.reviews_from == 2024


def test_a_recognition_column_left_blank_everywhere_is_as_good_as_absent():
    # the workbook template has the column; a planner who leaves it blank keeps today's meaning
    ds = _dataset(recognition=False)
    blank = make_dataset(CRIT, ds.communes.assign(recognised_year=None), ds.status, ds.cost,
                         districts=ds.districts, sources=ds.sources, envelopes=ds.envelopes, file="case")
    assert "recognised_year" not in blank.communes.columns
    assert list(blank.recognised) == [False, False, True]


def test_recognition_years_built_in_code_are_checked():
    ds = _dataset()

    def rebuild(years, advanced=(False, False, False)):
        return make_dataset(CRIT, ds.communes.assign(recognised_year=years, advanced=list(advanced)), ds.status,
                            ds.cost, districts=ds.districts, sources=ds.sources, envelopes=ds.envelopes, file="case")
    late = rebuild([2015, None, 2023])
    assert [(p.severity, p.column) for p in late.warnings] == [("warning", "recognised_year")]
    assert "recognised in 2023, after the data's first year 2021" in late.warnings[0].message
    with pytest.raises(InputError, match="commune A: recognition year 2009.5"):
        rebuild([2009.5, None, 2019])
    with pytest.raises(InputError, match="commune C is marked advanced but has no recognition year"):
        rebuild([2015, 2016, None], advanced=(False, False, True))


# ----- the revocation rule (Decision 18/2022/QĐ-TTg as data) ------------------------------------------

KEY = "TC10"   # income: a key criterion of the rule
OTHERS = [k for k in CRIT.ids if k not in ("TC10", "TC17", "TC19")]


def _rule_case(missing: list[str], money: float, *, reviews_from: int = 2024, cost: dict[str, float] | None = None,
               b_cost: float = 15.0, years: tuple[int, int] = (2024, 2024)):
    """A recognised in 2015 but missing ``missing`` (each 10 unless ``cost`` says); B new, short of K2; C NTM."""
    codes = ["A", "B", "C"]
    status = pd.DataFrame(True, index=codes, columns=CRIT.ids)
    costs = pd.DataFrame(np.nan, index=codes, columns=CRIT.ids)
    for k in missing:
        status.loc["A", k] = False
        costs.loc["A", k] = (cost or {}).get(k, 10.0)
    status.loc["B", K2] = False
    costs.loc["B", K2] = b_cost
    communes = pd.DataFrame({"commune_name": ["Xã A", "Xã B", "Xã C"], "district_code": "9",
                             "advanced_cost_mvnd": 1e6, "model_cost_mvnd": 1e6,
                             "recognised_year": [2015, None, 2019]}, index=codes)
    districts = pd.DataFrame({"district_name": ["Huyện Thử"], "ntm": [False]}, index=["9"])
    sources = pd.DataFrame({"name_vi": ["Tỉnh"], "eligible": ["Tất cả"]}, index=pd.Index(["b"], name="source_id"))
    env = pd.DataFrame({y: [money] for y in range(years[0], years[1] + 1)}, index=sources.index)
    ds = make_dataset(CRIT, communes, status, costs, districts=districts, sources=sources, envelopes=env,
                      file="case")
    ds = ds.with_(meta=replace(ds.meta, reviews_from=reviews_from))
    scenario = Scenario.model_validate({
        "name": "rule", "years": years, "lead_times": {k: 1 for k in CRIT.ids}, "targets": {"communes_ntm": 3},
        "objective": {"order": ["communes_ntm", "criteria_met", "earliness", "cost"]},
        "solver": {"mip_gap": 0.0, "tiebreak_gap": 0.0, "fix_completion": False},
    })
    return ds, scenario


def _counted(inst, dec) -> int:
    return achieved_on_plan(_communes_target(inst), evaluate(inst, dec))


def test_the_rule_is_data_read_from_the_criteria_file():
    rule = CRIT.revocation
    assert rule is not None
    assert rule.unmet_limits(19) == (6, 10)      # 30% of 19 is 5.7: 6 unmet with a key one; 50%: 10 unmet
    assert set(rule.commune.key_criteria) == {"TC10", "TC17", "TC19"}
    assert rule.district.revoked_communes_share == 0.3
    assert CRIT.effective_year == 2022
    new = load_criteria_set("qd51-2026-2030")
    assert new.revocation.unmet_limits(10) == (3, 5)
    assert "revocation rule" in new.provisional_items()


@pytest.mark.parametrize(("missing", "held"), [
    (OTHERS[:5], False),                 # 5 unmet: below 30%
    ([KEY, *OTHERS[:4]], False),         # 5 unmet with a key one: below 30%
    (OTHERS[:6], False),                 # 6 unmet, none key: below 50%
    ([KEY, *OTHERS[:5]], True),          # 6 unmet with a key one: 30–50% with a key criterion
    (OTHERS[:10], True),                 # 10 unmet: 50% or more
])
def test_a_recognised_commune_is_held_by_the_rule_only_as_it_says(missing, held):
    inst = build_instance(*_rule_case(missing, money=0.0 + 1.0))
    assert list(inst.at_risk) == [held, False, False]
    assert inst.recognised.tolist() == [True, False, True]


def test_money_for_one_rescue_keeps_the_recognition_the_rule_would_take():
    # A: 6 unmet with income among them (held). 12 of money: one of A's projects (10) gets it below
    # 30%, or nothing else fits (B costs 15). Funding it keeps A: A + C = 2; without it, C = 1.
    ds, scenario = _rule_case([KEY, *OTHERS[:5]], money=12.0)
    result = solve(ds, scenario, guard=False)
    inst = result.instance
    assert _funded(inst, result.plan.decisions) == {"A"}
    assert _counted(inst, result.plan.decisions) == 2
    assert _counted(inst, Decisions.empty(inst)) == 1            # left alone, the review revokes A
    # on paper, and in a simulation without uncertainty (the rule applied as written), alike
    sim = simulate(inst, {"optimum": result.plan.decisions, "none": Decisions.empty(inst)},
                   UncertaintySettings.none(), n_draws=3, seed=0)
    assert list(sim.outcomes["optimum"]["communes_recognised"]) == [2, 2, 2]
    assert list(sim.outcomes["none"]["communes_recognised"]) == [1, 1, 1]
    # a province that never carries the rule out keeps A whatever the plan
    never = UncertaintySettings.none().model_copy(update={"revocation_probability": 0.0})
    assert list(simulate(inst, {"none": Decisions.empty(inst)}, never, n_draws=2, seed=0)
                .outcomes["none"]["communes_recognised"]) == [2, 2]


def test_with_ten_unmet_only_the_key_criterion_rescues():
    # A: 10 unmet, income among them. One project of money: any other leaves 9 unmet with income
    # (still held); income leaves 9 unmet with no key one (kept), although it costs more.
    ds, scenario = _rule_case([KEY, *OTHERS[:9]], money=14.0, cost={KEY: 14.0})
    result = solve(ds, scenario, guard=False)
    inst = result.instance
    funded = [inst.criteria[inst.proj_criterion[p]] for p in np.flatnonzero(result.plan.decisions.proj_start >= 0)]
    assert funded == [KEY]
    assert _counted(inst, result.plan.decisions) == 2


def test_a_review_after_the_horizon_takes_nothing():
    ds, scenario = _rule_case([KEY, *OTHERS[:5]], money=12.0, reviews_from=2026)
    inst = build_instance(ds, scenario)
    assert not inst.at_risk.any()
    # B is then worth more than rescuing A, and 15 > 12: nothing is funded, A and C count
    assert _counted(inst, Decisions.empty(inst)) == 2
    sc = scenario.model_copy(update={"recognition": scenario.recognition.model_copy(update={"reviews_from": 2024})})
    assert build_instance(ds, sc).at_risk.tolist() == [True, False, False]  # the scenario overrides the data


def test_the_rescue_must_be_done_by_the_review():
    # two years, review at the end of the first: a project finishing in the second is too late
    ds, scenario = _rule_case([KEY, *OTHERS[:5]], money=6.0, years=(2024, 2025))
    inst = build_instance(ds, scenario)
    late = Decisions.empty(inst)
    p = int(inst.projects_of[0][0])
    late.proj_start[p] = 2025
    assert _counted(inst, late) == 1
    early = Decisions.empty(inst)
    early.proj_start[p] = 2024
    assert _counted(inst, early) == 2
    result = solve(ds, scenario, guard=False)   # 6 a year: the 10 of a rescue fit only by the end of 2025
    assert _counted(inst, result.plan.decisions) == 1


def test_a_recognised_district_is_kept_until_the_share_of_its_communes_revoked():
    ds, scenario = _rule_case([KEY, *OTHERS[:5]], money=0.0 + 1e-3)
    ds = ds.with_(districts=ds.districts.assign(ntm=True))
    inst = build_instance(ds, scenario)
    assert inst.recognition.district_limit.tolist() == [1]  # 30% of 3 communes: one revoked is enough
    out = evaluate(inst, Decisions.empty(inst))
    assert not out.district_unit[0]           # A revoked at the review: the unit goes with it
    never = UncertaintySettings.none().model_copy(update={"revocation_probability": 0.0})
    sim = simulate(inst, {"none": Decisions.empty(inst)}, never, n_draws=2, seed=0)
    assert list(sim.outcomes["none"]["district_units"]) == [1, 1]  # recognised and kept, though B is short


def test_before_the_set_is_in_force_recognised_communes_count_every_criterion():
    # 2021 is under the previous set (Decision 318 comes into force in 2022): A counts 19 then
    ds, scenario = _rule_case(OTHERS[:2], money=0.0 + 1e-3, years=(2021, 2022), reviews_from=2024)
    inst = build_instance(ds, scenario)
    assert inst.recognition.assessed_from == 1
    sim = simulate(inst, {"none": Decisions.empty(inst)}, UncertaintySettings.none(), n_draws=2, seed=0)
    o = sim.outcomes["none"]
    assert o["meeting_by_year"].tolist() == [[2, 1], [2, 1]]    # A and C in 2021; C alone from 2022
    assert o["ntm_by_year"].tolist() == [[2, 2], [2, 2]]        # counted as recognised: A is kept
    assert o["criteria_by_year"][0].tolist() == pytest.approx([(19 + 18 + 19) / 3, (17 + 18 + 19) / 3])
    assert o["recognised_by_year"].tolist() == [[2, 2], [2, 2]]


def test_decision_07_shares_to_a_recognised_commune_as_already_ntm():
    # A is recognised but short of criteria of the set in force: Decision 07's group "already NTM" (1.0), not
    # the group its criteria count would give (15–18: 3.0); B, not recognised, by its count
    from ntm_sim.optimize.baselines import d07_coefficients

    inst = build_instance(*_rule_case(OTHERS[:2], money=10.0))
    assert d07_coefficients(inst).tolist() == [1.0, 3.0, 1.0]
