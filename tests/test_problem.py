"""The problem specification: validation, loss weights c_i and G as docs/theory.md pins them."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from theory import InputError, Problem, parse_activation, parse_loss
from theory.problem import load_xy, save_xy


def test_loss_weights_follow_the_design():
    # c_i = -dl/df at f = 0: logistic y/2, exponential y, square y (docs/theory.md).
    X = [[1, 0], [0, 1], [1, 1]]
    assert Problem.from_arrays(X, [1, -1, 1], loss="logistic").c.tolist() == [0.5, -0.5, 0.5]
    assert Problem.from_arrays(X, [1, -1, 1], loss="exponential").c.tolist() == [1, -1, 1]
    assert Problem.from_arrays(X, [0.3, -2, 5], loss="square").c.tolist() == [0.3, -2, 5]
    # {0,1} labels map to -1/+1 for classification losses
    assert Problem.from_arrays(X, [0, 1, 1]).y.tolist() == [-1, 1, 1]


@pytest.mark.parametrize("loss", ["logistic", "exponential", "square"])
def test_weights_equal_minus_loss_derivative_at_zero(loss):
    """c_i agrees with a sympy derivative of the loss at f = 0 and with neg_derivative."""
    lo = parse_loss(loss)
    y, f = sp.symbols("y f", real=True)
    dl = -sp.diff(lo.sympy(y, f), f).subs(f, 0)
    for yv in (-1, 1):
        assert sp.simplify(dl.subs(y, yv) - lo.weight_factor() * yv) == 0
        assert lo.neg_derivative(np.array([yv]), np.array([0.0]))[0] == pytest.approx(
            float(lo.weight_factor()) * yv, abs=0)


def test_G_matches_definition_and_xor_closed_form():
    rng = np.random.default_rng(0)
    mu, alpha = 1.7, 0.9
    v = np.array([np.cos(alpha), np.sin(alpha)])
    X = np.array([mu * np.array([1.0, 0]), -mu * np.array([1.0, 0]), mu * v, -mu * v])
    p = Problem.from_arrays(X, [-1, -1, 1, 1])
    W = rng.normal(size=(50, 2))
    # G(w) = (mu/8)(|<w,v>| - |<w,e1>|) for the 4-point XOR family, logistic, ReLU.
    # Tolerance: a handful of float64 roundings on O(1) numbers.
    expect = mu / 8 * (np.abs(W @ v) - np.abs(W[:, 0]))
    np.testing.assert_allclose(p.G(W), expect, rtol=0, atol=1e-14)
    # Euler's identity <w, grad G(w)> = G(w) for a 1-homogeneous activation
    np.testing.assert_allclose(np.sum(W * p.grad_G(W), axis=1), p.G(W), atol=1e-14)


def test_grad_G_matches_finite_differences_away_from_kinks():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 3))
    y = rng.choice([-1.0, 1.0], size=7)
    for act in ("relu", "leaky_relu:0.2", "abs", "linear", "tanh", "gelu"):
        p = Problem.from_arrays(X, y, act)
        w = rng.normal(size=3)
        h = 1e-6
        fd = np.array([(p.G(w + h * e) - p.G(w - h * e)) / (2 * h) for e in np.eye(3)])
        # central differences: O(h^2) truncation (exact for piecewise-linear away from kinks,
        # which a random point is with probability 1) plus O(eps_mach/h) ~ 1e-10 rounding.
        np.testing.assert_allclose(p.grad_G(w), fd, atol=1e-8)


def test_exact_mode_keeps_rationals_and_floats_are_exact_dyadics():
    p = Problem.from_arrays([[1, 2], [Fraction(1, 3), -1]], [1, -1])
    assert p.exact_input and p.X_exact[1, 0] == sp.Rational(1, 3)
    assert p.c_exact == (sp.Rational(1, 2), sp.Rational(-1, 2))
    q = Problem.from_arrays(np.array([[0.1, 0.2]]), [1.0])
    assert not q.exact_input
    assert q.X_exact[0, 0] == sp.Rational(*Fraction(0.1).as_integer_ratio())
    s = Problem.from_arrays(sp.Matrix([[sp.sqrt(3), 1]]), [1])
    assert s.exact_input and s.X_exact[0, 0] == sp.sqrt(3)


def test_degenerate_data_is_recognised_exactly():
    # each point present with both labels: G vanishes identically
    assert Problem.from_arrays([[1, 0], [1, 0], [0, 2], [0, 2]], [1, -1, 1, -1]).G_identically_zero
    # the same points on one line with weights cancelling only through |t|: x and -x, both +1
    # under abs: |<w,x>| + |<w,-x>| does not cancel
    assert not Problem.from_arrays([[1, 0], [-1, 0]], [1, 1], "abs").G_identically_zero
    # x and -x with opposite labels under abs: cancels exactly
    assert Problem.from_arrays([[1, 0], [-1, 0]], [1, -1], "abs").G_identically_zero
    # tanh: only the leading term matters; v = 0 here
    assert Problem.from_arrays([[1, 0], [-1, 0]], [1, 1], "tanh").G_identically_zero
    assert not Problem.from_arrays([[1, 0], [-1, 0]], [1, 1], "relu").G_identically_zero


@pytest.mark.parametrize(
    "X, y, loss, needle",
    [
        ([[np.nan, 1.0]], [1], "logistic", "NaN or inf"),
        ([[np.inf, 1.0]], [1], "logistic", "NaN or inf"),
        ([[1.0, 1.0]], [np.nan], "square", "y contains NaN"),
        ([1.0, 2.0], [1, 1], "logistic", "2-D"),
        (np.zeros((0, 2)), np.zeros(0), "logistic", "empty"),
        ([[1.0, 2.0]], [1, 1], "logistic", "rows"),
        ([[1.0, 2.0]], [[1]], "logistic", "1-D"),
        ([[1.0, 2.0], [1, 1]], [2, 1], "logistic", "labels"),
        ([[1.0, 2.0], [1, 1]], [0.5, 1], "exponential", "labels"),
    ],
)
def test_bad_input_is_one_clear_line(X, y, loss, needle):
    with pytest.raises(InputError) as e:
        Problem.from_arrays(np.asarray(X, dtype=float), np.asarray(y, dtype=float), loss=loss)
    assert needle in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("name", ["sigmoid", "leaky_relu:2", "leaky_relu:x", "", "relu6"])
def test_unknown_activation(name):
    with pytest.raises(InputError):
        parse_activation(name)


def test_unknown_loss():
    with pytest.raises(InputError, match="unknown loss"):
        parse_loss("hinge")


def test_activation_names_round_trip():
    assert parse_activation("leaky_relu:0.1").name == "leaky_relu:0.1"
    assert parse_activation("leaky_relu:0.1").gamma == Fraction(1, 10)
    assert parse_activation("leaky_relu:0").name == "relu"
    assert parse_activation("abs").gamma == -1


def test_npz_round_trip_and_refusals(tmp_path):
    X = np.array([[1, 2], [3, 4]])
    y = np.array([1, -1])
    save_xy(tmp_path / "ok.npz", X, y)
    p = Problem.load_npz(tmp_path / "ok.npz")
    assert p.exact_input and p.n == 2
    np.savez(tmp_path / "noy.npz", X=X)
    with pytest.raises(InputError, match="missing array 'y'"):
        load_xy(tmp_path / "noy.npz")
    np.savez(tmp_path / "pickled.npz", X=np.array([{"a": 1}], dtype=object), y=y)
    with pytest.raises(InputError, match="pickled"):
        load_xy(tmp_path / "pickled.npz")
    with pytest.raises(InputError, match="not found"):
        load_xy(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable"):
        load_xy(tmp_path / "junk.npz")
