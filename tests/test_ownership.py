"""One ownership rule for every output (issue 22, #3, #4, #7, #9, #14, #15, #16, #21).

Only the ``.ntm-sim`` marker makes a folder replaceable, and only a file's own sidecar
marker (with the file's hash as written) makes a file replaceable; a ``--force``
replacement survives a kill at any step; folders made above an output get the output's
modes; a simulation shown under a run is of that run's plan; a symbolic link at an
output's path is followed, never replaced by a folder.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from ntm_sim.cli import EXIT_INPUT, app
from ntm_sim.errors import InputError
from ntm_sim.run.runs import find_runs, load_run
from ntm_sim.storage import MARKER, atomic_file, atomic_folder, is_tool_file, is_tool_folder, recover, sidecar

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "scenarios" / "baseline.yaml")


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command starts solving or simulating.

    The trap replaces the functions' code, not a module's name for them: it holds however a
    caller imported them (``from … import solve`` at the top of a module included).
    """
    import ntm_sim.analysis.frontier
    import ntm_sim.optimize
    import ntm_sim.run.sweep
    import ntm_sim.simulate

    def trap(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the output was checked")

    for work in (ntm_sim.run.workflow.solve_and_simulate, ntm_sim.simulate.simulate, ntm_sim.optimize.solve,
                 ntm_sim.run.sweep.sweep, ntm_sim.analysis.frontier.frontier):
        monkeypatch.setattr(work, "__code__", trap.__code__)
        monkeypatch.setattr(work, "__defaults__", None)
        monkeypatch.setattr(work, "__kwdefaults__", None)


def test_the_work_trap_holds_for_names_imported_before_it(request):
    """A name bound before the trap was set (as a module-level import would) still springs it."""
    from ntm_sim.optimize import solve as bound_early
    from ntm_sim.run.workflow import solve_and_simulate as also_early

    request.getfixturevalue("no_work")
    for work in (bound_early, also_early):
        with pytest.raises(AssertionError, match="work started"):
            work(None, None)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def refused(r, *words: str) -> None:
    assert r.exit_code == EXIT_INPUT, r.output
    assert "Traceback" not in r.output
    for w in words:
        assert w in r.output, r.output


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----- #4: a copied manifest.json is not a marker -------------------------------------------------

def test_a_folder_with_a_copied_manifest_is_never_replaced(tmp_path, no_work, compare_root):
    docs = tmp_path / "Luận văn"
    docs.mkdir()
    (docs / "thesis.docx").write_bytes(b"two years of work")
    shutil.copy(compare_root / "baseline" / "manifest.json", docs / "manifest.json")  # names ntm-sim
    assert not is_tool_folder(docs)
    for args in (["solve", BASELINE], ["simulate", BASELINE, "--draws", "10"], ["data", "export"]):
        out = ["--out", str(docs)] if args[0] != "data" else [str(docs)]
        refused(run(*args, *out, "--force"), str(docs), "not written by ntm-sim")
    assert (docs / "thesis.docx").read_bytes() == b"two years of work"


def test_only_a_marker_naming_ntm_sim_counts(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / MARKER).write_text("anything", encoding="utf-8")
    assert not is_tool_folder(folder)
    (folder / MARKER).write_text('{"written_by": "ntm-sim"}', encoding="utf-8")
    assert is_tool_folder(folder)


# ----- #15: files: the user's own report or workbook is never replaced ----------------------------

def test_template_force_replaces_only_an_unchanged_template_of_its_own(tmp_path):
    mine = tmp_path / "mau_cua_toi.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "số liệu của tôi"
    wb.save(mine)
    before = mine.read_bytes()
    refused(run("template", str(mine), "--force"), str(mine), "not written by ntm-sim")
    assert mine.read_bytes() == before

    ours = tmp_path / "mau.xlsx"
    assert run("template", str(ours)).exit_code == 0
    assert is_tool_file(ours)
    assert sidecar(ours).is_file()
    assert run("template", str(ours), "--force").exit_code == 0  # unchanged since written: replaceable
    filled = openpyxl.load_workbook(ours)
    filled.worksheets[0]["A1"] = "cán bộ đã điền"
    filled.save(ours)  # the planner filled it in: now it is the planner's
    before = ours.read_bytes()
    assert not is_tool_file(ours)
    refused(run("template", str(ours), "--force"), "changed since")
    assert ours.read_bytes() == before


# ----- #3: a --force replacement survives a kill at any step --------------------------------------

_CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from ntm_sim import storage
    import ntm_sim  # noqa: F401  (everything imported before the hook counts writes)

    out, kill_at, what = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    WRITES = {"os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "os.chmod", "shutil.rmtree",
              "os.unlink", "os.truncate", "os.symlink", "os.link"}
    seen = [0]

    def writes(event, args):
        if event in WRITES:
            return True
        if event == "open":
            mode, flags = args[1], args[2]
            return bool((mode and any(c in mode for c in "wax+")) or (flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)))
        return False

    def hook(event, args):
        if writes(event, args):
            if seen[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            seen[0] += 1

    sys.addaudithook(hook)
    if what == "folder":
        with storage.atomic_folder(out, force=True) as tmp:
            (tmp / "a.txt").write_text("new", encoding="utf-8")
            (tmp / "sub").mkdir()
            (tmp / "sub" / "b.txt").write_text("new", encoding="utf-8")
    else:
        with storage.atomic_file(out, force=True) as tmp:
            tmp.write_text("new", encoding="utf-8")
    print("done", seen[0], flush=True)
""")


def _write_folder(out: Path, text: str) -> None:
    with atomic_folder(out, force=True) as tmp:
        (tmp / "a.txt").write_text(text, encoding="utf-8")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text(text, encoding="utf-8")


def _folder_text(out: Path) -> str:
    """The output's one version (``old`` or ``new``), checking that it is whole."""
    a = (out / "a.txt").read_text(encoding="utf-8")
    assert (out / "sub" / "b.txt").read_text(encoding="utf-8") == a, "half of each version"
    assert is_tool_folder(out)
    return a


def _leftovers(parent: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name not in keep and not p.name.endswith(".lock"))


@pytest.mark.parametrize("what", ["folder", "file"])
def test_a_forced_replacement_survives_a_kill_at_every_step(tmp_path, what):
    script = tmp_path / "child.py"
    script.write_text(_CHILD, encoding="utf-8")
    steps, versions = 0, set()
    for kill_at in range(200):
        parent = tmp_path / f"k{kill_at}"
        parent.mkdir()
        out = parent / ("run" if what == "folder" else "bao_cao.html")
        if what == "folder":
            _write_folder(out, "old")
        else:
            with atomic_file(out) as tmp:
                tmp.write_text("old", encoding="utf-8")
        proc = subprocess.run([sys.executable, str(script), str(out), str(kill_at), what], capture_output=True,
                              text=True, timeout=60)
        if proc.returncode == 0:
            assert proc.stdout.startswith("done"), proc.stdout
            steps = kill_at
            break
        assert proc.returncode == -9, proc.stderr
        olds = [p for p in parent.iterdir() if ".old-" in p.name]
        if what == "folder" and not out.exists():  # killed between the two renames
            assert len(olds) == 1
            assert _folder_text(olds[0]) == "old"  # the previous copy is whole, aside
        # the next write beside it recovers
        with atomic_folder(parent / "next") as tmp:
            (tmp / "x").write_text("x", encoding="utf-8")
        if what == "folder":
            versions.add(_folder_text(out))
            assert _leftovers(parent, {"run", "next"}) == [], (kill_at, os.listdir(parent))
        else:
            versions.add(out.read_text(encoding="utf-8"))
            assert is_tool_file(out), kill_at  # still known as ours: a later --force may replace it
            assert _leftovers(parent, {"bao_cao.html", "next", sidecar(out).name}) == [], os.listdir(parent)
    assert steps >= 8, "the child was killed at every step it took"
    assert versions == {"old", "new"}


def test_a_replaced_folder_being_deleted_when_killed_is_finished_by_the_next_write(tmp_path):
    out = tmp_path / "run"
    _write_folder(out, "new")
    half = tmp_path / ".run.del-123-abcd"  # the previous copy, half deleted
    (half / "sub").mkdir(parents=True)
    (half / "sub" / "b.txt").write_text("old", encoding="utf-8")
    recover(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert _folder_text(out) == "new"


def test_a_previous_copy_is_never_deleted_while_its_place_holds_something_else(tmp_path):
    (tmp_path / ".run.old-1-ab").mkdir()
    (tmp_path / ".run.old-1-ab" / "a.txt").write_text("old", encoding="utf-8")
    (tmp_path / "run").mkdir()  # not an output of the tool
    recover(tmp_path)
    assert (tmp_path / ".run.old-1-ab" / "a.txt").read_text(encoding="utf-8") == "old"


def test_a_lock_left_by_a_killed_run_is_removed_once_stale(tmp_path, monkeypatch):
    lock = tmp_path / ".run.lock"
    lock.write_text("", encoding="utf-8")
    recover(tmp_path)
    assert lock.exists()  # fresh: perhaps a run about to take it
    old = time.time() - 3600
    os.utime(lock, (old, old))
    recover(tmp_path)
    assert not lock.exists()


# ----- #14: folders made above an output get its modes --------------------------------------------

def test_parents_made_for_an_output_are_readable_by_others_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        out = tmp_path / "ket_qua" / "2026" / "run"
        with atomic_folder(out) as tmp:
            (tmp / "a.txt").write_text("x", encoding="utf-8")
        with atomic_file(tmp_path / "bao_cao" / "thang_12" / "r.html") as f:
            f.write_text("x", encoding="utf-8")
    finally:
        os.umask(old)
    for folder in (tmp_path / "ket_qua", tmp_path / "ket_qua" / "2026", out, tmp_path / "bao_cao",
                   tmp_path / "bao_cao" / "thang_12"):
        assert mode(folder) == 0o755, folder


# ----- #7: a simulation shown under a run is of that run's plan -----------------------------------

def test_a_simulation_into_a_run_must_be_of_its_plan(tmp_path, no_work, compare_root):
    x = tmp_path / "X"
    shutil.copytree(compare_root / "baseline", x)
    other = tmp_path / "other"
    shutil.copytree(compare_root / "budget_cut_20", other)
    cut = str(ROOT / "scenarios" / "budget_cut_20.yaml")
    refused(run("simulate", cut, "--plan", str(other), "--out", str(x / "simulation"), "--force"),
            "--plan", "must simulate that plan")
    refused(run("simulate", BASELINE, "--out", str(x / "simulation"), "--force"), "--plan", "no plan given")
    refused(run("simulate", cut, "--plan", str(x), "--out", str(x / "simulation"), "--force"),
            "must simulate that scenario")
    assert load_run(x).simulation is not None  # untouched


def test_a_run_whose_simulation_is_of_another_plan_is_named(tmp_path, compare_root):
    x = tmp_path / "X"
    shutil.copytree(compare_root / "baseline", x)
    manifest = json.loads((x / "simulation" / "manifest.json").read_text(encoding="utf-8"))
    manifest["scenario"]["hash"] = "0" * 64
    manifest["scenario"]["name"] = "budget_cut_20"
    (x / "simulation" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_run(x)
    assert err.value.problems[0].file == str(x / "simulation" / "manifest.json")
    assert "another scenario (budget_cut_20)" in err.value.problems[0].message
    manifest["scenario"] = json.loads((x / "manifest.json").read_text(encoding="utf-8"))["scenario"]
    manifest["plan"] = {"folder": "/elsewhere", "projects_sha256": "1" * 64}
    (x / "simulation" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match="another plan"):
        load_run(x)


# ----- #16: a simulation folder among the runs is not a run ---------------------------------------

def test_a_simulation_folder_among_the_runs_does_not_stop_the_report(tmp_path, compare_root):
    root = tmp_path / "results"
    shutil.copytree(compare_root, root)
    shutil.copytree(compare_root / "baseline" / "simulation", root / "pessimistic")  # simulate --out results/NAME
    assert [r.name for r in find_runs(root)] == ["baseline", "budget_cut_20"]
    out = tmp_path / "bao_cao.html"
    r = run("report", str(root), "--out", str(out))
    assert r.exit_code == 0, r.output
    assert out.is_file()


# ----- #21: --force on a symbolic link to a run ---------------------------------------------------

def test_force_on_a_link_to_a_run_replaces_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "runs" / "2026-12"
    _write_folder(target, "old")
    link = tmp_path / "latest"
    link.symlink_to(target, target_is_directory=True)
    with atomic_folder(link, force=True) as tmp:
        (tmp / "a.txt").write_text("new", encoding="utf-8")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.txt").write_text("new", encoding="utf-8")
    assert link.is_symlink()
    assert link.resolve() == target.resolve()
    assert _folder_text(target) == "new"
    hidden = [p.name for p in [*tmp_path.iterdir(), *(tmp_path / "runs").iterdir()] if p.name.startswith(".")]
    assert [h for h in hidden if not h.endswith(".lock")] == []


def test_a_link_to_nothing_is_refused(tmp_path, no_work):
    link = tmp_path / "latest"
    link.symlink_to(tmp_path / "gone")
    refused(run("solve", BASELINE, "--out", str(link), "--force"), "symbolic link to nothing")
    assert link.is_symlink()
    assert not (tmp_path / "gone").exists()


# ----- #9: an output the system refuses is the user's mistake: exit 2 -----------------------------

def test_an_output_name_too_long_for_the_file_system_is_refused_before_work(tmp_path, no_work):
    name = "Kịch bản giảm vốn của tỉnh Lào Cai " * 6  # 200 characters, over 255 bytes in UTF-8
    assert len(name.encode("utf-8")) > 255
    for args in (["solve", BASELINE, "--out", str(tmp_path / name)], ["template", str(tmp_path / f"{name}.xlsx")],
                 ["report", str(tmp_path), "--out", str(tmp_path / f"{name}.html")]):
        r = run(*args)
        refused(r, "bytes long")
        assert "unexpected error" not in r.output
    assert list(tmp_path.iterdir()) == []


def test_an_output_the_system_refuses_is_refused_with_exit_2(tmp_path, no_work):
    r = run("solve", BASELINE, "--out", "/proc/x")
    refused(r, "/proc/x")
    assert "unexpected error" not in r.output


def test_a_full_disk_while_writing_is_the_user_s_to_fix(tmp_path, monkeypatch):
    import errno

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "mau.xlsx"))

    monkeypatch.setattr("ntm_sim.data.io.excel_write.write_template", full)
    r = run("template", str(tmp_path / "mau.xlsx"))
    refused(r, "No space left on device", "mau.xlsx")
    assert "unexpected error" not in r.output
