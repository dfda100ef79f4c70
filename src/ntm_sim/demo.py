"""The seeded generator of the bundled Lào Cai demo dataset.

The communes, their codes and districts are public facts, and so are the calibration
targets in :data:`CALIBRATION` (start counts, Zone III count and rule, village stock,
rural population, money by source): each is listed with its source in the data
README. Which unnamed communes were NTM in 2020, every criterion status not named in
the press, every cost, every commune trait and the split of money by year are
SYNTHETIC, drawn here with a fixed seed. ``python -m ntm_sim.demo`` (or
``ntm-sim data generate``) rewrites ``ntm_sim/data/lao_cai`` byte for byte.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.costs import UnitCosts, default_unit_costs
from ntm_sim.criteria import CriteriaSet, load_criteria_set
from ntm_sim.dataset import Dataset, DatasetMeta, bundled_path, make_dataset, poverty_criteria
from ntm_sim.units import lao_cai_units

SEED = 20210301

# Public: communes recognised NTM by 2020 (sources in the data README). Nàn Sán was NTM by
# the end of 2019 (khuyennongvn.gov.vn); the last four were recognised "for 2020" in early 2021.
NTM_FOR_2020 = ("Nậm Mòn", "Cốc Lầu", "Tân Thượng", "Xuân Thượng")
NTM_2020_NAMED = (
    "Đồng Tuyển", "Tả Phời", "Bản Sen", "Bản Lầu", "Bản Vược", "Hoà Mạc", "Bảo Nhai",
    "Xuân Quang", "Sơn Hải", "Việt Tiến", "Yên Sơn", "Bản Cầm", "Bản Phiệt", "Tân Dương",
    "Nậm Đét", "Nàn Sán", *NTM_FOR_2020,
)
# Public: near the standard in 2015 but not finished then (nongthonmoihatinh.vn): less remote.
NEAR_2015 = ("Khánh Yên Hạ", "Khánh Yên Thượng", "Sín Chéng", "Nghĩa Đô", "Bản Qua", "Xuân Giao")
# Public: Lùng Cải, one of the ten hardest communes, 91% poor and near-poor households.
REMOTEST = ("Lùng Cải",)
# Public: TP Lào Cai (80) and Bảo Thắng (86) were recognised district units by 2020.
RECOGNISED_DISTRICTS = ("80", "86")
# Public: 61 NTM communes at the start of 2021 (57 + 4 "for 2020"). Synthetic: their split
# over districts (the named ones and the recognised districts' communes included).
NTM_PER_DISTRICT = {"80": 7, "82": 6, "83": 4, "84": 1, "85": 5, "86": 11, "87": 11, "88": 3, "89": 13}
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
# Commune groups among the 66 not-yet-NTM communes, most remote first (synthetic; sums to 66).
GROUP_SIZES = {"lt10": 8, "g10_14": 31, "g15_18": 27}
# How often each criterion is missing (relative weights; income, poverty, production and
# environment are the most often missing, a public finding). Poverty is missing in every
# Zone III commune (the rule); the weight applies elsewhere.
MISSING_WEIGHT = {
    "TC1": 0.3, "TC2": 1.8, "TC3": 1.0, "TC4": 0.6, "TC5": 1.4, "TC6": 1.3, "TC7": 0.8,
    "TC8": 0.7, "TC9": 1.3, "TC10": 3.0, "TC11": 3.0, "TC12": 1.2, "TC13": 2.6, "TC14": 0.8,
    "TC15": 1.0, "TC16": 0.9, "TC17": 2.6, "TC18": 0.4, "TC19": 0.2,
}
# Synthetic, behind an option (``generate(slip_share=SLIP_SHARE)``, ``python -m ntm_sim.demo
# --slip-share``; the bundled files keep slip_share 0, every recognised commune meeting every
# criterion, so that the published figures stay as they are). Public evidence: in 2022 most Lào
# Cai communes fell below the Decision 318 set (baodantoc.vn, "Nông thôn mới rớt chuẩn");
# Đồng Tuyển, NTM since 2015, was counted at 13/19 in 2024. Assumption: half of the 61
# recognised communes, Đồng Tuyển among them, the more remote more likely, miss one or two
# criteria of the set at the start; they keep their recognition (``recognised_year``).
SLIP_SHARE = 0.5
SLIP_NAMED = ("Đồng Tuyển",)
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
# Assumption: the three national target programmes were approved in 2021–2022 (NTM:
# Decision 263/QĐ-TTg of 22/2/2022), so their central money starts in 2022.
PROGRAMME_YEAR_SHARES = {2021: 0.0, 2022: 0.22, 2023: 0.28, 2024: 0.25, 2025: 0.25}
POOR_DISTRICTS = "83; 84; 85"  # Mường Khương, Si Ma Cai, Bắc Hà: poor districts (30a) in 2021–2025


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
               "Hạ tầng", "", 421.84, PROGRAMME_YEAR_SHARES,
               "Public total (Resolution 08/2022/NQ-HĐND); none in 2021 (programme approved 22/2/2022)"),
    SourceSpec("nstw_sn", "Ngân sách trung ương – sự nghiệp", "Central budget – recurrent",
               "Phát triển; Quản trị", "", 174.16, PROGRAMME_YEAR_SHARES,
               "Public: central 596 − investment 421.84; none in 2021"),
    SourceSpec("ns_tinh", "Ngân sách tỉnh", "Provincial budget", "Tất cả", "", 1800.0, YEAR_SHARES,
               "Local budgets ≈3,000 public; 1,800 / 1,200 split assumed"),
    SourceSpec("ns_huyen_xa", "Ngân sách huyện, xã", "District and commune budgets", "Tất cả", "", 1200.0,
               YEAR_SHARES, "Local budgets ≈3,000 public; split assumed"),
    SourceSpec("ctmtqg_1719", "Lồng ghép CTMTQG phát triển KT-XH vùng đồng bào DTTS và miền núi (1719)",
               "Folded-in ethnic-minority and mountain programme (1719)",
               "TC2; TC5; TC6; TC9; TC11; TC13; TC17", "ĐBKK", 2058.0, PROGRAMME_YEAR_SHARES,
               "Public total (Resolution 08/2022/NQ-HĐND); scope (Zone III communes) and eligibility assumed"),
    SourceSpec("ctmtqg_giam_ngheo", "Lồng ghép CTMTQG giảm nghèo bền vững",
               "Folded-in sustainable poverty reduction programme", "TC10; TC11; TC12; TC13", POOR_DISTRICTS,
               932.9, PROGRAMME_YEAR_SHARES,
               "Public total (Resolution 08/2022/NQ-HĐND); scope (poor districts) and eligibility assumed"),
    SourceSpec("long_ghep_ht", "Lồng ghép chương trình, dự án hạ tầng khác", "Other folded-in infrastructure",
               "TC2; TC3; TC4; TC5; TC8", "", 2120.0, YEAR_SHARES,
               "Folded-in > 5,000 public; the rest after 1719 and poverty, so the total passes 9,200 (assumed)"),
    SourceSpec("dan_gop", "Nhân dân, cộng đồng đóng góp", "People and community contributions",
               "TC2; TC6; TC9; TC17", "", 499.0, YEAR_SHARES, "Public (> 499); year split assumed"),
)

# What the generated data must reproduce, with tolerances (checked by the tests and
# printed into the data README): (target, tolerance).
CALIBRATION = {
    "communes": (127, 0),
    "districts": (9, 0),
    "ntm_communes_2020": (61, 0),
    "especially_difficult": (66, 0),
    "zone3_on_2021_list": (ZONE3_LISTED, 0),
    "zone3_rule_violations": (0, 0),
    "communes_below_10": (8, 0),
    "avg_criteria_met": (16.0, 0.4),
    "villages_model": (VILLAGES_MODEL_2020, 0),
    "villages_ntm_only": (VILLAGES_NTM_ONLY_2020, 0),
    "rural_population": (RURAL_POPULATION_2019, round(0.005 * RURAL_POPULATION_2019)),
    "money_total_bn": (9205.9, 10.0),
    "central_investment_bn": (421.84, 0.01),
    "central_recurrent_bn": (174.16, 0.01),
    "central_2021_bn": (0.0, 0.01),
    "programme_1719_bn": (2058.0, 0.01),
    "poverty_programme_bn": (932.9, 0.01),
}


@dataclass(frozen=True)
class DemoFacts:
    """Figures of the generated data, as printed in the README."""

    communes: int
    districts: int
    ntm_communes_2020: int            # recognised NTM at the start
    recognised_short: int             # … of which short of a criterion of the set
    especially_difficult: int
    zone3_on_2021_list: int
    zone3_rule_violations: int
    communes_below_10: int
    avg_criteria_met: float
    villages_model: int
    villages_ntm_only: int
    rural_population: int
    money_total_bn: float
    central_investment_bn: float
    central_recurrent_bn: float
    central_2021_bn: float
    programme_1719_bn: float
    poverty_programme_bn: float
    need_to_complete_bn: float
    need_cheapest_33_bn: float


@dataclass(frozen=True)
class _Standing:
    """Which communes are NTM and Zone III at the start, and how remote each one is."""

    ntm: set[str]
    not_ntm: list[str]       # in dataset order
    zone3: set[str]          # especially difficult (Zone III) at the start
    remoteness: pd.Series    # synthetic, per commune (higher is more remote)


def generate(seed: int = SEED, slip_share: float = 0.0) -> Dataset:
    """Generate the Lào Cai demo dataset.

    Parameters
    ----------
    seed
        Seed of the random generator; the default reproduces the bundled files.
    slip_share
        Share of the recognised communes that miss one or two criteria of the Decision
        318 set at the start while keeping their recognition (see :data:`SLIP_SHARE`);
        0 (the bundled files) adds no recognition column. The other draws do not change.

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
    if slip_share > 0:
        status, cost = _slip_recognised(np.random.default_rng([seed, 318]), crit, unit, factor,
                                        communes, status, cost, slip_share)

    broken = zone3_violations(crit, communes["especially_difficult"], status)
    if broken:
        raise ValueError(f"generator bug: Zone III communes NTM or meeting poverty: {broken}")
    return make_dataset(crit, communes, status, cost, cost_estimated=pd.DataFrame(False, index=codes,
                        columns=crit.ids), districts=_district_table(unit, units), sources=sources,
                        envelopes=envelopes, meta=_meta(crit.id, seed), file="ntm_sim.demo")


def _slip_recognised(rng: np.random.Generator, crit: CriteriaSet, unit: UnitCosts, factor: np.ndarray,
                     communes: pd.DataFrame, status: pd.DataFrame, cost: pd.DataFrame,
                     share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recognised communes that miss criteria of the new set: recognition kept, criteria slipped.

    Adds ``recognised_year`` to ``communes`` (in place; :data:`RECOGNISED_IN`, else
    2020), then picks ``share`` of the recognised communes (:data:`SLIP_NAMED` first,
    the others weighted by their commune factor, which is higher for remote and large
    communes), each missing one or two criteria drawn with :data:`MISSING_WEIGHT`, and
    costs them as :func:`_draw_costs` does. Uses its own generator, so the other draws
    stay those of the bundled files.

    Returns
    -------
    status, cost : pandas.DataFrame
        New tables.
    """
    names = communes["commune_name"].map(_nfc)
    recognised = status.all(axis=1)
    years = pd.Series(np.where(recognised, 2020.0, np.nan), index=communes.index)
    for year, named in RECOGNISED_IN.items():
        years[names.isin(_nfc_set(named)) & recognised] = float(year)
    communes["recognised_year"] = years
    pool = list(communes.index[recognised])
    n_slip = min(len(pool), int(round(share * len(pool))))
    first = [c for c in pool if names[c] in _nfc_set(SLIP_NAMED)][:n_slip]
    rest = [c for c in pool if c not in first]
    weight = pd.Series(factor, index=communes.index)[rest].to_numpy()
    chosen = first + list(rng.choice(rest, size=n_slip - len(first), replace=False, p=weight / weight.sum()))
    status, cost = status.copy(), cost.copy()
    p_miss = np.array([MISSING_WEIGHT[k] for k in crit.ids])
    cap = MAX_PROJECT_MVND_PER_YEAR * np.array([crit[k].lead_time_years for k in crit.ids], dtype=float)
    for c in sorted(chosen, key=list(communes.index).index):
        missing = rng.choice(len(crit), size=int(rng.integers(1, 3)), replace=False, p=p_miss / p_miss.sum())
        i = communes.index.get_loc(c)
        drawn = factor[i] * np.array([unit.criteria[crit.ids[k]] for k in missing]) * spread(
            rng, COST_DISPERSION, len(missing))
        status.loc[c, [crit.ids[k] for k in missing]] = False
        cost.loc[c, [crit.ids[k] for k in missing]] = round10(np.minimum(drawn, cap[missing]))
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
    ntm: set[str] = set(names.index[names.isin(_nfc_set(NTM_2020_NAMED))])
    for d, n in NTM_PER_DISTRICT.items():
        in_d = [c for c in codes if districts[c] == d]
        if d in RECOGNISED_DISTRICTS:
            ntm |= set(in_d)
            continue
        pool = sorted((c for c in in_d if c not in ntm), key=lambda c: remote[c])
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
        source=f"ntm_sim.demo (seed {seed})",
        notes=("Communes, codes, districts, start counts, Zone III count, village stock, rural population "
               "and money totals are public; the unnamed status, costs, traits and year split are "
               "synthetic. See README.md."),
    )


def facts(ds: Dataset) -> DemoFacts:
    """Compute the calibration figures of a dataset."""
    met = ds.criteria_met
    need = ds.cost_to_complete
    open_need = need[~ds.is_ntm].sort_values()
    c = ds.communes
    names = set(c.loc[ds.recognised, "commune_name"].map(_nfc))
    env_bn = ds.envelopes / 1000

    def source_bn(sid: str) -> float:
        return round(float(env_bn.loc[sid].sum()), 2) if sid in env_bn.index else 0.0

    central = [s for s in env_bn.index if s.startswith("nstw")]
    return DemoFacts(
        communes=len(c),
        districts=len(ds.districts),
        ntm_communes_2020=int(ds.recognised.sum()),
        recognised_short=int((ds.recognised & ~ds.is_ntm).sum()),
        especially_difficult=int(c["especially_difficult"].sum()),
        zone3_on_2021_list=int(c["especially_difficult"].sum()) + len(_nfc_set(NTM_FOR_2020) & names),
        zone3_rule_violations=len(zone3_violations(ds.criteria, c["especially_difficult"], ds.status)),
        communes_below_10=int((met < 10).sum()),
        avg_criteria_met=round(float(met.mean()), 2),
        villages_model=int(c["villages_model"].sum()),
        villages_ntm_only=int((c["villages_ntm"] - c["villages_model"]).sum()),
        rural_population=int(c["population"].sum()),
        money_total_bn=round(float(env_bn.to_numpy().sum()), 1),
        central_investment_bn=source_bn("nstw_dtpt"),
        central_recurrent_bn=source_bn("nstw_sn"),
        central_2021_bn=round(float(env_bn.loc[central, YEARS[0]].sum()), 2) if central else 0.0,
        programme_1719_bn=source_bn("ctmtqg_1719"),
        poverty_programme_bn=source_bn("ctmtqg_giam_ngheo"),
        need_to_complete_bn=round(float(need.sum()) / 1000, 1),
        need_cheapest_33_bn=round(float(open_need.iloc[:33].sum()) / 1000, 1),
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


def readme_table(ds: Dataset) -> str:
    """Markdown table of the calibration figures for the data README."""
    f = facts(ds)
    rows = [
        ("Communes", f.communes, "127 (public)"),
        ("District-level units", f.districts, "9 (public)"),
        ("NTM communes at the start of 2021 (recognised)", f.ntm_communes_2020,
         "61 = 57 + 4 recognised for 2020 (public)"),
        ("… of which short of a criterion of the Decision 318 set", f.recognised_short,
         f"0 in these files; {SLIP_SHARE:.0%} with `--slip-share` (synthetic; most fell below in 2022)"),
        ("Zone III communes at the start", f.especially_difficult, "70 listed − 4 recognised NTM = 66"),
        ("Zone III + the 4 recognised for 2020 (Decision 861 list)", f.zone3_on_2021_list, "70 (public)"),
        ("Zone III communes NTM or meeting poverty", f.zone3_rule_violations, "0 (Decision 33/2020 rule)"),
        ("Communes below 10 criteria", f.communes_below_10, "some (the plan: none by 2025)"),
        ("Average criteria met per commune", f"{f.avg_criteria_met:.2f}", "below the 17.3 target"),
        ("Model villages, end 2020", f.villages_model, "134 (public)"),
        ("NTM villages (not model), end 2020", f.villages_ntm_only, "123 (public)"),
        ("Rural population", f"{f.rural_population:,}", "559,019 ± 0.5% (2019 census)"),
        ("Money 2021–2025, billion VND", f"{f.money_total_bn:,.1f}", "> 9,200 mobilised (public)"),
        ("Central investment, billion VND", f"{f.central_investment_bn:,.2f}", "421.84 (public)"),
        ("Central recurrent, billion VND", f"{f.central_recurrent_bn:,.2f}", "596 − 421.84 = 174.16"),
        ("Central money in 2021, billion VND", f"{f.central_2021_bn:,.2f}", "≈0 (programme approved 2022)"),
        ("1719 programme, billion VND", f"{f.programme_1719_bn:,.2f}", "2,058 (public)"),
        ("Poverty-reduction programme, billion VND", f"{f.poverty_programme_bn:,.2f}", "932.9 (public)"),
        ("Cost to bring every commune to NTM, billion VND", f"{f.need_to_complete_bn:,.1f}",
         "larger than the money"),
        ("Cost of the 33 cheapest communes to complete, billion VND", f"{f.need_cheapest_33_bn:,.1f}",
         "the plan's +33 (to 94) must be affordable but not easy"),
    ]
    out = ["| Figure | Generated | Calibration target |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


def money_table(ds: Dataset) -> str:
    """Markdown table of the money by source and year (billion VND) with each figure's basis."""
    head = "| Source | Scope | " + " | ".join(str(y) for y in YEARS) + " | Total | Basis |"
    out = [head, "|---" * (len(YEARS) + 4) + "|"]
    for s in SOURCES:
        row = ds.envelopes.loc[s.id] / 1000
        cells = " | ".join(f"{row[y]:,.2f}" for y in YEARS)
        out.append(f"| `{s.id}` {s.name_en} | {s.scope or 'all'} | {cells} | {row.sum():,.2f} | {s.basis} |")
    return "\n".join(out)


README_BLOCKS = {"calibration": readme_table, "money": money_table}


def fill_readme(text: str, ds: Dataset) -> str:
    """The README's text with every generated block (between its markers) rewritten."""
    for name, table in README_BLOCKS.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        head, sep, rest = text.partition(begin)
        if not sep:
            continue
        _, _, tail = rest.partition(end)
        text = f"{head}{begin}\n{table(ds)}\n{end}{tail}"
    return text


def write_bundled(folder: Path | None = None, seed: int = SEED, *, force: bool = False,
                  slip_share: float = 0.0) -> Path:
    """Regenerate the bundled dataset folder (or write it to ``folder``) and the figures in its README.

    The bundled folder is always regenerated in place (with ``slip_share`` 0; see
    :func:`generate`); another folder is replaced only if ntm-sim wrote it and ``force`` is set.
    """
    if slip_share and not folder:
        raise ValueError("the bundled files keep slip_share 0: write the variant to another folder")
    from ntm_sim.io.folder import write_folder

    force = force or not folder
    folder = Path(folder) if folder else bundled_path("lao_cai")
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else None
    ds = generate(seed, slip_share)
    write_folder(ds, folder, force=force)
    if text is not None:
        (folder / "README.md").write_text(fill_readme(text, ds), encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> None:
    """Regenerate the bundled Lào Cai demo data (``python -m ntm_sim.demo``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--slip-share", type=float, default=0.0, nargs="?", const=SLIP_SHARE,
                        help=f"share of recognised communes short of criteria (alone: {SLIP_SHARE}); needs --out")
    args = parser.parse_args(argv)
    folder = write_bundled(args.out, args.seed, slip_share=args.slip_share)
    print(f"wrote {folder}")
    print(readme_table(generate(args.seed, args.slip_share)))


if __name__ == "__main__":
    main()
