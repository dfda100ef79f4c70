"""The seeded generator of the bundled Lào Cai demo dataset.

The communes, their codes and districts are public facts. Which communes were NTM in
2020 is public for 19 named communes and for the two recognised district units; the
rest of the baseline status, every cost, every commune trait and the split of money
by year and sub-source are SYNTHETIC, drawn here with a fixed seed and calibrated to
the public figures listed in :data:`CALIBRATION`. ``python -m ntm_sim.demo`` (or
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
from ntm_sim.dataset import Dataset, DatasetMeta, bundled_path, make_dataset
from ntm_sim.units import lao_cai_units

SEED = 20210301

# Public: communes recognised NTM by 2020 (sources in the data README).
NTM_2020_NAMED = (
    "Đồng Tuyển", "Tả Phời", "Bản Sen", "Bản Lầu", "Bản Vược", "Hoà Mạc", "Bảo Nhai",
    "Xuân Quang", "Sơn Hải", "Việt Tiến", "Yên Sơn", "Bản Cầm", "Bản Phiệt", "Tân Dương",
    "Nậm Đét", "Nậm Mòn", "Cốc Lầu", "Tân Thượng", "Xuân Thượng",
)
# Public: TP Lào Cai (80) and Bảo Thắng (86) were recognised district units by 2020.
RECOGNISED_DISTRICTS = ("80", "86")
# Synthetic split of the public total of 57 NTM communes over districts.
NTM_PER_DISTRICT = {"80": 7, "82": 5, "83": 3, "84": 1, "85": 5, "86": 11, "87": 11, "88": 2, "89": 12}
# Synthetic: how hard each district's remaining communes are (0 easy … 1 hardest).
HARDNESS = {"80": 0.0, "86": 0.1, "87": 0.3, "89": 0.4, "88": 0.6, "82": 0.7, "85": 0.8,
            "83": 0.9, "84": 1.0}
HIGHLAND = ("82", "83", "84", "85", "88")
# Especially difficult (Zone III): the count (70) is public, which communes is not.
# Communes recognised NTM "for 2020" in early 2021 can still be on the June 2021 list.
DBKK_AMONG_NTM = ("Nậm Mòn", "Cốc Lầu", "Tân Thượng", "Xuân Thượng")
DBKK_TOTAL = 70
# Commune groups among the 70 not-yet-NTM communes (synthetic; sums to 70).
GROUP_SIZES = {"g15_18": 28, "g10_14": 33, "lt10": 9}
# How often each criterion is missing (relative weights; income, poverty, production and
# environment are the most often missing, a public finding).
MISSING_WEIGHT = {
    "TC1": 0.3, "TC2": 1.8, "TC3": 1.0, "TC4": 0.6, "TC5": 1.4, "TC6": 1.3, "TC7": 0.8,
    "TC8": 0.7, "TC9": 1.3, "TC10": 3.0, "TC11": 3.0, "TC12": 1.2, "TC13": 2.6, "TC14": 0.8,
    "TC15": 1.0, "TC16": 0.9, "TC17": 2.6, "TC18": 0.4, "TC19": 0.2,
}
COST_DISPERSION = 0.45  # lognormal sigma of a project's cost around the unit cost

# Public money mobilised 2021–2025 (billion VND) and its synthetic split into sub-sources.
SOURCES = (
    # id, name_vi, name_en, eligible rule, billion VND over 5 years
    ("nstw_dtpt", "Ngân sách trung ương – đầu tư phát triển", "Central budget – investment",
     "Hạ tầng", 358.0),
    ("nstw_sn", "Ngân sách trung ương – sự nghiệp", "Central budget – recurrent",
     "Phát triển; Quản trị", 238.0),
    ("ns_tinh", "Ngân sách tỉnh", "Provincial budget", "Tất cả", 1800.0),
    ("ns_huyen_xa", "Ngân sách huyện, xã", "District and commune budgets", "Tất cả", 1200.0),
    ("long_ghep_ht", "Lồng ghép chương trình, dự án hạ tầng",
     "Folded-in infrastructure programmes", "TC2; TC3; TC4; TC5; TC8", 3500.0),
    ("long_ghep_xh", "Lồng ghép CTMTQG giảm nghèo, dân tộc thiểu số",
     "Folded-in poverty and ethnic-minority programmes", "TC9; TC10; TC11; TC12; TC13; TC15",
     1500.0),
    ("dan_gop", "Nhân dân, cộng đồng đóng góp", "People and community contributions",
     "TC2; TC6; TC9; TC17", 499.0),
)
YEAR_SHARES = {2021: 0.12, 2022: 0.18, 2023: 0.22, 2024: 0.24, 2025: 0.24}

# What the generated data must reproduce, with tolerances (checked by the tests and
# printed into the data README).
CALIBRATION = {
    "communes": (127, 0),
    "districts": (9, 0),
    "ntm_communes_2020": (57, 0),
    "especially_difficult": (70, 0),
    "communes_below_10": (9, 0),
    "avg_criteria_met": (16.0, 0.4),
    "money_total_bn": (9095.0, 1.0),
}


@dataclass(frozen=True)
class DemoFacts:
    """Figures of the generated data, as printed in the README."""

    communes: int
    districts: int
    ntm_communes_2020: int
    especially_difficult: int
    communes_below_10: int
    avg_criteria_met: float
    money_total_bn: float
    need_to_complete_bn: float
    need_cheapest_37_bn: float


@dataclass(frozen=True)
class _Standing:
    """Which communes are NTM and especially difficult at the start."""

    ntm: set[str]
    not_ntm: list[str]       # in dataset order
    dbkk: set[str]           # especially difficult (Zone III)


def generate(seed: int = SEED) -> Dataset:
    """Generate the Lào Cai demo dataset.

    Parameters
    ----------
    seed
        Seed of the random generator; the default reproduces the bundled files.
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

    return make_dataset(crit, communes, status, cost, cost_estimated=pd.DataFrame(False, index=codes,
                        columns=crit.ids), districts=_district_table(unit, units), sources=sources,
                        envelopes=envelopes, meta=_meta(crit.id, seed), file="ntm_sim.demo")


def _draw_standing(rng: np.random.Generator, units: pd.DataFrame) -> _Standing:
    """NTM and especially difficult communes at the start.

    NTM: the named communes, every commune of the recognised districts, then random
    picks up to each district's quota. Especially difficult: 4 named NTM communes, the
    rest among the not-yet-NTM, leaving out the communes of the easiest districts first.

    Parameters
    ----------
    rng
        The dataset's random generator.
    units
        The Lào Cai commune list (names and districts).

    Returns
    -------
    _Standing
    """
    codes = list(units.index)
    districts = units["district_code"]
    named_ntm = _nfc_set(NTM_2020_NAMED)
    ntm: set[str] = {c for c in codes if units.loc[c, "commune_name"] in named_ntm}
    for d, n in NTM_PER_DISTRICT.items():
        in_d = [c for c in codes if districts[c] == d]
        if d in RECOGNISED_DISTRICTS:
            ntm |= set(in_d)
            continue
        have = [c for c in in_d if c in ntm]
        pool = [c for c in in_d if c not in ntm]
        extra = n - len(have)
        if extra < 0:
            raise ValueError(f"district {d}: more named NTM communes than its quota")
        ntm |= set(rng.choice(pool, size=extra, replace=False).tolist())
    not_ntm = [c for c in codes if c not in ntm]

    named_dbkk = _nfc_set(DBKK_AMONG_NTM)
    dbkk = {c for c in codes if units.loc[c, "commune_name"] in named_dbkk}
    order = sorted(not_ntm, key=lambda c: (HARDNESS[districts[c]] + rng.uniform(0, 0.35)))
    dbkk |= set(order[len(order) - (DBKK_TOTAL - len(dbkk)):])
    return _Standing(ntm=ntm, not_ntm=not_ntm, dbkk=dbkk)


def _draw_status(rng: np.random.Generator, crit: CriteriaSet, units: pd.DataFrame,
                 standing: _Standing) -> pd.DataFrame:
    """Criteria met by every commune: all for NTM communes, harder districts lower.

    The not-yet-NTM communes, hardest first, fill the groups of ``GROUP_SIZES``; the
    criteria each one misses are drawn with the weights of ``MISSING_WEIGHT``.

    Returns
    -------
    pandas.DataFrame
        Bool, communes × criteria.
    """
    codes = list(units.index)
    districts = units["district_code"]
    not_ntm, dbkk = standing.not_ntm, standing.dbkk
    score = {c: HARDNESS[districts[c]] + rng.normal(0, 0.25) + (0.2 if c in dbkk else 0) for c in not_ntm}
    ranked = sorted(not_ntm, key=lambda c: -score[c])  # hardest first
    met_count: dict[str, int] = {}
    sizes = GROUP_SIZES
    for i, c in enumerate(ranked):
        if i < sizes["lt10"]:
            met_count[c] = int(rng.integers(6, 10))
        elif i < sizes["lt10"] + sizes["g10_14"]:
            met_count[c] = int(rng.integers(10, 15))
        else:
            met_count[c] = int(rng.integers(15, 19))
    weights = np.array([MISSING_WEIGHT[k] for k in crit.ids])
    status = pd.DataFrame(True, index=codes, columns=crit.ids)
    for c in not_ntm:
        w = weights.copy()
        if c in dbkk:  # remote communes lack infrastructure more often
            w = w * np.where([crit[k].kind == "infrastructure" for k in crit.ids], 1.4, 1.0)
        missing = rng.choice(crit.ids, size=len(crit) - met_count[c], replace=False, p=w / w.sum())
        status.loc[c, list(missing)] = False
    return status


def _draw_communes(rng: np.random.Generator, units: pd.DataFrame, standing: _Standing) -> pd.DataFrame:
    """The commune table: units and traits (tier and village costs are added after).

    Highland communes are smaller, with more people per household and per village.

    Returns
    -------
    pandas.DataFrame
        Indexed by commune code, in the order of ``units``.
    """
    codes = list(units.index)
    highland = units["district_code"].isin(HIGHLAND).to_numpy()
    population = np.where(highland, rng.lognormal(np.log(4200), 0.35, len(codes)),
                          rng.lognormal(np.log(6500), 0.35, len(codes)))
    population = np.round(population, -1)
    households = np.round(population / np.where(highland, 5.0, 4.3))
    villages = np.clip(np.round(population / np.where(highland, 420, 520)
                                + rng.normal(0, 1.5, len(codes))), 4, 25).astype(int)
    is_ntm = np.array([c in standing.ntm for c in codes])
    share_ntm_v = np.where(is_ntm, rng.uniform(0.35, 0.75, len(codes)), rng.uniform(0.0, 0.2, len(codes)))
    villages_ntm = np.floor(villages * share_ntm_v).astype(int)
    villages_model = np.where(is_ntm, np.floor(villages_ntm * rng.uniform(0, 0.3, len(codes))), 0).astype(int)

    communes = units[["commune_name", "district_code", "district_name"]].copy()
    communes["province_code"] = "10"  # GSO code of Lào Cai
    communes["province_name"] = "Lào Cai"
    communes["especially_difficult"] = [c in standing.dbkk for c in codes]
    communes["population"] = population
    communes["households"] = households
    communes["villages"] = villages
    communes["villages_ntm"] = villages_ntm
    communes["villages_model"] = villages_model
    communes["advanced"] = False  # every commune must re-qualify under the 2021–2025 set
    communes["model"] = False
    return communes


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

    Returns
    -------
    pandas.DataFrame
        Million VND, communes × criteria, NaN where the criterion is met.
    """
    base = np.array([unit.criteria[k] for k in crit.ids])
    return pd.DataFrame(
        round10(np.outer(factor, base) * spread(rng, COST_DISPERSION, (len(status.index), len(crit)))),
        index=list(status.index), columns=crit.ids,
    ).where(~status)


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
    """Sources and envelopes: the public totals of ``SOURCES`` split by ``YEAR_SHARES``.

    Returns
    -------
    sources : DataFrame
        Indexed by ``source_id``.
    envelopes : DataFrame
        Sources × years, million VND.
    """
    sources = pd.DataFrame(
        [(s, vi, en, rule) for s, vi, en, rule, _ in SOURCES],
        columns=["source_id", "name_vi", "name_en", "eligible"],
    ).set_index("source_id")
    envelopes = pd.DataFrame(
        {y: [round(bn * 1000 * share) for *_, bn in SOURCES] for y, share in YEAR_SHARES.items()},
        index=sources.index, dtype=float,
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
        notes=("Communes, codes and districts are public; status, costs, traits and the money "
               "split are synthetic. See README.md."),
    )


def facts(ds: Dataset) -> DemoFacts:
    """Compute the calibration figures of a dataset."""
    met = ds.criteria_met
    need = ds.cost_to_complete
    open_need = need[~ds.is_ntm].sort_values()
    return DemoFacts(
        communes=len(ds.communes),
        districts=len(ds.districts),
        ntm_communes_2020=int(ds.is_ntm.sum()),
        especially_difficult=int(ds.communes["especially_difficult"].sum()),
        communes_below_10=int((met < 10).sum()),
        avg_criteria_met=round(float(met.mean()), 2),
        money_total_bn=round(float(ds.envelopes.to_numpy().sum()) / 1000, 1),
        need_to_complete_bn=round(float(need.sum()) / 1000, 1),
        need_cheapest_37_bn=round(float(open_need.iloc[:37].sum()) / 1000, 1),
    )


def round10(x: np.ndarray | float) -> np.ndarray:
    """Round to tens of million VND (how the demo money is shown)."""
    return np.round(np.asarray(x, dtype=float) / 10) * 10


def spread(rng: np.random.Generator, sigma: float, size: int | tuple[int, int]) -> np.ndarray:
    """Mean-one lognormal multipliers."""
    return rng.lognormal(-sigma * sigma / 2, sigma, size)


def _nfc_set(names: tuple[str, ...]) -> set[str]:
    from ntm_sim.text import nfc

    return {nfc(n) for n in names}


def readme_table(ds: Dataset) -> str:
    """Markdown table of the calibration figures for the data README."""
    f = facts(ds)
    rows = [
        ("Communes", f.communes, "127 (public)"),
        ("District-level units", f.districts, "9 (public)"),
        ("NTM communes at the start", f.ntm_communes_2020, "57 (implied by the seed plan)"),
        ("Especially difficult (Zone III) communes", f.especially_difficult, "≈70 (public count)"),
        ("Communes below 10 criteria", f.communes_below_10, "some (the plan: none by 2025)"),
        ("Average criteria met per commune", f"{f.avg_criteria_met:.2f}", "below the 17.3 target"),
        ("Money 2021–2025, billion VND", f"{f.money_total_bn:,.1f}", "≈9,200 mobilised (public)"),
        ("Cost to bring every commune to NTM, billion VND", f"{f.need_to_complete_bn:,.1f}",
         "larger than the money"),
        ("Cost of the 37 cheapest communes to complete, billion VND", f"{f.need_cheapest_37_bn:,.1f}",
         "the plan's +37 must be affordable but not easy"),
    ]
    out = ["| Figure | Generated | Calibration target |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


README_BEGIN = "<!-- calibration:begin -->"
README_END = "<!-- calibration:end -->"


def write_bundled(folder: Path | None = None, seed: int = SEED, *, force: bool = False) -> Path:
    """Regenerate the bundled dataset folder (or write it to ``folder``) and the figures in its README.

    The bundled folder is always regenerated in place; another folder is replaced only
    if ntm-sim wrote it and ``force`` is set.
    """
    from ntm_sim.io.folder import write_folder

    force = force or not folder
    folder = Path(folder) if folder else bundled_path("lao_cai")
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else None
    ds = generate(seed)
    write_folder(ds, folder, force=force)
    if text is not None:
        head, _, rest = text.partition(README_BEGIN)
        _, _, tail = rest.partition(README_END)
        (folder / "README.md").write_text(
            f"{head}{README_BEGIN}\n{readme_table(ds)}\n{README_END}{tail}", encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> None:
    """Regenerate the bundled Lào Cai demo data (``python -m ntm_sim.demo``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    folder = write_bundled(args.out, args.seed)
    print(f"wrote {folder}")
    print(readme_table(generate(args.seed)))


if __name__ == "__main__":
    main()
