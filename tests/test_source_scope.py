"""Funding sources scoped to provinces, districts, communes or the Zone III flag pay only there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ntm_sim.data.criteria import load_criteria_set
from ntm_sim.data.dataset import make_dataset
from ntm_sim.errors import InputError
from ntm_sim.model.instance import build_instance
from ntm_sim.model.plan import check
from ntm_sim.model.scenario import Scenario
from ntm_sim.optimize import solve


def two_provinces(scope_a: str):
    crit = load_criteria_set()
    codes = ["1", "2"]
    status = pd.DataFrame(True, index=codes, columns=crit.ids)
    status.loc[:, "TC12"] = False  # one-year criterion missing in both communes
    cost = pd.DataFrame(np.nan, index=codes, columns=crit.ids)
    cost.loc[:, "TC12"] = [10.0, 10.0]
    communes = pd.DataFrame({"commune_name": ["A", "B"], "district_code": ["11", "21"],
                             "district_name": ["Huyện A", "Huyện B"], "province_code": ["1", "2"],
                             "province_name": ["Tỉnh A", "Tỉnh B"]}, index=codes)
    sources = pd.DataFrame({"name_vi": ["Tỉnh A"], "name_en": ["A"], "eligible": ["Tất cả"], "scope": [scope_a]},
                           index=pd.Index(["a"], name="source_id"))
    env = pd.DataFrame({2021: [100.0]}, index=sources.index)
    return make_dataset(crit, communes, status, cost, sources=sources, envelopes=env)


def scenario():
    return Scenario.model_validate({"name": "s", "years": (2021, 2021), "solver": {"time_limit_s": 20}})


def test_scoped_source_pays_only_in_its_province():
    r = solve(two_provinces("1"), scenario())
    assert check(r.instance, r.plan.decisions) == []
    assert r.plan.outcomes.commune_year_ntm.tolist() == [2021, 0]  # only province 1 is funded
    assert set(r.plan.funding["commune_code"]) == {"1"}
    for plan in r.baselines.values():
        assert plan.outcomes.commune_year_ntm[1] == 0


def test_unscoped_source_pays_everywhere():
    r = solve(two_provinces(""), scenario())
    assert r.plan.outcomes.commune_year_ntm.tolist() == [2021, 2021]


def test_district_code_scope():
    r = solve(two_provinces("21"), scenario())
    assert r.plan.outcomes.commune_year_ntm.tolist() == [0, 2021]


def three_communes(scope: str, zone3=(False, True, False)):
    """Three communes in one district and province, each missing one cheap criterion."""
    crit = load_criteria_set()
    codes = ["101", "102", "103"]
    status = pd.DataFrame(True, index=codes, columns=crit.ids)
    status.loc[:, "TC12"] = False
    cost = pd.DataFrame(np.nan, index=codes, columns=crit.ids)
    cost.loc[:, "TC12"] = 10.0
    communes = pd.DataFrame({"commune_name": ["A", "B", "C"], "district_code": ["11"] * 3,
                             "district_name": ["Huyện A"] * 3, "province_code": ["1"] * 3,
                             "province_name": ["Tỉnh A"] * 3, "especially_difficult": list(zone3)}, index=codes)
    sources = pd.DataFrame({"name_vi": ["Gộp"], "name_en": ["Pooled"], "eligible": ["Tất cả"], "scope": [scope]},
                           index=pd.Index(["pooled"], name="source_id"))
    env = pd.DataFrame({2021: [100.0]}, index=sources.index)
    return make_dataset(crit, communes, status, cost, sources=sources, envelopes=env)


def test_commune_code_scope():
    r = solve(three_communes("101; 103"), scenario())
    assert check(r.instance, r.plan.decisions) == []
    assert r.plan.outcomes.commune_year_ntm.tolist() == [2021, 0, 2021]


@pytest.mark.parametrize("flag", ["ĐBKK", "đbkk", "khu vực III", "Zone III", "especially_difficult"])
def test_zone3_flag_scope(flag):
    # pooled money for Zone III communes (the 1719 programme) pays only there
    r = solve(three_communes(flag, zone3=(False, True, True)), scenario())
    assert r.plan.outcomes.commune_year_ntm.tolist() == [0, 2021, 2021]
    for plan in r.baselines.values():
        assert plan.outcomes.commune_year_ntm[0] == 0


def test_flag_and_codes_combine():
    r = solve(three_communes("ĐBKK; 101"), scenario())
    assert r.plan.outcomes.commune_year_ntm.tolist() == [2021, 2021, 0]


def test_unknown_scope_entry_is_named():
    with pytest.raises(InputError) as err:
        build_instance(three_communes("101; 999; vùng cao"), scenario())
    text = str(err.value)
    assert "'999'" in text
    assert "'vùng cao'" in text
    assert "ĐBKK" in text
