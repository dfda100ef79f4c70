"""National lists of administrative units, before and after the 1 July 2025 reform.

The lists come from the maintained package ``vietnamadminunits`` (MIT licence; the
version is pinned in ``pyproject.toml``), which collected them from the statistics
office's catalogue of administrative units (danhmuchanhchinh.gso.gov.vn) and the
national mapping portal of the 2025 mergers (sapnhap.bando.com.vn):

* ``pre2025``: 63 provinces, district-level units, and 10,035 commune-level units
  (communes, wards and townships) as they stood just before 1 July 2025. Commune
  mergers of 2023–2025 are already in it, so a few communes of 2021 are missing
  (in Lào Cai: Tà Chải, code 2872).
* ``2025``: 34 provinces and 3,321 commune-level units (communes, wards and special
  zones) from 1 July 2025, without districts.

Codes are the statistics office's: province codes of two digits, commune codes of
five (``02659``); they are compared without leading zeros, as everywhere in
ntm-sim. The package's SQLite table is read directly (the same rows its
``vietnamadminunits.database.query`` returns) so that importing this module does
not load the package's address parser.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import metadata, util
from pathlib import Path
from typing import Literal

import pandas as pd

from ntm_sim.data.dataset import normalise_code
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.text import district_key, fold, nfc

Generation = Literal["pre2025", "2025"]
GENERATIONS: tuple[Generation, ...] = ("pre2025", "2025")

PACKAGE = "vietnamadminunits"
SOURCE_ORG = ("Danh mục đơn vị hành chính Việt Nam (Tổng cục Thống kê, danhmuchanhchinh.gso.gov.vn; "
              "sapnhap.bando.com.vn)")


@dataclass(frozen=True)
class GenerationInfo:
    """What one generation of unit lists is and where it comes from."""

    id: Generation
    table: str
    label_vi: str
    label_en: str
    has_districts: bool


_INFO = {
    "pre2025": GenerationInfo("pre2025", "admin_units_legacy", "trước 1/7/2025", "before 1 July 2025", True),
    "2025": GenerationInfo("2025", "admin_units", "từ 1/7/2025", "from 1 July 2025", False),
}


def generation_info(generation: Generation) -> GenerationInfo:
    """Return the description of a generation (``"pre2025"`` or ``"2025"``)."""
    return _INFO[generation]


def package_version() -> str:
    """Return the installed version of ``vietnamadminunits`` (the data's version)."""
    return metadata.version(PACKAGE)


def source_text(generation: Generation) -> str:
    """Return the provenance of a generation's list, for messages, data files and reports."""
    info = _INFO[generation]
    return f"{SOURCE_ORG}, {info.label_vi}; qua gói {PACKAGE} {package_version()} (MIT)"


def package_file(name: str) -> Path:
    """Return a data file of the installed ``vietnamadminunits`` (without importing its parser)."""
    spec = util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError([Problem(PACKAGE, Text("units.package"), expected=Text("units.package.expected"))])
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


def _database() -> Path:
    return package_file("dataset.db")


_COLUMNS = {
    "pre2025": ("provinceCode, province, provinceShort, districtCode, district, wardCode, ward, wardShort, "
                "wardType, provinceKey || '_' || districtKey || '_' || wardKey"),
    "2025": ("provinceCode, province, provinceShort, '', '', wardCode, ward, wardShort, wardType, "
             "provinceKey || '_' || wardKey"),
}
_NAMES = ["province_code", "province_full_name", "province_name", "district_code", "district_name",
          "commune_code", "commune_full_name", "commune_name", "unit_type", "key"]


@cache
def national_units(generation: Generation) -> pd.DataFrame:
    """Every commune-level unit of the country in one generation.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``commune_code`` (no leading zeros); columns ``province_code``,
        ``province_name`` (short, e.g. "Lào Cai"), ``province_full_name``,
        ``district_code``, ``district_name`` (empty from 2025), ``commune_name``
        (short, e.g. "Cốc Lầu"), ``commune_full_name``, ``unit_type`` (Xã, Phường,
        Thị trấn, Đặc khu) and ``key`` (the package's converter key).
    """
    sql = f"SELECT {_COLUMNS[generation]} FROM {_INFO[generation].table} WHERE wardCode IS NOT NULL"  # noqa: S608
    with sqlite3.connect(f"file:{_database()}?mode=ro", uri=True) as conn:
        frame = pd.DataFrame(conn.execute(sql).fetchall(), columns=_NAMES)
    for col in ("province_code", "district_code", "commune_code"):
        frame[col] = frame[col].map(normalise_code)
    for col in ("province_full_name", "province_name", "district_name", "commune_full_name", "commune_name",
                "unit_type"):
        frame[col] = frame[col].fillna("").map(nfc)
    # the short name without the package's disambiguation ("Mường Tè (Xã)"): the full name less its type
    frame["commune_name"] = [full[len(kind):].strip() if kind and full.startswith(kind + " ") else short
                             for full, kind, short in zip(frame["commune_full_name"], frame["unit_type"],
                                                          frame["commune_name"], strict=True)]
    return frame.set_index("commune_code", drop=False).rename_axis(None)


def provinces(generation: Generation) -> pd.DataFrame:
    """Provinces of a generation: code, short and full name, and count of commune-level units."""
    units = national_units(generation)
    table = units.groupby("province_code", sort=True).agg(
        province_name=("province_name", "first"), province_full_name=("province_full_name", "first"),
        units=("commune_code", "size"))
    return table


def find_province(text: object, generation: Generation) -> str | None:
    """Return the province code written as ``text`` (code, name, with or without diacritics)."""
    table = provinces(generation)
    code = normalise_code(text)
    if code in table.index:
        return code
    wanted = _province_key(text)
    for pcode, row in table.iterrows():
        if wanted in {_province_key(row["province_name"]), _province_key(row["province_full_name"])}:
            return str(pcode)
    return None


def _province_key(text: object) -> str:
    key = fold(district_key(text)).casefold().replace("_", " ")
    for prefix in ("tinh ", "thu do "):
        key = key.removeprefix(prefix)
    return key.replace(" ", "")


@cache
def _legacy_coordinates() -> pd.DataFrame:
    """Latitude and longitude of every pre-2025 commune-level unit, by code without leading zeros."""
    sql = "SELECT wardCode, wardLat, wardLon FROM admin_units_legacy WHERE wardCode IS NOT NULL"
    with sqlite3.connect(f"file:{_database()}?mode=ro", uri=True) as conn:
        frame = pd.DataFrame(conn.execute(sql).fetchall(), columns=["commune_code", "lat", "lon"])
    frame["commune_code"] = frame["commune_code"].map(normalise_code)  # '02659' → '2659', as our data write it
    return frame.dropna(subset=["lat", "lon"]).drop_duplicates("commune_code").set_index("commune_code")


def commune_coordinates(codes: Iterable[object]) -> pd.DataFrame:
    """Official coordinates (WGS84 degrees) of communes by their statistics-office code.

    Read from the package's table of units before 1 July 2025 (``wardLat``, ``wardLon``).
    Codes are matched without leading zeros, so ``2659``, ``"2659"`` and ``"02659"`` are
    one commune.

    Parameters
    ----------
    codes
        Commune codes, in any of those forms (an iterable).

    Returns
    -------
    pandas.DataFrame
        One row per code asked for, in the order given: ``commune_code`` (as given,
        normalised), ``lat``, ``lon`` (NaN where the list has no coordinates, e.g. a
        commune merged away before 2025, such as Tà Chải, 2872) and ``found``.
    """
    wanted = [normalise_code(c) for c in codes]
    known = _legacy_coordinates()
    table = pd.DataFrame({"commune_code": wanted})
    table["lat"] = table["commune_code"].map(known["lat"]).astype(float)
    table["lon"] = table["commune_code"].map(known["lon"]).astype(float)
    table["found"] = table["lat"].notna() & table["lon"].notna()
    return table
