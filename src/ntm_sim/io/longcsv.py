"""The tidy long CSV: one row per commune × criterion.

Columns: ``commune_code``, ``commune_name``, ``district_code``, ``district_name``,
``criterion`` (``TC1``, ``1`` or the name), ``met`` (``Đạt``/``Chưa đạt``, ``1``/``0``),
``cost_mvnd`` (million VND, optional), ``cost_estimated`` (optional ``x``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.criteria import CriteriaSet, load_criteria_set
from ntm_sim.dataset import Dataset, DatasetMeta, make_dataset
from ntm_sim.errors import InputError, Problem
from ntm_sim.io import schema
from ntm_sim.io.tables import Grid, read_csv_grid, read_table
from ntm_sim.io.values import BLANK, EXPECTED_MET, describe, parse_met
from ntm_sim.units import UnitList, lao_cai_units


def read_long_grid(
    grid: Grid, criteria: CriteriaSet, known: set[str] | None = None,
    units: UnitList | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Parse a long status grid.

    Returns
    -------
    status, cost, cost_estimated : DataFrame
        communes × criteria.
    problems : list of Problem
    """
    log = grid.log()
    table, colmap, header = read_table(grid, schema.LONG_STATUS_TABLE, log)
    if header < 0 or table.empty:
        if not log.has_errors:
            log.error("no data rows", expected="one row per commune × criterion")
        empty = pd.DataFrame(columns=criteria.ids)
        return empty, empty, empty, log.problems
    if "commune_code" not in colmap and "commune_name" not in colmap:
        log.error("no commune column", row=grid.row_label(header),
                  expected="a column 'commune_code' (or 'commune_name')")
        empty = pd.DataFrame(columns=criteria.ids)
        return empty, empty, empty, log.problems
    codes: list[str] = []
    status_rec: dict[tuple[str, str], bool] = {}
    cost_rec: dict[tuple[str, str], float] = {}
    est_rec: dict[tuple[str, str], bool] = {}
    first_row: dict[tuple[str, str], int] = {}
    crit_col = grid.col_label(colmap["criterion"])
    met_col = grid.col_label(colmap["met"])
    for _, r in table.iterrows():
        row = int(r["_row"])
        code = r.get("commune_code") or ""
        if units is not None:
            match = units.match(code, r.get("commune_name"), units.district_of(r.get("district_code"))
                                if r.get("district_code") else None)
            if match.message:
                col = colmap.get("commune_code" if code else "commune_name", 0)
                (log.warn if match.warning else log.error)(match.message, row=row,
                                                           column=grid.col_label(col))
            if match.code is None:
                continue
            code = match.code
        if not code:
            log.error("no commune code", row=row, column=grid.col_label(colmap.get("commune_code", 0)),
                      expected="a commune code")
            continue
        if known is not None and code not in known:
            log.error(f"commune {code} is not in communes.csv", row=row,
                      column=grid.col_label(colmap.get("commune_code", 0)))
            continue
        crit = criteria.match(r["criterion"])
        if crit is None:
            log.error("unknown criterion", row=row, column=crit_col,
                      expected=f"one of {criteria.ids[0]}…{criteria.ids[-1]} or a criterion name",
                      found=describe(r["criterion"]))
            continue
        key = (code, crit)
        if key in first_row:
            log.error(f"{crit} of commune {code} appears twice (first in row {first_row[key]})",
                      row=row, column=crit_col)
            continue
        first_row[key] = row
        met = parse_met(r["met"])
        if not isinstance(met, bool):
            log.error(f"unrecognised status for {crit}", row=row, column=met_col,
                      expected=EXPECTED_MET, found="" if met is BLANK else describe(r["met"]))
            continue
        if code not in codes:
            codes.append(code)
        status_rec[key] = met
        c = r.get("cost_mvnd")
        if c is not None and not (isinstance(c, float) and np.isnan(c)):
            cost_rec[key] = float(c)
        est_rec[key] = bool(r.get("cost_estimated", False))
    for code in codes:
        missing = [k for k in criteria.ids if (code, k) not in status_rec]
        if missing and not any(p.severity == "error" and p.message.startswith("unrecognised")
                               for p in log.problems):
            log.error(f"commune {code} has no row for {', '.join(missing)}",
                      row=first_row[(code, next(k for k in criteria.ids if (code, k) in status_rec))],
                      expected=f"one row per criterion ({len(criteria)})")
    idx = pd.Index(codes, name="commune_code")
    status = pd.DataFrame(False, index=idx, columns=criteria.ids)
    cost = pd.DataFrame(np.nan, index=idx, columns=criteria.ids)
    est = pd.DataFrame(False, index=idx, columns=criteria.ids)
    for (code, crit), met in status_rec.items():
        status.loc[code, crit] = met
    for (code, crit), value in cost_rec.items():
        cost.loc[code, crit] = value
    for (code, crit), flag in est_rec.items():
        est.loc[code, crit] = flag
    return status, cost, est, log.problems


def read_long_csv(
    path: Path,
    *,
    units: UnitList | None | str = "lao_cai",
    criteria: CriteriaSet | None = None,
    display: str | None = None,
) -> Dataset:
    """Read a tidy long CSV into a :class:`Dataset` (traits and money default).

    Raises
    ------
    InputError
        With every problem found, naming row and column.
    """
    display = display or path.name
    criteria = criteria or load_criteria_set()
    if units == "lao_cai":
        units = lao_cai_units()
    assert units is None or isinstance(units, UnitList)
    if not path.exists():
        raise InputError([Problem(display, "file not found")])
    grid = read_csv_grid(path, display)
    status, cost, est, problems = read_long_grid(grid, criteria, units=units)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    table, _, _ = read_table(grid, schema.LONG_STATUS_TABLE, grid.log())
    names = {}
    for _, r in table.iterrows():
        code = r.get("commune_code") or ""
        if units is not None:
            code = units.match(code, r.get("commune_name"), None).code or code
        names.setdefault(code, r)
    records = []
    for code in status.index:
        if units is not None and code in units.communes.index:
            ref = units.communes.loc[code]
            records.append((code, ref["commune_name"], ref["district_code"], ref["district_name"]))
        else:
            r = names.get(code, {})
            records.append((code, r.get("commune_name", ""), r.get("district_code", ""),
                            r.get("district_name", "")))
    communes = pd.DataFrame.from_records(
        records, columns=["commune_code", "commune_name", "district_code", "district_name"]
    ).set_index("commune_code")
    has_cost = cost.notna().to_numpy().any()
    return make_dataset(criteria, communes, status, cost if has_cost else None,
                        cost_estimated=est if has_cost else None,
                        meta=DatasetMeta(name=path.stem, title=path.stem, criteria_set=criteria.id,
                                         source=display), file=display)
