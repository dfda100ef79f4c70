"""Budget curves kept on disk, so that a curve computed once shows at once the next time.

A curve (:func:`ntm_sim.analysis.frontier.frontier`) takes one recommended-plan search
per budget level: minutes on Lào Cai. It depends only on the scenario, the data, the
levels, the seed, the number of fresh draws, the tool's version and how a curve is made, so it is stored
under ``<results>/.frontier/<key>/`` with ``key`` a hash of those, in the same folder
layout as ``ntm-sim frontier`` writes (``frontier.csv``, ``summary.json``,
``manifest.json``), atomically and under the folder's lock (:mod:`ntm_sim.storage`).
A changed scenario or data set gives another key: a stale curve is never shown.

The results root's readers skip folders whose names start with a dot, so the cache
never shows up as a run.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.analysis.compare import ScenarioRun
from ntm_sim.analysis.frontier import DEFAULT_SCALES, Frontier, frontier
from ntm_sim.data.dataset import Dataset
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.model.scenario import Scenario

CACHE_FOLDER = ".frontier"
CURVE_REVISION = 2  # how a curve is made (2: plans carried up a level); a curve made otherwise is made again
SCENARIO_FILE = "scenario.yaml"  # the scenario a results folder was solved with (written by results)


def frontier_key(ds: Dataset, scenario: Scenario, scales: tuple[float, ...], seed: int) -> str:
    """The cache key of a curve: scenario and data hashes, levels, seed, draws and the tool's version."""
    return key_of_hashes(scenario, ds.content_hash(), scales, seed)


def key_of_hashes(scenario: Scenario, data_hash: str, scales: tuple[float, ...], seed: int) -> str:
    """:func:`frontier_key` from the data's hash (as a run's manifest records it): no dataset to load."""
    from ntm_sim import __version__

    payload = {"scenario": scenario.content_hash(), "data": data_hash,
               "scales": sorted(float(s) for s in scales), "seed": int(seed),
               "draws": int(scenario.robustness.test_draws), "version": __version__, "curve": CURVE_REVISION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:24]


def cache_folder(root: Path | str, ds: Dataset, scenario: Scenario, scales: tuple[float, ...], seed: int) -> Path:
    """Where the curve of these inputs is kept under the results root ``root``."""
    return Path(root) / CACHE_FOLDER / frontier_key(ds, scenario, scales, seed)


def write_frontier_files(result: Frontier, folder: Path) -> None:
    """``frontier.csv`` and ``summary.json`` of a curve into ``folder`` (the manifest is the caller's)."""
    from ntm_sim.data.io.cells import write_csv
    from ntm_sim.run.results import write_json

    write_csv(result.table, folder / "frontier.csv", index=False, lineterminator="\n", float_format=None)
    write_json(folder / "summary.json", {
        "scenario": result.scenario, "target_communes_ntm": result.target, "confidence": result.confidence,
        "least_budget_mvnd": result.least_budget_mvnd, "blockers": result.blockers,
        "statement_vi": result.statement_vi(), "seed": result.seed, "draws": result.draws,
        "levels": result.table.to_dict(orient="records")})


def read_frontier(folder: Path | str) -> Frontier:
    """A curve read back from a folder written by ``ntm-sim frontier`` or this cache."""
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    table = pd.read_csv(folder / "frontier.csv")
    return Frontier(scenario=summary["scenario"], target=summary["target_communes_ntm"],
                    confidence=float(summary["confidence"]), table=table,
                    least_budget_mvnd=summary["least_budget_mvnd"],
                    blockers={str(k): float(v) for k, v in (summary.get("blockers") or {}).items()},
                    seed=int(summary["seed"]), draws=int(summary["draws"]))


def cached_frontier(root: Path | str, ds: Dataset, scenario: Scenario,
                    scales: tuple[float, ...] = DEFAULT_SCALES, *, seed: int = 0) -> Frontier | None:
    """The stored curve of these inputs, or None when there is none (or it cannot be read)."""
    folder = cache_folder(root, ds, scenario, scales, seed)
    if not (folder / "summary.json").is_file():
        return None
    try:
        return read_frontier(folder)
    except (OSError, ValueError, KeyError):
        return None  # a damaged entry is computed again, and replaced


def frontier_cached(root: Path | str, ds: Dataset, scenario: Scenario,
                    scales: tuple[float, ...] = DEFAULT_SCALES, *, seed: int = 0,
                    time_limit: float | None = None,
                    on_level: Callable[[int, int], None] | None = None) -> tuple[Frontier, bool]:
    """The curve of these inputs: read from the cache, or computed and stored.

    Returns
    -------
    tuple
        The curve, and whether it came from the cache.

    Raises
    ------
    InputError
        If another process is storing the same curve right now (its lock is held).
    """
    from ntm_sim.model.contracts import Manifest, dump
    from ntm_sim.run.results import manifest
    from ntm_sim.storage import atomic_folder

    found = cached_frontier(root, ds, scenario, scales, seed=seed)
    if found is not None:
        return found, True
    result = frontier(ds, scenario, scales, seed=seed, time_limit=time_limit, on_level=on_level)
    out = cache_folder(root, ds, scenario, scales, seed)
    with atomic_folder(out, kind="frontier", force=True) as tmp:
        write_frontier_files(result, tmp)
        dump(Manifest, manifest(ds, scenario, tmp, kind="frontier", status={"levels": len(scales)}, seed=seed,
                                command=["ntm_sim.run.frontier_cache", *sys.argv[:1]]), tmp / "manifest.json")
    return result, False


def run_inputs(run: ScenarioRun) -> tuple[Scenario, Dataset]:
    """The scenario a results folder was solved with and its data, checked against the folder's manifest.

    Raises
    ------
    InputError
        If the folder keeps no scenario (solved by an older version), or the data have
        changed since (their hash differs from the manifest's).
    """
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.run.workflow import scenario_dataset

    path = run.folder / SCENARIO_FILE
    if not path.is_file():
        raise InputError([Problem(str(path), Text("frontier.no_scenario"),
                                  expected=Text("frontier.no_scenario.expected"), found=Text("frontier.no_file"))])
    scenario = load_scenario(path)
    file = (run.manifest.get("scenario") or {}).get("file")
    if file:
        scenario.source_file = str(file)  # its data path is relative to the original file's folder
    ds = scenario_dataset(scenario)
    recorded = (run.manifest.get("data") or {}).get("hash")
    if recorded and recorded != ds.content_hash():
        raise InputError([Problem(str(run.folder / "manifest.json"), Text("frontier.data_changed"),
                                  expected=Text("results.data_hash", hash=recorded[:12]),
                                  found=ds.content_hash()[:12] + "…")])
    return scenario, ds


@dataclass(frozen=True)
class RunPosition:
    """Where a run sits against a budget curve: its money and its communes NTM by the horizon."""

    name: str
    budget_mvnd: float
    communes: float
    simulated: bool


def run_position(run: ScenarioRun) -> RunPosition | None:
    """A run's budget and communes (simulated median where simulated, else on paper); None if unknown."""
    budget = run.contract.budget_mvnd
    head = run.headline
    o = None if head is None else head.outcomes.get("communes_ntm")
    simulated = head is not None and head.basis == "simulation" and o is not None and o.median is not None
    communes = o.median if simulated else run.contract.communes_ntm
    if not isinstance(budget, int | float) or not isinstance(communes, int | float) or not math.isfinite(budget):
        return None
    return RunPosition(run.name, float(budget), float(communes), simulated)


def marginal_table(result: Frontier) -> pd.DataFrame:
    """Money per extra commune between consecutive levels (tỷ đồng), one row per step.

    Columns: ``from_bn``, ``to_bn`` (the two levels' money), ``extra_communes`` (simulated
    mean), ``bn_per_commune`` (NaN where a level gives no more communes).
    """
    t = result.table.sort_values("budget_mvnd")
    money = t["budget_mvnd"].to_numpy(dtype=float) / 1000
    mean = t["mean"].to_numpy(dtype=float)
    extra = np.diff(mean)
    per = np.where(extra > 0, np.diff(money) / np.where(extra > 0, extra, 1.0), np.nan)
    return pd.DataFrame({"from_bn": money[:-1], "to_bn": money[1:], "extra_communes": extra, "bn_per_commune": per})
