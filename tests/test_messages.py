"""The dashboard's catalogue: two languages with the same texts, problems readable, safe folder names."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest

from ntm_sim.errors import InputError, Problem
from ntm_sim.messages import MAX_ITEMS, MESSAGES, Catalogue, folder_name, vietnam_time


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_both_languages_hold_every_text_with_the_same_fields():
    for key, entry in MESSAGES.items():
        assert set(entry) == {"vi", "en"}, key
        assert _fields(entry["vi"]) == _fields(entry["en"]), key
        assert entry["vi"] != entry["en"] or key.startswith("problem."), key


def test_a_problem_reads_in_the_page_s_language():
    p = Problem("so_lieu.xlsx", "unrecognised status for TC2", sheet="Kết quả tiêu chí", row=9, column="E (TC2)",
                expected="'Đạt' or 'Chưa đạt' (also x, 1/0)", found="có lẽ")
    assert Catalogue("vi").problem(p) == ("tệp so_lieu.xlsx, trang ‘Kết quả tiêu chí’, dòng 9, cột E (TC2): không "
                                          "hiểu trạng thái của TC2; cần ‘Đạt’ hoặc ‘Chưa đạt’ (hoặc x, 1/0); nhận "
                                          "được ‘có lẽ’")
    assert Catalogue("en").problem(p).startswith("file so_lieu.xlsx, sheet ‘Kết quả tiêu chí’, row 9, column E (TC2): "
                                                 "unrecognised status for TC2")
    unknown = Problem("x.csv", "something new went wrong")
    assert Catalogue("vi").problem(unknown) == "tệp x.csv: something new went wrong"  # kept, never lost


def test_a_blank_template_gives_a_short_list(tmp_path):
    """2,413 problems on 47,000 px before: one line per column, at most 30 lines."""
    from ntm_sim.io import load_dataset
    from ntm_sim.io.excel_write import write_template
    from ntm_sim.units import lao_cai_units

    path = tmp_path / "mau_trong.xlsx"
    write_template(path)  # what `ntm-sim template` writes: the communes listed, every status empty
    with pytest.raises(InputError) as err:
        load_dataset(path, units=lao_cai_units())
    problems = err.value.problems
    assert len(problems) > 1000
    lines = Catalogue("vi").problems(problems)
    assert len(lines) <= MAX_ITEMS + 1
    assert any("trạng thái của TC1 để trống" in line and " dòng (" in line for line in lines), lines[:3]
    if len(lines) == MAX_ITEMS + 1:
        assert lines[-1].startswith("… và ")


def test_folder_names_are_safe():
    assert folder_name("Giảm vốn 20% – Đồng Tuyển") == "Giam_von_20_Dong_Tuyen"
    assert folder_name("../..") == ""
    assert folder_name(".an") == "an"
    assert folder_name("Bắc Hà/Si Ma Cai") == "Bac_Ha_Si_Ma_Cai"
    assert len(folder_name("ă" * 200)) == 64


def test_times_are_in_vietnam_time():
    moment = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    assert vietnam_time(moment).strftime("%d/%m %H:%M") == "02/12 00:30"


def test_numbers_follow_the_language():
    assert Catalogue("vi").number(1234.5, 1) == "1.234,5"
    assert Catalogue("en").number(1234.5, 1) == "1,234.5"
    assert Catalogue.of("fr").lang == "vi"
