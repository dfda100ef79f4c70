"""One validation for every way data come in (issue 22, #9, #10, #11, #12, #13, #17, #20).

Each case was found from outside: it passed the checks and failed later (exit 1, a hang,
a run that ``report`` refuses), or was silently wrong. Each is now refused where it comes
in, with exit 2 and its place named, before any work.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ntm_sim.run.workflow
from ntm_sim.cli import EXIT_INPUT, app
from ntm_sim.data.io.cells import neutralise, restore
from ntm_sim.data.registry import load_dataset
from ntm_sim.errors import InputError
from ntm_sim.model.scenario import load_scenario
from test_bad_files import (
    BAO_THANG,
    GOOD_SOURCE,
    LONG_HEADER,
    MET,
    SHEET_COST,
    SHEET_SOURCES,
    cost_row,
    cost_rows,
    long_rows,
    planner,
    save_csv,
    source_rows,
)

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command starts solving or simulating."""

    def trap(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the input was checked")

    monkeypatch.setattr(ntm_sim.run.workflow, "solve_and_simulate", trap)
    monkeypatch.setattr("ntm_sim.simulate.simulate", trap)
    monkeypatch.setattr("ntm_sim.run.sweep.sweep", trap)
    monkeypatch.setattr("ntm_sim.analysis.frontier.frontier", trap)


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def refused(r, *words: str) -> None:
    assert r.exit_code == EXIT_INPUT, r.output
    assert "unexpected error" not in r.output
    assert "Traceback" not in r.output
    for w in words:
        assert w in r.output, r.output


def scenario_file(tmp_path: Path, edit: tuple[str, str] | None = None, extra: str = "") -> Path:
    text = BASELINE.read_text(encoding="utf-8")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    path = tmp_path / "kich_ban.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


# ----- #9: the user's own mistakes exit 2 ---------------------------------------------------------

@pytest.mark.parametrize("command", [["solve", "--draws", "0"], ["simulate", "--draws", "10"], ["sweep"],
                                     ["frontier"]])
def test_a_negative_seed_is_refused_before_work(tmp_path, no_work, command):
    r = run(command[0], BASELINE, *command[1:], "--seed", "-1", "--out", tmp_path / "out")
    refused(r, "--seed", "'-1'")


@pytest.mark.parametrize("seed", ["-1", "1000000", str(1 + 2_000_003)])
def test_a_seed_outside_its_range_is_refused_before_work(tmp_path, no_work, seed):
    """A seed above 999,999 is refused: its fresh draws could be another seed's training draws (seed + 2,000,003)."""
    r = run("solve", BASELINE, "--seed", seed, "--out", tmp_path / "out")
    refused(r, "--seed", f"'{seed}'", "999999")


def test_the_search_refuses_a_seed_whose_streams_meet_another_seeds(lao_cai):
    from ntm_sim.analysis.recommend import TRAIN_SEED, WEIGHT_SEED, recommend
    from ntm_sim.bounds import MAX_SEED
    from ntm_sim.model.scenario import load_scenario

    # every accepted seed's fresh draws lie below every seed's weights and training streams
    assert MAX_SEED < WEIGHT_SEED < TRAIN_SEED
    assert MAX_SEED + WEIGHT_SEED < TRAIN_SEED
    with pytest.raises(ValueError, match="999999"):
        recommend(lao_cai, load_scenario(BASELINE), seed=MAX_SEED + 1)


@pytest.mark.parametrize("command", [["solve", "--draws", "50"], ["frontier", "--draws", "20"],
                                     ["frontier", "--draws", "0"]])
def test_too_few_draws_to_judge_a_plan_are_refused_before_work(tmp_path, monkeypatch, command):
    """Fewer than 100 fresh draws cannot judge the recommended plan: exit 2 naming --draws (it was a traceback)."""
    def trap(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the draws were checked")

    for target in ("ntm_sim.analysis.recommend.recommend", "ntm_sim.optimize.solve",
                   "ntm_sim.analysis.frontier.frontier"):
        monkeypatch.setattr(target, trap)
    out = tmp_path / "out"
    r = run(command[0], BASELINE, *command[1:], "--out", out)
    refused(r, "--draws", f"'{command[2]}'", "100")
    assert not out.exists()


def test_backtest_refuses_a_negative_seed(no_work):
    refused(run("backtest", "--seed", "-1", "--draws", "10"), "--seed")


def _capped(limit: int):
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return cap


def test_a_simulation_over_the_process_memory_cap_is_refused_before_work(tmp_path, compare_root):
    """Under ``ulimit -v`` the 6 GiB estimate is not the limit (2,000 national draws then failed half-way)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NTM_SIM_LANG": "en"}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ntm_sim", "simulate", str(BASELINE), "--plan",
                           str(compare_root / "baseline"), "--draws", "100000", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=300, preexec_fn=_capped(int(0.9 * 2**30)))
    assert proc.returncode == EXIT_INPUT, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "GiB of memory, over the limit" in proc.stderr
    assert "ulimit -v" in proc.stderr
    assert "fewer draws" in proc.stderr
    assert time.monotonic() - start < 60
    assert not (tmp_path / "out").exists()


def test_the_memory_limit_is_the_tighter_of_the_tool_s_and_the_process_s(monkeypatch):
    import ntm_sim.simulate as sim

    assert sim.memory_limit()[0] <= sim.MEMORY_LIMIT
    monkeypatch.setattr(resource, "getrlimit", lambda what: (3 * 2**30, resource.RLIM_INFINITY))
    monkeypatch.setattr(sim, "_mapped_bytes", lambda: 2**30)
    assert sim.memory_limit() == (2 * 2**30, "memory.limit_as")


# ----- #10: finite is not enough: upper bounds ---------------------------------------------------

@pytest.mark.parametrize(("edit", "named"), [
    (("  scale: 1.0", "  scale: 1e308"), "budget.scale"),
    (("  scale: 1.0", "  scale: 1.0\n  source_scale: {ns_tinh: 1.0e+300}"), "budget.source_scale.ns_tinh"),
    (("  scale: 1.0", "  scale: 1.0\n  envelopes: {ns_tinh: {2022: 1.0e+308}}"), "budget.envelopes.ns_tinh.2022"),
])
def test_huge_scenario_numbers_are_refused(tmp_path, no_work, edit, named):
    path = scenario_file(tmp_path, edit)
    r = run("solve", path, "--out", tmp_path / "out")
    refused(r, named, str(path), "less than or equal to")


@pytest.mark.parametrize("command", ["sweep", "frontier"])
def test_a_huge_budget_multiplier_is_refused(tmp_path, no_work, command):
    r = run(command, BASELINE, "--budget-scale", "0.8,1e308", "--out", tmp_path / "out")
    refused(r, "--budget-scale", "at most 100 times the money")


def test_a_huge_cost_in_a_workbook_is_refused_with_its_cell(tmp_path, no_work):
    cost = cost_rows([cost_row(k, code, name) for k, (code, name) in enumerate(BAO_THANG, start=1)])
    cost[4][16] = 1e308  # row 5, column Q (TC14) of the cost sheet
    path = planner(tmp_path / "so_lieu.xlsx", **{SHEET_COST: cost, SHEET_SOURCES: source_rows(GOOD_SOURCE)})
    r = run("validate", path)
    refused(r, f"sheet '{SHEET_COST}', row 5, column Q (TC14): cost for TC14", "at most 1,000,000,000")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\n", encoding="utf-8")
    refused(run("solve", scenario, "--data", path, "--out", tmp_path / "out"), "cost for TC14")


def test_a_huge_cost_in_a_long_csv_is_refused_with_its_row(tmp_path):
    rows = long_rows()
    rows[12][4] = "9000000000000"  # an unmet criterion's cost: 9·10¹² million VND
    path = save_csv(tmp_path / "dai.csv", [LONG_HEADER, *rows])
    refused(run("validate", path), "row 14, column cost_mvnd", "must not be above")


def test_a_dataset_built_in_code_is_bounded_too(lao_cai):
    import dataclasses

    from ntm_sim.data.checks import check_dataset

    cost = lao_cai.cost.copy()
    code = next(c for c in lao_cai.communes.index if not lao_cai.status.loc[c].all())
    crit = next(k for k in cost.columns if not lao_cai.status.loc[code, k])
    cost.loc[code, crit] = 1e308
    env = lao_cai.envelopes.copy()
    env.iloc[0, 0] = float("inf")
    ds = dataclasses.replace(lao_cai, cost=cost, envelopes=env, _cache={})
    keys = [p.key for p in check_dataset(ds)]
    assert "data.huge_cost" in keys
    assert "data.huge_envelope" in keys


# ----- #11: regular files within limits ----------------------------------------------------------

@pytest.mark.parametrize("name", ["so_lieu.csv", "so_lieu.xlsx"])
def test_a_link_to_dev_zero_is_refused_before_reading(tmp_path, name):
    path = tmp_path / name
    path.symlink_to("/dev/zero")
    start = time.monotonic()
    r = run("validate", path)
    refused(r, name, "a device (such as /dev/zero)")
    assert time.monotonic() - start < 10


def test_a_fifo_is_refused_instead_of_waiting_for_ever(tmp_path):
    fifo = tmp_path / "so_lieu.csv"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "ntm_sim", "validate", str(fifo)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "NTM_SIM_LANG": "en"})
    assert proc.returncode == EXIT_INPUT, proc.stderr
    assert "named pipe (FIFO)" in proc.stderr


def test_a_scenario_or_unit_list_that_is_not_a_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "kich_ban.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="named pipe"):
        load_scenario(fifo)
    units = tmp_path / "don_vi.csv"
    units.symlink_to("/dev/zero")
    refused(run("validate", ROOT / "scenarios" / "baseline.yaml", "--units", units), "a device")


def test_a_unit_list_that_is_not_one_is_refused(tmp_path):
    bad = tmp_path / "don_vi.csv"
    bad.write_text("ma,ten\n1,a\n", encoding="utf-8")
    data = save_csv(tmp_path / "dai.csv", [LONG_HEADER, *long_rows()])
    refused(run("validate", data, "--units", bad), "column 'commune_code, commune_name, district_code, district_name'")


# ----- #12: names that are formulas without a saved value ----------------------------------------

def _formula_name_workbook(tmp_path: Path) -> Path:
    body = [[1, '=CONCATENATE("Xã ","A")', 2911, *MET], [2, "Xã Bản Cầm", 2914, *MET]]
    return planner(tmp_path / "so_lieu.xlsx", body, **{SHEET_SOURCES: source_rows(GOOD_SOURCE)})


@pytest.mark.parametrize("units", ["none", "lao_cai"])
def test_a_commune_name_that_is_an_unsaved_formula_is_named(tmp_path, units):
    path = _formula_name_workbook(tmp_path)
    refused(run("validate", path, "--units", units),
            "row 8, column B (Đơn vị): the commune name is a formula whose result was never saved")


def test_a_run_on_such_a_workbook_is_never_written(tmp_path):
    path = _formula_name_workbook(tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nyears: [2021, 2022]\n", encoding="utf-8")
    out = tmp_path / "results" / "s"
    refused(run("solve", scenario, "--data", path, "--units", "none", "--out", out, "--draws", "0"), "formula")
    assert not out.exists()


def test_a_commune_without_a_name_is_named_without_a_unit_list(tmp_path):
    body = [[1, None, 2911, *MET], [2, "Xã Bản Cầm", 2914, *MET]]
    path = planner(tmp_path / "so_lieu.xlsx", body)
    refused(run("validate", path, "--units", "none"), "row 8", "commune 2911 has no name")
    rows = [[r[0], "", *r[2:]] for r in long_rows()]  # commune 2911 without its name
    refused(run("validate", save_csv(tmp_path / "dai.csv", [LONG_HEADER, *rows]), "--units", "none"),
            "commune 2911 has no name")


# ----- #13: the apostrophe that neutralises a formula in a CSV is not part of the text -----------

@pytest.mark.parametrize("text", ["=HYPERLINK(1)", "+SUM(A1)", "-2+3", "@SUM(A1)", "\tTab", "Xã A", "'abc"])
def test_restore_undoes_neutralise(text):
    assert restore(neutralise(text)) == text


def test_the_one_text_the_rule_cannot_tell_apart():
    # a name typed with the apostrophe already (what a spreadsheet shows as =x) reads back as =x
    assert neutralise("'=x") == "'=x"
    assert restore("'=x") == "=x"


def test_names_read_back_from_a_csv_export_are_the_names_written(tmp_path, lao_cai):
    import dataclasses

    communes = lao_cai.communes.copy()
    code = communes.index[0]
    communes.loc[code, "commune_name"] = "=Xã Bản Phiệt"
    ds = dataclasses.replace(lao_cai, communes=communes, _cache={})
    from ntm_sim.data.io.folder import write_folder

    write_folder(ds, tmp_path / "payload")
    assert "'=Xã Bản Phiệt" in (tmp_path / "payload" / "communes.csv").read_text(encoding="utf-8")
    assert load_dataset(tmp_path / "payload").communes.loc[code, "commune_name"] == "=Xã Bản Phiệt"


# ----- #17: budget curves with a bounded number of levels ----------------------------------------

def test_a_budget_curve_of_5000_levels_is_refused_at_once(tmp_path, no_work):
    levels = ",".join(f"{0.5 + i / 10000:.4f}" for i in range(5000))
    start = time.monotonic()
    refused(run("frontier", BASELINE, "--budget-scale", levels, "--out", tmp_path / "out"), "5000 budget levels",
            "at most 12 levels")
    assert time.monotonic() - start < 10
    refused(run("sweep", BASELINE, "--budget-scale", levels, "--out", tmp_path / "out"), "at most 12 levels")


# ----- #20: a key written twice in a YAML file ----------------------------------------------------

def test_a_duplicate_scenario_key_is_named_with_its_lines(tmp_path, no_work):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbudget:\n  scale: 0.8\n  carry_over: true\n  scale: 1.2\n", encoding="utf-8")
    r = run("solve", path, "--out", tmp_path / "out")
    refused(r, f"{path}, row 5, column 3: key 'scale' appears twice in one place (first in line 3)")


def test_a_duplicate_key_in_a_dataset_description_is_named(tmp_path):
    import shutil

    from ntm_sim.data.dataset import bundled_path

    folder = tmp_path / "du_lieu"
    shutil.copytree(bundled_path("lao_cai"), folder)
    meta = folder / "dataset.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "title: lần hai\n", encoding="utf-8")
    refused(run("validate", folder), "dataset.yaml", "key 'title' appears twice")


def test_the_same_key_in_two_mappings_is_fine(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbudget:\n  extra_sources:\n    - id: a\n      envelopes: {2021: 1}\n"
                    "    - id: b\n      envelopes: {2021: 2}\n", encoding="utf-8")
    assert [x.id for x in load_scenario(path).budget.extra_sources] == ["a", "b"]
