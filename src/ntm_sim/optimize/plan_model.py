"""The model as named blocks of columns and rows, and how a solution reads back into a plan (PlanModel)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pulp
import scipy.sparse as sp

from ntm_sim.model.instance import Instance
from ntm_sim.model.ledger import class_spend
from ntm_sim.model.plan import Decisions, Outcomes, evaluate, kept_on_paper
from ntm_sim.optimize.linear import LinExpr, MatrixModel, ModelArrays

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
class PlanModel(ModelArrays):
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
