"""Demo dataset of the merged Lào Cai for 2026–2030 (DEMO DATA: status, costs and money are made up).

Built, not shipped, so that it follows the bundled 2021–2025 demo data:

* **Units (public).** The 89 communes (xã) of Lào Cai from 1 July 2025, official codes
  and names (:mod:`ntm_sim.admin_units`); its 10 wards are urban units, not NTM communes.
* **Status.** The bundled 2021–2025 demo data carried across the reform
  (:func:`ntm_sim.carry.carry_dataset`: reform mapping, stated criteria mapping, weakest
  part). Every cell the carry cannot derive (the 2026–2030 criteria without a 2021–2025
  counterpart, and communes of old Yên Bái, for which there are no data) is drawn with
  seed :data:`SEED`: met with the share of the derived cells of that criterion that are
  met (the share of all derived cells where a criterion has none).
* **Costs.** Carried from the old figures where a derived criterion is unmet (the old
  costs of the linked criteria); otherwise the default unit costs through the criteria
  mapping (assumptions, marked estimated).
* **Traits.** Population, households and villages are the sums of the old communes in
  the data; a commune is especially difficult when one of its old communes was; communes
  without data take the defaults (not especially difficult: the Zone III list of old
  Yên Bái was not read).
* **Money (assumption).** One national target programme (Resolution 257/2025/QH15) with
  its channels: each year the 2025 envelopes of the bundled 2021–2025 data scaled by
  89/127 (communes now over communes then), regrouped as channels. Amounts and the
  channels' eligibility are assumptions, not published allocations; every channel may pay
  anywhere in the province (scopes by commune are not modelled).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd

from ntm_sim.carry import Carried, carry_dataset
from ntm_sim.costs import estimate_costs
from ntm_sim.dataset import Dataset, DatasetMeta, make_dataset

SEED = 20260101
NAME = "lao_cai_2026"
YEARS = (2026, 2027, 2028, 2029, 2030)
SCALE = 89 / 127

#: Channels: id, Vietnamese name, English name, eligibility, and the 2021–2025 sources they regroup.
CHANNELS = (
    ("ntm", "CTMTQG 2026–2035 – nông thôn mới (trung ương)", "National programme – new rural (central)",
     "Tất cả", {"nstw_dtpt": 1.0, "nstw_sn": 1.0}),
    ("giam_ngheo", "CTMTQG 2026–2035 – giảm nghèo bền vững", "National programme – poverty reduction",
     "TC4; TC6", {"long_ghep_xh": 0.5}),
    ("dtts", "CTMTQG 2026–2035 – vùng đồng bào DTTS và miền núi", "National programme – ethnic-minority areas",
     "Hạ tầng; TC3; TC5", {"long_ghep_xh": 0.5}),
    ("ns_dia_phuong", "Ngân sách tỉnh, xã", "Provincial and commune budgets", "Tất cả",
     {"ns_tinh": 1.0, "ns_huyen_xa": 1.0}),
    ("long_ghep_ht", "Lồng ghép chương trình, dự án hạ tầng", "Folded-in infrastructure programmes",
     "TC2; TC8", {"long_ghep_ht": 1.0}),
    ("dan_gop", "Nhân dân, cộng đồng đóng góp", "People and community contributions", "TC2; TC5; TC8",
     {"dan_gop": 1.0}),
)


def _filled_status(carried: Carried, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The carried status with its unknown cells drawn; and which cells were drawn."""
    status = carried.status
    unknown = status.isna()
    known = status.where(~unknown)
    overall = float(known.stack().astype(bool).mean())
    share = {k: float(known[k].dropna().astype(bool).mean()) if known[k].notna().any() else overall
             for k in status.columns}
    draws = pd.DataFrame(rng.random(status.shape), index=status.index, columns=status.columns)
    drawn = draws.lt(pd.Series(share))
    return status.where(~unknown, drawn).astype(bool), unknown


def _traits(carried: Carried, old: Dataset) -> pd.DataFrame:
    """New communes' traits from their old communes (sums; especially difficult if one part was)."""
    out = carried.communes[["commune_name", "province_code", "province_name"]].copy()
    parts = carried.communes["parts"].str.split("; ")
    for col in ("population", "households", "villages", "villages_ntm", "villages_model"):
        out[col] = [old.communes.loc[p, col].sum() if p != [""] else np.nan for p in parts]
    out["especially_difficult"] = [bool(old.communes.loc[p, "especially_difficult"].any()) if p != [""] else False
                                   for p in parts]
    for col in ("villages", "villages_ntm", "villages_model"):
        out[col] = out[col].fillna(0).astype(int)
    return out


def _money(old: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The programme's channels and their yearly envelopes (assumptions, see the module text)."""
    last = old.envelopes[max(old.envelopes.columns)]
    sources = pd.DataFrame([(c, vi, en, rule, "") for c, vi, en, rule, _ in CHANNELS],
                           columns=["source_id", "name_vi", "name_en", "eligible", "scope"]).set_index("source_id")
    per_year = [round(sum(last.get(s, 0.0) * w for s, w in parts.items()) * SCALE / 10) * 10.0
                for *_, parts in CHANNELS]
    envelopes = pd.DataFrame({y: per_year for y in YEARS}, index=sources.index)
    return sources, envelopes


@cache
def lao_cai_2026() -> Dataset:
    """The demo dataset of the merged Lào Cai, 2026–2030 (built from the bundled 2021–2025 demo data)."""
    from ntm_sim.io import load_dataset

    old = load_dataset("lao_cai")
    carried = carry_dataset(old, "Lào Cai")
    status, drawn = _filled_status(carried, np.random.default_rng(SEED))
    communes = _traits(carried, old)
    default, _ = estimate_costs(carried.criteria, communes.assign(especially_difficult=communes[
        "especially_difficult"]), status)
    cost = carried.cost.where(carried.cost.notna(), default).where(~status)
    estimated = carried.cost.isna() & ~status
    sources, envelopes = _money(old)
    meta = DatasetMeta(
        name=NAME, title="Tỉnh Lào Cai (mới) 2026–2030 (dữ liệu minh họa)", criteria_set=carried.criteria.id,
        demo=True, source=f"ntm_sim.demo2026 (from the bundled lao_cai demo data, seed {SEED})",
        units="Lào Cai (từ 1/7/2025)",
        notes=(f"Units public (89 communes from 1 July 2025); status carried from the 2021–2025 demo data, "
               f"{int(drawn.to_numpy().sum())} cells drawn; costs and money made up. See ntm_sim/demo2026.py."))
    ds = make_dataset(carried.criteria, communes, status, cost, cost_estimated=estimated, sources=sources,
                      envelopes=envelopes, meta=meta, file=NAME)
    return replace(ds, meta=meta)
