"""The verdict box (issue 19, item 1): each scenario's answer, checked against its results files.

The facts of :func:`ntm_sim.present.verdict.verdict_of` and the sentences of
:func:`~ntm_sim.present.verdict.verdict_lines` are read back against ``summary.json`` (the headline, the
scenario's own targets, the obstacles written at solve time) and ``simulation/summary.json``
(the recommended plan's chances), for the 2021–2025 plan and for the 2026–2030 scenario.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from ntm_sim.analysis.compare import own_targets
from ntm_sim.analysis.frontier import Frontier
from ntm_sim.messages import Catalogue
from ntm_sim.present.verdict import NAMED_TARGETS, plan_words, verdict_html, verdict_lines, verdict_of
from ntm_sim.run.runs import load_run
from suite_settings import ROOT, for_dashboard, shared

VI, EN = Catalogue("vi"), Catalogue("en")
# letters only Vietnamese has: an English sentence with one of them was left untranslated
VIETNAMESE_ONLY = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


@pytest.fixture(scope="session")
def run_2026(tmp_path_factory) -> Path:
    """The 2026–2030 scenario (the browser tests' smaller search, its optimum on paper) solved and simulated."""
    from ntm_sim.data.registry import load_dataset
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.run.workflow import solve_and_simulate, write_run

    def build(root: Path) -> None:
        sc = for_dashboard(load_scenario(ROOT / "scenarios" / "lao_cai_2026_2030.yaml"))
        write_run(solve_and_simulate(load_dataset(sc.data), sc, draws=200, seed=3, deterministic=True),
                  root / "lao_cai_2026_2030")

    return shared(tmp_path_factory, "verdict_2026", build) / "lao_cai_2026_2030"


@pytest.fixture(params=["baseline", "lao_cai_2026_2030"])
def folder(request, compare_root, run_2026) -> Path:
    return compare_root / "baseline" if request.param == "baseline" else run_2026


def _files(folder: Path) -> tuple[dict, dict]:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    sim = json.loads((folder / "simulation" / "summary.json").read_text(encoding="utf-8"))
    return summary, sim


def test_the_verdict_states_the_files_figures(folder):
    run = load_run(folder)
    summary, sim = _files(folder)
    v = verdict_of(run)
    head = summary["headline"]
    communes = head["outcomes"]["communes_ntm"]
    assert (v.median, v.low, v.high) == (communes["median"], communes["p5"], communes["p95"])
    assert v.paper == summary["communes_ntm"]
    assert v.confidence == head["confidence"]
    # each named target against the scenario's own target, with the recommended plan's simulated chance
    chances = sim["plans"]["recommended"]["target_probabilities"]
    own = own_targets(run)
    named = [k for k in NAMED_TARGETS if k in own]
    assert [c.key for c in v.targets] == named
    for c in v.targets:
        assert c.target == own[c.key] == summary["targets"][c.key]["target"]
        assert c.probability == pytest.approx(chances[c.key])
        assert c.met == (chances[c.key] >= head["confidence"])
        assert c.obstacle == summary["obstacles"]["main"][c.key]
    # the main obstacle is the one in the file: the group whose switch-off helps the communes target most
    obstacles = summary["obstacles"]
    assert v.obstacle == obstacles["main"]["communes_ntm"]
    assert v.short_on_paper == (obstacles["none"]["median"] < own["communes_ntm"])


def test_the_sentences_carry_the_figures(folder):
    run = load_run(folder)
    summary, sim = _files(folder)
    lines = verdict_lines(run)
    communes = summary["headline"]["outcomes"]["communes_ntm"]
    assert lines[0] == f"Phương án khuyến nghị: {plan_words(run, VI)}"
    assert (f"trung vị {VI.number(communes['median'])} xã (5–95%: {VI.number(communes['p5'])}–"
            f"{VI.number(communes['p95'])})") in lines[1]
    target = own_targets(run)["communes_ntm"]
    p = sim["plans"]["recommended"]["target_probabilities"]["communes_ntm"]
    line = next(x for x in lines if f"Xã đạt chuẩn NTM ≥ {VI.number(target)}:" in x)
    assert f"khả năng {VI.number(100 * p)}%" in line
    assert line.startswith("✓" if p >= summary["headline"]["confidence"] else "✗")  # a shape, not colour alone
    main = summary["obstacles"]["main"]["communes_ntm"]
    if p < summary["headline"]["confidence"] and main:
        # why the target is missed: the group named in the reader's words, and the chance without it
        group = VI(f"group.{main}")
        assert any(group in x for x in lines[2:]), lines
        without = summary["obstacles"]["without"][main]["targets"]["communes_ntm"]
        assert any(f"{VI.number(100 * without)}%" in x for x in lines[2:]), lines
    # without a stored budget curve, the money is said to be not computed yet (no invented figure)
    assert any("chưa tính" in x for x in lines)


def test_the_verdict_in_english_has_no_vietnamese_word(folder):
    lines = verdict_lines(load_run(folder), EN)
    assert lines[0].startswith("Recommended plan: ")
    for line in lines:
        assert not VIETNAMESE_ONLY.search(line), line
        assert line[0].isupper() or line[0] in "✓✗", line


def test_a_run_on_paper_only_says_its_chance_is_unknown(compare_root):
    run = load_run(compare_root / "budget_cut_20")
    lines = verdict_lines(run)
    summary = json.loads((compare_root / "budget_cut_20" / "summary.json").read_text(encoding="utf-8"))
    assert lines[1] == (f"Chưa mô phỏng: trên giấy {VI.number(summary['communes_ntm'])} xã đạt chuẩn đến "
                        f"{run.horizon}; chưa biết khả năng đạt mục tiêu.")
    assert len(lines) == 2


def _curve(run, levels: list[tuple[float, float]], least: float | None) -> Frontier:
    table = pd.DataFrame({"scale": [1.0] * len(levels), "budget_mvnd": [b for b, _ in levels],
                          "p_target": [p for _, p in levels]})
    return Frontier(scenario=run.name, target=int(own_targets(run)["communes_ntm"]), confidence=0.8, table=table,
                    least_budget_mvnd=least, blockers={}, seed=0, draws=200)


def test_the_money_comes_from_the_budget_curve(compare_root):
    run = load_run(compare_root / "baseline")
    reached = verdict_lines(run, VI, _curve(run, [(9_000_000, 0.5), (12_345_678, 0.85)], 12_345_678))
    assert any("khoảng 12.346 tỷ đồng" in x for x in reached), reached
    never = verdict_lines(run, VI, _curve(run, [(9_000_000, 0.1), (18_000_000, 0.31)], None))
    assert any("Không mức vốn nào đến 18.000 tỷ đồng" in x and "31%" in x for x in never), never


def test_the_boxes_name_each_run_and_its_own_target(compare_root, run_2026):
    runs = [load_run(run_2026), load_run(compare_root / "baseline")]
    text = verdict_html(runs)
    assert text.count('<section class="verdict"') == 2
    assert 'data-target="58"' in text
    assert 'data-target="94"' in text
    assert text.index(runs[0].name) < text.index(runs[1].name)  # in the order given (the scenario folder's)
