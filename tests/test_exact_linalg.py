"""Exact integer solves (theory.exact_linalg) against sympy, and the integer form of the data."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from theory.exact_linalg import Singular, bareiss_solve, dixon_solve, solve
from theory.integer_data import g_vanishes_identically, integer_data
from theory.problem import Problem


def _system(rng, k, bits):
    B = [[int(v) for v in row] for row in rng.integers(-2**bits, 2**bits, (k, k + 3))]
    A = [[sum(a * b for a, b in zip(B[i], B[j])) for j in range(k)] for i in range(k)]  # Gram
    b = [int(v) for v in rng.integers(-2**bits, 2**bits, k)]
    return A, b


@pytest.mark.parametrize("k", [1, 3, 8, 20, 40])
def test_bareiss_and_dixon_agree_with_sympy(k):
    rng = np.random.default_rng(k)
    A, b = _system(rng, k, 40)
    want = sp.Matrix(A).LUsolve(sp.Matrix(b)) if k <= 20 else None
    for f in (bareiss_solve, dixon_solve, solve):
        num, den = f(A, b)
        assert den > 0
        assert all(sum(a * v for a, v in zip(row, num)) == den * bi for row, bi in zip(A, b))
        if want is not None:
            assert [sp.Rational(v, den) for v in num] == list(want)


def test_singular_is_detected_exactly():
    A = [[1, 2, 3], [2, 4, 6], [1, 0, 1]]
    for f in (bareiss_solve, dixon_solve):
        with pytest.raises(Singular):
            f(A, [1, 2, 3])


def test_integer_form_is_exact_for_float_and_scaled_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    X[1] = 4 * X[0]  # same line as x_0, same direction (exact in float64)
    X[2] = -0.5 * X[0]  # same line, opposite direction
    y = rng.choice([-1.0, 1.0], 6)
    D = integer_data(Problem.from_arrays(X, y))
    assert D.line_id[0] == D.line_id[1] == D.line_id[2] and D.t[0] == D.t[1] == -D.t[2]
    # M_i · (positive rational) is exactly x_i
    for i in range(6):
        ratios = {Fraction(v) / m for v, m in zip(X[i], D.M[i]) if m != 0}
        assert len(ratios) == 1 and next(iter(ratios)) > 0
    # scaling by 2^1000 keeps the integer rows and multiplies every weight P_i/scale by 2^1000
    D2 = integer_data(Problem.from_arrays(X * 2.0**1000, y))
    assert (D2.M == D.M).all()
    assert all(Fraction(a) / D2.scale == 2**1000 * Fraction(b) / D.scale
               for a, b in zip(D2.P, D.P))


def test_vanishing_G_matches_the_symbolic_test():
    X = np.array([[1, 2], [1, 2], [2, -1], [-4, 2]])
    for y, act in (([1, -1, 1, 1], "relu"), ([1, -1, 2, 1], "abs"), ([1, -1, 1, -1], "abs"),
                   ([1, -1, 2, 1], "tanh"), ([1, -1, 2, 1], "linear")):
        p = Problem.from_arrays(X.astype(object), np.array(y, dtype=object), act, "square")
        g = p.activation.gamma if p.activation.piecewise_linear else None
        assert g_vanishes_identically(integer_data(p), g) == p.G_identically_zero
