"""Every shipped scenario loads, validates and fits the bundled data it names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm_sim.errors import InputError
from ntm_sim.model.instance import build_instance
from ntm_sim.model.scenario import load_scenario
from ntm_sim.run.workflow import scenario_dataset
from suite_settings import ROOT

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_fits_the_bundled_data(path, lao_cai):
    sc = load_scenario(path)
    ds = lao_cai if sc.data == "lao_cai" else scenario_dataset(sc)
    inst = build_instance(ds, sc)
    assert inst.n_communes == {"lao_cai": 127, "lao_cai_2026": 89}[sc.data]
    assert sc.name == path.stem
    assert len(sc.content_hash()) == 64


def test_scenario_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nyears: [2025, 2021]\nbudget: {scael: 1}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(bad)
    text = str(err.value)
    assert "budget.scael" in text


def test_scenario_unknown_district_and_source(tmp_path, lao_cai):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntargets: {district_units: [Hà Nội]}\nbudget: {source_scale: {vay: 2}}\n",
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        build_instance(lao_cai, load_scenario(bad))
    text = str(err.value)
    assert "Hà Nội" in text
    assert "vay" in text


def test_yaml_syntax_error_has_a_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbudget:\n  scale: [1\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(bad)
    assert err.value.problems[0].row is not None


def test_a_year_s_money_scales_every_source_of_that_year_only(lao_cai):
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    before = build_instance(lao_cai, base).budget
    after = build_instance(lao_cai, base.with_(budget={**base.budget.model_dump(), "year_scale": {2023: 0.5}})).budget
    years = list(range(base.years[0], base.years[1] + 1))
    k = years.index(2023)
    np.testing.assert_allclose(after[:, k], 0.5 * before[:, k])
    np.testing.assert_array_equal(np.delete(after, k, axis=1), np.delete(before, k, axis=1))
    assert after[:, k].sum() > 0  # the test has teeth: that year has money to halve


def test_a_year_outside_the_plan_is_named(tmp_path, lao_cai):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbudget: {year_scale: {2030: 0.5}}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        build_instance(lao_cai, load_scenario(bad))
    assert "budget.year_scale" in str(err.value)
    assert "2030" in str(err.value)
    bad.write_text("name: x\nbudget: {year_scale: {2023: -1}}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(bad)
    assert "year_scale" in str(err.value)


@settings(max_examples=40, deadline=None)
@given(factor=st.floats(min_value=0.0, max_value=5.0, allow_nan=False))
def test_a_budget_variant_multiplies_the_money_and_is_named_after_its_share(factor):
    """One way to make a budget variant (issue 20, item 3): the scale multiplies, the name says the percent."""
    base = load_scenario(ROOT / "scenarios" / "budget_cut_20.yaml")
    variant = base.scaled(factor, named=True)
    assert variant.budget.scale == base.budget.scale * factor
    assert variant.name == f"{base.name}_x{round(factor * 100):03d}"
    assert variant.budget.envelopes == base.budget.envelopes
    assert base.scaled(factor).name == base.name  # unnamed: only the money changes


def test_budget_levels_are_read_by_one_rule():
    """``--budget-scale`` of sweep and frontier: one reader, the same message for what is not a number."""
    from ntm_sim.bounds import parse_levels

    assert parse_levels("0.6, 0.8,1", "--budget-scale") == (0.6, 0.8, 1.0)
    assert parse_levels("0,1", "--budget-scale", positive=False) == (0.0, 1.0)
    for bad in ("0.6,abc", "", "0,1"):
        with pytest.raises(InputError) as err:
            parse_levels(bad, "--budget-scale")
        assert err.value.problems[0].file == "--budget-scale"
