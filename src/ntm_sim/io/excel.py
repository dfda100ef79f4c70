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
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ntm_sim.criteria import CriteriaSet, load_criteria_set
from ntm_sim.dataset import Dataset, DatasetMeta, eligibility_from_rule, make_dataset, normalise_code
from ntm_sim.errors import InputError, Problem, ProblemLog
from ntm_sim.io import schema
from ntm_sim.io.tables import Grid, read_table
from ntm_sim.io.values import (
    BLANK,
    EXPECTED_MET,
    describe,
    is_blank,
    is_mark,
    parse_met,
    parse_number,
)
from ntm_sim.text import district_key, norm_key
from ntm_sim.units import UnitList, lao_cai_units

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


def open_workbook(path: Path, display: str) -> dict[str, Grid]:
    """Open an .xlsx file and return its sheets as grids (merged cells filled).

    Raises
    ------
    InputError
        If the file cannot be opened as an .xlsx workbook.
    """
    if not path.exists():
        raise InputError([Problem(display, "file not found")])
    if path.suffix.lower() == ".xls":
        raise InputError([Problem(display, "old .xls format is not supported",
                                  expected="an .xlsx workbook (in Excel: File › Save As › .xlsx)")])
    try:
        wb = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputError([Problem(display, f"cannot be opened as an Excel workbook ({exc.__class__.__name__})",
                                  expected="an .xlsx file saved by Excel or LibreOffice")]) from None
    grids: dict[str, Grid] = {}
    for ws in wb.worksheets:
        max_row, max_col = ws.max_row or 0, ws.max_column or 0
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, max_row=max_row,
                                              max_col=max_col, values_only=True)]
        grid = Grid(display, rows, sheet=ws.title, excel=True)
        grid.merged = [  # type: ignore[attr-defined]
            (m.min_row - 1, m.max_row - 1, m.min_col - 1, m.max_col - 1)
            for m in ws.merged_cells.ranges
        ]
        grids[ws.title] = grid
    wb.close()
    return grids


def _header_text(grid: Grid, header_row: int, j: int, depth: int = 3) -> list[str]:
    """Texts above and at the header row in column j, merged cells spread out."""
    texts = []
    merged = getattr(grid, "merged", [])
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
        log.error("no commune column found", row=grid.row_label(sheet.header_row),
                  expected="a column headed 'Mã xã' or 'Đơn vị' / 'Tên xã'")
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
        name_text = "" if is_blank(name) else str(name).strip()
        if is_blank(code):
            is_district, d = _is_district_row(name_text, stt, units)
            if is_district:
                if d is not None:
                    district = d
                elif units is not None and name_text and not norm_key(name_text).startswith(_TOTAL_WORDS):
                    # an unknown district must not leave the previous one as context for names below
                    district = None
                    log.warn(f"{name_text!r} looks like a district row but is not in the {units.name} "
                             "list; communes below it are matched without a district",
                             row=grid.row_label(i), column=grid.col_label(ic.get("commune_name", 0)))
                continue
            if not name_text:
                if has_values:
                    log.error("row has criterion values but no commune code or name",
                              row=grid.row_label(i),
                              column=grid.col_label(ic.get("commune_name", ic.get("commune_code", 0))))
                continue
            if not has_values and not _is_commune_name(name_text, units):
                continue  # a note or title row under the table
        row_district = district
        if "district_code" in ic or "district_name" in ic:
            j = ic.get("district_code", ic.get("district_name"))
            value = grid.cell(i, j)
            if not is_blank(value):
                row_district = (units.district_of(value) if units else None) or (
                    normalise_code(value) if "district_code" in ic else district_key(value))
                if units is not None and units.district_of(value) is None:
                    log.error(f"district {describe(value)!r} is not in the {units.name} list",
                              row=grid.row_label(i), column=grid.col_label(j))
                    continue
        if units is not None:
            match = units.match(code, name_text, row_district)
            col = ic.get("commune_code") if not is_blank(code) else ic.get("commune_name")
            if match.message:
                (log.warn if match.warning else log.error)(
                    match.message, row=grid.row_label(i), column=grid.col_label(col or 0))
            if match.code is None:
                continue
            commune = match.code
            row_district = str(units.communes.loc[commune, "district_code"])
        else:
            commune = normalise_code(code) if not is_blank(code) else norm_key(name_text)
            if not commune:
                continue
        if commune in seen:
            log.error(f"commune {commune} ({name_text or code}) appears twice "
                      f"(first in row {grid.row_label(seen[commune])})",
                      row=grid.row_label(i),
                      column=grid.col_label(ic.get("commune_code", ic.get("commune_name", 0))))
            continue
        seen[commune] = i
        sheet.rows.append(i)
        sheet.codes.append(commune)
        sheet.districts.append(row_district)
        sheet.names.append(name_text)


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
            log.error(f"no column for {crit} ({criteria[crit].name_vi})",
                      row=grid.row_label(sheet.header_row),
                      expected=f"a column headed '{criteria[crit].number}' or '{crit}'")
    table = pd.DataFrame(False, index=sheet.codes, columns=criteria.ids)
    for i, code in zip(sheet.rows, sheet.codes, strict=True):
        for crit, j in sheet.criterion_cols.items():
            value = grid.cell(i, j)
            met = parse_met(value)
            if met is BLANK:
                if mark_style:
                    met = False
                else:
                    log.error(f"empty status for {crit}", row=grid.row_label(i),
                              column=grid.col_label(j), expected=EXPECTED_MET)
                    continue
            if met is None:
                log.error(f"unrecognised status for {crit}", row=grid.row_label(i),
                          column=grid.col_label(j), expected=EXPECTED_MET, found=describe(value))
                continue
            table.loc[code, crit] = bool(met)
        if "total" in sheet.id_cols:
            total = parse_number(grid.cell(i, sheet.id_cols["total"]))
            counted = int(table.loc[code].sum())
            if isinstance(total, float) and int(total) != counted:
                log.warn(f"total says {int(total)} criteria met but {counted} are marked met; "
                         "using the marks", row=grid.row_label(i),
                         column=grid.col_label(sheet.id_cols["total"]))
    return table


def read_cost_values(
    sheet: WideSheet, criteria: CriteriaSet, status: pd.DataFrame, log: ProblemLog
) -> pd.DataFrame:
    """Parse the money cells (million VND) of a cost sheet aligned to ``status``."""
    grid = sheet.grid
    cost = pd.DataFrame(np.nan, index=status.index, columns=criteria.ids)
    for i, code in zip(sheet.rows, sheet.codes, strict=True):
        if code not in status.index:
            log.error(f"commune {code} is in the cost sheet but not in the status sheet",
                      row=grid.row_label(i),
                      column=grid.col_label(sheet.id_cols.get("commune_code",
                                                              sheet.id_cols.get("commune_name", 0))))
            continue
        for crit, j in sheet.criterion_cols.items():
            value = grid.cell(i, j)
            number = parse_number(value)
            if number is BLANK:
                continue
            if number is None or number < 0:
                log.error(f"cost for {crit} is not a non-negative amount", row=grid.row_label(i),
                          column=grid.col_label(j), expected="million VND (a number ≥ 0)",
                          found=describe(value))
                continue
            if number > 0 and bool(status.loc[code, crit]):
                log.warn(f"cost given for {crit}, which is already met; ignored",
                         row=grid.row_label(i), column=grid.col_label(j))
                continue
            cost.loc[code, crit] = number
    return cost


def _find_sheet(grids: dict[str, Grid], name: str) -> Grid | None:
    key = norm_key(name)
    for sheet, grid in grids.items():
        if norm_key(sheet) == key:
            return grid
    return None


def read_workbook(
    path: Path,
    *,
    units: UnitList | None | str = "lao_cai",
    criteria: CriteriaSet | None = None,
    display: str | None = None,
) -> Dataset:
    """Read a planners' workbook into a :class:`Dataset`.

    Parameters
    ----------
    path
        The .xlsx file.
    units
        Reference list to match communes against (``"lao_cai"``, a :class:`UnitList`,
        or None to accept any codes and names).
    criteria
        Criteria set of the status columns (default: the 2021–2025 set).
    display
        File name to show in messages (default: the file's name).

    Raises
    ------
    InputError
        With every problem found.
    """
    display = display or path.name
    criteria = criteria or load_criteria_set()
    if units == "lao_cai":
        units = lao_cai_units()
    assert units is None or isinstance(units, UnitList)
    grids = open_workbook(path, display)
    problems: list[Problem] = []

    wide: dict[str, tuple[Grid, WideSheet]] = {}
    for grid in grids.values():
        sheet = locate_wide(grid, criteria)
        if sheet is not None:
            kind = _sheet_kind(grid, sheet)
            wide.setdefault(kind, (grid, sheet))
    if "status" not in wide:
        raise InputError([Problem(
            display, "no sheet with a criterion status table found",
            expected="a sheet with one column per criterion (headed 1…19, 'TC1', 'Tiêu chí 1' "
                     "or the criterion names) and 'Đạt'/'Chưa đạt' in the cells",
            found=", ".join(grids) or "no sheets")])

    status_grid, status_sheet = wide["status"]
    log = status_grid.log()
    read_wide_rows(status_sheet, criteria, units, log)
    status = read_status_values(status_sheet, criteria, log)
    problems += log.problems
    if not status_sheet.codes and not log.has_errors:
        problems.append(Problem(display, "the status table has no commune rows", sheet=status_grid.sheet,
                                row=status_grid.row_label(status_sheet.header_row) + 1,
                                expected="one row per commune below the header"))

    cost = None
    if "cost" in wide:
        cost_grid, cost_sheet = wide["cost"]
        clog = cost_grid.log()
        read_wide_rows(cost_sheet, criteria, units, clog)
        cost = read_cost_values(cost_sheet, criteria, status, clog)
        problems += clog.problems

    communes = _communes_frame(status_sheet, units)
    extra = _read_commune_sheet(grids, communes, problems, display)
    districts = _read_district_sheet(grids, problems)
    sources, envelopes = _read_source_sheet(grids, criteria, problems)

    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    if extra is not None:
        names = ["commune_name", "district_code", "district_name"]
        for col in names:
            if col in extra.columns and units is None:
                given = extra[col].reindex(communes.index).fillna("").astype(str)
                communes[col] = given.where(given != "", communes[col])
        traits = extra.drop(columns=[c for c in names if c in extra.columns])
        communes = communes.join(traits)
    if districts is None and units is not None:
        d = units.communes.drop_duplicates("district_code").set_index("district_code")
        districts = d.loc[sorted(set(communes["district_code"]) & set(d.index)), ["district_name"]]
    ds = make_dataset(
        criteria, communes, status, cost, districts=districts, sources=sources,
        envelopes=envelopes, meta=DatasetMeta(name=path.stem, title=path.stem, criteria_set=criteria.id,
                                              source=display),
        file=display,
    )
    title = _title(status_grid, status_sheet.header_row)
    if title:
        object.__setattr__(ds, "meta", replace(ds.meta, title=title))
    if _has_demo_label(status_grid, status_sheet.header_row):
        object.__setattr__(ds, "meta", replace(ds.meta, demo=True))
    warnings = [p for p in problems if p.severity == "warning"]
    object.__setattr__(ds, "_cache", {**ds._cache, "warnings": warnings})
    return ds


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
    return frame.set_index("commune_code")


def _read_commune_sheet(grids: dict[str, Grid], communes: pd.DataFrame, problems: list[Problem],
                        display: str) -> pd.DataFrame | None:
    grid = _find_sheet(grids, schema.SHEET_COMMUNES)
    if grid is None:
        return None
    log = grid.log()
    table, colmap, _ = read_table(grid, schema.COMMUNE_TABLE, log, index="commune_code")
    for _, r in table.iterrows():
        if r["commune_code"] not in communes.index:
            log.error(f"commune {r['commune_code']} is not in the status sheet", row=int(r["_row"]),
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
        log.error("no year columns", expected="columns headed with years, e.g. 2021 … 2025")
    env: dict[str, dict[int, float]] = {}
    elig: dict[str, pd.Series] = {}
    for _, r in table.iterrows():
        sid = r["source_id"]
        try:
            elig[sid] = eligibility_from_rule(criteria, str(r["eligible"]))
        except ValueError as exc:
            log.error(f"eligibility rule: {exc}", row=int(r["_row"]),
                      column=grid.col_label(colmap["eligible"]),
                      expected=schema.EXPECTED_RULE)
        env[sid] = {}
        for y in years:
            value = parse_number(r[y])
            if value is BLANK:
                value = 0.0
            if value is None or value < 0:
                log.error(f"amount for {y} is not a non-negative number", row=int(r["_row"]),
                          column=grid.col_label(colmap[y]), expected="million VND",
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
