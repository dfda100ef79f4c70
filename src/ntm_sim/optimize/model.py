"""The MILP of a planning instance, built as sparse arrays.

Decisions: start year of each criterion project (binary ``x[p, s]``), commune NTM by
year (``z[c, t]``), tier upgrades, new villages, district projects, and money from each
source to each *eligibility class* and year (``u[f, g, t]``, continuous).

Money is aggregated by eligibility class (criteria that the same sources may pay for):
this is exact, because money is fungible within a class, and it keeps the number of
continuous variables independent of the number of communes. The split of each class's
money back onto projects is proportional (see :func:`ntm_sim.model.plan.make_plan`).

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

:func:`build_model` runs one ``define_*`` step per family of columns and rows (project
starts, commune completion, tiers, district units, villages, money, targets, locks,
objectives; see :data:`DEFINE_STEPS`), in an order that fixes the model's column and row
order. Each family's columns are a named :class:`VarBlock` of :attr:`PlanModel.blocks`,
which also says how the block reads back into a plan (:meth:`PlanModel.values_from`,
:meth:`PlanModel.decisions_from`); ``model.x``, ``model.z``… are the blocks' columns.

The model is kept as column bounds, row bounds and a sparse matrix: HiGHS loads it in
one call. :attr:`PlanModel.prob` builds the same model in PuLP (for CBC, or to write an
LP file) on demand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pulp
import scipy.sparse as sp

from ntm_sim.model.instance import Instance
from ntm_sim.model.ledger import class_spend
from ntm_sim.model.plan import Decisions, Outcomes, evaluate, kept_on_paper
from ntm_sim.model.targets import enforced_names
from ntm_sim.optimize.linear import LinExpr, MatrixModel

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




BlockKind = Literal["start", "count", "flow", "outcome"]


@dataclass
class VarBlock:
    """A named family of model columns, and how it maps onto a plan.

    Attributes
    ----------
    name
        The block's name, also the prefix of its column names (``x``, ``adv``, ``u``…).
    options
        Whether each key holds a list of ``(year, column)`` options, at most one of
        them 1 (start years, or completion year indices for ``y``), instead of one column.
    kind
        How the block reads back into a plan: ``start`` (``dec.<attr>[key]`` is the year
        of the option that is 1), ``count`` (``dec.<attr>[key]`` is the column's value),
        ``flow`` (``dec.flows[key]`` is the column's value, in billion VND), or
        ``outcome`` (it follows from the plan's outcomes: :meth:`PlanModel.values_from`
        and :meth:`PlanModel.decisions_from` handle it).
    attr
        The :class:`~ntm_sim.model.plan.Decisions` array of a ``start``, ``count`` or ``flow`` block.
    cols
        Key → column, or key → options (filled while the model is built).
    """

    name: str
    options: bool
    kind: BlockKind
    attr: str | None = None
    cols: dict = field(default_factory=dict)

    def columns(self) -> list[int]:
        """Every column of the block, in key (and option) order."""
        if self.options:
            return [col for opts in self.cols.values() for _, col in opts]
        return list(self.cols.values())

    def encode(self, dec: Decisions, values: np.ndarray) -> None:
        """Write a plan's value of each column into ``values`` (not for ``outcome`` blocks)."""
        if self.kind == "outcome" or self.attr is None or getattr(dec, self.attr) is None:
            return
        arr = getattr(dec, self.attr)
        for key, item in self.cols.items():
            if self.kind == "start":
                for s, col in item:
                    values[col] = float(arr[key] == s)
            elif self.kind == "count":
                values[item] = float(arr[key])
            else:
                values[item] = MONEY * float(arr[key])

    def decode(self, values: np.ndarray, dec: Decisions) -> None:
        """Write the columns' values into a plan (its ``attr`` array must exist; not for ``outcome``)."""
        if self.kind == "outcome" or self.attr is None:
            return
        arr = getattr(dec, self.attr)
        for key, item in self.cols.items():
            if self.kind == "start":
                for s, col in item:
                    if values[col] > 0.5:
                        arr[key] = s
            elif self.kind == "count":
                arr[key] = int(round(values[item]))
            else:
                arr[key] = max(0.0, values[item]) / MONEY


# The model's blocks in a fixed order (name, options, kind, Decisions array)
BLOCKS: tuple[tuple[str, bool, BlockKind, str | None], ...] = (
    ("x", True, "start", "proj_start"),             # project p starts in year s (x form)
    ("z", False, "outcome", None),                  # commune c NTM by year index t (x form)
    ("y", True, "outcome", None),                   # commune c completes in year index t (y/q form)
    ("q", False, "outcome", None),                  # project p funded, its commune not completed (y/q form)
    ("adv", True, "start", "adv_start"),            # commune c starts its advanced upgrade in year s
    ("mod", True, "start", "model_start"),          # … its model upgrade
    ("vn", False, "count", "village_ntm"),          # new NTM villages of commune c in year index t
    ("vm", False, "count", "village_model"),        # new model villages
    ("w", False, "outcome", None),                  # district d a district-level unit at the horizon
    ("dx", True, "start", "district_start"),        # district d's own NTM project starts in year s
    ("dax", True, "start", "district_adv_start"),   # its advanced-district project
    ("u", False, "flow", "flows"),                  # money from source f to class g in year index t
    ("rk", False, "outcome", None),                 # (c, part): a recognition the rule can revoke, kept or not
)


def _new_blocks() -> dict[str, VarBlock]:
    return {name: VarBlock(name, options, kind, attr) for name, options, kind, attr in BLOCKS}


def _block_cols(name: str) -> property:
    """A read-only attribute for a block's ``cols`` (the names other modules use: ``model.x``…)."""

    def get(self: PlanModel) -> dict:
        return self.blocks[name].cols

    return property(get, doc=f"Columns of block ``{name}`` (see :data:`BLOCKS`).")


@dataclass
class PlanModel:
    """A built model: arrays for the solver, column indices of each decision, stage objectives.

    Attributes
    ----------
    col_lb, col_ub, col_int, col_names
        Column bounds, integrality and names (model order).
    matrix, row_lo, row_hi
        The constraint rows ``row_lo <= matrix @ x <= row_hi`` (CSR).
    blocks
        Block name → :class:`VarBlock`, in :data:`BLOCKS` order.
    x, z, y, q, adv, mod, vn, vm, w, dx, dax, u, rk
        Column indices of each decision (each block's ``cols``; see the module docstring).
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
    blocks: dict[str, VarBlock] = field(default_factory=_new_blocks)
    shortfalls: list[Shortfall] = field(default_factory=list)
    stages: dict[str, tuple[LinExpr, bool]] = field(default_factory=dict)
    ntm_const: dict[int, bool] = field(default_factory=dict)  # communes NTM by construction
    late: np.ndarray | None = None            # communes whose spending may move to the horizon
    late_districts: bool = False               # district projects may start in the last year
    _matrix: MatrixModel | None = field(default=None, repr=False)

    x = _block_cols("x")
    z = _block_cols("z")
    y = _block_cols("y")
    q = _block_cols("q")
    adv = _block_cols("adv")
    mod = _block_cols("mod")
    vn = _block_cols("vn")
    vm = _block_cols("vm")
    w = _block_cols("w")
    dx = _block_cols("dx")
    dax = _block_cols("dax")
    u = _block_cols("u")
    rk = _block_cols("rk")

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

    # ----- expressions: as (columns, constant), every coefficient 1, and as LinExpr ------------
    def _z_end_cols(self, c: int) -> tuple[list[int], float]:
        if self.ntm_const.get(c):
            return [], 1.0
        if c in self.y:
            return [v for _, v in self.y[c]], 0.0
        v = self.z.get((c, self.inst.n_years - 1))
        return ([v], 0.0) if v is not None else ([], 0.0)

    def _recognised_end_cols(self, c: int) -> tuple[list[int], float]:
        """Commune ``c`` recognised at the horizon (kept through the reviews, or meeting every criterion)."""
        if (c, "counted") in self.rk:
            return [self.rk[(c, "counted")]], 0.0
        return ([], 1.0) if self.inst.recognised[c] else self._z_end_cols(c)

    def _adv_cols(self, c: int) -> tuple[list[int], float]:
        if not self.inst.has_advanced_tier:
            return [], 0.0  # the criteria set issues no advanced tier: nobody is advanced
        # a recognised advanced commune stays advanced with its recognition
        if self.inst.base_adv[c]:
            return self._recognised_end_cols(c)
        return [v for _, v in self.adv.get(c, [])], 0.0

    def _model_prereq_cols(self, c: int) -> tuple[list[int], float]:
        """Commune ``c`` has what the top tier requires at the horizon: advanced, or NTM without an advanced tier."""
        return self._adv_cols(c) if self.inst.has_advanced_tier else self._z_end_cols(c)

    def _model_cols(self, c: int) -> tuple[list[int], float]:
        # a recognised top-tier commune keeps its tier with its recognition (it is advanced too, where the set
        # has an advanced tier); a new one needs its upgrade
        if self.inst.base_model[c]:
            return self._recognised_end_cols(c)
        return [v for _, v in self.mod.get(c, [])], 0.0

    def _ntm_by_cols(self, c: int, t: int) -> tuple[list[int], float]:
        """Commune ``c`` NTM by the end of year index ``t``."""
        if self.ntm_const.get(c) or self.inst.base_ntm[c]:
            return [], 1.0
        if c in self.y:
            return [v for tt, v in self.y[c] if tt <= t], 0.0
        v = self.z.get((c, t))
        return ([v], 0.0) if v is not None else ([], 0.0)

    def z_end(self, c: int) -> LinExpr:
        """Commune ``c`` NTM at the horizon."""
        cols, k = self._z_end_cols(c)
        return LinExpr.of(cols, 1.0, k)

    def adv_expr(self, c: int) -> LinExpr:
        """Commune ``c`` advanced at the horizon."""
        cols, k = self._adv_cols(c)
        return LinExpr.of(cols, 1.0, k)

    def model_expr(self, c: int) -> LinExpr:
        """Commune ``c`` model at the horizon."""
        cols, k = self._model_cols(c)
        return LinExpr.of(cols, 1.0, k)

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
        for block in self.blocks.values():
            block.encode(dec, values)
        # the outcome blocks: completion years, projects funded alone, district units
        year_ntm = out.commune_year_ntm
        for (c, t), col in self.z.items():
            values[col] = float(year_ntm[c] != 0 and year_ntm[c] <= inst.years[t])
        for c, opts in self.y.items():
            for t, col in opts:
                values[col] = float(year_ntm[c] != 0 and year_ntm[c] == inst.years[t])
        for p, col in self.q.items():
            values[col] = float(dec.proj_start[p] >= 0 and year_ntm[inst.proj_commune[p]] == 0)
        for d, col in self.w.items():
            values[col] = float(out.district_unit[d])
        self._recognition_values(dec, out, values)
        for sf in self.shortfalls:
            values[sf.var] = 0.0
        return values

    def _recognition_values(self, dec: Decisions, out: Outcomes, values: np.ndarray) -> None:
        """The ``rk`` columns of a plan: kept through the first review, and by which way."""
        inst = self.inst
        rec = inst.recognition
        if rec is None or not self.rk:
            return
        kept = kept_on_paper(inst, np.where(dec.proj_start >= 0, dec.proj_start + inst.proj_lead - 1, 10**6))
        review_year = int(inst.years[rec.review_from])
        for c in np.flatnonzero(inst.at_risk).tolist():
            if (c, "keep") not in self.rk:
                continue
            met = inst.base_met[c].copy()
            for p in inst.projects_of[c]:
                if dec.proj_start[p] >= 0 and dec.proj_start[p] + inst.proj_lead[p] - 1 <= review_year:
                    met[inst.proj_criterion[p]] = True
            n_unmet = int((~met).sum())
            few = kept[c] and n_unmet < rec.unmet_with_key
            values[self.rk[(c, "keep")]] = float(kept[c])
            values[self.rk[(c, "few")]] = float(few)
            values[self.rk[(c, "keys")]] = float(kept[c] and not few)
            values[self.rk[(c, "counted")]] = float(out.recognised_end[c])

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
            if inst.at_risk[c]:
                continue  # finishing before the review keeps its recognition: timing matters
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
                starts[move] = np.maximum(starts[move], end - lead[move] + 1)
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
        dec.flows = np.zeros((len(inst.sources), len(inst.classes), inst.n_years))
        for block in self.blocks.values():
            block.decode(values, dec)
        # y/q form: a commune's projects finish in its completion year, or at the horizon when funded alone
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


# ----- building: one step per family of columns and rows --------------------------------------------


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
    forbid_c: set[int]
    forbid_p: set[int]
    forbid_py: set[tuple[int, int]]
    forbid_cy: set[tuple[int, int]]
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


def _start(inst: Instance, mode: str, weights: np.ndarray | None, tier_order: bool = True) -> ModelBuild:
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
        enforced=enforced, forbid_c=set(locks.forbid_commune),
        forbid_p={p for p, y in locks.forbid_project if y is None},
        forbid_py={(p, y) for p, y in locks.forbid_project if y is not None},
        forbid_cy=set(locks.forbid_commune_year), late=late,
        # communes in y/q form: late, and nothing ties one of their projects to a year
        sched=late & ~_locked(inst) & has_projects, has_projects=has_projects, need_tiers=need_tiers,
        need_districts=need_districts, tier_order=tier_order,
        villages_on=villages_on, class_const=np.zeros((len(inst.classes), n_t)), commune_const=np.zeros((n_c, n_t)))


def _total(parts: list[tuple[list[int], float]]) -> tuple[list[int], float]:
    """Sum of (columns, constant) expressions."""
    return [v for cols, _ in parts for v in cols], sum(k for _, k in parts)


# ----- criteria projects and communes -----------------------------------------------------------------


def define_project_starts(build: ModelBuild) -> None:
    """Start-year binaries ``x[p, s]`` of the criteria projects of communes in x form.

    One start at most per project. Projects under way are constants (their money in
    ``class_const`` and ``commune_const``); projects with no allowed start are recorded
    as impossible.

    Parameters
    ----------
    build
        The model being built.
    """
    inst = build.inst
    for p in np.flatnonzero(~build.sched[inst.proj_commune]).tolist():
        if int(inst.proj_committed_start[p]) >= 0:
            _committed_project(build, p)
            continue
        opts = _project_options(build, p)
        if not opts:
            build.impossible.add(p)
        else:
            build.m.x[p] = opts
            build.b.row([v for _, v in opts], 1.0, -math.inf, 1.0)


def _committed_project(build: ModelBuild, p: int) -> None:
    """A project under way: its money and completion are constants."""
    inst = build.inst
    c, lead, cost, g = (int(inst.proj_commune[p]), int(inst.proj_lead[p]), float(inst.proj_cost[p]),
                        int(inst.proj_class[p]))
    committed = int(inst.proj_committed_start[p])
    for y in inst.spend_years(committed, lead):
        build.class_const[g, inst.year_index(y)] += MONEY * cost / lead
        build.commune_const[c, inst.year_index(y)] += MONEY * cost / lead
    for t, y in enumerate(build.years):
        if committed + lead - 1 <= y:
            build.done_const[(p, t)] = 1.0


def _project_options(build: ModelBuild, p: int) -> list[tuple[int, int]]:
    """Columns of project ``p``'s allowed start years, with their spending and completion years."""
    inst = build.inst
    c, lead, cost, g = (int(inst.proj_commune[p]), int(inst.proj_lead[p]), float(inst.proj_cost[p]),
                        int(inst.proj_class[p]))
    opts: list[tuple[int, int]] = []
    if c in build.forbid_c or p in build.forbid_p:
        return opts
    for s in inst.start_years(p):
        if (p, s) in build.forbid_py or (c, s) in build.forbid_cy:
            continue
        if inst.absorption is not None and cost / lead > inst.absorption + 1e-9:
            continue
        v = build.b.col(f"x_{p}_{s}")
        opts.append((s, v))
        build.spend.add(g, c, [inst.year_index(y) for y in inst.spend_years(s, lead)], v, MONEY * cost / lead)
        for t, y in enumerate(build.years):
            if s + lead - 1 <= y:
                build.done_by.setdefault((p, t), []).append(v)
    return opts


def define_commune_completion(build: ModelBuild) -> None:
    """Binaries ``z[c, t]``: commune ``c`` (x form) NTM by year index ``t``.

    ``z[c, t]`` needs every project of the commune finished by ``t``; there is no
    column for a year before its slowest project can finish, and none for a commune
    that is forbidden or has an impossible project.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, b, m = build.inst, build.b, build.m
    for c in np.flatnonzero(~build.sched & build.has_projects).tolist():
        ps = [int(p) for p in inst.projects_of[c]]
        if c in build.forbid_c or any(p in build.impossible for p in ps):
            continue
        for t in range(inst.n_years):
            if any(build.done_const.get((p, t), 0.0) == 0.0 and not build.done_by.get((p, t)) for p in ps):
                continue
            v = b.col(f"z_{c}_{t}")
            m.z[(c, t)] = v
            for p in ps:
                if build.done_const.get((p, t), 0.0) >= 1.0:
                    continue
                xs = build.done_by[(p, t)]
                b.row([v, *xs], [1.0] + [-1.0] * len(xs), -math.inf, 0.0)


def define_dominance(build: ModelBuild) -> None:
    """With carry-over and no absorption limit, no project finishes before its commune does.

    Spending later never hurts then, so every project may finish exactly when its
    commune does (or at the horizon): this removes schedules that differ only in when
    money sits idle, and speeds up every stage.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, m = build.inst, build.m
    if not (inst.carry_over and inst.absorption is None):
        return
    for p in m.x:
        c = int(inst.proj_commune[p])
        if inst.at_risk[c]:
            continue  # finishing before the review keeps a recognition: earlier can be better
        for t in range(inst.n_years - 1):
            done = build.done_by.get((p, t))
            if not done:
                continue
            z = m.z.get((c, t))
            if z is None:
                build.b.row(list(done), 1.0, -math.inf, 0.0)
            else:
                build.b.row([*done, z], [1.0] * len(done) + [-1.0], -math.inf, 0.0)


def define_completion_years(build: ModelBuild) -> None:
    """Communes in y/q form: ``y[c, t]`` per completion year, ``q[p]`` per project funded alone.

    A project funded without its commune completing finishes at the horizon; a commune
    completes in one year at most, and then funds all its projects (``q[p] + Σ_t y[c, t]
    <= 1``).

    Parameters
    ----------
    build
        The model being built.
    """
    inst, b, m = build.inst, build.b, build.m
    n_c, n_t = inst.n_communes, inst.n_years
    sched_ps = np.flatnonzero(build.sched[inst.proj_commune])
    if not len(sched_ps):
        return
    pc = inst.proj_commune[sched_ps]
    max_lead = np.zeros(n_c, dtype=int)
    np.maximum.at(max_lead, pc, inst.proj_lead[sched_ps])
    sched_c = np.flatnonzero(build.sched)
    first = max_lead[sched_c] - 1  # first year index in which the commune can complete
    yc = np.repeat(sched_c, n_t - first)
    yt = np.concatenate([np.arange(f, n_t) for f in first])
    ycols = np.array(b.cols([f"y_{c}_{t}" for c, t in zip(yc.tolist(), yt.tolist(), strict=True)]))
    ycol = np.full((n_c, n_t), -1, dtype=np.int64)
    ycol[yc, yt] = ycols
    for c, t, v in zip(yc.tolist(), yt.tolist(), ycols.tolist(), strict=True):
        m.y.setdefault(c, []).append((t, v))
    qcols = np.array(b.cols([f"q_{p}" for p in sched_ps.tolist()]))
    m.q.update(zip(sched_ps.tolist(), qcols.tolist(), strict=True))
    # q[p] + Σ_t y[c, t] <= 1
    y_of_p = ycol[pc]
    rr, tt = np.nonzero(y_of_p >= 0)
    n_sp = len(sched_ps)
    b.rows(np.concatenate([np.arange(n_sp), rr]), np.concatenate([qcols, y_of_p[rr, tt]]),
           np.ones(n_sp + len(rr)), np.full(n_sp, -math.inf), np.ones(n_sp))
    _completion_spending(build, sched_ps, ycol, qcols)


def _completion_spending(build: ModelBuild, sched_ps: np.ndarray, ycol: np.ndarray, qcols: np.ndarray) -> None:
    """Completing in year ``e``, project ``p`` spends in ``e - lead + 1 … e``; funded alone, at the end."""
    inst = build.inst
    pc = inst.proj_commune[sched_ps]
    lead = inst.proj_lead[sched_ps]
    share = MONEY * inst.proj_cost[sched_ps] / lead
    cls = inst.proj_class[sched_ps]
    for e in range(inst.n_years):
        has = ycol[pc, e] >= 0
        for k in range(int(lead.max())):
            sel = has & (k < lead)
            build.spend.block(cls[sel], pc[sel], e - k, ycol[pc[sel], e], share[sel])
    for k in range(int(lead.max())):
        sel = k < lead
        build.spend.block(cls[sel], pc[sel], inst.n_years - 1 - k, qcols[sel], share[sel])


def define_recognition(build: ModelBuild) -> None:
    """Communes recognised at the start that the revocation rule can take away (``rk``).

    For each such commune (:attr:`Instance.at_risk`): ``keep`` (its recognition survives
    the first review), through ``few`` (fewer unmet criteria by the review's year than
    revoke with a key one) or ``keys`` (fewer than revoke alone, and every key criterion
    met); ``counted`` (recognised at the horizon: kept, or meeting every criterion then,
    which recognises it anew). On paper criteria are only gained, so the first review
    decides.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, b, m = build.inst, build.b, build.m
    rec = inst.recognition
    risk = np.flatnonzero(inst.at_risk).tolist()
    if rec is None or not risk:
        return
    r, n_k, inf = rec.review_from, len(inst.criteria), math.inf
    for c in risk:
        ps = [int(p) for p in inst.projects_of[c]]
        met_cols = [v for p in ps for v in build.done_by.get((p, r), [])]
        met_k = float(inst.base_criteria_met[c]) + sum(build.done_const.get((p, r), 0.0) for p in ps)
        keep, few, keys, counted = b.cols([f"rk_{c}_{part}" for part in ("keep", "few", "keys", "counted")])
        m.rk.update({(c, "keep"): keep, (c, "few"): few, (c, "keys"): keys, (c, "counted"): counted})
        b.row([keep, few, keys], [1.0, -1.0, -1.0], -inf, 0.0)
        for way, unmet in ((few, rec.unmet_with_key), (keys, rec.unmet_alone)):
            # criteria met by the review ≥ (n − unmet + 1) · way
            b.row(met_cols + [way], [1.0] * len(met_cols) + [-float(n_k - unmet + 1)], -met_k, inf)
        for p in ps:
            if rec.key[inst.proj_criterion[p]] and build.done_const.get((p, r), 0.0) < 1.0:
                done = build.done_by.get((p, r), [])
                b.row(done + [keys], [1.0] * len(done) + [-1.0], 0.0, inf)
        ze, ze_k = m._z_end_cols(c)
        b.row([counted, keep, *ze], [1.0, -1.0] + [-1.0] * len(ze), -inf, ze_k)


# ----- tiers, district units, villages ---------------------------------------------------------------


def define_tiers(build: ModelBuild) -> None:
    """Start-year binaries of each commune's advanced (``adv``) and top-tier (``mod``) upgrades.

    Only the tiers the criteria set issues: under Decision 51 there is no advanced
    upgrade, and the top tier (the modern commune) nests directly on NTM. An upgrade
    needs the commune NTM at the horizon (the top tier: the tier it requires) and
    finishes no earlier than the year the commune reaches NTM (the top tier's, no earlier
    than the advanced one: :func:`define_tier_order`). Its lead time is stretched to the
    absorption limit, as a criterion project's is.

    Parameters
    ----------
    build
        The model being built.
    """
    if not build.need_tiers:
        return
    inst, b, m = build.inst, build.b, build.m
    for c in range(inst.n_communes):
        if c in build.forbid_c:
            continue
        ze, ze_k = m._z_end_cols(c)
        if not ze and ze_k == 0.0:
            continue
        if inst.has_advanced_tier:
            _tier_upgrade(build, c, "adv", inst.base_adv, inst.adv_cost, inst.adv_lead)
        _tier_upgrade(build, c, "mod", inst.base_model, inst.model_cost, inst.model_lead)
        if c in m.adv:
            cols = [v for _, v in m.adv[c]]
            b.row(cols + ze, [1.0] * len(cols) + [-1.0] * len(ze), -math.inf, ze_k)
        if c in m.mod:
            cols = [v for _, v in m.mod[c]]
            req, req_k = m._model_prereq_cols(c)
            b.row(cols + req, [1.0] * len(cols) + [-1.0] * len(req), -math.inf, req_k)


def _tier_upgrade(build: ModelBuild, c: int, kind: str, base: np.ndarray, cost: np.ndarray,
                  leads: np.ndarray) -> None:
    """Columns of one upgrade (block ``kind``) of commune ``c``, with its money and NTM-year rows.

    ``leads`` are the upgrade's years per commune, stretched to the absorption limit.
    """
    inst, b = build.inst, build.b
    if base[c]:
        return
    lead = int(leads[c])
    starts = [s for s in build.years if s + lead - 1 <= inst.horizon_end]
    if build.late[c]:
        starts = starts[-1:]  # spending later never hurts: start as late as possible
    if not starts:
        return
    cols = b.cols([f"{kind}_{c}_{s}" for s in starts])
    build.m.blocks[kind].cols[c] = list(zip(starts, cols, strict=True))
    for s, v in zip(starts, cols, strict=True):
        build.spend.add(int(inst.commune_upgrade_class[c]), c,
                        [inst.year_index(y) for y in inst.spend_years(s, lead)], v, MONEY * float(cost[c]) / lead)
        # an upgrade finishes no earlier than the year the commune reaches NTM
        by, by_k = build.m._ntm_by_cols(c, inst.year_index(s + lead - 1))
        if by_k < 1.0:
            b.row([v, *by], [1.0] + [-1.0] * len(by), -math.inf, by_k)


def define_tier_order(build: ModelBuild) -> None:
    """A top-tier upgrade finishes no earlier than its commune's advanced upgrade (tiers nest in time).

    A row per top-tier start whose finishing year some advanced start would overrun:
    ``mod[c, s] <= Σ adv[c, s']`` over the advanced starts finished by then (the other
    starts are covered by ``Σ mod <= Σ adv``). Communes whose upgrades all start in the
    last year need none. The rows come after the targets'; :func:`ntm_sim.optimize.solve`
    first solves without them and adds them only when its plan breaks the order.

    Parameters
    ----------
    build
        The model being built (after :func:`define_tiers`).
    """
    inst, m = build.inst, build.m
    if not (build.tier_order and build.need_tiers and inst.has_advanced_tier):
        return
    for c, mods in m.mod.items():
        if inst.base_adv[c] or c not in m.adv:
            continue  # advanced at the start, or never: Σ mod <= Σ adv says all
        adv_end = [(s + int(inst.adv_lead[c]) - 1, v) for s, v in m.adv[c]]
        last = max(e for e, _ in adv_end)
        for s, v in mods:
            done = s + int(inst.model_lead[c]) - 1
            if done < last:
                early = [a for e, a in adv_end if e <= done]
                build.b.row([v, *early], [1.0] + [-1.0] * len(early), -math.inf, 0.0)


def define_district_units(build: ModelBuild) -> None:
    """District units ``w[d]``, district NTM projects ``dx`` and advanced-district projects ``dax``.

    A district unit needs every member commune NTM, enough advanced communes, and its
    own NTM project unless already recognised; an advanced district needs the unit and
    enough advanced and model communes. Only the district tiers the criteria set issues
    (Decision 51: none). Whatever asks for district units (the stage, a target, a
    district rule needing advanced communes) also asks for the tier upgrades they need.

    Parameters
    ----------
    build
        The model being built.
    """
    if not build.need_districts:
        return
    for d, members in enumerate(build.inst.district_members):
        if len(members) == 0:
            continue
        _district_unit(build, d, [int(c) for c in members])


def _district_unit(build: ModelBuild, d: int, members: list[int]) -> None:
    """Columns and rows of district ``d``."""
    inst, b, m = build.inst, build.b, build.m
    inf = math.inf
    if inst.district_recognised[d]:
        _recognised_district(build, d, members)
        return
    zes = [m._z_end_cols(c) for c in members]
    w = b.col(f"w_{d}", 0.0, 0.0 if any(not ze and k == 0.0 for ze, k in zes) else 1.0)
    m.w[d] = w
    for ze, _ in zes:
        if ze:
            b.row([w, *ze], [1.0] + [-1.0] * len(ze), -inf, 0.0)
    adv, adv_k = _total([m._adv_cols(c) for c in members])
    b.row(adv + [w], [1.0] * len(adv) + [-float(inst.district_need_adv[d])], -adv_k, inf)
    if not inst.district_recognised[d]:
        m.dx[d] = dx = _district_project(build, d, "dx", MONEY * float(inst.district_cost[d]))
        b.row([v for _, v in dx] + [w], [1.0] * len(dx) + [-1.0], 0.0, 0.0)
    if not inst.has_advanced_districts:
        return
    # advanced district
    m.dax[d] = wa = _district_project(build, d, "dax", MONEY * float(inst.district_adv_cost[d]))
    wa_cols = [v for _, v in wa]
    b.row(wa_cols + [w], [1.0] * len(wa_cols) + [-1.0], -inf, 0.0)
    b.row(adv + wa_cols, [1.0] * len(adv) + [-float(inst.district_need_adv2[d])] * len(wa_cols), -adv_k, inf)
    mod, mod_k = _total([m._model_cols(c) for c in members])
    b.row(mod + wa_cols, [1.0] * len(mod) + [-float(inst.district_need_model2[d])] * len(wa_cols), -mod_k, inf)


def _recognised_district(build: ModelBuild, d: int, members: list[int]) -> None:
    """A recognised district unit: kept unless the district rule revokes it; its advanced-district project.

    The unit ``w[d]`` is 1 only if fewer of its communes than ``Recognition.district_limit``
    lose their recognition at the review.
    """
    inst, b, m = build.inst, build.b, build.m
    inf = math.inf
    w = m.w[d] = b.col(f"w_{d}")
    keeps = [m.rk[(c, "keep")] for c in members if (c, "keep") in m.rk]
    if keeps and inst.recognition is not None:
        # revoked members (len(keeps) − Σ keep) ≤ limit − 1 when the unit counts
        b.row(keeps + [w], [-1.0] * len(keeps) + [float(len(keeps))], -inf,
              float(inst.recognition.district_limit[d] - 1))
    m.dax[d] = wa = _district_project(build, d, "dax", MONEY * float(inst.district_adv_cost[d]))
    wa_cols = [v for _, v in wa]
    b.row(wa_cols + [w], [1.0] * len(wa_cols) + [-1.0], -inf, 0.0)
    adv, adv_k = _total([m._adv_cols(c) for c in members])
    b.row(adv + wa_cols, [1.0] * len(adv) + [-float(inst.district_need_adv2[d])] * len(wa_cols), -adv_k, inf)
    mod, mod_k = _total([m._model_cols(c) for c in members])
    b.row(mod + wa_cols, [1.0] * len(mod) + [-float(inst.district_need_model2[d])] * len(wa_cols), -mod_k, inf)


def _district_project(build: ModelBuild, d: int, prefix: str, cost: float) -> list[tuple[int, int]]:
    """Start-year options of one district project (last year only when ``late_districts``)."""
    inst = build.inst
    d_years = build.years[-1:] if build.m.late_districts else build.years
    cols = build.b.cols([f"{prefix}_{d}_{s}" for s in d_years])
    for s, v in zip(d_years, cols, strict=True):
        build.spend.add(int(inst.district_upgrade_class[d]), -1, [inst.year_index(s)], v, cost)
    build.b.row(cols, 1.0, -math.inf, 1.0)
    return list(zip(d_years, cols, strict=True))


def define_villages(build: ModelBuild) -> None:
    """New NTM villages ``vn[c, t]`` and model villages ``vm[c, t]`` (when a village target is enforced).

    Parameters
    ----------
    build
        The model being built.
    """
    if not build.villages_on:
        return
    for c in range(build.inst.n_communes):
        if c not in build.forbid_c:
            _commune_villages(build, c)


def _commune_villages(build: ModelBuild, c: int) -> None:
    """Village columns of commune ``c``: no more new villages than it has, model ones among NTM ones."""
    inst, b, m = build.inst, build.b, build.m
    room = int(inst.villages[c] - inst.villages_ntm[c])
    model_room0 = int(inst.villages_ntm[c] - inst.villages_model[c])
    if room <= 0 and model_room0 <= 0:
        return
    vns: list[int] = []
    vms: list[int] = []
    unit_class = int(inst.commune_upgrade_class[c])
    for t in ([inst.n_years - 1] if build.late[c] else range(inst.n_years)):  # late communes: all in the last year
        vn = b.col(f"vn_{c}_{t}", 0.0, max(room, 0))
        vm = b.col(f"vm_{c}_{t}", 0.0, max(room + model_room0, 0))
        m.vn[(c, t)], m.vm[(c, t)] = vn, vm
        vns.append(vn)
        vms.append(vm)
        build.spend.add(unit_class, c, [t], vn, MONEY * float(inst.village_ntm_cost[c]))
        build.spend.add(unit_class, c, [t], vm, MONEY * float(inst.village_model_cost[c]))
        b.row(vms + vns, [1.0] * len(vms) + [-1.0] * len(vns), -math.inf, model_room0)
    b.row(vns, 1.0, -math.inf, room)


# ----- money ------------------------------------------------------------------------------------------


def define_money_flows(build: ModelBuild) -> None:
    """Money ``u[f, g, t]`` from each source to each class and year, and the class balance.

    One row per class and year: ``Σ_f u[f, g, t] - spend[g, t] = committed spend[g, t]``.

    Parameters
    ----------
    build
        The model being built (its spending is complete: every column step has run).
    """
    inst, b = build.inst, build.b
    n_t = inst.n_years
    build.spent = sg, _, st, scol, sv = build.spend.arrays()
    u_f = np.array([f for cls in inst.classes for _t in range(n_t) for f in cls], dtype=np.int64)
    u_g = np.array([g for g, cls in enumerate(inst.classes) for _t in range(n_t) for _f in cls], dtype=np.int64)
    u_t = np.array([t for cls in inst.classes for t in range(n_t) for _f in cls], dtype=np.int64)
    u_cols = np.array(b.cols([f"u_{f}_{g}_{t}" for f, g, t in zip(u_f.tolist(), u_g.tolist(), u_t.tolist(),
                                                                    strict=True)], 0.0, math.inf, integer=False),
                      dtype=np.int64)
    build.m.u.update(zip(zip(u_f.tolist(), u_g.tolist(), u_t.tolist(), strict=True), u_cols.tolist(), strict=True))
    build.u_source, build.u_year, build.u_cols = u_f, u_t, u_cols
    b.rows(np.concatenate([u_g * n_t + u_t, sg * n_t + st]), np.concatenate([u_cols, scol]),
           np.concatenate([np.ones(len(u_cols)), -sv]), build.class_const.ravel(), build.class_const.ravel())


def define_budget_envelopes(build: ModelBuild) -> None:
    """Each source's envelope per year, cumulative when money carries over.

    Parameters
    ----------
    build
        The model being built (after :func:`define_money_flows`).
    """
    inst = build.inst
    n_t, n_f = inst.n_years, len(inst.sources)
    u_f, u_t, u_cols = build.u_source, build.u_year, build.u_cols
    rr, cc = [], []
    for t in range(n_t):
        sel = u_t <= t if inst.carry_over else u_t == t
        rr.append(u_f[sel] * n_t + t)
        cc.append(u_cols[sel])
    money = MONEY * inst.budget
    rhs = np.cumsum(money, axis=1) if inst.carry_over else money
    build.b.rows(np.concatenate(rr), np.concatenate(cc), np.ones(sum(len(x) for x in cc)),
                 np.full(n_f * n_t, -math.inf), rhs.ravel())


def define_absorption(build: ModelBuild) -> None:
    """A commune's spending per year within the absorption limit, if there is one.

    One row per commune and year with spending, but none for late communes: they can
    never exceed it.

    Parameters
    ----------
    build
        The model being built (after :func:`define_money_flows`).
    """
    inst = build.inst
    if inst.absorption is None:
        return
    n_t = inst.n_years
    _, sc, st, scol, sv = build.spent
    keep = (sc >= 0) & ~build.late[np.maximum(sc, 0)]
    keys, local = np.unique(sc[keep] * n_t + st[keep], return_inverse=True)
    build.b.rows(local, scol[keep], sv[keep], np.full(len(keys), -math.inf),
                 MONEY * inst.absorption - build.commune_const[keys // n_t, keys % n_t])


def define_district_shares(build: ModelBuild) -> None:
    """Each district's floor on its share of all the money the plan spends.

    Parameters
    ----------
    build
        The model being built (after :func:`define_money_flows`).
    """
    inst, m = build.inst, build.m
    if not inst.district_floor:
        return
    _, sc, _, scol, sv = build.spent
    total_spend = LinExpr.of(build.u_cols)
    for d, floor in inst.district_floor.items():
        members = inst.district_members[d]
        mine = np.isin(sc, members)
        expr = LinExpr.of(scol[mine], sv[mine], float(build.commune_const[members].sum()))
        for table, cost in ((m.dx, inst.district_cost), (m.dax, inst.district_adv_cost)):
            expr = expr + LinExpr.of([v for _, v in table.get(d, [])], MONEY * float(cost[d]))
        build.b.expr_row(expr - total_spend * floor, 0.0, math.inf)


# ----- elastic targets and forced locks -------------------------------------------------------------


def _elastic(build: ModelBuild, key: str, label: str, achieved: LinExpr, needed: float,
             weight: float | None = None) -> None:
    """Add ``achieved + short >= needed`` with a shortfall column."""
    m = build.m
    # a shortfall weighs as the share of its target missed (one district unit is all of its
    # target, one village a hundredth of its): targets in different units add up fairly
    weight = (1.0 / max(float(needed), 1.0)) if weight is None else weight
    sh = build.b.col(f"short_{len(m.shortfalls)}", 0.0, math.inf, integer=False)
    build.b.expr_row(achieved + LinExpr.of([sh]), float(needed), math.inf)
    m.shortfalls.append(Shortfall(key, label, sh, float(needed), weight, achieved))


def _totals(build: ModelBuild) -> tuple[LinExpr, LinExpr, LinExpr]:
    """Communes NTM, advanced and model at the horizon (computed once, after the tiers)."""
    if build.totals is None:
        m, n_c, last = build.m, build.inst.n_communes, build.inst.n_years - 1
        z_last = [v for (c, t), v in m.z.items() if t == last]
        ntm_total = LinExpr.of(z_last + m.blocks["y"].columns(), 1.0, float(len(m.ntm_const)))
        adv_cols, adv_k = _total([m._adv_cols(c) for c in range(n_c)])
        mod_cols, mod_k = _total([m._model_cols(c) for c in range(n_c)])
        build.totals = (ntm_total, LinExpr.of(adv_cols, 1.0, adv_k), LinExpr.of(mod_cols, 1.0, mod_k))
    return build.totals


def _communes_counted(build: ModelBuild) -> LinExpr:
    """What the ``communes_ntm`` target counts (``targets.communes_count``; see :class:`ntm_sim.model.targets.Target`).

    ``meeting``: communes meeting every criterion at the horizon, so a recognised commune
    short of criteria counts only once its re-qualification projects are done.
    ``recognised``: communes recognised at the start count (kept), plus the others that
    come to meet every criterion ("duy trì và đạt chuẩn").
    """
    inst, m = build.inst, build.m
    expr = _totals(build)[0]
    if inst.targets.communes_count != "recognised":
        return expr
    for c in np.flatnonzero(inst.recognised & ~inst.base_ntm).tolist():
        cols, k = m._recognised_end_cols(c)
        expr = expr - m.z_end(c) + LinExpr.of(cols, 1.0, k)
    return expr


def define_locks(build: ModelBuild) -> None:
    """Forced communes and projects, as elastic rows weighing ``LOCK_WEIGHT``.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, m = build.inst, build.m
    for c in inst.locks.force_commune:
        ze, ze_k = m._z_end_cols(c)
        _elastic(build, f"lock:commune:{inst.communes[c]}", f"locked commune {inst.communes[c]} reaches NTM",
                 LinExpr.of(ze, 1.0, ze_k), 1.0, LOCK_WEIGHT)
    for p, year in inst.locks.force_project:
        opts = [v for s, v in m.x.get(p, []) if year is None or s == year]
        label = f"locked project {inst.communes[inst.proj_commune[p]]} {inst.criteria[inst.proj_criterion[p]]}"
        _elastic(build, f"lock:project:{p}", label,
                 LinExpr.of(opts, 1.0, float(inst.proj_committed_start[p] >= 0)), 1.0, LOCK_WEIGHT)


def define_count_targets(build: ModelBuild) -> None:
    """Enforced counts: communes NTM, advanced, model, district units, new villages.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, m, enforced, targets = build.inst, build.m, build.enforced, build.inst.targets
    _, all_adv, all_model = _totals(build)
    crit = inst.criteria_set
    tier_of = {"advanced": crit.advanced_tier, "model": crit.top_tier}
    for name, expr in (("communes_ntm", _communes_counted(build)), ("advanced", all_adv), ("model", all_model)):
        tier = tier_of.get(name)
        label = "communes NTM" if tier is None else f"{tier.label_en} communes"  # the set's own tier name
        if name in enforced and getattr(targets, name) is not None:
            _elastic(build, name, label, expr, getattr(targets, name))
    if "district_units" in enforced:
        for d in targets.district_units:
            _elastic(build, f"district_units:{inst.districts[d]}", f"district unit {inst.districts[d]}",
                     LinExpr.of([m.w[d]] if d in m.w else []), 1.0)
    if "advanced_districts" in enforced:
        for d in targets.advanced_districts:
            _elastic(build, f"advanced_districts:{inst.districts[d]}", f"advanced district {inst.districts[d]}",
                     LinExpr.of([v for _, v in m.dax.get(d, [])]), 1.0)
    for name, label, block in (("villages_ntm", "new NTM villages", "vn"),
                               ("villages_model", "new model villages", "vm")):
        if name in enforced and getattr(targets, name) is not None:
            _elastic(build, name, label, LinExpr.of(m.blocks[block].columns()), getattr(targets, name))


def _funded(m: PlanModel, p: int) -> tuple[list[int], list[float]]:
    """Project ``p`` funded (it then finishes within the horizon)."""
    if p in m.q:
        ys = [v for _, v in m.y[int(m.inst.proj_commune[p])]]
        return ys + [m.q[p]], [1.0] * (len(ys) + 1)
    xs = [v for _, v in m.x.get(p, [])]
    return xs, [1.0] * len(xs)


def _criteria_met_end(build: ModelBuild, c: int) -> tuple[list[int], list[float], float]:
    """Criteria commune ``c`` meets at the horizon: columns, coefficients, constant."""
    inst, m = build.inst, build.m
    ps = [int(p) for p in inst.projects_of[c]]
    base_met = inst.base_criteria_met
    if c in m.y:
        ys = [v for _, v in m.y[c]]
        return (ys + [m.q[p] for p in ps], [float(len(ps))] * len(ys) + [1.0] * len(ps),
                float(base_met[c]))
    xs = [v for p in ps for _, v in m.x.get(p, [])]
    last = inst.n_years - 1
    return xs, [1.0] * len(xs), float(base_met[c]) + sum(build.done_const.get((p, last), 0.0) for p in ps)


def define_criteria_targets(build: ModelBuild) -> None:
    """Enforced criteria: a minimum per commune, an average, communes meeting a criterion.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, enforced, targets = build.inst, build.enforced, build.inst.targets
    base_met = inst.base_criteria_met
    last = inst.n_years - 1
    if "min_criteria" in enforced and targets.min_criteria is not None:
        for c in range(inst.n_communes):
            if base_met[c] < targets.min_criteria:
                _elastic(build, f"min_criteria:{inst.communes[c]}", f"commune {inst.communes[c]} ≥ "
                         f"{targets.min_criteria} criteria", LinExpr.of(*_criteria_met_end(build, c)),
                         targets.min_criteria)
    if "avg_criteria" in enforced and targets.avg_criteria_total is not None:
        parts = [_criteria_met_end(build, c) for c in range(inst.n_communes)]
        _elastic(build, "avg_criteria", f"average {targets.avg_criteria} criteria per commune",
                 LinExpr.of([v for cols, _, _ in parts for v in cols], [a for _, vals, _ in parts for a in vals],
                            sum(k for _, _, k in parts)), targets.avg_criteria_total)
    if "criterion_communes" in enforced:
        for k, need in targets.criterion_communes.items():
            ps = np.flatnonzero(inst.proj_criterion == k).tolist()
            parts = [_funded(build.m, p) for p in ps]
            const = float(inst.base_met[:, k].sum()) + sum(build.done_const.get((p, last), 0.0) for p in ps)
            _elastic(build, f"criterion_communes:{inst.criteria[k]}", f"communes meeting {inst.criteria[k]}",
                     LinExpr.of([v for cols, _ in parts for v in cols], [a for _, vals in parts for a in vals],
                                const), need)


# ----- objectives --------------------------------------------------------------------------------


def define_objective_stages(build: ModelBuild) -> None:
    """The stage objectives, in lexicographic order: targets first, then the mode's stages.

    Min-cost: cost, funding gap, gap as late as it can be. Max-achievement: the
    scenario's order, or one weighted stage when the scenario sets weights.

    Parameters
    ----------
    build
        The model being built (every column is in).
    """
    inst, m = build.inst, build.m
    if m.shortfalls:
        m.stages["targets"] = (LinExpr.of([s.var for s in m.shortfalls], [s.weight for s in m.shortfalls]), False)
    if build.mode == "min-cost":
        n_t = inst.n_years
        m.stages["cost"] = (LinExpr.of(build.u_cols), False)
        gap_cols = [(t, v) for (f, _, t), v in m.u.items() if f == inst.gap_source]
        m.stages["gap"] = (LinExpr.of([v for _, v in gap_cols]), False)
        # the same gap, asked for as late as it can be (money raised early sits idle)
        m.stages["gap_timing"] = (LinExpr.of([v for _, v in gap_cols], [float(n_t - t) for t, _ in gap_cols]), False)
        return
    exprs = _achievement_exprs(build)
    stage_weights = inst.scenario.objective.weights
    if stage_weights:
        combo = LinExpr.const(0.0)
        for name, wgt in stage_weights.items():
            expr, maximize = exprs[name]
            combo = combo + expr * (wgt if maximize else -wgt)
        m.stages["weighted"] = (combo, True)
    else:
        for name in inst.scenario.objective.order:
            if name in absent_stages(inst):
                continue  # the criteria set has nothing for it to count (Decision 51: no district units)
            m.stages[name] = exprs[name]


def absent_stages(inst: Instance) -> set[str]:
    """Stages that count nothing under the instance's criteria set: district units, or tiers, it does not issue."""
    out = set()
    if not inst.has_district_units:
        out.add("district_units")
    if not inst.has_model_tier:
        out.add("tiers")
    return out


def _achievement_exprs(build: ModelBuild) -> dict[str, tuple[LinExpr, bool]]:
    """Every max-achievement stage's objective and sense."""
    inst, m = build.inst, build.m
    n_t = inst.n_years
    _, all_adv, all_model = _totals(build)
    y_all = m.blocks["y"].columns()
    district_expr = LinExpr.of(m.blocks["w"].columns() + m.blocks["dax"].columns())
    # criteria met is Σ x; a commune in y form that completes counts all its projects
    n_proj = np.bincount(inst.proj_commune, minlength=inst.n_communes)
    x_all = m.blocks["x"].columns()
    criteria_expr = LinExpr.of(x_all + y_all + m.blocks["q"].columns(),
                               [1.0] * len(x_all) + [float(n_proj[c]) for c, opts in m.y.items() for _ in opts]
                               + [1.0] * len(m.q))
    # earliness is Σ z; completing in year t counts every year from t to the horizon
    earliness = LinExpr.of(m.blocks["z"].columns() + y_all,
                           [1.0] * len(m.z) + [float(n_t - t) for opts in m.y.values() for t, _ in opts])
    return {
        "communes_ntm": (_communes_counted(build), True),
        "expected_communes": (_expected(m, build.weights), True),
        "district_units": (district_expr, True),
        "tiers": (all_adv + all_model, True),
        "criteria_met": (criteria_expr, True),
        "earliness": (earliness, True),
        "cost": (LinExpr.of(build.u_cols), False),
    }


def _finish(build: ModelBuild) -> PlanModel:
    """Join the collected columns and rows into the model's arrays (one matrix, loaded in one call)."""
    m, b = build.m, build.b
    m.col_lb = np.array(b.lb)
    m.col_ub = np.array(b.ub)
    m.col_int = np.array(b.integer, dtype=bool)
    m.col_names = b.names
    m.matrix = b.matrix()
    m.row_lo = np.array(b.lo, dtype=float)
    m.row_hi = np.array(b.hi, dtype=float)
    return m


# The steps in model order: each adds its columns and rows after the previous ones', so the
# order fixes the column and row order (money needs every spending column first; the
# objectives need every column).
DEFINE_STEPS: tuple[Callable[[ModelBuild], None], ...] = (
    define_project_starts, define_commune_completion, define_dominance, define_completion_years,
    define_recognition, define_tiers, define_district_units, define_villages,
    define_money_flows, define_budget_envelopes, define_absorption, define_district_shares,
    define_locks, define_count_targets, define_criteria_targets, define_tier_order,
    define_objective_stages,
)


def build_model(inst: Instance, mode: str | None = None, weights: np.ndarray | None = None,
                tier_order: bool = True) -> PlanModel:
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
    tier_order
        Add the rows keeping each top-tier upgrade from finishing before the advanced one
        (:func:`define_tier_order`); without them the model is a relaxation, exact for
        any plan that keeps the order.
    """
    build = _start(inst, mode or inst.scenario.mode, weights, tier_order)
    for define in DEFINE_STEPS:
        define(build)
    return _finish(build)


def _expected(m: PlanModel, weights: np.ndarray | None) -> LinExpr:
    """Σ over communes of their chance of being counted at the horizon (``weights``, non-increasing in the year).

    Counting recognised communes (``targets.communes_count``), a commune recognised at the
    start counts with the chance of keeping its recognition: 1 unless the revocation rule
    holds it; then 1 if the plan gets it out by the review, else the chance that no review
    of the horizon carries the rule out (``revocation_probability``).
    """
    if weights is None:
        return LinExpr.const(math.nan)
    inst = m.inst
    n_t = inst.n_years
    w = np.concatenate([np.asarray(weights, dtype=float), np.zeros((len(weights), 1))], axis=1)
    skip = inst.recognised if inst.targets.communes_count == "recognised" else np.zeros(inst.n_communes, bool)
    cols, coefs = [], []
    for (c, t), col in m.z.items():      # z: NTM by year t, so completing in t weighs w[t] − w[t + 1]
        if not skip[c]:
            cols.append(col)
            coefs.append(w[c, t + 1] - (w[c, t + 2] if t + 1 < n_t else 0.0))
    for c, opts in m.y.items():          # y: completing in year t
        if not skip[c]:
            for t, col in opts:
                cols.append(col)
                coefs.append(w[c, t + 1])
    const = float(sum(w[c, 0] for c in m.ntm_const if not skip[c])) + float((skip & ~inst.at_risk).sum())
    if inst.recognition is not None and (skip & inst.at_risk).any():
        reviews = n_t - inst.recognition.review_from
        stay = (1.0 - inst.scenario.uncertainty.revocation_probability) ** reviews
        for c in np.flatnonzero(skip & inst.at_risk).tolist():
            cols.append(m.rk[(c, "keep")])
            coefs.append(1.0 - stay)
            const += stay
    return LinExpr.of(cols, coefs, const)


def integral(name: str) -> bool:
    """Whether a stage's objective takes integer values (so it can be kept exactly)."""
    return name in ("communes_ntm", "district_units", "tiers", "criteria_met", "earliness")
