"""A run from the page: in the background, with its stage and time, stoppable, one per name."""

from __future__ import annotations

import re
import time

import psutil
import pytest
from playwright.sync_api import expect

from conftest import ROOT, shot
from ntm_sim.model.scenario import load_scenario

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui_workbench")]

NAME_FIELD = "Tên kết quả (có dấu được)"
BASE = load_scenario(ROOT / "scenarios" / "baseline.yaml").title


def _jobs(server_pid: int) -> list[psutil.Process]:
    """The run processes the dashboard server started (``python -m ntm_sim.run.jobs``)."""
    found = []
    for child in psutil.Process(server_pid).children(recursive=True):
        try:
            if "ntm_sim.run.jobs" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _ask(page, name: str) -> None:
    page.get_by_label("Kịch bản gốc", exact=True).select_option(label=BASE)
    page.get_by_label(NAME_FIELD).fill(name)
    # the optimum on paper ("Nhanh": one process, not the search's three) simulated on many draws: still
    # running when the test stops it, however fast the machine
    page.get_by_label("Số lần thử mô phỏng").fill("100000")
    page.locator("input[type=checkbox]").last.check()  # "Nhanh: …", the last box on the page


def test_a_run_shows_its_stage_stays_responsive_and_stops(clean_page, dashboard_server, results_root, browser):
    page, (url, server) = clean_page, dashboard_server
    shot(page, "01_top")
    name = "dung_giua_chung"
    _ask(page, name)
    page.get_by_role("button", name="Giải và mô phỏng").dblclick()  # a double click: one run
    status = page.locator("#run-status")
    expect(status).to_contain_text(f"Đang chạy {name}", timeout=15_000)
    expect(status).to_have_attribute("data-stage", re.compile("solve|simulate"), timeout=60_000)
    first = status.locator(".elapsed").inner_text()
    assert re.fullmatch(r"đã chạy \d+ giây", first), first
    expect(status.locator(".elapsed")).not_to_have_text(first, timeout=5_000)  # the clock moves
    assert len(_jobs(server)) == 1
    expect(page.get_by_role("button", name="Giải và mô phỏng")).to_be_disabled()
    # the page answers while it runs: a column goes and comes back
    head = page.locator("#indicators thead th")
    count = head.count()
    box = page.locator("input[type=checkbox]").first
    label = box.locator("xpath=..").inner_text().strip()  # the run's title beside its box
    expect(head.filter(has_text=re.compile(rf"^\(\d+\) {re.escape(label)}$"))).to_have_count(1, timeout=15_000)
    box.uncheck()
    # its column goes (with the only run unticked, the whole table: the results this test finds vary)
    expect(page.locator("#indicators thead th", has_text=label)).to_have_count(0, timeout=15_000)
    assert head.count() in (0, count - 1)
    box.check()
    expect(head).to_have_count(count, timeout=15_000)
    page.get_by_role("button", name="Dừng lượt chạy").scroll_into_view_if_needed()  # the status is redrawn
    shot(page, "02_run_in_progress")
    # another session asking for the same name is refused at once
    other = browser.new_page()
    other.goto(url)
    other.wait_for_selector("#indicators", timeout=30_000)
    _ask(other, name)
    other.get_by_role("button", name="Giải và mô phỏng").click()
    expect(other.locator("#run-status")).to_contain_text("đang được giải trong một phiên khác", timeout=15_000)
    other.close()
    assert len(_jobs(server)) == 1
    # stopped: nothing written, nothing left running, the button back
    page.get_by_role("button", name="Dừng lượt chạy").click()
    expect(status).to_contain_text(f"Đã dừng lượt chạy {name}", timeout=20_000)
    assert "không ghi kết quả nào" in status.inner_text()
    deadline = time.monotonic() + 10
    while _jobs(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _jobs(server) == []
    assert not (results_root / name).exists()
    expect(page.get_by_role("button", name="Giải và mô phỏng")).to_be_enabled()
    expect(page.get_by_role("button", name="Dừng lượt chạy")).to_be_hidden()
    shot(page, "03_run_stopped")
