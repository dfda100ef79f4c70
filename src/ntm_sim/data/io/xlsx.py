"""Workbooks read as planners save them, cell by cell.

The archive is checked before it is opened (size, parts, ratio); sheets are streamed with
their cached formula values and merged areas.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from ntm_sim.data.io import limits
from ntm_sim.data.io.tables import Grid
from ntm_sim.data.io.values import (
    describe,
    is_blank,
)
from ntm_sim.errors import InputError, Problem, Text


def open_workbook(path: Path, display: str) -> dict[str, Grid]:
    """Open an .xlsx file and return its sheets as grids, within the limits.

    The zip's directory is checked first (:func:`check_archive`), then openpyxl opens
    the workbook in read-only mode and every sheet is streamed (:func:`read_sheet`):
    what a file may make the tool hold is bounded by :mod:`ntm_sim.data.io.limits`, not by
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
    from ntm_sim.data.io.files import check_regular

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
