"""Read the planners' Excel workbooks: the wide commune × criterion layout.

Provincial and district offices keep one row per commune and one column per
criterion, with title rows, merged two-row headers ("Kết quả thực hiện các tiêu chí"
over 1…19), district rows with subtotals, blank and note rows, and "Đạt"/"Chưa đạt"
(or ``x``, ``1``/``0``) in the cells. A second sheet in the same layout may hold the
money needed per unmet criterion. Optional sheets hold commune traits, districts and
funding sources. Every problem is reported with file, sheet, row and column.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ntm_sim.bounds import MAX_MONEY_MVND
from ntm_sim.data.checks import eligibility_from_rule
from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.dataset import Dataset, DatasetMeta, make_dataset
from ntm_sim.data.io import schema
from ntm_sim.data.io.tables import Grid, read_table
from ntm_sim.data.io.values import (
    BLANK,
    describe,
    parse_number,
)
from ntm_sim.data.io.wide import (
    WideSheet,
    _sheet_kind,
    criteria_of_workbook,
    locate_wide,
    read_cost_values,
    read_status_values,
    read_wide_rows,
)
from ntm_sim.data.io.xlsx import open_workbook
from ntm_sim.data.units import AUTO, Generation, UnitList, generation_of, units_for_sheet
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.messages import joined
from ntm_sim.text import norm_key


def _find_sheet(grids: dict[str, Grid], name: str) -> Grid | None:
    key = norm_key(name)
    for sheet, grid in grids.items():
        if norm_key(sheet) == key:
            return grid
    return None


def read_workbook(
    path: Path,
    *,
    units: UnitList | None | str = AUTO,
    criteria: CriteriaSet | None = None,
    display: str | None = None,
) -> Dataset:
    """Read a planners' workbook into a :class:`Dataset`.

    Parameters
    ----------
    path
        The .xlsx file.
    units
        Reference list to match communes against: ``"auto"`` (the province and list
        detected from the status sheet's codes or names), any ``--units`` choice of
        :func:`ntm_sim.data.units.resolve_units`, a :class:`UnitList`, or None to accept any
        codes and names.
    criteria
        Criteria set of the status columns (default: the shipped set whose criteria the
        sheets' headers name best, see :func:`criteria_of_workbook`).
    display
        File name to show in messages (default: the file's name).

    Raises
    ------
    InputError
        With every problem found.
    """
    display = display or path.name
    grids = open_workbook(path, display)
    criteria = criteria or criteria_of_workbook(grids)
    problems: list[Problem] = []
    wide = find_wide_sheets(grids, criteria, display)

    status_grid, status_sheet = wide["status"]
    units = _sheet_units(units, status_grid, status_sheet, display, generation_of(criteria.period))
    status, cost = _read_status_and_cost(wide, criteria, units, display, problems)
    communes = _communes_frame(status_sheet, units)
    extra = _read_commune_sheet(grids, communes, criteria, problems)
    districts = _read_district_sheet(grids, problems)
    sources, envelopes = _read_source_sheet(grids, criteria, problems)

    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    communes = _join_traits(communes, extra, units)
    if districts is None and units is not None:
        d = units.communes.drop_duplicates("district_code").set_index("district_code")
        districts = d.loc[sorted(set(communes["district_code"]) & set(d.index) - {""}), ["district_name"]]
    ds = make_dataset(
        criteria, communes, status, cost, districts=districts, sources=sources,
        envelopes=envelopes, meta=DatasetMeta(name=path.stem, title=path.stem, criteria_set=criteria.id,
                                              source=display),
        file=display,
    )
    title = _title(status_grid, status_sheet.header_row)
    demo = _has_demo_label(status_grid, status_sheet.header_row)
    meta = replace(ds.meta, title=title or ds.meta.title, demo=ds.meta.demo or demo,
                   units=units.name if units is not None else "")
    return ds.with_(meta=meta, warnings=tuple(p for p in problems if p.severity == "warning") + ds.warnings)


def _read_status_and_cost(wide: dict, criteria: CriteriaSet, units: UnitList | None, display: str,
                          problems: list[Problem]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The status sheet's and the cost sheet's values (the cost sheet only if there is one); problems added."""
    status_grid, status_sheet = wide["status"]
    log = status_grid.log()
    read_wide_rows(status_sheet, criteria, units, log)
    status = read_status_values(status_sheet, criteria, log)
    problems += log.problems
    if not status_sheet.codes and not log.has_errors:
        problems.append(Problem(display, Text("xlsx.no_commune_rows"), sheet=status_grid.sheet,
                                row=status_grid.row_label(status_sheet.header_row) + 1,
                                expected=Text("xlsx.no_commune_rows.expected")))

    cost = None
    if "cost" in wide:
        cost_grid, cost_sheet = wide["cost"]
        clog = cost_grid.log()
        read_wide_rows(cost_sheet, criteria, units, clog)
        cost = read_cost_values(cost_sheet, criteria, status, clog)
        problems += clog.problems
    return status, cost


def _sheet_units(spec: UnitList | None | str, grid: Grid, sheet: WideSheet, display: str,
                 prefer: Generation) -> UnitList | None:
    """The unit list for a status sheet: the one chosen, or the one its code (or name) column detects."""
    ic = sheet.id_cols
    if "commune_code" not in ic and "commune_name" not in ic:
        return None  # read_wide_rows names the missing column
    rows = range(sheet.header_row + 1, len(grid.rows))
    codes = [grid.cell(i, ic["commune_code"]) if "commune_code" in ic else None for i in rows]
    names = [grid.cell(i, ic["commune_name"]) if "commune_name" in ic else None for i in rows]
    column = ic.get("commune_code", ic.get("commune_name"))
    return units_for_sheet(spec, codes, names, file=display, sheet=grid.sheet,
                           column=grid.col_label(column) if column is not None else None, prefer=prefer)


def _join_traits(communes: pd.DataFrame, extra: pd.DataFrame | None, units: UnitList | None) -> pd.DataFrame:
    """Add the commune sheet's traits (and, without a unit list, its names) to the communes."""
    if extra is None:
        return communes
    # the unit list's names (and province, when it names one) win over the sheet's
    names = [c for c in ("commune_name", "district_code", "district_name", "province_code", "province_name")
             if c in communes.columns]
    for col in names:
        if col in extra.columns and units is None:
            given = extra[col].reindex(communes.index).fillna("").astype(str)
            communes[col] = given.where(given != "", communes[col])
    traits = extra.drop(columns=[c for c in names if c in extra.columns])
    return communes.join(traits)


_KIND_TEXT = {"status": "xlsx.kind_status", "cost": "xlsx.kind_cost"}


def find_wide_sheets(
    grids: dict[str, Grid], criteria: CriteriaSet, display: str
) -> dict[str, tuple[Grid, WideSheet]]:
    """Find the status sheet and the optional cost sheet among a workbook's sheets.

    Two sheets that both look like the status table (or both like the cost table)
    are an error naming both: the layout gives no rule for which one is meant (a copy
    of last year's sheet looks exactly like this year's), and taking the first would
    silently plan on the wrong figures.

    Raises
    ------
    InputError
        If there is no status sheet, or two sheets of one kind.
    """
    found: dict[str, list[tuple[Grid, WideSheet]]] = {}
    for grid in grids.values():
        sheet = locate_wide(grid, criteria)
        if sheet is not None:
            found.setdefault(_sheet_kind(grid, sheet), []).append((grid, sheet))
    problems = []
    for kind, pairs in found.items():
        if len(pairs) > 1:
            names = joined([f"'{g.sheet}'" for g, _ in pairs])
            last_grid, last_sheet = pairs[-1]
            problems.append(Problem(
                display, Text("xlsx.two_sheets", n=len(pairs), kind=Text(_KIND_TEXT[kind]), sheets=names),
                sheet=last_grid.sheet, row=last_grid.row_label(last_sheet.header_row),
                expected=Text("xlsx.two_sheets.expected"),
                found=Text("xlsx.two_sheets.found", sheets=[Text("xlsx.sheet_header", sheet=g.sheet,
                                                                 row=g.row_label(w.header_row)) for g, w in pairs])))
    if problems:
        raise InputError(problems)
    if "status" not in found:
        raise InputError([Problem(
            display, Text("xlsx.no_status_sheet"), expected=Text("xlsx.no_status_sheet.expected"),
            found=", ".join(grids) or Text("xlsx.no_sheets"))])
    return {kind: pairs[0] for kind, pairs in found.items()}


_DEMO_MARKERS = ("minh họa", "giả định", "demo data", "ví dụ")


def _title(grid: Grid, header_row: int) -> str | None:
    """Return the first title row above the table, unless it is the standard sheet title."""
    for i in range(header_row):
        for value in grid.rows[i]:
            if isinstance(value, str) and value.strip():
                text = value.strip()
                if norm_key(text).startswith(("biểu tổng hợp", "nhu cầu vốn")):
                    return None
                return text
    return None


def _has_demo_label(grid: Grid, header_row: int) -> bool:
    """Whether the title rows say the figures are demo or made-up data."""
    for i in range(header_row):
        for value in grid.rows[i]:
            if isinstance(value, str) and any(m in norm_key(value) for m in _DEMO_MARKERS):
                return True
    return False


def _communes_frame(sheet: WideSheet, units: UnitList | None) -> pd.DataFrame:
    records = []
    for code, district, name in zip(sheet.codes, sheet.districts, sheet.names, strict=True):
        if units is not None and code in units.communes.index:
            ref = units.communes.loc[code]
            records.append({"commune_code": code, "commune_name": ref["commune_name"],
                            "district_code": ref["district_code"],
                            "district_name": ref["district_name"]})
        else:
            records.append({"commune_code": code, "commune_name": name,
                            "district_code": district or "", "district_name": district or ""})
    frame = pd.DataFrame.from_records(
        records, columns=["commune_code", "commune_name", "district_code", "district_name"])
    if units is not None and units.province_code:  # a list of the national lists names its province
        frame["province_code"], frame["province_name"] = units.province_code, units.province_name
    return frame.set_index("commune_code")


def _read_commune_sheet(grids: dict[str, Grid], communes: pd.DataFrame, criteria: CriteriaSet,
                        problems: list[Problem]) -> pd.DataFrame | None:
    grid = _find_sheet(grids, schema.SHEET_COMMUNES)
    if grid is None:
        return None
    log = grid.log()
    table, colmap, _ = read_table(grid, schema.COMMUNE_TABLE, log, index="commune_code")
    schema.check_commune_classes(table, criteria, grid, colmap, log)
    for _, r in table.iterrows():
        if r["commune_code"] not in communes.index:
            log.error(Text("xlsx.commune_not_in_status", commune=r["commune_code"]), row=int(r["_row"]),
                      column=grid.col_label(colmap["commune_code"]))
    problems += log.problems
    if table.empty:
        return None
    table = table[table["commune_code"].isin(communes.index)]
    keep = [c.name for c in schema.COMMUNE_TABLE if c.name in table.columns and c.name != "commune_code"]
    return table.set_index("commune_code")[keep]


def _read_district_sheet(grids: dict[str, Grid], problems: list[Problem]) -> pd.DataFrame | None:
    grid = _find_sheet(grids, schema.SHEET_DISTRICTS)
    if grid is None:
        return None
    log = grid.log()
    table, _, _ = read_table(grid, schema.DISTRICT_TABLE, log, index="district_code")
    problems += log.problems
    if table.empty:
        return None
    return table.drop(columns="_row").set_index("district_code")


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"(19|20)\d\d", text.strip()))


def _read_source_sheet(
    grids: dict[str, Grid], criteria: CriteriaSet, problems: list[Problem]
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    grid = _find_sheet(grids, schema.SHEET_SOURCES)
    if grid is None:
        return None, None
    log = grid.log()
    table, colmap, _ = read_table(grid, schema.SOURCE_TABLE, log, index="source_id", extra=_is_year)
    years = [c for c in colmap if _is_year(c)]
    if not table.empty and not years:
        log.error(Text("sources.no_years"), expected=Text("sources.no_years.expected"))
    env: dict[str, dict[int, float]] = {}
    elig: dict[str, pd.Series] = {}
    for _, r in table.iterrows():
        sid = r["source_id"]
        try:
            elig[sid] = eligibility_from_rule(criteria, str(r["eligible"]))
        except ValueError as exc:
            log.error(Text("sources.rule", reason=exc.args[0] if exc.args else str(exc)), row=int(r["_row"]),
                      column=grid.col_label(colmap["eligible"]),
                      expected=schema.EXPECTED_RULE)
        env[sid] = {}
        for y in years:
            value = parse_number(r[y])
            if value is BLANK:
                value = 0.0
            if value is None or value < 0 or value > MAX_MONEY_MVND:
                log.error(Text("sources.amount", year=str(y)), row=int(r["_row"]),
                          column=grid.col_label(colmap[y]), expected=Text("sources.amount.expected"),
                          found=describe(r[y]))
                continue
            env[sid][int(y)] = float(value)
    problems += log.problems
    if table.empty:
        return None, None
    # the name columns are optional in the sheet
    sources = table.set_index("source_id").reindex(columns=["name_vi", "name_en", "eligible", "scope"],
                                                   fill_value="")
    envelopes = pd.DataFrame(env).T.reindex(sources.index).fillna(0.0)
    return sources, envelopes
