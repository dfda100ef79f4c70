"""Results folders read back: one run per folder, damaged folders named, never fatal.

A run is read through the contracts it was written with (:mod:`ntm_sim.model.contracts`) and
then drawn once with every table the dashboard and the report show
(:mod:`ntm_sim.present.report_html`), so a run that loads is one that shows. This module sits
above both :mod:`ntm_sim.analysis.compare` (the tables) and :mod:`ntm_sim.present.report_html`
(the drawing), so neither imports the other's caller.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from ntm_sim.analysis.compare import (
    SIMULATION,
    ScenarioRun,
    confidence_of,
    ntm_by_year,
    threshold_curves,
)
from ntm_sim.data.io.files import MAX_RESULT_BYTES, check_regular, read_text
from ntm_sim.data.table_contracts import check_table
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.model.contracts import Manifest, SolveSummary, upgrade_summary, validate
from ntm_sim.model.plan import FORMER_RECOMMENDED, RECOMMENDED
from ntm_sim.present import report_html

__all__ = ["SOLVE_FOLDER", "RunCache", "find_runs", "load_run", "scan_runs"]


_T = TypeVar("_T")
SOLVE_FOLDER = Text("runs.solve_folder")


def _read(path: Path, read: Callable[[Path], _T], expected: Text = SOLVE_FOLDER) -> _T:
    """``read(path)``, with any failure turned into a problem naming the file.

    A results folder is written by another process, possibly another account or an
    older version: whatever is wrong with it (missing, truncated, not UTF-8, no
    permission, a folder where a file should be) is that folder's problem, never the
    reader's crash.
    """
    try:
        return read(path)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError([Problem(str(path), Text("runs.missing"), expected=expected)]) from None
    except PermissionError:
        raise InputError([Problem(str(path), Text("runs.no_permission"),
                                  expected=Text("runs.no_permission.expected"))]) from None
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(path), Text("runs.not_json", error=str(exc)), expected=expected)]) from None
    except pd.errors.EmptyDataError:
        raise InputError([Problem(str(path), Text("runs.empty"), expected=expected)]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(str(path), Text("io.not_utf8"), expected=expected)]) from None
    except Exception as exc:  # any other failure is still this file's problem, never the reader's
        raise InputError([Problem(str(path), Text("runs.unusable", error=f"{type(exc).__name__}: {exc}"),
                                  expected=expected)]) from None


def _json_object(path: Path) -> dict:
    path.stat()  # a missing file is named as such by _read
    data = json.loads(read_text(path, str(path), MAX_RESULT_BYTES))
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    return data


def _csv(path: Path) -> pd.DataFrame:
    check_regular(path, str(path), MAX_RESULT_BYTES)  # a FIFO would block the dashboard for ever
    return pd.read_csv(path, dtype={"commune_code": str, "district_code": str})


def _is_file(path: Path) -> bool:
    return _read(path, Path.is_file)


def load_run(folder: Path | str) -> ScenarioRun:
    """Read a solve results folder (and its ``simulation/`` subfolder, if any).

    The run is also put through every table the dashboard and the report draw from
    it, so a run that loads is one that shows.

    Raises
    ------
    InputError
        If the folder is not a usable results folder of ``ntm-sim solve``: each problem
        names the folder and the file.
    """
    folder = Path(folder)
    summary = _read(folder / "summary.json", _json_object)
    if "communes_ntm_by_year" not in summary or "baselines" not in summary:
        raise InputError([Problem(str(folder / "summary.json"), Text("runs.not_solve_summary"),
                                  expected=SOLVE_FOLDER)])
    summary = upgrade_summary(summary, folder / "summary.json")  # an older folder read in today's names
    record = validate(SolveSummary, summary, folder / "summary.json")  # read through the model it was written with
    manifest = _read(folder / "manifest.json", _json_object)
    validate(Manifest, manifest, folder / "manifest.json")
    communes = _read(folder / "communes.csv", _csv)
    check_table(communes, "communes", folder / "communes.csv")  # checked only: the views read it as written
    sim_file = folder / SIMULATION / "summary.json"
    simulation = _read(sim_file, _json_object) if _is_file(sim_file) else None
    sim_communes = None
    if simulation is not None and _is_file(folder / SIMULATION / "communes.csv"):
        sim_communes = _read(folder / SIMULATION / "communes.csv", _csv)
        check_table(sim_communes, "chances", folder / SIMULATION / "communes.csv")
        sim_communes["plan"] = sim_communes["plan"].replace({FORMER_RECOMMENDED: RECOMMENDED})
    if simulation is not None and FORMER_RECOMMENDED in (simulation.get("plans") or {}):
        simulation = {**simulation, "plans": {RECOMMENDED if k == FORMER_RECOMMENDED else k: v
                                              for k, v in simulation["plans"].items()}}
    name = folder.absolute().name or str(folder)  # "." is named by the folder it stands for
    if simulation is not None and _is_file(folder / SIMULATION / "manifest.json"):
        _check_own_simulation(folder, manifest, _read(folder / SIMULATION / "manifest.json", _json_object))
    run = ScenarioRun(name=name, folder=folder, summary=summary, communes=communes, manifest=manifest,
                      simulation=simulation, sim_communes=sim_communes, record=record)
    _check_usable(run)
    return run


def _check_own_simulation(folder: Path, manifest: dict, sim_manifest: dict) -> None:
    """A run's ``simulation/`` must be of the run's own scenario and plan, or its odds would show under another title.

    Raises
    ------
    InputError
        Naming ``simulation/manifest.json`` when its scenario or its plan's ``projects.csv``
        differ from the run's.
    """
    path = folder / SIMULATION / "manifest.json"
    expected = Text("runs.own_simulation.expected", folder=str(folder))
    scenario = (manifest.get("scenario") or {}).get("hash")
    sim_scenario = (sim_manifest.get("scenario") or {}).get("hash")
    if scenario and sim_scenario and scenario != sim_scenario:
        raise InputError([Problem(str(path), Text("runs.other_scenario", name=str((sim_manifest.get("scenario") or {})
                                                                                  .get("name", "?"))),
                                  expected=expected, found=str(sim_scenario)[:12] + "…")])
    projects = (manifest.get("files") or {}).get("projects.csv")
    ref = sim_manifest.get("plan")
    sim_plan = ref.get("projects_sha256") if isinstance(ref, dict) else None
    if projects and sim_plan and projects != sim_plan:
        raise InputError([Problem(str(path), Text("runs.other_plan"), expected=expected,
                                  found=str(ref.get("folder", "?")))])  # type: ignore[union-attr]


def is_simulation_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a simulation of its own (``ntm-sim simulate --out``), not a solve's results."""
    for name, key, value in ((".ntm-sim", "kind", "simulation"), ("manifest.json", "kind", "simulate")):
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get(key) == value:
            return True
    return False


def _check_usable(run: ScenarioRun) -> None:
    """Draw every table of ``run`` once; a failure names the file it comes from.

    A summary that is valid JSON but not what a solve writes (an older version, a file
    edited by hand) would otherwise fail only when a view draws it: in the dashboard of
    every user, or in the middle of a report.
    """
    on_paper = dataclasses.replace(run, simulation=None, sim_communes=None)
    simulated = dataclasses.replace(run, sim_communes=None)

    def draw_summary(_path: Path) -> None:
        _ = run.horizon, confidence_of([on_paper])
        ntm_by_year([on_paper])
        report_html.indicators_html([on_paper])
        report_html.baselines_html([on_paper])
        report_html.status_vi(run.contract)

    def draw_simulation(_path: Path) -> None:
        threshold_curves([simulated])
        report_html.risk_html([simulated])
        report_html.baselines_html([simulated])

    _read(run.folder / "summary.json", draw_summary)
    _read(run.folder / "manifest.json", lambda _p: report_html.provenance_html([on_paper]))
    _read(run.folder / "communes.csv", lambda _p: report_html.communes_frame(on_paper))
    if run.simulation is not None:
        _read(run.folder / SIMULATION / "summary.json", draw_simulation)
        _read(run.folder / SIMULATION / "summary.json", lambda _p: report_html.provenance_html([simulated]))
    if run.sim_communes is not None:
        _read(run.folder / SIMULATION / "communes.csv", lambda _p: report_html.communes_frame(run))


def scan_runs(root: Path | str, cache: RunCache | None = None) -> tuple[list[ScenarioRun], list[Problem]]:
    """Every solve results folder directly under ``root``, and the problems of broken ones.

    A folder with a ``summary.json`` that cannot be used, or a folder that cannot be
    read at all, is reported (folder and file named), never fatal: one damaged run
    must not hide the others. Hidden folders (uploads, runs being written), folders
    without a ``summary.json`` and simulation folders (``ntm-sim simulate --out
    results/NAME``: a simulation without its solve) are not runs. With a ``cache``, a folder
    read before and unchanged since is not read again (:class:`RunCache`).
    """
    root = Path(root)
    try:
        if not root.is_dir():
            return [], []
        entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        return [], [Problem(str(root), Text("runs.root_unreadable", error=str(exc.strerror or exc)),
                            expected=Text("runs.root_unreadable.expected"))]
    runs, problems = [], []
    for sub in entries:
        try:
            if _read(sub, Path.is_dir) and _is_file(sub / "summary.json") and not is_simulation_folder(sub):
                runs.append(cache.load(sub) if cache is not None else load_run(sub))
        except InputError as exc:
            problems.extend(exc.problems)
    if cache is not None:
        cache.forget_others(root, [str(r.folder) for r in runs])
    return runs, problems


def find_runs(root: Path | str) -> list[ScenarioRun]:
    """Every solve results folder directly under ``root``, by folder name.

    Raises
    ------
    InputError
        If a folder with a ``summary.json`` cannot be read.
    """
    runs, problems = scan_runs(root)
    if problems:
        raise InputError(problems)
    return runs


_Stamp = tuple[tuple[str, int, int, int], ...]


def _stamp(folder: Path) -> _Stamp | None:
    """Every file of ``folder`` with its size, change time and inode (None: not readable as a whole)."""
    try:
        found = []
        for here, dirs, files in os.walk(folder, onerror=_raise):
            dirs.sort()
            for name in sorted(files):
                st = os.stat(os.path.join(here, name), follow_symlinks=False)
                found.append((os.path.relpath(os.path.join(here, name), folder), st.st_size, st.st_mtime_ns, st.st_ino))
        st = os.stat(folder)
        return (("", st.st_size, st.st_mtime_ns, st.st_ino), *found)
    except OSError:
        return None


def _raise(exc: OSError) -> None:
    raise exc


class RunCache:
    """Runs read once and handed out again while their files are unchanged.

    The dashboard's server keeps one: every page a planner opens reads the same folders, 0.3 s each.
    A folder is stamped with every file's size, change time and inode; results are written whole and
    renamed into place, so a run written again has a new stamp and is read again. Each caller gets its
    own copy of the tables and the summary: what one page does with its run never reaches another's.
    A folder that fails to load is not kept (its problems are found again, named, each time).
    """

    def __init__(self) -> None:
        self._runs: dict[str, tuple[_Stamp, ScenarioRun]] = {}
        self._lock = threading.Lock()  # a server's sessions may build their pages in threads

    def load(self, folder: Path | str) -> ScenarioRun:
        """The run of ``folder`` as :func:`load_run` reads it, from memory when its files are unchanged.

        Raises
        ------
        InputError
            As :func:`load_run`.
        """
        folder = Path(folder)
        key, stamp = str(folder), _stamp(folder)
        with self._lock:
            kept = self._runs.get(key)
        if stamp is None or kept is None or kept[0] != stamp:
            run = load_run(folder)
            if stamp is not None and _stamp(folder) == stamp:  # not changed while it was read
                with self._lock:
                    self._runs[key] = (stamp, run)
            kept = (stamp, run)  # type: ignore[assignment]
        return _own_copy(kept[1])

    def forget_others(self, root: Path, kept: list[str]) -> None:
        """Let go of the runs directly under ``root`` that are not ``kept`` (deleted, renamed or damaged since)."""
        with self._lock:
            for key in [k for k in self._runs if Path(k).parent == root and k not in kept]:
                del self._runs[key]

    def __len__(self) -> int:
        """How many runs are kept."""
        return len(self._runs)


def _own_copy(run: ScenarioRun) -> ScenarioRun:
    """A run whose tables, dictionaries and record are the caller's own."""
    return dataclasses.replace(
        run, summary=copy.deepcopy(run.summary), manifest=copy.deepcopy(run.manifest),
        record=None if run.record is None else run.record.model_copy(deep=True),
        communes=run.communes.copy(), simulation=copy.deepcopy(run.simulation),
        sim_communes=None if run.sim_communes is None else run.sim_communes.copy())
