"""Never lose a planner's work: the outside probe's cases, rebuilt.

Every refusal happens before any work (the solve is replaced by a trap that fails the
test if reached), exits 2 and names the path; nothing that was there is lost.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ntm_sim.run.workflow
from ntm_sim.cli import EXIT_INPUT, app
from ntm_sim.errors import InputError
from ntm_sim.storage import MARKER, atomic_file, atomic_folder, is_tool_folder, reserve

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command starts solving or simulating."""

    def trap(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the output was checked")

    monkeypatch.setattr(ntm_sim.run.workflow, "solve_and_simulate", trap)
    monkeypatch.setattr("ntm_sim.simulate.simulate", trap)
    monkeypatch.setattr("ntm_sim.run.sweep.sweep", trap)
    monkeypatch.setattr("ntm_sim.analysis.frontier.frontier", trap)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def documents(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "báo cáo.docx").write_bytes(b"the planner's own work")
    return folder


def assert_refused(r, path: Path | str, *words: str) -> None:
    assert r.exit_code == EXIT_INPUT, r.output
    assert "Traceback" not in r.output
    assert str(path) in r.output, r.output
    for w in words:
        assert w in r.output, r.output


# ----- --out never destroys ---------------------------------------------------------------

COMMANDS = {
    "solve": lambda out: ["solve", BASELINE, "--out", str(out)],
    "simulate": lambda out: ["simulate", BASELINE, "--out", str(out), "--draws", "10"],
    "sweep": lambda out: ["sweep", BASELINE, "--out", str(out), "--draws", "0"],
    "frontier": lambda out: ["frontier", BASELINE, "--out", str(out)],
    "data export": lambda out: ["data", "export", str(out)],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_folder_of_documents_is_never_replaced(tmp_path, no_work, command):
    docs = documents(tmp_path / "Tài liệu")
    r = run(*COMMANDS[command](docs), "--force")
    assert_refused(r, docs, "not written by ntm-sim")
    assert (docs / "báo cáo.docx").read_bytes() == b"the planner's own work"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_results_root_is_never_replaced(tmp_path, no_work, command):
    root = tmp_path / "results"
    for name in ("baseline", "budget_cut_20"):
        with atomic_folder(root / name) as tmp:
            (tmp / "summary.json").write_text("{}", encoding="utf-8")
    r = run(*COMMANDS[command](root), "--force")
    assert_refused(r, root, "not written by ntm-sim")
    assert is_tool_folder(root / "baseline")
    assert is_tool_folder(root / "budget_cut_20")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_of_the_tool_is_replaced_only_with_force(tmp_path, no_work, command):
    out = tmp_path / "run"
    with atomic_folder(out) as tmp:
        (tmp / "summary.json").write_text('{"kept": true}', encoding="utf-8")
    r = run(*COMMANDS[command](out))
    assert_refused(r, out, "--force")
    assert (out / "summary.json").read_text(encoding="utf-8") == '{"kept": true}'


@pytest.mark.parametrize("target", [".", ".."])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_current_folder_is_never_an_output(tmp_path, monkeypatch, no_work, command, target):
    work = documents(tmp_path / "work" / "here")
    monkeypatch.chdir(work)
    r = run(*COMMANDS[command](Path(target)), "--force")
    assert_refused(r, target, "current folder")
    assert (work / "báo cáo.docx").exists()


def test_a_file_in_the_way_is_not_replaced(tmp_path, no_work):
    f = tmp_path / "kết quả"
    f.write_bytes(b"x")
    assert_refused(run(*COMMANDS["solve"](f), "--force"), f, "a file is there")
    assert f.read_bytes() == b"x"


def test_simulate_never_writes_over_the_plan_it_reads(tmp_path, no_work):
    plan = tmp_path / "plan"
    with atomic_folder(plan) as tmp:
        (tmp / "projects.csv").write_text("project_id\n", encoding="utf-8")
    r = run("simulate", BASELINE, "--plan", str(plan), "--out", str(plan), "--force")
    assert_refused(r, plan, "input of this run")
    assert (plan / "projects.csv").exists()
    # the parent of the plan holds it too
    r = run("simulate", BASELINE, "--plan", str(plan), "--out", str(tmp_path), "--force")
    assert r.exit_code == EXIT_INPUT
    assert (plan / "projects.csv").exists()


def test_report_and_workbooks_do_not_replace_files_without_force(tmp_path, compare_root):
    html = tmp_path / "báo cáo.html"
    html.write_text("mine", encoding="utf-8")
    assert_refused(run("report", str(compare_root), "--out", str(html)), html, "--force")
    assert html.read_text(encoding="utf-8") == "mine"
    assert_refused(run("report", str(compare_root), "--out", str(tmp_path)), tmp_path, "a folder is there")
    # --force replaces only a report ntm-sim wrote: the user's own file stays (issue 22, #15)
    assert_refused(run("report", str(compare_root), "--out", str(html), "--force"), html, "not written by ntm-sim")
    assert html.read_text(encoding="utf-8") == "mine"
    ours = tmp_path / "báo cáo của ntm-sim.html"
    assert run("report", str(compare_root), "--out", str(ours)).exit_code == 0
    assert_refused(run("report", str(compare_root), "--out", str(ours)), ours, "--force")
    r = run("report", str(compare_root), "--out", str(ours), "--force", "--title", "Lần hai")
    assert r.exit_code == 0, r.output
    assert "Lần hai" in ours.read_text(encoding="utf-8")
    xlsx = tmp_path / "mẫu.xlsx"
    xlsx.write_bytes(b"mine")
    assert_refused(run("template", str(xlsx)), xlsx, "--force")
    assert xlsx.read_bytes() == b"mine"


def test_data_export_replaces_its_own_folder_with_force(tmp_path):
    out = tmp_path / "export"
    assert run("data", "export", str(out)).exit_code == 0
    (out / "communes.csv").write_text("damaged", encoding="utf-8")
    r = run("data", "export", str(out), "--force")
    assert r.exit_code == 0, r.output
    assert (out / "communes.csv").read_text(encoding="utf-8") != "damaged"
    assert (out / MARKER).is_file()


# ----- one writer at a time -----------------------------------------------------------------

def test_a_second_writer_is_refused_at_once(tmp_path, no_work):
    out = tmp_path / "run"
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with reserve(out):
            holding.set()
            release.wait(30)

    t = threading.Thread(target=first)
    t.start()
    try:
        assert holding.wait(30)
        start = time.perf_counter()
        r = run(*COMMANDS["solve"](out))
        assert_refused(r, out, "another ntm-sim run")
        assert time.perf_counter() - start < 10
    finally:
        release.set()
        t.join()


def test_writing_inside_a_folder_being_replaced_is_refused(tmp_path, no_work):
    """`simulate --out X/simulation` while `solve --out X` runs (the probe mixed two runs)."""
    x = tmp_path / "X"
    with atomic_folder(x) as tmp:
        (tmp / "summary.json").write_text("{}", encoding="utf-8")
    code = ("import sys, time; from ntm_sim.storage import reserve\n"
            f"with reserve({str(x)!r}, force=True):\n    print('held', flush=True); time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        r = run("simulate", BASELINE, "--plan", str(x), "--out", str(x / "simulation"), "--draws", "10")
        assert_refused(r, x / "simulation", "another ntm-sim run")
    finally:
        holder.kill()
        holder.wait()
    with reserve(x / "simulation"):  # a killed holder leaves no lock behind
        pass


def test_the_holder_of_a_lock_may_write_inside_it(tmp_path):
    out = tmp_path / "sweep"
    with reserve(out), atomic_folder(out) as tmp, atomic_folder(tmp / "a") as inner:
        (inner / "f.txt").write_text("x", encoding="utf-8")
    assert (out / "a" / "f.txt").exists()
    assert not list(out.glob(".*.lock")), "no lock file inside an output"


# ----- leftovers, modes, failure ------------------------------------------------------------

def test_leftovers_of_a_killed_run_are_cleaned_by_the_next_write(tmp_path):
    (tmp_path / ".run.tmp-4242abcd").mkdir()
    (tmp_path / ".run.tmp-4242abcd" / "plan.csv").write_text("half", encoding="utf-8")
    (tmp_path / ".other.old-4242").mkdir()  # a previous output renamed aside, its replacement killed
    (tmp_path / ".other.old-4242" / "summary.json").write_text("{}", encoding="utf-8")
    keep = documents(tmp_path / ".hidden documents")
    with atomic_folder(tmp_path / "run") as tmp:
        (tmp / "a.txt").write_text("x", encoding="utf-8")
    left = sorted(p.name for p in tmp_path.iterdir())
    # the half-written folder is gone; the previous output is put back, never deleted (issue 22, #3)
    assert left == [".hidden documents", "other", "run"]
    assert (tmp_path / "other" / "summary.json").read_text(encoding="utf-8") == "{}"
    assert (keep / "báo cáo.docx").exists()


def test_outputs_are_readable_by_others_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        with atomic_folder(tmp_path / "run") as tmp:
            (tmp / "sub").mkdir()
            (tmp / "sub" / "a.csv").write_text("x", encoding="utf-8")
        with atomic_file(tmp_path / "r.html") as f:
            f.write_text("x", encoding="utf-8")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "run") == 0o755
    assert mode(tmp_path / "run" / "sub") == 0o755
    assert mode(tmp_path / "run" / "sub" / "a.csv") == 0o644
    assert mode(tmp_path / "r.html") == 0o644


def test_a_failed_write_leaves_the_previous_output(tmp_path):
    out = tmp_path / "run"
    with atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("old", encoding="utf-8")

    def killed() -> None:
        with atomic_folder(out, force=True) as tmp:
            (tmp / "a.txt").write_text("new", encoding="utf-8")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        killed()
    assert (out / "a.txt").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_unwritable_parent_is_refused_before_work(tmp_path, no_work):
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert_refused(run(*COMMANDS["solve"](ro / "out")), ro / "out", "no permission")
    finally:
        ro.chmod(0o755)


def test_storage_refusals_are_input_errors(tmp_path):
    docs = documents(tmp_path / "docs")
    with pytest.raises(InputError, match="not written by ntm-sim"), atomic_folder(docs, force=True):
        pass


# ----- every bad option: exit 2 with the option named, before any work ----------------------

@pytest.mark.parametrize(("args", "named"), [
    (["simulate", BASELINE, "--scheduler", "foo"], "--scheduler"),
    (["sweep", BASELINE, "--scheduler", "tcp://127.0.0.1:1", "--draws", "10"], "--scheduler"),
    (["simulate", BASELINE, "--draws", str(10**9)], "--draws"),
    (["solve", BASELINE, "--draws", str(10**9)], "--draws"),
    (["solve", BASELINE, "--time-limit", "0"], "--time-limit"),
    (["solve", BASELINE, "--time-limit", "-5"], "--time-limit"),
    (["solve", BASELINE, "--time-limit", "nan"], "--time-limit"),
    (["sweep", BASELINE, "--budget-scale", "0.5,inf"], "--budget-scale"),
    (["frontier", BASELINE, "--budget-scale", "nan"], "--budget-scale"),
    (["simulate", BASELINE, "--sampler", "foo"], "--sampler"),
    (["solve", BASELINE, "--mode", "foo"], "--mode"),
    (["solve", BASELINE, "--solver", "gurobi"], "--solver"),
])
def test_bad_options_are_refused_before_work(tmp_path, no_work, args, named):
    r = run(*args, "--out", str(tmp_path / "out"))
    assert r.exit_code == EXIT_INPUT, r.output
    assert named in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("edit", "named"), [
    (("  scale: 1.0", "  scale: .inf"), "budget.scale"),
    (("  absorption_limit_mvnd: 150000", "  absorption_limit_mvnd: .nan"), "absorption_limit_mvnd"),
    (("enforce:", "district_shares:\n  floors: [0.1, 0.2]\nenforce:"), "district_shares.floors"),
])
def test_bad_scenario_numbers_are_refused(tmp_path, no_work, edit, named):
    text = Path(BASELINE).read_text(encoding="utf-8")
    assert edit[0] in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    r = run("solve", str(path), "--out", str(tmp_path / "out"))
    assert r.exit_code == EXIT_INPUT, r.output
    assert named in r.output
    assert str(path) in r.output


def test_unbounded_draws_are_refused_by_a_memory_estimate(lao_cai):
    from ntm_sim.model.instance import build_instance
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.optimize.baselines import planners_rule
    from ntm_sim.simulate import MEMORY_LIMIT, memory_estimate, simulate

    inst = build_instance(lao_cai, load_scenario(BASELINE))
    plans = {"a": planners_rule(inst)}
    assert memory_estimate(inst, 1, 100_000) < MEMORY_LIMIT  # what the CLI and dashboard allow
    start = time.perf_counter()
    with pytest.raises(InputError, match="GiB of memory, over the limit"):
        simulate(inst, plans, n_draws=200_000_000)
    assert time.perf_counter() - start < 5
