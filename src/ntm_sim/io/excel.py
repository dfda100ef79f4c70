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
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from ntm_sim.bounds import MAX_MONEY_MVND
from ntm_sim.criteria import CriteriaSet, available_sets, best_criteria_set, load_criteria_set
from ntm_sim.dataset import Dataset, DatasetMeta, eligibility_from_rule, make_dataset, normalise_code
from ntm_sim.errors import InputError, Problem, ProblemLog, Text
from ntm_sim.io import limits, schema
from ntm_sim.io.tables import Grid, read_table
from ntm_sim.io.values import (
    BLANK,
    EXPECTED_MET,
    NEEDS_INPUT,
    describe,
    is_blank,
    is_mark,
    parse_met,
    parse_number,
)
from ntm_sim.messages import joined
from ntm_sim.text import district_key, norm_key
from ntm_sim.units import AUTO, Generation, UnitList, generation_of, units_for_sheet

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
    """Open an .xlsx file and return its sheets as grids, within the limits.

    The zip's directory is checked first (:func:`check_archive`), then openpyxl opens
    the workbook in read-only mode and every sheet is streamed (:func:`read_sheet`):
    what a file may make the tool hold is bounded by :mod:`ntm_sim.io.limits`, not by
    what the file declares.

    Raises
    ------
    InputError
        If the file cannot be opened as an .xlsx workbook or passes a limit.
    """
    if not path.exists():
        raise InputError([Problem(display, Text("io.file_not_found"))])
    if path.suffix.lower() == ".xls":
        raise InputError([Problem(display, Text("xlsx.old_xls"), expected=Text("xlsx.old_xls.expected"))])
    check_archive(path, display)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (*_READ_ERRORS, AttributeError) as exc:  # openpyxl's object model on a broken part
        raise InputError([Problem(display, Text("xlsx.cannot_open", error=exc.__class__.__name__),
                                  expected=_NOT_A_WORKBOOK)]) from None
    try:
        budget = [limits.MAX_WORKBOOK_CELLS]
        return {ws.title: read_sheet(wb, ws, display, budget) for ws in wb.worksheets}
    finally:
        wb.close()


# What a broken or hostile part can make zipfile, expat or openpyxl raise (ParseError is
# a SyntaxError); each becomes an InputError naming the file.
_READ_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, InvalidFileException, zlib.error, KeyError, OSError,
    ValueError, TypeError, IndexError, SyntaxError, EOFError, OverflowError, NotImplementedError,
)
_NOT_A_WORKBOOK = Text("xlsx.not_a_workbook")
_WHERE = Text("limits.where")


def _part_limit(name: str) -> int:
    """Largest unpacked size of a zip member: sheets are streamed, other parts parsed whole."""
    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
        return limits.MAX_SHEET_PART_BYTES
    return limits.MAX_OTHER_PART_BYTES


def check_archive(path: Path, display: str) -> None:
    """Refuse an .xlsx whose zip would unpack to more than the limits allow.

    Checked from the zip's central directory before anything is unpacked: the file's
    size, the number of members, each member's and the total unpacked size, and the
    packing ratio of larger members (a zip bomb packs 1 GiB of blanks into 1 MB). The
    sizes can be trusted as bounds: :mod:`zipfile` never inflates a member past the
    size the directory gives it (and reports a bad CRC if the data says otherwise).

    Raises
    ------
    InputError
        If the file is not a zip archive or passes a limit (naming the limit).
    """
    from ntm_sim.io.files import check_regular

    size = check_regular(path, display, None)  # a FIFO or /dev/zero is refused before a byte is read
    if size > limits.MAX_XLSX_FILE_BYTES:
        raise InputError([Problem(display, Text("io.too_large", size=limits.size_text(size)),
                                  expected=Text("xlsx.too_large.expected",
                                                limit=limits.size_text(limits.MAX_XLSX_FILE_BYTES), where=_WHERE))])
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except _READ_ERRORS as exc:
        raise InputError([Problem(display, Text("xlsx.cannot_open", error=exc.__class__.__name__),
                                  expected=_NOT_A_WORKBOOK)]) from None
    if len(members) > limits.MAX_ZIP_MEMBERS:
        raise InputError([Problem(display, Text("xlsx.zip_members", n=len(members)),
                                  expected=Text("limits.at_most", limit=limits.MAX_ZIP_MEMBERS, where=_WHERE))])
    total = 0
    for info in members:
        limit = _part_limit(info.filename)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limit:
            problem = (Text("xlsx.part_too_large", part=info.filename, size=limits.size_text(info.file_size)),
                       Text("xlsx.part_too_large.expected", limit=limits.size_text(limit), where=_WHERE))
        elif info.file_size > limits.RATIO_CHECK_BYTES and ratio > limits.MAX_COMPRESSION_RATIO:
            problem = (Text("xlsx.zip_bomb", part=info.filename, ratio=round(ratio),
                            packed=limits.size_text(info.compress_size), size=limits.size_text(info.file_size)),
                       Text("xlsx.zip_bomb.expected", limit=limits.MAX_COMPRESSION_RATIO, where=_WHERE))
        else:
            total += info.file_size
            continue
        raise InputError([Problem(display, problem[0], expected=problem[1])])
    if total > limits.MAX_UNPACKED_BYTES:
        raise InputError([Problem(display, Text("xlsx.unpacked_too_large", size=limits.size_text(total)),
                                  expected=Text("xlsx.unpacked_too_large.expected",
                                                limit=limits.size_text(limits.MAX_UNPACKED_BYTES), where=_WHERE))])


_ROW = f"{{{SHEET_MAIN_NS}}}row"
_CELL = f"{{{SHEET_MAIN_NS}}}c"
_FORMULA = f"{{{SHEET_MAIN_NS}}}f"
_VALUE = f"{{{SHEET_MAIN_NS}}}v"
_MERGE = f"{{{SHEET_MAIN_NS}}}mergeCell"
_INLINE = f"{{{SHEET_MAIN_NS}}}is"
_TEXT = f"{{{SHEET_MAIN_NS}}}t"
_RUN = f"{{{SHEET_MAIN_NS}}}r"
# A cell's own markup (rich-text runs) stays in memory until the cell ends: bounded.
_MAX_HELD = 10_000
_LAST_LETTERED = 18_278  # column ZZZ: openpyxl names columns up to here
_AREA = f"{get_column_letter(limits.MAX_SHEET_COLUMNS)}{limits.MAX_SHEET_ROWS}"


class _SheetCells:
    """The cells of one sheet as they stream in, refused past a limit.

    Each row is kept up to its last value (empty and styled-only cells cost nothing),
    so a lone value far out is refused by its place, not by building the sheet's
    extent. ``budget`` is a one-item list of cells left for the whole workbook.
    """

    def __init__(self, display: str, sheet: str, budget: list[int]) -> None:
        self.display, self.sheet, self.budget = display, sheet, budget
        self.rows: list[list[object]] = []
        self.merged: list[tuple[int, int, int, int]] = []
        self.uncached: set[tuple[int, int]] = set()
        self.cells = 0

    def error(self, message: Text, row: int | None = None, column: int | None = None,
              **more: Text) -> InputError:
        """An InputError at a place of this sheet (1-based row and column)."""
        col = get_column_letter(column) if column and column <= _LAST_LETTERED else None
        return InputError([Problem(self.display, message, sheet=self.sheet, row=row, column=col, **more)])

    def _count(self, n: int, row: int) -> None:
        self.cells += n
        self.budget[0] -= n
        if self.cells > limits.MAX_SHEET_CELLS or self.budget[0] < 0:
            whole = self.budget[0] < 0
            limit = limits.MAX_WORKBOOK_CELLS if whole else limits.MAX_SHEET_CELLS
            raise self.error(Text("xlsx.cells_workbook" if whole else "xlsx.cells_sheet"), row,
                             expected=Text("xlsx.cells_workbook.expected" if whole else "xlsx.cells_sheet.expected",
                                           limit=limit, where=_WHERE))

    def add(self, row: int, column: int, value: object, uncached: bool) -> None:
        """Keep a value (or a formula without a saved result) at a 1-based place."""
        if row > limits.MAX_SHEET_ROWS or column > limits.MAX_SHEET_COLUMNS or row < 1 or column < 1:
            name = f"{get_column_letter(column)}{row}" if 1 <= column <= _LAST_LETTERED else f"R{row}C{column}"
            raise self.error(Text("xlsx.far_cell", cell=name, area=_AREA), row, column,
                             expected=Text("xlsx.far_cell.expected", area=_AREA, rows=limits.MAX_SHEET_ROWS,
                                           columns=limits.MAX_SHEET_COLUMNS, where=_WHERE),
                             found=Text("xlsx.a_formula") if uncached else describe(value))
        i, j = row - 1, column - 1
        if i >= len(self.rows):
            self.rows.extend([] for _ in range(i + 1 - len(self.rows)))
        cells = self.rows[i]
        if j >= len(cells):
            self._count(j + 1 - len(cells), row)
            cells.extend([None] * (j + 1 - len(cells)))
        cells[j] = value
        if uncached:
            self._count(1, row)  # tracked too, so counted
            self.uncached.add((i, j))

    def merge(self, ref: str) -> None:
        """Keep a merged range (``A5:A6``) as 0-based bounds."""
        if len(self.merged) >= limits.MAX_MERGED_RANGES:
            raise self.error(Text("xlsx.merged"),
                             expected=Text("xlsx.merged.expected", limit=limits.MAX_MERGED_RANGES, where=_WHERE))
        c0, r0, c1, r1 = range_boundaries(ref)
        if None not in (c0, r0, c1, r1):  # whole rows or columns never hold a header
            self.merged.append((r0 - 1, r1 - 1, c0 - 1, c1 - 1))  # type: ignore[operator]


def _start_row(parser: WorkSheetParser, row: Element) -> None:
    """Set the parser's row counter as openpyxl does (``r`` may be missing or ``5.0``)."""
    r = row.get("r")
    parser.row_counter = int(float(r)) if r else parser.row_counter + 1
    parser.col_counter = 0


def _inline_text(inline: Element) -> str:
    """The plain text of an inline string: its ``<t>`` and its runs' ``<t>``, as openpyxl reads it."""
    parts = [inline.findtext(_TEXT), *(run.findtext(_TEXT) for run in inline.iterfind(_RUN))]
    return "".join(p for p in parts if p)


def _read_cell(parser: WorkSheetParser, elem: Element, cells: _SheetCells) -> None:
    """Decode one ``<c>`` element and keep it if it holds something."""
    uncached = elem.find(_FORMULA) is not None and not elem.findtext(_VALUE)
    inline = elem.find(_INLINE) if elem.get("t") == "inlineStr" else None
    if inline is not None:
        # openpyxl builds a rich-text object per inline string, six times the cost of a
        # shared string; the plain text is all a reader needs
        elem.remove(inline)
    cell = parser.parse_cell(elem)
    value = cell["value"] if inline is None else _inline_text(inline)
    if uncached or not is_blank(value):
        cells.add(cell["row"], cell["column"], value, uncached)


def _stream(source: IO[bytes], parser: WorkSheetParser, cells: _SheetCells) -> None:
    """Read a worksheet's XML element by element, dropping every element once read.

    Outside rows, elements are kept on a stack so that each is removed from its parent
    when it ends; inside a row, each cell is removed once read and what else the row
    holds is counted, so no way of building the XML piles up elements.
    """
    parents: list[Element] = []
    row: Element | None = None
    in_cell = False
    markup = loose = 0  # ended elements still held: by the current cell, loose in the row
    for event, elem in iterparse(source, events=("start", "end")):
        tag = elem.tag
        if event == "start":
            if row is None:
                if tag == _ROW:
                    row = elem
                    _start_row(parser, elem)
                else:
                    parents.append(elem)
            elif tag == _CELL:
                in_cell, markup = True, 0
            continue
        if row is not None and tag != _ROW:
            if tag == _CELL:
                _read_cell(parser, elem, cells)
                row.remove(elem)  # its <v>, <f>, <is> go with it
                in_cell = False
            elif in_cell:
                markup += 1
            else:
                loose += 1
            if max(markup, loose) > _MAX_HELD:
                raise cells.error(Text("xlsx.markup"), parser.row_counter,
                                  expected=Text("xlsx.markup.expected", limit=_MAX_HELD))
            continue
        if tag == _ROW:
            row, loose = None, 0
        else:
            parents.pop()
            if tag == _MERGE:
                cells.merge(elem.get("ref", ""))
        if parents:
            parents[-1].remove(elem)


def read_sheet(wb: Workbook, ws: ReadOnlyWorksheet, display: str, budget: list[int]) -> Grid:
    """Stream one sheet of a read-only workbook into a grid, within the limits.

    The sheet's declared dimension is not used. Values are decoded by openpyxl's own
    cell parser (shared strings, dates by the workbook's styles, cached formula
    results); formula cells without a saved result are listed in
    :attr:`Grid.uncached_formulas`.

    Raises
    ------
    InputError
        If a limit is passed (naming the sheet, the cell and the limit) or the sheet's
        XML is broken.
    """
    title = str(ws.title)
    cells = _SheetCells(display, title, budget)
    # openpyxl 3.1's read-only sheets: _get_source opens the part, the workbook keeps the
    # date formats its styles define; these are what its own row reader uses.
    parser = WorkSheetParser(None, wb.shared_strings, data_only=True, epoch=wb.epoch,
                             date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
    try:
        with ws._get_source() as source:
            _stream(source, parser, cells)
    except _READ_ERRORS as exc:
        raise cells.error(Text("xlsx.sheet_unreadable", error=f"{exc.__class__.__name__}: {str(exc)[:200]}"),
                          parser.row_counter or None, expected=_NOT_A_WORKBOOK) from None
    return Grid(display, cells.rows, sheet=title, excel=True, merged=cells.merged,
                uncached_formulas=cells.uncached)


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
            is_district, d = _is_district_row(name_text, stt, units)
            if is_district:
                if d is not None:
                    district = d
                elif units is not None and name_text and not norm_key(name_text).startswith(_TOTAL_WORDS):
                    # an unknown district must not leave the previous one as context for names below
                    district = None
                    log.warn(Text("xlsx.district_row_unknown", name=repr(name_text), units=units.name),
                             row=grid.row_label(i), column=grid.col_label(ic.get("commune_name", 0)))
                continue
            if not name_text:
                if has_values:
                    log.error(Text("xlsx.row_without_commune"),
                              row=grid.row_label(i),
                              column=grid.col_label(ic.get("commune_name", ic.get("commune_code", 0))))
                continue
            if not has_values and not _is_commune_name(name_text, units):
                continue  # a note or title row under the table
        known, row_district = _row_district(grid, i, ic, district, units, log)
        if not known:
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
            if not name_text and "commune_name" not in ic:
                name_text = commune  # a sheet of codes only, read as written: the code names the commune
            elif not name_text:  # without a unit list the names come from the sheet: a run needs them
                log.error(Text("xlsx.no_name", commune=commune), row=grid.row_label(i),
                          column=grid.col_label(ic.get("commune_name", ic.get("commune_code", 0))),
                          expected=Text("xlsx.no_name.expected"))
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
    :data:`~ntm_sim.io.limits.MAX_CELLS_LISTED` one by one, then how many more).
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
        :func:`ntm_sim.units.resolve_units`, a :class:`UnitList`, or None to accept any
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
