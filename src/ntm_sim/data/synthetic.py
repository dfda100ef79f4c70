"""A seeded synthetic country, for benchmarks and scale tests (never real data).

:func:`national_dataset` draws a country the size of Vietnam (63 provinces, about
700 district-level units, about 8,000 communes) with the same kinds of variety as the
Lào Cai demo data (:mod:`ntm_sim.data.demo`): about 63% of communes NTM at the start, some
below 10 criteria, income, poverty, production and environment most often missing,
especially difficult communes concentrated in the hardest provinces, costs from the
default unit costs with a lognormal spread. Money comes from a few national sources
(paying everywhere) and from provincial, district-and-commune and people's budgets
scoped to their province; it is short of the need, as in every real plan.

Every unit, name, status, cost and amount is made up. The dataset is flagged
``meta.demo`` and labelled as synthetic wherever it is shown.

>>> from ntm_sim.data.synthetic import national_dataset
>>> ds = national_dataset(n_provinces=3, n_communes=300)
>>> len(ds.communes), ds.meta.demo
(300, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ntm_sim.data.checks import poverty_criteria
from ntm_sim.data.costs import UnitCosts, default_unit_costs
from ntm_sim.data.criteria import CriteriaSet, load_criteria_set
from ntm_sim.data.dataset import Dataset, DatasetMeta, make_dataset
from ntm_sim.data.demo import COST_DISPERSION, MISSING_WEIGHT, YEAR_SHARES, add_tier_costs, round10, spread

DEMO_LABEL = ("DỮ LIỆU TỔNG HỢP NGẪU NHIÊN – cả nước giả định, không phải số liệu chính thức "
              "(synthetic benchmark data)")
# Shares of the country, after the national picture at the end of 2020 (approximate).
SHARE_NTM = 0.63                 # communes NTM at the start
SHARE_ESPECIALLY_DIFFICULT = 0.18
SHARE_DISTRICTS_RECOGNISED = 0.25
# Among communes not yet NTM: below 10 criteria, 10–14, the rest 15–18.
SHARE_BELOW_10 = 0.08
SHARE_10_14 = 0.42
COMMUNES_PER_DISTRICT = 8000 / 700
# Money over the horizon as a share of the cost of bringing every commune to NTM:
# clearly short, as in the Lào Cai data (money ≈ 0.47 of that need).
MONEY_TO_NEED = 0.45
# (id suffix, name_vi, name_en, eligibility rule, share of the money)
NATIONAL_SOURCES = (
    ("nstw_dtpt", "Ngân sách trung ương – đầu tư phát triển", "Central budget – investment", "Hạ tầng", 0.05),
    ("nstw_sn", "Ngân sách trung ương – sự nghiệp", "Central budget – recurrent", "Phát triển; Quản trị", 0.03),
    ("long_ghep_ht", "Lồng ghép chương trình, dự án hạ tầng", "Folded-in infrastructure programmes",
     "TC2; TC3; TC4; TC5; TC8", 0.32),
    ("long_ghep_xh", "Lồng ghép CTMTQG giảm nghèo, dân tộc thiểu số",
     "Folded-in poverty and ethnic-minority programmes", "TC9; TC10; TC11; TC12; TC13; TC15", 0.16),
)
PROVINCIAL_SOURCES = (
    ("ns_tinh", "Ngân sách tỉnh", "Provincial budget", "Tất cả", 0.22),
    ("ns_huyen_xa", "Ngân sách huyện, xã", "District and commune budgets", "Tất cả", 0.14),
    ("dan_gop", "Nhân dân, cộng đồng đóng góp", "People and community contributions",
     "TC2; TC6; TC9; TC17", 0.08),
)


@dataclass(frozen=True)
class _Geography:
    """Provinces, districts and communes as positions, with how hard each place is."""

    n_provinces: int
    n_communes: int
    prov_hard: np.ndarray    # per province: 0 easy (delta, south-east) … 1 hardest (mountains)
    d_per_p: np.ndarray      # districts per province
    d_prov: np.ndarray       # province of each district
    c_dist: np.ndarray       # district of each commune
    c_prov: np.ndarray       # province of each commune
    d_hard: np.ndarray       # per district, 0 … 1
    c_hard: np.ndarray       # per commune (not clipped)

    @property
    def n_districts(self) -> int:
        """Number of district-level units."""
        return len(self.d_prov)


@dataclass(frozen=True)
class _Standing:
    """Where the communes and districts stand at the start of the period."""

    ed: np.ndarray           # bool per commune: especially difficult
    recognised: np.ndarray   # bool per district: recognised NTM unit
    ntm: np.ndarray          # bool per commune: NTM at the start
    score: np.ndarray        # per commune: how hard the remaining criteria are (higher is harder)


@dataclass(frozen=True)
class _Names:
    """Made-up codes and names ("Tỉnh 07", "Huyện 07-03", "Xã 10234")."""

    p_codes: list[str]
    d_codes: list[str]
    c_codes: list[str]
    p_names: list[str]
    d_names: list[str]


def national_dataset(n_provinces: int = 63, n_communes: int = 8000, seed: int = 2021) -> Dataset:
    """Draw a synthetic country (demo data, reproducible with the seed).

    Parameters
    ----------
    n_provinces
        Number of provinces (1 … 99).
    n_communes
        Number of communes (at least ``n_provinces``); districts are about one per
        11 communes, at least one per province.
    seed
        Seed of the random generator: the same arguments give the same dataset.

    Returns
    -------
    Dataset
        Flagged ``meta.demo`` with a label saying the data are synthetic. Province
        codes are ``"1"`` … ``"63"``, district codes start at 100 and commune codes at
        10000, so that a source scope (province or district codes) is never ambiguous.
    """
    if not 1 <= n_provinces <= 99:
        raise ValueError("n_provinces must be between 1 and 99")
    if n_communes < n_provinces:
        raise ValueError("n_communes must be at least n_provinces")
    rng = np.random.default_rng(seed)
    crit = load_criteria_set()
    ids = list(crit.ids)
    unit = default_unit_costs()

    # The draws happen in this order; changing it changes every dataset of a seed.
    geo = _draw_geography(rng, n_provinces, n_communes)
    standing = _draw_standing(rng, geo)
    status_arr = _draw_status(rng, crit, standing)
    names = _unit_names(geo)
    communes = _draw_communes(rng, geo, standing, names)
    factor = add_tier_costs(rng, unit, communes)
    status, cost = _draw_costs(rng, unit, ids, factor, status_arr, communes.index)
    districts = _district_table(unit, names, standing.recognised, geo.d_hard)
    sources, envelopes = _draw_money(rng, geo, names, cost)

    return make_dataset(crit, communes, status, cost,
                        cost_estimated=pd.DataFrame(False, index=communes.index, columns=ids),
                        districts=districts, sources=sources, envelopes=envelopes,
                        meta=_meta(crit.id, n_provinces, n_communes, seed), file="ntm_sim.data.synthetic")


def _draw_geography(rng: np.random.Generator, n_provinces: int, n_communes: int) -> _Geography:
    """Provinces, districts, communes: sizes vary (lognormal weights), at least one each.

    Parameters
    ----------
    rng
        The dataset's random generator.
    n_provinces, n_communes
        Sizes of the country.

    Returns
    -------
    _Geography
    """
    prov_hard = rng.beta(2.0, 2.0, n_provinces)  # 0 easy (delta, south-east) … 1 hardest (mountains)
    c_per_p = 1 + rng.multinomial(n_communes - n_provinces, _weights(rng, n_provinces, 0.5))
    n_districts = max(n_provinces, round(n_communes / COMMUNES_PER_DISTRICT))
    d_per_p = np.minimum(c_per_p, np.maximum(1, np.round(n_districts * c_per_p / n_communes).astype(int)))
    d_prov = np.repeat(np.arange(n_provinces), d_per_p)  # province of each district
    n_d = len(d_prov)
    # communes per district: at least one, the rest spread with lognormal weights
    c_per_d = np.concatenate([1 + rng.multinomial(c - d, _weights(rng, d, 0.4)) for c, d in zip(c_per_p, d_per_p,
                                                                                               strict=True)])
    c_dist = np.repeat(np.arange(n_d), c_per_d)
    d_hard = np.clip(prov_hard[d_prov] + rng.normal(0, 0.15, n_d), 0, 1)
    c_hard = d_hard[c_dist] + rng.normal(0, 0.2, n_communes)
    return _Geography(n_provinces=n_provinces, n_communes=n_communes, prov_hard=prov_hard, d_per_p=d_per_p,
                      d_prov=d_prov, c_dist=c_dist, c_prov=d_prov[c_dist], d_hard=d_hard, c_hard=c_hard)


def _draw_standing(rng: np.random.Generator, geo: _Geography) -> _Standing:
    """Especially difficult communes, recognised districts and NTM communes at the start.

    The especially difficult communes are the hardest, so concentrated in hard
    provinces. NTM at the start: every commune of the recognised districts (the
    easiest), then the easiest of the rest up to the national share.

    Returns
    -------
    _Standing
    """
    n_communes, n_d = geo.n_communes, geo.n_districts
    n_ed = round(SHARE_ESPECIALLY_DIFFICULT * n_communes)
    ed = np.zeros(n_communes, dtype=bool)
    ed[np.argsort(-(geo.c_hard + rng.normal(0, 0.1, n_communes)), kind="stable")[:n_ed]] = True

    n_rec = round(SHARE_DISTRICTS_RECOGNISED * n_d)
    recognised = np.zeros(n_d, dtype=bool)
    recognised[np.argsort(geo.d_hard + rng.normal(0, 0.1, n_d), kind="stable")[:n_rec]] = True
    ntm = recognised[geo.c_dist].copy()
    ed &= ~ntm  # a recognised district has no commune on the especially-difficult list
    score = geo.c_hard + 0.3 * ed + rng.normal(0, 0.15, n_communes)
    extra = max(0, round(SHARE_NTM * n_communes) - int(ntm.sum()))
    open_c = ~ntm & ~ed  # a Zone III commune is not NTM (Decision 33/2020/QĐ-TTg)
    open_order = np.flatnonzero(open_c)[np.argsort(score[open_c], kind="stable")]
    ntm[open_order[:extra]] = True
    return _Standing(ed=ed, recognised=recognised, ntm=ntm, score=score)


def _draw_status(rng: np.random.Generator, crit: CriteriaSet, standing: _Standing) -> np.ndarray:
    """Criteria met by every commune: all for NTM communes, the hardest communes lowest.

    Returns
    -------
    numpy.ndarray
        Bool (n_communes, n_criteria).
    """
    ids = list(crit.ids)
    n_k = len(ids)
    ed, score = standing.ed, standing.score
    n_communes = len(score)
    not_ntm = np.flatnonzero(~standing.ntm)
    ranked = not_ntm[np.argsort(-score[not_ntm], kind="stable")]  # hardest first
    q = np.arange(len(ranked)) / max(1, len(ranked))
    met = np.full(n_communes, n_k)
    met[ranked] = np.where(q < SHARE_BELOW_10, rng.integers(6, 10, len(ranked)),
                           np.where(q < SHARE_BELOW_10 + SHARE_10_14, rng.integers(10, 15, len(ranked)),
                                    rng.integers(15, n_k, len(ranked))))
    # weighted draw without replacement of the missing criteria (Gumbel top-k):
    # remote communes lack infrastructure more often
    weight = np.array([MISSING_WEIGHT[k] for k in ids])
    infra = np.array([crit[k].kind == "infrastructure" for k in ids])
    log_w = np.log(weight)[None, :] + np.where(ed[:, None] & infra[None, :], np.log(1.4), 0.0)
    keys = log_w + rng.gumbel(size=(n_communes, n_k))
    # a Zone III commune misses the poverty criterion (Decision 33/2020/QĐ-TTg): first in its draw
    keys[np.ix_(ed, np.isin(ids, poverty_criteria(crit)))] = np.inf
    rank = np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")
    return rank >= (n_k - met)[:, None]


def _unit_names(geo: _Geography) -> _Names:
    """Codes and made-up names of provinces, districts and communes."""
    n_provinces, n_d, d_per_p = geo.n_provinces, geo.n_districts, geo.d_per_p
    d_local = np.arange(n_d) - np.repeat(np.cumsum(d_per_p) - d_per_p, d_per_p)  # position in its province
    return _Names(
        p_codes=[str(p + 1) for p in range(n_provinces)],
        d_codes=[str(100 + d) for d in range(n_d)],
        c_codes=[str(10000 + c) for c in range(geo.n_communes)],
        p_names=[f"Tỉnh {p + 1:02d} (tổng hợp)" for p in range(n_provinces)],
        d_names=[f"Huyện {p + 1:02d}-{j + 1:02d}" for p, j in zip(geo.d_prov, d_local, strict=True)],
    )


def _draw_communes(rng: np.random.Generator, geo: _Geography, standing: _Standing, names: _Names) -> pd.DataFrame:
    """The commune table: units and traits (tier and village costs are added after).

    As in the demo data, highland communes are smaller, with more villages per head.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``commune_code``.
    """
    n_communes, ntm = geo.n_communes, standing.ntm
    highland = geo.c_hard > 0.55
    population = np.round(np.where(highland, rng.lognormal(np.log(4200), 0.35, n_communes),
                                   rng.lognormal(np.log(7500), 0.4, n_communes)), -1)
    households = np.round(population / np.where(highland, 5.0, 4.0))
    villages = np.clip(np.round(population / np.where(highland, 420, 650) + rng.normal(0, 1.5, n_communes)),
                       3, 25).astype(int)
    share_ntm_v = np.where(ntm, rng.uniform(0.35, 0.75, n_communes), rng.uniform(0.0, 0.2, n_communes))
    villages_ntm = np.floor(villages * share_ntm_v).astype(int)
    villages_model = np.where(ntm, np.floor(villages_ntm * rng.uniform(0, 0.3, n_communes)), 0).astype(int)
    return pd.DataFrame({
        "commune_name": [f"Xã {c}" for c in names.c_codes],
        "district_code": np.array(names.d_codes)[geo.c_dist],
        "district_name": np.array(names.d_names)[geo.c_dist],
        "province_code": np.array(names.p_codes)[geo.c_prov],
        "province_name": np.array(names.p_names)[geo.c_prov],
        "especially_difficult": standing.ed,
        "population": population,
        "households": households,
        "villages": villages,
        "villages_ntm": villages_ntm,
        "villages_model": villages_model,
        "advanced": False,  # every commune must re-qualify under the 2021–2025 set
        "model": False,
    }, index=pd.Index(names.c_codes, name="commune_code"))




def _draw_costs(rng: np.random.Generator, unit: UnitCosts, ids: list[str], factor: np.ndarray,
                status_arr: np.ndarray, index: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cost of every unmet criterion: the unit cost scaled by the commune, with a spread.

    Returns
    -------
    status : DataFrame
        Bool, communes × criteria.
    cost : DataFrame
        Million VND, NaN where the criterion is met.
    """
    base = np.array([unit.criteria[k] for k in ids])
    cost_arr = round10(np.outer(factor, base) * spread(rng, COST_DISPERSION, (len(index), len(ids))))
    status = pd.DataFrame(status_arr, index=index, columns=ids)
    cost = pd.DataFrame(np.where(status_arr, np.nan, cost_arr), index=index, columns=ids)
    return status, cost


def _district_table(unit: UnitCosts, names: _Names, recognised: np.ndarray, d_hard: np.ndarray) -> pd.DataFrame:
    """The district table: recognised districts cost nothing, harder ones more."""
    return pd.DataFrame({
        "district_name": names.d_names,
        "ntm": recognised,
        "advanced": False,
        "district_cost_mvnd": np.where(recognised, 0.0,
                                       round10(unit.districts["district_cost_mvnd"] * (0.8 + 0.8 * d_hard))),
        "district_advanced_cost_mvnd": unit.districts["district_advanced_cost_mvnd"],
    }, index=pd.Index(names.d_codes, name="district_code"))


def _draw_money(rng: np.random.Generator, geo: _Geography, names: _Names,
                cost: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sources and envelopes: short of the need.

    Provincial money follows the province's need, more of it in the easier (richer)
    provinces, and is scoped to the province; national money goes everywhere.

    Returns
    -------
    sources : DataFrame
        Indexed by ``source_id``.
    envelopes : DataFrame
        Sources × years, million VND.
    """
    n_provinces, p_codes, p_names = geo.n_provinces, names.p_codes, names.p_names
    need_c = np.nansum(cost.to_numpy(), axis=1)
    need_p = np.bincount(geo.c_prov, weights=need_c, minlength=n_provinces)
    total = MONEY_TO_NEED * float(need_c.sum())
    rows, env = [], []
    years = np.array(sorted(YEAR_SHARES))
    year_share = np.array([YEAR_SHARES[y] for y in years])
    for sid, vi, en, rule, share in NATIONAL_SOURCES:
        rows.append((sid, vi, en, rule, ""))
        env.append(total * share * year_share)
    wealth = need_p * (1.5 - geo.prov_hard) * rng.lognormal(0, 0.2, n_provinces)
    wealth = wealth / wealth.sum() if wealth.sum() > 0 else np.full(n_provinces, 1 / n_provinces)
    for sid, vi, en, rule, share in PROVINCIAL_SOURCES:
        for p in range(n_provinces):
            rows.append((f"{sid}_{p_codes[p]}", f"{vi} – {p_names[p]}", f"{en} – province {p_codes[p]}", rule,
                         p_codes[p]))
            env.append(total * share * wealth[p] * year_share)
    sources = pd.DataFrame(rows, columns=["source_id", "name_vi", "name_en", "eligible", "scope"]
                           ).set_index("source_id")
    envelopes = pd.DataFrame(np.round(np.array(env)), index=sources.index, columns=[int(y) for y in years])
    return sources, envelopes


def _meta(criteria_set: str, n_provinces: int, n_communes: int, seed: int) -> DatasetMeta:
    """The dataset's description, saying it is synthetic and how to draw it again."""
    return DatasetMeta(
        name=f"synthetic_{n_provinces}p_{n_communes}c_s{seed}",
        title=f"Cả nước giả định: {n_provinces} tỉnh, {n_communes} xã (dữ liệu tổng hợp)",
        criteria_set=criteria_set,
        demo=True,
        demo_label=DEMO_LABEL,
        source=f"ntm_sim.data.synthetic.national_dataset(n_provinces={n_provinces}, n_communes={n_communes}, "
               f"seed={seed})",
        notes="Every unit, name, status, cost and amount is synthetic (benchmarks and scale tests only).",
    )


def _weights(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Random shares summing to one (lognormal weights)."""
    w = rng.lognormal(0.0, sigma, n)
    return w / w.sum()



