"""Every shipped scenario loads, validates and fits the bundled data it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntm_sim.errors import InputError
from ntm_sim.instance import build_instance
from ntm_sim.scenario import load_scenario
from ntm_sim.workflow import scenario_dataset

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
