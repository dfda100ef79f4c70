"""The seeded generator of the bundled Lào Cai demo dataset.

The communes, their codes and districts are public facts, and so are the calibration
targets in :data:`CALIBRATION` (start counts, Zone III count and rule, village stock,
rural population, money by source): each is listed with its source in the data
README. Which unnamed communes were NTM in 2020, every criterion status not named in
the press, every cost, every commune trait and the split of money by year are
SYNTHETIC, drawn here with a fixed seed. ``python -m ntm_sim.data.demo_facts`` (or
``ntm-sim data generate``) rewrites ``ntm_sim/data/lao_cai`` byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ntm_sim.data.checks import poverty_criteria
from ntm_sim.data.costs import UnitCosts, default_unit_costs
from ntm_sim.data.criteria import CriteriaSet, load_criteria_set
from ntm_sim.data.dataset import Dataset, DatasetMeta, make_dataset
from ntm_sim.data.units import lao_cai_units

SEED = 20210301

# Public: communes recognised NTM by 2020 (sources in the data README). Nàn Sán was NTM by
# the end of 2019 (khuyennongvn.gov.vn); the last four were recognised "for 2020" in early 2021.
NTM_FOR_2020 = ("Nậm Mòn", "Cốc Lầu", "Tân Thượng", "Xuân Thượng")
NTM_2020_NAMED = (
    "Đồng Tuyển", "Tả Phời", "Bản Sen", "Bản Lầu", "Bản Vược", "Hoà Mạc", "Bảo Nhai",
    "Xuân Quang", "Sơn Hải", "Việt Tiến", "Yên Sơn", "Bản Cầm", "Bản Phiệt", "Tân Dương",
    "Nậm Đét", "Nàn Sán", *NTM_FOR_2020,
)
# Public: advanced communes by 2024 not in the list above (tracuuquyhoach.com): recognised NTM at the start.
NTM_ADVANCED_CODES = ("2938", "3052", "2872")  # Sơn Hà, Liên Minh, Tà Chải
# Public: near the standard in 2015 but not finished then (nongthonmoihatinh.vn): less remote.
NEAR_2015 = ("Khánh Yên Hạ", "Khánh Yên Thượng", "Sín Chéng", "Nghĩa Đô", "Bản Qua", "Xuân Giao")
# Public: Lùng Cải, one of the ten hardest communes, 91% poor and near-poor households.
REMOTEST = ("Lùng Cải",)
# Public: TP Lào Cai (80) and Bảo Thắng (86) were recognised district units by 2020.
RECOGNISED_DISTRICTS = ("80", "86")
# Public: 61 NTM communes at the start of 2021 (57 + 4 "for 2020"). Synthetic: their split
# over districts (the named ones and the recognised districts' communes included), set so that
# each district holds at least the communes the October 2024 review found at risk there (below).
NTM_PER_DISTRICT = {"80": 7, "82": 8, "83": 5, "84": 1, "85": 5, "86": 11, "87": 10, "88": 3, "89": 11}
# Synthetic: how remote each district's communes are on average (0 centre … 1 remotest).
HARDNESS = {"80": 0.0, "86": 0.1, "87": 0.3, "89": 0.4, "88": 0.6, "82": 0.7, "85": 0.8,
            "83": 0.9, "84": 1.0}
REMOTENESS_SD = 0.15   # synthetic spread of a commune's remoteness around its district's
HIGHLAND = ("82", "83", "84", "85", "88")
# Public: 70 Zone III communes on the list of Decision 861/QĐ-TTg (4/6/2021). A commune
# recognised NTM leaves Zone III (Decision 33/2020/QĐ-TTg): the 4 recognised "for 2020"
# are on the list but not Zone III at the start, so 66 are; since 127 − 61 = 66, every
# commune not yet NTM is Zone III, and the remoteness that places NTM places Zone III.
ZONE3_LISTED = 70
# Commune groups among the 66 not-yet-NTM communes, most remote first (synthetic; sums to 66). Set so
# that with the 61 recognised communes counting 19 criteria in 2021 (the 2016–2020 set they met) the
# province averages about 15.15 criteria at the end of 2021 (public, doingoailaocai.vn 14429).
GROUP_SIZES = {"lt10": 15, "g10_14": 41, "g15_18": 10}
# How often each criterion is missing (relative weights; income, poverty, production and
# environment are the most often missing, a public finding). Poverty is missing in every
# Zone III commune (the rule); the weight applies elsewhere.
MISSING_WEIGHT = {
    "TC1": 0.3, "TC2": 1.8, "TC3": 1.0, "TC4": 0.6, "TC5": 1.4, "TC6": 1.3, "TC7": 0.8,
    "TC8": 0.7, "TC9": 1.3, "TC10": 3.0, "TC11": 3.0, "TC12": 1.2, "TC13": 2.6, "TC14": 0.8,
    "TC15": 1.0, "TC16": 0.9, "TC17": 2.6, "TC18": 0.4, "TC19": 0.2,
}
# Public (vietnam.vn, "Không để xã nào bị thu hồi…", 2024): the criteria recognised communes found
# hardest to keep under the Decision 318 set: schools, multidimensional poverty, labour, under-5 stunting
# (health) and traceability / VietGAP (production). Synthetic: how much more often they are missing.
KEEP_WEIGHT = {**MISSING_WEIGHT, "TC5": 4.0, "TC11": 4.0, "TC12": 4.0, "TC13": 4.0, "TC15": 4.0}
# Public (tracuuquyhoach.com, 20/10/2024): of the 62 communes recognised before 2022, under the
# Decision 318 set 4 keep 19/19 criteria, 40 keep 14–18, 16 keep 10–13 and 2 fewer than 10, 15.03
# on average; the 18 below 14 are at risk of revocation, by district: Bát Xát 7, Sa Pa 1, Bắc Hà 4,
# Mường Khương 5, Bảo Yên 1. The data hold 61 recognised communes (sources differ on 61 and 62):
# 4 / 39 / 16 / 2. The status is the one of the re-assessment under the new set, which the
# October 2024 review is the only public picture of (the 2022 one was not found).
KEPT_19 = ("2938", "2929", "2926", "2662")  # Sơn Hà, Sơn Hải, Xuân Quang (public, 19/19) and Đồng Tuyển
AT_RISK_PER_DISTRICT = {"82": 7, "88": 1, "85": 4, "83": 5, "87": 1}
BELOW_10 = {"3052": 5, "2872": 8}  # Liên Minh 5/19, Tà Chải 8/19 (public; read as the Decision 318 set)
KEPT_14_18_WEIGHTS = {14: 0.1, 15: 0.15, 16: 0.2, 17: 0.25, 18: 0.3}  # synthetic: 16.5 on average
KEY_CRITERIA = ("TC10", "TC17", "TC19")  # the revocation rule's key criteria (Decision 18/2022)
# Public: advanced communes. Xuân Quang was recognised advanced in 2021 (doingoailaocai.vn 14429);
# Sơn Hà, Sơn Hải, Liên Minh and Tà Chải were advanced by 2024 (tracuuquyhoach.com), year not public:
# taken as before 2021 (about 5 advanced at the end of 2023, the 2024 plan). Xuân Quang counts from
# the start (the 2021 recognition is read as part of the start).
ADVANCED = ("2938", "2929", "2926", "3052", "2872")
# Public: recognised for 2024 (Tả Van, Thanh Bình of Sa Pa, announced 5/4/2025) and at 18/19 in 2024
# (Mường Hoa): not recognised at the start; synthetic: placed among the closest to the standard.
NEAR_2024 = ("3040", "3022", "3037")
# Synthetic (assumption): re-qualifying a recognised commune on a criterion it met under the earlier
# set costs this share of the unit cost of a commune starting from scratch (what was built remains).
REQUALIFY_SHARE = 0.5
# Public: Lào Cai applied the reviews of Decision 18/2022 from 1/8/2024 (baolaocai.vn, post362921).
REVIEWS_FROM = 2024
# Public years of recognition of the named communes (sources as for NTM_2020_NAMED); the
# other recognised communes were recognised by the end of 2020, year not public: 2020 stands for it.
RECOGNISED_IN = {2015: NTM_2020_NAMED[:11], 2019: NTM_2020_NAMED[11:16], 2020: NTM_FOR_2020}
COST_DISPERSION = 0.45  # lognormal sigma of a project's cost around the unit cost
MAX_PROJECT_MVND_PER_YEAR = 135_000  # synthetic cap on a criterion's cost per year of its lead time
# Public: rural population at the 2019 census (the communes' populations sum to it).
RURAL_POPULATION_2019 = 559_019
# Public: villages at the end of 2020 (laocaitv.vn): 134 model villages and 123 NTM
# villages (not model). A model village also meets the NTM-village set, so the data's
# ``villages_ntm`` counts both (257) and ``villages_model`` the 134.
VILLAGES_MODEL_2020 = 134
VILLAGES_NTM_ONLY_2020 = 123

YEARS = (2021, 2022, 2023, 2024, 2025)
# Synthetic year split of money without a public one (5-year total = 1).
YEAR_SHARES = {2021: 0.12, 2022: 0.18, 2023: 0.22, 2024: 0.24, 2025: 0.24}
POOR_DISTRICTS = "83; 84; 85"  # Mường Khương, Si Ma Cai, Bắc Hà: poor districts (30a) in 2021–2025

# Central money of the three national target programmes (NTM, 1719, poverty), billion VND.
# Public: 6,258.874 over 2021–2025 (thongtin.vietnam.vn); more than 1,700 in 2023, of which 873
# investment and 829 recurrent (vov1.vov.gov.vn); about 1,700 in 2025; about 2,419 in 2024 with the
# 2023 carry-over (vietnam.vn). The programmes were approved in 2021–2022 (NTM: Decision 263/QĐ-TTg
# of 22/2/2022), so none in 2021 (assumption). 2024's own money is taken as 1,700 (2,419 less about
# 700 carried from 2023: assumption); 2022 is the rest. Each year's investment / recurrent split:
# 2023 public, 2024 and 2025 half and half (assumption), 2022 the rest of each kind.
CENTRAL_BY_YEAR = {2021: (0.0, 0.0), 2022: (839.74, 317.134), 2023: (873.0, 829.0), 2024: (850.0, 850.0),
                   2025: (850.0, 850.0)}
# Public programme totals: investment NTM 421.84, 1719 2,058, poverty 932.9 (Resolution 08/2022/NQ-HĐND);
# recurrent NTM 174.16 (central NTM 596 − 421.84, doingoailaocai.vn 22855); the 1719 and poverty
# recurrent money, 2,671.974 together (6,258.874 − 596 − 2,990.9), split as their investment money
# (assumption). A programme's share of a year's money of a kind is its share of that kind's total.
CENTRAL_TOTALS = {"investment": {"nstw_dtpt": 421.84, "ctmtqg_1719": 2058.0, "ctmtqg_giam_ngheo": 932.9},
                  "recurrent": {"nstw_sn": 174.16, "ctmtqg_1719_sn": 1838.42, "ctmtqg_giam_ngheo_sn": 833.554}}


def _central_shares(source_id: str) -> dict[int, float]:
    """A central source's share of its five-year total in each year (see :data:`CENTRAL_BY_YEAR`)."""
    kind = "investment" if source_id in CENTRAL_TOTALS["investment"] else "recurrent"
    col = 0 if kind == "investment" else 1
    total = sum(CENTRAL_BY_YEAR[y][col] for y in YEARS)
    return {y: CENTRAL_BY_YEAR[y][col] / total for y in YEARS}


@dataclass(frozen=True)
class SourceSpec:
    """One funding source of the demo data: who pays, for what, where, how much, when."""

    id: str
    name_vi: str
    name_en: str
    eligible: str       # the eligibility rule as written in sources.csv
    scope: str          # where it may pay ("" everywhere; codes; "ĐBKK" Zone III communes)
    total_bn: float     # billion VND over 2021–2025
    shares: dict[int, float]
    basis: str          # public fact or assumption, with its source (the data README's money table)


SOURCES = (
    SourceSpec("nstw_dtpt", "Ngân sách trung ương – đầu tư phát triển", "Central budget – investment",
               "Hạ tầng", "", 421.84, _central_shares("nstw_dtpt"),
               "Public total (Resolution 08/2022/NQ-HĐND); year split: the central money by year (see above)"),
    SourceSpec("nstw_sn", "Ngân sách trung ương – sự nghiệp", "Central budget – recurrent",
               "Phát triển; Quản trị", "", 174.16, _central_shares("nstw_sn"),
               "Public: central 596 − investment 421.84; year split as above"),
    SourceSpec("ns_tinh", "Ngân sách tỉnh", "Provincial budget", "Tất cả", "", 1800.0, YEAR_SHARES,
               "Local budgets ≈3,000 public; 1,800 / 1,200 split assumed"),
    SourceSpec("ns_huyen_xa", "Ngân sách huyện, xã", "District and commune budgets", "Tất cả", "", 1200.0,
               YEAR_SHARES, "Local budgets ≈3,000 public; split assumed"),
    SourceSpec("ctmtqg_1719", "Lồng ghép CTMTQG phát triển KT-XH vùng đồng bào DTTS và miền núi (1719) – đầu tư",
               "Folded-in ethnic-minority and mountain programme (1719) – investment",
               "TC2; TC5; TC6; TC9; TC17", "ĐBKK", 2058.0, _central_shares("ctmtqg_1719"),
               "Public total (Resolution 08/2022/NQ-HĐND); scope (Zone III communes) and eligibility assumed"),
    SourceSpec("ctmtqg_1719_sn", "Lồng ghép CTMTQG 1719 – sự nghiệp",
               "Folded-in ethnic-minority and mountain programme (1719) – recurrent",
               "TC11; TC12; TC13; TC14; TC15; TC16", "ĐBKK", 1838.42, _central_shares("ctmtqg_1719_sn"),
               "The programmes' public central total less their public investment, split as investment (assumed)"),
    SourceSpec("ctmtqg_giam_ngheo", "Lồng ghép CTMTQG giảm nghèo bền vững – đầu tư",
               "Folded-in sustainable poverty reduction programme – investment", "TC2; TC3; TC5; TC9",
               POOR_DISTRICTS, 932.9, _central_shares("ctmtqg_giam_ngheo"),
               "Public total (Resolution 08/2022/NQ-HĐND); scope (poor districts) and eligibility assumed"),
    SourceSpec("ctmtqg_giam_ngheo_sn", "Lồng ghép CTMTQG giảm nghèo bền vững – sự nghiệp",
               "Folded-in sustainable poverty reduction programme – recurrent", "TC10; TC11; TC12; TC13",
               POOR_DISTRICTS, 833.554, _central_shares("ctmtqg_giam_ngheo_sn"),
               "The programmes' public central total less their public investment, split as investment (assumed)"),
    SourceSpec("dan_gop", "Nhân dân, cộng đồng đóng góp", "People and community contributions",
               "TC2; TC6; TC9; TC17", "", 499.0, YEAR_SHARES, "Public (> 499); year split assumed"),
)

# What the generated data must reproduce, with tolerances (checked by the tests and
# printed into the data README): (target, tolerance).
CALIBRATION = {
    "communes": (127, 0),
    "districts": (9, 0),
    "ntm_communes_2020": (61, 0),
    "recognised_at_19": (4, 0),
    "recognised_at_14_18": (39, 0),
    "recognised_at_10_13": (16, 0),
    "recognised_below_10": (2, 0),
    "recognised_avg_criteria": (15.03, 0.3),
    "recognised_held_by_rule": (18, 0),
    "advanced": (5, 0),
    "especially_difficult": (66, 0),
    "zone3_on_2021_list": (ZONE3_LISTED, 0),
    "zone3_rule_violations": (0, 0),
    "avg_criteria_old_set": (15.15, 0.3),
    "villages_model": (VILLAGES_MODEL_2020, 0),
    "villages_ntm_only": (VILLAGES_NTM_ONLY_2020, 0),
    "rural_population": (RURAL_POPULATION_2019, round(0.005 * RURAL_POPULATION_2019)),
    "money_total_bn": (9757.87, 0.1),
    "central_total_bn": (6258.87, 0.01),
    "central_2023_investment_bn": (873.0, 0.01),
    "central_2023_recurrent_bn": (829.0, 0.01),
    "central_2021_bn": (0.0, 0.01),
    "central_investment_bn": (421.84, 0.01),
    "central_recurrent_bn": (174.16, 0.01),
    "programme_1719_bn": (2058.0, 0.01),
    "poverty_programme_bn": (932.9, 0.01),
}


@dataclass(frozen=True)
class _Standing:
    """Which communes are NTM and Zone III at the start, and how remote each one is."""

    ntm: set[str]
    not_ntm: list[str]       # in dataset order
    zone3: set[str]          # especially difficult (Zone III) at the start
    remoteness: pd.Series    # synthetic, per commune (higher is more remote)


def generate(seed: int = SEED) -> Dataset:
    """Generate the Lào Cai demo dataset.

    Parameters
    ----------
    seed
        Seed of the random generator; the default reproduces the bundled files.

    Raises
    ------
    ValueError
        If the draw breaks a hard rule (a Zone III commune NTM or meeting the poverty
        criterion), which would be a bug in the generator.
    """
    rng = np.random.default_rng(seed)
    crit = load_criteria_set()
    unit = default_unit_costs()
    units = lao_cai_units().communes.copy()
    codes = list(units.index)

    # The draws happen in this order; changing it changes the bundled files.
    standing = _draw_standing(rng, units)
    status = _draw_status(rng, crit, units, standing)
    communes = _draw_communes(rng, units, standing)
    factor = add_tier_costs(rng, unit, communes)
    cost = _draw_costs(rng, unit, crit, factor, status)
    sources, envelopes = _money()
    status, cost = _reassess(np.random.default_rng([seed, 318]), crit, unit, factor, communes, standing,
                             status, cost)

    broken = zone3_violations(crit, communes["especially_difficult"], status)
    if broken:
        raise ValueError(f"generator bug: Zone III communes NTM or meeting poverty: {broken}")
    return make_dataset(crit, communes, status, cost, cost_estimated=pd.DataFrame(False, index=codes,
                        columns=crit.ids), districts=_district_table(unit, units), sources=sources,
                        envelopes=envelopes, meta=_meta(crit.id, seed), file="ntm_sim.data.demo")


def _reassess(rng: np.random.Generator, crit: CriteriaSet, unit: UnitCosts, factor: np.ndarray,
              communes: pd.DataFrame, standing: _Standing, status: pd.DataFrame,
              cost: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The recognised communes as the Decision 318 set found them: recognition kept, criteria short.

    Adds ``recognised_year`` (:data:`RECOGNISED_IN`, else 2020 standing for "by 2020") and
    ``advanced`` (:data:`ADVANCED`) to ``communes`` (in place). The 61 recognised communes
    get the October 2024 picture (:data:`KEPT_19`, :data:`BELOW_10`, the at-risk communes
    per district at 10–13 criteria with a key criterion among the missing, the rest at
    14–18), the more remote of a district the more likely at risk. Missing criteria are
    drawn with :data:`KEEP_WEIGHT` and cost :data:`REQUALIFY_SHARE` of a new commune's.

    Returns
    -------
    status, cost : pandas.DataFrame
        New tables.
    """
    names = communes["commune_name"].map(_nfc)
    recognised = pd.Series([c in standing.ntm for c in communes.index], index=communes.index)
    years = pd.Series(np.where(recognised, 2020.0, np.nan), index=communes.index)
    for year, named in RECOGNISED_IN.items():
        years[names.isin(_nfc_set(named)) & recognised] = float(year)
    communes["recognised_year"] = years
    communes["advanced"] = communes.index.isin(ADVANCED)
    n_k = len(crit)
    target: dict[str, int] = {c: n_k for c in KEPT_19}
    target.update(BELOW_10)
    district = communes["district_code"]
    for d, n in AT_RISK_PER_DISTRICT.items():
        already = sum(1 for c in BELOW_10 if district[c] == d)
        pool = sorted((c for c in standing.ntm if district[c] == d and c not in target),
                      key=lambda c: -standing.remoteness[c])
        if len(pool) < n - already:
            raise ValueError(f"district {d}: fewer recognised communes than the review found at risk")
        for c in pool[:n - already]:
            target[c] = int(rng.integers(10, 14))
    levels, weights = zip(*KEPT_14_18_WEIGHTS.items(), strict=True)
    for c in sorted(standing.ntm - set(target), key=list(communes.index).index):
        target[c] = int(rng.choice(levels, p=np.array(weights) / sum(weights)))
    status, cost = status.copy(), cost.copy()
    weight = np.array([KEEP_WEIGHT[k] for k in crit.ids])
    key = np.isin(crit.ids, KEY_CRITERIA)
    for c in sorted(target, key=list(communes.index).index):
        n_missing = n_k - target[c]
        if n_missing <= 0:
            continue
        w = weight.copy()
        first = []
        if n_missing >= 6 and n_missing < 10:  # held by the rule: a key criterion among the missing
            first = [int(rng.choice(np.flatnonzero(key), p=w[key] / w[key].sum()))]
            w[first] = 0.0
        rest = rng.choice(n_k, size=n_missing - len(first), replace=False, p=w / w.sum())
        missing = np.array(first + list(rest), dtype=int)
        i = communes.index.get_loc(c)
        drawn = REQUALIFY_SHARE * factor[i] * np.array([unit.criteria[crit.ids[k]] for k in missing]) * spread(
            rng, COST_DISPERSION, len(missing))
        cap = MAX_PROJECT_MVND_PER_YEAR * np.array([crit[crit.ids[k]].lead_time_years for k in missing], dtype=float)
        status.loc[c, [crit.ids[k] for k in missing]] = False
        cost.loc[c, [crit.ids[k] for k in missing]] = round10(np.minimum(drawn, cap))
    return status, cost


def zone3_violations(crit: CriteriaSet, zone3: pd.Series, status: pd.DataFrame) -> list[str]:
    """Zone III communes that are NTM or meet the poverty criterion (codes)."""
    poverty = poverty_criteria(crit)
    bad = zone3.astype(bool) & (status.all(axis=1) | status[poverty].any(axis=1))
    return list(bad.index[bad])


def _draw_standing(rng: np.random.Generator, units: pd.DataFrame) -> _Standing:
    """NTM and Zone III communes at the start, placed by remoteness.

    Remoteness (synthetic): the district's hardness plus a commune spread, lower for
    the communes near the standard in 2015, highest for Lùng Cải. NTM: the named
    communes, every commune of the recognised districts, then the least remote of each
    district up to its quota. Zone III: the most remote of the rest (all of them here).

    Returns
    -------
    _Standing
    """
    from ntm_sim.text import nfc

    codes = list(units.index)
    districts = units["district_code"]
    names = units["commune_name"].map(nfc)
    remote = districts.map(HARDNESS) + rng.normal(0, REMOTENESS_SD, len(codes))
    remote[names.isin(_nfc_set(NEAR_2015))] -= 0.3
    remote[names.isin(_nfc_set(REMOTEST))] = remote.max() + 0.1
    ntm: set[str] = set(names.index[names.isin(_nfc_set(NTM_2020_NAMED))]) | set(NTM_ADVANCED_CODES)
    remote[list(NEAR_2024)] = remote.min() - 0.1  # among the closest of the communes not yet NTM (below)
    for d, n in NTM_PER_DISTRICT.items():
        in_d = [c for c in codes if districts[c] == d]
        if d in RECOGNISED_DISTRICTS:
            ntm |= set(in_d)
            continue
        pool = sorted((c for c in in_d if c not in ntm and c not in NEAR_2024), key=lambda c: remote[c])
        extra = n - sum(c in ntm for c in in_d)
        if extra < 0:
            raise ValueError(f"district {d}: more named NTM communes than its quota")
        ntm |= set(pool[:extra])
    not_ntm = [c for c in codes if c not in ntm]
    n_zone3 = ZONE3_LISTED - len(NTM_FOR_2020)  # the 4 recognised "for 2020" left Zone III
    if n_zone3 > len(not_ntm):
        raise ValueError("more Zone III communes than communes not yet NTM")
    zone3 = set(sorted(not_ntm, key=lambda c: -remote[c])[:n_zone3])
    return _Standing(ntm=ntm, not_ntm=not_ntm, zone3=zone3, remoteness=remote)


def _draw_status(rng: np.random.Generator, crit: CriteriaSet, units: pd.DataFrame,
                 standing: _Standing) -> pd.DataFrame:
    """Criteria met by every commune: all for NTM communes, the most remote lowest.

    The not-yet-NTM communes, most remote first, fill the groups of ``GROUP_SIZES``; a
    Zone III commune misses the poverty criterion (the rule), the other missing criteria
    are drawn with the weights of ``MISSING_WEIGHT``.

    Returns
    -------
    pandas.DataFrame
        Bool, communes × criteria.
    """
    codes = list(units.index)
    not_ntm, zone3 = standing.not_ntm, standing.zone3
    score = {c: standing.remoteness[c] + rng.normal(0, 0.15) for c in not_ntm}
    ranked = sorted(not_ntm, key=lambda c: -score[c])  # most remote first
    sizes = GROUP_SIZES
    met_count = {}
    for i, c in enumerate(ranked):
        low, high = (6, 10) if i < sizes["lt10"] else (10, 15) if i < sizes["lt10"] + sizes["g10_14"] else (15, 19)
        met_count[c] = int(rng.integers(low, high))
    weights = np.array([MISSING_WEIGHT[k] for k in crit.ids])
    poverty = np.isin(crit.ids, poverty_criteria(crit))
    status = pd.DataFrame(True, index=codes, columns=crit.ids)
    for c in not_ntm:
        w = weights.copy()
        forced = poverty if c in zone3 else np.zeros(len(crit), dtype=bool)
        w[forced] = 0.0
        n_missing = len(crit) - met_count[c] - int(forced.sum())
        missing = rng.choice(crit.ids, size=n_missing, replace=False, p=w / w.sum())
        status.loc[c, list(missing)] = False
        status.loc[c, forced] = False
    return status


def _draw_communes(rng: np.random.Generator, units: pd.DataFrame, standing: _Standing) -> pd.DataFrame:
    """The commune table: units and traits (tier and village costs are added after).

    Highland communes are smaller, with more people per household and per village; the
    populations are scaled to the 2019 census's rural population (largest remainders),
    the village stock is spread to the public end-2020 counts.

    Returns
    -------
    pandas.DataFrame
        Indexed by commune code, in the order of ``units``.
    """
    codes = list(units.index)
    highland = units["district_code"].isin(HIGHLAND).to_numpy()
    draw = np.where(highland, rng.lognormal(np.log(4200), 0.35, len(codes)),
                    rng.lognormal(np.log(6500), 0.35, len(codes)))
    population = largest_remainder(draw, RURAL_POPULATION_2019)
    households = np.round(population / np.where(highland, 5.0, 4.3))
    villages = np.clip(np.round(population / np.where(highland, 420, 520)
                                + rng.normal(0, 1.5, len(codes))), 4, 25).astype(int)
    is_ntm = np.array([c in standing.ntm for c in codes])
    room = np.floor(0.6 * villages).astype(int)   # at most 60% of a commune's villages are model ones
    villages_model = spread_count(rng, VILLAGES_MODEL_2020, villages * is_ntm, room * is_ntm)
    villages_ntm = villages_model + spread_count(rng, VILLAGES_NTM_ONLY_2020, villages * np.where(is_ntm, 0.4, 1.0),
                                                 villages - villages_model - 1)

    communes = units[["commune_name", "district_code", "district_name"]].copy()
    communes["province_code"] = "10"  # GSO code of Lào Cai
    communes["province_name"] = "Lào Cai"
    communes["especially_difficult"] = [c in standing.zone3 for c in codes]
    communes["population"] = population.astype(float)
    communes["households"] = households
    communes["villages"] = villages
    communes["villages_ntm"] = villages_ntm
    communes["villages_model"] = villages_model
    communes["advanced"] = False  # every commune must re-qualify under the 2021–2025 set
    communes["model"] = False
    return communes


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to ``weights`` summing exactly to ``total``."""
    exact = weights / weights.sum() * total
    out = np.floor(exact).astype(int)
    short = total - int(out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


def spread_count(rng: np.random.Generator, count: int, weights: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Spread ``count`` units over places one at a time, by weight, never beyond each place's room."""
    out = np.zeros(len(weights), dtype=int)
    weights = np.asarray(weights, dtype=float)
    for _ in range(count):
        w = np.where(out < room, weights, 0.0)
        if w.sum() <= 0:
            raise ValueError("not enough room to place the village stock")
        out[rng.choice(len(w), p=w / w.sum())] += 1
    return out


def add_tier_costs(rng: np.random.Generator, unit: UnitCosts, communes: pd.DataFrame) -> np.ndarray:
    """Add the tier and village cost columns to ``communes`` (in place).

    Returns
    -------
    numpy.ndarray
        Each commune's cost factor (its traits against the unit costs' reference).
    """
    n = len(communes)
    factor = unit.commune_factor(communes).to_numpy()
    communes["advanced_cost_mvnd"] = round10(unit.tiers["advanced_cost_mvnd"] * factor * spread(rng, 0.3, n))
    communes["model_cost_mvnd"] = round10(unit.tiers["model_cost_mvnd"] * factor * spread(rng, 0.3, n))
    communes["village_ntm_cost_mvnd"] = round10(unit.villages["village_ntm_cost_mvnd"] * factor)
    communes["village_model_cost_mvnd"] = round10(unit.villages["village_model_cost_mvnd"] * factor)
    return factor


def _draw_costs(rng: np.random.Generator, unit: UnitCosts, crit: CriteriaSet, factor: np.ndarray,
                status: pd.DataFrame) -> pd.DataFrame:
    """Cost of every unmet criterion: the unit cost scaled by the commune, with a spread.

    A draw above ``MAX_PROJECT_MVND_PER_YEAR`` per year of the criterion's lead time is
    clipped to it: such a project is an artefact of the lognormal tail, not a plausible
    commune project (the scenarios let a commune absorb 150,000 million VND a year).

    Returns
    -------
    pandas.DataFrame
        Million VND, communes × criteria, NaN where the criterion is met.
    """
    base = np.array([unit.criteria[k] for k in crit.ids])
    cap = MAX_PROJECT_MVND_PER_YEAR * np.array([crit[k].lead_time_years for k in crit.ids], dtype=float)
    drawn = np.outer(factor, base) * spread(rng, COST_DISPERSION, (len(status.index), len(crit)))
    return pd.DataFrame(round10(np.minimum(drawn, cap[None, :])), index=list(status.index),
                        columns=crit.ids).where(~status)


def _district_table(unit: UnitCosts, units: pd.DataFrame) -> pd.DataFrame:
    """The district table: recognised districts cost nothing, harder ones more."""
    dist = units.drop_duplicates("district_code").set_index("district_code")[["district_name"]].copy()
    dist["ntm"] = dist.index.isin(RECOGNISED_DISTRICTS)
    dist["advanced"] = False
    dcost = unit.districts["district_cost_mvnd"]
    dist["district_cost_mvnd"] = [
        0.0 if d in RECOGNISED_DISTRICTS else round10(dcost * (0.8 + 0.8 * HARDNESS[d]))
        for d in dist.index
    ]
    dist["district_advanced_cost_mvnd"] = unit.districts["district_advanced_cost_mvnd"]
    return dist


def _money() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sources and envelopes: the totals of ``SOURCES`` split by their year shares.

    Returns
    -------
    sources : DataFrame
        Indexed by ``source_id``.
    envelopes : DataFrame
        Sources × years, million VND.
    """
    sources = pd.DataFrame(
        [(s.id, s.name_vi, s.name_en, s.eligible, s.scope) for s in SOURCES],
        columns=["source_id", "name_vi", "name_en", "eligible", "scope"],
    ).set_index("source_id")
    envelopes = pd.DataFrame(
        [largest_remainder(np.array([s.shares[y] for y in YEARS]), round(s.total_bn * 1000)) for s in SOURCES],
        index=sources.index, columns=list(YEARS), dtype=float,
    )
    return sources, envelopes


def _meta(criteria_set: str, seed: int) -> DatasetMeta:
    """The dataset's description, saying which parts are synthetic."""
    return DatasetMeta(
        name="lao_cai",
        title="Tỉnh Lào Cai 2021–2025 (dữ liệu minh họa)",
        criteria_set=criteria_set,
        demo=True,
        source=f"ntm_sim.data.demo (seed {seed})",
        notes=("Communes, codes, districts, start counts, the October 2024 criteria picture of the recognised "
               "communes, advanced communes, Zone III count, village stock, rural population and money totals "
               "are public; the unnamed status, costs, traits and year split are synthetic. See README.md."),
        reviews_from=REVIEWS_FROM,
    )


def round10(x: np.ndarray | float) -> np.ndarray:
    """Round to tens of million VND (how the demo money is shown)."""
    return np.round(np.asarray(x, dtype=float) / 10) * 10


def spread(rng: np.random.Generator, sigma: float, size: int | tuple[int, int]) -> np.ndarray:
    """Mean-one lognormal multipliers."""
    return rng.lognormal(-sigma * sigma / 2, sigma, size)


def _nfc(name: str) -> str:
    from ntm_sim.text import nfc

    return nfc(name)


def _nfc_set(names: tuple[str, ...]) -> set[str]:
    return {_nfc(n) for n in names}


