"""Text from a planner's data never becomes a live formula in the files the tool writes.

Payloads (OWASP CSV injection) are put into commune, district and source names and the
title of the bundled dataset; the workbook export, the template and the folder export
are then checked cell by cell and field by field.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

import ntm_sim.data.io.cells as cells
import ntm_sim.data.io.excel_write as excel_write
from ntm_sim.data.dataset import Dataset
from ntm_sim.data.io.cells import (
    DANGEROUS_PREFIXES,
    formula_cell,
    is_dangerous,
    neutralise,
    neutralise_frame,
    safe_cell,
    write_csv,
)
from ntm_sim.data.io.excel_write import write_template, write_workbook
from ntm_sim.data.io.folder import write_folder
from ntm_sim.data.registry import load_dataset

# one worker: the module's costly fixture is built once, not once per worker
pytestmark = pytest.mark.xdist_group("safe_outputs")

PAYLOADS = (
    '=HYPERLINK("http://x","y")',
    "=1+1+cmd|' /C calc'!A0",
    "+SUM(A1)",
    "-2+3",
    "@SUM(A1)",
    "\tTab xã",
    "\rCR xã",
)
TITLE = '=HYPERLINK("http://evil","Tỉnh")'
DISTRICT = "=1+1+cmd|' /C calc'!A0 huyện"
PLAIN = "Xã Bình Yên Mới"  # a modified name that starts with a letter
# the only formulas the tool writes: row totals and district subtotals of the wide sheets
OWN_FORMULA = re.compile(r'=(SUM|COUNTIF)\([A-Z]+\d+:[A-Z]+\d+(,"Đạt")?\)')


def _lf(text: str) -> str:
    # a carriage return reaches the files as a line feed: XML turns it into one (openpyxl
    # writes it unescaped), and write_csv does so on purpose so that the field is quoted
    return text.replace("\r", "\n")


@pytest.fixture(scope="module")
def payload_ds() -> Dataset:
    ds = load_dataset("lao_cai")
    communes, districts, sources = ds.communes.copy(), ds.districts.copy(), ds.sources.copy()
    codes = list(communes.index)
    for code, text in zip(codes, PAYLOADS, strict=False):
        communes.loc[code, "commune_name"] = text
    communes.loc[codes[len(PAYLOADS)], "commune_name"] = PLAIN
    d_code = districts.index[1]
    districts.loc[d_code, "district_name"] = DISTRICT
    communes.loc[communes["district_code"] == d_code, "district_name"] = DISTRICT
    for sid, text in zip(sources.index, PAYLOADS, strict=False):
        sources.loc[sid, "name_vi"] = text
        sources.loc[sid, "name_en"] = text
    meta = dataclasses.replace(ds.meta, title=TITLE)
    return dataclasses.replace(ds, meta=meta, communes=communes, districts=districts, sources=sources,
                               _cache={})


@pytest.fixture(scope="module")
def exports(payload_ds, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("safe")
    write_workbook(payload_ds, out / "dataset.xlsx")
    write_template(out / "template.xlsx")
    write_folder(payload_ds, out / "folder")
    return {"workbook": out / "dataset.xlsx", "template": out / "template.xlsx", "folder": out / "folder"}


# ----- checkers (return the offending cells, so a test can also show they do find some) ---------

def formula_offences(path: Path) -> list[str]:
    """Cells of an xlsx that are formulas the tool did not write on purpose."""
    wb = openpyxl.load_workbook(path)  # not data_only: formulas stay formulas
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" and not OWN_FORMULA.fullmatch(str(c.value)):
                    bad.append(f"{ws.title}!{c.coordinate}: {c.value!r}")
                elif c.data_type == "e":
                    bad.append(f"{ws.title}!{c.coordinate}: error value {c.value!r}")
    return bad


def text_cells(path: Path) -> dict[str, list[openpyxl.cell.cell.Cell]]:
    wb = openpyxl.load_workbook(path)
    found: dict[str, list] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    found.setdefault(c.value, []).append(c)
    return found


def csv_offences(path: Path) -> list[str]:
    """Fields of a CSV file that a spreadsheet program could run as a formula."""
    bad = []
    with path.open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f), start=1):
            for field in row:
                if field.startswith(("=", "+", "@", "\t", "\r")):
                    bad.append(f"{path.name}:{i}: {field!r}")
                elif field.startswith("-"):
                    try:  # a negative number is fine; anything else is not
                        float(field)
                    except ValueError:
                        bad.append(f"{path.name}:{i}: {field!r}")
    return bad


def csv_fields(folder: Path) -> set[str]:
    fields: set[str] = set()
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.reader(f):
                fields.update(row)
    return fields


# ----- the rule ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", PAYLOADS)
def test_neutralise_prefixes_payloads(text):
    assert neutralise(text) == "'" + text
    assert not is_dangerous(neutralise(text))


@pytest.mark.parametrize("value", [-2, -2.5, np.float64(-1.0), np.int64(-3), True, False, None, math.nan,
                                   np.nan, pd.NA, "Xã Bản Phiệt", "", "'=x", " =x", "2911"])
def test_neutralise_leaves_safe_values_alone(value):
    assert neutralise(value) is value


dangerous_text = st.tuples(st.sampled_from(DANGEROUS_PREFIXES), st.text()).map("".join)
any_text = st.one_of(st.text(), dangerous_text)
non_text = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
                     st.integers(-10**6, 10**6).map(np.int64), st.floats(width=32).map(np.float32))


@given(any_text)
def test_neutralise_output_is_never_dangerous_and_is_idempotent(text):
    out = neutralise(text)
    assert not out.startswith(DANGEROUS_PREFIXES)
    assert out == ("'" + text if text.startswith(DANGEROUS_PREFIXES) else text)
    assert neutralise(out) == out  # a second pass changes nothing


@given(non_text)
def test_neutralise_returns_non_strings_unchanged(value):
    assert neutralise(value) is value


def test_neutralise_frame_touches_only_text():
    frame = pd.DataFrame({"name": ["=x", "Xã A", None], "cost": [-1.5, 2.0, np.nan],
                          "n": [-1, 0, 1], "mixed": ["-2+3", -4, np.nan], "=col": ["@a", "b", "c"]})
    before = frame.copy()
    out = neutralise_frame(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    assert list(out.columns) == ["name", "cost", "n", "mixed", "'=col"]
    assert out["name"].tolist()[:2] == ["'=x", "Xã A"]
    assert pd.isna(out["name"].iloc[2])
    assert out["mixed"].tolist()[:2] == ["'-2+3", -4]
    assert out["'=col"].tolist() == ["'@a", "b", "c"]
    assert out.dtypes.tolist() == frame.dtypes.tolist()
    pd.testing.assert_series_equal(out["cost"], frame["cost"])
    pd.testing.assert_series_equal(out["n"], frame["n"])
    cat = neutralise_frame(pd.DataFrame({"c": pd.Categorical(["=x", "a", "=x"])}))
    assert cat["c"].tolist() == ["'=x", "a", "'=x"]


def test_write_csv_keeps_negative_numbers_and_conventions(tmp_path):
    names = [*PAYLOADS, "Xã A\r=1+1", "Xã B\r\n@x"]  # an inner CR must not split the row
    frame = pd.DataFrame({"name": names, "x": np.arange(len(names)) * -1.25})
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    raw = path.read_bytes()
    assert b"\r" not in raw  # "\n" line ends
    assert csv_offences(path) == []
    back = pd.read_csv(path, keep_default_na=False)
    assert back["name"].tolist() == [_lf(neutralise(n)).replace("\n\n", "\n") for n in names]
    assert back["x"].tolist() == frame["x"].tolist()  # still numbers, -1.25 etc.


# ----- xlsx cells -----------------------------------------------------------------------------

def test_safe_cell_stores_text_as_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    values = [*PAYLOADS, "#N/A", "Xã A", -5, 1.5]
    for i, v in enumerate(values, start=1):
        safe_cell(ws, i, 1, v)
    formula_cell(ws, 1, 2, "=SUM(A1:A3)")
    wb.save(tmp_path / "t.xlsx")
    back = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    for i, v in enumerate(values, start=1):
        c = back.cell(row=i, column=1)
        if isinstance(v, str):
            assert (c.data_type, c.value) == ("s", _lf(v))
            assert c.quotePrefix == (is_dangerous(v) or v == "#N/A")
        else:
            assert (c.data_type, c.value) == ("n", v)
    assert back.cell(row=1, column=2).data_type == "f"  # a formula written on purpose stays one
    with pytest.raises(ValueError, match="not a formula"):
        formula_cell(ws, 1, 3, "SUM(A1)")


# ----- the exports ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["workbook", "template"])
def test_xlsx_exports_hold_no_injected_formulas(exports, name):
    assert formula_offences(exports[name]) == []


def test_workbook_keeps_payloads_as_exact_text(exports):
    found = text_cells(exports["workbook"])
    for text in (*PAYLOADS, TITLE, DISTRICT):
        assert _lf(text) in found, text
        for c in found[_lf(text)]:
            assert c.data_type == "s"
            assert c.quotePrefix  # stays text when edited in Excel
    assert PLAIN in found
    # the tool's own totals are still formulas
    wb = openpyxl.load_workbook(exports["workbook"])
    assert any(c.data_type == "f" for row in wb["Kết quả tiêu chí"].iter_rows() for c in row)


def test_folder_csvs_hold_no_formula_fields(exports):
    paths = sorted(exports["folder"].glob("*.csv"))
    assert len(paths) == 5
    assert [o for p in paths for o in csv_offences(p)] == []
    fields = csv_fields(exports["folder"])
    for text in (*PAYLOADS, DISTRICT):
        assert _lf("'" + text) in fields, text
    assert PLAIN in fields


def test_exports_load_back(payload_ds, exports):
    folder = load_dataset(exports["folder"])
    # units=None: the Lào Cai reference list would (rightly) reject renamed communes
    book = load_dataset(exports["workbook"], units=None)
    codes = list(payload_ds.communes.index)
    plain = codes[len(PAYLOADS)]
    for back in (folder, book):
        assert list(back.communes.index) == codes
        assert back.communes.loc[plain, "commune_name"] == PLAIN
        untouched = codes[len(PAYLOADS) + 1]
        assert back.communes.loc[untouched, "commune_name"] == payload_ds.communes.loc[untouched, "commune_name"]
        pd.testing.assert_frame_equal(back.status, payload_ds.status)
    # xlsx keeps the text exactly (the reader strips surrounding whitespace, as for any name)
    for code, text in zip(codes, PAYLOADS, strict=False):
        assert book.communes.loc[code, "commune_name"] == text.strip()
    # the CSV keeps the OWASP apostrophe (a file safe in every spreadsheet program), and the reader
    # takes it off again: the names read back are the names written (issue 22, #13)
    for code, text in zip(codes, PAYLOADS, strict=False):
        assert folder.communes.loc[code, "commune_name"] == text.strip()


# ----- the checks can fail ----------------------------------------------------------------------

def _raw_cell(ws, row, column, value=None):
    return ws.cell(row=row, column=column, value=value)


def test_checks_catch_a_bypassed_helper(payload_ds, tmp_path, monkeypatch):
    monkeypatch.setattr(excel_write, "safe_cell", _raw_cell)
    monkeypatch.setattr(cells, "neutralise_frame", lambda frame: frame)
    write_workbook(payload_ds, tmp_path / "raw.xlsx")
    write_folder(payload_ds, tmp_path / "raw")
    bad = formula_offences(tmp_path / "raw.xlsx")
    assert any("HYPERLINK" in b for b in bad)
    assert any("cmd|" in b for b in bad)
    bad = [o for p in (tmp_path / "raw").glob("*.csv") for o in csv_offences(p)]
    # all but the CR payload, which write_csv turns into a harmless leading line feed anyway
    assert {b.split(": ", 1)[1] for b in bad} >= {repr(p) for p in PAYLOADS if not p.startswith("\r")}
