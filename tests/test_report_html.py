"""The committee's HTML report: figures from the results, self-contained, bad folders named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ntm_sim.cli import app
from ntm_sim.model.scenario import load_scenario
from ntm_sim.present.report_page import build_report
from ntm_sim.run.runs import find_runs
from ntm_sim.text import format_number_vi, format_percent_vi

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

ROOT = Path(__file__).resolve().parents[1]

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_report_carries_the_figures_and_loads_nothing(compare_root):
    runs = find_runs(compare_root)
    text = build_report(runs, title="Báo cáo thử")
    base = json.loads((compare_root / "baseline" / "summary.json").read_text(encoding="utf-8"))
    sim = json.loads((compare_root / "baseline" / "simulation" / "summary.json").read_text(encoding="utf-8"))
    assert "<title>Báo cáo thử</title>" in text
    assert base["demo_label"] in text
    # the headline is simulated: green only when the target's chance reaches the confidence level
    h = base["headline"]
    css = "met" if h["targets"]["communes_ntm"]["probability"] >= h["confidence"] else "miss"
    median = format_number_vi(h["outcomes"]["communes_ntm"]["median"])
    mark = "✓" if css == "met" else "✗"  # the status by a mark as well as by the cell's colour
    cell = f'<td class="num {css}"><span class="mark" aria-hidden="true">{mark}</span> {median}<span class="band">'
    assert cell in text
    assert f'trên giấy: {format_number_vi(base["communes_ntm"])}' in text
    # money in tỷ đồng (the files' million VND / 1,000), one decimal, in every table
    assert format_number_vi(h["outcomes"]["spent"]["median"] / 1000, 1) in text
    assert format_percent_vi(sim["plans"]["recommended"]["target_probabilities"]["communes_ntm"]) in text
    # every commune's reason, escaped
    assert "Lý do" in text
    # self-contained: the chart library inline (no script src at all), no address to fetch in the page;
    # bokeh.min.js holds a MathJax loader that runs only for math text (the browser test sees no request)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.IGNORECASE)
    outside = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.DOTALL | re.IGNORECASE)
    assert not EXTERNAL.search(outside), EXTERNAL.search(outside)
    assert "Bokeh" in text


TITLES = {name: load_scenario(ROOT / "scenarios" / f"{name}.yaml").title for name in ("baseline", "budget_cut_20")}


def test_cli_report_from_a_folder_of_runs(compare_root, tmp_path):
    out = tmp_path / "sub" / "bao_cao.html"
    result = CliRunner().invoke(app, ["report", str(compare_root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    # columns and the summary line name scenarios by their Vietnamese titles, not folder ids
    assert f"2 kịch bản: {TITLES['baseline']}, {TITLES['budget_cut_20']}" in result.output
    assert "MINH HỌA" in result.output
    text = out.read_text(encoding="utf-8")
    assert "budget_cut_20" in text
    # no temporary left behind; the report's marker (ntm-sim wrote it: --force may replace it) beside it
    assert sorted(p.name for p in out.parent.iterdir()) == [".bao_cao.html.ntm-sim", "bao_cao.html"]


def test_cli_report_of_named_folders_keeps_their_order(compare_root, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(compare_root / "budget_cut_20"), str(compare_root / "baseline"),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    head = re.search(r'<table class="ntm" id="indicators"><thead><tr>(.*?)</tr>', out.read_text(encoding="utf-8"))
    assert head is not None
    assert re.findall(r'<th scope="col">\(\d\) (.*?)</th>', head.group(1)) == [TITLES["budget_cut_20"],
                                                                             TITLES["baseline"]]


def test_cli_report_bad_folders_are_named_and_nothing_is_written(tmp_path: Path):
    out = tmp_path / "r.html"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["report", str(empty), "--out", str(out)])
    assert result.exit_code == 2
    assert "no results folder inside" in result.output
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_text("[1, 2", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(broken), str(empty), "--out", str(out)])
    assert result.exit_code == 2
    assert "summary.json" in result.output
    assert "not valid JSON" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_report_sets_the_simulation_beside_the_public_record(compare_root):
    """Runs on the bundled 2021–2025 data carry the backtest: its chart and every known point with its band."""
    import copy

    from ntm_sim.analysis.backtest import KNOWN, bundled_backtest

    runs = find_runs(compare_root)
    html = build_report(runs)
    assert "Kiểm định lại 2021–2024: mô phỏng so với số liệu đã công bố" in html
    table = html.split('id="backtest"')[1].split("</table>")[0]
    assert table.count("<tr>") == len(KNOWN) + 1  # the header and one row per known point
    default = bundled_backtest().table
    june = default[(default["when"] == "6/2025") & (default["measure"] == "recognised")].iloc[0]
    assert "<td>6/2025*</td><td>xã được công nhận NTM</td><td class=\"num\">66</td>" in table
    assert f'<td class="num">{format_number_vi(june["median"])}</td>' in table
    # on other data there is no public record to set it beside
    other = copy.deepcopy(runs)
    for r in other:
        r.summary["dataset"] = "lao_cai_2026"
        r.record = None  # the run is read through its model: the edited summary is read again
    assert 'id="backtest"' not in build_report(other)


def _with_recommendation(run, **record):
    """The run as if its plan had been chosen by the search (a format-2 ``recommendation``; None: format 1's)."""
    import copy

    other = copy.deepcopy(run)
    other.summary["recommendation"] = {
        "chosen": record.pop("chosen"), "chosen_kind": record.pop("kind"), "reserve": record.pop("reserve", 0.0),
        "reserve_projects": 0, "objective": "expected", "percentile": 10.0, "seed": 0, "train_draws": 400,
        "test_draws": 600, "training": [], "comparison": {}, **{k: v for k, v in record.items() if v is not None}}
    other.record = None  # read again through the model
    return other


@pytest.mark.parametrize(("record", "vi", "en"), [
    ({"chosen": "expected_r20", "kind": "expected", "reserve": 0.2, "lever": "reserve 0.2", "solve_record": "own"},
     "Phương án: expected_r20 (số xã kỳ vọng, dự phòng 20% vốn); các bước giải ở cột này là của chính phương án.",
     "Plan: expected_r20 (expected communes, 20% of the money in reserve); the stages in this column are its own "
     "solve's."),
    ({"chosen": "d07_shareout", "kind": "rule", "lever": "rule", "solve_record": "deterministic"},
     "Phương án: d07_shareout (quy tắc: Vốn trung ương chia theo hệ số QĐ 07/2022, vốn khác theo quy tắc hiện hành); "
     "các bước giải ở cột này là của lời giải tối ưu trên giấy.", "the solve of the optimum on paper"),
    # a folder of format 1 names no lever nor record: they follow from the candidate
    ({"chosen": "expected_money", "kind": "expected", "reserve": 0.17, "lever": None, "solve_record": None},
     "Phương án: expected_money (số xã kỳ vọng trên vốn kỳ vọng); các bước giải ở cột này là của chính phương án.",
     "expected communes on the money expected to arrive"),
])
def test_provenance_says_where_the_plan_came_from(compare_root, record, vi, en):
    from ntm_sim.messages import Catalogue
    from ntm_sim.present.report_html import plan_record, provenance_html

    base = next(r for r in find_runs(compare_root) if r.name == "baseline")
    assert plan_record(base) == "Phương án: tối ưu trên giấy, không chọn qua mô phỏng."  # solved deterministic
    run = _with_recommendation(base, **record)
    assert plan_record(run) == vi
    assert en in plan_record(run, Catalogue("en"))
    assert vi.replace("'", "&#x27;") in provenance_html([run])
