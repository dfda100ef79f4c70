"""The solvers behind one small interface and their honest reports.

HiGHS (through highspy) is the default: the model's arrays are loaded in one call and
each lexicographic stage only changes the objective and adds one row, warm-started from
the previous stage's plan. CBC (bundled with PuLP) is the fallback: each stage is a
fresh PuLP solve with a MIP start. Both report termination, objective, best bound, MIP
gap, nodes and runtime; neither status is trusted alone.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import numpy as np
import pulp

from ntm_sim.optimize.linear import LinExpr, MatrixModel


class Termination(StrEnum):
    """Why a solve stopped (after linopy's TerminationCondition)."""

    OPTIMAL = "optimal"
    NODE_LIMIT = "node_limit"      # a feasible plan at the stage's work limit: reproducible, not proven
    TIME_LIMIT = "time_limit"      # a feasible plan when the clock ran out: not reproducible
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass(frozen=True)
class StageReport:
    """The result of one solve (one lexicographic stage).

    Attributes
    ----------
    name
        Stage name (``"communes_ntm"``, ``"cost"``…).
    sense
        ``"max"`` or ``"min"``.
    termination
        Why the solver stopped.
    has_solution
        Whether a feasible plan is available.
    objective, bound
        Incumbent value and best proven bound (NaN if unknown).
    mip_gap
        Relative gap ``|bound - objective| / max(1, |objective|)`` (NaN if unknown).
    runtime_s
        Wall time of this solve.
    gap_tolerance
        The relative gap at which the stage counts as solved.
    nodes
        Branch-and-bound nodes (-1 if the solver does not say).
    plan_value
        The stage's objective at the plan finally delivered (later stages may improve
        it within the rows that keep earlier stages); NaN until known.
    """

    name: str
    sense: str
    termination: Termination
    has_solution: bool
    objective: float
    bound: float
    mip_gap: float
    runtime_s: float
    gap_tolerance: float = 0.0
    nodes: int = -1
    plan_value: float = math.nan

    @property
    def proven_optimal(self) -> bool:
        """Whether the solver proved this stage optimal (within the gap tolerance asked)."""
        return self.termination == Termination.OPTIMAL

    @property
    def reproducible(self) -> bool:
        """Whether the stage stopped on its own work limits (not on the clock)."""
        return self.termination in (Termination.OPTIMAL, Termination.NODE_LIMIT, Termination.INFEASIBLE,
                                    Termination.UNBOUNDED)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level stdout (where HiGHS writes its banner)."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def relative_gap(objective: float, bound: float) -> float:
    """Relative MIP gap, the way HiGHS and CBC define it."""
    if math.isnan(objective) or math.isnan(bound) or math.isinf(bound):
        return math.nan
    return abs(bound - objective) / max(1.0, abs(objective))


class Backend:
    """Interface of a solver back-end: load a model, add rows, fix columns, solve stages."""

    name = "?"

    @property
    def version(self) -> str:  # pragma: no cover - overridden
        """Solver version string."""
        raise NotImplementedError

    def add_row(self, expr: LinExpr, lo: float, hi: float) -> None:
        """Add ``lo <= expr <= hi`` to the model."""
        raise NotImplementedError

    def fix(self, cols: np.ndarray, values: np.ndarray) -> None:
        """Fix columns to values (bounds)."""
        raise NotImplementedError

    def solve(self, name: str, objective: LinExpr, maximize: bool, time_limit: float, mip_gap: float,
              warm: np.ndarray | None, node_limit: int | None = None) -> tuple[StageReport, np.ndarray | None]:
        """Solve with an objective; return the report and the column values (model order)."""
        raise NotImplementedError


DEFAULT_THREADS = 1  # HiGHS threads when the scenario names none (see HighsBackend)


_scheduler_threads: int | None = None  # the thread count HiGHS's scheduler was started with in this process


def _use_threads(highspy: object, threads: int) -> None:
    """Start this process's HiGHS scheduler with ``threads`` (HiGHS keeps one per process).

    A second model asking another count is refused by HiGHS ("the scheduler has already been
    initialized"), which would fail the next job of a reused solver process: the scheduler is reset.
    """
    global _scheduler_threads
    if _scheduler_threads is not None and _scheduler_threads != threads:
        highspy.Highs.resetGlobalScheduler(True)  # type: ignore[attr-defined]
    _scheduler_threads = threads


class HighsBackend(Backend):
    """HiGHS in process, loaded once from the model's arrays, re-solved per stage.

    One thread unless the scenario asks for more: HiGHS's own default (half the machine's
    threads) would let the plan depend on the machine, and its MIP search gains little from
    threads (about a quarter more CPU for the same wall time on the bundled scenarios).
    """

    name = "highs"

    def __init__(self, model: MatrixModel, threads: int | None = None, msg: bool = False) -> None:
        import highspy

        self.highspy = highspy
        threads = int(threads or DEFAULT_THREADS)
        _use_threads(highspy, threads)
        with _quiet_stdout():  # HiGHS prints a banner when created
            self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", bool(msg))
        self.h.setOptionValue("threads", threads)
        self.n = model.n_cols
        # one call with the whole matrix: loading column by column costs seconds at national size
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = model.n_cols
        lp.num_row_ = model.n_rows
        lp.col_cost_ = np.zeros(model.n_cols)
        lp.col_lower_ = np.where(np.isinf(model.col_lb), -inf, model.col_lb)
        lp.col_upper_ = np.where(np.isinf(model.col_ub), inf, model.col_ub)
        lp.row_lower_ = np.where(np.isinf(model.row_lo), -inf, model.row_lo)
        lp.row_upper_ = np.where(np.isinf(model.row_hi), inf, model.row_hi)
        csc = model.matrix.tocsc()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(np.float64)
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(i)] for i in model.col_int]
        status = self.h.passModel(lp)
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS rejected the model")

    @property
    def version(self) -> str:
        """HiGHS version (e.g. ``1.16.0``)."""
        return str(self.h.version())

    def add_row(self, expr: LinExpr, lo: float, hi: float) -> None:
        """Add a row over existing columns."""
        expr = expr.combined()
        idx = expr.idx.astype(np.int32)
        val = expr.coef.astype(np.float64)
        inf = self.highspy.kHighsInf
        const = expr.constant
        lo_ = -inf if lo == -math.inf else lo - const
        hi_ = inf if hi == math.inf else hi - const
        self.h.addRow(lo_, hi_, len(idx), idx, val)

    def fix(self, cols: np.ndarray, values: np.ndarray) -> None:
        """Fix columns through their bounds."""
        if len(cols):
            v = np.asarray(values, dtype=float)
            self.h.changeColsBounds(len(cols), np.asarray(cols, dtype=np.int32), v, v)

    def solve(self, name: str, objective: LinExpr, maximize: bool, time_limit: float, mip_gap: float,
              warm: np.ndarray | None, node_limit: int | None = None) -> tuple[StageReport, np.ndarray | None]:
        """Change the objective, warm-start, run."""
        hs = self.highspy
        h = self.h
        cost = objective.dense(self.n)
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), cost)
        h.changeObjectiveOffset(float(objective.constant))
        h.changeObjectiveSense(hs.ObjSense.kMaximize if maximize else hs.ObjSense.kMinimize)
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        h.setOptionValue("mip_abs_gap", 1e-6)
        h.setOptionValue("mip_max_nodes", int(node_limit) if node_limit else 2**31 - 1)
        if warm is not None:
            sol = hs.HighsSolution()
            sol.col_value = np.asarray(warm, dtype=float).tolist()
            sol.value_valid = True
            h.setSolution(sol)
        start = time.perf_counter()
        h.run()
        runtime = time.perf_counter() - start
        status = h.getModelStatus()
        info = h.getInfo()
        nodes = int(info.mip_node_count)
        has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
        M = hs.HighsModelStatus
        if status == M.kOptimal:
            term = Termination.OPTIMAL
        elif status == M.kSolutionLimit and node_limit and nodes >= node_limit:
            term = Termination.NODE_LIMIT
        elif status in (M.kTimeLimit, M.kIterationLimit, M.kInterrupt, M.kSolutionLimit):
            term = Termination.TIME_LIMIT
        elif status in (M.kInfeasible,):
            term = Termination.INFEASIBLE
        elif status in (M.kUnbounded, M.kUnboundedOrInfeasible):
            term = Termination.UNBOUNDED
        else:
            term = Termination.ERROR
        obj = float(info.objective_function_value) if has_solution else math.nan
        # no finite bound before the root relaxation is solved: the gap is then unknown, not 0
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else math.nan
        if term == Termination.OPTIMAL and not np.isfinite(info.mip_dual_bound):
            bound = obj
        values = np.array(h.getSolution().col_value) if has_solution else None
        if values is not None:
            computed = float(cost @ values + objective.constant)
            if abs(computed - obj) > 1e-6 * max(1.0, abs(obj)) + 1e-6:
                # Seen with HiGHS 1.16: a MIP solved at the root after setSolution() can hand back
                # the start instead of the optimum. Never trust the status alone: solve again cold.
                if warm is not None:
                    h.clearSolver()
                    report, values = self.solve(name, objective, maximize, max(0.01, time_limit - runtime),
                                                mip_gap, None, node_limit)
                    return replace(report, runtime_s=report.runtime_s + runtime), values
                obj, term = computed, Termination.ERROR
        report = StageReport(name, "max" if maximize else "min", term, has_solution, obj, bound,
                             relative_gap(obj, bound) if has_solution else math.nan, runtime, float(mip_gap), nodes)
        return report, values


class CbcBackend(Backend):
    """CBC through PuLP: a fresh solve per stage, with a MIP start and a parsed log."""

    name = "cbc"

    def __init__(self, model: MatrixModel, threads: int | None = None, msg: bool = False) -> None:
        self.model = model
        self.prob, self.variables = model.pulp_model()
        self.threads = threads
        self.msg = msg
        self._version: str | None = None

    @property
    def version(self) -> str:
        """CBC version as printed in its log."""
        return self._version or "unknown"

    def add_row(self, expr: LinExpr, lo: float, hi: float) -> None:
        """Add rows to the PuLP problem."""
        e = self.model.pulp_expr(expr)
        if lo > -math.inf:
            self.prob.addConstraint(pulp.LpConstraint(e, pulp.LpConstraintGE, rhs=lo))
        if hi < math.inf:
            self.prob.addConstraint(pulp.LpConstraint(e, pulp.LpConstraintLE, rhs=hi))

    def fix(self, cols: np.ndarray, values: np.ndarray) -> None:
        """Fix columns through their bounds."""
        for j, v in zip(np.asarray(cols).tolist(), np.asarray(values, dtype=float).tolist(), strict=True):
            self.variables[j].lowBound = v
            self.variables[j].upBound = v

    def solve(self, name: str, objective: LinExpr, maximize: bool, time_limit: float, mip_gap: float,
              warm: np.ndarray | None, node_limit: int | None = None) -> tuple[StageReport, np.ndarray | None]:
        """Solve the PuLP problem with CBC."""
        prob = self.prob
        prob.setObjective(self.model.pulp_expr(objective))
        prob.sense = pulp.LpMaximize if maximize else pulp.LpMinimize
        if warm is not None:
            for v, value in zip(self.variables, warm, strict=True):
                v.setInitialValue(round(value) if v.cat == pulp.LpInteger else value)
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "cbc.log"
            options = [f"maxNodes {int(node_limit)}"] if node_limit else []
            with warnings.catch_warnings():  # PuLP 3.3 flags its bundled CBC as going away in 4.0
                warnings.simplefilter("ignore", DeprecationWarning)
                solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=max(1, math.ceil(time_limit)), gapRel=mip_gap,
                                           warmStart=warm is not None, threads=self.threads, logPath=str(log),
                                           options=options)
            start = time.perf_counter()
            prob.solve(solver)
            runtime = time.perf_counter() - start
            text = log.read_text(errors="replace") if log.exists() else ""
        m = re.search(r"Version:\s*(\S+)", text)
        if m:
            self._version = m.group(1)
        stopped = re.search(r"Result - (.*)", text)
        result = stopped.group(1).lower() if stopped else ""
        has_solution = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        nodes = re.search(r"Enumerated nodes:\s*(\d+)", text)
        n_nodes = int(nodes.group(1)) if nodes else -1
        if "infeasible" in result or prob.status == pulp.LpStatusInfeasible:
            term, has_solution = Termination.INFEASIBLE, False
        elif "unbounded" in result or prob.status == pulp.LpStatusUnbounded:
            term = Termination.UNBOUNDED
        elif "optimal" in result and prob.sol_status == pulp.LpSolutionOptimal:
            term = Termination.OPTIMAL
        elif "node" in result and has_solution:
            term = Termination.NODE_LIMIT
        elif has_solution or "time" in result or "stopped" in result:
            term = Termination.TIME_LIMIT
        else:
            term = Termination.ERROR
        obj = float(pulp.value(prob.objective)) if has_solution else math.nan
        bound = math.nan
        m = re.search(r"Lower bound:\s*(-?[\d.eE+-]+)", text)
        if m:
            # CBC minimises internally; this is what it proved, even when it stopped within its gap
            bound = float(m.group(1))
            bound = -bound if maximize else bound
        elif term == Termination.OPTIMAL:
            bound = obj  # proven to the last unit: no gap left
        values = (np.array([v.varValue if v.varValue is not None else 0.0 for v in self.variables])
                  if has_solution else None)
        report = StageReport(name, "max" if maximize else "min", term, has_solution, obj, bound,
                             relative_gap(obj, bound) if has_solution else math.nan, runtime, float(mip_gap),
                             n_nodes)
        return report, values


def available_solvers() -> list[str]:
    """Back-ends that work on this machine, in order of preference."""
    out = []
    try:
        import highspy  # noqa: F401

        out.append("highs")
    except ImportError:  # pragma: no cover - highspy is a dependency
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cbc = pulp.PULP_CBC_CMD(msg=False).available()
    if cbc:
        out.append("cbc")
    return out


def resolve_solver(name: str) -> str:
    """The back-end a name means here (``auto`` picks HiGHS, then CBC)."""
    have = available_solvers()
    if name == "auto":
        if not have:
            raise RuntimeError("no MILP solver available: install highspy")
        name = have[0]
    if name not in have:
        raise RuntimeError(f"solver {name!r} is not available here; available: {have}")
    return name


def make_backend(name: str, model: MatrixModel, threads: int | None = None) -> Backend:
    """Create a back-end by name (``auto`` picks HiGHS, then CBC) and load the model into it."""
    name = resolve_solver(name)
    return HighsBackend(model, threads) if name == "highs" else CbcBackend(model, threads)
