"""The planners' wide sheets: one row per commune, one column per criterion, found wherever they sit on a sheet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from ntm_sim.bounds import MAX_MONEY_MVND
from ntm_sim.data.criteria import CriteriaSet, available_sets, best_criteria_set, load_criteria_set
from ntm_sim.data.dataset import normalise_code
from ntm_sim.data.io import limits, schema
from ntm_sim.data.io.tables import Grid
from ntm_sim.data.io.values import (
    BLANK,
    EXPECTED_MET,
    NEEDS_INPUT,
    describe,
    is_blank,
    is_mark,
    parse_met,
    parse_number,
)
from ntm_sim.data.units import UnitList
from ntm_sim.errors import ProblemLog, Text
from ntm_sim.text import district_key, norm_key

_ROMAN = re.compile(r"^(?=[ivxlc]+$)m{0,3}(c[md]|d?c{0,3})(x[cl]|l?x{0,3})(i[xv]|v?i{0,3})$")


_TOTAL_WORDS = ("tổng", "cộng", "toàn tỉnh", "toàn huyện", "tổng cộng", "ghi chú", "người lập")


_DISTRICT_PREFIXES = ("huyện ", "thành phố ", "thị xã ", "tp ", "tp. ", "tx ", "tx. ")


@dataclass
class WideSheet:
    """A wide commune × criterion sheet after parsing."""

    grid: Grid
    header_row: int
    criterion_cols: dict[str, int]
    id_cols: dict[str, int]
    rows: list[int] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    districts: list[str | None] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _header_text(grid: Grid, header_row: int, j: int, depth: int = 3) -> list[str]:
    """Texts above and at the header row in column j, merged cells spread out."""
    texts = []
    merged = grid.merged
    for i in range(max(0, header_row - depth), header_row + 1):
        value = grid.cell(i, j)
        if is_blank(value):
            for r0, r1, c0, c1 in merged:
                if r0 <= i <= r1 and c0 <= j <= c1:
                    value = grid.cell(r0, c0)
                    break
        if not is_blank(value):
            texts.append(describe(value).strip())
    return texts


def find_criterion_header(grid: Grid, criteria: CriteriaSet, max_scan: int = 30) -> tuple[int, dict[str, int]] | None:
    """Find the row whose cells name most criteria; return it and criterion → column."""
    best: tuple[int, dict[str, int]] | None = None
    need = max(3, int(0.6 * len(criteria)))
    for i in range(min(max_scan, len(grid.rows))):
        cols: dict[str, int] = {}
        for j, value in enumerate(grid.rows[i]):
            crit = criteria.match(value)
            if crit is not None and crit not in cols:
                cols[crit] = j
        if len(cols) >= need and (best is None or len(cols) > len(best[1])):
            best = (i, cols)
    return best


def criteria_of_workbook(grids: dict[str, Grid]) -> CriteriaSet:
    """The shipped criteria set whose criteria a workbook's header row names best.

    Most criterion columns found wins; ties go to the set with fewest criteria missing
    (a sheet headed TC1…TC10 is the 2026–2030 set, one headed TC1…TC19 the 2021–2025
    set), then to the 2021–2025 set.
    """
    headers: list[object] = []
    for set_id in available_sets():
        for grid in grids.values():
            found = find_criterion_header(grid, load_criteria_set(set_id))
            if found is not None:
                headers += list(grid.rows[found[0]])
    return best_criteria_set(headers)


def _sheet_kind(grid: Grid, sheet: WideSheet) -> str:
    """Guess whether a wide sheet holds status words or money."""
    name = norm_key(grid.sheet)
    if any(h in name for h in schema.COST_SHEET_HINTS):
        return "cost"
    if any(h in name for h in schema.STATUS_SHEET_HINTS):
        return "status"
    words = numbers = 0
    for i in range(sheet.header_row + 1, min(len(grid.rows), sheet.header_row + 60)):
        for j in sheet.criterion_cols.values():
            v = grid.cell(i, j)
            if (i, j) in grid.uncached_formulas:
                numbers += 1  # status words are typed; formulas compute amounts
                continue
            if is_blank(v):
                continue
            if isinstance(parse_met(v), bool) and not (isinstance(v, (int, float)) and v > 1):
                words += 1
            elif isinstance(parse_number(v), float):
                numbers += 1
    return "cost" if numbers > words else "status"


def locate_wide(grid: Grid, criteria: CriteriaSet) -> WideSheet | None:
    """Find the header and columns of a wide criterion sheet, or None if it is not one."""
    found = find_criterion_header(grid, criteria)
    if found is None:
        return None
    header_row, crit_cols = found
    for crit, j in crit_cols.items():
        grid.headers[j] = crit
    id_cols: dict[str, int] = {}
    used = set(crit_cols.values())
    for j in range(grid.width):
        if j in used:
            continue
        texts = {norm_key(t) for t in _header_text(grid, header_row, j)}
        for col in schema.WIDE_ID_COLUMNS:
            if col.name not in id_cols and texts & col.keys():
                id_cols[col.name] = j
                grid.headers[j] = col.header_vi
                break
    return WideSheet(grid, header_row, crit_cols, id_cols)


def _is_district_row(text: str, stt: object, units: UnitList | None) -> tuple[bool, str | None]:
    key = norm_key(text)
    district = units.district_of(text) if units and text else None
    if district is not None and (key.startswith(_DISTRICT_PREFIXES) or not _is_commune_name(text, units)):
        return True, district
    roman = isinstance(stt, str) and bool(_ROMAN.match(norm_key(stt)))
    if key.startswith(_DISTRICT_PREFIXES) or roman:
        return True, district_key(text) if units is None else district
    if key.startswith(_TOTAL_WORDS):
        return True, None
    return False, None


def _is_commune_name(text: str, units: UnitList | None) -> bool:
    if units is None:
        return False
    return units.match("", text, None).code is not None


def _row_district(grid: Grid, i: int, ic: dict[str, int], district: str | None, units: UnitList | None,
                  log: ProblemLog) -> tuple[bool, str | None]:
    """The district of row ``i``: its district column if there is one, else the context.

    Returns False (and logs an error) when the column names a district the list lacks.
    """
    if "district_code" not in ic and "district_name" not in ic:
        return True, district
    j = ic.get("district_code", ic.get("district_name", 0))
    value = grid.cell(i, j)
    if is_blank(value):
        return True, district
    if units is not None and units.district_of(value) is None:
        log.error(Text("units.district_unknown", district=repr(describe(value)), units=units.name),
                  row=grid.row_label(i), column=grid.col_label(j))
        return False, None
    return True, (units.district_of(value) if units else None) or (
        normalise_code(value) if "district_code" in ic else district_key(value))


def read_wide_rows(
    sheet: WideSheet, criteria: CriteriaSet, units: UnitList | None, log: ProblemLog
) -> None:
    """Identify the commune of every data row of a wide sheet (in place).

    Skips blank rows, note rows, and district or total rows (which set the district
    context for the rows below them).
    """
    grid = sheet.grid
    ic = sheet.id_cols
    if "commune_code" not in ic and "commune_name" not in ic:
        log.error(Text("xlsx.no_commune_column"), row=grid.row_label(sheet.header_row),
                  expected=Text("xlsx.no_commune_column.expected"))
        return
    district: str | None = None
    seen: dict[str, int] = {}
    for i in range(sheet.header_row + 1, len(grid.rows)):
        row = grid.rows[i]
        if all(is_blank(v) for v in row):
            continue
        code = grid.cell(i, ic["commune_code"]) if "commune_code" in ic else None
        name = grid.cell(i, ic["commune_name"]) if "commune_name" in ic else None
        stt = grid.cell(i, ic["stt"]) if "stt" in ic else None
        has_values = any(not is_blank(grid.cell(i, j)) for j in sheet.criterion_cols.values())
        uncached = [f for f in ("commune_code", "commune_name") if f in ic and (i, ic[f]) in grid.uncached_formulas]
        if uncached and has_values:  # read as empty, it would match nothing or leave a commune without a name
            for f in uncached:
                log.error(Text("xlsx.id_uncached", what=Text(f"xlsx.what_{f}")), row=grid.row_label(i),
                          column=grid.col_label(ic[f]), expected=_CALCULATE)
            continue
        name_text = "" if is_blank(name) else str(name).strip()
        if is_blank(code):
            skip, district = _row_without_code(grid, i, ic, name_text, stt, has_values, district, units, log)
            if skip:
                continue
        known, row_district = _row_district(grid, i, ic, district, units, log)
        if not known:
            continue
        commune, row_district, name_text = _commune_of(grid, i, ic, code, name_text, row_district, units, log)
        if commune is None:
            continue
        if commune in seen:
            log.error(Text("xlsx.commune_twice", commune=commune, name=name_text or str(code),
                           first=grid.row_label(seen[commune])),
                      row=grid.row_label(i),
                      column=grid.col_label(ic.get("commune_code", ic.get("commune_name", 0))))
            continue
        seen[commune] = i
        sheet.rows.append(i)
        sheet.codes.append(commune)
        sheet.districts.append(row_district)
        sheet.names.append(name_text)


def _row_without_code(grid: Grid, i: int, ic: dict[str, int], name_text: str, stt: object, has_values: bool,
                      district: str | None, units: UnitList | None, log: ProblemLog) -> tuple[bool, str | None]:
    """A row without a commune code: whether to skip it (a district, total or note row), and the district below."""
    is_district, d = _is_district_row(name_text, stt, units)
    if is_district:
        if d is not None:
            district = d
        elif units is not None and name_text and not norm_key(name_text).startswith(_TOTAL_WORDS):
            # an unknown district must not leave the previous one as context for names below
            district = None
            log.warn(Text("xlsx.district_row_unknown", name=repr(name_text), units=units.name),
                     row=grid.row_label(i), column=grid.col_label(ic.get("commune_name", 0)))
        return True, district
    if not name_text:
        if has_values:
            log.error(Text("xlsx.row_without_commune"),
                      row=grid.row_label(i),
                      column=grid.col_label(ic.get("commune_name", ic.get("commune_code", 0))))
        return True, district
    if not has_values and not _is_commune_name(name_text, units):
        return True, district  # a note or title row under the table
    return False, district


def _commune_of(grid: Grid, i: int, ic: dict[str, int], code: object, name_text: str, row_district: str | None,
                units: UnitList | None, log: ProblemLog) -> tuple[str | None, str | None, str]:
    """The commune a data row names (None: a problem logged, or nothing to read), its district and name."""
    if units is not None:
        match = units.match(code, name_text, row_district)
        col = ic.get("commune_code") if not is_blank(code) else ic.get("commune_name")
        if match.message:
            (log.warn if match.warning else log.error)(
                match.message, row=grid.row_label(i), column=grid.col_label(col or 0))
        if match.code is None:
            return None, row_district, name_text
        commune = match.code
        row_district = str(units.communes.loc[commune, "district_code"])
    else:
        commune = normalise_code(code) if not is_blank(code) else norm_key(name_text)
        if not commune:
            return None, row_district, name_text
        if not name_text and "commune_name" not in ic:
            name_text = commune  # a sheet of codes only, read as written: the code names the commune
        elif not name_text:  # without a unit list the names come from the sheet: a run needs them
            log.error(Text("xlsx.no_name", commune=commune), row=grid.row_label(i),
                      column=grid.col_label(ic.get("commune_name", ic.get("commune_code", 0))),
                      expected=Text("xlsx.no_name.expected"))
            return None, row_district, name_text
    return commune, row_district, name_text


def read_status_values(sheet: WideSheet, criteria: CriteriaSet, log: ProblemLog) -> pd.DataFrame:
    """Parse the status cells of identified rows into a bool table."""
    grid = sheet.grid
    values = [
        grid.cell(i, j) for i in sheet.rows for j in sheet.criterion_cols.values()
        if not is_blank(grid.cell(i, j))
    ]
    mark_style = bool(values) and all(is_mark(v) for v in values)
    for crit in criteria.ids:
        if crit not in sheet.criterion_cols:
            log.error(Text("xlsx.no_criterion_column", criterion=crit, name=criteria[crit].name_vi),
                      row=grid.row_label(sheet.header_row),
                      expected=Text("xlsx.no_criterion_column.expected", number=str(criteria[crit].number),
                                    criterion=crit))
    table = pd.DataFrame(False, index=sheet.codes, columns=criteria.ids)
    for i, code in zip(sheet.rows, sheet.codes, strict=True):
        for crit, j in sheet.criterion_cols.items():
            value = grid.cell(i, j)
            met = parse_met(value)
            if met is BLANK and (i, j) in grid.uncached_formulas:
                log.error(Text("status.uncached", criterion=crit),
                          row=grid.row_label(i), column=grid.col_label(j), expected=_CALCULATE)
                continue
            if met is BLANK:
                if mark_style:
                    met = False
                else:
                    log.error(Text("status.empty", criterion=crit), row=grid.row_label(i),
                              column=grid.col_label(j), expected=EXPECTED_MET)
                    continue
            if met is None and norm_key(value) == norm_key(NEEDS_INPUT):
                log.error(Text("status.needs_input", criterion=crit), row=grid.row_label(i),
                          column=grid.col_label(j), expected=EXPECTED_MET, found=NEEDS_INPUT)
                continue
            if met is None:
                log.error(Text("status.unrecognised", criterion=crit), row=grid.row_label(i),
                          column=grid.col_label(j), expected=EXPECTED_MET, found=describe(value))
                continue
            table.loc[code, crit] = bool(met)
        if "total" in sheet.id_cols:
            total = parse_number(grid.cell(i, sheet.id_cols["total"]))
            counted = int(table.loc[code].sum())
            if isinstance(total, float) and int(total) != counted:
                log.warn(Text("status.total_differs", total=int(total), counted=counted), row=grid.row_label(i),
                         column=grid.col_label(sheet.id_cols["total"]))
    return table


_CALCULATE = Text("xlsx.calculate")


def read_cost_values(
    sheet: WideSheet, criteria: CriteriaSet, status: pd.DataFrame, log: ProblemLog
) -> pd.DataFrame:
    """Parse the money cells (million VND) of a cost sheet aligned to ``status``.

    A cost cell holding a formula whose result was never saved (a workbook written by
    a program and never opened in Excel) is an error where the criterion is unmet, not
    a blank to fill with default unit costs: the planner typed a formula for that
    amount, and a plan that spends real money must not quietly use an estimate in its
    place, which can be several times off. Opening and saving the workbook in Excel or
    LibreOffice fixes it, so the error says so and names the cells (the first
    :data:`~ntm_sim.data.io.limits.MAX_CELLS_LISTED` one by one, then how many more).
    """
    grid = sheet.grid
    cost = pd.DataFrame(np.nan, index=status.index, columns=criteria.ids)
    uncached: list[tuple[int, int, str]] = []
    for i, code in zip(sheet.rows, sheet.codes, strict=True):
        if code not in status.index:
            log.error(Text("cost.commune_not_in_status", commune=code),
                      row=grid.row_label(i),
                      column=grid.col_label(sheet.id_cols.get("commune_code",
                                                              sheet.id_cols.get("commune_name", 0))))
            continue
        for crit, j in sheet.criterion_cols.items():
            value = grid.cell(i, j)
            number = parse_number(value)
            if number is BLANK:
                if (i, j) in grid.uncached_formulas and not bool(status.loc[code, crit]):
                    uncached.append((i, j, crit))
                continue
            if number is None or number < 0 or number > MAX_MONEY_MVND:
                log.error(Text("cost.not_amount", criterion=crit), row=grid.row_label(i),
                          column=grid.col_label(j), expected=Text("cost.not_amount.expected"),
                          found=describe(value))
                continue
            if number > 0 and bool(status.loc[code, crit]):
                log.warn(Text("cost.already_met", criterion=crit),
                         row=grid.row_label(i), column=grid.col_label(j))
                continue
            cost.loc[code, crit] = number
    _report_uncached(grid, uncached, log)
    return cost


def _report_uncached(grid: Grid, cells: list[tuple[int, int, str]], log: ProblemLog) -> None:
    """One error per cost formula without a saved result, the first few by place."""
    shown = cells[:limits.MAX_CELLS_LISTED]
    for i, j, crit in shown:
        log.error(Text("cost.uncached", criterion=crit), row=grid.row_label(i),
                  column=grid.col_label(j), expected=_CALCULATE)
    if len(cells) > len(shown):
        rest = ", ".join(f"{get_column_letter(j + 1)}{i + 1}" for i, j, _ in cells[len(shown):][:10])
        log.error(Text("cost.uncached_more", n=len(cells) - len(shown),
                       cells=rest + (", …" if len(cells) - len(shown) > 10 else "")), expected=_CALCULATE)
