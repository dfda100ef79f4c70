"""Carrying a 2021–2025 dataset onto the units from 1 July 2025 and the 2026–2030 criteria."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from ntm_sim.cli import app
from ntm_sim.data.admin_units import national_units
from ntm_sim.data.carry import carry_dataset, write_carried
from ntm_sim.data.criteria import load_criteria_mapping
from ntm_sim.data.io.values import NEEDS_INPUT
from ntm_sim.data.reform import reform_mapping
from ntm_sim.data.registry import load_dataset
from ntm_sim.errors import InputError

COC_LAU = "2896"  # new Cốc Lầu = old Nậm Lúc (2893), Cốc Lầu (2896), Bản Cái (2899), all of Lào Cai


@pytest.fixture(scope="module")
def ds():
    return load_dataset("lao_cai")


@pytest.fixture(scope="module")
def carried(ds):
    return carry_dataset(ds)


def test_new_communes_are_the_rural_units_of_the_merged_province(carried) -> None:
    new = national_units("2025")
    communes = new[(new["province_code"] == "15") & (new["unit_type"] == "Xã")]
    assert set(carried.communes.index) == set(communes.index)
    assert len(carried.communes) == 89
    assert carried.criteria.id == "qd51-2026-2030"
    assert carried.unassigned == ("2872",)  # Tà Chải: merged before 2025, the planner assigns it
    assert carried.into_wards  # communes that became part of a ward are named, not carried


def test_a_merged_commune_meets_a_criterion_only_if_every_part_did(ds, carried) -> None:
    parts = ["2893", "2896", "2899"]
    assert carried.communes.loc[COC_LAU, "parts"] == "; ".join(parts)
    assert carried.communes.loc[COC_LAU, "missing_parts"] == ""
    links = load_criteria_mapping("qd318-2021-2025", "qd51-2026-2030").links
    for k, link in links.items():
        got = carried.status.loc[COC_LAU, k]
        if link.rule == "unknown":
            assert got is None
        else:
            assert got == bool(ds.status.loc[parts, list(link.old)].to_numpy().all()), k


def test_a_part_missing_from_the_data_leaves_met_criteria_unknown(carried) -> None:
    mapping = reform_mapping("Lào Cai")
    yen_bai_only = set(mapping.loc[mapping["old_province_name"] == "Yên Bái", "new_commune_code"]) - set(
        mapping.loc[mapping["old_province_name"] == "Lào Cai", "new_commune_code"])
    rural = [c for c in yen_bai_only if c in carried.status.index]
    assert rural
    assert carried.status.loc[rural].isna().all().all()  # no data at all: every cell for the planner


def test_the_validator_names_every_cell_that_needs_the_planners_input(ds, carried, tmp_path: Path) -> None:
    path = tmp_path / "carried.xlsx"
    write_carried(carried, ds, path)
    with pytest.raises(InputError) as info:
        load_dataset(path)
    problems = info.value.problems
    assert len(problems) == len(carried.needs_input()) > 0
    assert all("needs the planner's input" in p.message and p.sheet == "Kết quả tiêu chí" and p.row and p.column
               for p in problems)
    # the planner fills every such cell (and may change any other): the workbook then loads
    wb = openpyxl.load_workbook(path)
    ws = wb["Kết quả tiêu chí"]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == NEEDS_INPUT:
                cell.value = "Chưa đạt"
    wb.save(path)
    filled = load_dataset(path)
    assert filled.criteria.id == "qd51-2026-2030"
    assert len(filled.communes) == 89
    assert filled.districts.empty
    assert filled.meta.units == "Lào Cai (từ 1/7/2025)"
    assert int(filled.status.to_numpy().sum()) == int(carried.status.eq(True).to_numpy().sum())


def test_assign_completes_the_mapping_and_the_cli_writes_the_workbook(ds, tmp_path: Path) -> None:
    assigned = carry_dataset(ds, assign={"2872": "2839"})
    assert assigned.unassigned == ()
    assert "2872" in assigned.communes.loc["2839", "parts"]
    with pytest.raises(InputError, match="not a unit of"):
        carry_dataset(ds, assign={"2872": "99999"})
    out = tmp_path / "carried.xlsx"
    result = CliRunner().invoke(app, ["data", "carry", str(out)])
    assert result.exit_code == 0, result.output
    assert "89 xã" in result.output
    assert "2872" in result.output
    assert out.exists()
