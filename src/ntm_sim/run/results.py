"""Results folders: every run writes its tables, a summary and a manifest, atomically.

A folder is built under a temporary name next to its destination and renamed into
place only when every file is written, so a failed run never leaves half a result.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import ntm_sim
from ntm_sim.data.dataset import Dataset
from ntm_sim.data.io.cells import write_csv
from ntm_sim.data.table_contracts import check_table
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.messages import Catalogue
from ntm_sim.model.contracts import RESULTS_FORMAT, Manifest, SolveSummary, dump, jsonable
from ntm_sim.model.funding_gap import GAP_SOURCE
from ntm_sim.model.instance import Instance
from ntm_sim.model.plan import RECOMMENDED, Decisions, Plan, decisions_from_projects
from ntm_sim.model.scenario import Scenario
from ntm_sim.optimize import STAGE_NAMES_VI, SolveResult
from ntm_sim.optimize.baselines import NAMES_VI
from ntm_sim.present.explain import commune_table
from ntm_sim.simulate import BLOCK, SimulationResult
from ntm_sim.storage import atomic_folder, mark_folder

if TYPE_CHECKING:
    from ntm_sim.analysis.recommend import Recommendation

VI = Catalogue("vi")  # the summary's Vietnamese names (stages, shortfalls), as readers of summary.json know them


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers."""
    out = {"ntm-sim": ntm_sim.__version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "pandas", "pulp", "highspy", "openpyxl", "pydantic"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_json(path: Path, data: dict) -> None:
    """Write JSON with Vietnamese text readable and NaN as null (files without a contract of their own)."""
    path.write_text(json.dumps(jsonable(data), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


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
                 "costs_estimated": ds.any_cost_estimated,
                 "criteria_provisional": ds.criteria.provisional_items()},
        "seed": seed,
        "solver": solver,
        "status": status,
        "timings": timings or {},
        "files": files,
    }


def _real_spend(inst: Instance, plan: Plan) -> float:
    """Money the plan takes from the real sources (the gap source left out)."""
    spend = plan.outcomes.spend_by_source_year
    if inst.gap_source is None:
        return float(spend.sum())
    return float(spend.sum() - spend[inst.gap_source].sum())


def recognition_summary(inst: Instance) -> dict:
    """How recognitions were counted and could be lost: what a reader needs to repeat the figures."""
    rec = inst.recognition
    rule = inst.dataset.criteria.revocation
    review = None if rec is None or rec.review_from >= inst.n_years else int(inst.years[rec.review_from])
    return {"counts": inst.targets.communes_count, "recognised_at_start": int(inst.recognised.sum()),
            "meeting_at_start": int(inst.base_ntm.sum()), "held_by_rule_at_start": int(inst.at_risk.sum()),
            "first_review": review, "rule": rule.source if rule is not None else None}


def counted_at_start(inst: Instance) -> int:
    """Communes counted NTM at the start: recognised (the default count) or meeting every criterion."""
    return int((inst.recognised if inst.targets.communes_count == "recognised" else inst.base_ntm).sum())


def outcome_summary(plan: Plan, result: SolveResult) -> dict:
    """Headline figures of one plan."""
    inst = result.instance
    o = plan.outcomes
    years = [int(y) for y in inst.years]
    spend = {str(y): {inst.sources[f]: float(o.spend_by_source_year[f, t]) for f in range(len(inst.sources))}
             for t, y in enumerate(years)}
    figures = {
        # as the scenario counts them (targets.communes_count: recognised, as provinces count, by default)
        "communes_ntm": o.communes_ntm,
        "communes_ntm_by_year": {str(y): int(n) for y, n in zip(years, o.ntm_by_year, strict=True)},
        "new_communes_ntm": int(o.communes_ntm - counted_at_start(inst)),
        "communes_meeting": o.communes_meeting,
        # recognition apart from criteria (model.targets): kept on paper, new ones once they meet every criterion
        "communes_recognised": o.communes_recognised,
        "recognised_short_at_start": int((inst.recognised & ~inst.base_ntm).sum()),
        "maintenance_mvnd": float(inst.maintenance.sum()),
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
        "unspent_mvnd": float(inst.real_budget - _real_spend(inst, plan)),
    }
    # no count for a tier or district unit the criteria set does not issue (Decision 51: no advanced, no districts)
    return {k: v for k, v in figures.items() if k not in inst.absent_outcomes}


def stage_name_vi(name: str, ds: Dataset) -> str:
    """A stage's Vietnamese name; the tiers stage names the criteria set's own tiers ("xã nâng cao, kiểu mẫu")."""
    if name == "tiers" and (tiers := ds.criteria.tier_slots()):
        return VI("results.tiers_stage", tiers=", ".join(t.label_vi for t in tiers.values()))
    return STAGE_NAMES_VI.get(name, name)


def shortfall_name_vi(key: str, ds: Dataset) -> str:
    """What a shortfall is about, in Vietnamese, with the data's own names (the model's label is English).

    ``key`` is the model's (``district_units:89``, ``lock:commune:02839``, ``advanced``…); the words
    come from the catalogue (``shortfall.*``), the names from the data.
    """
    kind, _, rest = key.partition(":")
    districts = dict(zip(ds.districts.index.astype(str), ds.districts["district_name"].astype(str), strict=True))
    communes = dict(zip(ds.communes.index.astype(str), ds.communes["commune_name"].astype(str), strict=True))
    tiers = ds.criteria.tier_slots()
    if kind in ("district_units", "advanced_districts"):
        return VI(f"shortfall.{kind}", name=districts.get(rest, rest))
    if kind in ("min_criteria",):
        return VI("shortfall.min_criteria", name=communes.get(rest, rest))
    if kind == "criterion_communes":
        return VI("shortfall.criterion_communes", criterion=rest)
    if kind == "lock":
        what, _, code = rest.partition(":")
        return VI("shortfall.lock_commune", name=communes.get(code, code)) if what == "commune" else VI(
            "shortfall.lock_project")
    if kind in tiers:
        return VI("shortfall.tier", tier=tiers[kind].label_vi)
    if kind in ("villages_ntm", "villages_model", "avg_criteria"):
        return VI(f"shortfall.{kind}")
    return STAGE_NAMES_VI.get(kind, key)  # communes_ntm: "số xã đạt chuẩn"


def targets_report(result: SolveResult, plan: Plan) -> dict:
    """Each target of the scenario: value, what the plan reaches, met or not."""
    from ntm_sim.model.targets import achieved_on_plan, targets_of

    rows: dict[str, dict] = {}
    for target in targets_of(result.instance):
        achieved = achieved_on_plan(target, plan.outcomes)
        shown = round(achieved, 3) if target.family == "avg_criteria" else int(round(achieved))
        needed = target.needed if target.family == "avg_criteria" else int(target.needed)
        rows[target.key] = {"target": needed, "achieved": shown, "met": target.met(achieved)}
        if target.family == "communes_ntm":
            rows[target.key]["counts"] = target.count  # meeting every criterion, or recognised
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
        s["recommended_minus_baseline_communes"] = best.communes_ntm - plan.outcomes.communes_ntm
        s["recommended_minus_baseline_cost_mvnd"] = best.total_cost - plan.outcomes.total_cost
        s["targets"] = targets_report(result, plan)
        baselines[name] = s
    summary = {
        "format": RESULTS_FORMAT,
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
        "title": inst.scenario.title,
        "dataset": ds.meta.name,
        "demo_data": ds.meta.demo,
        "demo_label": ds.meta.demo_label if ds.meta.demo else None,
        "costs_estimated": ds.any_cost_estimated,
        "years": [int(y) for y in inst.years],
        "recognition": recognition_summary(inst),
        "criteria_set": ds.criteria.id,
        "tiers": ds.criteria.tier_labels(),
        "budget_mvnd": float(inst.real_budget),
        "reproducible": result.reproducible,
        "fallback": result.fallback,
        "stages": [{"name": s.name, "name_vi": stage_name_vi(s.name, ds), "sense": s.sense,
                    "termination": str(s.termination), "proven_optimal": s.proven_optimal,
                    "reproducible": s.reproducible, "objective": s.objective, "bound": s.bound,
                    "mip_gap": s.mip_gap, "gap_tolerance": s.gap_tolerance, "nodes": s.nodes,
                    "plan_value": s.plan_value, "runtime_s": s.runtime_s} for s in result.stages],
        **outcome_summary(result.plan, result),
        "targets": targets_report(result, result.plan),
        "shortfalls": [{"key": s.key, "label": s.label, "label_vi": shortfall_name_vi(s.key, ds), "needed": s.needed,
                        "achieved": s.achieved, "missing": s.missing} for s in result.shortfalls],
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
    out.insert(3, "district_name", out["district_code"].map(dn).astype(object).fillna(""))
    crit_names = {c.id: c.name_vi for c in inst_ds.criteria.criteria}
    out["criterion_name"] = out["criterion"].map(crit_names).fillna("")
    if sources is not None and "source" in out.columns:
        out["source_name"] = out["source"].map(sources["name_vi"]).astype(object).fillna("")
    return out


def _write_plan_tables(result: SolveResult, tmp: Path) -> None:
    """The plan's tables: ``plan.csv``, ``projects.csv``, ``communes.csv``, each rule's, and ``reserve.csv``."""
    inst = result.instance
    ds = inst.dataset
    funding = result.plan.funding.copy()
    funding["amount_mvnd"] = funding["amount_mvnd"].round(3)
    projects = result.plan.projects
    plan_csv = _named(ds, funding, ds.sources)
    years = projects.set_index("project_id")[["start_year", "end_year"]]
    plan_csv = plan_csv.join(years, on="project_id")
    write_csv(plan_csv, tmp / "plan.csv", index=False, lineterminator="\n", float_format=None)
    write_csv(_named(ds, projects), tmp / "projects.csv", index=False, lineterminator="\n", float_format=None)
    communes = commune_table(inst, result.plan, result.baselines)
    check_table(communes, "communes", "communes.csv")  # a broken table is a bug here, not bad input
    write_csv(communes, tmp / "communes.csv", index=False, lineterminator="\n", float_format=None)
    for name, plan in result.baselines.items():
        (tmp / "baselines" / name).mkdir(parents=True)
        write_csv(_named(ds, plan.projects), tmp / "baselines" / name / "projects.csv", index=False,
                                         lineterminator="\n", float_format=None)
        base_funding = plan.funding.copy()
        base_funding["amount_mvnd"] = base_funding["amount_mvnd"].round(3)
        write_csv(_named(ds, base_funding, ds.sources), tmp / "baselines" / name / "plan.csv", index=False,
                                                    lineterminator="\n", float_format=None)
    reserve = result.plan.decisions.reserve
    if reserve is not None and reserve.any():
        ps = np.flatnonzero(reserve)
        table = pd.DataFrame({"commune_code": np.array(inst.communes, dtype=object)[inst.proj_commune[ps]],
                              "district_code": np.array([*inst.districts, ""], dtype=object)[
                                  inst.commune_district[inst.proj_commune[ps]]],
                              "criterion": np.array(inst.criteria, dtype=object)[inst.proj_criterion[ps]],
                              "lead_years": inst.proj_lead[ps], "cost_mvnd": inst.proj_cost[ps]})
        write_csv(_named(ds, table), tmp / "reserve.csv", index=False, lineterminator="\n", float_format=None)


def write_solve_results(result: SolveResult, out: Path, *, command: list[str] | None = None,
                        extra: Callable[[Path], None] | None = None, simulation: SimulationResult | None = None,
                        recommendation: Recommendation | None = None, force: bool = False) -> dict:
    """Write a solve's results folder atomically and return its summary.

    Files: ``plan.csv`` (commune × criterion × year × source money), ``projects.csv``,
    ``reserve.csv`` (the plan's reserve list, if any), ``communes.csv`` (priorities with
    reasons), ``scenario.yaml`` (the scenario solved), ``plan.xlsx`` (the planners' layout with the plan filled in),
    ``summary.json``, ``manifest.json``, ``baselines/<plan>/projects.csv`` and
    ``plan.csv``; with a simulation, its folder ``simulation/`` (written in the same
    atomic step), and the summary's headline is the simulated one.
    """
    inst = result.instance
    ds = inst.dataset
    summary = solve_summary(result)
    if recommendation is not None:
        summary["recommendation"] = recommendation_summary(recommendation)
    if simulation is not None:
        from ntm_sim.analysis.obstacles import obstacles_summary

        summary["headline"] = headline(simulation, RECOMMENDED, summary, inst.scenario.robustness.confidence)
        summary["obstacles"] = obstacles_summary(simulation)  # what stands in the way (the verdict's "why")
    with atomic_folder(out, force=force) as tmp:
        _write_plan_tables(result, tmp)
        dump(SolveSummary, summary, tmp / "summary.json")
        # the scenario as solved (its hash is the manifest's): what a budget curve of this run starts from
        (tmp / "scenario.yaml").write_text(inst.scenario.to_yaml(), encoding="utf-8")
        if simulation is not None:
            (tmp / SIMULATION_FOLDER).mkdir()
            _write_simulation(simulation, tmp / SIMULATION_FOLDER, command=command,
                              solver={"name": result.solver, "version": result.solver_version,
                                      "status": result.status},
                              plan_ref={"folder": "..", "projects_sha256": _sha256(tmp / "projects.csv")})
            mark_folder(tmp / SIMULATION_FOLDER, "simulation")  # replaceable alone (simulate --out X/simulation)
        from ntm_sim.present.report import build_plan_workbook

        build_plan_workbook(result, summary, simulation).save(tmp / "plan.xlsx")  # its cover: the verdict
        if extra is not None:
            extra(tmp)
        status = {"status": result.status, "termination": str(result.termination),
                  "proven_optimal": result.proven_optimal, "reproducible": result.reproducible,
                  "mip_gap": result.mip_gap, "best_bound": result.primary.bound,
                  "recommended_by": "simulation" if recommendation is not None else "deterministic optimum",
                  "simulation_complete": simulation is not None}
        dump(Manifest, manifest(
            ds, inst.scenario, tmp, kind="solve", status=status, command=command,
            solver={"name": result.solver, "version": result.solver_version},
            seed=recommendation.seed if recommendation is not None else None,
            timings={"build_s": result.build_s, "solve_s": result.runtime_s,
                     **(recommendation.timings if recommendation is not None else {})}), tmp / "manifest.json")
    return summary


# ----- reading plans back ---------------------------------------------------------------------

def load_plans(inst: Instance, folder: Path) -> dict[str, Decisions]:
    """Read the optimum and baseline plans of a ``ntm-sim solve`` results folder.

    The money split is read from ``plan.csv`` as the solve wrote it, so that a plan is
    simulated with exactly its own sources.

    Raises
    ------
    InputError
        If the folder is not a results folder, or was made for other data.
    """
    folder = Path(folder)
    problems = []
    if not (folder / "projects.csv").exists() or not (folder / "manifest.json").exists():
        raise InputError([Problem(str(folder), Text("results.not_solve_folder"),
                                  expected=Text("results.not_solve_folder.expected"))])
    made_for = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["data"]["hash"]
    if made_for != inst.dataset.content_hash():
        problems.append(Problem(str(folder / "manifest.json"), Text("results.other_data"),
                                expected=Text("results.data_hash", hash=inst.dataset.content_hash()[:12]),
                                found=made_for[:12] + "…"))
        raise InputError(problems)
    plans = {RECOMMENDED: _read_plan(inst, folder)}
    base = folder / "baselines"
    if base.exists():
        for sub in sorted(p for p in base.iterdir() if (p / "projects.csv").exists()):
            plans[sub.name] = _read_plan(inst, sub)
    return plans


def _read_plan(inst: Instance, folder: Path) -> Decisions:
    projects = pd.read_csv(folder / "projects.csv", dtype={"commune_code": str, "district_code": str},
                           keep_default_na=False)
    dec = decisions_from_projects(inst, projects)
    if (folder / "reserve.csv").exists():
        listed = pd.read_csv(folder / "reserve.csv", dtype={"commune_code": str, "district_code": str},
                             keep_default_na=False)
        p_index = {(inst.communes[int(c)], inst.criteria[int(k)]): p
                   for p, (c, k) in enumerate(zip(inst.proj_commune, inst.proj_criterion, strict=True))}
        dec.reserve = np.zeros(inst.n_projects, dtype=bool)
        for r in listed.itertuples(index=False):
            p = p_index.get((str(r.commune_code), str(r.criterion)))
            if p is not None:
                dec.reserve[p] = True
    funding_path = folder / "plan.csv"
    if not funding_path.exists():
        return dec
    funding = pd.read_csv(funding_path, dtype={"commune_code": str, "district_code": str}, keep_default_na=False)
    c_index = {c: i for i, c in enumerate(inst.communes)}
    d_index = {d: i for i, d in enumerate(inst.districts)}
    f_index = {s: i for i, s in enumerate(inst.sources)}
    p_index = {(int(c), inst.criteria[int(k)]): p
               for p, (c, k) in enumerate(zip(inst.proj_commune, inst.proj_criterion, strict=True))}
    flows = np.zeros((len(inst.sources), len(inst.classes), inst.n_years))
    for row, r in enumerate(funding.itertuples(index=False), start=2):
        if r.source not in f_index:
            raise InputError([Problem(str(funding_path), Text("results.gap_source" if r.source == GAP_SOURCE else
                                                              "results.unknown_source"), row=row, column="source",
                                      expected=", ".join(inst.sources), found=str(r.source))])
        if r.kind == "criterion":
            g = inst.proj_class[p_index[(c_index[r.commune_code], str(r.criterion))]]
        elif r.kind.startswith("district"):
            g = inst.district_upgrade_class[d_index[r.district_code]]
        else:
            g = inst.commune_upgrade_class[c_index[r.commune_code]]
        flows[f_index[r.source], g, inst.year_index(int(r.year))] += float(r.amount_mvnd)
    dec.flows = flows
    return dec


# ----- simulation results ---------------------------------------------------------------------

def simulation_summary(sim: SimulationResult) -> dict:
    """The ``summary.json`` of a simulation: target probabilities, spread, drivers, regret."""
    from ntm_sim.analysis import discover, outcome_table, regret, sensitivity, target_probabilities, threshold_curve

    inst = sim.instance
    ds = inst.dataset
    plans = {}
    for plan in sim.plans:
        o = sim.outcomes[plan]
        disc = discover(sim, plan)
        plans[plan] = {
            "name_vi": NAMES_VI.get(plan, plan),
            "target_probabilities": target_probabilities(sim, plan),
            "outcomes": outcome_table(sim, plan).to_dict(orient="index"),
            "ntm_by_year_mean": {str(int(y)): float(v) for y, v in zip(inst.years, o["ntm_by_year"].mean(axis=0),
                                                                       strict=True)},
            "communes_ntm_at_least": {str(k): float(v) for k, v in threshold_curve(sim, plan).items()},
            "sensitivity": sensitivity(sim, plan).to_dict(orient="index"),
            "scenario_discovery": {"failure": disc.failure, "failure_vi": disc.failure_vi,
                                   "failure_rate": disc.failure_rate, "box": disc.box.limits,
                                   "coverage": disc.box.coverage, "density": disc.box.density,
                                   "restricted": disc.restricted, "text_vi": disc.text_vi, "text_en": disc.text_en},
        }
    summary = {
        "scenario": inst.scenario.name,
        "title": inst.scenario.title,
        "dataset": ds.meta.name,
        "demo_data": ds.meta.demo,
        "demo_label": ds.meta.demo_label if ds.meta.demo else None,
        "costs_estimated": ds.any_cost_estimated,
        "draws": sim.n_draws,
        "seed": sim.seed,
        "sampler": sim.sampler,
        "block_size": BLOCK,
        "uncertainty": sim.settings.model_dump(mode="json"),
        "targets": {k: v for k, v in inst.scenario.targets.model_dump().items() if v not in (None, [], {})},
        "tiers": ds.criteria.tier_labels(),
        "district_names": {str(k): str(v) for k, v in ds.districts["district_name"].items()},
        "plans": plans,
        "regret_communes_ntm": regret(sim).to_dict(orient="index") if len(sim.plans) > 1 else {},
    }
    return summary


SIMULATION_FOLDER = "simulation"


def write_simulation_results(sim: SimulationResult, out: Path, *, command: list[str] | None = None,
                             timings: dict | None = None, solver: dict | None = None, force: bool = False,
                             plan: Path | None = None) -> dict:
    """Write a simulation's results folder atomically and return its summary.

    Files: ``experiments.csv`` (one row per draw), ``outcomes.csv`` (one row per plan and
    draw, joined to the experiments), ``communes.csv`` (probability of each commune being
    NTM by each year, per plan), ``summary.json`` and ``manifest.json``. ``plan``: the
    solve folder whose plans were simulated, recorded in the manifest with the hash of its
    ``projects.csv`` (a simulation shown under a run must be of that run's plan).
    """
    ref = None
    if plan is not None:
        ref = {"folder": str(plan), "projects_sha256": _sha256(Path(plan) / "projects.csv")}
    with atomic_folder(out, kind="simulation", force=force) as tmp:
        return _write_simulation(sim, tmp, command=command, timings=timings, solver=solver, plan_ref=ref)


def _write_simulation(sim: SimulationResult, folder: Path, *, command: list[str] | None = None,
                      timings: dict | None = None, solver: dict | None = None,
                      plan_ref: dict | None = None) -> dict:
    inst = sim.instance
    ds = inst.dataset
    summary = simulation_summary(sim)
    write_csv(sim.experiments, folder / "experiments.csv", index=True, lineterminator="\n", float_format=None)
    write_csv(sim.to_frame(), folder / "outcomes.csv", index=False, lineterminator="\n", float_format=None)
    frames = []
    for plan, prob in sim.commune_probability.items():
        frame = prob.rename(columns=lambda y: f"p_ntm_{y}").reset_index()
        frame.insert(1, "commune_name", frame["commune_code"].map(ds.communes["commune_name"]))
        frame.insert(2, "district", frame["commune_code"].map(ds.communes["district_name"]))
        frame.insert(0, "plan", plan)
        frames.append(frame)
    chances = pd.concat(frames)
    check_table(chances, "chances", "simulation/communes.csv")
    write_csv(chances, folder / "communes.csv", index=False, lineterminator="\n", float_format="%.4f")
    write_json(folder / "summary.json", summary)
    status = {"draws": sim.n_draws, "sampler": sim.sampler, "block_size": BLOCK}
    record = manifest(ds, inst.scenario, folder, kind="simulate", status=status, seed=sim.seed, timings=timings,
                      solver=solver, command=command)
    if plan_ref is not None:
        record["plan"] = plan_ref
    dump(Manifest, record, folder / "manifest.json")
    return summary


# ----- headline and recommendation --------------------------------------------------------------

HEADLINE_OUTCOMES = ("communes_ntm", "advanced", "model", "district_units", "villages_ntm", "villages_model",
                     "avg_criteria", "below_floor", "spent", "unspent")


def headline(sim: SimulationResult, plan: str, summary: dict, confidence: float) -> dict:
    """A plan's headline: what the simulation gives, with the figure on paper beside it.

    ``deterministic`` is what happens if every cost, date and disbursement goes exactly
    as planned (the simulation with no uncertainty, so a reserve list is funded from
    what the plan leaves). A target counts as met only when its probability reaches
    ``confidence``.
    """
    from ntm_sim.analysis import target_probabilities
    from ntm_sim.model.uncertainty import UncertaintySettings
    from ntm_sim.simulate import simulate

    o = sim.outcomes[plan]
    names = [name for name in HEADLINE_OUTCOMES if name not in sim.instance.absent_outcomes]
    exact = simulate(sim.instance, {plan: _decisions_of(sim, plan)}, UncertaintySettings.none(), n_draws=1,
                     seed=sim.seed) if _decisions_of(sim, plan) is not None else None
    outcomes = {}
    for name in names:
        x = np.asarray(o[name], dtype=float)
        row = {"median": float(np.median(x)), "p5": float(np.percentile(x, 5)), "p95": float(np.percentile(x, 95)),
               "mean": float(x.mean())}
        if exact is not None:
            row["deterministic"] = float(np.asarray(exact.outcomes[plan][name], dtype=float)[0])
        outcomes[name] = row
    probs = target_probabilities(sim, plan)
    paper = summary.get("targets", {})
    targets = {}
    for key, p in probs.items():
        if key == "all_targets":
            continue
        t = paper.get(key, {})
        targets[key] = {"target": t.get("target"), "probability": p, "met": bool(p >= confidence),
                        "deterministic": t.get("achieved"), "deterministic_met": t.get("met")}
    all_p = probs.get("all_targets")
    return {"basis": "simulation", "plan": plan, "draws": sim.n_draws, "seed": sim.seed, "sampler": sim.sampler,
            "confidence": confidence, "outcomes": outcomes, "targets": targets,
            "all_targets": {"probability": all_p, "met": bool(all_p is not None and all_p >= confidence)}}


def _decisions_of(sim: SimulationResult, plan: str) -> Decisions | None:
    return sim.decisions.get(plan) if sim.decisions else None


def recommendation_summary(rec: Recommendation) -> dict:
    """What the search tried, what it chose, and how the choice does on fresh draws."""
    from ntm_sim.analysis.recommend import EXPECTED_MONEY

    names = {**NAMES_VI, rec.chosen: NAMES_VI[RECOMMENDED]}
    return {
        "chosen": rec.chosen,
        "chosen_kind": rec.plan.kind,
        # where the plan came from: the lever of its own solve, or a rule (the folder's stages then the
        # deterministic solve's, the rules' common start)
        "lever": {"rule": "rule", "deterministic": "deterministic"}.get(
            rec.plan.kind, "expected_money" if rec.chosen == EXPECTED_MONEY else f"reserve {rec.plan.reserve:g}"),
        "solve_record": "deterministic" if rec.plan.kind == "rule" else "own",
        "reserve": rec.plan.reserve,
        "reserve_projects": rec.plan.reserve_projects,
        "objective": rec.objective,
        "percentile": rec.scenario.robustness.percentile,
        "seed": rec.seed,
        "train_draws": rec.scenario.robustness.train_draws,
        "test_draws": rec.fresh.n_draws,
        "training": rec.training.reset_index().to_dict(orient="records"),
        "comparison": {name: {**row, "name_vi": names.get(name, name)}
                       for name, row in rec.comparison.to_dict(orient="index").items()},
        "vss": rec.vss,
        "evpi_lower_bound": rec.evpi_lower,
        "timings": rec.timings,
    }
