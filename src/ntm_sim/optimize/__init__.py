"""The optimizer: lexicographic (or weighted) MILP over a planning instance.

>>> from ntm_sim.data.registry import load_dataset
>>> from ntm_sim.model.scenario import load_scenario
>>> from ntm_sim.optimize import solve
>>> result = solve(load_dataset("lao_cai"), load_scenario("scenarios/baseline.yaml"))  # doctest: +SKIP
>>> result.summary_line()  # doctest: +SKIP

The rows keeping a top-tier upgrade from finishing before the advanced one
(:func:`ntm_sim.optimize.model.define_tier_order`) are added lazily: the model is
solved without them first, and again with them only if that plan breaks the order.
A plan that keeps the order is as good for the model with the rows (it is feasible
there, and no stage can do better there than without them), and a plan the rows do
not bind stays the plan it was without them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ntm_sim.data.dataset import Dataset
from ntm_sim.messages import Catalogue
from ntm_sim.model.funding_gap import with_gap_funded, with_gap_source
from ntm_sim.model.instance import Instance, build_instance
from ntm_sim.model.plan import Decisions, Plan, check, evaluate, make_plan
from ntm_sim.model.scenario import Scenario, SolverSettings
from ntm_sim.optimize.backends import StageReport, Termination, resolve_solver
from ntm_sim.optimize.baselines import RULES
from ntm_sim.optimize.model import build_model, integral
from ntm_sim.optimize.plan_model import PlanModel
from ntm_sim.optimize.solver import JobResult, SolveJob, Stage, execute

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
        ``optimal`` only if every stage was proven optimal (within its gap tolerance);
        ``node_limit`` when a stage stopped at its node limit (a feasible plan, the same
        on any machine); ``time_limit`` when the clock stopped a stage or the watchdog
        ended the solver (a feasible plan that another run may not repeat).
    stages
        One report per lexicographic stage, with the value the delivered plan has.
    plan
        The optimizer's plan (tables, decisions, outcomes).
    baselines
        The baseline rules' plans on the same instance.
    shortfalls
        Enforced targets and forced locks the plan cannot reach.
    funding_gap
        Money beyond the envelopes per year (min-cost mode), million VND.
    fallback
        When the solver returned no plan in time: the baseline rule whose plan is
        delivered instead (None otherwise).
    watchdog
        Whether the watchdog ended the solver process at the time limit.
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
    fallback: str | None = None
    watchdog: bool = False

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
    def reproducible(self) -> bool:
        """Whether every stage stopped on its own work limits (the same plan on any machine)."""
        return not self.watchdog and self.fallback is None and all(s.reproducible for s in self.stages)

    @property
    def status(self) -> str:
        """``ok`` (optimal), ``warning`` (a plan, not proven optimal), or ``error``."""
        if self.termination == Termination.OPTIMAL:
            return "ok"
        return "warning" if self.termination in (Termination.NODE_LIMIT, Termination.TIME_LIMIT) else "error"

    @property
    def mip_gap(self) -> float:
        """Relative gap of the headline stage."""
        return self.primary.mip_gap

    def summary_line(self) -> str:
        """One line for logs."""
        o = self.plan.outcomes
        label = {Termination.OPTIMAL: "proven optimal",
                 Termination.NODE_LIMIT: "NOT proven optimal (node limit, reproducible)"}.get(
            self.termination, "NOT proven optimal (time limit, not reproducible)")
        return (f"{self.mode}: {o.communes_ntm} communes NTM by {int(o.years[-1])}, cost "
                f"{o.total_cost / 1000:,.1f} billion VND, {label}, gap {self.mip_gap:.2%}")


def solve(ds: Dataset, scenario: Scenario, *, mode: str | None = None, solver: str | None = None,
          time_limit: float | None = None, mip_gap: float | None = None, baselines: bool = True,
          warm_start: bool | None = None, weights: np.ndarray | None = None, guard: bool = True,
          starts: dict[str, Decisions] | None = None, watchdog_after: float | None = None) -> SolveResult:
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
        Safety limit in seconds for all stages together (default: the scenario's). The
        stages stop on their work limits (``scenario.solver``); this limit only ends a
        solve that overruns, and the result then says it is not reproducible.
    mip_gap
        Relative gap at which a count stage counts as solved.
    baselines
        Compute the baseline rules beside the optimum.
    warm_start
        Start from the best baseline plan (default: the scenario's setting).
    weights
        Success chances for the ``expected_communes`` stage (see :func:`build_model`).
    guard
        Run the solver in a separate process ended by a watchdog at the time limit.
    starts
        More plans to start from, by name (a budget curve's plan at the level below):
        offered beside the baseline rules, the best by the stages' values is the MIP start
        (max-achievement mode; a plan that breaks a constraint of this model is not offered).
    watchdog_after
        Seconds after which the watchdog ends each solver process, whatever the solver
        was told (default: the time limit plus :data:`ntm_sim.optimize.solver.GRACE_SHARE` of it and
        :data:`~ntm_sim.optimize.solver.GRACE_S`).

    Returns
    -------
    SolveResult

    Notes
    -----
    The tier-order rows are added lazily (see the module docstring).
    """
    mode = mode or scenario.mode
    options = _options(scenario.solver, solver, time_limit, mip_gap, warm_start)
    prepared = _prepare(ds, scenario, mode, options, baselines=baselines, weights=weights, tier_order=False,
                        starts=starts)
    solve_start = time.perf_counter()
    done = execute(prepared.job, guard=guard, watchdog_after=watchdog_after)
    if _tiers_out_of_order(prepared, done):
        first_build = prepared.build_s
        prepared = _prepare(ds, scenario, mode, options, baselines=baselines, weights=weights, tier_order=True,
                            base_plans=prepared.baselines, starts=starts)
        prepared.build_s += first_build
        done = execute(prepared.job, guard=guard, watchdog_after=watchdog_after)
    return _result(prepared, done, runtime_s=time.perf_counter() - solve_start)


def _tiers_out_of_order(prepared: _Prepared, done: JobResult) -> bool:
    """Whether the plan the solver returned has a top-tier upgrade finishing before its advanced one."""
    inst, values = prepared.instance, done.last_values
    if values is None or not inst.has_advanced_tier:
        return False
    dec = prepared.model.decisions_from(values)
    adv_end = np.where(dec.adv_start >= 0, dec.adv_start + inst.adv_lead - 1, -1)
    model_end = np.where(dec.model_start >= 0, dec.model_start + inst.model_lead - 1, np.iinfo(np.int64).max)
    return bool(((model_end < adv_end) & ~inst.base_adv).any())


@dataclass(frozen=True)
class _Options:
    """The solve's settings after the call's overrides of the scenario's."""

    solver: str        # resolved solver name
    time_limit: float  # seconds, all stages together
    mip_gap: float
    warm_start: bool


@dataclass
class _Prepared:
    """What the solver is given, and what the result needs from before the solve."""

    mode: str
    options: _Options
    instance: Instance
    model: PlanModel
    baselines: dict[str, Plan]
    job: SolveJob
    warm_name: str | None  # the baseline rule the job starts from (None: no start)
    build_s: float


def _options(settings: SolverSettings, solver: str | None, time_limit: float | None, mip_gap: float | None,
             warm_start: bool | None) -> _Options:
    """The scenario's solver settings with the call's overrides.

    Raises
    ------
    ValueError
        For a time limit that is not a positive number of seconds.
    """
    name = resolve_solver(solver or settings.name)
    limit = float(time_limit if time_limit is not None else settings.time_limit_s)
    if not math.isfinite(limit) or limit <= 0:
        raise ValueError(f"time limit must be a positive number of seconds, got {limit}")
    gap = float(mip_gap if mip_gap is not None else settings.mip_gap)
    return _Options(name, limit, gap, settings.warm_start if warm_start is None else warm_start)


def _prepare(ds: Dataset, scenario: Scenario, mode: str, options: _Options, *, baselines: bool,
             weights: np.ndarray | None, tier_order: bool = True,
             base_plans: dict[str, Plan] | None = None, starts: dict[str, Decisions] | None = None) -> _Prepared:
    """Build the instance, the baseline plans, the model and the solver job (timed as the build).

    ``tier_order``: with the rows keeping tiers in order in time (see :func:`solve`);
    ``base_plans``: the baseline plans, when already computed; ``starts``: more plans to start from.
    """
    start = time.perf_counter()
    inst = build_instance(ds, scenario)
    if mode == "min-cost":
        inst = with_gap_source(inst)
    if base_plans is None:
        base_plans = _baseline_plans(inst, mode) if baselines else {}
    model = build_model(inst, mode, weights, tier_order=tier_order)
    use_warm = options.warm_start and mode != "min-cost"
    offered = {name: plan.decisions for name, plan in base_plans.items()}
    offered.update({name: dec for name, dec in (starts or {}).items() if not check(inst, dec)})
    warm, warm_name = _warm_start(model, offered) if use_warm else (None, None)
    settings = scenario.solver
    job = SolveJob(model.matrix_model(), _stages(model, settings, mode, options.mip_gap), options.solver,
                   settings.threads, options.time_limit, warm)
    return _Prepared(mode, options, inst, model, base_plans, job, warm_name, time.perf_counter() - start)


def _baseline_plans(inst: Instance, mode: str) -> dict[str, Plan]:
    """The baseline rules' plans on the instance."""
    # the rules spend the real envelopes only: the gap source is what min-cost asks for
    base_inst = with_gap_funded(inst, np.zeros(inst.n_years)) if mode == "min-cost" else inst
    return {name: make_plan(base_inst, rule(base_inst), name) for name, rule in RULES.items()}


def _result(prepared: _Prepared, done: JobResult, runtime_s: float) -> SolveResult:
    """The solve result from what the solver returned."""
    p, inst = prepared, prepared.instance
    values, fallback = _delivered_values(p, done)
    reports = _reports(p.job, done, values)
    plan = _optimum_plan(inst, p.model, values)
    funding_gap = plan.outcomes.spend_by_source_year[inst.gap_source].copy() if p.mode == "min-cost" else None
    return SolveResult(mode=p.mode, termination=_termination(reports, fallback, done.watchdog), stages=reports,
                       plan=plan, baselines=p.baselines, shortfalls=_shortfalls(p.model, values),
                       solver=done.solver or p.options.solver, solver_version=done.version or "unknown",
                       build_s=p.build_s, runtime_s=runtime_s, instance=inst, funding_gap=funding_gap,
                       warm_start=p.warm_name, fallback=fallback, watchdog=done.watchdog)


def _delivered_values(prepared: _Prepared, done: JobResult) -> tuple[np.ndarray, str | None]:
    """Column values of the plan delivered, and the baseline rule delivered instead if the solver gave none.

    Raises
    ------
    RuntimeError
        When the solver returned no plan and there is no warm start to fall back on.
    """
    values = done.last_values
    if values is not None:
        return values, None
    warm = prepared.job.warm
    if warm is None or not (done.watchdog or done.reports):
        why = done.error or (done.reports[-1].termination if done.reports else "no stage finished")
        raise RuntimeError(f"the solver found no plan ({why})")
    return warm, prepared.warm_name  # nothing in time: the best rule's plan, reported as such


def _optimum_plan(inst: Instance, model: PlanModel, values: np.ndarray) -> Plan:
    """The optimizer's plan from the column values, checked against the rules.

    Raises
    ------
    RuntimeError
        When the plan breaks a rule (a bug in the model).
    """
    decisions = model.decisions_from(values)
    decisions.priority = _priority(inst, decisions)
    violations = check(inst, decisions)
    if violations:
        raise RuntimeError("optimizer plan breaks rules: " + "; ".join(v.detail for v in violations[:5]))
    return make_plan(inst, decisions, "optimum")


def _shortfalls(model: PlanModel, values: np.ndarray) -> list[ShortfallReport]:
    """Enforced targets and forced locks the plan misses, with what it achieves."""
    return [
        ShortfallReport(s.key, s.label, s.needed, _snap(s.needed - _value(model, s.var, values)))
        for s in model.shortfalls if _value(model, s.var, values) > 1e-4
    ]


def _termination(reports: list[StageReport], fallback: str | None, watchdog: bool) -> Termination:
    """How the solve ended as a whole (see :attr:`SolveResult.termination`)."""
    terms = {r.termination for r in reports}
    if terms == {Termination.OPTIMAL} and fallback is None:
        return Termination.OPTIMAL
    if all(r.has_solution for r in reports):
        # node limits repeat on any machine; a fallback or the clock do not
        reproducible = terms <= {Termination.OPTIMAL, Termination.NODE_LIMIT} and fallback is None and not watchdog
        return Termination.NODE_LIMIT if reproducible else Termination.TIME_LIMIT
    return Termination.ERROR


#: Stages solved to the tie-breakers' gap and node limit (``solver.tiebreak_gap``, ``tiebreak_node_limit``):
#: the continuous ones, the targets' weighted shortfall, and the criteria met (a count, but only a tie-breaker:
#: with hundreds of partial projects its proof took longer than every other stage together on Lào Cai).
TIEBREAK = ("targets", "expected_communes", "criteria_met", "earliness", "cost", "gap", "gap_timing")
HEADLINE = ("communes_ntm", "expected_communes")
#: The stages' Vietnamese names (``stage_name.*`` of the catalogue)
STAGE_NAMES_VI = {name: Catalogue("vi")(f"stage_name.{name}") for name in (
    "targets", "communes_ntm", "district_units", "tiers", "criteria_met", "earliness", "cost", "gap", "gap_timing",
    "expected_communes")}


def _stages(model: PlanModel, settings: SolverSettings, mode: str, gap: float) -> tuple[Stage, ...]:
    """The job's stages: work limits per stage, completion years kept after the headline stage."""
    names = list(model.stages)
    fix_at = None
    if settings.fix_completion and mode != "min-cost":
        fix_at = next((n for n in names if n in HEADLINE), None)
        if fix_at is not None and "earliness" in names[names.index(fix_at) + 1:]:
            names.remove("earliness")  # the years are kept: nothing left for it to choose
    completion = np.array(sorted(list(model.z.values()) + [c for opts in model.y.values() for _, c in opts]),
                          dtype=np.int64)
    out = []
    for name in names:
        expr, maximize = model.stages[name]
        loose = name in TIEBREAK and not (mode == "min-cost" and name == "cost")
        out.append(Stage(name, expr, maximize, max(gap, settings.tiebreak_gap) if loose else gap,
                         settings.tiebreak_node_limit if loose else settings.node_limit, integral(name),
                         completion if name == fix_at else None))
    return tuple(out)


def _reports(job: SolveJob, done: JobResult, values: np.ndarray) -> list[StageReport]:
    """One report per stage, with the delivered plan's value; stages never run say so."""
    out = []
    for i, st in enumerate(job.stages):
        value = _snap(st.objective.value(values))
        if i < len(done.reports):
            r = done.reports[i]
            if not r.has_solution and any(v is not None for v in done.values[:i]):
                r = replace(r, has_solution=True, objective=value)  # the earlier plan is kept
            out.append(replace(r, plan_value=value))
        else:
            # ended by the watchdog before this stage ran
            out.append(StageReport(st.name, "max" if st.maximize else "min", Termination.TIME_LIMIT, True, value,
                                   math.nan, math.nan, 0.0, st.mip_gap, 0, value))
    return out


def _value(model: PlanModel, expr: object, values: np.ndarray) -> float:
    return model.value(expr, values)  # an expression, or one column


def _snap(x: float) -> float:
    """Round solver noise off values that are whole numbers (counts)."""
    return float(round(x)) if abs(x - round(x)) < 1e-4 else x


def _warm_start(model: PlanModel, plans: dict[str, Decisions]) -> tuple[np.ndarray | None, str | None]:
    """The best of the plans offered (the baselines, a neighbour's plan) as a MIP start (by the stages' values)."""
    if not plans:
        return None, None
    best_name, best_key = None, None
    for name, dec in plans.items():
        vals = model.values_from(dec)
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
    vals = model.values_from(plans[best_name])
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
