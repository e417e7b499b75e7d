"""Basin fractions (theory.basins) against closed forms and an independent 2-D computation."""

import numpy as np
import pytest

from theory.basins import basin_fractions
from theory.errors import InputError
from theory.extrema import predict
from theory.problem import Problem


def sd(p, k):
    """Binomial standard deviation of a fraction estimated from k samples."""
    return np.sqrt(p * (1 - p) / k)


@pytest.mark.parametrize("init", ["small_a", "balanced"])
def test_symmetric_xor_quarters(init):
    # G = (|u2| − |u1|)/8: small_a starts with |u2| > |u1| ascend to the nearer of ±e2, the others
    # descend to ±e1, so each basin is a quarter; balanced: a random sign, again a quarter each.
    X = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    p = Problem.from_arrays(X, [-1, -1, 1, 1], "relu", "logistic")
    K = 2000
    pred = predict(p, basin_samples=K, init=init, seed=1)
    for e in pred.extrema:
        assert abs(e.basin_fraction - 0.25) < 4 * sd(0.25, K)
        assert abs(e.basin_fraction - 0.5) > 4 * sd(0.5, K)  # a wrong claim would be rejected
    assert pred.unassigned_fraction == pytest.approx(0.0, abs=1e-12)


def grid_basins(problem, extrema, N=7200, flip=False):
    """Independent 2-D basins: discrete hill climbing of s·G on a fine grid of the circle, where
    s = sign G at the start (small_a).  Returns the share of the circle flowing to each extremum."""
    th = np.arange(N) * 2 * np.pi / N
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    G = problem.G(U)
    out = []
    s0 = -np.sign(G) if flip else np.sign(G)
    ends = {}
    for s in (1, -1):
        val = s * G
        idx = np.arange(N)
        nb = np.stack([(idx - 1) % N, idx, (idx + 1) % N])
        nxt = nb[np.argmax(val[nb], axis=0), idx]
        for _ in range(14):  # pointer doubling: 2^14 > N steps
            nxt = nxt[nxt]
        ends[s] = nxt
    for e in extrema:
        k = int(np.argmin(np.linalg.norm(U - e.direction, axis=1)))
        near = np.abs(((ends[e.sign] - k + N // 2) % N) - N // 2) <= 2
        out.append(float(np.mean(near & (s0 == e.sign))))
    return out


def test_two_d_basins_match_independent_grid():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((9, 2))
    p = Problem.from_arrays(X, rng.choice([-1.0, 1.0], 9), "relu", "logistic")
    K = 4000
    pred = predict(p, basin_samples=K, seed=0)
    grid = grid_basins(p, pred.extrema)
    assert sum(grid) > 0.9
    for e, q in zip(pred.extrema, grid):
        # 4 binomial sd plus the grid's 0.05° cells and the flow's 0.01-rad steps near boundaries
        assert abs(e.basin_fraction - q) < 4 * sd(max(q, 1e-3), K) + 0.01
    # the same comparison rejects the wrong sign convention (a < 0 neurons ascending)
    wrong = grid_basins(p, pred.extrema, flip=True)
    assert any(abs(e.basin_fraction - q) > 4 * sd(max(q, 1e-3), K) + 0.01
               for e, q in zip(pred.extrema, wrong))


def test_dead_region_counts_for_nothing():
    # all points in the upper half-plane, ReLU: directions with u2 < −max|cot| see G ≡ 0
    X = np.array([[0.2, 1.0], [-0.3, 1.0], [0.1, 0.5]])
    p = Problem.from_arrays(X, [1, -1, 1], "relu", "logistic")
    pred = predict(p, basin_samples=3000)
    total = sum(e.basin_fraction for e in pred.extrema)
    assert total < 0.8 and pred.unassigned_fraction == pytest.approx(1 - total, abs=1e-12)


def test_bad_basin_arguments():
    X = np.array([[1.0, 0], [0, 1]])
    p = Problem.from_arrays(X, [1, -1])
    with pytest.raises(InputError):
        basin_fractions(p, [], init="large")
    with pytest.raises(InputError):
        basin_fractions(p, [], samples=0)
