"""The optimizer: lexicographic (or weighted) MILP over a planning instance.

>>> from ntm_sim.dataset import load_dataset
>>> from ntm_sim.scenario import load_scenario
>>> from ntm_sim.optimize import solve
>>> result = solve(load_dataset("lao_cai"), load_scenario("scenarios/baseline.yaml"))  # doctest: +SKIP
>>> result.summary_line()  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ntm_sim.dataset import Dataset
from ntm_sim.instance import Instance, build_instance, with_gap_funded, with_gap_source
from ntm_sim.optimize.baselines import RULES
from ntm_sim.optimize.model import PlanModel, build_model, stage_tolerance
from ntm_sim.optimize.solver import StageReport, Termination, make_backend
from ntm_sim.plan import Decisions, Plan, check, evaluate, make_plan
from ntm_sim.scenario import Scenario

__all__ = ["SolveResult", "ShortfallReport", "solve", "Termination"]


@dataclass(frozen=True)
class ShortfallReport:
    """A target or lock the plan cannot reach, with by how much."""

    key: str
    label: str
    needed: float
    achieved: float

    @property
    def missing(self) -> float:
        """How far the plan stays from the target."""
        return max(0.0, self.needed - self.achieved)


@dataclass
class SolveResult:
    """What a solve returns: status, plan, baselines, and how far from targets.

    Attributes
    ----------
    mode
        ``max-achievement`` or ``min-cost``.
    termination
        ``optimal`` only if every stage was proven optimal; ``time_limit`` when a
        feasible plan was found but not proven optimal.
    stages
        One report per lexicographic stage.
    plan
        The optimizer's plan (tables, decisions, outcomes).
    baselines
        The baseline rules' plans on the same instance.
    shortfalls
        Enforced targets and forced locks the plan cannot reach.
    funding_gap
        Money beyond the envelopes per year (min-cost mode), million VND.
    """

    mode: str
    termination: Termination
    stages: list[StageReport]
    plan: Plan
    baselines: dict[str, Plan]
    shortfalls: list[ShortfallReport]
    solver: str
    solver_version: str
    build_s: float
    runtime_s: float
    instance: Instance = field(repr=False)
    funding_gap: np.ndarray | None = None
    warm_start: str | None = None

    @property
    def primary(self) -> StageReport:
        """The stage that defines the plan's headline figure."""
        name = "cost" if self.mode == "min-cost" else next(
            (s.name for s in self.stages if s.name != "targets"), self.stages[0].name)
        return next(s for s in self.stages if s.name == name)

    @property
    def proven_optimal(self) -> bool:
        """Whether every stage was proven optimal."""
        return self.termination == Termination.OPTIMAL

    @property
    def status(self) -> str:
        """``ok`` (optimal), ``warning`` (time limit with a plan), or ``error``."""
        if self.termination == Termination.OPTIMAL:
            return "ok"
        return "warning" if self.termination == Termination.TIME_LIMIT else "error"

    @property
    def mip_gap(self) -> float:
        """Relative gap of the headline stage."""
        return self.primary.mip_gap

    def summary_line(self) -> str:
        """One line for logs."""
        o = self.plan.outcomes
        label = "proven optimal" if self.proven_optimal else "NOT proven optimal (time limit)"
        return (f"{self.mode}: {o.communes_ntm} communes NTM by {int(o.years[-1])}, cost "
                f"{o.total_cost / 1000:,.1f} billion VND, {label}, gap {self.mip_gap:.2%}")


def solve(
    ds: Dataset,
    scenario: Scenario,
    *,
    mode: str | None = None,
    solver: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    baselines: bool = True,
    warm_start: bool | None = None,
) -> SolveResult:
    """Optimise a plan for a dataset and a scenario.

    Parameters
    ----------
    ds, scenario
        The province and the levers/targets.
    mode
        Override the scenario's mode (``max-achievement`` or ``min-cost``).
    solver
        ``auto``, ``highs`` or ``cbc`` (default: the scenario's setting).
    time_limit
        Seconds for all stages together (default: the scenario's).
    mip_gap
        Relative gap at which a stage counts as solved.
    baselines
        Compute the baseline rules beside the optimum.
    warm_start
        Start from the best baseline plan (default: the scenario's setting).

    Returns
    -------
    SolveResult
    """
    mode = mode or scenario.mode
    settings = scenario.solver
    solver = solver or settings.name
    limit = float(time_limit if time_limit is not None else settings.time_limit_s)
    gap = float(mip_gap if mip_gap is not None else settings.mip_gap)
    warm_start = settings.warm_start if warm_start is None else warm_start
    start = time.perf_counter()
    inst = build_instance(ds, scenario)
    if mode == "min-cost":
        inst = with_gap_source(inst)
    base_plans: dict[str, Plan] = {}
    if baselines:
        # the rules spend the real envelopes only: the gap source is what min-cost asks for
        base_inst = with_gap_funded(inst, np.zeros(inst.n_years)) if mode == "min-cost" else inst
        for name, rule in RULES.items():
            base_plans[name] = make_plan(base_inst, rule(base_inst), name)
    model = build_model(inst, mode)
    backend = make_backend(solver, model, settings.threads)
    build_s = time.perf_counter() - start

    warm, warm_name = _warm_start(model, base_plans) if warm_start and mode != "min-cost" else (None, None)
    reports: list[StageReport] = []
    values = None
    names = list(model.stages)
    solve_start = time.perf_counter()
    for i, name in enumerate(names):
        expr, maximize = model.stages[name]
        stage_limit = _stage_time(limit - (time.perf_counter() - solve_start), names[i:], mode,
                                  settings.tiebreak_time_limit_s)
        stage_gap = gap if name not in ("cost", "gap") or mode == "min-cost" else max(gap, 1e-4)
        report, new_values = backend.solve(name, expr, maximize, stage_limit, stage_gap, warm)
        reports.append(report)
        if new_values is None:
            if values is None:
                break
            # keep the last plan: this stage found nothing better within its time
            report = StageReport(name, report.sense, report.termination, True,
                                 float(_value(model, expr, values)), report.bound, math.nan, report.runtime_s)
            reports[-1] = report
            new_values = values
        values = new_values
        warm = values
        if i < len(names) - 1:
            lo, hi = stage_tolerance(_value(model, expr, values), maximize, name)
            backend.add_row(expr, lo, hi)
    runtime = time.perf_counter() - solve_start
    if values is None:
        raise RuntimeError(f"the solver found no plan ({reports[-1].termination if reports else 'no stages'})")
    decisions = model.decisions_from(values)
    decisions.priority = _priority(inst, decisions)
    violations = check(inst, decisions)
    if violations:
        raise RuntimeError("optimizer plan breaks rules: " + "; ".join(v.detail for v in violations[:5]))
    plan = make_plan(inst, decisions, "optimum")
    shortfalls = [
        ShortfallReport(s.key, s.label, s.needed, _snap(s.needed - _value(model, s.var, values)))
        for s in model.shortfalls if _value(model, s.var, values) > 1e-4
    ]
    term = Termination.OPTIMAL
    if any(r.termination != Termination.OPTIMAL for r in reports):
        term = Termination.TIME_LIMIT if all(r.has_solution for r in reports) else Termination.ERROR
    funding_gap = None
    if mode == "min-cost":
        funding_gap = plan.outcomes.spend_by_source_year[inst.gap_source].copy()
    return SolveResult(mode=mode, termination=term, stages=reports, plan=plan, baselines=base_plans,
                       shortfalls=shortfalls, solver=backend.name, solver_version=backend.version,
                       build_s=build_s, runtime_s=runtime, instance=inst, funding_gap=funding_gap,
                       warm_start=warm_name)


TIEBREAKERS = ("criteria_met", "earliness", "cost")
STAGE_NAMES_VI = {
    "targets": "mục tiêu bắt buộc", "communes_ntm": "số xã đạt chuẩn", "district_units": "đơn vị cấp huyện",
    "tiers": "xã nâng cao, kiểu mẫu", "criteria_met": "số tiêu chí đạt", "earliness": "đạt chuẩn sớm",
    "cost": "chi phí", "gap": "vốn thiếu",
}


def _stage_time(remaining: float, names: list[str], mode: str, tiebreak: float) -> float:
    """Time for the first of ``names``: tie-breakers are capped, main stages share the rest."""
    later = sum(min(tiebreak, 1.0 + remaining / 10) for n in names[1:] if mode != "min-cost" and n in TIEBREAKERS)
    mains = sum(1 for n in names if mode == "min-cost" or n not in TIEBREAKERS)
    if mode != "min-cost" and names[0] in TIEBREAKERS:
        return max(1.0, min(tiebreak, remaining))
    return max(1.0, (remaining - later) / max(1, mains) * (2 if mains > 1 else 1))


def _value(model: PlanModel, expr: object, values: np.ndarray) -> float:
    return model.value(expr, values)  # an expression, or one column


def _snap(x: float) -> float:
    """Round solver noise off values that are whole numbers (counts)."""
    return float(round(x)) if abs(x - round(x)) < 1e-4 else x


def _warm_start(model: PlanModel, plans: dict[str, Plan]) -> tuple[np.ndarray | None, str | None]:
    """The best baseline as a MIP start (by the first stages' values)."""
    if not plans:
        return None, None
    best_name, best_key = None, None
    for name, plan in plans.items():
        vals = model.values_from(plan.decisions)
        key = []
        for stage, (expr, maximize) in model.stages.items():
            v = _value(model, expr, vals)
            key.append(v if maximize else -v)
            if stage == "targets":
                # shortfall of this plan: computed from what it achieves
                key[-1] = -sum(max(0.0, s.needed - _value(model, s.achieved, vals)) * s.weight
                               for s in model.shortfalls)
        if best_key is None or key > best_key:
            best_name, best_key = name, key
    vals = model.values_from(plans[best_name].decisions)
    for s in model.shortfalls:
        vals[s.var] = max(0.0, s.needed - _value(model, s.achieved, vals))
    return vals, best_name


def _priority(inst: Instance, dec: Decisions) -> np.ndarray:
    """Projects of communes that reach NTM earliest come first, then cheaper ones."""
    out = evaluate(inst, dec)
    year = np.where(out.commune_year_ntm[inst.proj_commune] > 0, out.commune_year_ntm[inst.proj_commune], 10**6)
    start = np.where(dec.proj_start >= 0, dec.proj_start, 10**6)
    order = np.lexsort((inst.proj_cost, start, year))
    prio = np.empty(inst.n_projects)
    prio[order] = np.arange(inst.n_projects)
    return prio
