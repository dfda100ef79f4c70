"""The scenario's levers resolved against the data.

Targets (district floors and shares, criterion counts), locks and committed projects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.dataset import Dataset, normalise_code
from ntm_sim.errors import Problem, Text
from ntm_sim.model.scenario import BadFn, Scenario, key_problem
from ntm_sim.model.scenario import Targets as ScenarioTargets
from ntm_sim.text import commune_key, district_key


@dataclass(frozen=True)
class Targets:
    """Targets resolved to indices; None where the scenario sets none."""

    communes_ntm: int | None = None
    communes_count: str = "recognised"  # what communes_ntm counts: "recognised" (as provinces count) or "meeting"
    advanced: int | None = None
    model: int | None = None
    district_units: tuple[int, ...] = ()
    advanced_districts: tuple[int, ...] = ()
    villages_ntm: int | None = None
    villages_model: int | None = None
    min_criteria: int | None = None
    avg_criteria_total: int | None = None  # Σ criteria met needed for the average
    avg_criteria: float | None = None
    criterion_communes: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Locks:
    """Planner locks resolved to indices."""

    force_commune: tuple[int, ...] = ()
    forbid_commune: tuple[int, ...] = ()
    force_project: tuple[tuple[int, int | None], ...] = ()  # (project, year or None)
    forbid_project: tuple[tuple[int, int | None], ...] = ()
    forbid_commune_year: tuple[tuple[int, int], ...] = ()

    @cached_property
    def forbidden(self) -> Forbidden:
        """What the locks forbid, as sets to look up (built once; the model, the rules and the reasons share it)."""
        return Forbidden(communes=frozenset(self.forbid_commune),
                         projects=frozenset(p for p, y in self.forbid_project if y is None),
                         project_years=frozenset((p, y) for p, y in self.forbid_project if y is not None),
                         commune_years=frozenset(self.forbid_commune_year))


@dataclass(frozen=True)
class Forbidden:
    """What the locks forbid: communes, projects in any year, projects in a year, communes in a year."""

    communes: frozenset[int]
    projects: frozenset[int]
    project_years: frozenset[tuple[int, int]]
    commune_years: frozenset[tuple[int, int]]


def _resolve_commune(ds: Dataset, ref: str) -> str | None:
    code = normalise_code(ref)
    if code in ds.communes.index:
        return code
    keys = ds.communes["commune_name"].map(commune_key)
    hits = list(keys.index[keys == commune_key(ref)])
    return hits[0] if len(hits) == 1 else None


def _resolve_district(ds: Dataset, ref: str) -> str | None:
    code = normalise_code(ref)
    if code in ds.districts.index:
        return code
    keys = ds.districts["district_name"].map(district_key)
    hits = list(keys.index[keys == district_key(ref)])
    return hits[0] if len(hits) == 1 else None


def _district_floors(ds: Dataset, scenario: Scenario, d_index: dict[str, int], bad: BadFn) -> dict[int, float]:
    """Each named district's floor on its share of the money, less the tolerance.

    Returns
    -------
    dict
        District position → floor (0 … 1).
    """
    floors: dict[int, float] = {}
    if scenario.district_shares:
        for ref, share in scenario.district_shares.floors.items():
            d = _resolve_district(ds, ref)
            if d is None:
                bad(key_problem("district_shares.floors", Text("scenario.unknown_district", district=repr(ref))),
                    expected=", ".join(f"{k} ({v})" for k, v in ds.districts["district_name"].items()))
                continue
            floors[d_index[d]] = max(0.0, share - scenario.district_shares.tolerance)
    return floors


def _resolve_targets(ds: Dataset, scenario: Scenario, d_index: dict[str, int], bad: BadFn) -> Targets:
    t = scenario.targets
    n = len(ds.communes)
    crit = ds.criteria

    def districts(refs: list[str], key: str) -> tuple[int, ...]:
        out = []
        for ref in refs:
            d = _resolve_district(ds, ref)
            if d is None:
                bad(key_problem(f"targets.{key}", Text("scenario.unknown_district", district=repr(ref))),
                    expected=", ".join(f"{k} ({v})" for k, v in ds.districts["district_name"].items()))
            else:
                out.append(d_index[d])
        return tuple(out)

    crit_targets: dict[int, int] = {}
    for key, value in t.criterion_communes.items():
        k = crit.match(key)
        if k is None:
            bad(key_problem(f"targets.criterion_communes.{key}", Text("scenario.unknown_criterion")))
            continue
        count = n if value == "all" else int(value)
        if count > n:
            bad(key_problem(f"targets.criterion_communes.{key}", Text("scenario.too_many_communes", asked=count, n=n)))
        crit_targets[crit.ids.index(k)] = min(count, n)
    for name in ("communes_ntm", "advanced", "model"):
        value = getattr(t, name)
        if value is not None and value > n:
            bad(key_problem(f"targets.{name}", Text("scenario.too_many_communes", asked=value, n=n)))
    _refuse_tiers_not_issued(crit, t, bad)
    avg_total = math.ceil(t.avg_criteria * n - 1e-9) if t.avg_criteria is not None else None
    if t.avg_criteria is not None and t.avg_criteria > len(crit):
        bad(key_problem("targets.avg_criteria", Text("scenario.too_many_criteria", asked=f"{t.avg_criteria}",
                                              n=len(crit))))
    if t.min_criteria is not None and t.min_criteria > len(crit):
        bad(key_problem("targets.min_criteria", Text("scenario.too_many_criteria", asked=f"{t.min_criteria}",
                                              n=len(crit))))
    return Targets(
        communes_ntm=t.communes_ntm,
        communes_count=t.communes_count,
        advanced=t.advanced,
        model=t.model,
        district_units=districts(t.district_units, "district_units"),
        advanced_districts=districts(t.advanced_districts, "advanced_districts"),
        villages_ntm=t.villages_ntm,
        villages_model=t.villages_model,
        min_criteria=t.min_criteria,
        avg_criteria_total=avg_total,
        avg_criteria=t.avg_criteria,
        criterion_communes=crit_targets,
    )


def _refuse_tiers_not_issued(crit: CriteriaSet, t: ScenarioTargets, bad: BadFn) -> None:
    """Targets on a tier or district tier the criteria set does not issue, each named with the set.

    ``advanced`` needs the set's advanced tier; ``model`` (or ``modern``) its top tier;
    ``district_units`` and ``advanced_districts`` its district tiers ``ntm`` and ``advanced``.
    """
    tiers = ", ".join(f"{x.id} ({x.name_vi})" for x in crit.tiers)
    district_tiers = ", ".join(x.id for x in crit.district_tiers) or "–"
    if t.advanced is not None and crit.advanced_tier is None:
        top = crit.top_tier.label_vi if crit.top_tier is not None else None
        bad(key_problem("targets.advanced", Text("scenario.no_advanced_tier", set=crit.id)),
            expected=Text("scenario.tier_issued", tiers=tiers) if top is None
            else Text("scenario.tier_issued_top", tiers=tiers, top=top),
            found=str(t.advanced))
    if t.model is not None and crit.top_tier is None:
        bad(key_problem("targets.model", Text("scenario.no_top_tier", set=crit.id)),
            expected=Text("scenario.tier_issued", tiers=tiers), found=str(t.model))
    for key, values, tier in (("district_units", t.district_units, "ntm"),
                              ("advanced_districts", t.advanced_districts, "advanced")):
        if values and tier not in crit.district_tier_ids:
            bad(key_problem(f"targets.{key}", Text(f"scenario.no_district_tier.{tier}", set=crit.id)),
                expected=Text("scenario.no_district_target", key=key, tiers=district_tiers),
                found=", ".join(values))


def _resolve_locks(ds: Dataset, scenario: Scenario, communes: list[str], pc: np.ndarray, pk: np.ndarray,
                   years: np.ndarray, bad: BadFn) -> Locks:
    c_index = {c: i for i, c in enumerate(communes)}
    proj_index = {(int(c), int(k)): p for p, (c, k) in enumerate(zip(pc, pk, strict=True))}
    out: dict[str, list] = {"force_commune": [], "forbid_commune": [], "force_project": [],
                            "forbid_project": [], "forbid_commune_year": []}
    for i, lock in enumerate(scenario.locks):
        where = f"locks.{i}"
        code = _resolve_commune(ds, lock.commune)
        if code is None:
            bad(key_problem(where, Text("scenario.unknown_commune", commune=repr(lock.commune))),
                expected=Text("scenario.unknown_commune.expected"))
            continue
        c = c_index[code]
        if lock.year is not None and lock.year not in set(int(y) for y in years):
            bad(key_problem(where, Text("scenario.lock_year", year=str(lock.year), first=str(int(years[0])),
                                 last=str(int(years[-1])))))
            continue
        if lock.criterion is None:
            if lock.year is not None:
                out["forbid_commune_year"].append((c, lock.year))
            else:
                out[f"{lock.action}_commune"].append(c)
            continue
        k = ds.criteria.match(lock.criterion)
        if k is None:
            bad(key_problem(where, Text("scenario.unknown_criterion_named", criterion=repr(lock.criterion))))
            continue
        p = proj_index.get((c, ds.criteria.ids.index(k)))
        if p is None:
            if lock.action == "force":
                bad(key_problem(where, Text("scenario.already_met", commune=code, criterion=k)))
            continue
        out[f"{lock.action}_project"].append((p, lock.year))
    return Locks(**{k: tuple(v) for k, v in out.items()})


def _committed_projects(scenario: Scenario, communes: list[str], criteria: list[str], pc: np.ndarray,
                        pk: np.ndarray, lead: np.ndarray, problems: list[Problem], file: str) -> np.ndarray:
    """Start years of projects of the earlier plan still under way at ``replan.from_year``."""
    assert scenario.replan is not None
    assert scenario.replan.previous_plan is not None
    folder = Path(scenario.replan.previous_plan)
    if not folder.is_absolute() and scenario.source_file:
        folder = Path(scenario.source_file).parent / folder
    path = folder / "projects.csv"
    committed = np.full(len(pc), -1, dtype=int)
    if not path.exists():
        problems.append(Problem(file, key_problem("replan.previous_plan", Text("scenario.not_found", path=str(path))),
                                expected=Text("runs.solve_folder")))
        return committed
    prev = pd.read_csv(path, dtype={"commune_code": str})
    prev = prev[prev["kind"] == "criterion"]
    index = {(communes[int(c)], criteria[int(k)]): p for p, (c, k) in enumerate(zip(pc, pk, strict=True))}
    start = scenario.replan.from_year
    for _, r in prev.iterrows():
        p = index.get((normalise_code(r["commune_code"]), str(r["criterion"])))
        if p is None:
            continue  # met by now (or not in this dataset): nothing to carry
        s = int(r["start_year"])
        if s < start <= s + int(lead[pk[p]]) - 1:
            committed[p] = s
    return committed
