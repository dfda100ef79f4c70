"""Where and who: a run's plan by district, by commune and criterion, and on the map.

Everything here reads one results folder (:class:`~ntm_sim.analysis.compare.ScenarioRun`
and its ``plan.csv``) and returns tidy tables; the dashboard and the plots draw them.

* :func:`district_table` – per district: communes, NTM at the start and by each year
  (cumulative), money of the plan, mean simulated chance, district-level unit.
* :func:`district_progress` – the same cumulative counts as a long table (district × year).
* :func:`criteria_matrix` – per commune and criterion: met at the start, funded (from
  which year, met in which year) or still missing and not funded.
* :func:`commune_map` – per commune: official coordinates, the year it reaches the
  standard, its chance; communes without coordinates kept and flagged.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.analysis.compare import ScenarioRun, commune_probability, district_names
from ntm_sim.data.admin_units import commune_coordinates, national_units
from ntm_sim.data.criteria import CriteriaSet, available_sets, load_criteria_set

__all__ = ["MET", "FUNDED", "NOT_FUNDED", "commune_map", "criteria_matrix", "district_progress", "district_table",
           "plan_items", "run_criteria_set"]

MET, FUNDED, NOT_FUNDED = "met", "funded", "not_funded"


def plan_items(run: ScenarioRun) -> pd.DataFrame:
    """The funded items of a run (``plan.csv``), codes as text; empty if the plan funds nothing."""
    path = Path(run.folder) / "plan.csv"
    columns = ["commune_code", "district_code", "district_name", "kind", "criterion", "year", "start_year",
               "end_year", "amount_mvnd"]
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    plan = pd.read_csv(path, dtype={"commune_code": str, "district_code": str, "criterion": str})
    return plan if len(plan) else pd.DataFrame(columns=columns)


def _codes(text: object) -> list[str]:
    """``TC2;TC5`` as ``["TC2", "TC5"]`` (empty for a blank cell)."""
    if not isinstance(text, str):
        return []
    return [c for c in re.split(r"[;,\s]+", text.strip()) if c]


def _district_codes(run: ScenarioRun, plan: pd.DataFrame) -> dict[str, str]:
    """District name → code: from the plan, the summary's district units, else the national unit list."""
    names = dict(zip(plan["district_name"].astype(str), plan["district_code"].astype(str), strict=True))
    record = run.contract
    names.update(zip(record.district_unit_names or [], record.district_units or [], strict=False))
    missing = set(run.communes["district"].astype(str)) - set(names)
    if missing:  # a district with no money in the plan and no unit: its communes' codes say which it is
        units = national_units("pre2025")
        for district, code in zip(run.communes["district"].astype(str), run.communes["commune_code"].astype(str),
                                  strict=True):
            if district in missing and code in units.index:
                names.setdefault(district, str(units.at[code, "district_code"]))
    return names


def counted(communes: pd.DataFrame, year: int) -> pd.Series:
    """Whether each commune of ``communes.csv`` counts NTM at the end of ``year`` on paper.

    From ``year_ntm`` until ``year_lost`` (a recognition a review revokes on paper), if any.
    Folders written before ``year_lost`` existed read as never revoked.
    """
    start = communes["year_ntm"].astype(float)
    lost = communes["year_lost"].astype(float) if "year_lost" in communes else pd.Series(np.nan, communes.index)
    return (start <= year) & ~(lost <= year)


def district_table(run: ScenarioRun) -> pd.DataFrame:
    """Per district of a run: communes reaching the standard, money, chance and district-level unit.

    Returns
    -------
    pandas.DataFrame
        One row per district, in the order of ``communes.csv``: ``district``,
        ``district_code`` ("" if unknown), ``communes``, ``ntm_start`` (NTM before the
        first year), ``ntm_<year>`` for each year of the plan (cumulative, on paper),
        ``not_reached`` (communes still short at the horizon), ``plan_bn_vnd`` (money of
        the plan spent in the district, tỷ đồng: every item, tiers, villages and
        district criteria included), ``mean_chance`` (mean simulated probability of its
        communes being NTM at the horizon under the optimum; NaN without a
        simulation), ``unit_target`` (the scenario asks for the district-level unit)
        and ``unit_reached`` (the plan reaches it). No row for a commune without a
        district: a province without districts (from 1 July 2025) gives an empty table.
    """
    years = run.contract.years
    c = run.communes.assign(district=district_names(run.communes),
                            commune_code=run.communes["commune_code"].astype(str))
    plan = plan_items(run)
    codes = _district_codes(run, plan)
    chance = commune_probability(run)
    rows = []
    for district, group in c[c["district"] != ""].groupby("district", sort=False):
        row: dict[str, object] = {"district": district, "district_code": codes.get(district, ""),
                                  "communes": len(group), "ntm_start": int(counted(group, years[0] - 1).sum())}
        row.update({f"ntm_{y}": int(counted(group, y).sum()) for y in years})
        row["not_reached"] = int((~counted(group, years[-1])).sum())
        rows.append(row)
    table = pd.DataFrame(rows, columns=["district", "district_code", "communes", "ntm_start",
                                        *[f"ntm_{y}" for y in years], "not_reached"])
    money = plan.assign(district_code=plan["district_code"].astype(str)).groupby("district_code")["amount_mvnd"].sum()
    table["plan_bn_vnd"] = table["district_code"].map(money).fillna(0.0).astype(float) / 1000
    if chance is not None:
        by_district = c.assign(p=c["commune_code"].map(chance)).groupby("district", sort=False)["p"].mean()
        table["mean_chance"] = table["district"].map(by_district).astype(float)
    else:
        table["mean_chance"] = np.nan
    targets = run.contract.targets
    units = set(run.contract.district_units or [])
    table["unit_target"] = [f"district_units:{code}" in targets for code in table["district_code"]]
    table["unit_reached"] = [code in units for code in table["district_code"]]
    return table


def district_progress(run: ScenarioRun) -> pd.DataFrame:
    """Communes NTM per district and year (cumulative, on paper), long: ``district``, ``year``, ``communes_ntm``.

    The year before the plan's first stands for the start (communes NTM at the outset).
    """
    table = district_table(run)
    years = run.contract.years
    wide = table.set_index("district")[["ntm_start", *[f"ntm_{y}" for y in years]]]
    wide.columns = [years[0] - 1, *years]
    long = wide.stack().rename("communes_ntm").reset_index()
    long.columns = ["district", "year", "communes_ntm"]
    return long.astype({"year": int, "communes_ntm": int})


def run_criteria_set(run: ScenarioRun, plan: pd.DataFrame | None = None) -> CriteriaSet:
    """The criteria set a run was planned on: the shipped set with as many criteria as a commune has.

    Met at the start + funded + still missing make every criterion of the set once, for each commune.
    """
    plan = plan_items(run) if plan is None else plan
    funded = plan[plan["kind"] == "criterion"].groupby("commune_code")["criterion"].nunique()
    c = run.communes
    totals = (c["criteria_met_baseline"].astype(int) + c["commune_code"].astype(str).map(funded).fillna(0)
              + c["missing_criteria"].map(lambda m: len(_codes(m))))
    n = int(totals.max()) if len(totals) else 0
    for set_id in available_sets():
        crit = load_criteria_set(set_id)
        if len(crit.criteria) == n:
            return crit
    return load_criteria_set()


def criteria_matrix(run: ScenarioRun) -> pd.DataFrame:
    """Each commune × criterion of a run: met at the start, funded in the plan, or missing and not funded.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per commune and criterion of the run's criteria set, communes in
        the order of ``communes.csv`` grouped by district ("" where none), criteria in their official
        order: ``commune_code``, ``commune_name``, ``district``, ``criterion`` (id, e.g.
        ``TC2``), ``name_vi``, ``name_en``, ``status`` (:data:`MET`, :data:`FUNDED` or
        :data:`NOT_FUNDED`), ``start_year`` (first year the plan pays for it; NaN unless
        funded), ``end_year`` (year it is met; NaN unless funded) and ``amount_mvnd``
        (money of the plan for it, million VND; 0 unless funded).
    """
    plan = plan_items(run)
    crit = run_criteria_set(run, plan)
    items = plan[plan["kind"] == "criterion"].groupby(["commune_code", "criterion"]).agg(
        start_year=("start_year", "min"), end_year=("end_year", "max"), amount_mvnd=("amount_mvnd", "sum"))
    c = run.communes.assign(commune_code=run.communes["commune_code"].astype(str),
                            district=district_names(run.communes))
    order = c["district"].drop_duplicates().tolist()
    c = c.assign(_d=c["district"].map({d: i for i, d in enumerate(order)})).sort_values("_d", kind="stable")
    ids = [k.id for k in crit.criteria]
    frame = pd.DataFrame({
        "commune_code": np.repeat(c["commune_code"].to_numpy(), len(ids)),
        "commune_name": np.repeat(c["commune_name"].astype(str).to_numpy(), len(ids)),
        "district": np.repeat(c["district"].to_numpy(), len(ids)),
        "criterion": np.tile(ids, len(c)),
    })
    frame["name_vi"] = frame["criterion"].map({k.id: k.name_vi for k in crit.criteria})
    frame["name_en"] = frame["criterion"].map({k.id: k.name_en for k in crit.criteria})
    frame = frame.join(items, on=["commune_code", "criterion"])
    missing = {(code, k) for code, m in zip(c["commune_code"], c["missing_criteria"], strict=True) for k in _codes(m)}
    funded = frame["start_year"].notna()
    short = pd.Series([(a, b) in missing for a, b in zip(frame["commune_code"], frame["criterion"], strict=True)],
                      index=frame.index)
    frame["status"] = np.where(funded, FUNDED, np.where(short, NOT_FUNDED, MET))
    frame["amount_mvnd"] = frame["amount_mvnd"].fillna(0.0)
    return frame[["commune_code", "commune_name", "district", "criterion", "name_vi", "name_en", "status",
                  "start_year", "end_year", "amount_mvnd"]].reset_index(drop=True)


def commune_map(run: ScenarioRun) -> pd.DataFrame:
    """Each commune of a run at its official coordinates, with the year it reaches the standard and its chance.

    Returns
    -------
    pandas.DataFrame
        One row per commune of ``communes.csv`` (none dropped): ``commune_code``,
        ``commune_name``, ``district``, ``lat``, ``lon`` (NaN without coordinates),
        ``found``, ``year_ntm`` (NaN: not reached in the plan), ``stage`` (``"start"``:
        NTM before the first year; the year as text; ``"never"``: not in the plan by the
        horizon) and ``chance`` (simulated probability of being NTM at the horizon under
        the optimum; NaN without a simulation).
    """
    first, horizon = run.contract.years[0], run.horizon
    c = run.communes
    codes = c["commune_code"].astype(str)
    where = commune_coordinates(codes)
    year = c["year_ntm"].astype(float)
    stage = np.where(~counted(c, horizon), "never",
                     np.where(year < first, "start", year.fillna(0).astype(int).astype(str)))
    chance = commune_probability(run)
    return pd.DataFrame({
        "commune_code": codes.to_numpy(), "commune_name": c["commune_name"].astype(str).to_numpy(),
        "district": c["district"].astype(str).to_numpy(), "lat": where["lat"].to_numpy(),
        "lon": where["lon"].to_numpy(), "found": where["found"].to_numpy(), "year_ntm": year.to_numpy(),
        "stage": stage, "chance": codes.map(chance).astype(float).to_numpy() if chance is not None else np.nan,
    })
