"""Keep text from input data inert in the spreadsheets and CSV files the tool writes.

Names, codes and notes come from a planner's workbook and are written back into
``plan.xlsx``, dataset exports, templates and CSV files. A name such as
``=HYPERLINK("http://x","y")`` or ``=1+1+cmd|' /C calc'!A0`` must never become a live
formula in any of them (CSV/formula injection, OWASP).

Two rules, one per format:

CSV (:func:`neutralise`, :func:`neutralise_frame`, :func:`write_csv`)
    A CSV cell carries no type, so Excel and LibreOffice guess one on opening: a field
    that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return may be run as a
    formula. Following OWASP, such a *string* gets a leading apostrophe ``'``, which
    spreadsheet programs treat as "this is text". Numbers (including negative
    numbers), bools and missing values are written unchanged, so ``-5.0`` stays a number.
    The apostrophe stays in the file (the price of a CSV that is safe in every spreadsheet
    program); the tool's CSV readers take it off again (:func:`restore`), so a name read
    back is the name written.

xlsx (:func:`safe_cell`, :func:`formula_cell`)
    An xlsx cell does carry a type, so no apostrophe is added: the name is stored as a
    text cell (``data_type = "s"``, an inline string) holding exactly the original
    characters, and the cell gets the ``quotePrefix`` style, the flag Excel itself sets
    when a user types ``'=…``. A text cell is shown as it is and never evaluated; with
    ``quotePrefix`` the cell shows the text without an apostrophe (the formula bar shows
    one) and it stays text when a user edits it (F2, Enter), which would otherwise turn
    it into a live formula. (This is the documented meaning of the flag; the files were
    checked with openpyxl, not opened in Excel or LibreOffice here.) openpyxl on its
    own would store any string that starts with ``=`` as a formula and a string such as
    ``#N/A`` as an error value; :func:`safe_cell` undoes both. Formulas the tool writes
    on purpose (column totals) go through :func:`formula_cell` instead.

One limit of the xlsx format as openpyxl writes it (without lxml): a carriage return
inside a text cell is written as a raw byte, and every XML reader (Excel included)
turns it into a line feed. The cell stays plain text either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any, TypeVar

import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "DANGEROUS_PREFIXES",
    "QUOTE",
    "formula_cell",
    "is_dangerous",
    "neutralise",
    "neutralise_frame",
    "restore",
    "safe_cell",
    "write_csv",
]

#: First characters that make a spreadsheet program read a field as a formula (OWASP).
DANGEROUS_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: The prefix that marks a CSV field as text.
QUOTE = "'"

T = TypeVar("T")


def is_dangerous(value: object) -> bool:
    """Return True if ``value`` is a string a spreadsheet program could run as a formula.

    Parameters
    ----------
    value
        Any cell value.

    Returns
    -------
    bool
        True for a ``str`` (or ``numpy.str_``) that begins with one of
        :data:`DANGEROUS_PREFIXES`; False for anything else, numbers included.
    """
    return isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES)


def neutralise(value: T) -> T | str:
    """Return ``value`` made safe for a CSV field (the OWASP rule).

    Parameters
    ----------
    value
        Any cell value.

    Returns
    -------
    object
        ``"'" + value`` if ``value`` is a string that begins with ``=``, ``+``, ``-``,
        ``@``, tab or carriage return; otherwise ``value`` itself (the same object), so
        numbers, bools, None and NaN pass untouched.

    Notes
    -----
    Idempotent: the result never begins with a dangerous character, so a second call
    returns it unchanged.
    """
    if is_dangerous(value):
        return QUOTE + str(value)
    return value


#: What may follow the apostrophe :func:`neutralise` adds, once written: a carriage return reaches
#: the file as a line feed (:func:`write_csv`).
_NEUTRALISED = (*DANGEROUS_PREFIXES, "\n")


def restore(value: T) -> T | str:
    """Undo :func:`neutralise` on a field read from a CSV: ``'=SUM(A1)`` is ``=SUM(A1)`` again.

    Only an apostrophe followed by a character that :func:`neutralise` guards is taken off
    (``'abc`` stays as it is): the rule never changes a field a spreadsheet would not have
    run as a formula.

    Examples
    --------
    >>> restore("'=HYPERLINK(1)"), restore("'-2+3"), restore("'abc"), restore(-2)
    ('=HYPERLINK(1)', '-2+3', "'abc", -2)
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == QUOTE and value[1:].startswith(_NEUTRALISED):
        return value[1:]
    return value


def _holds_text(values: pd.Series | pd.Index) -> bool:
    # object columns may mix text with numbers; string columns hold only text (or NA);
    # a categorical column is written as its categories, which may be text too
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _holds_text(dtype.categories)
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _any_text(values: pd.Series, test: Callable[[object], bool]) -> bool:
    if not _holds_text(values):
        return False
    if isinstance(values.dtype, pd.CategoricalDtype):
        return any(test(c) for c in values.dtype.categories)
    return bool(values.map(test, na_action="ignore").any())


def _map_text(values: pd.Series, func: Callable[[object], object]) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        # as plain objects: renamed categories could collide ("=x" next to "'=x")
        return values.astype(object).map(func, na_action="ignore")
    return values.map(func, na_action="ignore").astype(values.dtype)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with every text cell and label passed through :func:`neutralise`.

    Parameters
    ----------
    frame
        Any table.

    Returns
    -------
    pandas.DataFrame
        A copy; object and string columns are neutralised cell by cell (their dtype is
        kept; a categorical column with such text becomes object), numeric and bool
        columns are left as they are. String column names, a text index and the index
        and column-axis names are neutralised too, since ``to_csv`` writes them as
        fields as well.
    """
    out = frame.copy()
    # by position, so duplicate column names are handled
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if _any_text(col, is_dangerous):
            out.isetitem(j, _map_text(col, neutralise))
    out.columns = _neutralise_index(out.columns)
    out.index = _neutralise_index(out.index)
    return out


def _neutralise_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels = [_neutralise_index(level) for level in index.levels]
        index = index.set_levels(levels)
    elif _holds_text(index) and any(is_dangerous(v) for v in index):
        index = pd.Index([neutralise(v) for v in index], dtype=index.dtype, name=index.name)
    names = [neutralise(n) for n in index.names]
    return index.set_names(names) if names != list(index.names) else index


def _has_cr(value: object) -> bool:
    return isinstance(value, str) and "\r" in value


def _cr_to_lf(value: T) -> T | str:
    if _has_cr(value):
        return str(value).replace("\r\n", "\n").replace("\r", "\n")
    return value


def write_csv(
    frame: pd.DataFrame,
    path: str | os.PathLike[str] | IO[str],
    *,
    index: bool = False,
    lineterminator: str = "\n",
    float_format: str | None = "%.10g",
    encoding: str = "utf-8",
    **kwargs: Any,
) -> None:
    r"""Write ``frame`` as CSV with every text field neutralised, in the project's conventions.

    Parameters
    ----------
    frame
        The table to write.
    path
        File path or open text stream (as for :meth:`pandas.DataFrame.to_csv`).
    index
        Write the row labels (default False).
    lineterminator
        Line ending (default ``"\n"`` on every platform, so files diff cleanly).
    float_format
        Format of floats (default ``"%.10g"``: ten significant digits, no trailing
        noise). Pass None for pandas' shortest round-trip repr, or e.g. ``"%.4f"``.
    encoding
        Default UTF-8 (Vietnamese names).
    **kwargs
        Any other :meth:`pandas.DataFrame.to_csv` argument (``columns``, ``header``,
        ``na_rep``, ``sep``, ``quoting``, …).

    Notes
    -----
    Besides :func:`neutralise_frame`, a carriage return inside a text field is written
    as a line feed, so the field is quoted and cannot split its row (see the comment in
    the code). The xlsx files do the same (XML turns CR into LF), so both formats agree.
    Column names and index labels are written as they are after neutralising.
    """
    out = neutralise_frame(frame)
    # pandas quotes a field only if it holds a character of ``lineterminator``: a bare CR
    # ("\r") would go out unquoted and split the row, so that the text after it starts a
    # new field (which could be "=…"). As a line feed the field is quoted and stays whole.
    for j in range(out.shape[1]):
        col = out.iloc[:, j]
        if _any_text(col, _has_cr):
            out.isetitem(j, _map_text(col, _cr_to_lf))
    out.to_csv(path, index=index, lineterminator=lineterminator, float_format=float_format, encoding=encoding,
               **kwargs)


def safe_cell(ws: Worksheet, row: int, column: int, value: object = None) -> Cell:
    """Write ``value`` into a worksheet cell so that text is always stored as text.

    Use this for every value that may come from input data (names, codes, notes,
    headers). Behaves like ``ws.cell(row=row, column=column, value=value)``: returns the
    cell, and a None ``value`` leaves the cell as it is.

    Parameters
    ----------
    ws
        The worksheet.
    row, column
        1-based cell position.
    value
        The value; numbers, dates and bools are stored as openpyxl stores them.

    Returns
    -------
    openpyxl.cell.cell.Cell
        The cell. A string is a text cell (``data_type == "s"``) holding exactly the
        given characters; a string that begins with a formula character (or that
        openpyxl would have read as an error value such as ``#N/A``) also gets the
        ``quotePrefix`` style, so editing it in Excel keeps it text.
    """
    cell = ws.cell(row=row, column=column)
    if value is None:
        return cell
    cell.value = value
    if isinstance(value, str):
        # openpyxl stores "=…" as a formula and "#N/A" etc. as errors; force plain text
        reinterpreted = cell.data_type != "s"
        cell.data_type = "s"
        if reinterpreted or is_dangerous(value):
            cell.quotePrefix = True
    return cell


def formula_cell(ws: Worksheet, row: int, column: int, formula: str) -> Cell:
    """Write a formula the tool itself builds (never text from input data).

    Parameters
    ----------
    ws
        The worksheet.
    row, column
        1-based cell position.
    formula
        The formula, beginning with ``=``.

    Returns
    -------
    openpyxl.cell.cell.Cell
        The cell, with ``data_type == "f"``.

    Raises
    ------
    ValueError
        If ``formula`` does not begin with ``=`` (it would be stored as text).
    """
    if not formula.startswith("="):
        raise ValueError(f"not a formula: {formula!r}")
    return ws.cell(row=row, column=column, value=formula)
