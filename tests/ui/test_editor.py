"""Edit a scenario on the page (a target, a lock, a source's money), check it, save it, run it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import yaml
from playwright.sync_api import expect

from conftest import ROOT, shot
from ntm_sim.model.scenario import load_scenario

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui_workbench")]

BASE = load_scenario(ROOT / "scenarios" / "baseline.yaml").title
LOCKED = "Y Tý – Huyện Bát Xát"
NAME = "Mục tiêu 90 – khoá Y Tý"


def test_a_scenario_is_edited_checked_saved_and_run(clean_page, results_root, tmp_path):
    page = clean_page
    page.get_by_label("Kịch bản gốc", exact=True).select_option(label=BASE)
    page.get_by_text("Sửa kịch bản: mục tiêu, khoá xã, vốn theo nguồn").click()
    commune = page.get_by_label("Khoá một xã")
    expect(commune.locator("option", has_text=LOCKED)).to_have_count(1, timeout=30_000)  # the data's communes
    target = page.get_by_label("Mục tiêu số xã đạt chuẩn NTM cuối kỳ")
    expect(target).to_have_value("94")  # the base scenario's own target
    target.fill("90")
    commune.select_option(LOCKED)
    page.get_by_label("Cách khoá").select_option("không cấp vốn")
    page.get_by_label("Nguồn vốn").select_option("Ngân sách tỉnh")
    page.get_by_label("Vốn của nguồn này (%)").fill("50")
    page.get_by_label("Vốn của nguồn này (%)").press("Tab")
    page.get_by_label("Tên kết quả (có dấu được)").fill(NAME)
    page.get_by_role("button", name="Kiểm tra kịch bản").click()
    expect(page.locator("#edit-status")).to_contain_text("Kịch bản hợp lệ", timeout=15_000)
    page.get_by_text("Kiểm tra kịch bản").scroll_into_view_if_needed()
    shot(page, "30_scenario_editor")
    with page.expect_download(timeout=30_000) as info:
        page.get_by_text("Tải kịch bản (YAML)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "Muc_tieu_90_khoa_Y_Ty.yaml"
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert saved["title"] == NAME
    assert saved["targets"]["communes_ntm"] == 90
    assert saved["locks"][-1]["action"] == "forbid"
    code = saved["locks"][-1]["commune"]
    assert saved["budget"]["source_scale"] == {"ns_tinh": 0.5}
    # and run: the optimum on paper, simulated, so the test stays short
    page.get_by_label("Số lần thử mô phỏng").fill("100")
    page.get_by_label("Thời gian giải tối đa (giây)").fill("120")
    page.locator("input[type=checkbox]").last.check()  # "Nhanh: …", the last box on the page
    page.get_by_role("button", name="Giải và mô phỏng").click()
    expect(page.locator("#run-status")).to_contain_text("Đang chạy", timeout=15_000)
    expect(page.locator("#run-status")).to_contain_text("Xong", timeout=300_000)
    folder = results_root / "Muc_tieu_90_khoa_Y_Ty"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["title"] == NAME
    assert summary["targets"]["communes_ntm"]["target"] == 90
    plan = pd.read_csv(folder / "plan.csv", dtype={"commune_code": str})
    assert not (plan["commune_code"] == code).any()  # the locked commune gets no money
    head = page.locator("#indicators thead th")
    expect(head.last).to_have_text(re.compile(rf"^\(\d+\) {re.escape(NAME)}$"), timeout=15_000)  # without a reload
    expect(page.get_by_label(NAME, exact=True)).to_be_checked()
    median = summary["headline"]["outcomes"]["communes_ntm"]["median"]
    cell = page.locator('#indicators tr[data-indicator="communes_ntm"] td').last.inner_text()
    assert cell.split("\n")[0].removeprefix("✓ ").removeprefix("✗ ") == str(int(median))
