"""Tables in sheets and CSV files: header search, typed columns, located problems.

A :class:`Grid` is the cells of one sheet or CSV file with the means to name a cell
the way the user sees it (``row 9, column E (TC2)``). Readers of every format turn
their input into grids, then into typed tables with :func:`read_table`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from openpyxl.utils import get_column_letter

from ntm_sim.bounds import MAX_MONEY_MVND
from ntm_sim.data.dataset import normalise_code
from ntm_sim.data.io import limits
from ntm_sim.data.io.cells import restore
from ntm_sim.data.io.values import BLANK, describe, is_blank, parse_flag, parse_number
from ntm_sim.errors import InputError, Problem, ProblemLog, Text
from ntm_sim.text import norm_key

ColumnKind = Literal["code", "text", "int", "number", "flag"]


@dataclass
class Grid:
    """Cells of one sheet (or CSV file), with user-facing row and column names.

    Parameters
    ----------
    file
        File name for messages.
    rows
        Cell values, row by row (ragged rows allowed).
    sheet
        Sheet name (None for CSV).
    excel
        Whether columns are named by letter (Excel) or by header (CSV).
    headers
        Column index → header text, for messages.
    merged
        Merged ranges of a sheet as 0-based ``(first_row, last_row, first_col, last_col)``.
    uncached_formulas
        0-based ``(row, column)`` of formula cells whose result was never saved (a
        workbook written by a program and never opened in Excel): their value reads
        as empty, and a reader that needs it says why.
    encoding
        How a CSV file was decoded, as people name it (``UTF-8``, ``UTF-16 LE``…).
    notes
        Problems found while reading the file itself (a guessed encoding); they go
        into the first :meth:`log` taken from the grid.
    """

    file: str
    rows: list[list[object]]
    sheet: str | None = None
    excel: bool = True
    headers: dict[int, str] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    uncached_formulas: set[tuple[int, int]] = field(default_factory=set)
    encoding: str | None = None
    notes: list[Problem] = field(default_factory=list)

    def cell(self, i: int, j: int) -> object:
        """Return the value at 0-based row ``i`` and column ``j`` (None if absent)."""
        row = self.rows[i] if i < len(self.rows) else []
        return row[j] if j < len(row) else None

    @property
    def width(self) -> int:
        """Number of columns."""
        return max((len(r) for r in self.rows), default=0)

    def row_label(self, i: int) -> int:
        """1-based row number as the user sees it."""
        return i + 1

    def col_label(self, j: int) -> str:
        """Column as the user sees it: ``E (TC2)`` in Excel, the header in CSV."""
        head = self.headers.get(j)
        if self.excel:
            letter = get_column_letter(j + 1)
            return f"{letter} ({head})" if head else letter
        return head if head else f"#{j + 1}"

    def log(self) -> ProblemLog:
        """Return a problem log bound to this grid's file and sheet.

        The grid's :attr:`notes` go into the first log taken, so that they are
        reported once however many logs a reader takes.
        """
        log = ProblemLog(self.file, self.sheet)
        log.problems.extend(self.notes)
        self.notes = []
        return log


# Byte order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"),
)
_SAVE_AS_UTF8 = Text("csv.save_as_utf8")
_WHERE = Text("limits.where")


def _utf16_without_bom(raw: bytes) -> tuple[str, str] | None:
    """Guess UTF-16 without a byte order mark from NUL bytes (text is mostly ASCII)."""
    sample = raw[:4096]
    half = len(sample) // 2
    if half < 2:
        return None
    odd = sample[1::2].count(0)
    even = sample[0::2].count(0)
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le", "UTF-16 LE"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be", "UTF-16 BE"
    return None


def decode_text(raw: bytes, display: str) -> tuple[str, str, Problem | None]:
    """Decode a text file whatever Vietnamese offices saved it as.

    UTF-8 (with or without BOM) and UTF-16/32 with a byte order mark are certain;
    UTF-16 without a mark is recognised by its NUL bytes. Anything else is read as
    Windows-1258 (the Vietnamese code page) or, failing that, Latin-1, with a warning
    naming the encoding, since accented names may then be wrong.

    Returns
    -------
    text : str
    encoding : str
        The encoding used, as people name it.
    note : Problem or None
        The warning for a guessed legacy encoding.

    Raises
    ------
    InputError
        If the file has a byte order mark (or NUL bytes) of UTF-16/32 but does not
        decode as such.
    """
    marked = next(((codec, name) for bom, codec, name in _BOMS if raw.startswith(bom)), None)
    codec, name = marked or _utf16_without_bom(raw) or ("utf-8", "UTF-8")
    try:
        return raw.decode(codec), name, None
    except UnicodeDecodeError as exc:
        if codec != "utf-8":
            raise InputError([Problem(display, Text("csv.cannot_decode", encoding=name, byte=exc.start),
                                      expected=_SAVE_AS_UTF8)]) from None
    for codec, name in (("cp1258", "Windows-1258 (Vietnamese)"), ("latin-1", "Latin-1")):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        note = Problem(display, Text("csv.legacy_encoding", encoding=name), expected=_SAVE_AS_UTF8,
                       severity="warning")
        return text, name, note
    raise AssertionError("Latin-1 decodes any bytes")  # pragma: no cover


def _delimiter(sample: str) -> str:
    """The most frequent of comma, semicolon and tab (Excel's 'Unicode text' uses tabs)."""
    counts = {d: sample.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _csv_rows(text: str, delimiter: str, display: str, encoding: str) -> list[list[object]]:
    """Split CSV text into rows, refusing more lines, fields or cells than the limits."""
    rows: list[list[object]] = []
    cells = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            rows.append(list(row))
            cells += len(row)
            if (len(row) > limits.MAX_CSV_COLUMNS or len(rows) > limits.MAX_CSV_ROWS
                    or cells > limits.MAX_CSV_CELLS):
                raise InputError([Problem(
                    display, Text("csv.too_much"), row=reader.line_num,
                    expected=Text("csv.too_much.expected", rows=limits.MAX_CSV_ROWS, columns=limits.MAX_CSV_COLUMNS,
                                  cells=limits.MAX_CSV_CELLS, where=_WHERE),
                    found=Text("csv.too_much.found", rows=len(rows), columns=len(row), cells=cells))])
    except csv.Error as exc:
        raise InputError([Problem(display, Text("csv.cannot_split", error=str(exc), encoding=encoding),
                                  row=reader.line_num, expected=_SAVE_AS_UTF8)]) from None
    return rows


def read_csv_grid(path: Path, display: str | None = None) -> Grid:
    """Read a CSV file into a grid: encoding detected, comma, semicolon or tab.

    The file is refused by its size before it is read if it is larger than
    :data:`~ntm_sim.data.io.limits.MAX_CSV_BYTES`; see :func:`decode_text` for encodings.

    Raises
    ------
    InputError
        If the file is too large, cannot be decoded or split into fields.
    """
    from ntm_sim.data.io.files import check_regular, read_bytes

    display = display or path.name
    size = check_regular(path, display, None)  # a FIFO or /dev/zero is refused before a byte is read
    if size > limits.MAX_CSV_BYTES:
        raise InputError([Problem(
            display, Text("io.too_large", size=limits.size_text(size)),
            expected=Text("csv.too_large.expected", limit=limits.size_text(limits.MAX_CSV_BYTES), where=_WHERE),
            found=limits.size_text(size))])
    text, encoding, note = decode_text(read_bytes(path, display, limits.MAX_CSV_BYTES), display)
    rows = _csv_rows(text, _delimiter(text[:4096]), display, encoding)
    del text
    # the apostrophe the writers put before a formula-like field (OWASP) is not part of it
    rows = [[restore(v) for v in row] for row in rows]
    grid = Grid(display, rows, sheet=None, excel=False, encoding=encoding)
    if note is not None:
        grid.notes.append(note)
    if rows:
        grid.headers = {j: str(h).strip() for j, h in enumerate(rows[0])}
    return grid


@dataclass(frozen=True)
class Column:
    """A column of a table: its canonical name, header as written, and aliases."""

    name: str
    header_vi: str
    kind: ColumnKind
    aliases: tuple[str, ...] = ()
    required: bool = False
    min_value: float | None = 0.0
    max_value: float | None = MAX_MONEY_MVND  # no count nor amount of a table is larger (ntm_sim.bounds)

    def keys(self) -> set[str]:
        """Normalised header texts that stand for this column."""
        return {norm_key(a) for a in (self.name, self.header_vi, *self.aliases)}


def find_header_row(grid: Grid, columns: Sequence[Column], max_scan: int = 30) -> int | None:
    """Return the 0-based row that holds most of the given headers (None if none).

    A row with every required header wins. Failing that, a row with at least two known
    headers is taken, so that the caller can name the required column that is missing.
    """
    best: tuple[bool, int] | None = None
    best_row = None
    wanted = [c.keys() for c in columns]
    for i in range(min(max_scan, len(grid.rows))):
        texts = {norm_key(v) for v in grid.rows[i] if not is_blank(v)}
        hits = sum(1 for keys in wanted if keys & texts)
        complete = all(c.keys() & texts for c in columns if c.required)
        if hits == 0 or (not complete and hits < 2):
            continue
        if best is None or (complete, hits) > best:
            best, best_row = (complete, hits), i
    return best_row


def map_columns(grid: Grid, header_row: int, columns: Sequence[Column]) -> dict[str, int]:
    """Map canonical column names to 0-based column indices from a header row."""
    found: dict[str, int] = {}
    for j in range(grid.width):
        key = norm_key(grid.cell(header_row, j))
        if not key:
            continue
        for col in columns:
            if col.name not in found and key in col.keys():
                found[col.name] = j
                grid.headers.setdefault(j, str(grid.cell(header_row, j)).strip())
    return found


def parse_cell(
    grid: Grid, log: ProblemLog, i: int, j: int, col: Column
) -> object:
    """Parse one typed cell, logging a located problem if it does not parse."""
    value = grid.cell(i, j)
    where = {"row": grid.row_label(i), "column": grid.col_label(j)}
    if col.kind in ("code", "text"):
        if is_blank(value):
            if col.required:
                log.error(Text("table.empty", column=col.header_vi), expected=Text("table.a_value"), **where)
            return "" if col.kind == "text" else ""
        return normalise_code(value) if col.kind == "code" else str(value).strip()
    if col.kind == "flag":
        flag = parse_flag(value)
        if flag is None:
            log.error(Text("table.not_flag", column=col.header_vi), expected=Text("table.not_flag.expected"),
                      found=describe(value), **where)
            return False
        return flag
    number = parse_number(value)
    if number is BLANK:
        if col.required:
            log.error(Text("table.empty", column=col.header_vi), expected=Text("table.a_number"), **where)
        return None
    if number is None:
        log.error(Text("table.not_number", column=col.header_vi), expected=Text("table.a_number"),
                  found=describe(value), **where)
        return None
    assert isinstance(number, float)
    if col.min_value is not None and number < col.min_value:
        log.error(Text("table.below", column=col.header_vi, low=f"{col.min_value:g}"),
                  expected=Text("table.below.expected", low=f"{col.min_value:g}"), found=describe(value), **where)
        return None
    if col.max_value is not None and number > col.max_value:
        log.error(Text("table.above", column=col.header_vi, high=col.max_value),
                  expected=Text("table.above.expected", high=col.max_value), found=describe(value), **where)
        return None
    if col.kind == "int":
        if not number.is_integer():
            log.error(Text("table.not_whole", column=col.header_vi), expected=Text("table.a_whole_number"),
                      found=describe(value), **where)
            return None
        return int(number)
    return number


def read_table(
    grid: Grid,
    columns: Sequence[Column],
    log: ProblemLog,
    *,
    index: str | None = None,
    extra: Callable[[str], bool] | None = None,
) -> tuple[pd.DataFrame, dict[str, int], int]:
    """Read a typed table from a grid.

    Parameters
    ----------
    grid
        The cells.
    columns
        Known columns; required ones must be present.
    log
        Where located problems go.
    index
        Column to use as index (duplicates are reported).
    extra
        Predicate on header text for extra columns to keep raw (e.g. year columns).

    Returns
    -------
    table : DataFrame
        One row per data row; rows that are entirely blank are skipped.
    colmap : dict
        Column name → 0-based column index (extra columns under their header text).
    header_row : int
        0-based header row (-1 if no header was found; the table is then empty, as it
        is when a required column is missing).
    """
    header = find_header_row(grid, columns)
    if header is None:
        required = [c.header_vi for c in columns if c.required]
        log.error(Text("table.no_header_read_as", encoding=grid.encoding) if grid.encoding else
                  Text("table.no_header"), row=None,
                  expected=Text("table.no_header.expected", columns=", ".join(f"'{h}'" for h in required)))
        return pd.DataFrame(), {}, -1
    colmap = map_columns(grid, header, columns)
    missing = [col for col in columns if col.required and col.name not in colmap]
    for col in missing:
        log.error(Text("table.no_column", column=col.header_vi), row=grid.row_label(header),
                  expected=Text("table.no_column.expected", column=col.header_vi))
    if missing:  # callers index required columns freely; give them nothing to index
        return pd.DataFrame(), colmap, header
    if extra is not None:
        for j in range(grid.width):
            text = grid.cell(header, j)
            if not is_blank(text) and j not in colmap.values() and extra(str(text).strip()):
                colmap[describe(text).strip()] = j
                grid.headers.setdefault(j, describe(text).strip())
    return _read_records(grid, columns, log, colmap, header, index), colmap, header


def _read_records(grid: Grid, columns: Sequence[Column], log: ProblemLog, colmap: dict[str, int], header: int,
                  index: str | None) -> pd.DataFrame:
    """The data rows under the header, typed; a value of ``index`` seen before reported and dropped."""
    records: list[dict[str, object]] = []
    rows: list[int] = []
    by_name = {c.name: c for c in columns}
    for i in range(header + 1, len(grid.rows)):
        if all(is_blank(v) for v in grid.rows[i]):
            continue
        rec: dict[str, object] = {}
        for name, j in colmap.items():
            col = by_name.get(name)
            rec[name] = parse_cell(grid, log, i, j, col) if col else grid.cell(i, j)
        records.append(rec)
        rows.append(grid.row_label(i))
    table = pd.DataFrame.from_records(records, columns=list(colmap))
    table["_row"] = rows
    if index is not None and index in table.columns:
        dup = table[index].duplicated(keep="first")
        for _, r in table[dup].iterrows():
            first = table.loc[table[index] == r[index], "_row"].iloc[0]
            log.error(Text("table.twice", column=by_name[index].header_vi, value=str(r[index]), first=int(first)),
                      row=int(r["_row"]), column=grid.col_label(colmap[index]))
        table = table[~dup]
    return table
