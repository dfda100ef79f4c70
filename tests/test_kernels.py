"""The engine's compiled kernels sum and round exactly as NumPy does (same numbers to the last digit).

The engine's results are compared with the plain-loop reference in ``test_simulate_reference``;
here the building blocks are compared with the NumPy expressions they replace, bit for bit,
on values spread over many magnitudes (where the order of a sum shows in its last digits).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm_sim.simulate import kernels
from ntm_sim.simulate.blocks import NEVER, waiting_rate, waiting_years


def spread(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values over eight orders of magnitude, some zero: a sum's order shows in its last bits."""
    x = rng.random(shape) * 10.0 ** rng.integers(-2, 7, shape)
    x[rng.random(shape) < 0.1] = 0.0
    return x


@given(st.integers(0, 700), st.integers(0, 2**32 - 1))
@settings(max_examples=120, deadline=None)
def test_pairwise_is_numpys_sum(n, seed):
    x = spread(np.random.default_rng(seed), (3, n))
    assert np.array_equal(kernels.row_sums(x), x.sum(axis=1))
    for row in x:
        assert kernels.pairwise(row, 0, n) == row.sum()


@given(st.lists(st.integers(1, 40), min_size=1, max_size=12), st.integers(0, 2**32 - 1))
@settings(max_examples=80, deadline=None)
def test_reduceat_is_numpys(segments, seed):
    n = sum(segments)
    x = spread(np.random.default_rng(seed), (4, n))
    starts = np.cumsum([0, *segments[:-1]])
    want = np.add.reduceat(x, starts, axis=1)
    for b in range(x.shape[0]):
        got = [kernels.reduceat(x[b], lo, size) for lo, size in zip(starts, segments, strict=True)]
        assert np.array_equal(got, want[b])


def test_plain_sums_differ_from_numpys():
    """The test above has teeth: a plain running sum does not give NumPy's digits."""
    x = spread(np.random.default_rng(0), (200, 37))
    running = np.array([sum(row.tolist(), 0.0) for row in x])
    assert not np.array_equal(running, x.sum(axis=1))
    assert not np.array_equal(x[:, 0] + running - x[:, 0], np.add.reduceat(x, [0], axis=1)[:, 0])


@pytest.mark.parametrize("p", [0.0, 1e-6, 0.003, 0.05, 0.3, 0.5, 0.9, 1.0])
def test_waiting_years_kernel_is_the_numpy_rule(p):
    rng = np.random.default_rng(1)
    u = rng.random(20_000, dtype=np.float32)
    e = -np.log(np.float32(1.0) - u)
    e[:3] = [np.float32(0.0), np.float32(-0.0), np.float32(40.0)]  # u = 0 and a far tail
    rate = waiting_rate(p)[()]
    got = np.array([kernels._years(x, rate) for x in e])
    want = waiting_years(e, p)
    assert np.array_equal(got, want)
    assert want.max() <= NEVER


@given(st.integers(1, 12), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**32 - 1))
@settings(max_examples=150, deadline=None)
def test_pair_order_whatever_order_the_year_before(n_c, n_d, n_b, seed):
    """The ranking re-sorts last year's commune order by insertion: any earlier order gives the stable order.

    Two classes: class 0 pays a criterion project in every commune and a project in every
    district, class 1 one in some communes; distances are small integers (many ties, broken
    by commune number). The pairs must come class by class, communes closest to completion
    first, then districts by their communes' summed distance, as a stable sort gives.
    """
    rng = np.random.default_rng(seed)
    in_1 = np.flatnonzero(rng.random(n_c) < 0.5)
    own = rng.integers(0, n_d, n_c)
    # items (class, unit): class 0's communes, class 1's communes, class 0's districts
    cls = np.r_[np.zeros(n_c, np.int64), np.ones(len(in_1), np.int64), np.zeros(n_d, np.int64)]
    unit = np.r_[np.arange(n_c), in_1, 2 * n_c + np.arange(n_d)].astype(np.int64)
    commune = np.r_[np.arange(n_c), in_1, np.zeros(n_d, np.int64)].astype(np.int64)
    crit = np.arange(n_c + len(in_1), dtype=np.int64)
    lead = np.ones(len(cls), np.int64)
    cost = rng.integers(0, 4, (n_b, len(cls))).astype(float)
    paid = np.zeros((n_b, len(cls)), np.int16)
    # pairs numbered by (class, unit), the engine's layout
    pair_key = sorted(zip(cls.tolist(), unit.tolist(), strict=True))
    pair_cls, pair_unit = np.array([k[0] for k in pair_key]), np.array([k[1] for k in pair_key])
    n_units = 2 * n_c + n_d
    by_unit = np.argsort(pair_unit, kind="stable")
    unit_ptr = np.searchsorted(pair_unit[by_unit], np.arange(n_units + 1)).astype(np.int64)
    counts = np.zeros((2, 3), np.int64)
    np.add.at(counts, (pair_cls, np.minimum(pair_unit // n_c, 2)), 1)
    class_pos = np.searchsorted(pair_cls, np.arange(3))
    group_start = (class_pos[:-1, None] + np.cumsum(counts, axis=1) - counts).astype(np.int64)
    earlier = np.array([rng.permutation(n_c) for _ in range(n_b)], dtype=np.int64)
    got = kernels.pair_order(cost, paid, crit, lead, commune, np.zeros(n_c), own.astype(np.int64), n_d,
                             unit_ptr, by_unit.astype(np.int64), pair_cls.astype(np.int64), group_start,
                             len(pair_key), earlier)
    pair_of = {k: p for p, k in enumerate(pair_key)}
    for b in range(n_b):
        distance = np.bincount(commune[crit], weights=cost[b, crit], minlength=n_c)
        communes = np.argsort(distance, kind="stable")
        districts = np.argsort(np.bincount(own, weights=distance, minlength=n_d), kind="stable")
        want = ([pair_of[(0, c)] for c in communes] + [pair_of[(0, 2 * n_c + d)] for d in districts]
                + [pair_of[(1, c)] for c in communes if c in set(in_1.tolist())])
        assert got[b].tolist() == want
        assert earlier[b].tolist() == communes.tolist()  # kept for next year, sorted
