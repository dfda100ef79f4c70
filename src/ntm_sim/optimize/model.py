"""The MILP of a planning instance, built as sparse arrays.

Decisions: start year of each criterion project (binary ``x[p, s]``), commune NTM by
year (``z[c, t]``), tier upgrades, new villages, district projects, and money from each
source to each *eligibility class* and year (``u[f, g, t]``, continuous).

Money is aggregated by eligibility class (criteria that the same sources may pay for):
this is exact, because money is fungible within a class, and it keeps the number of
continuous variables independent of the number of communes. The split of each class's
money back onto projects is proportional (see :func:`ntm_sim.plan.make_plan`).

Targets the scenario enforces (and forced locks) are *elastic*: each has a shortfall
variable, and the first stage minimises total shortfall, each weighed as the share of its
target it misses (locks weigh far more), so that an unreachable target is measured and
explained instead of making the model infeasible.

Spending later never hurts when money carries over and a commune cannot exceed its
absorption limit (or there is none): then a commune's projects may all finish in the
year the commune reaches NTM (or at the horizon), and tiers, villages and district
projects may all start as late as possible. For such communes the model has one binary
per completion year (``y[c, t]``) and one per project funded without completing the
commune (``q[p]``) instead of ``x`` and ``z``: the same plans as ``x`` with the
dominance rows, with one row per project instead of about nine, and a relaxation that
solves several times faster. Communes with locks or projects under way keep the ``x``
form, and so does every commune when money does not carry over.

The model is kept as column bounds, row bounds and a sparse matrix: HiGHS loads it in
one call. :attr:`PlanModel.prob` builds the same model in PuLP (for CBC, or to write an
LP file) on demand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pulp
import scipy.sparse as sp

from ntm_sim.instance import Instance
from ntm_sim.optimize.linear import LinExpr, MatrixModel
from ntm_sim.plan import Decisions, class_spend, evaluate

LOCK_WEIGHT = 1000.0
# Money enters the model in billion VND (data are in million VND): keeps coefficients near 1.
MONEY = 1e-3


@dataclass
class Shortfall:
    """An elastic target: ``achieved + short >= needed`` (``var`` is the column of ``short``)."""

    key: str
    label: str
    var: int
    needed: float
    weight: float = 1.0
    achieved: LinExpr | None = None


class _Builder:
    """Columns and rows collected in lists (single items) and arrays (blocks), joined once."""

    def __init__(self) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.integer: list[bool] = []
        self.names: list[str] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.r: list[int] = []      # entries of rows added one by one
        self.c: list[int] = []
        self.v: list[float] = []
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # entries of row blocks

    @property
    def n_cols(self) -> int:
        return len(self.lb)

    @property
    def n_rows(self) -> int:
        return len(self.lo)

    def cols(self, names: list[str], lb: float = 0.0, ub: float = 1.0, integer: bool = True) -> list[int]:
        """Add columns with the same bounds; return their indices."""
        n, first = len(names), len(self.lb)
        self.lb.extend([float(lb)] * n)
        self.ub.extend([float(ub)] * n)
        self.integer.extend([integer] * n)
        self.names.extend(names)
        return list(range(first, first + n))

    def col(self, name: str, lb: float = 0.0, ub: float = 1.0, integer: bool = True) -> int:
        """Add one column."""
        self.lb.append(float(lb))
        self.ub.append(float(ub))
        self.integer.append(integer)
        self.names.append(name)
        return len(self.lb) - 1

    def row(self, cols: list[int], vals: list[float] | float, lo: float, hi: float) -> int:
        """Add ``lo <= Σ vals·cols <= hi``."""
        r = len(self.lo)
        self.lo.append(float(lo))
        self.hi.append(float(hi))
        self.r.extend([r] * len(cols))
        self.c.extend(cols)
        self.v.extend(vals if isinstance(vals, list) else [float(vals)] * len(cols))
        return r

    def expr_row(self, expr: LinExpr, lo: float, hi: float) -> int:
        """Add ``lo <= expr <= hi`` (the constant moves to the bounds)."""
        return self.row(expr.idx.tolist(), expr.coef.tolist(), lo - expr.constant, hi - expr.constant)

    def rows(self, r: np.ndarray, c: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Add a block of rows: entries ``(r, c, v)`` with ``r`` counted from the block's first row."""
        base = len(self.lo)
        self.lo.extend(np.asarray(lo, dtype=float).tolist())
        self.hi.extend(np.asarray(hi, dtype=float).tolist())
        self.blocks.append((np.asarray(r, dtype=np.int64) + base, np.asarray(c, dtype=np.int64),
                            np.asarray(v, dtype=float)))

    def matrix(self) -> sp.csr_matrix:
        """All rows as a CSR matrix (duplicate entries summed)."""
        parts = [(np.array(self.r, dtype=np.int64), np.array(self.c, dtype=np.int64), np.array(self.v)),
                 *self.blocks]
        rows, cols, vals = (np.concatenate([p[i] for p in parts]) for i in range(3))
        out = sp.coo_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_cols)).tocsr()
        out.sum_duplicates()
        out.eliminate_zeros()
        return out


class _Spend:
    """Money each column costs, by eligibility class and year (and commune, or -1)."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int, int, int, float]] = []   # (class, commune, year, col, coef)
        self.blocks: list[tuple[np.ndarray, ...]] = []

    def add(self, g: int, c: int, ts: list[int], col: int, coef: float) -> None:
        """One column spending ``coef`` in each year index of ``ts``."""
        self.items.extend((g, c, t, col, coef) for t in ts)

    def block(self, g: np.ndarray, c: np.ndarray, t: np.ndarray | int, col: np.ndarray, coef: np.ndarray) -> None:
        """Many columns at once (arrays of equal length; ``t`` may be one year index)."""
        self.blocks.append(tuple(np.broadcast_arrays(g, c, t, col, coef)))

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Class, commune, year, column and coefficient arrays."""
        items = np.array(self.items, dtype=float).reshape(-1, 5)
        parts = [tuple(items[:, i] for i in range(5)), *self.blocks]
        g, c, t, col, coef = (np.concatenate([np.asarray(p[i], dtype=float).ravel() for p in parts])
                              for i in range(5))
        return g.astype(np.int64), c.astype(np.int64), t.astype(np.int64), col.astype(np.int64), coef


@dataclass
class PlanModel:
    """A built model: arrays for the solver, column indices of each decision, stage objectives.

    Attributes
    ----------
    col_lb, col_ub, col_int, col_names
        Column bounds, integrality and names (model order).
    matrix, row_lo, row_hi
        The constraint rows ``row_lo <= matrix @ x <= row_hi`` (CSR).
    x, z, y, q, adv, mod, vn, vm, w, dx, dax, u
        Column indices of each decision (see the module docstring).
    stages
        Stage name → (objective, maximize), in lexicographic order.
    """

    inst: Instance
    mode: str
    col_lb: np.ndarray
    col_ub: np.ndarray
    col_int: np.ndarray
    col_names: list[str]
    matrix: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    x: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    z: dict[tuple[int, int], int] = field(default_factory=dict)
    y: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    q: dict[int, int] = field(default_factory=dict)
    adv: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    mod: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    vn: dict[tuple[int, int], int] = field(default_factory=dict)
    vm: dict[tuple[int, int], int] = field(default_factory=dict)
    w: dict[int, int] = field(default_factory=dict)
    dx: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    dax: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    u: dict[tuple[int, int, int], int] = field(default_factory=dict)
    shortfalls: list[Shortfall] = field(default_factory=list)
    stages: dict[str, tuple[LinExpr, bool]] = field(default_factory=dict)
    ntm_const: dict[int, bool] = field(default_factory=dict)  # communes NTM by construction
    late: np.ndarray | None = None            # communes whose spending may move to the horizon
    late_districts: bool = False               # district projects may start in the last year
    _matrix: MatrixModel | None = field(default=None, repr=False)

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.col_lb)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self.matrix.shape[0]

    @property
    def n_integer(self) -> int:
        """Number of integer (mostly binary) columns."""
        return int(self.col_int.sum())

    # ----- expressions -----------------------------------------------------------------
    def z_end(self, c: int) -> LinExpr:
        """Commune ``c`` NTM at the horizon."""
        if self.ntm_const.get(c):
            return LinExpr.const(1.0)
        if c in self.y:
            return LinExpr.of([col for _, col in self.y[c]])
        col = self.z.get((c, self.inst.n_years - 1))
        return LinExpr.const(0.0) if col is None else LinExpr.of([col])

    def adv_expr(self, c: int) -> LinExpr:
        """Commune ``c`` advanced at the horizon."""
        if self.inst.base_adv[c]:
            return self.z_end(c)
        return LinExpr.of([col for _, col in self.adv.get(c, [])])

    def model_expr(self, c: int) -> LinExpr:
        """Commune ``c`` model at the horizon."""
        if self.inst.base_model[c]:
            return self.adv_expr(c)
        return LinExpr.of([col for _, col in self.mod.get(c, [])])

    def value(self, expr: LinExpr | int, values: np.ndarray) -> float:
        """Value of an expression (or of one column) at column values."""
        return expr.value(values) if isinstance(expr, LinExpr) else float(values[int(expr)])

    # ----- solver form ---------------------------------------------------------------
    def matrix_model(self) -> MatrixModel:
        """The model's arrays, as a solver back-end receives them."""
        if self._matrix is None:
            self._matrix = MatrixModel(self.col_lb, self.col_ub, self.col_int, self.col_names, self.matrix,
                                       self.row_lo, self.row_hi)
        return self._matrix

    @property
    def prob(self) -> pulp.LpProblem:
        """The same model as a PuLP problem (built on first use; objective left empty)."""
        return self.matrix_model().pulp_model()[0]

    # ----- warm start ------------------------------------------------------------------
    def values_from(self, dec: Decisions) -> np.ndarray:
        """Column values (model order) that encode a plan, for a MIP start.

        The plan is first moved into the model's reduced form (projects of communes with
        the late-spending property finish with their commune, upgrades start as late as
        possible), with its money re-timed to follow; outcomes do not change.
        """
        inst = self.inst
        dec = self.reduced(dec)
        out = evaluate(inst, dec)
        values = np.zeros(self.n_cols)
        year_ntm = out.commune_year_ntm
        for p, opts in self.x.items():
            for s, col in opts:
                values[col] = float(dec.proj_start[p] == s)
        for (c, t), col in self.z.items():
            values[col] = float(year_ntm[c] != 0 and year_ntm[c] <= inst.years[t])
        for c, opts in self.y.items():
            for t, col in opts:
                values[col] = float(year_ntm[c] != 0 and year_ntm[c] == inst.years[t])
        for p, col in self.q.items():
            values[col] = float(dec.proj_start[p] >= 0 and year_ntm[inst.proj_commune[p]] == 0)
        for starts, table in ((dec.adv_start, self.adv), (dec.model_start, self.mod)):
            for c, opts in table.items():
                for s, col in opts:
                    values[col] = float(starts[c] == s)
        for (c, t), col in self.vn.items():
            values[col] = float(dec.village_ntm[c, t])
        for (c, t), col in self.vm.items():
            values[col] = float(dec.village_model[c, t])
        for d, col in self.w.items():
            values[col] = float(out.district_unit[d])
        for starts, table in ((dec.district_start, self.dx), (dec.district_adv_start, self.dax)):
            for d, opts in table.items():
                for s, col in opts:
                    values[col] = float(starts[d] == s)
        if dec.flows is not None:
            for (f, g, t), col in self.u.items():
                values[col] = MONEY * float(dec.flows[f, g, t])
        for sf in self.shortfalls:
            values[sf.var] = 0.0
        return values

    def reduced(self, dec: Decisions) -> Decisions:
        """The same plan with spending moved as late as the model's reduced form asks.

        Criteria projects of communes in ``y``/``q`` form (and, under the dominance rows,
        of the others where the year is open) finish with their commune, or at the
        horizon if it does not complete; late communes' upgrades start as late as they
        can, their villages come in the last year, and district projects too when
        ``late_districts``. Money follows: each class's yearly need is paid from the
        money its sources had already paid it by then, which keeps every source within
        its cumulative envelope.
        """
        inst = self.inst
        new = dec.copy()
        years = inst.years
        end = inst.horizon_end
        out = evaluate(inst, dec)
        funded = np.flatnonzero((dec.proj_start >= 0) & (inst.proj_committed_start < 0))
        dominance = inst.carry_over and inst.absorption is None
        for p in funded:
            c = int(inst.proj_commune[p])
            lead = int(inst.proj_lead[p])
            if dec.proj_start[p] + lead - 1 > end:
                continue
            finish = int(out.commune_year_ntm[c]) or end
            start = finish - lead + 1
            if c in self.y or (dominance and any(s == start for s, _ in self.x.get(int(p), []))):
                new.proj_start[p] = max(start, int(dec.proj_start[p]))
        if self.late is not None:
            for starts, lead in ((new.adv_start, inst.adv_lead), (new.model_start, inst.model_lead)):
                move = (starts >= 0) & self.late
                starts[move] = np.maximum(starts[move], end - lead + 1)
            for counts in (new.village_ntm, new.village_model):
                late = np.flatnonzero(self.late)
                total = counts[late].sum(axis=1)
                counts[late] = 0
                counts[late, -1] = total
        if self.late_districts:
            for starts in (new.district_start, new.district_adv_start):
                starts[starts >= 0] = int(years[-1])
        if dec.flows is not None:
            new.flows = _retime(dec.flows, class_spend(inst, new))
        return new

    def decisions_from(self, values: np.ndarray) -> Decisions:
        """Read a plan back from column values (model order)."""
        inst = self.inst
        end = inst.horizon_end
        dec = Decisions.empty(inst)
        for p, opts in self.x.items():
            for s, col in opts:
                if values[col] > 0.5:
                    dec.proj_start[p] = s
        projects_of = inst.projects_of
        for c, opts in self.y.items():
            ps = projects_of[c]
            done = [int(inst.years[t]) for t, col in opts if values[col] > 0.5]
            if done:
                dec.proj_start[ps] = done[0] - inst.proj_lead[ps] + 1
            else:
                for p in ps:
                    if values[self.q[int(p)]] > 0.5:
                        dec.proj_start[p] = end - inst.proj_lead[p] + 1
        for starts, table in ((dec.adv_start, self.adv), (dec.model_start, self.mod)):
            for c, opts in table.items():
                for s, col in opts:
                    if values[col] > 0.5:
                        starts[c] = s
        for (c, t), col in self.vn.items():
            dec.village_ntm[c, t] = int(round(values[col]))
        for (c, t), col in self.vm.items():
            dec.village_model[c, t] = int(round(values[col]))
        for starts, table in ((dec.district_start, self.dx), (dec.district_adv_start, self.dax)):
            for d, opts in table.items():
                for s, col in opts:
                    if values[col] > 0.5:
                        starts[d] = s
        flows = np.zeros((len(inst.sources), len(inst.classes), inst.n_years))
        for (f, g, t), col in self.u.items():
            flows[f, g, t] = max(0.0, values[col]) / MONEY
        dec.flows = flows
        return dec


def _retime(flows: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Flows paying ``need`` (n_class × n_t) from the money each source had paid each class so far.

    ``need`` must come no earlier than the need ``flows`` paid (same totals, moved later):
    then each source's cumulative spending never exceeds what it was.
    """
    n_f, n_g, n_t = flows.shape
    cum = np.cumsum(flows, axis=2)
    out = np.zeros_like(flows)
    for g in range(n_g):
        fs = np.flatnonzero(cum[:, g, -1] > 0)
        if not len(fs):
            continue
        drawn = np.zeros(len(fs))
        for t in range(n_t):
            left = need[g, t]
            pool = np.maximum(cum[fs, g, t] - drawn, 0.0)
            for i in range(len(fs)):
                if left <= 0:
                    break
                take = min(left, pool[i])
                out[fs[i], g, t] += take
                drawn[i] += take
                left -= take
            if left > 1e-9 * max(1.0, need[g, t]):
                out[fs[-1], g, t] += left  # rounding only, when needs came later as they must
    return out


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


def build_model(inst: Instance, mode: str | None = None, weights: np.ndarray | None = None) -> PlanModel:
    """Build the model for an instance.

    Parameters
    ----------
    inst
        The resolved dataset and scenario.
    mode
        ``"max-achievement"`` or ``"min-cost"`` (default: the scenario's).
    weights
        Chance of each commune being NTM at the horizon by the year its last project
        finishes (n_communes × (n_years + 1), column 0: before the horizon; see
        :func:`ntm_sim.simulate.success_weights`); needed for the ``expected_communes``
        stage, which maximises their sum (earlier completion weighs more).
    """
    mode = mode or inst.scenario.mode
    b = _Builder()
    spend = _Spend()
    years = [int(y) for y in inst.years]
    n_t, last, end = inst.n_years, inst.n_years - 1, inst.horizon_end
    n_c = inst.n_communes
    inf = math.inf
    projects_of = inst.projects_of
    targets = inst.targets
    enforced = set(inst.scenario.targets.named()) if mode == "min-cost" else set(inst.scenario.enforce)
    locks = inst.locks
    forbid_c = set(locks.forbid_commune)
    forbid_p = {p for p, y in locks.forbid_project if y is None}
    forbid_py = {(p, y) for p, y in locks.forbid_project if y is not None}
    forbid_cy = set(locks.forbid_commune_year)
    dominance = inst.carry_over and inst.absorption is None
    villages_on = bool({"villages_ntm", "villages_model"} & enforced)
    late = late_communes(inst, mode, villages_on)
    # communes in y/q form: late, and nothing ties one of their projects to a year
    locked = np.zeros(n_c, dtype=bool)
    for p in forbid_p | {p for p, _ in forbid_py} | {p for p, _ in locks.force_project}:
        locked[inst.proj_commune[p]] = True
    for c, _ in forbid_cy:
        locked[c] = True
    locked[list(forbid_c)] = True
    np.logical_or.at(locked, inst.proj_commune, inst.proj_committed_start >= 0)
    np.logical_or.at(locked, inst.proj_commune, inst.proj_lead > n_t)
    has_projects = np.bincount(inst.proj_commune, minlength=n_c) > 0
    sched = late & ~locked & has_projects
    m = PlanModel(inst=inst, mode=mode, col_lb=np.zeros(0), col_ub=np.zeros(0), col_int=np.zeros(0, dtype=bool),
                  col_names=[], matrix=sp.csr_matrix((0, 0)), row_lo=np.zeros(0), row_hi=np.zeros(0),
                  late=late, late_districts=inst.carry_over and _monotone(inst, mode))
    m.ntm_const = {c: True for c in range(n_c) if not has_projects[c]}

    # ----- criteria projects of communes in x form --------------------------------------------
    class_const = np.zeros((len(inst.classes), n_t))
    commune_const = np.zeros((n_c, n_t))
    done_by: dict[tuple[int, int], list[int]] = {}  # (p, t) -> x columns finishing by t
    done_const: dict[tuple[int, int], float] = {}
    impossible: set[int] = set()
    for p in np.flatnonzero(~sched[inst.proj_commune]).tolist():
        c = int(inst.proj_commune[p])
        lead = int(inst.proj_lead[p])
        cost = float(inst.proj_cost[p])
        g = int(inst.proj_class[p])
        committed = int(inst.proj_committed_start[p])
        if committed >= 0:
            for y in inst.spend_years(committed, lead):
                class_const[g, inst.year_index(y)] += MONEY * cost / lead
                commune_const[c, inst.year_index(y)] += MONEY * cost / lead
            for t, y in enumerate(years):
                if committed + lead - 1 <= y:
                    done_const[(p, t)] = 1.0
            continue
        opts = []
        if c not in forbid_c and p not in forbid_p:
            for s in inst.start_years(p):
                if (p, s) in forbid_py or (c, s) in forbid_cy:
                    continue
                if inst.absorption is not None and cost / lead > inst.absorption + 1e-9:
                    continue
                v = b.col(f"x_{p}_{s}")
                opts.append((s, v))
                spend.add(g, c, [inst.year_index(y) for y in inst.spend_years(s, lead)], v, MONEY * cost / lead)
                for t, y in enumerate(years):
                    if s + lead - 1 <= y:
                        done_by.setdefault((p, t), []).append(v)
        if not opts:
            impossible.add(p)
        else:
            m.x[p] = opts
            b.row([v for _, v in opts], 1.0, -inf, 1.0)

    # ----- communes NTM by year (x form) ---------------------------------------------------------
    for c in np.flatnonzero(~sched & has_projects).tolist():
        ps = [int(p) for p in projects_of[c]]
        if c in forbid_c or any(p in impossible for p in ps):
            continue
        for t in range(n_t):
            # the commune cannot be NTM before its slowest project can finish
            if any(done_const.get((p, t), 0.0) == 0.0 and not done_by.get((p, t)) for p in ps):
                continue
            v = b.col(f"z_{c}_{t}")
            m.z[(c, t)] = v
            for p in ps:
                if done_const.get((p, t), 0.0) >= 1.0:
                    continue
                xs = done_by[(p, t)]
                b.row([v, *xs], [1.0] + [-1.0] * len(xs), -inf, 0.0)

    # ----- dominance: with carry-over and no absorption limit, spending later never hurts, so
    # every project may finish exactly when its commune does (or at the horizon): this removes
    # schedules that differ only in when money sits idle, and speeds up every stage.
    if dominance:
        for p in m.x:
            c = int(inst.proj_commune[p])
            for t in range(last):
                done = done_by.get((p, t))
                if not done:
                    continue
                z = m.z.get((c, t))
                if z is None:
                    b.row(list(done), 1.0, -inf, 0.0)
                else:
                    b.row([*done, z], [1.0] * len(done) + [-1.0], -inf, 0.0)

    # ----- communes in y/q form: one binary per completion year, one per project funded
    # without completing the commune (it then finishes at the horizon) ------------------------------
    sched_ps = np.flatnonzero(sched[inst.proj_commune])
    if len(sched_ps):
        pc = inst.proj_commune[sched_ps]
        lead = inst.proj_lead[sched_ps]
        share = MONEY * inst.proj_cost[sched_ps] / lead
        cls = inst.proj_class[sched_ps]
        max_lead = np.zeros(n_c, dtype=int)
        np.maximum.at(max_lead, pc, lead)
        sched_c = np.flatnonzero(sched)
        first = max_lead[sched_c] - 1  # first year index in which the commune can complete
        yc = np.repeat(sched_c, n_t - first)
        yt = np.concatenate([np.arange(f, n_t) for f in first])
        ycols = np.array(b.cols([f"y_{c}_{t}" for c, t in zip(yc.tolist(), yt.tolist(), strict=True)]))
        ycol = np.full((n_c, n_t), -1, dtype=np.int64)
        ycol[yc, yt] = ycols
        for c, t, v in zip(yc.tolist(), yt.tolist(), ycols.tolist(), strict=True):
            m.y.setdefault(c, []).append((t, v))
        qcols = np.array(b.cols([f"q_{p}" for p in sched_ps.tolist()]))
        m.q = dict(zip(sched_ps.tolist(), qcols.tolist(), strict=True))
        # q[p] + Σ_t y[c, t] <= 1
        y_of_p = ycol[pc]
        rr, tt = np.nonzero(y_of_p >= 0)
        n_sp = len(sched_ps)
        b.rows(np.concatenate([np.arange(n_sp), rr]), np.concatenate([qcols, y_of_p[rr, tt]]),
               np.ones(n_sp + len(rr)), np.full(n_sp, -inf), np.ones(n_sp))
        # money: completing in year e, project p spends in e - lead + 1 … e; funded alone, at the end
        for e in range(n_t):
            has = ycol[pc, e] >= 0
            for k in range(int(lead.max())):
                sel = has & (k < lead)
                spend.block(cls[sel], pc[sel], e - k, ycol[pc[sel], e], share[sel])
        for k in range(int(lead.max())):
            sel = k < lead
            spend.block(cls[sel], pc[sel], last - k, qcols[sel], share[sel])

    # ----- commune expressions as (columns, constant), every coefficient 1 ----------------------
    def z_end(c: int) -> tuple[list[int], float]:
        if m.ntm_const.get(c):
            return [], 1.0
        if c in m.y:
            return [v for _, v in m.y[c]], 0.0
        v = m.z.get((c, last))
        return ([v], 0.0) if v is not None else ([], 0.0)

    def adv_of(c: int) -> tuple[list[int], float]:
        return z_end(c) if inst.base_adv[c] else ([v for _, v in m.adv.get(c, [])], 0.0)

    def model_of(c: int) -> tuple[list[int], float]:
        return adv_of(c) if inst.base_model[c] else ([v for _, v in m.mod.get(c, [])], 0.0)

    def total(parts: list[tuple[list[int], float]]) -> tuple[list[int], float]:
        return [v for cols, _ in parts for v in cols], sum(k for _, k in parts)

    def ntm_by(c: int, t: int) -> tuple[list[int], float]:
        """Commune ``c`` NTM by the end of year index ``t`` (columns, constant)."""
        if m.ntm_const.get(c) or inst.base_ntm[c]:
            return [], 1.0
        if c in m.y:
            return [v for tt, v in m.y[c] if tt <= t], 0.0
        v = m.z.get((c, t))
        return ([v], 0.0) if v is not None else ([], 0.0)

    # ----- tiers ------------------------------------------------------------------------------
    need_tiers = ("tiers" in inst.scenario.objective.order or bool({"advanced", "model", "district_units",
                  "advanced_districts"} & enforced) or any(inst.district_need_adv > 0))
    if need_tiers:
        for c in range(n_c):
            if c in forbid_c:
                continue
            ze, ze_k = z_end(c)
            if not ze and ze_k == 0.0:
                continue
            for kind, base, cost, lead, table in (
                ("adv", inst.base_adv, inst.adv_cost, inst.adv_lead, m.adv),
                ("mod", inst.base_model, inst.model_cost, inst.model_lead, m.mod),
            ):
                if base[c]:
                    continue
                if inst.absorption is not None and cost[c] / lead > inst.absorption + 1e-9:
                    continue
                starts = [s for s in years if s + lead - 1 <= end]
                if late[c]:
                    starts = starts[-1:]  # spending later never hurts: start as late as possible
                if not starts:
                    continue
                cols = b.cols([f"{kind}_{c}_{s}" for s in starts])
                table[c] = list(zip(starts, cols, strict=True))
                for s, v in zip(starts, cols, strict=True):
                    spend.add(int(inst.commune_upgrade_class[c]), c,
                              [inst.year_index(y) for y in inst.spend_years(s, lead)], v, MONEY * float(cost[c]) / lead)
                    # an upgrade finishes no earlier than the year the commune reaches NTM
                    by, by_k = ntm_by(c, inst.year_index(s + lead - 1))
                    if by_k < 1.0:
                        b.row([v, *by], [1.0] + [-1.0] * len(by), -inf, by_k)
            if c in m.adv:
                cols = [v for _, v in m.adv[c]]
                b.row(cols + ze, [1.0] * len(cols) + [-1.0] * len(ze), -inf, ze_k)
            if c in m.mod:
                cols = [v for _, v in m.mod[c]]
                adv, adv_k = adv_of(c)
                b.row(cols + adv, [1.0] * len(cols) + [-1.0] * len(adv), -inf, adv_k)

    # ----- district units -------------------------------------------------------------------
    if need_tiers:
        d_years = years[-1:] if m.late_districts else years

        def district_project(d: int, prefix: str, cost: float) -> list[tuple[int, int]]:
            cols = b.cols([f"{prefix}_{d}_{s}" for s in d_years])
            for s, v in zip(d_years, cols, strict=True):
                spend.add(int(inst.district_upgrade_class[d]), -1, [inst.year_index(s)], v, cost)
            b.row(cols, 1.0, -inf, 1.0)
            return list(zip(d_years, cols, strict=True))

        for d, members in enumerate(inst.district_members):
            if len(members) == 0:
                continue
            zes = [z_end(int(c)) for c in members]
            w = b.col(f"w_{d}", 0.0, 0.0 if any(not ze and k == 0.0 for ze, k in zes) else 1.0)
            m.w[d] = w
            for ze, _ in zes:
                if ze:
                    b.row([w, *ze], [1.0] + [-1.0] * len(ze), -inf, 0.0)
            adv, adv_k = total([adv_of(int(c)) for c in members])
            b.row(adv + [w], [1.0] * len(adv) + [-float(inst.district_need_adv[d])], -adv_k, inf)
            if not inst.district_recognised[d]:
                m.dx[d] = district_project(d, "dx", MONEY * float(inst.district_cost[d]))
                b.row([v for _, v in m.dx[d]] + [w], [1.0] * len(m.dx[d]) + [-1.0], 0.0, 0.0)
            # advanced district
            m.dax[d] = wa = district_project(d, "dax", MONEY * float(inst.district_adv_cost[d]))
            wa_cols = [v for _, v in wa]
            b.row(wa_cols + [w], [1.0] * len(wa_cols) + [-1.0], -inf, 0.0)
            b.row(adv + wa_cols, [1.0] * len(adv) + [-float(inst.district_need_adv2[d])] * len(wa_cols), -adv_k, inf)
            mod, mod_k = total([model_of(int(c)) for c in members])
            b.row(mod + wa_cols, [1.0] * len(mod) + [-float(inst.district_need_model2[d])] * len(wa_cols), -mod_k,
                  inf)

    # ----- villages ------------------------------------------------------------------------------
    if villages_on:
        for c in range(n_c):
            if c in forbid_c:
                continue
            room = int(inst.villages[c] - inst.villages_ntm[c])
            model_room0 = int(inst.villages_ntm[c] - inst.villages_model[c])
            if room <= 0 and model_room0 <= 0:
                continue
            vns: list[int] = []
            vms: list[int] = []
            unit_class = int(inst.commune_upgrade_class[c])
            for t in ([last] if late[c] else range(n_t)):  # late communes: all in the last year
                vn = b.col(f"vn_{c}_{t}", 0.0, max(room, 0))
                vm = b.col(f"vm_{c}_{t}", 0.0, max(room + model_room0, 0))
                m.vn[(c, t)], m.vm[(c, t)] = vn, vm
                vns.append(vn)
                vms.append(vm)
                spend.add(unit_class, c, [t], vn, MONEY * float(inst.village_ntm_cost[c]))
                spend.add(unit_class, c, [t], vm, MONEY * float(inst.village_model_cost[c]))
                b.row(vms + vns, [1.0] * len(vms) + [-1.0] * len(vns), -inf, model_room0)
            b.row(vns, 1.0, -inf, room)

    # ----- money: classes ← sources, budgets, absorption ----------------------------------
    n_f = len(inst.sources)
    sg, sc, st, scol, sv = spend.arrays()
    u_f = np.array([f for cls in inst.classes for _t in range(n_t) for f in cls], dtype=np.int64)
    u_g = np.array([g for g, cls in enumerate(inst.classes) for _t in range(n_t) for _f in cls], dtype=np.int64)
    u_t = np.array([t for cls in inst.classes for t in range(n_t) for _f in cls], dtype=np.int64)
    u_cols = np.array(b.cols([f"u_{f}_{g}_{t}" for f, g, t in zip(u_f.tolist(), u_g.tolist(), u_t.tolist(),
                                                                    strict=True)], 0.0, inf, integer=False),
                      dtype=np.int64)
    m.u = dict(zip(zip(u_f.tolist(), u_g.tolist(), u_t.tolist(), strict=True), u_cols.tolist(), strict=True))
    # Σ_f u[f, g, t] - spend[g, t] = committed spend[g, t], one row per class and year
    b.rows(np.concatenate([u_g * n_t + u_t, sg * n_t + st]), np.concatenate([u_cols, scol]),
           np.concatenate([np.ones(len(u_cols)), -sv]), class_const.ravel(), class_const.ravel())
    # envelopes per source and year (cumulative with carry-over)
    rr, cc = [], []
    for t in range(n_t):
        sel = u_t <= t if inst.carry_over else u_t == t
        rr.append(u_f[sel] * n_t + t)
        cc.append(u_cols[sel])
    money = MONEY * inst.budget
    rhs = np.cumsum(money, axis=1) if inst.carry_over else money
    b.rows(np.concatenate(rr), np.concatenate(cc), np.ones(sum(len(x) for x in cc)), np.full(n_f * n_t, -inf),
           rhs.ravel())
    if inst.absorption is not None:
        # a row per commune and year with spending, but none for communes that cannot exceed it
        keep = (sc >= 0) & ~late[np.maximum(sc, 0)]
        keys, local = np.unique(sc[keep] * n_t + st[keep], return_inverse=True)
        b.rows(local, scol[keep], sv[keep], np.full(len(keys), -inf),
               MONEY * inst.absorption - commune_const[keys // n_t, keys % n_t])

    # ----- district shares of the money ---------------------------------------------------
    total_spend = LinExpr.of(u_cols)
    if inst.district_floor:
        for d, floor in inst.district_floor.items():
            members = inst.district_members[d]
            mine = np.isin(sc, members)
            expr = LinExpr.of(scol[mine], sv[mine], float(commune_const[members].sum()))
            for table, cost in ((m.dx, inst.district_cost), (m.dax, inst.district_adv_cost)):
                expr = expr + LinExpr.of([v for _, v in table.get(d, [])], MONEY * float(cost[d]))
            b.expr_row(expr - total_spend * floor, 0.0, inf)

    # ----- elastic targets and forced locks ----------------------------------------------------
    base_met = inst.base_criteria_met

    def funded(p: int) -> tuple[list[int], list[float]]:
        """Project ``p`` funded (it then finishes within the horizon)."""
        if p in m.q:
            ys = [v for _, v in m.y[int(inst.proj_commune[p])]]
            return ys + [m.q[p]], [1.0] * (len(ys) + 1)
        xs = [v for _, v in m.x.get(p, [])]
        return xs, [1.0] * len(xs)

    def criteria_met_end(c: int) -> tuple[list[int], list[float], float]:
        ps = [int(p) for p in projects_of[c]]
        if c in m.y:
            ys = [v for _, v in m.y[c]]
            return (ys + [m.q[p] for p in ps], [float(len(ps))] * len(ys) + [1.0] * len(ps),
                    float(base_met[c]))
        xs = [v for p in ps for _, v in m.x.get(p, [])]
        return xs, [1.0] * len(xs), float(base_met[c]) + sum(done_const.get((p, last), 0.0) for p in ps)

    def elastic(key: str, label: str, achieved: LinExpr, needed: float, weight: float | None = None) -> None:
        # a shortfall weighs as the share of its target missed (one district unit is all of its
        # target, one village a hundredth of its): targets in different units add up fairly
        weight = (1.0 / max(float(needed), 1.0)) if weight is None else weight
        sh = b.col(f"short_{len(m.shortfalls)}", 0.0, inf, integer=False)
        b.expr_row(achieved + LinExpr.of([sh]), float(needed), inf)
        m.shortfalls.append(Shortfall(key, label, sh, float(needed), weight, achieved))

    z_last = [v for (c, t), v in m.z.items() if t == last]
    y_all = [v for opts in m.y.values() for _, v in opts]
    ntm_total = LinExpr.of(z_last + y_all, 1.0, float(len(m.ntm_const)))
    adv_cols, adv_k = total([adv_of(c) for c in range(n_c)])
    all_adv = LinExpr.of(adv_cols, 1.0, adv_k)
    mod_cols, mod_k = total([model_of(c) for c in range(n_c)])
    all_model = LinExpr.of(mod_cols, 1.0, mod_k)
    for c in locks.force_commune:
        ze, ze_k = z_end(c)
        elastic(f"lock:commune:{inst.communes[c]}", f"locked commune {inst.communes[c]} reaches NTM",
                LinExpr.of(ze, 1.0, ze_k), 1.0, LOCK_WEIGHT)
    for p, year in locks.force_project:
        opts = [v for s, v in m.x.get(p, []) if year is None or s == year]
        label = f"locked project {inst.communes[inst.proj_commune[p]]} {inst.criteria[inst.proj_criterion[p]]}"
        elastic(f"lock:project:{p}", label, LinExpr.of(opts, 1.0, float(inst.proj_committed_start[p] >= 0)), 1.0,
                LOCK_WEIGHT)
    if "communes_ntm" in enforced and targets.communes_ntm is not None:
        elastic("communes_ntm", "communes NTM", ntm_total, targets.communes_ntm)
    if "advanced" in enforced and targets.advanced is not None:
        elastic("advanced", "advanced communes", all_adv, targets.advanced)
    if "model" in enforced and targets.model is not None:
        elastic("model", "model communes", all_model, targets.model)
    if "district_units" in enforced:
        for d in targets.district_units:
            elastic(f"district_units:{inst.districts[d]}", f"district unit {inst.districts[d]}",
                    LinExpr.of([m.w[d]] if d in m.w else []), 1.0)
    if "advanced_districts" in enforced:
        for d in targets.advanced_districts:
            elastic(f"advanced_districts:{inst.districts[d]}", f"advanced district {inst.districts[d]}",
                    LinExpr.of([v for _, v in m.dax.get(d, [])]), 1.0)
    if "villages_ntm" in enforced and targets.villages_ntm is not None:
        elastic("villages_ntm", "new NTM villages", LinExpr.of(list(m.vn.values())), targets.villages_ntm)
    if "villages_model" in enforced and targets.villages_model is not None:
        elastic("villages_model", "new model villages", LinExpr.of(list(m.vm.values())), targets.villages_model)
    if "min_criteria" in enforced and targets.min_criteria is not None:
        for c in range(n_c):
            if base_met[c] < targets.min_criteria:
                elastic(f"min_criteria:{inst.communes[c]}", f"commune {inst.communes[c]} ≥ "
                        f"{targets.min_criteria} criteria", LinExpr.of(*criteria_met_end(c)), targets.min_criteria)
    if "avg_criteria" in enforced and targets.avg_criteria_total is not None:
        parts = [criteria_met_end(c) for c in range(n_c)]
        elastic("avg_criteria", f"average {targets.avg_criteria} criteria per commune",
                LinExpr.of([v for cols, _, _ in parts for v in cols], [a for _, vals, _ in parts for a in vals],
                           sum(k for _, _, k in parts)), targets.avg_criteria_total)
    if "criterion_communes" in enforced:
        for k, need in targets.criterion_communes.items():
            ps = np.flatnonzero(inst.proj_criterion == k).tolist()
            parts = [funded(p) for p in ps]
            const = float(inst.base_met[:, k].sum()) + sum(done_const.get((p, last), 0.0) for p in ps)
            elastic(f"criterion_communes:{inst.criteria[k]}", f"communes meeting {inst.criteria[k]}",
                    LinExpr.of([v for cols, _ in parts for v in cols], [a for _, vals in parts for a in vals], const),
                    need)

    # ----- stage objectives ------------------------------------------------------------------------
    if m.shortfalls:
        m.stages["targets"] = (LinExpr.of([s.var for s in m.shortfalls], [s.weight for s in m.shortfalls]), False)
    if mode == "min-cost":
        m.stages["cost"] = (total_spend, False)
        gap_cols = [(t, v) for (f, _, t), v in m.u.items() if f == inst.gap_source]
        m.stages["gap"] = (LinExpr.of([v for _, v in gap_cols]), False)
        # the same gap, asked for as late as it can be (money raised early sits idle)
        m.stages["gap_timing"] = (LinExpr.of([v for _, v in gap_cols], [float(n_t - t) for t, _ in gap_cols]), False)
    else:
        district_expr = LinExpr.of(list(m.w.values()) + [v for opts in m.dax.values() for _, v in opts])
        # criteria met is Σ x; a commune in y form that completes counts all its projects
        n_proj = np.bincount(inst.proj_commune, minlength=n_c)
        x_all = [v for opts in m.x.values() for _, v in opts]
        criteria_expr = LinExpr.of(x_all + y_all + list(m.q.values()),
                                   [1.0] * len(x_all) + [float(n_proj[c]) for c, opts in m.y.items() for _ in opts]
                                   + [1.0] * len(m.q))
        # earliness is Σ z; completing in year t counts every year from t to the horizon
        earliness = LinExpr.of(list(m.z.values()) + y_all,
                               [1.0] * len(m.z) + [float(n_t - t) for opts in m.y.values() for t, _ in opts])
        exprs = {
            "communes_ntm": (ntm_total, True),
            "expected_communes": (_expected(m, weights), True),
            "district_units": (district_expr, True),
            "tiers": (all_adv + all_model, True),
            "criteria_met": (criteria_expr, True),
            "earliness": (earliness, True),
            "cost": (total_spend, False),
        }
        weights = inst.scenario.objective.weights
        if weights:
            combo = LinExpr.const(0.0)
            for name, wgt in weights.items():
                expr, maximize = exprs[name]
                combo = combo + expr * (wgt if maximize else -wgt)
            m.stages["weighted"] = (combo, True)
        else:
            for name in inst.scenario.objective.order:
                m.stages[name] = exprs[name]

    # ----- arrays ------------------------------------------------------------------------------
    m.col_lb = np.array(b.lb)
    m.col_ub = np.array(b.ub)
    m.col_int = np.array(b.integer, dtype=bool)
    m.col_names = b.names
    m.matrix = b.matrix()
    m.row_lo = np.array(b.lo, dtype=float)
    m.row_hi = np.array(b.hi, dtype=float)
    return m


def _expected(m: PlanModel, weights: np.ndarray | None) -> LinExpr:
    """Σ over communes of their chance of being NTM at the horizon (``weights``, non-increasing in the year)."""
    if weights is None:
        return LinExpr.const(math.nan)
    n_t = m.inst.n_years
    w = np.concatenate([np.asarray(weights, dtype=float), np.zeros((len(weights), 1))], axis=1)
    cols, coefs = [], []
    for (c, t), col in m.z.items():      # z: NTM by year t, so completing in t weighs w[t] − w[t + 1]
        cols.append(col)
        coefs.append(w[c, t + 1] - (w[c, t + 2] if t + 1 < n_t else 0.0))
    for c, opts in m.y.items():          # y: completing in year t
        for t, col in opts:
            cols.append(col)
            coefs.append(w[c, t + 1])
    return LinExpr.of(cols, coefs, float(sum(w[c, 0] for c in m.ntm_const)))


def integral(name: str) -> bool:
    """Whether a stage's objective takes integer values (so it can be kept exactly)."""
    return name in ("communes_ntm", "district_units", "tiers", "criteria_met", "earliness")
