from __future__ import annotations

import unicodedata
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook

from ntm_sim.data.io.excel import read_workbook
from ntm_sim.data.io.excel_write import write_template, write_workbook
from ntm_sim.data.io.folder import long_status, read_folder, write_folder
from ntm_sim.data.io.longcsv import read_long_csv
from ntm_sim.data.registry import load_dataset

EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "example_planner_sheet_bao_thang.xlsx"
TABLES = ("communes", "status", "cost", "cost_estimated", "districts", "sources", "eligibility",
          "envelopes")


def assert_same(a, b):
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert a.content_hash() == b.content_hash()


def cells(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


@pytest.mark.parametrize("units", ["lao_cai", None])
def test_wide_excel_round_trip_is_lossless(lao_cai, tmp_path, units):
    first = tmp_path / "a.xlsx"
    write_workbook(lao_cai, first)
    back = read_workbook(first, units=units)
    assert_same(lao_cai, back)
    assert back.meta.demo  # the demo label survives the trip
    second = tmp_path / "b.xlsx"
    write_workbook(back, second)
    assert cells(first) == cells(second)


def test_folder_and_long_csv_round_trip(lao_cai, tmp_path):
    write_folder(lao_cai, tmp_path / "ds")
    assert_same(lao_cai, read_folder(tmp_path / "ds"))
    long_status(lao_cai).to_csv(tmp_path / "long.csv", index=False)
    back = read_long_csv(tmp_path / "long.csv")
    pd.testing.assert_frame_equal(back.status, lao_cai.status)
    pd.testing.assert_frame_equal(back.cost, lao_cai.cost)


@pytest.mark.skipif(not EXAMPLE.exists(), reason="shared example not present")
def test_reads_the_example_planner_sheet():
    ds = read_workbook(EXAMPLE)
    assert len(ds.communes) == 11
    assert set(ds.communes["district_name"]) == {"Huyện Bảo Thắng"}
    assert ds.criteria_met.loc["2911"] == 14  # matches the sheet's own total column
    assert ds.cost.loc["2911", "TC7"] == 1538
    assert ds.meta.demo  # the sheet says "SỐ LIỆU GIẢ ĐỊNH"
    assert not ds.any_cost_estimated


def _sheet(rows, merged=(), title="Sheet1"):
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(list(r))
    for m in merged:
        ws.merge_cells(m)
    return wb


def _save(wb, tmp_path, name="in.xlsx"):
    path = tmp_path / name
    wb.save(path)
    return path


def test_variant_single_row_tc_headers_and_marks(tmp_path):
    header = ["TT", "Tên xã", *[f"TC{i}" for i in range(1, 20)], "Tổng"]
    row1 = ["1", "Xã Bản Phiệt", *["x"] * 18, None, 18]
    row2 = [2, "Xã Bản Cầm", *["x"] * 19, 19]
    path = _save(_sheet([["Tiêu đề"], [], header, [], row1, row2, ["Ghi chú: số liệu 2021"]]), tmp_path)
    ds = read_workbook(path)
    assert ds.criteria_met.to_dict() == {"2911": 18, "2914": 19}
    assert not ds.status.loc["2911", "TC19"]


def test_variant_names_headers_one_zero_and_nfd(tmp_path, criteria):
    header = ["STT", "Đơn vị", *[c.name_vi for c in criteria.criteria]]
    nfd = unicodedata.normalize("NFD", "Sơn Hà")
    rows = [["Thống kê"], header, ["I", "Huyện Bảo Thắng"], [1, nfd, *[1] * 18, 0],
            [None] * 5, ["II", "Thị xã Sa Pa"], [2, "Thanh Bình", *[0] + [1] * 18]]
    ds = read_workbook(_save(_sheet(rows), tmp_path))
    # "Thanh Bình" exists in Mường Khương and Sa Pa: the district row decides
    assert set(ds.communes.index) == {"2938", "3175"} or "Thanh Bình" in set(ds.communes["commune_name"])
    tb = ds.communes[ds.communes["commune_name"] == "Thanh Bình"]
    assert tb["district_name"].item() == "Thị xã Sa Pa"
    assert ds.criteria_met.loc["2938"] == 18


def test_variant_tieu_chi_headers_lowercase_words(tmp_path):
    header = ["Mã xã", "Xã", *[f"Tiêu chí {i}" for i in range(1, 20)]]
    rows = [header, [2659, "Thống Nhất", *["đạt"] * 10, *["CHƯA ĐẠT"] * 9]]
    ds = read_workbook(_save(_sheet(rows), tmp_path))
    assert ds.criteria_met.loc["2659"] == 10
    assert ds.any_cost_estimated  # no cost sheet: costs estimated and said so


def test_template_is_written_and_lists_every_commune(tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(path)
    wb = openpyxl.load_workbook(path)
    assert "Hướng dẫn" in wb.sheetnames
    assert "Kết quả tiêu chí" in wb.sheetnames
    codes = [r[2] for r in wb["Kết quả tiêu chí"].iter_rows(values_only=True) if isinstance(r[2], int)]
    assert len(codes) == 127


def test_bundled_name_and_folder_path_load_the_same(lao_cai):
    from ntm_sim.data.dataset import bundled_path

    assert load_dataset(bundled_path("lao_cai")).content_hash() == lao_cai.content_hash()
