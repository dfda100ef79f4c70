"""The committee's report in a real browser: downloaded from the dashboard, opened offline."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from ntm_sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
BASE = load_scenario(ROOT / "scenarios" / "baseline.yaml").title
CUT = load_scenario(ROOT / "scenarios" / "budget_cut_20.yaml").title

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui")]


def test_report_downloads_and_opens_without_a_network(browser, dashboard_url, results_root, tmp_path):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(dashboard_url)
    page.wait_for_selector("#indicators", timeout=30_000)
    page.get_by_label(CUT, exact=True).uncheck()  # scenarios are shown by title
    page.wait_for_timeout(1000)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_text("Tải báo cáo cho Ban Chỉ đạo").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "bao_cao_so_sanh_kich_ban.html"
    text = path.read_text(encoding="utf-8")
    assert f'<th scope="col">(1) {html.escape(BASE)}</th>' in text
    assert html.escape(CUT) not in text  # only the ticked scenarios
    # the server has Panel loaded: its extensions' files must not be asked for beside the report
    assert "static/extensions" not in text
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.IGNORECASE)
    # open it from disk with every request to a network refused: it must still draw its charts
    offline = browser.new_context(offline=True)
    report = offline.new_page()
    requests: list[str] = []
    errors: list[str] = []
    report.on("request", lambda r: requests.append(r.url))
    report.on("pageerror", lambda e: errors.append(str(e)))
    report.goto(path.as_uri())
    report.wait_for_selector("canvas", state="attached", timeout=15_000)
    assert report.locator("canvas").count() >= 2
    assert [u for u in requests if not u.startswith("file:")] == []
    assert [u for u in requests if u != path.as_uri()] == []  # nothing beside it either (a missing file is silent)
    assert errors == []
    assert "MINH HỌA" in report.locator("#demo-banner").inner_text()
    offline.close()
    context.close()
