"""The 1 July 2025 reform: which new commune-level unit each old one became.

The mapping is the old → new converter of the package ``vietnamadminunits`` (its file
``data/converter_2025.json``, built from the merger resolutions of the Standing
Committee of the National Assembly as published on sapnhap.bando.com.vn), joined to the
two national lists of :mod:`ntm_sim.data.admin_units` by the package's own keys. An old unit
split between several new ones maps to the one the package marks as its default
(``isDefaultNewWard``); the others are kept in ``other_new_codes`` so that a planner can
see the split. The mapping of the merged Lào Cai (old Lào Cai and Yên Bái) is also
shipped as ``data/units/lao_cai_2025_from_pre2025.csv`` for planners to read; a test
keeps it equal to what this module derives.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from ntm_sim.data import admin_units
from ntm_sim.errors import InputError, Problem, Text

MAPPING_COLUMNS = [
    "old_province_code", "old_province_name", "old_district_code", "old_district_name", "old_commune_code",
    "old_commune_name", "new_province_code", "new_province_name", "new_commune_code", "new_commune_name",
    "other_new_codes",
]
SHIPPED = {"15": "lao_cai_2025_from_pre2025.csv"}


@cache
def _converter() -> dict[str, dict]:
    path = admin_units.package_file("converter_2025.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _new_codes(new_province_key: str) -> dict[str, str]:
    """New commune code by the package's ward key, in one new province."""
    new = admin_units.national_units("2025")
    rows = new[new["key"].str.startswith(new_province_key + "_")]
    return {key.split("_", 1)[1]: code for key, code in zip(rows["key"], rows.index, strict=True)}


def _province_key(code: str) -> str:
    new = admin_units.national_units("2025")
    return str(new.loc[new["province_code"] == code, "key"].iloc[0]).split("_", 1)[0]


@cache
def reform_mapping(new_province: str = "Lào Cai") -> pd.DataFrame:
    """Every pre-2025 commune-level unit of the provinces merged into ``new_province``, with its new unit.

    Parameters
    ----------
    new_province
        A province of the list from 1 July 2025 (code or name).

    Returns
    -------
    pandas.DataFrame
        One row per old unit, columns :data:`MAPPING_COLUMNS`, in the order of the old
        list. ``other_new_codes`` lists, for an old unit split between new ones, the
        new units other than its default (``"; "``-separated, usually empty).
    """
    code = admin_units.find_province(new_province, "2025")
    if code is None:
        raise InputError([Problem(str(new_province), Text("carry.province"))])
    conv = _converter()
    pkey = _province_key(code)
    codes = _new_codes(pkey)
    target: dict[str, tuple[str, list[str]]] = {}
    for new_key, old_keys in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].get(pkey, {}).items():
        for old_key in old_keys:
            target[old_key] = (codes[new_key], [])
    for old_key, options in conv["DICT_PROVINCE_WARD_DIVIDED"].get(pkey, {}).items():
        default = next(o for o in options if o["isDefaultNewWard"])
        target[old_key] = (codes[default["newWardKey"]],
                           [codes[o["newWardKey"]] for o in options if o is not default])
    old = admin_units.national_units("pre2025")
    old = old[old["key"].isin(target)]
    new = admin_units.national_units("2025")
    rows = []
    for old_code, unit in old.iterrows():
        new_code, others = target[unit["key"]]
        rows.append((unit["province_code"], unit["province_name"], unit["district_code"], unit["district_name"],
                     old_code, unit["commune_name"], code, new.at[new_code, "province_name"], new_code,
                     new.at[new_code, "commune_name"], "; ".join(others)))
    return pd.DataFrame(rows, columns=MAPPING_COLUMNS)


def shipped_mapping(new_province_code: str = "15") -> pd.DataFrame:
    """Read the mapping shipped with the package for a new province (``"15"``: the merged Lào Cai)."""
    path = Path(str(resources.files("ntm_sim") / "data" / "units" / SHIPPED[new_province_code]))
    return pd.read_csv(path, dtype=str, keep_default_na=False, comment="#", encoding="utf-8")


def write_mapping(path: Path, new_province: str = "Lào Cai") -> None:
    """Write the derived mapping as CSV with its source in a comment line (how the shipped file is made)."""
    table = reform_mapping(new_province)
    header = f"# {admin_units.source_text('pre2025')} → {admin_units.generation_info('2025').label_vi}\n"
    path.write_text(header + table.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
