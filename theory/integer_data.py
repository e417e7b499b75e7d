"""A problem with rational data, written with integers only (for the exact face certificate).

Every float64 is a dyadic rational, and integer or :class:`fractions.Fraction` data are
rational, so each nonzero data point is x_i = ρ_i M_i with ρ_i > 0 rational and M_i a
*primitive* integer vector (gcd of its entries 1).  Positive homogeneity of σ gives

    G(w) = (1/n) Σ_i c_i σ(⟨w, x_i⟩) = (1/(n·Q·q)) Σ_i ( P_i σ₊(⟨w, M_i⟩) + N_i σ₋(⟨w, M_i⟩) ),

with σ₊(z) = max(z, 0), σ₋(z) = min(z, 0), γ = p/q, Q a common denominator of the c_i ρ_i and
the integers P_i = q·Q·c_i ρ_i (the slope for ⟨w, x_i⟩ > 0) and N_i = p·Q·c_i ρ_i (slope below 0).
The positive factor 1/(n Q q) changes neither directions nor signs; it is kept in ``scale``.

Two points lie on the same line through 0 iff their primitive vectors agree up to sign, so the
lines are found exactly by hashing the sign-normalised M_i (first nonzero entry positive), and
x_i = ρ_i t_i b_ℓ with b_ℓ the line's vector and t_i = ±1.  Nothing here depends on the size
of the numbers: data scaled by 1e300 give the same M_i (up to the float rounding of the scaled
data themselves) and a different ``scale``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp


@dataclass(frozen=True, eq=False)
class IntegerData:
    """Integer form of a problem with rational data (module docstring)."""

    M: np.ndarray        # (n, d) object array of Python ints, primitive rows (0 rows allowed)
    P: list              # slope weights for z > 0 (ints)
    N: list              # slope weights for z < 0 (ints)
    scale: Fraction      # G = (1/scale)·(integer form); scale = n·Q·q > 0
    line_id: np.ndarray  # (n,) line of each point, −1 for x_i = 0
    t: np.ndarray        # (n,) ±1: M_i = t_i b_{line}
    lines: list          # b_ℓ as tuples of ints (first nonzero entry positive)
    nonzero: np.ndarray  # (n,) bool

    @property
    def n(self) -> int:
        return self.M.shape[0]

    @property
    def d(self) -> int:
        return self.M.shape[1]

    def line_slopes(self, ell: int) -> tuple[int, int]:
        """(A⁺, A⁻): the line's contribution Σ_{i∈ℓ} (P_i σ₊ + N_i σ₋)(t_i z) is A⁺ z for z > 0
        and A⁻ z for z < 0 (integer scale)."""
        ap = am = 0
        for i in np.nonzero(self.line_id == ell)[0]:
            if self.t[i] > 0:
                ap += self.P[i]
                am += self.N[i]
            else:
                ap -= self.N[i]
                am -= self.P[i]
        return ap, am


def _row_integers(row: list[Fraction]) -> tuple[list[int], Fraction]:
    """(M, ρ) with row = ρ·M, M primitive, ρ > 0 (M = 0, ρ = 1 for a zero row)."""
    den = 1
    for v in row:
        den = den * v.denominator // math.gcd(den, v.denominator)
    ints = [int(v * den) for v in row]
    g = math.gcd(*ints) if ints else 0
    if g == 0:
        return [0] * len(row), Fraction(1)
    return [v // g for v in ints], Fraction(g, den)


def _float_rows(X: np.ndarray) -> tuple[list[list[int]], list[Fraction]]:
    """Exact (M_i, ρ_i) of float64 rows, vectorised: x = m·2^e with integer m < 2^53."""
    mant, ex = np.frexp(X)
    m = (mant * 2.0**53).astype(np.int64)  # exact: |mant| < 1 has 53 significant bits
    e = ex.astype(np.int64) - 53
    e = np.where(m == 0, np.iinfo(np.int64).max, e)
    emin = e.min(axis=1, keepdims=True)
    shift = np.where(m == 0, 0, e - np.where(emin == np.iinfo(np.int64).max, 0, emin))
    Ms, rhos = [], []
    small = shift.max(axis=1) <= 9  # m << shift < 2^63: stays in int64
    for i in range(X.shape[0]):
        if small[i]:
            row = (m[i] << shift[i]).tolist()
        else:
            row = [int(a) << int(b) for a, b in zip(m[i].tolist(), shift[i].tolist())]
        g = math.gcd(*row)
        if g == 0:
            Ms.append([0] * X.shape[1])
            rhos.append(Fraction(1))
            continue
        Ms.append([v // g for v in row])
        ei = int(emin[i, 0])
        rhos.append(Fraction(g) * (Fraction(2) ** ei))
    return Ms, rhos


def _fraction(v) -> Fraction | None:
    if isinstance(v, Fraction):
        return v
    if isinstance(v, sp.Basic):
        v = sp.nsimplify(v) if not v.is_Rational else v
        if not v.is_Rational:
            return None
        return Fraction(int(v.p), int(v.q))
    return Fraction(v)


@lru_cache(maxsize=16)
def integer_data(problem) -> IntegerData | None:
    """The problem's data in integer form, or None when they are not all rational (algebraic
    input such as sqrt(3): the certificate then works over an algebraic field instead).  For a
    smooth σ the slopes are those of the identity (γ = 1: the leading-order G)."""
    act = problem.activation
    n, d = problem.X.shape
    if problem.exact_input:
        Xs = problem.X_exact
        rows = []
        for i in range(n):
            row = [_fraction(Xs[i, j]) for j in range(d)]
            if any(v is None for v in row):
                return None
            rows.append(row)
        cs = [_fraction(v) for v in problem.c_exact]
        if any(v is None for v in cs):
            return None
        Ms, W = [], []
        for row, c in zip(rows, cs):
            m, rho = _row_integers(row)
            Ms.append(m)
            W.append(c * rho)
    else:
        k = Fraction(1, 2) if problem.loss.name == "logistic" else Fraction(1)
        Ms, rhos = _float_rows(problem.X)
        W = [k * Fraction(v) * rho for v, rho in zip(problem.y.tolist(), rhos)]
    gam = Fraction(act.gamma) if act.piecewise_linear else Fraction(1)
    Q = 1
    for w in W:
        Q = Q * w.denominator // math.gcd(Q, w.denominator)
    Wi = [int(w * Q) for w in W]
    P = [w * gam.denominator for w in Wi]
    N = [w * gam.numerator for w in Wi]
    keys: dict[tuple, int] = {}
    line_id = np.full(n, -1)
    t = np.zeros(n, dtype=np.int8)
    lines = []
    for i, m in enumerate(Ms):
        first = next((v for v in m if v != 0), 0)
        if first == 0:
            continue
        s = 1 if first > 0 else -1
        key = tuple(v * s for v in m)
        if key not in keys:
            keys[key] = len(lines)
            lines.append(key)
        line_id[i] = keys[key]
        t[i] = s
    M = np.empty((n, d), dtype=object)
    M[:, :] = Ms
    return IntegerData(M, P, N, Fraction(n * Q * gam.denominator), line_id, t, lines,
                       line_id >= 0)


def g_vanishes_identically(D: IntegerData, gamma: Fraction | None) -> bool:
    """G ≡ 0 on the sphere, decided on the integer form (``gamma`` None: smooth σ, where the
    leading-order G vanishes iff v = 0).

    σ(z) = ((1+γ)/2) z + ((1−γ)/2)|z|, and ridge functions |⟨w, b_ℓ⟩| of distinct lines are
    linearly independent of each other and of linear functions, so G ≡ 0 iff (γ = −1 or
    v = Σ_i c_i x_i / n = 0) and, for γ ≠ 1, every line's Σ_{i∈ℓ} c_i ρ_i vanishes; on the
    integer scale c_i ρ_i ∝ P_i (and P_i ∝ N_i), so the tests are integer sums."""
    W = np.array(D.P, dtype=object)
    v_zero = not any(W @ D.M) if D.n else True
    if gamma is None or gamma == 1:
        return v_zero
    if gamma != -1 and not v_zero:
        return False
    sums: dict[int, int] = {}
    for i in np.nonzero(D.nonzero)[0]:
        sums[int(D.line_id[i])] = sums.get(int(D.line_id[i]), 0) + D.P[i]
    return all(v == 0 for v in sums.values())
