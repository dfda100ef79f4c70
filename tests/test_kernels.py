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
from ntm_sim.simulate.engine import NEVER, waiting_rate, waiting_years


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
