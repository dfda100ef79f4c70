"""A province without districts (units from 1 July 2025): it solves and simulates, with no district units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ntm_sim.data.checks import check_dataset
from ntm_sim.data.criteria import load_criteria_set
from ntm_sim.data.dataset import Dataset, make_dataset
from ntm_sim.data.units import province_units
from ntm_sim.errors import InputError
from ntm_sim.model.instance import build_instance
from ntm_sim.model.scenario import Scenario
from ntm_sim.run.workflow import run_scenario, solve_and_simulate


def no_district_dataset(n: int = 8, criteria_set: str = "qd318-2021-2025") -> Dataset:
    """Eight communes of the merged Lào Cai (real codes, no districts), made-up status and costs."""
    crit = load_criteria_set(criteria_set)
    units = province_units("Lào Cai", "2025").communes.iloc[:n]
    rng = np.random.default_rng(7)
    status = pd.DataFrame(rng.random((n, len(crit))) < 0.8, index=units.index, columns=crit.ids)
    status.iloc[0] = True
    cost = pd.DataFrame(np.where(status, np.nan, rng.integers(5, 30, status.shape) * 100.0),
                        index=units.index, columns=crit.ids)
    communes = units.assign(province_code="15", province_name="Lào Cai")
    sources = pd.DataFrame({"name_vi": ["Ngân sách"], "name_en": ["Budget"], "eligible": ["Tất cả"]},
                           index=pd.Index(["ns"], name="source_id"))
    envelopes = pd.DataFrame({2026: [6000.0], 2027: [6000.0], 2028: [6000.0]}, index=sources.index)
    return make_dataset(crit, communes, status, cost, sources=sources, envelopes=envelopes)


def _scenario(**extra: object) -> Scenario:
    return Scenario.model_validate({"name": "no_districts", "years": [2026, 2028], "mode": "max-achievement",
                                    "targets": {"communes_ntm": 4, "min_criteria": 10}, **extra})


def test_a_dataset_without_districts_has_no_district_table() -> None:
    ds = no_district_dataset()
    assert (ds.communes["district_code"] == "").all()
    assert ds.districts.empty
    assert check_dataset(ds) == []
    inst = build_instance(ds, _scenario())
    assert inst.districts == []
    assert (inst.commune_district == -1).all()


def test_it_solves_and_simulates_with_no_district_targets(tmp_path: Path) -> None:
    ds = no_district_dataset()
    run = solve_and_simulate(ds, _scenario(robustness={"enabled": False}), draws=40, seed=0)
    assert run.simulation is not None
    targets = run.result.instance.targets
    assert targets.district_units == ()
    assert targets.advanced_districts == ()
    outcomes = run.result.plan.outcomes
    assert outcomes.communes_ntm >= 2  # one NTM at the start, and the money reaches more
    assert outcomes.district_unit.shape == (0,)
    projects = run.result.plan.projects
    assert (projects["district_code"] == "").all()
    out = tmp_path / "run"
    run_scenario(ds, _scenario(robustness={"test_draws": 100}), out, draws=100, seed=0)
    assert (out / "summary.json").exists()


def test_a_district_target_is_refused_where_there_are_no_districts() -> None:
    with pytest.raises(InputError, match="district"):
        build_instance(no_district_dataset(), _scenario(targets={"district_units": ["Bắc Hà"]}))
