"""Results folders: every run writes its tables, a summary and a manifest, atomically.

A folder is built under a temporary name next to its destination and renamed into
place only when every file is written, so a failed run never leaves half a result.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

import ntm_sim
from ntm_sim.dataset import Dataset
from ntm_sim.optimize import SolveResult
from ntm_sim.optimize.baselines import NAMES_VI
from ntm_sim.optimize.explain import commune_table
from ntm_sim.plan import Plan
from ntm_sim.scenario import Scenario


@contextmanager
def atomic_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out`` only if the block succeeds."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers."""
    out = {"ntm-sim": ntm_sim.__version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "pandas", "pulp", "highspy", "openpyxl", "pydantic"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_json(path: Path, data: dict) -> None:
    """Write JSON with Vietnamese text readable and NaN as null."""
    path.write_text(json.dumps(_jsonable(data), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(ds: Dataset, scenario: Scenario, folder: Path, *, kind: str, status: dict,
             seed: int | None = None, timings: dict | None = None, solver: dict | None = None,
             command: list[str] | None = None) -> dict:
    """The manifest of a results folder: hashes, versions, seed, status, timings, files."""
    files = {p.relative_to(folder).as_posix(): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    return {
        "kind": kind,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command if command is not None else sys.argv,
        "versions": package_versions(),
        "platform": platform.platform(),
        "scenario": {"name": scenario.name, "file": scenario.source_file, "hash": scenario.content_hash()},
        "data": {"name": ds.meta.name, "source": ds.meta.source, "hash": ds.content_hash(),
                 "criteria_set": ds.criteria.id, "demo": ds.meta.demo,
                 "demo_label": ds.meta.demo_label if ds.meta.demo else None,
                 "costs_estimated": ds.any_cost_estimated},
        "seed": seed,
        "solver": solver,
        "status": status,
        "timings": timings or {},
        "files": files,
    }


def outcome_summary(plan: Plan, result: SolveResult) -> dict:
    """Headline figures of one plan."""
    inst = result.instance
    o = plan.outcomes
    years = [int(y) for y in inst.years]
    spend = {str(y): {inst.sources[f]: float(o.spend_by_source_year[f, t]) for f in range(len(inst.sources))}
             for t, y in enumerate(years)}
    return {
        "communes_ntm": o.communes_ntm,
        "communes_ntm_by_year": {str(y): int(n) for y, n in zip(years, o.ntm_by_year, strict=True)},
        "new_communes_ntm": int(o.communes_ntm - inst.base_ntm.sum()),
        "advanced": int(o.advanced.sum()),
        "model": int(o.model.sum()),
        "district_units": [inst.districts[d] for d in np.flatnonzero(o.district_unit)],
        "district_unit_names": [str(inst.dataset.districts["district_name"].iloc[d])
                                for d in np.flatnonzero(o.district_unit)],
        "advanced_districts": [inst.districts[d] for d in np.flatnonzero(o.district_advanced)],
        "villages_ntm_new": o.villages_ntm_new,
        "villages_model_new": o.villages_model_new,
        "avg_criteria": round(o.avg_criteria, 3),
        "communes_below_floor": o.floor_violations(inst.targets.min_criteria),
        "criterion_communes": {inst.criteria[k]: int(n) for k, n in enumerate(o.criterion_communes)},
        "total_cost_mvnd": o.total_cost,
        "spend_by_year_source": spend,
        "unspent_mvnd": float(inst.total_budget - o.total_cost),
    }


def targets_report(result: SolveResult, plan: Plan) -> dict:
    """Each target of the scenario: value, what the plan reaches, met or not."""
    inst = result.instance
    t = inst.targets
    o = plan.outcomes
    rows: dict[str, dict] = {}

    def add(name: str, target: float | None, achieved: float) -> None:
        if target is not None:
            rows[name] = {"target": target, "achieved": achieved, "met": bool(achieved >= target - 1e-9)}

    add("communes_ntm", t.communes_ntm, o.communes_ntm)
    add("advanced", t.advanced, int(o.advanced.sum()))
    add("model", t.model, int(o.model.sum()))
    for d in t.district_units:
        add(f"district_units:{inst.districts[d]}", 1, int(o.district_unit[d]))
    for d in t.advanced_districts:
        add(f"advanced_districts:{inst.districts[d]}", 1, int(o.district_advanced[d]))
    add("villages_ntm", t.villages_ntm, o.villages_ntm_new)
    add("villages_model", t.villages_model, o.villages_model_new)
    if t.min_criteria is not None:
        rows["min_criteria"] = {"target": t.min_criteria, "achieved": int(o.criteria_met_end.min()),
                                "met": bool(o.criteria_met_end.min() >= t.min_criteria)}
    add("avg_criteria", t.avg_criteria, round(o.avg_criteria, 3))
    for k, need in t.criterion_communes.items():
        add(f"criterion_communes:{inst.criteria[k]}", need, int(o.criterion_communes[k]))
    return rows


def solve_summary(result: SolveResult) -> dict:
    """The ``summary.json`` of a solve."""
    inst = result.instance
    ds = inst.dataset
    best = result.plan.outcomes
    baselines = {}
    for name, plan in result.baselines.items():
        s = outcome_summary(plan, result)
        s["name_vi"] = NAMES_VI.get(name, name)
        s["optimum_minus_baseline_communes"] = best.communes_ntm - plan.outcomes.communes_ntm
        s["targets"] = targets_report(result, plan)
        baselines[name] = s
    summary = {
        "status": result.status,
        "termination": str(result.termination),
        "proven_optimal": result.proven_optimal,
        "mip_gap": result.mip_gap,
        "best_bound": result.primary.bound,
        "objective": result.primary.objective,
        "runtime_s": result.runtime_s,
        "build_s": result.build_s,
        "solver": result.solver,
        "solver_version": result.solver_version,
        "mode": result.mode,
        "warm_start": result.warm_start,
        "scenario": inst.scenario.name,
        "dataset": ds.meta.name,
        "demo_data": ds.meta.demo,
        "demo_label": ds.meta.demo_label if ds.meta.demo else None,
        "costs_estimated": ds.any_cost_estimated,
        "years": [int(y) for y in inst.years],
        "budget_mvnd": float(inst.total_budget),
        "stages": [{"name": s.name, "sense": s.sense, "termination": str(s.termination),
                    "proven_optimal": s.proven_optimal, "objective": s.objective, "bound": s.bound,
                    "mip_gap": s.mip_gap, "runtime_s": s.runtime_s} for s in result.stages],
        **outcome_summary(result.plan, result),
        "targets": targets_report(result, result.plan),
        "shortfalls": [{"key": s.key, "label": s.label, "needed": s.needed, "achieved": s.achieved,
                        "missing": s.missing} for s in result.shortfalls],
        "baselines": baselines,
    }
    if result.funding_gap is not None:
        summary["funding_gap_by_year"] = {str(int(y)): float(g) for y, g in zip(inst.years, result.funding_gap,
                                                                                  strict=True)}
        summary["funding_gap_mvnd"] = float(result.funding_gap.sum())
    return summary


def _named(inst_ds: Dataset, frame: pd.DataFrame, sources: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add commune, district, criterion and source names to a plan table."""
    out = frame.copy()
    names = inst_ds.communes["commune_name"]
    out.insert(1, "commune_name", out["commune_code"].map(names).fillna(""))
    dn = inst_ds.districts["district_name"]
    out.insert(3, "district_name", out["district_code"].map(dn).fillna(""))
    crit_names = {c.id: c.name_vi for c in inst_ds.criteria.criteria}
    out["criterion_name"] = out["criterion"].map(crit_names).fillna("")
    if sources is not None and "source" in out.columns:
        out["source_name"] = out["source"].map(sources["name_vi"]).fillna("")
    return out


def write_solve_results(result: SolveResult, out: Path, *, command: list[str] | None = None,
                        extra: Callable[[Path], None] | None = None) -> dict:
    """Write a solve's results folder atomically and return its summary.

    Files: ``plan.csv`` (commune × criterion × year × source money), ``projects.csv``,
    ``communes.csv`` (priorities with reasons), ``summary.json``, ``manifest.json`` and
    ``baselines/<rule>/projects.csv``.
    """
    inst = result.instance
    ds = inst.dataset
    summary = solve_summary(result)
    with atomic_folder(out) as tmp:
        funding = result.plan.funding.copy()
        funding["amount_mvnd"] = funding["amount_mvnd"].round(3)
        projects = result.plan.projects
        plan_csv = _named(ds, funding, ds.sources)
        years = projects.set_index("project_id")[["start_year", "end_year"]]
        plan_csv = plan_csv.join(years, on="project_id")
        plan_csv.to_csv(tmp / "plan.csv", index=False, lineterminator="\n")
        _named(ds, projects).to_csv(tmp / "projects.csv", index=False, lineterminator="\n")
        commune_table(inst, result.plan, result.baselines).to_csv(tmp / "communes.csv", index=False,
                                                                  lineterminator="\n")
        for name, plan in result.baselines.items():
            (tmp / "baselines" / name).mkdir(parents=True)
            _named(ds, plan.projects).to_csv(tmp / "baselines" / name / "projects.csv", index=False,
                                             lineterminator="\n")
        write_json(tmp / "summary.json", summary)
        if extra is not None:
            extra(tmp)
        status = {"status": result.status, "termination": str(result.termination),
                  "proven_optimal": result.proven_optimal, "mip_gap": result.mip_gap,
                  "best_bound": result.primary.bound}
        write_json(tmp / "manifest.json", manifest(
            ds, inst.scenario, tmp, kind="solve", status=status, command=command,
            solver={"name": result.solver, "version": result.solver_version},
            timings={"build_s": result.build_s, "solve_s": result.runtime_s}))
    return summary
