"""Scenarios in the scenario folder's order (issue 19, item 6): 2026–2030 first, then the 2021–2025 baseline.

``order.txt`` in the scenario folder names the order (:func:`ntm_sim.model.scenario_folder.folder_order`); the
dashboard's columns, the report and ``make run`` follow it (:func:`ntm_sim.analysis.compare.in_scenario_order`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from ntm_sim.analysis.compare import ScenarioRun, in_scenario_order
from ntm_sim.model.scenario_folder import folder_order
from suite_settings import ROOT


def test_the_bundled_folder_puts_2026_2030_first_then_the_baseline():
    order = folder_order(ROOT / "scenarios")
    assert order[:2] == ["lao_cai_2026_2030", "baseline"]
    assert sorted(order) == sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))  # every file, once
    # make run solves them in that order too
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    listed = re.search(r"^RUN_SCENARIOS \?= (.+)$", makefile, re.MULTILINE).group(1).split()
    assert listed == [name for name in order if name in listed]


def test_order_file_comments_suffixes_repeats_and_missing_names(tmp_path):
    for name in ("a", "b", "c", "d"):
        (tmp_path / f"{name}.yaml").write_text("name: x\n", encoding="utf-8")
    (tmp_path / "order.txt").write_text("# the committee's order\nc.yaml  # first\n\nmissing\nb\nc\n",
                                        encoding="utf-8")
    assert folder_order(tmp_path) == ["c", "b", "a", "d"]  # listed, then the others by name
    (tmp_path / "order.txt").unlink()
    assert folder_order(tmp_path) == ["a", "b", "c", "d"]


def _run(name: str, folder: str, scenario_file: str | None = None) -> ScenarioRun:
    manifest = {"scenario": {"file": scenario_file}} if scenario_file else {}
    return ScenarioRun(name=name, folder=Path("/results") / folder, summary={"scenario": name},
                       communes=pd.DataFrame(), manifest=manifest)


def test_runs_follow_the_folder_their_scenario_came_from():
    file = str(ROOT / "scenarios" / "baseline.yaml")
    runs = [_run(n, n, file) for n in ("baseline", "budget_cut_20", "lao_cai_2026_2030", "my_variant")]
    assert [r.name for r in in_scenario_order(runs)] == ["lao_cai_2026_2030", "baseline", "budget_cut_20",
                                                         "my_variant"]  # a variant made on the page comes last


@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=8),
       st.lists(st.sampled_from(["a", "b", "c"]), unique=True))
def test_ordering_is_a_stable_permutation_listed_first(names, order):
    runs = [_run(n, f"{n}_{i}") for i, n in enumerate(names)]
    out = in_scenario_order(runs, order)
    assert sorted(r.folder for r in out) == sorted(r.folder for r in runs)  # nothing lost, nothing added
    ranks = [order.index(r.name) if r.name in order else len(order) for r in out]
    assert ranks == sorted(ranks)
    for a, b in zip(out, out[1:], strict=False):  # equals keep the list's own order
        if a.name == b.name or (a.name not in order and b.name not in order):
            assert runs.index(a) < runs.index(b)
