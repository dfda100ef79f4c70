"""Demo dataset of the merged Lào Cai for 2026–2030, from where it stands today (DEMO DATA).

It is built, not shipped, so that it follows the bundled 2021–2025 data whatever they are;
every count below holds **by construction**. Field by field, with sources:
``src/ntm_sim/data/lao_cai_2026/README.md``.

* **Units (public).** The 89 communes (xã) of Lào Cai from 1 July 2025 (old Lào Cai and
  Yên Bái), official codes and names (:mod:`ntm_sim.data.admin_units`); its 10 wards are urban
  units, not NTM communes.
* **Where it stands (public counts).** 37 of the 89 communes recognised NTM, 1 advanced, none
  model (:data:`RECOGNISED`, :data:`ADVANCED`, :data:`MODEL`). Which ones is not public: a
  new commune is taken as recognised when every former commune it was made of was (the
  weakest part, as :mod:`ntm_sim.data.carry` carries criteria; it is also why 180 NTM communes
  of the two provinces became 37). The old Lào Cai communes come from the bundled data
  (:func:`ntm_sim.data.carry.carry_dataset`), the old Yên Bái ones from Yên Bái's own record
  where it decides (its NTM district units, Mù Cang Chải's first NTM commune in 2025) and a
  seeded draw for the rest, topped up or trimmed so that the count is 37.
  ``recognised_year``: the year the last of its former communes was recognised.
* **Re-assessed under Decision 51 from 15/2/2026.** Status columns are the 10 criteria of
  Decision 51/2025 as the stated mapping derives them (``qd318_to_qd51.yaml``); the cells
  it cannot derive are drawn with seed :data:`SEED`: for the 37 recognised communes with the
  assumed chance of missing each criterion of the raised standard (:data:`RECOGNISED_MISS`),
  a drawn cell never putting one past the revocation line (a commune over it would be up
  for revocation, and the province counts 37; the derived cells stand, so some are at risk,
  reviews from :data:`REVIEWS_FROM`); for the others with the share met among the carried
  communes.
* **Decision 51's commune groups** (``commune_class``): group 3 where the commune is Zone III
  (the carried ``especially_difficult`` flag for old Lào Cai; synthetic for old Yên Bái),
  group 1 where it absorbed a former township (a district seat, urban-oriented; public unit
  data), group 2 otherwise.
* **Costs.** Carried from the old figures where a derived criterion is unmet; otherwise the
  default unit cost of one former commune times its former communes, scaled by what the
  carried cells of that criterion cost against the same default (:func:`_cost_ratio`):
  assumptions, marked estimated.
* **Money (assumption, derived).** Resolution 257/2025/QH15's national totals for 2026–2030,
  channel by channel (:data:`CHANNELS`), times the province's share of the country's
  communes (:func:`province_share`), split over the years by :data:`YEAR_SPLIT`. Policy
  credit and the enterprises' part are not sources (lent to households, or tied to the
  enterprise's own projects: not spent by the province on a commune's criteria).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import pandas as pd

from ntm_sim.data import admin_units
from ntm_sim.data.carry import Carried, carry_dataset
from ntm_sim.data.costs import estimate_costs
from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.dataset import Dataset, DatasetMeta, make_dataset
from ntm_sim.data.reform import reform_mapping
from ntm_sim.text import nfc

SEED = 20261201
NAME = "lao_cai_2026"
YEARS = (2026, 2027, 2028, 2029, 2030)
PROVINCE = "Lào Cai"

# ----- where the merged province stands (public: vietnam.vn/en/tim-luc-day-tu-sinh-ke-va-noi-luc-vung-cao-lao-cai;
# vietnam.vn/en/quyet-tam-vuot-kho-huong-toi-phat-trien-ben-vung) -----------------------------------
RECOGNISED = 37
ADVANCED = 1
MODEL = 0
OLD_LAO_CAI, OLD_YEN_BAI = "10", "15"  # province codes before 1 July 2025

# ----- old Lào Cai: public recognition years (sources in the data README), by old commune code -----
# 2015: Đồng Tuyển, Tả Phời, Bản Sen, Bản Lầu, Bản Vược, Hoà Mạc, Bảo Nhai, Xuân Quang, Sơn Hải,
# Việt Tiến, Yên Sơn (nongthonmoihatinh.vn); 2019: Bản Cầm, Bản Phiệt, Tân Dương, Nậm Đét
# (vietnamnet.vn), Nàn Sán (khuyennongvn.gov.vn); "for 2020": Nậm Mòn, Cốc Lầu, Tân Thượng,
# Xuân Thượng (truyenhinhbaoyen.vn); "for 2024": Tả Van and Thanh Bình of Sa Pa (vietnam.vn/en/
# cong-bo-xa-thanh-binh-va-xa-ta-van-dat-chuan-nong-thon-moi).
LAO_CAI_YEARS = {
    **dict.fromkeys(("2662", "2677", "2797", "2788", "2710", "3097", "2890", "2926", "2929", "2983", "2986"),
                    2015),
    **dict.fromkeys(("2914", "2911", "2965", "2884", "2800"), 2019),
    **dict.fromkeys(("2881", "2896", "3070", "2980"), 2020),
    **dict.fromkeys(("3040", "3022"), 2024),
}
#: A commune recognised at the start of the 2021–2025 data whose year is not public: "by the end of 2020".
YEAR_NOT_PUBLIC = 2020

# ----- old Yên Bái: its record where it decides; the rest synthetic ----------------------------------
# Public: 5 district-level units of Yên Bái met the NTM standard by April 2025 (vietnam.vn/en/
# yen-bai-khoi-suc-manh-noi-luc-xay-dung-nong-thon-moi-ben-vung): TP Yên Bái and Trấn Yên (2/9 by
# 2021, baovemoitruong.org.vn; Trấn Yên since 2019), Nghĩa Lộ (2020, same source), Yên Bình (aim
# of 2023, en.baoyenbai.com.vn 71530) and Văn Yên (for 2024, vietnamnews.vn 1690123). A unit meets
# the standard only when every commune does (Decision 320/QĐ-TTg), so a new commune made only of
# their communes had every part recognised. Value: the latest year its communes can have been
# recognised (the unit's own year; Yên Bình: 2024, assumed).
YEN_BAI_NTM_UNITS = {nfc(k): v for k, v in {"Huyện Trấn Yên": 2019, "Thị xã Nghĩa Lộ": 2020, "Huyện Yên Bình": 2024,
                                            "Huyện Văn Yên": 2024, "Thành phố Yên Bái": 2020}.items()}
# Public: Nậm Khắt (March 2025) was the first NTM commune of Mù Cang Chải (same source as the units):
# a new commune with another part there cannot have been recognised.
NO_NTM_DISTRICT, FIRST_NTM_THERE = nfc("Huyện Mù Căng Chải"), "4495"
# Public: years of named Yên Bái communes (a new commune containing one was recognised no earlier):
# Khánh Hòa and Động Quan (Lục Yên) for 2024 (en.baoyenbai.com.vn 111789), Nậm Khắt and Suối Giàng
# in 2025 (vietnam.vn as above), Quang Minh (Văn Yên) in 2020 (sggpnews.org.vn, 15/11/2020).
YEN_BAI_YEARS = {"4342": 2024, "4351": 2024, "4495": 2025, "4657": 2025, "4393": 2020}
#: Synthetic: the first year a Yên Bái commune's recognition is drawn from (Tuy Lộc, the first, in 2014).
YEN_BAI_FIRST_YEAR = 2014
#: Synthetic: weight of a Yên Bái commune outside the NTM units in the top-up draw, by its old district.
TOP_UP_WEIGHT = {nfc("Huyện Lục Yên"): 1.0, nfc("Huyện Văn Chấn"): 1.0, nfc("Huyện Trạm Tấu"): 0.25}
#: Synthetic: a Yên Bái commune not recognised is Zone III (especially difficult) with this chance;
#: in the highland districts always.
YEN_BAI_ZONE3_SHARE = 0.5
YEN_BAI_HIGHLAND = (nfc("Huyện Mù Căng Chải"), nfc("Huyện Trạm Tấu"))
#: The year reviews under Decision 51's revocation rule start (``DatasetMeta.reviews_from``). Derived
#: from the public count: 37 communes were still recognised in December 2026, so none was revoked in 2026.
REVIEWS_FROM = 2027
# The advanced commune: which one is not public. Việt Hồng: two of its three former communes, Việt
# Cường and Vân Hội, were recognised advanced in 2024 (langngheviet.com.vn, Trấn Yên: 14 advanced and
# 5 model communes); that the third, Việt Hồng, was too is assumed.
ADVANCED_COMMUNE = "4564"

# ----- re-assessment under Decision 51 (assumption) --------------------------------------------------
#: Chance that a recognised commune misses a criterion of the raised 2026–2030 standard, where the
#: mapping cannot derive it (old Lào Cai: TC7 and TC9 only; old Yên Bái: every criterion). Highest
#: for the new content (TC7 science, technology and digital transformation; TC9 public
#: administration); then the criteria hardest to keep in 2024 (income and production, labour,
#: schools and health, poverty: vietnam.vn/en/khong-de-xa-nao-bi-thu-hoi-...); lowest for planning
#: and security.
RECOGNISED_MISS = {"TC1": 0.02, "TC2": 0.08, "TC3": 0.15, "TC4": 0.10, "TC5": 0.10, "TC6": 0.10,
                   "TC7": 0.40, "TC8": 0.08, "TC9": 0.20, "TC10": 0.03}
#: Decision 18/2022's revocation shares and the key criteria read in the new set, used when the
#: criteria set carries no revocation rule of its own.
REVOCATION_SHARES = (0.30, 0.50)
REVOCATION_KEYS = ("TC3", "TC8", "TC10")

# ----- targets derived from the national aims (Resolution 257/2025/QH15; en.qdnd.vn, nhandan.vn) -----
#: About 65% of communes NTM and 10% modern by 2030.
NATIONAL_AIMS = {"communes_ntm": 0.65, "model": 0.10}


@dataclass(frozen=True)
class Channel:
    """One channel of Resolution 257/2025's money and how it enters the dataset.

    Parameters
    ----------
    id
        Source id in the dataset.
    name_vi, name_en
        Names.
    national_bn
        The national total for 2026–2030 (billion VND).
    eligible
        The criteria it may pay for (a rule of :func:`ntm_sim.data.checks.eligibility_from_rule`);
        empty: not a source of the dataset (``why``).
    why
        Where the total comes from and how the channel enters.
    counted
        The part of the province's share that enters as the source (1: all; 0: none).
    """

    id: str
    name_vi: str
    name_en: str
    national_bn: float
    eligible: str
    why: str
    counted: float = 1.0


# National totals: vietnamnews.vn/society/1732600 and en.qdnd.vn (…587586): state budget about 423,000 bn
# (central 100,000; local 300,000; policy credit 23,000), integrated programmes 360,000, enterprises and
# communities 261,000 (1,044,000 in all). Central split 70/30 as in the Government's proposal to the
# National Assembly (vietnamnet.vn, "VN needs VND1.23 quadrillion…", 3/12/2025).
CHANNELS = (
    Channel("nstw_dtpt", "Ngân sách trung ương – đầu tư phát triển", "Central budget – investment", 70_000,
            "Hạ tầng", "central 100,000 × 70% investment (the proposal's split); pays for infrastructure"),
    Channel("nstw_sn", "Ngân sách trung ương – sự nghiệp", "Central budget – recurrent", 30_000,
            "Phát triển; Quản trị", "central 100,000 × 30% recurrent; pays for development and governance"),
    Channel("ns_dia_phuong", "Ngân sách địa phương (tỉnh, xã)", "Local budgets (province, commune)", 300_000,
            "Tất cả", "local 300,000; pays for any criterion"),
    Channel("long_ghep", "Lồng ghép chương trình, dự án khác", "Integrated programmes and projects", 360_000,
            "Hạ tầng", "integrated 360,000; other programmes' money pays only for their own works (infrastructure)"),
    Channel("cong_dong", "Cộng đồng, nhân dân đóng góp", "Communities' contributions", 261_000, "TC2; TC8",
            "enterprises and communities 261,000, of which half is taken as communities' (the national figure "
            "does not split them; assumption): land, labour and cash for roads and village works (TC2) and the "
            "landscape (TC8), as people's contributions in the 2021–2025 data. The enterprises' half is not a "
            "source: it comes tied to the enterprise's own projects, which the province does not direct to a "
            "commune's criteria (as in the 2021–2025 data)", counted=0.5),
    Channel("tin_dung", "Tín dụng chính sách", "Policy credit", 23_000, "",
            "policy credit 23,000; not a source: lent to households for their own production, housing and "
            "water, not spent by the province on a commune's criteria (as in the 2021–2025 data); a scenario "
            "may add it with budget.extra_sources", counted=0.0),
)
#: Share of each channel's five-year money spent in each year (assumption: the programme starts slowly,
#: as the 2021–2025 one did, then steadies; the 2021–2025 data's split for the sources other than the
#: central programme money).
YEAR_SPLIT = (0.12, 0.18, 0.22, 0.24, 0.24)


def national_communes() -> int:
    """Communes (xã) of the country from 1 July 2025 (public unit list; wards and special zones left out)."""
    units = admin_units.national_units("2025")
    return int((units["unit_type"] == "Xã").sum())


def province_share(communes: int = 89) -> float:
    """The province's share of the national money: its share of the country's communes (assumption).

    The 2021–2025 share of central money is not used: the national total of the three
    programmes is not in the sources read, and old Lào Cai's 6,258,874 million VND covers
    half of the merged province (Yên Bái's was not found). The 2026–2035 share-out rule
    was not found either.
    """
    return communes / national_communes()


def derived_targets(communes: int = 89) -> dict[str, int]:
    """The 2030 targets the national aims give a province of ``communes`` communes (rounded)."""
    return {name: int(round(share * communes)) for name, share in NATIONAL_AIMS.items()}


def money_plan(communes: int = 89) -> pd.DataFrame:
    """Each channel's money for the province by year (million VND), with its derivation.

    Returns
    -------
    pandas.DataFrame
        Indexed by channel id: ``national_bn``, ``share``, ``total_mvnd`` (national × share),
        ``counted`` (:attr:`Channel.counted`), ``source_mvnd`` (the part that enters), and one
        column per year of that part (rounded to 10 million VND).
    """
    share = province_share(communes)
    rows = {}
    for ch in CHANNELS:
        total = ch.national_bn * 1000 * share
        rows[ch.id] = {"national_bn": ch.national_bn, "share": share, "total_mvnd": total, "counted": ch.counted,
                       "source_mvnd": total * ch.counted,
                       **{y: round(total * ch.counted * w / 10) * 10.0 for y, w in zip(YEARS, YEAR_SPLIT,
                                                                                         strict=True)}}
    return pd.DataFrame.from_dict(rows, orient="index")


# ----- building -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Units:
    """Old units behind each new commune: their codes, districts and provinces."""

    parts: dict[str, list[str]]          # new code → old rural communes (xã) of both provinces
    districts: dict[str, set[str]]       # new code → old district names
    province: dict[str, str]             # new code → old province code
    township: set[str]                   # new codes that absorbed a former township (thị trấn)


def _units() -> _Units:
    table = reform_mapping(PROVINCE)
    new_units = admin_units.national_units("2025")
    old_units = admin_units.national_units("pre2025")
    table = table[new_units.loc[table["new_commune_code"], "unit_type"].to_numpy() != "Phường"]
    kind = old_units.loc[table["old_commune_code"], "unit_type"].to_numpy()
    rural = table[kind == "Xã"]
    parts = rural.groupby("new_commune_code")["old_commune_code"].agg(list).to_dict()
    # district names compared as NFC text (the constants above are NFC; unit lists may not be)
    districts = rural.assign(old_district_name=rural["old_district_name"].map(nfc)).groupby(
        "new_commune_code")["old_district_name"].agg(set).to_dict()
    province = rural.groupby("new_commune_code")["old_province_code"].first().to_dict()
    return _Units(parts, districts, province, set(table.loc[kind == "Thị trấn", "new_commune_code"]))


def revocation_line(criteria: CriteriaSet) -> tuple[int, int, frozenset[str]]:
    """Unmet criteria that revoke with a key one among them, without, and the key criteria.

    From the criteria set's own rule where it carries one (``revocation``), else Decision
    18/2022's shares with :data:`REVOCATION_KEYS`.
    """
    rule = criteria.revocation
    if rule is not None:
        with_key, alone = rule.unmet_limits(len(criteria.ids))
        return with_key, alone, frozenset(rule.commune.key_criteria)
    n = len(criteria.ids)
    return (max(1, math.ceil(REVOCATION_SHARES[0] * n - 1e-9)), max(1, math.ceil(REVOCATION_SHARES[1] * n - 1e-9)),
            frozenset(REVOCATION_KEYS))


def over_revocation_line(unmet: set[str], line: tuple[int, int, frozenset[str]]) -> bool:
    """Whether a commune missing ``unmet`` would be revoked under ``line`` (:func:`revocation_line`)."""
    with_key, alone, keys = line
    return len(unmet) >= alone or (len(unmet) >= with_key and bool(unmet & keys))


def _old_years(old: Dataset) -> pd.Series:
    """Year each old Lào Cai commune of the data was recognised by mid-2025 (NaN: not recognised).

    Recognised at the start of the data (its ``recognised`` view) or named as recognised
    since (:data:`LAO_CAI_YEARS`); the year is the public one where named, else the
    data's ``recognised_year``, else :data:`YEAR_NOT_PUBLIC`.
    """
    years = pd.Series(np.where(old.recognised, float(YEAR_NOT_PUBLIC), np.nan), index=old.communes.index)
    if "recognised_year" in old.communes.columns:
        years = old.communes["recognised_year"].where(old.recognised, np.nan).fillna(years)
    for code, year in LAO_CAI_YEARS.items():
        if code in years.index:
            years[code] = float(year)
    return years


@dataclass(frozen=True)
class Standing:
    """Which new communes are recognised, and why (for the README and the tests).

    Parameters
    ----------
    years
        ``recognised_year`` per new commune (NaN: not recognised).
    derived
        Recognised because every former commune was (old Lào Cai: the data; old Yên Bái:
        the NTM district units), or the advanced commune.
    topped_up
        Recognised by the seeded top-up draw.
    trimmed
        Derived, but left out by the seeded trim (only when more than :data:`RECOGNISED`).
    """

    years: pd.Series
    derived: tuple[str, ...]
    topped_up: tuple[str, ...]
    trimmed: tuple[str, ...]


def _standing(carried: Carried, old: Dataset, units: _Units, rng: np.random.Generator,
              line: tuple[int, int, frozenset[str]]) -> Standing:
    """The 37 recognised communes and their years (see the module text)."""
    codes = list(carried.communes.index)
    old_years = _old_years(old)
    lao_cai = [c for c in codes if units.province.get(c) == OLD_LAO_CAI]
    yen_bai = [c for c in codes if units.province.get(c) == OLD_YEN_BAI]
    years: dict[str, float] = {}
    for c in lao_cai:
        parts = [p for p in units.parts.get(c, []) if p in old_years.index]
        if parts and old_years[parts].notna().all():
            years[c] = float(old_years[parts].max())
    units_ntm = [c for c in yen_bai if units.districts[c] <= set(YEN_BAI_NTM_UNITS)]

    def yen_bai_year(c: str) -> float:
        floor = max([YEN_BAI_FIRST_YEAR, *(YEN_BAI_YEARS[p] for p in units.parts[c] if p in YEN_BAI_YEARS)])
        bound = min((YEN_BAI_NTM_UNITS.get(d, 2025) for d in units.districts[c]), default=2025)
        return float(rng.integers(floor, max(floor, bound) + 1))

    for c in units_ntm:
        years[c] = yen_bai_year(c)
    # over the line on the mapping's own cells: such a commune would be up for revocation, so it goes last
    derived_unmet = {c: {k for k in carried.status.columns if carried.status.loc[c, k] is False} for c in years}
    order = sorted(years, key=lambda c: (c != ADVANCED_COMMUNE, over_revocation_line(derived_unmet[c], line),
                                         rng.random()))
    trimmed = tuple(sorted(order[RECOGNISED:], key=int))
    for c in trimmed:
        del years[c]
    derived = tuple(sorted(years, key=int))
    topped: list[str] = []
    if len(years) < RECOGNISED:
        # Yên Bái first (no data, its record says most communes were NTM), then old Lào Cai communes
        # with most former communes recognised
        blocked = {c for c in yen_bai if NO_NTM_DISTRICT in units.districts[c]
                   and units.parts[c] != [FIRST_NTM_THERE]}
        pool = [c for c in yen_bai if c not in years and c not in blocked]
        weight = np.array([min(TOP_UP_WEIGHT.get(d, 1.0) for d in units.districts[c]) for c in pool])
        n = min(RECOGNISED - len(years), int((weight > 0).sum()))
        if n:
            topped += [str(c) for c in rng.choice(pool, size=n, replace=False, p=weight / weight.sum())]
        for c in topped:
            years[c] = yen_bai_year(c)
        rest = [c for c in lao_cai if c not in years]
        share = {c: float(old_years[[p for p in units.parts.get(c, []) if p in old_years.index]].notna().mean())
                 if units.parts.get(c) else 0.0 for c in rest}
        for c in sorted(rest, key=lambda c: (-share[c], int(c)))[:RECOGNISED - len(years)]:
            parts = [p for p in units.parts.get(c, []) if p in old_years.index]
            years[c] = float(old_years[parts].max()) if old_years[parts].notna().any() else float(YEAR_NOT_PUBLIC)
            topped.append(c)
    if ADVANCED_COMMUNE not in years:
        raise AssertionError(f"the advanced commune {ADVANCED_COMMUNE} must be recognised")  # pragma: no cover
    out = pd.Series(np.nan, index=pd.Index(codes, name="commune_code"), dtype=float)
    out[list(years)] = list(years.values())
    return Standing(out, derived, tuple(sorted(topped, key=int)), trimmed)


def _zone3(carried: Carried, old: Dataset, units: _Units, recognised: pd.Series,
           rng: np.random.Generator) -> pd.Series:
    """Zone III per new commune: carried for old Lào Cai (any part), synthetic for old Yên Bái.

    A recognised commune is not Zone III (Decision 33/2020/QĐ-TTg: recognition leaves Zone III).
    """
    out = {}
    for c, row in carried.communes.iterrows():
        parts = [p for p in row["parts"].split("; ") if p]
        if parts:
            out[c] = bool(old.communes.loc[parts, "especially_difficult"].any())
        else:
            highland = bool(units.districts.get(c, set()) & set(YEN_BAI_HIGHLAND))
            out[c] = highland or bool(rng.random() < YEN_BAI_ZONE3_SHARE)
    return pd.Series(out).where(~recognised, False).astype(bool)


def commune_classes(zone3: pd.Series, township: set[str]) -> pd.Series:
    """Decision 51's group per commune: nhom3 Zone III, nhom1 a former township absorbed, nhom2 the rest."""
    return pd.Series(["nhom3" if z else "nhom1" if c in township else "nhom2" for c, z in zone3.items()],
                     index=zone3.index, name="commune_class")


def _status(carried: Carried, recognised: pd.Series, zone3: pd.Series, rng: np.random.Generator,
            line: tuple[int, int, frozenset[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The carried status with its unknown cells drawn, and which cells were drawn.

    Recognised communes miss a drawn criterion with :data:`RECOGNISED_MISS`, and drawn cells
    are set met again (in a seeded order) while the commune is over the revocation line
    (derived cells stay as derived: a commune they put over it is at risk); the advanced
    commune meets every criterion (assumption: it met the stricter 2021–2025 advanced set).
    The others meet a drawn criterion with the share met among the carried communes not
    recognised of the same Zone III standing; a Zone III commune misses poverty (Decision
    33/2020/QĐ-TTg), and one meeting every criterion misses its least often met drawn one.
    """
    status = carried.status
    ids = list(status.columns)
    unknown = status.isna()
    draws = pd.DataFrame(rng.random(status.shape), index=status.index, columns=ids)
    known = status.where(~unknown)
    others = ~recognised
    share: dict[bool, pd.Series] = {}
    for z in (False, True):
        rows = known[others & (zone3 == z)]
        stacked = rows.stack()
        overall = float(stacked.astype(bool).mean()) if len(stacked) else 0.5
        share[z] = pd.Series({k: float(rows[k].dropna().astype(bool).mean()) if rows[k].notna().any() else overall
                              for k in ids})
    poverty = "TC6"
    order = rng.permutation(len(ids))
    rows = {}
    for c, values, u, d in zip(status.index, status.to_numpy(), unknown.to_numpy(), draws.to_numpy(), strict=True):
        drawn = [k for k, is_unknown in zip(ids, u, strict=True) if is_unknown]
        draw = dict(zip(ids, d, strict=True))
        given = dict(zip(ids, values, strict=True))
        if recognised[c]:
            row = {k: bool(draw[k] >= RECOGNISED_MISS[k]) if k in drawn else bool(given[k]) for k in ids}
            if c == ADVANCED_COMMUNE:
                row = dict.fromkeys(ids, True)
            for j in order:
                if not over_revocation_line({k for k, v in row.items() if not v}, line):
                    break
                if ids[j] in drawn:
                    row[ids[j]] = True
        else:
            p = share[bool(zone3[c])]
            row = {k: bool(draw[k] < p[k]) if k in drawn else bool(given[k]) for k in ids}
            if zone3[c] and poverty in drawn:
                row[poverty] = False
            if all(row.values()) and drawn:
                row[min(drawn, key=lambda k: p[k])] = False
        rows[c] = row
    out = pd.DataFrame.from_dict(rows, orient="index")[ids]
    return out.astype(bool), unknown


def _cost_ratio(carried: Carried, default: pd.DataFrame) -> pd.Series:
    """Per criterion: what the carried unmet cells cost against the default estimate of the same cells.

    ``default`` is the default unit cost of each new commune's former communes (one
    estimate per former commune, summed). Criteria without carried costs take the ratio
    over every carried cell.
    """
    carried_cost = carried.cost.astype(float)
    both = carried_cost.notna() & default.notna() & (default > 0)
    overall = float(carried_cost[both].sum().sum() / default[both].sum().sum()) if both.to_numpy().any() else 1.0
    return pd.Series({k: float(carried_cost.loc[both[k], k].sum() / default.loc[both[k], k].sum())
                      if both[k].any() else overall for k in carried_cost.columns})


def _costs(carried: Carried, units: _Units, communes: pd.DataFrame,
           status: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cost of each unmet criterion (million VND) and which are estimates (see the module text)."""
    one, _ = estimate_costs(carried.criteria, communes.assign(population=np.nan), status)  # one former commune
    n_parts = pd.Series({c: max(1, len(units.parts.get(c, []))) for c in status.index})
    default = one.mul(n_parts, axis=0)
    estimate = (default * _cost_ratio(carried, default) / 10).round() * 10
    cost = carried.cost.astype(float).where(carried.cost.notna(), estimate).where(~status)
    estimated = carried.cost.isna() & ~status
    return cost, estimated


def _traits(carried: Carried, old: Dataset, standing: Standing, zone3: pd.Series, units: _Units) -> pd.DataFrame:
    """New communes' traits: sums of their old communes in the data; recognition, tiers and groups."""
    out = carried.communes[["commune_name", "province_code", "province_name"]].copy()
    parts = carried.communes["parts"].str.split("; ")
    for col in ("population", "households", "villages", "villages_ntm", "villages_model"):
        out[col] = [old.communes.loc[p, col].sum() if p != [""] else np.nan for p in parts]
    for col in ("villages", "villages_ntm", "villages_model"):
        out[col] = out[col].fillna(0).astype(int)
    out["especially_difficult"] = zone3
    out["advanced"] = out.index == ADVANCED_COMMUNE
    out["model"] = False
    out["recognised_year"] = standing.years
    out["commune_class"] = commune_classes(zone3, units.township)
    return out


def _money() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The channels that enter as sources, and their yearly envelopes (:func:`money_plan`)."""
    plan = money_plan()
    entering = [ch for ch in CHANNELS if ch.eligible and ch.counted > 0]
    sources = pd.DataFrame([(ch.id, ch.name_vi, ch.name_en, ch.eligible, "") for ch in entering],
                           columns=["source_id", "name_vi", "name_en", "eligible", "scope"]).set_index("source_id")
    envelopes = plan.loc[[ch.id for ch in entering], list(YEARS)].astype(float)
    return sources, envelopes


@dataclass(frozen=True)
class Build:
    """The dataset and how it was built (what the README and the tests read)."""

    dataset: Dataset
    standing: Standing
    drawn: pd.DataFrame


@cache
def build() -> Build:
    """The merged Lào Cai 2026–2030 built from the bundled 2021–2025 data (once; ``build.cache_clear()``)."""
    from ntm_sim.data.dataset import bundled_path
    from ntm_sim.data.io.folder import read_folder

    return build_from(read_folder(bundled_path("lao_cai")))


def build_from(old: Dataset, seed: int = SEED) -> Build:
    """Build the merged Lào Cai 2026–2030 from a 2021–2025 dataset of old Lào Cai.

    Parameters
    ----------
    old
        The 2021–2025 data of old Lào Cai (the bundled ones, or any variant of them): the
        counts of today hold whatever they say.
    seed
        Seed of every draw.
    """
    carried = carry_dataset(old, PROVINCE)
    units = _units()
    rng = np.random.default_rng(seed)
    line = revocation_line(carried.criteria)
    standing = _standing(carried, old, units, rng, line)
    recognised = standing.years.notna()
    zone3 = _zone3(carried, old, units, recognised, rng)
    status, drawn = _status(carried, recognised, zone3, rng, line)
    communes = _traits(carried, old, standing, zone3, units)
    cost, estimated = _costs(carried, units, communes, status)
    sources, envelopes = _money()
    short = int((recognised & ~status.all(axis=1)).sum())
    meta = DatasetMeta(
        name=NAME, title="Tỉnh Lào Cai (mới) 2026–2030 (dữ liệu minh họa)", criteria_set=carried.criteria.id,
        reviews_from=REVIEWS_FROM,
        demo=True, source=f"ntm_sim.data.demo2026 (from the 2021–2025 data '{old.meta.name}', seed {seed})",
        units="Lào Cai (từ 1/7/2025)",
        notes=(f"Units and counts public (89 communes from 1 July 2025; {RECOGNISED} NTM, {ADVANCED} advanced, "
               f"{MODEL} model); which communes, status re-assessed under Decision 51 (carried from the "
               f"2021–2025 demo data, {int(drawn.to_numpy().sum())} cells drawn; {short} of the {RECOGNISED} "
               f"recognised short of the new set; reviews from {REVIEWS_FROM}), costs and money derived from "
               "stated assumptions. See "
               "ntm_sim/data/lao_cai_2026/README.md."))
    ds = make_dataset(carried.criteria, communes, status, cost, cost_estimated=estimated, sources=sources,
                      envelopes=envelopes, meta=meta, file=NAME)
    return Build(replace(ds, meta=meta), standing, drawn)


def lao_cai_2026() -> Dataset:
    """The demo dataset of the merged Lào Cai, 2026–2030 (built once by :func:`build`)."""
    return build().dataset


# ----- the README's generated tables ------------------------------------------------------------------


