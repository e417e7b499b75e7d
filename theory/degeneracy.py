"""Exact tests for data on which the first-order theory predicts nothing (G ≡ 0).

* Piecewise-linear σ: write ``σ(z) = ((1+γ)/2) z + ((1−γ)/2)|z|``.  Then
  ``G(w) = ((1+γ)/2)⟨w, v⟩ + ((1−γ)/(2n)) Σ_i c_i |⟨w, x_i⟩|`` with ``v = (1/n) Σ c_i x_i``.
  Ridge functions ``|⟨w, ℓ⟩|`` on distinct lines ℓ are linearly independent of each other and of
  linear functions, so G ≡ 0 iff (γ = −1 or v = 0) and, for every line through 0, the sum of
  ``c_i |t_i|`` over the points ``x_i = t_i ℓ`` on it is 0.
* Smooth σ with σ'(0) ≠ 0: the leading term ``σ'(0)⟨w, v⟩`` vanishes iff ``v = 0``.

Both are decided in exact arithmetic on :attr:`Problem.X_exact`.
"""

from __future__ import annotations

import sympy as sp


def _line_key(row: list) -> tuple[tuple, sp.Expr] | None:
    """Canonical line of a nonzero vector and the scale ``t`` with ``x = t · key``."""
    for v in row:
        if v != 0:
            t = v
            return tuple(sp.nsimplify(x / t) if not x.is_Rational else x / t for x in row), t
    return None


def leading_vector_vanishes(problem) -> bool:
    """True when ``v = (1/n) Σ c_i x_i`` is exactly 0."""
    X = problem.X_exact
    c = problem.c_exact
    for k in range(problem.d):
        s = sum((c[i] * X[i, k] for i in range(problem.n)), sp.Integer(0))
        if sp.simplify(s) != 0:
            return False
    return True


def g_vanishes_identically(problem) -> bool:
    """True when G ≡ 0 on the sphere (piecewise-linear σ) or its leading term does (smooth σ)."""
    act = problem.activation
    if not act.piecewise_linear:
        return leading_vector_vanishes(problem)
    if act.gamma != -1 and not leading_vector_vanishes(problem):
        return False
    if act.gamma == 1:
        return True  # identity: G is linear and v = 0
    X = problem.X_exact
    c = problem.c_exact
    lines: dict[tuple, sp.Expr] = {}
    for i in range(problem.n):
        kt = _line_key(list(X[i, :]))
        if kt is None:
            continue  # x_i = 0 contributes σ(0) = 0
        key, t = kt
        lines[key] = lines.get(key, sp.Integer(0)) + c[i] * sp.Abs(t)
    return all(sp.simplify(s) == 0 for s in lines.values())
