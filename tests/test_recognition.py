"""Recognition kept apart from meeting every criterion (issue 9, part 2).

A recognised commune short of a criterion of the current set stays recognised on paper,
but needs its re-qualification projects to count as *meeting* the standard; the scenario
says which the communes target counts, and a yearly maintenance cost per recognised
commune takes money. Cases are small enough to compute by hand.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from ntm_sim.criteria import load_criteria_set
from ntm_sim.dataset import bundled_path, make_dataset
from ntm_sim.errors import InputError
from ntm_sim.io import load_dataset

CRIT = load_criteria_set()
K1, K2 = CRIT.ids[0], CRIT.ids[1]


def _dataset(recognition: bool = True):
    """Three communes, one year, 15 (million VND) of money.

    ``A`` recognised in 2015 but short of criterion K1 (re-qualifying costs 10); ``B``
    never recognised, short of K2 (finishing costs 15); ``C`` recognised, meets all.
    """
    codes = ["A", "B", "C"]
    status = pd.DataFrame(True, index=codes, columns=CRIT.ids)
    status.loc["A", K1] = status.loc["B", K2] = False
    cost = pd.DataFrame(np.nan, index=codes, columns=CRIT.ids)
    cost.loc["A", K1], cost.loc["B", K2] = 10.0, 15.0
    communes = pd.DataFrame({"commune_name": ["Xã A", "Xã B", "Xã C"], "district_code": "9",
                             "advanced_cost_mvnd": 1e6, "model_cost_mvnd": 1e6}, index=codes)
    if recognition:
        communes["recognised_year"] = [2015, None, 2019]
    districts = pd.DataFrame({"district_name": ["Huyện Thử"], "ntm": [True]}, index=["9"])
    sources = pd.DataFrame({"name_vi": ["Tỉnh"], "eligible": ["Tất cả"]}, index=pd.Index(["b"], name="source_id"))
    env = pd.DataFrame({2021: [15.0]}, index=sources.index)
    return make_dataset(CRIT, communes, status, cost, districts=districts, sources=sources, envelopes=env,
                        file="case")


def test_recognition_is_read_apart_from_the_criteria():
    ds = _dataset()
    assert list(ds.recognised) == [True, False, True]
    assert list(ds.is_ntm) == [False, False, True]
    without = _dataset(recognition=False)
    assert list(without.recognised) == list(without.is_ntm) == [False, False, True]


def test_a_bad_recognition_year_is_named_by_its_cell(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(bundled_path("lao_cai"), folder)
    communes = pd.read_csv(folder / "communes.csv", dtype=str, keep_default_na=False)
    communes["recognised_year"] = ""
    communes.loc[0, "recognised_year"] = "2015"
    communes.loc[3, "recognised_year"] = "năm 2015"
    communes.loc[5, "recognised_year"] = "15"
    communes.to_csv(folder / "communes.csv", index=False)
    with pytest.raises(InputError) as err:
        load_dataset(folder)
    lines = {line.split(":")[0].strip(" -"): line for line in str(err.value).splitlines()[1:]}
    assert set(lines) == {"data/communes.csv, row 5, column recognised_year",
                          "data/communes.csv, row 7, column recognised_year"}
    assert "not a number" in lines["data/communes.csv, row 5, column recognised_year"]
    assert "must not be below 2010" in lines["data/communes.csv, row 7, column recognised_year"]
    communes.loc[[3, 5], "recognised_year"] = ""
    communes.to_csv(folder / "communes.csv", index=False)
    ds = load_dataset(folder)
    assert list(ds.recognised.index[ds.recognised]) == [ds.communes.index[0]]


def test_recognition_years_round_trip_through_the_folder_and_the_workbook(tmp_path):
    from ntm_sim.io import read_any
    from ntm_sim.io.excel_write import write_workbook
    from ntm_sim.io.folder import write_folder

    ds = _dataset()
    write_folder(ds, tmp_path / "folder")
    assert list(load_dataset(tmp_path / "folder").recognised) == [True, False, True]
    write_workbook(ds, tmp_path / "book.xlsx")
    back = read_any(tmp_path / "book.xlsx", units="none")
    assert list(back.communes["recognised_year"].fillna(0)) == [2015, 0, 2019]
