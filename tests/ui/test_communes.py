"""The commune table: sorts, filters by district, searches, downloads as Excel; criteria by name; tỷ đồng."""

from __future__ import annotations

import json
import re
import time

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import expect

from conftest import ROOT, shot
from ntm_sim.data.criteria import load_criteria_set
from ntm_sim.model.scenario import load_scenario

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui_workbench")]

CUT = load_scenario(ROOT / "scenarios" / "budget_cut_20.yaml").title
COMMUNE, DISTRICT, MONEY = "Xã", "Huyện", "Vốn cần (tỷ đồng)"
MISSING, YEAR, REASON = "Tiêu chí còn thiếu cuối kỳ", "Năm đạt chuẩn", "Lý do"


def _column(page, title: str) -> list[str]:
    """The cells of one column on the page shown, by its heading."""
    heads = page.locator(".commune-table .tabulator-col-title").all_inner_texts()
    i = heads.index(title)
    return [row.locator(".tabulator-cell").nth(i).inner_text()
            for row in page.locator(".commune-table .tabulator-row").all()]


def _settled(page, title: str, check, timeout: float = 15.0) -> list[str]:
    """The column once ``check(cells)`` holds (the table redraws after a filter reaches the server)."""
    deadline = time.monotonic() + timeout
    while True:
        cells = _column(page, title)
        if check(cells) or time.monotonic() > deadline:
            return cells
        page.wait_for_timeout(200)


def _amount(text: str) -> float:
    """``1.234,5`` as a number."""
    return float(text.replace(".", "").replace(",", "."))


def _rows(page) -> int:
    return page.locator(".commune-table .tabulator-row").count()


def test_the_commune_table_sorts_filters_searches_and_downloads(clean_page, results_root, tmp_path):
    page = clean_page
    page.get_by_label("Ưu tiên theo xã của kịch bản").select_option(CUT)
    cut = pd.read_csv(results_root / "budget_cut_20" / "communes.csv", dtype={"commune_code": str})
    title = json.loads((results_root / "budget_cut_20" / "summary.json").read_text(encoding="utf-8"))["title"]
    assert title == CUT
    start = int(json.loads((results_root / "budget_cut_20" / "summary.json").read_text(encoding="utf-8"))["years"][0])
    # something to plan for: not counted at the start, or recognised but short of criteria (keeping the standard)
    planned = cut[cut["year_ntm"].isna() | (cut["year_ntm"] >= start) | (cut["cost_to_complete_mvnd"] > 0)]
    table = page.locator(".commune-table")
    table.scroll_into_view_if_needed()
    expect(table.locator(".tabulator-row").first).to_be_visible(timeout=15_000)
    heads = table.locator(".tabulator-col-title").all_inner_texts()
    assert {COMMUNE, DISTRICT, MONEY, YEAR, MISSING, REASON} <= set(heads)
    assert _rows(page) == 10  # one page of 10; the others a click away
    # money in tỷ đồng, Vietnamese decimal comma: the first commune by rank
    first = planned.sort_values("rank").iloc[0]
    # the chosen run's table (redrawn when the choice reaches the server)
    assert _settled(page, COMMUNE, lambda cells: cells[:1] == [first["commune_name"]])[0] == first["commune_name"]
    assert _column(page, MONEY)[0] == f"{first['cost_to_complete_mvnd'] / 1000:.1f}".replace(".", ",")
    shot(page, "20_commune_table")
    # sorted by money on a click of its heading
    table.locator(".tabulator-col-title", has_text=MONEY).click()
    money = [_amount(m) for m in _settled(page, MONEY, lambda cells: [_amount(m) for m in cells] == sorted(
        _amount(m) for m in cells))]
    assert money == sorted(money)
    assert money[0] < _amount(f"{planned['cost_to_complete_mvnd'].max() / 1000:.1f}".replace(".", ","))
    # one district
    district = "Huyện Bát Xát"
    page.get_by_label(DISTRICT, exact=True).select_option(district)
    expect(table.locator(".tabulator-row")).to_have_count(min(10, (planned["district"] == district).sum()),
                                                         timeout=15_000)
    assert set(_settled(page, DISTRICT, lambda cells: set(cells) == {district})) == {district}
    # search without diacritics: the commune a 20% cut leaves short, with what it lacks by name
    short = planned[planned["year_ntm"].isna() & (planned["district"] == district)].sort_values("rank").iloc[0]
    page.get_by_label("Tìm xã").fill(short["commune_name"].lower().replace("ý", "y").replace("á", "a"))
    page.get_by_label("Tìm xã").press("Enter")
    expect(table.locator(".tabulator-row")).to_have_count(1, timeout=15_000)
    assert _column(page, YEAR) == ["chưa đạt"]
    names = {c.id: c.name_vi for c in load_criteria_set().criteria}
    code = re.split(r"[;,\s]+", str(short["missing_criteria"]).strip())[0]
    assert f"{names[code]} ({code})" in _column(page, MISSING)[0]
    # a name no commune has: the table says so in words, not an empty grid
    page.get_by_label("Tìm xã").fill("khong co xa nay")
    page.get_by_label("Tìm xã").press("Enter")
    expect(table.locator(".tabulator-row")).to_have_count(0, timeout=15_000)
    expect(table.get_by_text("Không có xã nào khớp với huyện và tên đã chọn.")).to_be_visible()
    # the rows shown, as Excel
    page.get_by_label("Tìm xã").fill("")
    page.get_by_label("Tìm xã").press("Enter")
    expect(table.locator(".tabulator-row")).to_have_count(min(10, (planned["district"] == district).sum()),
                                                         timeout=15_000)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_text("Tải bảng (Excel)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "uu_tien_theo_xa.xlsx"
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert COMMUNE in rows[0]
    assert len(rows) - 1 == (planned["district"] == district).sum()  # every row of the filter, not one page
    district_col = rows[0].index(DISTRICT)
    assert {r[district_col] for r in rows[1:]} == {district}
    money_col = rows[0].index(MONEY)
    assert all(isinstance(r[money_col], float | int) for r in rows[1:])  # numbers, not text
    # the chosen run's plan in the planners' layout, byte for byte the file `ntm-sim solve` wrote
    with page.expect_download(timeout=30_000) as info:
        page.get_by_text("Tải kế hoạch (Excel)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "ke_hoach_budget_cut_20.xlsx"
    assert path.read_bytes() == (results_root / "budget_cut_20" / "plan.xlsx").read_bytes()
    # the blank input workbook, beside the upload: what a planner fills in for a run on their own data
    page.get_by_text("Tải mẫu nhập liệu (Excel)").scroll_into_view_if_needed()
    with page.expect_download(timeout=30_000) as info:
        page.get_by_text("Tải mẫu nhập liệu (Excel)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "mau_nhap_lieu_ntm.xlsx"
    book = openpyxl.load_workbook(path, read_only=True)
    assert "Kết quả tiêu chí" in book.sheetnames
    status = book["Kết quả tiêu chí"]
    names = {str(c.value) for row in status.iter_rows(max_col=4) for c in row if c.value}
    assert "Đồng Tuyển" in names  # Lào Cai's communes pre-filled
    book.close()


def test_a_column_heading_sorts_by_keyboard(clean_page):
    """Enter on a focused heading sorts as a click does; every sortable heading is a tab stop with a ring."""
    page = clean_page
    page.get_by_label("Ưu tiên theo xã của kịch bản").select_option(CUT)
    table = page.locator(".commune-table")
    table.scroll_into_view_if_needed()
    expect(table.locator(".tabulator-row").first).to_be_visible(timeout=15_000)
    heading = table.locator(".tabulator-col.tabulator-sortable", has_text=MONEY)
    expect(heading).to_have_attribute("tabindex", "0")
    heading.focus()
    assert page.evaluate("() => { let e = document.activeElement; while (e && e.shadowRoot && "
                         "e.shadowRoot.activeElement) e = e.shadowRoot.activeElement; "
                         "return getComputedStyle(e).outlineStyle; }") == "solid"
    page.keyboard.press("Enter")
    expect(heading).to_have_attribute("aria-sort", "ascending", timeout=15_000)
    money = [_amount(m) for m in _settled(page, MONEY, lambda cells: [_amount(m) for m in cells] == sorted(
        _amount(m) for m in cells))]
    assert money == sorted(money)
    page.keyboard.press(" ")  # Space too, the other way
    expect(heading).to_have_attribute("aria-sort", "descending", timeout=15_000)
