"""Results folders in the format before December 2026 (the recommended plan called ``optimum``) still read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ntm_sim.analysis.compare import baseline_table, ntm_band_by_year, risk_table, threshold_curves
from ntm_sim.errors import InputError
from ntm_sim.model.contracts import RESULTS_FORMAT, SolveSummary
from ntm_sim.model.plan import RECOMMENDED
from ntm_sim.run.runs import load_run


def _as_format_1(folder: Path) -> None:
    """Rewrite a folder as format 1 wrote it: no ``format``, ``optimum`` for the plan and its keys."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary.pop("format") == RESULTS_FORMAT
    for b in summary["baselines"].values():
        for what in ("communes", "cost_mvnd"):
            b[f"optimum_minus_baseline_{what}"] = b.pop(f"recommended_minus_baseline_{what}")
    if summary.get("headline"):
        summary["headline"]["plan"] = "optimum"
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    sim = folder / "simulation"
    simulation = json.loads((sim / "summary.json").read_text(encoding="utf-8"))
    simulation["plans"] = {"optimum" if k == RECOMMENDED else k: v for k, v in simulation["plans"].items()}
    (sim / "summary.json").write_text(json.dumps(simulation, ensure_ascii=False), encoding="utf-8")
    for name in ("outcomes.csv", "communes.csv"):
        table = pd.read_csv(sim / name, dtype=str, keep_default_na=False)
        assert (table["plan"] == RECOMMENDED).any()
        table["plan"] = table["plan"].replace({RECOMMENDED: "optimum"})
        table.to_csv(sim / name, index=False)


def test_a_format_1_folder_reads_as_today(compare_root, tmp_path):
    today = load_run(compare_root / "baseline")
    old = tmp_path / "baseline"
    shutil.copytree(compare_root / "baseline", old)
    _as_format_1(old)
    assert "optimum" in (old / "simulation" / "outcomes.csv").read_text(encoding="utf-8")
    run = load_run(old)
    assert run.summary["format"] == RESULTS_FORMAT
    assert set(run.simulation["plans"]) == set(today.simulation["plans"])
    assert set(run.sim_communes["plan"]) == set(today.sim_communes["plan"])
    for b, t in zip(run.summary["baselines"].values(), today.summary["baselines"].values(), strict=True):
        assert b["recommended_minus_baseline_communes"] == t["recommended_minus_baseline_communes"]
    # the tables the page and the report draw are today's, figure for figure
    pd.testing.assert_frame_equal(baseline_table([run]).drop(columns="scenario"),
                                  baseline_table([today]).drop(columns="scenario"))
    pd.testing.assert_frame_equal(risk_table([run]).drop(columns="scenario"),
                                  risk_table([today]).drop(columns="scenario"))
    pd.testing.assert_frame_equal(ntm_band_by_year(run), ntm_band_by_year(today))
    pd.testing.assert_frame_equal(threshold_curves([run]).drop(columns="scenario"),
                                  threshold_curves([today]).drop(columns="scenario"))


def test_a_folder_of_a_newer_format_is_refused_with_its_format_named(compare_root, tmp_path, english):
    new = tmp_path / "baseline"
    shutil.copytree(compare_root / "baseline", new)
    summary = json.loads((new / "summary.json").read_text(encoding="utf-8"))
    summary["format"] = RESULTS_FORMAT + 1
    (new / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_run(new)
    text = str(err.value.problems[0])
    assert f"format {RESULTS_FORMAT + 1}" in text
    assert "summary.json" in text


#: keys a solve writes into ``summary.json`` that its model leaves undeclared on purpose (read as extras): none
KEPT_EXTRA: frozenset[str] = frozenset()


def test_a_solve_summary_declares_every_key_the_writer_puts_in_it(compare_root):
    """Every key of a ``summary.json`` as the solve writes it is a field of :class:`SolveSummary`.

    Simulated (headline, obstacles) and on paper; the parts declared with it (the recognition,
    each tier, target, stage and shortfall, the headline's rows, the obstacles and each of their
    simulations) keep no undeclared key either (the recommendation's rows: ``test_optimize_laocai``).
    """
    for name in ("baseline", "budget_cut_20"):
        summary = json.loads((compare_root / name / "summary.json").read_text(encoding="utf-8"))
        undeclared = set(summary) - set(SolveSummary.model_fields) - KEPT_EXTRA
        assert not undeclared, f"{name}/summary.json: {sorted(undeclared)} not declared in SolveSummary"
        record = SolveSummary.model_validate(summary)
        assert record.recognition is not None
        assert record.tiers
        assert record.criteria_set
        parts = [record.recognition, *record.tiers.values(), *record.targets.values(), *record.stages,
                 *record.shortfalls]
        if record.headline is not None:
            h = record.headline
            parts += [h, *h.outcomes.values(), *h.targets.values(), *([h.all_targets] if h.all_targets else [])]
        if name == "baseline":
            assert record.obstacles is not None
            obstacles = record.obstacles
            parts += [obstacles, obstacles.with_all, obstacles.none, *obstacles.without.values()]
        assert [p.model_extra for p in parts if p.model_extra] == []
