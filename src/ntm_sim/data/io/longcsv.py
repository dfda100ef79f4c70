"""The tidy long CSV: one row per commune × criterion.

Columns: ``commune_code``, ``commune_name``, ``district_code``, ``district_name``,
``criterion`` (``TC1``, ``1`` or the name), ``met`` (``Đạt``/``Chưa đạt``, ``1``/``0``),
``cost_mvnd`` (million VND, optional), ``cost_estimated`` (optional ``x``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.data.criteria import CriteriaSet, best_criteria_set
from ntm_sim.data.dataset import Dataset, DatasetMeta, make_dataset
from ntm_sim.data.io import schema
from ntm_sim.data.io.tables import Grid, read_csv_grid, read_table
from ntm_sim.data.io.values import BLANK, EXPECTED_MET, describe, parse_met
from ntm_sim.data.units import AUTO, UnitList, generation_of, units_for_sheet
from ntm_sim.errors import InputError, Problem, ProblemLog, Text


@dataclass(frozen=True)
class _LongContext:
    """What reading one row of a long status grid needs to know."""

    grid: Grid
    colmap: dict[str, int]              # field → column position
    criteria: CriteriaSet
    log: ProblemLog
    known: set[str] | None              # commune codes allowed (None: any)
    units: UnitList | None              # reference list matching codes and names (None: codes as written)
    crit_col: str                       # label of the criterion column
    met_col: str                        # label of the status column


@dataclass
class _LongRecords:
    """What the rows say, keyed by (commune code, criterion id)."""

    codes: list[str] = field(default_factory=list)  # communes, in order of their first valid row
    status: dict[tuple[str, str], bool] = field(default_factory=dict)
    cost: dict[tuple[str, str], float] = field(default_factory=dict)
    estimated: dict[tuple[str, str], bool] = field(default_factory=dict)
    first_row: dict[tuple[str, str], int] = field(default_factory=dict)


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
    if not _has_long_rows(grid, table, colmap, header, log):
        empty = pd.DataFrame(columns=criteria.ids)
        return empty, empty, empty, log.problems
    ctx = _LongContext(grid=grid, colmap=colmap, criteria=criteria, log=log, known=known, units=units,
                       crit_col=grid.col_label(colmap["criterion"]), met_col=grid.col_label(colmap["met"]))
    records = _LongRecords()
    for _, r in table.iterrows():
        _read_long_row(r, ctx, records)
    _check_every_criterion(records, criteria, log)
    status, cost, est = _long_frames(records, criteria)
    return status, cost, est, log.problems


def _has_long_rows(grid: Grid, table: pd.DataFrame, colmap: dict[str, int], header: int,
                   log: ProblemLog) -> bool:
    """Whether the grid has data rows and a commune column (else report why not)."""
    if header < 0 or table.empty:
        if not log.has_errors:  # a missing header is reported already
            log.error(Text("long.no_rows"), expected=Text("long.no_rows.expected"))
        return False
    if "commune_code" not in colmap and "commune_name" not in colmap:
        log.error(Text("long.no_commune_column"), row=grid.row_label(header),
                  expected=Text("long.no_commune_column.expected"))
        return False
    return True


def _read_long_row(r: pd.Series, ctx: _LongContext, records: _LongRecords) -> None:
    """Add one commune × criterion row to ``records``, or report why it cannot be read.

    Parameters
    ----------
    r
        The row, as read by :func:`ntm_sim.data.io.tables.read_table` (``_row`` is its row number).
    ctx
        Columns, criteria, commune lists and the problem log.
    records
        Extended in place.
    """
    log = ctx.log
    row = int(r["_row"])
    code = _row_commune(r, row, ctx)
    if code is None:
        return
    crit = ctx.criteria.match(r["criterion"])
    if crit is None:
        log.error(Text("long.unknown_criterion"), row=row, column=ctx.crit_col,
                  expected=Text("long.unknown_criterion.expected", first=ctx.criteria.ids[0],
                                last=ctx.criteria.ids[-1]),
                  found=describe(r["criterion"]))
        return
    key = (code, crit)
    if key in records.first_row:
        log.error(Text("long.twice", criterion=crit, commune=code, first=records.first_row[key]),
                  row=row, column=ctx.crit_col)
        return
    records.first_row[key] = row
    met = parse_met(r["met"])
    if not isinstance(met, bool):
        log.error(Text("status.unrecognised", criterion=crit), row=row, column=ctx.met_col,
                  expected=EXPECTED_MET, found="" if met is BLANK else describe(r["met"]))
        return
    if code not in records.codes:
        records.codes.append(code)
    records.status[key] = met
    c = r.get("cost_mvnd")
    if c is not None and not (isinstance(c, float) and np.isnan(c)):
        records.cost[key] = float(c)
    records.estimated[key] = bool(r.get("cost_estimated", False))


def _row_commune(r: pd.Series, row: int, ctx: _LongContext) -> str | None:
    """The commune code of a row, matched against the unit list if any (None: reported).

    Returns
    -------
    str or None
        None when the row names no commune, an unknown one, or one outside ``ctx.known``.
    """
    log, grid, colmap, units = ctx.log, ctx.grid, ctx.colmap, ctx.units
    code = r.get("commune_code") or ""
    if units is not None:
        match = units.match(code, r.get("commune_name"), units.district_of(r.get("district_code"))
                            if r.get("district_code") else None)
        if match.message:
            col = colmap.get("commune_code" if code else "commune_name", 0)
            (log.warn if match.warning else log.error)(match.message, row=row,
                                                       column=grid.col_label(col))
        if match.code is None:
            return None
        code = match.code
    if not code:
        log.error(Text("long.no_code"), row=row, column=grid.col_label(colmap.get("commune_code", 0)),
                  expected=Text("long.no_code.expected"))
        return None
    if ctx.known is not None and code not in ctx.known:
        log.error(Text("long.not_in_communes", commune=code), row=row,
                  column=grid.col_label(colmap.get("commune_code", 0)))
        return None
    return code


def _check_every_criterion(records: _LongRecords, criteria: CriteriaSet, log: ProblemLog) -> None:
    """Report communes without a row for some criteria.

    Not when a status was unrecognised: that row's criterion would be reported twice.
    """
    for code in records.codes:
        missing = [k for k in criteria.ids if (code, k) not in records.status]
        if missing and not any(p.severity == "error" and p.key == "status.unrecognised" for p in log.problems):
            first = next(k for k in criteria.ids if (code, k) in records.status)
            log.error(Text("long.missing_rows", commune=code, criteria=", ".join(missing)),
                      row=records.first_row[(code, first)],
                      expected=Text("long.missing_rows.expected", n=len(criteria)))


def _long_frames(records: _LongRecords,
                 criteria: CriteriaSet) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The records as status, cost and cost-estimated tables (communes × criteria).

    Unset cells are not met, NaN and not estimated.
    """
    idx = pd.Index(records.codes, name="commune_code")
    rows = {code: i for i, code in enumerate(records.codes)}
    cols = {crit: j for j, crit in enumerate(criteria.ids)}
    shape = (len(idx), len(cols))
    status, cost, est = np.zeros(shape, dtype=bool), np.full(shape, np.nan), np.zeros(shape, dtype=bool)
    # filled cell by cell in NumPy (pandas' .loc per cell took ~1 s for a province)
    for (code, crit), met in records.status.items():
        status[rows[code], cols[crit]] = met
    for (code, crit), value in records.cost.items():
        cost[rows[code], cols[crit]] = value
    for (code, crit), flag in records.estimated.items():
        est[rows[code], cols[crit]] = flag
    status, cost, est = (pd.DataFrame(a, index=idx, columns=criteria.ids) for a in (status, cost, est))
    return status, cost, est


def read_long_csv(
    path: Path,
    *,
    units: UnitList | None | str = AUTO,
    criteria: CriteriaSet | None = None,
    display: str | None = None,
) -> Dataset:
    """Read a tidy long CSV into a :class:`Dataset` (traits and money default).

    ``units`` is as for :func:`ntm_sim.data.io.excel.read_workbook` (``"auto"``: detected
    from the commune codes, or names where codes are blank).

    Raises
    ------
    InputError
        With every problem found, naming row and column.
    """
    display = display or path.name
    if not path.exists():
        raise InputError([Problem(display, Text("io.file_not_found"))])
    grid = read_csv_grid(path, display)
    # a log of its own: the grid's notes (its encoding) go to read_long_grid's log
    table, colmap, _ = read_table(grid, schema.LONG_STATUS_TABLE, ProblemLog(grid.file, grid.sheet))
    # the set its criterion column names best (TC1…TC10: 2026–2030; TC1…TC19: 2021–2025)
    criteria = criteria or best_criteria_set(list(dict.fromkeys(table.get("criterion", []))))
    if units == AUTO and table.empty:
        units = None  # nothing to detect from: read_long_grid names what is missing
    units = units_for_sheet(units, list(table.get("commune_code", [None] * len(table))),
                            list(table.get("commune_name", [None] * len(table))), file=display,
                            column=grid.col_label(colmap.get("commune_code", colmap.get("commune_name", 0))),
                            prefer=generation_of(criteria.period))
    status, cost, est, problems = read_long_grid(grid, criteria, units=units)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    communes = _communes_of(table, colmap, grid, status.index, units, display)
    has_cost = cost.notna().to_numpy().any()
    ds = make_dataset(criteria, communes, status, cost if has_cost else None,
                      cost_estimated=est if has_cost else None,
                      meta=DatasetMeta(name=path.stem, title=path.stem, criteria_set=criteria.id,
                                       source=display, units=units.name if units is not None else ""),
                      file=display)
    return ds.with_(warnings=tuple(p for p in problems if p.severity == "warning") + ds.warnings)


def _communes_of(table: pd.DataFrame, colmap: dict[str, int], grid: Grid, codes: pd.Index,
                 units: UnitList | None, display: str) -> pd.DataFrame:
    """The communes table: names and districts from the unit list, or from the file where the list has none.

    Raises
    ------
    InputError
        Naming the rows of communes without a name when the names come from the file.
    """
    names = {}
    for _, r in table.iterrows():
        code = r.get("commune_code") or ""
        if units is not None:
            code = units.match(code, r.get("commune_name"), None).code or code
        names.setdefault(code, r)
    records = []
    nameless = [code for code in codes if (units is None or code not in units.communes.index)
                and "commune_name" in colmap and not str(names.get(code, {}).get("commune_name", "") or "").strip()]
    if nameless:  # without a unit list the names come from the file: a run needs them
        raise InputError([Problem(display, Text("xlsx.no_name", commune=code), row=names.get(code, {}).get("_row"),
                                  column=grid.col_label(colmap.get("commune_name", colmap.get("commune_code", 0))),
                                  expected=Text("xlsx.no_name.expected")) for code in nameless[:50]])
    for code in codes:
        if units is not None and code in units.communes.index:
            ref = units.communes.loc[code]
            records.append((code, ref["commune_name"], ref["district_code"], ref["district_name"]))
        else:
            r = names.get(code, {})
            # a file of codes only, read as written: the code names the commune
            records.append((code, r.get("commune_name", "") or code, r.get("district_code", ""),
                            r.get("district_name", "")))
    communes = pd.DataFrame.from_records(
        records, columns=["commune_code", "commune_name", "district_code", "district_name"]
    ).set_index("commune_code")
    if units is not None and units.province_code:  # a list of the national lists names its province
        communes["province_code"], communes["province_name"] = units.province_code, units.province_name
    return communes
