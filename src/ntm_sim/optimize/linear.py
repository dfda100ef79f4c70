"""Linear expressions and the solver-ready matrix form of a model (no domain knowledge).

:class:`MatrixModel` is what a solver back-end receives: column bounds and
integrality, rows ``row_lo <= A x <= row_hi`` as a sparse matrix, and column names. It
is plain arrays, so it can be sent to a solver process (see
:mod:`ntm_sim.optimize.solver`), and it can be written as a PuLP problem (for CBC, or an
LP file).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pulp
import scipy.sparse as sp


@dataclass
class LinExpr:
    """A linear expression over model columns: ``Σ coef[i] · column[idx[i]] + constant``."""

    idx: np.ndarray
    coef: np.ndarray
    constant: float = 0.0

    @classmethod
    def of(cls, cols: object = (), coefs: object = 1.0, constant: float = 0.0) -> LinExpr:
        """Build from column indices and coefficients (a scalar applies to every column)."""
        idx = np.asarray(cols, dtype=np.int64).ravel()
        if np.ndim(coefs) == 0:
            coef = np.full(len(idx), float(coefs))  # type: ignore[arg-type]
        else:
            coef = np.asarray(coefs, dtype=float).ravel().copy()
        return cls(idx, coef, float(constant))

    @classmethod
    def const(cls, value: float) -> LinExpr:
        """A constant."""
        return cls.of((), 1.0, value)

    def __add__(self, other: LinExpr | float) -> LinExpr:
        if isinstance(other, LinExpr):
            return LinExpr(np.concatenate([self.idx, other.idx]), np.concatenate([self.coef, other.coef]),
                           self.constant + other.constant)
        return LinExpr(self.idx, self.coef, self.constant + float(other))

    __radd__ = __add__

    def __mul__(self, k: float) -> LinExpr:
        return LinExpr(self.idx, self.coef * float(k), self.constant * float(k))

    __rmul__ = __mul__

    def __neg__(self) -> LinExpr:
        return self * -1.0

    def __sub__(self, other: LinExpr | float) -> LinExpr:
        return self + (-other if isinstance(other, LinExpr) else -float(other))

    def value(self, values: np.ndarray) -> float:
        """Value at a vector of column values."""
        return float(self.coef @ values[self.idx] + self.constant) if len(self.idx) else float(self.constant)

    def combined(self) -> LinExpr:
        """The same expression with each column once (duplicates summed, zeros dropped).

        Solvers take a row's entries as given: HiGHS refuses a row that names a column twice.
        """
        if not len(self.idx):
            return self
        idx, inverse = np.unique(self.idx, return_inverse=True)
        coef = np.bincount(inverse, weights=self.coef, minlength=len(idx))
        keep = coef != 0
        return LinExpr(idx[keep], coef[keep], self.constant)

    def dense(self, n: int) -> np.ndarray:
        """Coefficients as a dense vector over ``n`` columns (duplicates summed)."""
        return np.bincount(self.idx, weights=self.coef, minlength=n) if len(self.idx) else np.zeros(n)


@dataclass
class ModelArrays:
    """A MILP's arrays: ``col_lb <= x <= col_ub`` (``col_int`` integral), ``row_lo <= matrix @ x <= row_hi``."""

    col_lb: np.ndarray
    col_ub: np.ndarray
    col_int: np.ndarray
    col_names: list[str]
    matrix: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.col_lb)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self.matrix.shape[0]


@dataclass
class MatrixModel(ModelArrays):
    """A MILP as arrays (:class:`ModelArrays`), with its PuLP view made on demand."""

    _pulp: tuple[pulp.LpProblem, list[pulp.LpVariable]] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        # the PuLP view is rebuilt where it is needed (it is large and holds solver state)
        return {**self.__dict__, "_pulp": None}

    def pulp_model(self) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
        """The PuLP problem and its variables in model order (built once; objective left empty)."""
        if self._pulp is None:
            prob = pulp.LpProblem("ntm_plan", pulp.LpMaximize)
            variables = [
                prob.add_variable(name, lowBound=None if math.isinf(lb) else float(lb),
                                  upBound=None if math.isinf(ub) else float(ub),
                                  cat=pulp.LpInteger if integer else pulp.LpContinuous)
                for name, lb, ub, integer in zip(self.col_names, self.col_lb, self.col_ub, self.col_int, strict=True)
            ]
            m = self.matrix
            for r in range(self.n_rows):
                lo, hi = float(self.row_lo[r]), float(self.row_hi[r])
                cols = m.indices[m.indptr[r]:m.indptr[r + 1]]
                vals = m.data[m.indptr[r]:m.indptr[r + 1]]
                expr = pulp.LpAffineExpression([(variables[j], float(a)) for j, a in zip(cols, vals, strict=True)])
                for sense, rhs in _senses(lo, hi):
                    prob.addConstraint(pulp.LpConstraint(expr, sense, rhs=rhs))
            self._pulp = (prob, variables)
        return self._pulp

    def pulp_expr(self, expr: LinExpr) -> pulp.LpAffineExpression:
        """An expression over the PuLP variables."""
        variables = self.pulp_model()[1]
        return pulp.LpAffineExpression([(variables[int(j)], float(a)) for j, a in zip(expr.idx, expr.coef,
                                                                                     strict=True)],
                                       constant=expr.constant)


def _senses(lo: float, hi: float) -> list[tuple[int, float]]:
    """PuLP constraint senses for ``lo <= expr <= hi``."""
    if lo == hi:
        return [(pulp.LpConstraintEQ, lo)]
    out = []
    if lo > -math.inf:
        out.append((pulp.LpConstraintGE, lo))
    if hi < math.inf:
        out.append((pulp.LpConstraintLE, hi))
    return out
