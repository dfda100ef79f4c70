"""Old → new units of the merged Lào Cai (old Lào Cai and Yên Bái), from the package's converter."""

from __future__ import annotations

import pandas as pd
import pytest

from ntm_sim.data.admin_units import national_units
from ntm_sim.data.reform import reform_mapping, shipped_mapping
from ntm_sim.data.units import lao_cai_units, province_units


@pytest.fixture(scope="module")
def mapping() -> pd.DataFrame:
    return reform_mapping("Lào Cai")


def test_every_old_unit_of_both_provinces_maps_exactly_once(mapping: pd.DataFrame) -> None:
    old = national_units("pre2025")
    old_units = set(old.index[old["province_code"].isin(["10", "15"])])  # Lào Cai, Yên Bái before 2025
    assert len(old_units) == 151 + 168
    assert mapping["old_commune_code"].is_unique
    assert set(mapping["old_commune_code"]) == old_units
    assert set(mapping["old_province_name"]) == {"Lào Cai", "Yên Bái"}


def test_every_new_unit_is_reached_and_nothing_else(mapping: pd.DataFrame) -> None:
    new = set(province_units("Lào Cai", "2025").communes.index)
    assert set(mapping["new_commune_code"]) == new
    assert len(new) == 99
    assert (mapping["new_province_code"] == "15").all()
    assert (mapping["other_new_codes"] == "").all()  # no old unit of these provinces was split


def test_the_published_example_merger(mapping: pd.DataFrame) -> None:
    rows = mapping[mapping["old_commune_name"].isin(["Bản Cái", "Nậm Lúc", "Cốc Lầu"])
                   & (mapping["old_district_name"] == "Huyện Bắc Hà")]
    assert len(rows) == 3
    assert set(rows["new_commune_name"]) == {"Cốc Lầu"}


def test_the_shipped_file_is_what_the_package_gives(mapping: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(shipped_mapping("15"), mapping)


def test_the_2021_list_differs_from_the_pre_reform_list_by_one_merged_commune(mapping: pd.DataFrame) -> None:
    missing = set(lao_cai_units().communes.index) - set(mapping["old_commune_code"])
    assert missing == {"2872"}  # Tà Chải, merged before 30 June 2025; not in the package's pre-reform list


def test_names_of_the_2021_list_that_the_package_spells_otherwise(mapping: pd.DataFrame) -> None:
    """The bundled 2021 list is kept as it is; four names differ in the package (see data/units/README.md).

    Tone-mark placement (Vạn Hoà / Vạn Hòa, Sơn Thuỷ / Sơn Thủy) compares equal.
    """
    from ntm_sim.text import commune_key

    ours = lao_cai_units().communes["commune_name"]
    theirs = mapping.set_index("old_commune_code")["old_commune_name"].reindex(ours.index).dropna()
    differ = {code: (ours[code], name) for code, name in theirs.items() if commune_key(ours[code]) != commune_key(name)}
    assert differ == {"2755": ("Tả Ngải Chồ", "Tả Ngài Chồ"), "2836": ("Nàn Xín", "Nàn Sín"),
                      "3073": ("Nậm Rạng", "Nậm Dạng"),
                      "3076": ("Nậm Chầy", "Nậm Chày")}
