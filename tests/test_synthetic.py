"""The synthetic national dataset: shape, variety, reproducibility, scopes, and a small solve."""

from __future__ import annotations

import numpy as np
import pytest

from ntm_sim.data.synthetic import national_dataset
from ntm_sim.model.instance import build_instance
from ntm_sim.model.plan import check
from ntm_sim.model.scenario import Scenario
from ntm_sim.optimize import solve

# one worker: the module's costly fixture is built once, not once per worker
pytestmark = pytest.mark.xdist_group("synthetic")


@pytest.fixture(scope="module")
def country():
    return national_dataset()


@pytest.fixture(scope="module")
def small():
    return national_dataset(n_provinces=3, n_communes=300)


def test_national_shape_and_variety(country):
    ds = country
    c = ds.communes
    assert len(c) == 8000
    assert c["province_code"].nunique() == 63
    assert 650 <= len(ds.districts) <= 750
    assert set(c["district_code"]) == set(ds.districts.index)
    # each district lies in one province
    assert (c.groupby("district_code")["province_code"].nunique() == 1).all()
    share_ntm = float(ds.is_ntm.mean())
    assert 0.60 <= share_ntm <= 0.66
    met = ds.criteria_met
    assert (met < 10).sum() > 50
    # income, poverty, production and environment are the most often missing
    missing = (~ds.status).sum().sort_values(ascending=False)
    assert {"TC10", "TC11", "TC13", "TC17"} <= set(missing.index[:6])
    # especially difficult communes are concentrated in some provinces
    ed = c.groupby("province_code")["especially_difficult"].mean()
    assert 0.12 <= float(c["especially_difficult"].mean()) <= 0.22
    assert ed.max() > 3 * ed.median()
    # recognised district units have every commune NTM
    recognised = ds.districts.index[ds.districts["ntm"]]
    assert len(recognised) > 0
    assert ds.is_ntm[c["district_code"].isin(recognised)].all()
    # costs only where a criterion is unmet, positive, with a spread
    cost = ds.cost.to_numpy()
    assert np.isnan(cost[ds.status.to_numpy()]).all()
    open_cost = cost[~ds.status.to_numpy()]
    assert (open_cost > 0).all()
    assert open_cost.std() > 0


def test_money_is_short_and_labelled_demo(country):
    ds = country
    assert ds.meta.demo
    assert "tổng hợp" in ds.meta.demo_label.lower() or "synthetic" in ds.meta.demo_label.lower()
    money = float(ds.envelopes.to_numpy().sum())
    need = float(ds.cost_to_complete.sum())
    assert money < 0.6 * need
    assert (ds.envelopes.to_numpy() >= 0).all()


def test_sources_are_national_or_scoped_to_their_province(country):
    ds = country
    src = ds.sources
    national = src.index[src["scope"] == ""]
    assert 2 <= len(national) <= 6
    provinces = set(ds.communes["province_code"])
    scoped = src[src["scope"] != ""]
    assert set(scoped["scope"]) == provinces
    # province codes never collide with district codes (a scope matches one kind of unit)
    assert not provinces & set(ds.districts.index)
    for sid, row in scoped.iterrows():
        assert sid.endswith(f"_{row['scope']}")
    # every province has a provincial budget that may pay for everything
    all_ok = ds.eligibility.all(axis=1)
    assert set(scoped.loc[all_ok[scoped.index], "scope"]) == provinces


def test_reproducible_with_the_seed(small):
    again = national_dataset(n_provinces=3, n_communes=300)
    other = national_dataset(n_provinces=3, n_communes=300, seed=7)
    assert small.content_hash() == again.content_hash()
    assert small.content_hash() != other.content_hash()


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_communes"):
        national_dataset(n_provinces=5, n_communes=3)
    with pytest.raises(ValueError, match="n_provinces"):
        national_dataset(n_provinces=0)


def test_scopes_resolve_and_small_country_solves(small):
    sc = Scenario.model_validate({"name": "small", "years": (2021, 2025), "solver": {"time_limit_s": 60}})
    inst = build_instance(small, sc)
    # provincial money may pay only in its province
    province = small.communes["province_code"].to_numpy()
    for g, cls in enumerate(inst.classes):
        communes = np.flatnonzero(inst.commune_upgrade_class == g)
        for f in cls:
            scope = small.sources.loc[inst.sources[f], "scope"]
            if scope and len(communes):
                assert (province[communes] == scope).all()
    r = solve(small, sc)
    assert check(r.instance, r.plan.decisions) == []
    o = r.plan.outcomes
    assert o.communes_ntm > int(small.is_ntm.sum())
    for name, plan in r.baselines.items():
        assert check(r.instance, plan.decisions) == [], name
        assert o.communes_ntm >= plan.outcomes.communes_ntm, name
    # money from a province's budgets is spent in that province only
    funding = r.plan.funding.merge(small.communes[["province_code"]], left_on="commune_code", right_index=True)
    scoped = funding[funding["source"].map(small.sources["scope"]) != ""]
    assert (scoped["source"].map(small.sources["scope"]) == scoped["province_code"]).all()


def test_zone3_communes_are_not_ntm_and_miss_poverty(country):
    from ntm_sim.data.checks import poverty_criteria

    ed = country.communes["especially_difficult"]
    assert not (ed & country.is_ntm).any()
    assert not country.status.loc[ed, poverty_criteria(country.criteria)].any().any()
    assert country.warnings == ()
