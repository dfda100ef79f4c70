"""A solve-and-simulate run in a child process: its stage, its elapsed time, and a way to stop it.

For callers that must stay responsive while a run takes seconds to minutes (the
dashboard): :class:`RunJob` starts ``python -m ntm_sim.run.jobs`` in a session of its own,
sends it the request on its standard input, and reads one JSON line per event from its
standard output (``{"stage": …}``, then ``{"done": …}`` or ``{"problems": […]}``).
:meth:`RunJob.cancel` ends the child and everything it started (the solver's process too);
the results folder it was writing is left untouched (written atomically, locked by
:mod:`ntm_sim.storage` for the whole run, so a second run of one name is refused at once,
in any process).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from ntm_sim.errors import InputError, Problem, Text

State = Literal["running", "done", "failed", "cancelled"]
# the stages a run goes through, in order (those of the search by simulation, or solve then simulate)
STAGES = ("start", "data", "weights", "solve", "train", "judge", "simulate", "write")
KILL_GRACE_S = 3.0


@dataclass(frozen=True)
class JobRequest:
    """What the child process runs.

    Parameters
    ----------
    scenario_yaml
        The scenario, as YAML text (a planner's edited variant need not be a file).
    scenario_file
        Where relative paths in the scenario (its ``data``) are taken from.
    out
        The results folder to write.
    draws, time_limit, deterministic, seed
        As for :func:`ntm_sim.run.workflow.solve_and_simulate`.
    upload_name, upload
        A planner's workbook (name and content), kept in ``uploads`` when it loads.
    uploads
        Folder that keeps the uploaded workbook (``ROOT/.uploads/NAME``).
    """

    scenario_yaml: str
    scenario_file: str
    out: str
    draws: int
    time_limit: float
    deterministic: bool = False
    seed: int = 0
    upload_name: str | None = None
    upload: bytes | None = None
    uploads: str | None = None

    def to_json(self) -> str:
        """One JSON line (the upload base64-encoded)."""
        data = dataclasses.asdict(self)
        data["upload"] = base64.b64encode(self.upload).decode("ascii") if self.upload is not None else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> JobRequest:
        """The request :meth:`to_json` wrote."""
        data = json.loads(text)
        if data.get("upload") is not None:
            data["upload"] = base64.b64decode(data["upload"])
        return cls(**data)


@dataclass
class RunJob:
    """A run under way in a child process (start it with :meth:`start`).

    Attributes
    ----------
    stage
        The stage under way (one of :data:`STAGES`).
    state
        ``running``, ``done``, ``failed`` or ``cancelled``.
    problems
        Why it failed: the input problems (file, sheet, row, column), or the unexpected
        error as one problem.
    """

    request: JobRequest
    proc: subprocess.Popen
    started: float = field(default_factory=time.monotonic)
    stage: str = "start"
    progress: dict = field(default_factory=dict)  # the last stage event as the child sent it (its details)
    state: State = "running"
    problems: list[Problem] = field(default_factory=list)
    finished: float | None = None
    _cancel: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    #: the module the child process runs (``python -m MODULE``): a subclass runs another kind of job
    MODULE = "ntm_sim.run.jobs"

    @classmethod
    def start(cls, request: JobRequest) -> RunJob:
        """Start the child process and the threads that feed it and read it."""
        # a session of its own: cancel ends it and what it started, not the caller
        proc = subprocess.Popen([sys.executable, "-m", cls.MODULE], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, encoding="utf-8", start_new_session=True)
        job = cls(request=request, proc=proc)
        threading.Thread(target=job._feed, name="ntm-job-feed", daemon=True).start()
        threading.Thread(target=job._read, name="ntm-job-read", daemon=True).start()
        return job

    @property
    def elapsed(self) -> float:
        """Seconds since the start (until the end, once it has ended)."""
        return (self.finished or time.monotonic()) - self.started

    @property
    def running(self) -> bool:
        """Whether the run is still under way."""
        return self.state == "running"

    def cancel(self) -> None:
        """Stop the run and every process it started; its results folder is not written."""
        with self._lock:
            if not self.running:
                return
            self._cancel = True
        _signal_group(self.proc.pid, signal.SIGTERM)
        timer = threading.Timer(KILL_GRACE_S, self._kill_if_alive)
        timer.daemon = True
        timer.start()

    def _kill_if_alive(self) -> None:
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGKILL)

    def _feed(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(self.request.to_json() + "\n")
            self.proc.stdin.close()
        except OSError:  # the child ended (cancelled) before reading it all
            pass

    def _read(self) -> None:
        assert self.proc.stdout is not None
        outcome: dict = {}
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a stray print of a library: not an event
            if "stage" in event:
                self.stage = str(event["stage"])
                self.progress = event
            else:
                outcome = event
        code = self.proc.wait()
        with self._lock:
            self.finished = time.monotonic()
            if self._cancel:
                self.state = "cancelled"
            elif code == 0 and outcome.get("done"):
                self.state = "done"
            else:
                self.problems = [Problem.from_json(p) for p in outcome.get("problems", [])] or [
                    Problem(self.request.out, Text("job.ended", code=code))]
                self.state = "failed"


# runs of this process by results folder: one module for every session of a server (a served app's
# script runs anew in each session, so its own globals are not shared)
_jobs: dict[str, RunJob] = {}
_jobs_guard = threading.Lock()


def claim(key: str, start: Callable[[], RunJob]) -> RunJob | None:
    """Start the run of ``key`` (a results folder) with ``start``, unless a run of it in this process is going.

    Returns
    -------
    RunJob or None
        The run started, or None when one of ``key`` is still under way.
    """
    with _jobs_guard:
        job = _jobs.get(key)
        if job is not None and job.running:
            return None
        _jobs[key] = job = start()
        return job


def running(key: str) -> bool:
    """Whether a run of this process is writing ``key``."""
    with _jobs_guard:
        job = _jobs.get(key)
        return job is not None and job.running


def _signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the child's session (it and the solver processes it started)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# ----- the child's side ------------------------------------------------------------------------------

def _emit(**event: object) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def run_request(req: JobRequest) -> Path:
    """Load, solve, simulate and write what ``req`` asks for, telling each stage (the child's work).

    Raises
    ------
    InputError
        The folder may not be written (it exists, another run writes it), or the
        scenario or the uploaded file cannot be used.
    """
    from ntm_sim.model.instance import build_instance
    from ntm_sim.model.scenario import Scenario
    from ntm_sim.run.workflow import dataset_from_upload, scenario_dataset, solve_and_simulate, write_run
    from ntm_sim.storage import reserve

    out = Path(req.out)
    with reserve(out, option=str(out)):  # the page has no --out: the problem names the folder
        _emit(stage="data")
        try:
            sc = Scenario.model_validate({**yaml.safe_load(req.scenario_yaml), "source_file": req.scenario_file})
        except ValueError as exc:
            raise InputError([Problem(req.scenario_file, Text("job.scenario", error=str(exc)))]) from None
        if req.upload is not None and req.upload_name and req.uploads:
            ds, path = dataset_from_upload(req.upload_name, req.upload, req.uploads,
                                           check=lambda d: build_instance(d, sc))
            sc = sc.with_(data=str(path))
        else:
            ds = scenario_dataset(sc)
        run = solve_and_simulate(ds, sc, draws=req.draws, seed=req.seed, time_limit=req.time_limit,
                                 deterministic=req.deterministic, on_stage=lambda name: _emit(stage=name))
        _emit(stage="write")
        command = ["ntm_sim.run.jobs", sc.name, f"draws={req.draws}", f"seed={req.seed}"]
        write_run(run, out, command=command)
    return out


def _child_pids() -> list[int]:
    """Processes this one started (psutil: on every platform, not only where ``/proc`` is)."""
    import psutil

    return [p.pid for p in psutil.Process().children(recursive=False)]


def _stop(signum: int, _frame: object) -> None:
    """On SIGTERM: end the solver processes too (they run in sessions of their own), then exit."""
    for pid in _child_pids():
        _signal_group(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    os._exit(128 + signum)


def child_main(work: Callable[[], Path], where: str) -> int:
    """A job child's whole life: ``work()`` with SIGTERM ending it and its solvers, every end told as a line.

    Parameters
    ----------
    work
        Does the job and returns the folder it wrote.
    where
        What an unexpected failure is reported against (the output or the run).

    Returns
    -------
    int
        The exit status: 0 done, 2 the input's problems, 1 an unexpected failure (reported, never lost).
    """
    signal.signal(signal.SIGTERM, _stop)
    try:
        out = work()
    except InputError as exc:
        _emit(problems=[p.to_json() for p in (exc.errors or exc.problems)])
        return 2
    except Exception as exc:  # reported to the caller, never lost
        _emit(problems=[Problem(where, Text("job.unexpected", error=f"{type(exc).__name__}: {exc}")).to_json()])
        return 1
    _emit(done=str(out))
    return 0


def main() -> int:
    """``python -m ntm_sim.run.jobs``: run the request read from standard input; report on standard output."""
    req = JobRequest.from_json(sys.stdin.read())
    return child_main(lambda: run_request(req), req.out)


if __name__ == "__main__":
    sys.exit(main())
