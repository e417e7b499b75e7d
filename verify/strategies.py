"""Hypothesis strategies for the property suite.

Datasets are drawn on a grid of multiples of 1/8 in [−2, 2], then moved by a seeded jitter of
at most 1/64 per coordinate.  The grid lets hypothesis shrink towards small, readable numbers;
the jitter removes the exact coincidences a grid makes likely (orthogonal points, a kink whose
one-sided slope vanishes — DESIGN §2's degenerate kinks that attract the flow from one side
only), which are measure-zero for real data and are tested separately in the theory layer.
Every coordinate stays a float64 number, i.e. an exact dyadic rational for the certificates.

Degenerate draws are handled explicitly, per property, by :func:`general_position` and
:func:`growth_gap` (used with ``hypothesis.assume``):

* *general position*: no zero row, and no two data points within ``min_angle_deg`` = 10° of the
  same line through the origin.  Repeated or antipodal points make kinks attract from one side
  only (DESIGN §2's degenerate case, checked separately by the theory layer's tests); nearly
  coincident kink hyperplanes leave thin wedges a few Euler steps wide (training moves ~1° per
  step, the basin integration up to 3°), where the discretised sliding paths of training and
  of the theory's integration can part, so the suite keeps lines 10° apart;
* *growth gap*: properties comparing two growth rates (mass concentration) need the two largest
  distinct rates to differ by a factor, else the predicted exponent is too small to measure.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

GRID = 8  # coordinates are k / GRID

ACTIVATIONS = ("relu", "leaky_relu:0.1", "abs")
LOSSES = ("logistic", "exponential")


def general_position(X: np.ndarray, min_angle_deg: float = 10.0) -> bool:
    """No zero rows and no two rows within ``min_angle_deg`` of one line through 0."""
    X = np.asarray(X, dtype=float)
    nrm = np.linalg.norm(X, axis=1)
    if np.any(nrm < 1e-12):
        return False
    U = X / nrm[:, None]
    C = np.abs(U @ U.T)
    np.fill_diagonal(C, 0.0)
    return bool(np.all(C < math.cos(math.radians(min_angle_deg))))


def both_labels(y: np.ndarray) -> bool:
    return bool(np.any(np.asarray(y) > 0) and np.any(np.asarray(y) < 0))


@st.composite
def datasets(draw, n_min: int = 3, n_max: int = 40, d_min: int = 2, d_max: int = 4,
             real_targets: bool = False):
    """``(X, y)``: n×d points on the 1/8 grid in [−2, 2]; labels ±1 (or targets on the 1/4 grid
    in [−2, 2] when ``real_targets``)."""
    d = draw(st.integers(d_min, d_max))
    n = draw(st.integers(n_min, n_max))
    coords = draw(st.lists(st.integers(-2 * GRID, 2 * GRID), min_size=n * d, max_size=n * d))
    jitter = np.random.default_rng(draw(st.integers(0, 2**16 - 1))).uniform(-1, 1, (n, d))
    X = np.array(coords, dtype=float).reshape(n, d) / GRID + jitter / 64
    if real_targets:
        ys = draw(st.lists(st.integers(-8, 8), min_size=n, max_size=n))
        y = np.array(ys, dtype=float) / 4
    else:
        ys = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        y = np.where(np.array(ys, dtype=bool), 1.0, -1.0)
    return X, y


def xor_family(draw_noise: bool = False):
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


def activations():
    return st.sampled_from(ACTIVATIONS)


def losses():
    return st.sampled_from(LOSSES)


def seeds():
    return st.integers(0, 2**16 - 1)
