"""The trade-offs view: a cached budget curve shows at once, with the marginal money and the ticked runs."""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT, open_page, shot
from ntm_sim.analysis.frontier import DEFAULT_SCALES
from ntm_sim.data.synthetic import national_dataset
from ntm_sim.model.scenario import Scenario, load_scenario
from ntm_sim.run.frontier_cache import cache_folder, frontier_cached, run_inputs
from ntm_sim.run.runs import load_run
from ntm_sim.text import format_number_vi

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui_workbench")]

SMALL = {"reserves": [0.0], "expected_money": False, "weight_draws": 100, "train_draws": 100, "test_draws": 150}


def test_cached_curve_shows_with_its_steps(browser, site, results_root, tmp_path):
    # a curve of a generated small province, stored under the key of the page's run (real key, real reading)
    province = national_dataset(n_provinces=1, n_communes=40, seed=5)
    small = Scenario.model_validate({"name": "small", "years": (2021, 2025),
                                     "targets": {"communes_ntm": int(province.is_ntm.sum()) + 2}, "robustness": SMALL})
    curve, _ = frontier_cached(tmp_path, province, small, DEFAULT_SCALES[:3], seed=0)
    scenario, ds = run_inputs(load_run(results_root / "budget_cut_20"))
    target = cache_folder(results_root, ds, scenario, DEFAULT_SCALES, 0)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(cache_folder(tmp_path, province, small, DEFAULT_SCALES[:3], 0), target)

    page = open_page(browser, site.url)
    # the run whose curve is stored (other tests of the group may have added runs before it)
    title = load_scenario(ROOT / "scenarios" / "budget_cut_20.yaml").title
    page.get_by_label("Kịch bản của đường cong").select_option(label=title)
    page.wait_for_selector("#frontier-steps", timeout=30_000)
    rows = page.locator("#frontier-steps tbody tr")
    assert rows.count() == len(curve.table) - 1
    assert ".frontier" in page.locator("#frontier-status").inner_text()  # read from the cache, not computed
    first = rows.nth(0).locator("td").nth(1).inner_text()
    assert first == format_number_vi(curve.table["budget_mvnd"].iloc[1] / 1000)  # tỷ đồng, Vietnamese format
    page.locator("#frontier-steps").scroll_into_view_if_needed()
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(500)
    shot(page, "frontier_view")
    page.context.close()
    assert page.watched.unexpected() == [], page.watched.errors
