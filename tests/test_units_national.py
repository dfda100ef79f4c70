"""National unit lists (before and after 1 July 2025): lists, detection of the province, --units."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from ntm_sim.cli import app
from ntm_sim.data.admin_units import find_province, national_units, package_version, provinces
from ntm_sim.data.registry import load_dataset
from ntm_sim.data.units import detect_units, lao_cai_units, province_units, resolve_units
from ntm_sim.errors import InputError

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

LAI_CHAU = Path(__file__).parent / "data" / "repro" / "lai_chau_status_only.xlsx"


def test_package_version_is_the_pinned_one() -> None:
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"vietnamadminunits=={package_version()}"' in pyproject


def test_both_generations_have_the_published_counts() -> None:
    old, new = national_units("pre2025"), national_units("2025")
    assert len(provinces("pre2025")) == 63
    assert len(provinces("2025")) == 34
    assert old.index.is_unique
    assert new.index.is_unique
    assert len(new) == 3321
    assert (new["district_code"] == "").all()  # no districts from 1 July 2025
    assert (old["district_code"] != "").all()


def test_merged_lao_cai_has_99_units_ten_of_them_wards() -> None:
    units = province_units("Lào Cai", "2025")
    assert units.province_code == "15"
    assert len(units.communes) == 99
    assert not units.has_districts
    kinds = national_units("2025").loc[units.communes.index, "unit_type"].value_counts()
    assert kinds.to_dict() == {"Xã": 89, "Phường": 10}


def test_province_codes_differ_between_generations() -> None:
    assert find_province("Lào Cai", "pre2025") == "10"
    assert find_province("Yên Bái", "pre2025") == "15"
    assert find_province("lao_cai", "2025") == "15"
    assert find_province("Yên Bái", "2025") is None  # merged into Lào Cai


def test_lai_chau_sheet_is_detected_as_lai_chau_before_the_reform() -> None:
    ws = openpyxl.load_workbook(LAI_CHAU, read_only=True).worksheets[0]
    rows = list(ws.iter_rows(min_row=5, values_only=True))
    found = detect_units([r[2] for r in rows], [r[1] for r in rows])
    assert found.units is not None
    assert (found.units.province_name, found.units.generation) == ("Lai Châu", "pre2025")
    assert found.matched == found.rows == 94


def test_lai_chau_sheet_validates_without_flags() -> None:
    result = CliRunner().invoke(app, ["validate", str(LAI_CHAU)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    assert "Danh mục đơn vị: Lai Châu (trước 1/7/2025)" in result.output
    ds = load_dataset(LAI_CHAU)
    assert len(ds.communes) == 94
    assert ds.communes["district_code"].nunique() == 8
    assert set(ds.communes["province_code"]) == {"12"}


def _with_wrong_code(tmp_path: Path) -> Path:
    wb = openpyxl.load_workbook(LAI_CHAU)
    ws = wb.worksheets[0]
    assert ws["C6"].value == 3403
    ws["C6"] = 3404  # not a code of any unit of Lai Châu
    out = tmp_path / "lai_chau_wrong.xlsx"
    wb.save(out)
    return out


def test_a_wrong_code_is_rejected_with_suggestions_from_lai_chau(tmp_path: Path) -> None:
    path = _with_wrong_code(tmp_path)
    with pytest.raises(InputError) as info:
        load_dataset(path)
    (problem,) = [p for p in info.value.problems if p.severity == "error"]
    assert problem.row == 6
    assert problem.column.startswith("C")
    assert "commune code 3404 is not in the Lai Châu (trước 1/7/2025) list" in problem.message
    assert "did you mean 3403 (Sùng Phài, Thành phố Lai Châu)" in problem.message
    assert "Lào Cai" not in problem.message


def test_units_choice_overrides_detection(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_dataset(LAI_CHAU, units=resolve_units("lao_cai"))
    assert all("Lào Cai 2021 list" in p.message for p in info.value.problems if p.severity == "error")
    assert len(load_dataset(LAI_CHAU, units=None).communes) == 94
    assert load_dataset(LAI_CHAU, units=resolve_units("lai_chau@pre2025")).meta.units.startswith("Lai Châu")
    with pytest.raises(InputError, match="no province 'Narnia'"):
        resolve_units("Narnia")
    with pytest.raises(InputError, match="unknown list generation"):
        resolve_units("lai_chau@1999")


def test_lao_cai_2021_sheets_still_use_the_bundled_list() -> None:
    units = lao_cai_units()
    codes = list(units.communes.index[:14])
    found = detect_units(codes, [None] * len(codes))
    assert found.units is units
    names = list(units.communes["commune_name"][:3])
    assert detect_units([None] * 3, names).units is units


def test_a_sheet_of_no_province_is_refused_with_the_way_out(tmp_path: Path) -> None:
    assert detect_units(["99999991", "99999992"], [None, None]).units is None
    path = tmp_path / "nowhere.csv"
    path.write_text("commune_code,criterion,met\n" + "".join(f"99999991,TC{k},Đạt\n" for k in range(1, 20)),
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_dataset(path)
    (problem,) = info.value.problems
    assert "the province cannot be detected" in problem.message
    assert problem.column == "commune_code"
    assert "--units" in problem.expected
    assert len(load_dataset(path, units=None).communes) == 1


def test_a_template_of_any_province_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "lai_chau_2026.xlsx"
    result = CliRunner().invoke(app, ["template", str(out), "--units", "Lai Châu@2025", "--criteria",
                                      "qd51-2026-2030"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    ws = wb["Kết quả tiêu chí"]
    rows = [row for row in ws.iter_rows() if isinstance(row[2].value, int)]
    assert len(rows) == 38  # Lai Châu from 1 July 2025: no district rows
    for row in rows:
        for cell in row[3:13]:
            cell.value = "Chưa đạt"
    wb.save(out)
    result = CliRunner().invoke(app, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    assert "Danh mục đơn vị: Lai Châu (từ 1/7/2025)" in result.output
    assert "Huyện: không (từ 1/7/2025)" in result.output
    assert "Tiêu chí: 10 (qd51-2026-2030)" in result.output


def test_the_unit_lists_load_no_code_of_the_packages_dependencies() -> None:
    """vietnamadminunits (MIT) depends on Unidecode (GPL) for its address parser: ntm-sim reads only its data."""
    import subprocess
    import sys

    code = ("import sys; from ntm_sim.data.admin_units import national_units; "
            "from ntm_sim.data.units import detect_units; national_units('pre2025'); national_units('2025'); "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'unidecode', 'shapely', 'geopy', 'tqdm'} or m.startswith('vietnamadminunits.')); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
