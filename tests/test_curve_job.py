"""The budget curve as a job (issue 19, item 7): in the job process, its level under way, and a stop.

The run is the 2026–2030 scenario with a small search (a level takes seconds), copied into a
results root of the test's own: the curve is stored in that root's cache.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import psutil

from ntm_sim.present.verdict import verdict_lines
from ntm_sim.run.curve_job import CurveJob, CurveRequest, stored_curve_of
from ntm_sim.run.runs import load_run


def _root_with(run: Path, tmp_path: Path) -> Path:
    root = tmp_path / "results"
    shutil.copytree(run, root / run.name)
    return root / run.name


def _wait(job: CurveJob, until: callable, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not until(job):
        assert time.monotonic() < deadline, (job.state, job.progress, job.problems)
        time.sleep(0.05)


def test_a_curve_job_tells_each_level_and_stores_the_curve(small_run, tmp_path):
    folder = _root_with(small_run, tmp_path)
    scales = (1.0, 1.5)
    job = CurveJob.start(CurveRequest(root=str(folder.parent), run=str(folder), scales=scales))
    seen: list[tuple[str, int | None]] = []
    while job.running:
        step = (str(job.progress.get("stage")), job.progress.get("level"))
        if job.progress and (not seen or seen[-1] != step):
            seen.append(step)
        time.sleep(0.02)
        assert job.elapsed < 180
    assert job.state == "done", job.problems
    levels = [level for stage, level in seen if stage == "level"]
    # levels done, told in order from 0 (two chains run at once, so a poll may miss one)
    assert levels[0] == 0, seen
    assert levels == sorted(set(levels)), seen
    assert levels[-1] < len(scales), seen
    assert job.progress.get("levels") == len(scales)
    # stored in the root's cache, found again by the run's own hashes (no dataset loaded)
    curve = stored_curve_of(load_run(folder), scales)
    assert curve is not None
    assert len(curve.table) == len(scales)
    assert sorted(curve.table["scale"].round(3)) == list(scales)
    # the verdict reads its money from the stored curve: no longer "not computed"
    lines = verdict_lines(load_run(folder), curve=curve)
    assert not any("chưa tính" in line for line in lines), lines
    assert any("tỷ đồng" in line and ("đường cong vốn" in line or "Không mức vốn nào" in line) for line in lines)


def test_a_stopped_curve_job_stops_everything_and_stores_nothing(small_run, tmp_path):
    folder = _root_with(small_run, tmp_path)
    scales = (1.0, 1.2, 1.5, 2.0)
    job = CurveJob.start(CurveRequest(root=str(folder.parent), run=str(folder), scales=scales))
    _wait(job, lambda j: j.progress.get("stage") == "level")
    child = psutil.Process(job.proc.pid)
    group = [child, *child.children(recursive=True)]
    job.cancel()
    _wait(job, lambda j: not j.running, timeout=15)
    assert job.state == "cancelled"
    time.sleep(0.5)
    assert not [p for p in group if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert stored_curve_of(load_run(folder), scales) is None  # a curve stopped halfway is not stored


def test_a_run_without_its_scenario_is_named_not_a_traceback(small_run, tmp_path):
    folder = _root_with(small_run, tmp_path)
    (folder / "scenario.yaml").unlink()
    job = CurveJob.start(CurveRequest(root=str(folder.parent), run=str(folder), scales=(1.0,)))
    _wait(job, lambda j: not j.running, timeout=60)
    assert job.state == "failed"
    assert [p.file for p in job.problems] == [str(folder / "scenario.yaml")]
