"""Rows added between stages name each column once (HiGHS refused a row naming a column twice).

Found while adding the revocation rule: the communes counted subtract a commune's completion
column and add it back through its recognition, so the kept-stage row named one column twice;
HiGHS refused the row and later stages were free to lose what the first stage had won.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ntm_sim.optimize.backends import make_backend
from ntm_sim.optimize.linear import LinExpr, MatrixModel


def test_duplicates_are_summed_and_zeros_dropped():
    e = LinExpr.of([3, 1, 3, 2], [1.0, 2.0, -1.0, 0.5], 4.0).combined()
    assert e.idx.tolist() == [1, 2]
    assert e.coef.tolist() == [2.0, 0.5]
    assert e.constant == 4.0
    values = np.array([0.0, 1.0, 2.0, 7.0])
    assert e.value(values) == LinExpr.of([3, 1, 3, 2], [1.0, 2.0, -1.0, 0.5], 4.0).value(values)


def test_a_row_naming_a_column_twice_binds_in_highs():
    # two binaries; maximise x0 + x1 under x0 + x1 <= 1, then keep "x1 + x0 − x0 + x0 >= 1" (x0 + x1 >= 1)
    # and minimise x0: the row must keep one of them at 1, so x1 = 1
    model = MatrixModel(np.zeros(2), np.ones(2), np.ones(2, dtype=bool), ["x0", "x1"],
                        sp.csr_matrix(np.array([[1.0, 1.0]])), np.array([-math.inf]), np.array([1.0]))
    backend = make_backend("highs", model, 1)
    backend.add_row(LinExpr.of([1, 0, 0, 0], [1.0, 1.0, -1.0, 1.0]), 1.0, math.inf)
    _, values = backend.solve("min_x0", LinExpr.of([0], [1.0]), False, 10.0, 0.0, None)
    assert values is not None
    assert values.round().tolist() == [0.0, 1.0]
