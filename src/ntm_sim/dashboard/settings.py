"""What a served dashboard is given: its folders and what it may do, passed as arguments.

``ntm-sim serve`` hands these to ``panel serve … --args`` (:meth:`DashboardSettings.to_args`),
and the served page reads them back (:meth:`DashboardSettings.from_args`): no environment
variable, no global. Tests build the settings directly, with stand-ins for the jobs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ntm_sim.run.jobs import JobRequest, RunJob


def _start_run(request: JobRequest) -> RunJob:
    return RunJob.start(request)


def _start_curve(request: object) -> RunJob:
    from ntm_sim.run.curve_job import CurveJob

    return CurveJob.start(request)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DashboardSettings:
    """The dashboard's folders, rights and job starters.

    Parameters
    ----------
    results
        Folder of results folders shown (each run a folder).
    scenarios
        Folder of scenario files offered as a base for new runs (shown in the folder's order).
    save_scenarios
        Whether the page may save an edited scenario into ``scenarios`` (new files only).
    start_run, start_curve
        How a run and a budget curve are started in a child process (tests pass stand-ins).
    poll_s
        How often a job under way is looked at (seconds).
    """

    results: Path
    scenarios: Path
    save_scenarios: bool = False
    start_run: Callable[[JobRequest], RunJob] = field(default=_start_run, compare=False)
    start_curve: Callable[[object], RunJob] = field(default=_start_curve, compare=False)
    poll_s: float = 0.5

    def to_args(self) -> list[str]:
        """The arguments :meth:`from_args` reads (what ``panel serve --args`` passes on)."""
        args = ["--results", str(self.results), "--scenarios", str(self.scenarios)]
        return [*args, "--save-scenarios"] if self.save_scenarios else args

    @classmethod
    def from_args(cls, argv: Sequence[str]) -> DashboardSettings:
        """Settings from the served page's arguments (defaults: ``results`` and ``scenarios`` here)."""
        parser = argparse.ArgumentParser(prog="ntm_sim.dashboard", add_help=False)
        parser.add_argument("--results", type=Path, default=Path("results"))
        parser.add_argument("--scenarios", type=Path, default=Path("scenarios"))
        parser.add_argument("--save-scenarios", action="store_true")
        known, _unknown = parser.parse_known_args(list(argv))
        return cls(results=known.results, scenarios=known.scenarios, save_scenarios=known.save_scenarios)
