"""What every ``define_*`` step of the model shares (:class:`ModelBuild`).

The instance, the blocks under construction and the rows so far; how a build starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ntm_sim.model.instance import Instance
from ntm_sim.model.targets import enforced_names
from ntm_sim.optimize.linear import LinExpr
from ntm_sim.optimize.plan_model import PlanModel, _Builder, _Spend


def _monotone(inst: Instance, mode: str) -> bool:
    """Whether every stage prefers more communes, tiers and units (no negative weight)."""
    weights = inst.scenario.objective.weights
    return mode == "min-cost" or not weights or all(w >= 0 for w in weights.values())


def late_communes(inst: Instance, mode: str, modelled_villages: bool) -> np.ndarray:
    """Communes whose spending can always move to the horizon without loss.

    True when money carries over, the objective prefers more of everything (no negative
    weight), and the commune can never exceed its absorption limit, whatever is funded
    (or there is none). Then any plan stays valid, with the same outcomes, when the
    commune's projects finish in its completion year and its upgrades start last.
    """
    if not (inst.carry_over and _monotone(inst, mode)):
        return np.zeros(inst.n_communes, dtype=bool)
    if inst.absorption is None:
        return np.ones(inst.n_communes, dtype=bool)
    # most a commune could ever spend in one year: every project's yearly share at once
    cap = np.bincount(inst.proj_commune, weights=inst.proj_cost / inst.proj_lead, minlength=inst.n_communes)
    cap = cap + np.where(inst.base_adv, 0.0, inst.adv_cost / inst.adv_lead)
    cap = cap + np.where(inst.base_model, 0.0, inst.model_cost / inst.model_lead)
    if modelled_villages:
        room = np.maximum(inst.villages - inst.villages_ntm, 0)
        model_room = np.maximum(room + inst.villages_ntm - inst.villages_model, 0)
        cap = cap + room * inst.village_ntm_cost + model_room * inst.village_model_cost
    return cap <= inst.absorption


@dataclass
class ModelBuild:
    """What the ``define_*`` steps share while a model is built.

    Each step adds its columns and rows to ``b`` (in a fixed order: the model's column
    and row order), records its columns in a block of ``m`` and what each column costs
    in ``spend``; the money steps then turn the costs into rows.

    Attributes
    ----------
    inst, mode, weights
        What :func:`build_model` was given (``mode`` resolved).
    m
        The model being built: its blocks, shortfalls and stages fill in step by step.
    b, spend
        Columns and rows so far; money each column costs, by class, commune and year.
    years
        The horizon's years as ints.
    enforced
        Targets the model enforces (as elastic rows).
    forbid_c, forbid_p, forbid_py, forbid_cy
        Locks: communes, projects, (project, year) and (commune, year) that get no money.
    late, sched, has_projects
        Communes whose spending may move to the horizon; those of them in y/q form;
        communes with criteria projects.
    need_tiers, need_districts, villages_on
        Whether tier upgrades, district units and villages are modelled.
    tier_order
        Whether the rows keeping a top-tier upgrade from finishing before the advanced
        one are in (:func:`define_tier_order`).
    class_const, commune_const
        Money projects under way already spend, by class and year and by commune and
        year (billion VND).
    done_by, done_const
        (project, year index) → x columns of starts that finish by then; → 1.0 where a
        project under way has finished by then.
    impossible
        Projects that can start in no year (their commune cannot complete).
    spent
        Class, commune, year, column and coefficient of every spending entry (set by
        :func:`define_money_flows`).
    u_source, u_year, u_cols
        Source, year index and column of each money flow (set by :func:`define_money_flows`).
    totals
        Communes NTM, advanced and model at the horizon (see :func:`_totals`).
    """

    inst: Instance
    mode: str
    weights: np.ndarray | None
    m: PlanModel
    b: _Builder
    spend: _Spend
    years: list[int]
    enforced: set[str]
    forbid_c: frozenset[int]
    forbid_p: frozenset[int]
    forbid_py: frozenset[tuple[int, int]]
    forbid_cy: frozenset[tuple[int, int]]
    late: np.ndarray
    sched: np.ndarray
    has_projects: np.ndarray
    need_tiers: bool
    need_districts: bool
    tier_order: bool
    villages_on: bool
    class_const: np.ndarray
    commune_const: np.ndarray
    done_by: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    done_const: dict[tuple[int, int], float] = field(default_factory=dict)
    impossible: set[int] = field(default_factory=set)
    spent: tuple[np.ndarray, ...] = ()
    u_source: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    u_year: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    u_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    totals: tuple[LinExpr, LinExpr, LinExpr] | None = None


def _locked(inst: Instance) -> np.ndarray:
    """Communes with a lock, a project under way, or a project too long for the horizon."""
    locks = inst.locks
    locked = np.zeros(inst.n_communes, dtype=bool)
    for p in {p for p, _ in locks.forbid_project} | {p for p, _ in locks.force_project}:
        locked[inst.proj_commune[p]] = True
    for c, _ in locks.forbid_commune_year:
        locked[c] = True
    locked[list(set(locks.forbid_commune))] = True
    np.logical_or.at(locked, inst.proj_commune, inst.proj_committed_start >= 0)
    np.logical_or.at(locked, inst.proj_commune, inst.proj_lead > inst.n_years)
    return locked | inst.at_risk  # a review ties their projects to a year


def start_build(inst: Instance, mode: str, weights: np.ndarray | None, tier_order: bool = True) -> ModelBuild:
    """An empty model, and the facts about the instance that the steps read."""
    n_c, n_t = inst.n_communes, inst.n_years
    locks = inst.locks
    enforced = enforced_names(inst.scenario, mode)
    villages_on = bool({"villages_ntm", "villages_model"} & enforced)
    late = late_communes(inst, mode, villages_on)
    has_projects = np.bincount(inst.proj_commune, minlength=n_c) > 0
    m = PlanModel(inst=inst, mode=mode, col_lb=np.zeros(0), col_ub=np.zeros(0), col_int=np.zeros(0, dtype=bool),
                  col_names=[], matrix=sp.csr_matrix((0, 0)), row_lo=np.zeros(0), row_hi=np.zeros(0),
                  late=late, late_districts=inst.carry_over and _monotone(inst, mode))
    m.ntm_const = {c: True for c in range(n_c) if not has_projects[c]}
    objective = inst.scenario.objective
    stages = set(objective.order) | set(objective.weights or {})
    # district units need their communes' tiers: whatever asks for units asks for the upgrades too
    need_districts = inst.has_district_units and (
        "district_units" in stages or bool({"district_units", "advanced_districts"} & enforced)
        or any(inst.district_need_adv > 0))
    need_tiers = inst.has_model_tier and ("tiers" in stages or bool({"advanced", "model"} & enforced)
                                          or need_districts)
    return ModelBuild(
        inst=inst, mode=mode, weights=weights, m=m, b=_Builder(), spend=_Spend(), years=[int(y) for y in inst.years],
        enforced=enforced, forbid_c=locks.forbidden.communes, forbid_p=locks.forbidden.projects,
        forbid_py=locks.forbidden.project_years, forbid_cy=locks.forbidden.commune_years, late=late,
        # communes in y/q form: late, and nothing ties one of their projects to a year
        sched=late & ~_locked(inst) & has_projects, has_projects=has_projects, need_tiers=need_tiers,
        need_districts=need_districts, tier_order=tier_order,
        villages_on=villages_on, class_const=np.zeros((len(inst.classes), n_t)), commune_const=np.zeros((n_c, n_t)))


def total_of(parts: list[tuple[list[int], float]]) -> tuple[list[int], float]:
    """Sum of (columns, constant) expressions."""
    return [v for cols, _ in parts for v in cols], sum(k for _, k in parts)
