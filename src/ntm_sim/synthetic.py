"""A seeded synthetic country, for benchmarks and scale tests (never real data).

:func:`national_dataset` draws a country the size of Vietnam (63 provinces, about
700 district-level units, about 8,000 communes) with the same kinds of variety as the
Lào Cai demo data (:mod:`ntm_sim.demo`): about 63% of communes NTM at the start, some
below 10 criteria, income, poverty, production and environment most often missing,
especially difficult communes concentrated in the hardest provinces, costs from the
default unit costs with a lognormal spread. Money comes from a few national sources
(paying everywhere) and from provincial, district-and-commune and people's budgets
scoped to their province; it is short of the need, as in every real plan.

Every unit, name, status, cost and amount is made up. The dataset is flagged
``meta.demo`` and labelled as synthetic wherever it is shown.

>>> from ntm_sim.synthetic import national_dataset
>>> ds = national_dataset(n_provinces=3, n_communes=300)
>>> len(ds.communes), ds.meta.demo
(300, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntm_sim.costs import default_unit_costs
from ntm_sim.criteria import load_criteria_set
from ntm_sim.dataset import Dataset, DatasetMeta, make_dataset
from ntm_sim.demo import COST_DISPERSION, MISSING_WEIGHT, YEAR_SHARES

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
    n_k = len(ids)
    unit = default_unit_costs()

    # --- provinces, districts, communes: sizes vary (lognormal weights), at least one each.
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
    c_prov = d_prov[c_dist]
    d_hard = np.clip(prov_hard[d_prov] + rng.normal(0, 0.15, n_d), 0, 1)
    c_hard = d_hard[c_dist] + rng.normal(0, 0.2, n_communes)

    # --- especially difficult communes: the hardest, so concentrated in hard provinces.
    n_ed = round(SHARE_ESPECIALLY_DIFFICULT * n_communes)
    ed = np.zeros(n_communes, dtype=bool)
    ed[np.argsort(-(c_hard + rng.normal(0, 0.1, n_communes)), kind="stable")[:n_ed]] = True

    # --- NTM at the start: every commune of the recognised districts (the easiest), then
    # the easiest of the rest up to the national share.
    n_rec = round(SHARE_DISTRICTS_RECOGNISED * n_d)
    recognised = np.zeros(n_d, dtype=bool)
    recognised[np.argsort(d_hard + rng.normal(0, 0.1, n_d), kind="stable")[:n_rec]] = True
    ntm = recognised[c_dist].copy()
    ed &= ~ntm  # a recognised district has no commune on the especially-difficult list
    score = c_hard + 0.3 * ed + rng.normal(0, 0.15, n_communes)
    extra = max(0, round(SHARE_NTM * n_communes) - int(ntm.sum()))
    open_order = np.flatnonzero(~ntm)[np.argsort(score[~ntm], kind="stable")]
    ntm[open_order[:extra]] = True

    # --- criteria met by the communes not yet NTM: the hardest lowest.
    not_ntm = np.flatnonzero(~ntm)
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
    rank = np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")
    status_arr = rank >= (n_k - met)[:, None]

    # --- codes and names (made up: "Tỉnh 07", "Huyện 07-03", "Xã 10234")
    p_codes = [str(p + 1) for p in range(n_provinces)]
    d_codes = [str(100 + d) for d in range(n_d)]
    c_codes = [str(10000 + c) for c in range(n_communes)]
    d_local = np.arange(n_d) - np.repeat(np.cumsum(d_per_p) - d_per_p, d_per_p)
    d_names = [f"Huyện {p + 1:02d}-{j + 1:02d}" for p, j in zip(d_prov, d_local, strict=True)]
    p_names = [f"Tỉnh {p + 1:02d} (tổng hợp)" for p in range(n_provinces)]

    # --- traits (as in the demo data: highland communes smaller, more villages per head).
    highland = c_hard > 0.55
    population = np.round(np.where(highland, rng.lognormal(np.log(4200), 0.35, n_communes),
                                   rng.lognormal(np.log(7500), 0.4, n_communes)), -1)
    households = np.round(population / np.where(highland, 5.0, 4.0))
    villages = np.clip(np.round(population / np.where(highland, 420, 650) + rng.normal(0, 1.5, n_communes)),
                       3, 25).astype(int)
    share_ntm_v = np.where(ntm, rng.uniform(0.35, 0.75, n_communes), rng.uniform(0.0, 0.2, n_communes))
    villages_ntm = np.floor(villages * share_ntm_v).astype(int)
    villages_model = np.where(ntm, np.floor(villages_ntm * rng.uniform(0, 0.3, n_communes)), 0).astype(int)
    communes = pd.DataFrame({
        "commune_name": [f"Xã {c}" for c in c_codes],
        "district_code": np.array(d_codes)[c_dist],
        "district_name": np.array(d_names)[c_dist],
        "province_code": np.array(p_codes)[c_prov],
        "province_name": np.array(p_names)[c_prov],
        "especially_difficult": ed,
        "population": population,
        "households": households,
        "villages": villages,
        "villages_ntm": villages_ntm,
        "villages_model": villages_model,
        "advanced": False,  # every commune must re-qualify under the 2021–2025 set
        "model": False,
    }, index=pd.Index(c_codes, name="commune_code"))
    factor = unit.commune_factor(communes).to_numpy()
    communes["advanced_cost_mvnd"] = _round10(unit.tiers["advanced_cost_mvnd"] * factor * _spread(rng, 0.3, n_communes))
    communes["model_cost_mvnd"] = _round10(unit.tiers["model_cost_mvnd"] * factor * _spread(rng, 0.3, n_communes))
    communes["village_ntm_cost_mvnd"] = _round10(unit.villages["village_ntm_cost_mvnd"] * factor)
    communes["village_model_cost_mvnd"] = _round10(unit.villages["village_model_cost_mvnd"] * factor)

    # --- costs of every unmet criterion
    base = np.array([unit.criteria[k] for k in ids])
    cost_arr = _round10(np.outer(factor, base) * _spread(rng, COST_DISPERSION, (n_communes, n_k)))
    status = pd.DataFrame(status_arr, index=communes.index, columns=ids)
    cost = pd.DataFrame(np.where(status_arr, np.nan, cost_arr), index=communes.index, columns=ids)

    # --- districts
    districts = pd.DataFrame({
        "district_name": d_names,
        "ntm": recognised,
        "advanced": False,
        "district_cost_mvnd": np.where(recognised, 0.0,
                                       _round10(unit.districts["district_cost_mvnd"] * (0.8 + 0.8 * d_hard))),
        "district_advanced_cost_mvnd": unit.districts["district_advanced_cost_mvnd"],
    }, index=pd.Index(d_codes, name="district_code"))

    # --- money: short of the need; provincial money follows the province's need, more of
    # it in the easier (richer) provinces, national money goes everywhere.
    need_c = np.nansum(cost.to_numpy(), axis=1)
    need_p = np.bincount(c_prov, weights=need_c, minlength=n_provinces)
    total = MONEY_TO_NEED * float(need_c.sum())
    rows, env = [], []
    years = np.array(sorted(YEAR_SHARES))
    year_share = np.array([YEAR_SHARES[y] for y in years])
    for sid, vi, en, rule, share in NATIONAL_SOURCES:
        rows.append((sid, vi, en, rule, ""))
        env.append(total * share * year_share)
    wealth = need_p * (1.5 - prov_hard) * rng.lognormal(0, 0.2, n_provinces)
    wealth = wealth / wealth.sum() if wealth.sum() > 0 else np.full(n_provinces, 1 / n_provinces)
    for sid, vi, en, rule, share in PROVINCIAL_SOURCES:
        for p in range(n_provinces):
            rows.append((f"{sid}_{p_codes[p]}", f"{vi} – {p_names[p]}", f"{en} – province {p_codes[p]}", rule,
                         p_codes[p]))
            env.append(total * share * wealth[p] * year_share)
    sources = pd.DataFrame(rows, columns=["source_id", "name_vi", "name_en", "eligible", "scope"]
                           ).set_index("source_id")
    envelopes = pd.DataFrame(np.round(np.array(env)), index=sources.index, columns=[int(y) for y in years])

    meta = DatasetMeta(
        name=f"synthetic_{n_provinces}p_{n_communes}c_s{seed}",
        title=f"Cả nước giả định: {n_provinces} tỉnh, {n_communes} xã (dữ liệu tổng hợp)",
        criteria_set=crit.id,
        demo=True,
        demo_label=DEMO_LABEL,
        source=f"ntm_sim.synthetic.national_dataset(n_provinces={n_provinces}, n_communes={n_communes}, "
               f"seed={seed})",
        notes="Every unit, name, status, cost and amount is synthetic (benchmarks and scale tests only).",
    )
    return make_dataset(crit, communes, status, cost,
                        cost_estimated=pd.DataFrame(False, index=communes.index, columns=ids),
                        districts=districts, sources=sources, envelopes=envelopes, meta=meta,
                        file="ntm_sim.synthetic")


def _weights(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Random shares summing to one (lognormal weights)."""
    w = rng.lognormal(0.0, sigma, n)
    return w / w.sum()


def _spread(rng: np.random.Generator, sigma: float, size: int | tuple[int, int]) -> np.ndarray:
    """Mean-one lognormal multipliers."""
    return rng.lognormal(-sigma * sigma / 2, sigma, size)


def _round10(x: np.ndarray | float) -> np.ndarray:
    return np.round(np.asarray(x, dtype=float) / 10) * 10
