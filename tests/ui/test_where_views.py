"""Where and who: the per-district table and chart, the commune × criterion matrix and the map, in both languages."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from playwright.sync_api import expect

from conftest import ROOT, shot
from ntm_sim.model.scenario import load_scenario

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui_workbench")]

CUT = load_scenario(ROOT / "scenarios" / "budget_cut_20.yaml").title


def test_where_views_show_the_chosen_run(clean_page, results_root, dashboard_url):
    page = clean_page
    page.get_by_label("Ưu tiên theo xã của kịch bản").select_option(CUT)
    folder = results_root / "budget_cut_20"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    communes = pd.read_csv(folder / "communes.csv", dtype={"commune_code": str})
    plan = pd.read_csv(folder / "plan.csv", dtype={"district_code": str})
    horizon = summary["years"][-1]
    # per district: communes NTM by the horizon and the plan's money in tỷ đồng, Vietnamese format
    page.get_by_text("Theo huyện", exact=True).click()  # a tab: drawn when opened
    table = page.locator("#district-table")
    table.scroll_into_view_if_needed()
    row = table.locator("tr", has_text="Huyện Văn Bàn")
    expect(row).to_be_visible(timeout=15_000)
    cells = row.locator("th, td").all_inner_texts()  # the district's name heads its row
    van_ban = communes[communes["district"] == "Huyện Văn Bàn"]
    heads = table.locator("thead th").all_inner_texts()
    counted = (van_ban["year_ntm"] <= horizon) & ~(van_ban["year_lost"] <= horizon)  # a revoked one stops counting
    assert cells[heads.index(f"Đạt chuẩn đến {horizon}")] == str(int(counted.sum()))
    money = plan.loc[plan["district_name"] == "Huyện Văn Bàn", "amount_mvnd"].sum() / 1000
    assert cells[heads.index("Vốn kế hoạch (tỷ đồng)")] == f"{money:,.1f}".replace(",", " ").replace(
        ".", ",").replace(" ", ".")
    unit = "đạt (mục tiêu của kế hoạch)" if "89" in summary["district_units"] else "chưa đạt (mục tiêu của kế hoạch)"
    assert cells[heads.index("Huyện đạt chuẩn NTM")] == unit
    column = heads.index(f"Đạt chuẩn đến {horizon}")
    totals = [int(r.locator("th, td").nth(column).inner_text()) for r in table.locator("tbody tr").all()]
    assert sum(totals) == summary["communes_ntm"]
    # the province's total under the districts: the same count, and the plan's money in full
    total = table.locator("tfoot tr").locator("th, td").all_inner_texts()
    assert total[0] == "Toàn tỉnh"
    assert total[column] == str(summary["communes_ntm"])
    assert total[heads.index("Số xã")] == str(len(communes))
    shot(page, "30_where_districts")
    # the matrix: a Bokeh canvas, criteria by name in the hover, one district at a time
    page.get_by_text("Tiêu chí từng xã", exact=True).click()
    matrix = page.locator(".criteria-matrix")
    matrix.scroll_into_view_if_needed()
    expect(matrix.locator("canvas").first).to_be_visible(timeout=15_000)
    page.get_by_label("Huyện (tiêu chí từng xã)", exact=True).select_option("Huyện Si Ma Cai")
    page.wait_for_timeout(1000)
    matrix.scroll_into_view_if_needed()
    shot(page, "31_where_matrix")
    # the map: canvas, and the commune without coordinates named under it
    page.get_by_text("Bản đồ các xã", exact=True).click()
    expect(page.locator(".commune-map canvas").first).to_be_visible(timeout=15_000)
    missing = page.locator("#map-missing")
    missing.scroll_into_view_if_needed()
    expect(missing).to_contain_text("Tà Chải")
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(500)
    shot(page, "32_where_map")
    page.get_by_text("Khả năng đạt chuẩn", exact=True).click()
    page.wait_for_timeout(800)
    shot(page, "33_where_map_chance")
    # English headings
    page.goto(dashboard_url + "?lang=en")
    page.wait_for_selector("#indicators", timeout=30_000)
    for tab in ("Priority table", "By district", "Each commune's criteria", "Map of the communes"):
        expect(page.get_by_text(tab, exact=True)).to_be_visible(timeout=15_000)
    page.get_by_text("By district", exact=True).click()
    expect(page.locator("#district-table th", has_text="Money of the plan (billion VND)")).to_be_visible()
