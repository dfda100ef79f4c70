"""A province's data built from tables: units, criteria status, costs and funding sources.

A :class:`~ntm_sim.data.province.Dataset` (defined in :mod:`ntm_sim.data.province`, and named
here too) holds tidy pandas tables indexed by commune, district and source code.
:func:`make_dataset` normalises and checks the tables. It is called by the readers in
:mod:`ntm_sim.data.io` (Excel, CSV, dataset folders) and by :func:`ntm_sim.data.registry.load_dataset`;
it knows nothing about files itself beyond the folder format it round-trips.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.data.checks import _commune_class_ids, check_dataset, eligibility_from_rule
from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.province import Dataset, DatasetMeta
from ntm_sim.errors import InputError, Problem, Text

#: Datasets shipped with the package, by name (read with :func:`ntm_sim.data.registry.load_dataset`).
BUNDLED = {"lao_cai": "lao_cai", "lao_cai_2026": "lao_cai_2026"}
#: Bundled datasets built from the others when loaded (not folders): see ntm_sim.data.demo2026.
BUILT = frozenset({"lao_cai_2026"})


COMMUNE_COLUMNS: dict[str, object] = {
    "commune_name": "",
    "district_code": "",
    "district_name": "",
    "province_code": "",
    "province_name": "",
    "especially_difficult": False,
    "population": np.nan,
    "households": np.nan,
    "villages": 0,
    "villages_ntm": 0,
    "villages_model": 0,
    "advanced": False,
    "model": False,
    "advanced_cost_mvnd": np.nan,
    "model_cost_mvnd": np.nan,
    "village_ntm_cost_mvnd": np.nan,
    "village_model_cost_mvnd": np.nan,
}
DISTRICT_COLUMNS: dict[str, object] = {
    "district_name": "",
    "ntm": False,
    "advanced": False,
    "district_cost_mvnd": np.nan,
    "district_advanced_cost_mvnd": np.nan,
}
# A source's scope: empty = every commune; otherwise province, district or commune codes or the flag
# ĐBKK (Zone III communes), e.g. "10; 11" or "ĐBKK" (see ntm_sim.model.funding.scope_mask).
SOURCE_COLUMNS: dict[str, object] = {"name_vi": "", "name_en": "", "eligible": "", "scope": ""}
#: Optional commune columns, kept only when the data give them. ``recognised_year``: the year
#: the commune was recognised NTM (blank: not recognised). Without the column (or with it
#: blank in every row, as in the template) a commune is recognised exactly when it meets
#: every criterion at the start (every dataset before it). ``commune_class``: the commune's
#: class under a criteria set whose thresholds differ by class (Decision 51/2025: ``nhom1``,
#: ``nhom2``, ``nhom3``; the set's ``commune_classes``), blank where not given.
OPTIONAL_COMMUNE_COLUMNS: dict[str, object] = {"recognised_year": np.nan, "commune_class": ""}
_BOOL_COMMUNE = ("especially_difficult", "advanced", "model")
_INT_COMMUNE = ("villages", "villages_ntm", "villages_model")


def make_dataset(
    criteria: CriteriaSet,
    communes: pd.DataFrame,
    status: pd.DataFrame,
    cost: pd.DataFrame | None = None,
    *,
    cost_estimated: pd.DataFrame | None = None,
    districts: pd.DataFrame | None = None,
    sources: pd.DataFrame | None = None,
    eligibility: pd.DataFrame | None = None,
    envelopes: pd.DataFrame | None = None,
    meta: DatasetMeta | None = None,
    file: str = "<dataset>",
) -> Dataset:
    """Build a validated :class:`Dataset` from tables, filling defaults.

    Missing commune attributes take the defaults in ``COMMUNE_COLUMNS``; missing
    districts are derived from the communes; a missing cost table is estimated by
    :func:`ntm_sim.data.costs.estimate_costs`.

    Raises
    ------
    InputError
        If the tables contradict each other (every problem is listed).
    """
    from ntm_sim.data.costs import estimate_unit_costs

    communes = _commune_class_ids(_normalise_communes(communes), criteria)
    codes = list(communes.index)
    status = _status_table(status, codes, criteria.ids, file)
    districts = _district_table(districts, communes)
    # tier, village and district costs left blank take the default unit costs
    communes = estimate_unit_costs(communes, districts_known=True)
    districts = estimate_unit_costs(districts, districts_known=True, level="district")
    cost, cost_estimated = _cost_tables(criteria, communes, status, codes, cost, cost_estimated)
    sources = _source_table(sources)
    eligibility = _eligibility_table(criteria, sources, eligibility)
    envelopes = _envelope_table(sources, envelopes)

    ds = Dataset(
        meta=meta or DatasetMeta(name="dataset", source=file),
        criteria=criteria,
        communes=communes,
        status=status,
        cost=cost,
        cost_estimated=cost_estimated,
        districts=districts,
        sources=sources,
        eligibility=eligibility,
        envelopes=envelopes,
    )
    problems = check_dataset(ds, file)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return ds.with_(warnings=tuple(problems)) if problems else ds


def _label_axes(frame: pd.DataFrame) -> None:
    """Name a communes × criteria table's axes (in place), as every such table of a dataset."""
    frame.index.name = "commune_code"
    frame.columns.name = "criterion"


def _status_table(status: pd.DataFrame, codes: list[str], ids: list[str], file: str) -> pd.DataFrame:
    """The status table in commune and criterion order, as bools.

    Raises
    ------
    InputError
        Naming every commune × criterion without a status.
    """
    status = status.reindex(index=codes, columns=ids)
    if status.isna().to_numpy().any():
        problems = [Problem(file, Text("data.no_status", commune=codes[code], criterion=ids[crit]))
                    for code, crit in zip(*np.nonzero(status.isna().to_numpy()), strict=True)]
        raise InputError(problems)
    status = status.astype(bool)
    _label_axes(status)
    return status


def _district_table(districts: pd.DataFrame | None, communes: pd.DataFrame) -> pd.DataFrame:
    """The district table with every column; derived from the communes when not given.

    Communes without a district (units from 1 July 2025, when districts were abolished)
    belong to none: the table may be empty.
    """
    if districts is None or districts.empty:
        districts = (
            communes[communes["district_code"] != ""]
            .groupby("district_code", sort=False)["district_name"].first().to_frame()
        )
    return _normalise_districts(districts)


def _cost_tables(
    criteria: CriteriaSet,
    communes: pd.DataFrame,
    status: pd.DataFrame,
    codes: list[str],
    cost: pd.DataFrame | None,
    cost_estimated: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cost of every unmet criterion, estimated where not given, and which are estimates.

    Parameters
    ----------
    criteria
        The criteria set (default unit costs per criterion).
    communes
        The normalised commune table (traits scale the estimates).
    status
        Bool, communes × criteria.
    codes
        Commune codes, in order.
    cost
        Given costs (million VND), or None to estimate them all. A blank or zero cost of
        an unmet criterion is estimated.
    cost_estimated
        Costs the source itself marks as estimates (or None).

    Returns
    -------
    cost : DataFrame
        Float, NaN where the criterion is met.
    cost_estimated : DataFrame
        Bool, True where an unmet criterion's cost is an estimate.
    """
    from ntm_sim.data.costs import estimate_costs

    ids = criteria.ids
    est_cost, est_flag = estimate_costs(criteria, communes, status)
    if cost is None:
        cost = est_cost.where(~status)
        cost_estimated = est_flag & ~status
    else:
        cost = cost.reindex(index=codes, columns=ids).astype(float)
        given = cost.notna() & (cost > 0)
        needs = ~status & ~given
        cost = cost.where(given, est_cost).where(~status)
        flag = needs if cost_estimated is None else (
            cost_estimated.reindex(index=codes, columns=ids).fillna(False).astype(bool) | needs
        )
        cost_estimated = flag & ~status
    _label_axes(cost)
    cost_estimated = cost_estimated.astype(bool)
    _label_axes(cost_estimated)
    return cost, cost_estimated


def _source_table(sources: pd.DataFrame | None) -> pd.DataFrame:
    """The source table with every column of ``SOURCE_COLUMNS``, as text (empty if not given)."""
    if sources is None:
        sources = pd.DataFrame(columns=list(SOURCE_COLUMNS)).rename_axis("source_id")
    sources = sources.copy()
    for col, default in SOURCE_COLUMNS.items():
        if col not in sources.columns:
            sources[col] = default
    return sources[list(SOURCE_COLUMNS)].fillna("").astype(str)


def _eligibility_table(criteria: CriteriaSet, sources: pd.DataFrame,
                       eligibility: pd.DataFrame | None) -> pd.DataFrame:
    """Bool, sources × criteria: given, or read from each source's ``eligible`` rule."""
    ids = criteria.ids
    if eligibility is None:
        eligibility = pd.DataFrame(
            {s: eligibility_from_rule(criteria, str(sources.loc[s, "eligible"])) for s in sources.index}
        ).T.reindex(columns=ids) if len(sources) else pd.DataFrame(columns=ids, dtype=bool)
    eligibility = eligibility.reindex(index=sources.index, columns=ids).fillna(False).astype(bool)
    eligibility.index.name = "source_id"
    return eligibility


def _envelope_table(sources: pd.DataFrame, envelopes: pd.DataFrame | None) -> pd.DataFrame:
    """Float, sources × int years (million VND); zero where a source has no money."""
    if envelopes is None:
        envelopes = pd.DataFrame(index=sources.index, dtype=float)
    envelopes = envelopes.reindex(index=sources.index).astype(float).fillna(0.0)
    envelopes.columns = [int(y) for y in envelopes.columns]
    envelopes.index.name = "source_id"
    envelopes.columns.name = "year"
    return envelopes


def _normalise_communes(communes: pd.DataFrame) -> pd.DataFrame:
    communes = communes.copy()
    communes.index = [normalise_code(c) for c in communes.index]
    communes.index.name = "commune_code"
    for col, default in COMMUNE_COLUMNS.items():
        if col not in communes.columns:
            communes[col] = default
    # an optional column left blank in every row (the template's) is as good as absent
    optional = [col for col in OPTIONAL_COMMUNE_COLUMNS if col in communes.columns and _given(communes[col])]
    communes = communes[list(COMMUNE_COLUMNS) + optional]
    if "recognised_year" in optional:
        communes["recognised_year"] = pd.to_numeric(communes["recognised_year"], errors="coerce").astype(float)
    if "commune_class" in optional:
        communes["commune_class"] = communes["commune_class"].map(
            lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    for col in _BOOL_COMMUNE:
        communes[col] = communes[col].fillna(False).astype(bool)
    for col in _INT_COMMUNE:
        communes[col] = communes[col].fillna(0).astype(int)
    for col in ("commune_name", "district_code", "district_name", "province_code", "province_name"):
        communes[col] = communes[col].fillna("").astype(str)
    communes["district_code"] = communes["district_code"].map(normalise_code)
    communes["province_code"] = communes["province_code"].map(normalise_code)
    for col in ("population", "households", "advanced_cost_mvnd", "model_cost_mvnd",
                "village_ntm_cost_mvnd", "village_model_cost_mvnd"):
        communes[col] = communes[col].astype(float)
    return communes


def _given(column: pd.Series) -> bool:
    """Whether an optional commune column holds a value in some row (numbers, or text for ``commune_class``)."""
    if column.name == "commune_class":
        return bool(column.map(lambda v: isinstance(v, str) and v.strip() != "").any())
    return bool(pd.to_numeric(column, errors="coerce").notna().any())


def _normalise_districts(districts: pd.DataFrame) -> pd.DataFrame:
    districts = districts.copy()
    districts.index = [normalise_code(c) for c in districts.index]
    districts.index.name = "district_code"
    for col, default in DISTRICT_COLUMNS.items():
        if col not in districts.columns:
            districts[col] = default
    districts = districts[list(DISTRICT_COLUMNS)]
    for col in ("ntm", "advanced"):
        districts[col] = districts[col].fillna(False).astype(bool)
    districts["district_name"] = districts["district_name"].fillna("").astype(str)
    for col in ("district_cost_mvnd", "district_advanced_cost_mvnd"):
        districts[col] = districts[col].astype(float)
    return districts


def normalise_code(value: object) -> str:
    """Return a unit code as a string without leading zeros or ``.0``.

    ``2659``, ``"02659"`` and ``2659.0`` all give ``"2659"``; non-numeric codes are
    kept as written (stripped).
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return str(int(text))
    return text


# ----- folder format (the bundled data and `ntm-sim` exports) ---------------------------


def bundled_path(name: str = "lao_cai") -> Path:
    """Return the folder of a dataset shipped with the package."""
    return Path(str(resources.files("ntm_sim") / "data" / BUNDLED[name]))
