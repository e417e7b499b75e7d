"""Hypothesis strategies for the property suite: datasets the README promises, drawn for real.

Two families of datasets, both in d = 2..4 and with n up to 40:

* ``generic``: points on a grid of multiples of 1/8 in [−2, 2], moved by a seeded jitter of at
  most 1/64 per coordinate.  The grid lets hypothesis shrink towards small, readable numbers;
  the jitter makes exact coincidences a measure-zero event.
* ``clustered`` (the paper's regime, XOR-like): k = 2 or 3 pairs of antipodal cluster centres
  ±μ c_j (c_j unit, at random angles), each pair with its own label, every cluster a random
  number of points (1 to 8: unequal sizes) spread uniformly in a ball of radius δ ∈ [0, 0.3]μ.

Degenerate data are detected **exactly** (no angular margin): a draw is rejected only if some
point is 0, two points lie on one line through the origin (repeated, parallel or antiparallel),
two points are exactly orthogonal, or some d points lie on one hyperplane through 0 — each a
kink that can attract the flow from one side only (such data are covered by the theory layer's
own tests).  Decided in exact rational arithmetic (every float64 is a dyadic rational) for the
pairs and subsets that floating point cannot clear.  Data on which G vanishes identically are
not rejected: the properties report them.

Activations and losses: ``relu``, ``leaky_relu:0.1``, ``abs``, ``linear``, ``tanh``, ``gelu``;
``logistic`` and ``exponential`` (labels ±1) and ``square`` (real targets on a 1/4 grid in
[−2, 2]); each property draws the ones its claim covers.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .example import Example

GRID = 8  # coordinates are k / GRID (before jitter)

PL_ACTIVATIONS = ("relu", "leaky_relu:0.1", "abs")
ALL_ACTIVATIONS = PL_ACTIVATIONS + ("linear", "tanh", "gelu")
LOSSES = ("logistic", "exponential", "square")
FAMILIES = ("generic", "clustered")


# ----------------------------------------------------------------------------- degeneracy
def _exact_zero_det(rows: np.ndarray) -> bool:
    """det of a square float matrix is exactly 0 (Fraction arithmetic, Bareiss-free Gauss)."""
    M = [[Fraction(float(v)) for v in r] for r in rows]
    n = len(M)
    for c in range(n):
        p = next((r for r in range(c, n) if M[r][c] != 0), None)
        if p is None:
            return True
        M[c], M[p] = M[p], M[c]
        for r in range(c + 1, n):
            f = M[r][c] / M[c][c]
            if f:
                M[r] = [a - f * b for a, b in zip(M[r], M[c])]
    return False


def degeneracy(X: np.ndarray) -> str | None:
    """Why ``X`` is degenerate (see module docstring), or None.  Exact."""
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    nrm = np.linalg.norm(X, axis=1)
    if np.any(nrm == 0):
        return "a point is 0"
    U = X / nrm[:, None]
    C = U @ U.T
    np.fill_diagonal(C, 0.0)
    for i, j in zip(*np.nonzero(np.triu(np.abs(C) > 1 - 1e-9, 1))):
        if _exact_zero_det_pair(X[i], X[j]):
            return f"points {i} and {j} lie on one line through 0"
    for i, j in zip(*np.nonzero(np.triu(np.abs(C) < 1e-9, 1))):
        if sum(Fraction(float(a)) * Fraction(float(b)) for a, b in zip(X[i], X[j])) == 0:
            return f"points {i} and {j} are orthogonal"
    if n >= d:
        idx = np.array(list(combinations(range(n), d)))
        dets = np.linalg.det(X[idx])
        scale = np.prod(nrm[idx], axis=1)
        for k in np.nonzero(np.abs(dets) <= 1e-9 * scale)[0]:
            if _exact_zero_det(X[idx[k]]):
                return f"points {tuple(int(i) for i in idx[k])} lie on one hyperplane through 0"
    return None


def _exact_zero_det_pair(a: np.ndarray, b: np.ndarray) -> bool:
    """a and b are exactly parallel (every 2×2 minor is 0)."""
    fa = [Fraction(float(v)) for v in a]
    fb = [Fraction(float(v)) for v in b]
    return all(fa[i] * fb[j] == fa[j] * fb[i] for i in range(len(fa))
               for j in range(i + 1, len(fa)))


def both_labels(y: np.ndarray) -> bool:
    return bool(np.any(np.asarray(y) > 0) and np.any(np.asarray(y) < 0))


# ----------------------------------------------------------------------------- datasets
@st.composite
def generic_data(draw, n_min=3, n_max=40, d_min=2, d_max=4, real_targets=False):
    """``(X, y)``: n×d points on the 1/8 grid in [−2, 2] plus a seeded jitter ≤ 1/64."""
    d = draw(st.integers(d_min, d_max))
    n = draw(st.integers(n_min, n_max))
    coords = draw(st.lists(st.integers(-2 * GRID, 2 * GRID), min_size=n * d, max_size=n * d))
    jitter = np.random.default_rng(draw(st.integers(0, 2**16 - 1))).uniform(-1, 1, (n, d))
    X = np.array(coords, dtype=float).reshape(n, d) / GRID + jitter / 64
    return X, _labels(draw, n, real_targets)


def _labels(draw, n, real_targets):
    if real_targets:
        ys = draw(st.lists(st.integers(-8, 8), min_size=n, max_size=n))
        return np.array(ys, dtype=float) / 4
    ys = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return np.where(np.array(ys, dtype=bool), 1.0, -1.0)


@st.composite
def clustered_data(draw, n_max=40, d_min=2, d_max=4, real_targets=False):
    """XOR-like clusters (module docstring): returns ``(X, y, params)``."""
    d = draw(st.integers(d_min, d_max))
    k = draw(st.integers(2, 3))
    mu = draw(st.integers(4, 16)) / 8
    delta = draw(st.integers(0, 6)) / 20 * mu
    rng = np.random.default_rng(draw(st.integers(0, 2**16 - 1)))
    cap = max(1, n_max // (2 * k))
    sizes = [draw(st.integers(1, min(8, cap))) for _ in range(2 * k)]
    Xs, ys = [], []
    for j in range(k):
        c = rng.normal(size=d)
        c /= np.linalg.norm(c)
        if real_targets:
            lab = draw(st.integers(-8, 8)) / 4
        else:
            lab = 1.0 if draw(st.booleans()) else -1.0
        for side, size in ((1, sizes[2 * j]), (-1, sizes[2 * j + 1])):
            V = rng.normal(size=(size, d))
            V /= np.linalg.norm(V, axis=1, keepdims=True)
            r = delta * rng.uniform(0, 1, size) ** (1 / d)
            Xs.append(side * mu * c + r[:, None] * V)
            ys.append(np.full(size, lab))
    params = {"clusters": 2 * k, "mu": mu, "delta": delta}
    return np.concatenate(Xs), np.concatenate(ys), params


@st.composite
def examples(draw, *, activations=ALL_ACTIVATIONS, losses=LOSSES, families=FAMILIES,
             n_min=3, n_max=40, d_min=2, d_max=4, need_both_labels=True):
    """An :class:`Example`: family, data, activation and loss drawn together; exactly
    degenerate draws rejected (``assume``), the reason kept in ``Example.params``."""
    family = draw(st.sampled_from(families))
    loss = draw(st.sampled_from(losses))
    real = loss == "square"
    params = {}
    if family == "generic":
        X, y = draw(generic_data(n_min, n_max, d_min, d_max, real))
    else:
        X, y, params = draw(clustered_data(n_max, d_min, d_max, real))
    assume(degeneracy(X) is None)
    if real:
        assume(bool(np.any(y != 0)))
    elif need_both_labels:
        assume(both_labels(y))
    act = draw(st.sampled_from(activations))
    return Example(X, y, act, loss, draw(seeds()), params, family)


def xor_family():
    """Parameters ``(alpha, mu)`` of the XOR family: α in [0.3, π/2] on a 1/64 grid, μ in
    [0.5, 2] on a 1/8 grid."""
    alphas = st.integers(int(0.3 * 64), int(math.pi / 2 * 64)).map(lambda k: k / 64)
    mus = st.integers(4, 16).map(lambda k: k / 8)
    return st.tuples(alphas, mus)


def xor_points(alpha: float, mu: float, copies: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The 4-point XOR family dataset: class −1 at ±μ e1, class +1 at ±μ (cos α, sin α)."""
    v = np.array([math.cos(alpha), math.sin(alpha)])
    e1 = np.array([1.0, 0.0])
    X = np.array([mu * e1, -mu * e1, mu * v, -mu * v] * copies)
    y = np.array([-1.0, -1.0, 1.0, 1.0] * copies)
    return X, y


def seeds():
    return st.integers(0, 2**16 - 1)
