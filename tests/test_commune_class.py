"""Decision 51's commune groups as an optional commune column: read, checked, written, summarised."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from ntm_sim.cli import app
from ntm_sim.data import demo2026
from ntm_sim.data.checks import commune_class_id
from ntm_sim.data.criteria import load_criteria_set
from ntm_sim.data.dataset import OPTIONAL_COMMUNE_COLUMNS, make_dataset
from ntm_sim.data.io import schema
from ntm_sim.data.io.excel_write import write_template, write_workbook
from ntm_sim.data.io.folder import write_folder
from ntm_sim.data.registry import load_dataset
from ntm_sim.data.summary import validation_summary
from ntm_sim.errors import InputError

QD51 = load_criteria_set("qd51-2026-2030")
QD318 = load_criteria_set("qd318-2021-2025")


@pytest.fixture(scope="module")
def small():
    """Five communes of the 2026–2030 demo data (classes included)."""
    ds = demo2026.lao_cai_2026()
    return ds.subset(list(ds.communes.index[:5]))


def _lines(err: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [line for line in str(err.value).splitlines() if "ERROR" in line or "commune class" in line]


def test_the_column_is_optional_and_kept_only_when_given():
    assert "commune_class" in OPTIONAL_COMMUNE_COLUMNS
    ds = load_dataset("lao_cai")
    assert "commune_class" not in ds.communes.columns
    blank = make_dataset(QD51, demo2026.lao_cai_2026().communes.assign(commune_class=""),
                         demo2026.lao_cai_2026().status)
    assert "commune_class" not in blank.communes.columns


@settings(max_examples=60, deadline=None)
@given(number=st.sampled_from([1, 2, 3]), form=st.sampled_from(["id", "name", "nhóm", "group", "number"]),
       upper=st.booleans(), decompose=st.booleans(), pad=st.sampled_from(["", " ", "  \t"]))
def test_a_class_is_named_by_id_name_group_or_number_in_any_case_or_unicode_form(number, form, upper, decompose,
                                                                                   pad):
    cls = QD51.commune_classes[number - 1]
    text = {"id": cls.id, "name": cls.name_vi, "nhóm": f"Nhóm {number}", "group": f"group {number}",
            "number": str(number)}[form]
    text = text.upper() if upper else text
    text = unicodedata.normalize("NFD", text) if decompose else text  # Excel files mix composed and decomposed
    assert commune_class_id(QD51, pad + text + pad) == cls.id


@pytest.mark.parametrize("bad", ["nhóm 4", "4", "khu vực III", "Nhóm III"])
def test_a_bad_class_in_a_folder_is_named_by_its_cell(tmp_path, small, bad):
    folder = tmp_path / "data"
    write_folder(small, folder)
    communes = pd.read_csv(folder / "communes.csv", dtype=str, keep_default_na=False)
    communes.loc[1, "commune_class"] = "Nhóm 3"  # a good spelling beside the bad one
    communes.loc[2, "commune_class"] = bad
    communes.to_csv(folder / "communes.csv", index=False)
    with pytest.raises(InputError) as err:
        load_dataset(folder)
    (line,) = _lines(err)
    assert "data/communes.csv, row 4, column commune_class" in line
    assert "not a commune class of qd51-2026-2030" in line
    assert "nhom1, nhom2, nhom3" in line
    assert repr(bad) in line
    communes.loc[2, "commune_class"] = "2"
    communes.to_csv(folder / "communes.csv", index=False)
    back = load_dataset(folder)
    assert back.communes["commune_class"].iloc[1] == "nhom3"
    assert back.communes["commune_class"].iloc[2] == "nhom2"


def test_a_bad_class_in_a_workbook_is_named_by_sheet_row_and_column(tmp_path, small):
    path = tmp_path / "book.xlsx"
    write_workbook(small, path)
    wb = load_workbook(path)
    ws = wb[schema.SHEET_COMMUNES]
    header_row, col = next((c.row, c.column) for row in ws.iter_rows() for c in row
                           if c.value == schema.COMMUNE_CLASS.header_vi)
    ws.cell(header_row + 2, col, "nhóm bốn")
    wb.save(path)
    with pytest.raises(InputError) as err:
        load_dataset(path)
    (line,) = _lines(err)
    assert f"sheet '{schema.SHEET_COMMUNES}'" in line or schema.SHEET_COMMUNES in line
    assert f"row {header_row + 2}" in line
    assert "Nhóm xã (QĐ 51/2025)" in line
    assert "'nhóm bốn'" in line


def test_a_class_under_a_set_without_classes_is_refused(tmp_path):
    folder = tmp_path / "data"
    ds = load_dataset("lao_cai")
    write_folder(ds.subset(list(ds.communes.index[:3])), folder)
    communes = pd.read_csv(folder / "communes.csv", dtype=str, keep_default_na=False)
    communes["commune_class"] = ["nhom1", "", ""]
    communes.to_csv(folder / "communes.csv", index=False)
    with pytest.raises(InputError) as err:
        load_dataset(folder)
    (line,) = _lines(err)
    assert "row 2, column commune_class" in line
    assert "has no commune classes" in line


def test_a_bad_class_built_in_code_is_named(small):
    with pytest.raises(InputError) as err:
        make_dataset(QD51, small.communes.assign(commune_class=["nhom1", "nhom9", "", "3", "nhom2"]),
                     small.status)
    (problem,) = [p for p in err.value.problems if p.severity == "error"]
    assert problem.column == "commune_class"
    assert "nhom9" in problem.message
    ok = make_dataset(QD51, small.communes.assign(commune_class=["nhom1", "Nhóm 2", "", "3", "nhom2"]), small.status)
    assert list(ok.communes["commune_class"]) == ["nhom1", "nhom2", "", "nhom3", "nhom2"]


def test_the_template_has_the_column_only_for_a_set_with_classes(tmp_path):
    headers = {}
    for crit in (QD51, QD318):
        path = tmp_path / f"{crit.id}.xlsx"
        write_template(path, crit, with_lao_cai=True)
        ws = load_workbook(path)[schema.SHEET_COMMUNES]
        headers[crit.id] = {c.value for row in ws.iter_rows(max_row=6) for c in row}
    assert schema.COMMUNE_CLASS.header_vi in headers["qd51-2026-2030"]
    assert schema.COMMUNE_CLASS.header_vi not in headers["qd318-2021-2025"]
    assert "Năm được công nhận NTM" in headers["qd318-2021-2025"]


def test_validate_and_summary_show_the_class_counts(small):
    text = validation_summary(demo2026.lao_cai_2026())
    counts = demo2026.lao_cai_2026().communes["commune_class"].value_counts()
    line = next(ln for ln in text.splitlines() if ln.startswith("Phân nhóm theo bộ tiêu chí"))
    for i in (1, 2, 3):
        assert f"Xã nhóm {i}: {int(counts[f'nhom{i}'])}" in line
    assert "Xã NTM được công nhận: 37" in text
    result = CliRunner().invoke(app, ["validate", "bundled:lao_cai_2026"])
    assert result.exit_code == 0, result.output
    assert "Phân nhóm theo bộ tiêu chí" in result.output
