"""Runs in a child process (the dashboard's): stages, cancel, one run per folder, problems named."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from ntm_sim.model.scenario import load_scenario
from ntm_sim.run.jobs import JobRequest, RunJob
from ntm_sim.storage import reserve
from suite_settings import BASELINE


def _request(out: Path, *, fast: bool = True, **changes: object) -> JobRequest:
    sc = load_scenario(BASELINE)
    if fast:  # the count stage only: seconds
        sc = sc.with_(objective={"order": ["communes_ntm"]})
    fields = {"scenario_yaml": sc.to_yaml(), "scenario_file": str(BASELINE), "out": str(out), "draws": 50,
              "time_limit": 60.0, "deterministic": True, **changes}
    return JobRequest(**fields)  # type: ignore[arg-type]


def _wait(job: RunJob, until: callable, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not until(job):
        assert time.monotonic() < deadline, (job.state, job.stage, job.problems)
        time.sleep(0.1)


def test_a_run_reports_its_stages_and_writes_its_folder(tmp_path):
    before = time.monotonic()
    job = RunJob.start(_request(tmp_path / "nhanh"))
    seen = []
    while job.running:
        if not seen or seen[-1] != job.stage:
            seen.append(job.stage)
        time.sleep(0.02)
        assert job.elapsed < 180
    assert job.state == "done", job.problems
    assert (tmp_path / "nhanh" / "summary.json").exists()
    assert "solve" in seen
    assert seen.index("solve") < len(seen) - 1
    # the time shown is the run's own, from its start to its end, and stops with it
    after = time.monotonic()
    assert 0.0 < job.elapsed <= after - before
    stopped = job.elapsed
    time.sleep(0.2)
    assert job.elapsed == stopped


def test_a_cancelled_run_stops_everything_and_writes_nothing(tmp_path):
    out = tmp_path / "huy"
    job = RunJob.start(_request(out, fast=False))
    _wait(job, lambda j: j.stage == "solve", timeout=60)
    child = psutil.Process(job.proc.pid)
    deadline = time.monotonic() + 30
    while not [p for p in child.children(recursive=True) if "ntm_sim.optimize.worker" in p.cmdline()]:
        assert time.monotonic() < deadline, "no solver process started"
        time.sleep(0.1)
    group = [child, *child.children(recursive=True)]  # the child and its solver processes (own sessions)
    job.cancel()
    _wait(job, lambda j: not j.running, timeout=15)
    assert job.state == "cancelled"
    time.sleep(0.5)
    assert not [p for p in group if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]  # the solver too
    assert not out.exists()
    with reserve(out):  # its lock is free again
        pass


def test_a_second_run_of_one_folder_is_refused(tmp_path):
    out = tmp_path / "mot_lan"
    first = RunJob.start(_request(out, fast=False))
    _wait(first, lambda j: j.stage not in ("start",), timeout=60)
    second = RunJob.start(_request(out))
    _wait(second, lambda j: not j.running, timeout=60)
    first.cancel()
    assert second.state == "failed"
    assert second.problems[0].found == "a run in progress"
    _wait(first, lambda j: not j.running, timeout=15)


@pytest.mark.parametrize(("change", "message"), [
    ({"scenario_yaml": "name: x\nyears: [2025, 2021]\n"}, "last year is before the first"),
    ({"upload_name": "so_lieu.pdf", "upload": b"%PDF", "uploads": "UPLOADS"}, "file type not accepted"),
])
def test_bad_input_is_named_not_a_traceback(tmp_path, change, message):
    if change.get("uploads") == "UPLOADS":
        change = {**change, "uploads": str(tmp_path / ".uploads" / "bad")}
    job = RunJob.start(_request(tmp_path / "bad", **change))
    _wait(job, lambda j: not j.running, timeout=60)
    assert job.state == "failed"
    assert any(message in str(p) for p in job.problems), job.problems
    assert not (tmp_path / "bad").exists()
