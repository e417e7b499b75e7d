"""Tests of theory.derive: the sympy derivation against autograd, finite differences and itself."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp
import torch

from theory.activations import parse_activation
from theory.derive import (
    _zero,
    derive,
    early_phase_rhs,
    euler_identity_holds,
    grad_G_symbolic,
    sigma_form,
)
from theory.problem import Problem
from verify.cli import main

ACTS = ["relu", "leaky_relu:0.1", "abs", "linear", "tanh"]
HOMOGENEOUS = {"relu", "leaky_relu:0.1", "abs", "linear"}


@functools.lru_cache(maxsize=None)
def _derive(act, loss="logistic", d=2):
    return derive(act, loss, d)


def _problem(act, loss="logistic", seed=0, n=7, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n) if loss == "square" else rng.choice([-1.0, 1.0], size=n)
    return Problem.from_arrays(X, y, act, loss)


def _points_off_kinks(problem, m, rng, margin=1e-2):
    """Random points whose preactivations all satisfy |<w, x_i>| > margin (off the kinks)."""
    out = []
    while len(out) < m:
        w = rng.normal(size=problem.d)
        if np.min(np.abs(problem.X @ w)) > margin:
            out.append(w)
    return np.array(out)


# ------------------------------------------------------------------ the derivation's own checks
@pytest.mark.parametrize("act", ACTS)
def test_derivation_steps(act):
    D = _derive(act, "logistic", 2)
    assert D.c_matches_loss
    assert D.early_matches_flow
    assert D.eps_matches_early
    # first correction to the leading order is O(eps^2): f = O(eps^2) inside -dl/df
    assert D.eps_correction_order == 2
    assert D.conservation_holds == (act in HOMOGENEOUS)
    if act in HOMOGENEOUS:
        assert D.polar_matches and D.angle_matches
        assert D.conservation_full == 0 and D.conservation_early == 0


@pytest.mark.parametrize("loss, factor", [("logistic", sp.Rational(1, 2)),
                                          ("exponential", 1), ("square", 1)])
def test_c_per_loss(loss, factor):
    D = _derive("relu", loss, 2)
    y = D.symbols["y"]
    assert sp.simplify(D.c_expr - factor * y) == 0
    # rejects a wrong factor
    assert not _zero(D.c_expr - 2 * factor * y)


def test_tanh_conservation_fails_beyond_first_order():
    D = _derive("tanh", "logistic", 2)
    z = sp.Symbol("z", real=True)
    # z tanh'(z) - tanh(z) = -2 z^3/3 + O(z^5): Taylor coefficient from sympy's series
    assert D.euler_series.removeO().coeff(z, 3) == sp.Rational(-2, 3)
    assert D.euler_series.removeO().coeff(z, 1) == 0
    assert D.conservation_early != 0 and D.conservation_full != 0
    assert not euler_identity_holds(parse_activation("tanh"))
    for act in HOMOGENEOUS:
        assert euler_identity_holds(parse_activation(act))


def test_eps_leading_order_rejects_wrong_system():
    """The leading-order check can fail: a flipped sign or a missing a is not equal."""
    D = _derive("relu", "logistic", 2)
    Wb, Ab, x, y = D.symbols["Wb"], D.symbols["Ab"], D.symbols["x"], D.symbols["y"]
    G = y / 2 * sigma_form(parse_activation("relu"), (Wb[0].T * x)[0, 0])
    good = Ab[0] * sp.diff(G, Wb[0][0])
    assert _zero(D.eps_leading_w[0] - good)
    assert not _zero(D.eps_leading_w[0] + good)
    assert not _zero(D.eps_leading_w[0] - sp.diff(G, Wb[0][0]))


def test_derive_other_dimensions():
    D = _derive("relu", "logistic", 3)
    assert D.polar_matches and D.conservation_holds and D.angle_eq is None


# ------------------------------------------------------------------ symbolic = numeric
@pytest.mark.parametrize("act", ACTS)
def test_grad_G_symbolic_vs_finite_differences_and_autograd(act):
    prob = _problem(act, seed=1)
    rng = np.random.default_rng(2)
    W = _points_off_kinks(prob, 5, rng)
    G_fn, grad_fn = grad_G_symbolic(prob)
    # G itself against Problem.G (float64 rounding of a 7-term sum: 1e-13 is ~100 ulps)
    np.testing.assert_allclose(G_fn(W), prob.G(W), rtol=0, atol=1e-13)
    g_sym = grad_fn(W)
    # central differences, h = 1e-6: truncation h^2 |G'''| <= ~1e-11 for tanh (0 for piecewise
    # linear sigma, since |<w, x_i>| > 1e-2 >> h|x_i| keeps every point on its side) plus
    # rounding ~ 1e-16/h = 1e-10 -> tolerance 1e-8
    h = 1e-6
    fd = np.stack([(G_fn(W + h * e) - G_fn(W - h * e)) / (2 * h) for e in np.eye(prob.d)], 1)
    np.testing.assert_allclose(g_sym, fd, rtol=0, atol=1e-8)
    # torch autograd in float64: the same sum in another order, rounding only -> 1e-13
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    Xt = torch.tensor(prob.X, dtype=torch.float64)
    Z = Wt @ Xt.T
    g = float(prob.activation.gamma) if prob.activation.piecewise_linear else None
    S = torch.tanh(Z) if g is None else torch.where(Z >= 0, Z, g * Z)
    Gt = S @ torch.tensor(prob.c, dtype=torch.float64) / prob.n
    (grad_t,) = torch.autograd.grad(Gt.sum(), Wt)
    np.testing.assert_allclose(g_sym, grad_t.numpy(), rtol=0, atol=1e-13)
    # a rotated gradient is rejected
    rot = g_sym @ np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]])
    assert np.max(np.abs(rot - grad_t.numpy())) > 1e-3


@pytest.mark.parametrize("loss", ["logistic", "exponential", "square"])
def test_early_phase_rhs_matches_problem(loss):
    prob = _problem("leaky_relu:0.1", loss, seed=3)
    rng = np.random.default_rng(4)
    W = _points_off_kinks(prob, 6, rng)
    a = rng.normal(size=6)
    dW, da = early_phase_rhs(prob)(W, a)
    # same float64 sums in another order -> 1e-13
    np.testing.assert_allclose(dW, a[:, None] * prob.grad_G(W), rtol=0, atol=1e-13)
    np.testing.assert_allclose(da, prob.G(W), rtol=0, atol=1e-13)
    assert np.max(np.abs(dW + a[:, None] * prob.grad_G(W))) > 1e-3  # sign flip detected


@pytest.mark.parametrize("act", ["relu", "abs"])
def test_polar_form_consistent_with_cartesian(act):
    """The derived per-point polar expressions, summed over data, equal the Cartesian flow."""
    D = _derive(act, "logistic", 2)
    prob = _problem(act, seed=5, n=6, d=2)
    rng = np.random.default_rng(6)
    W = _points_off_kinks(prob, 4, rng)
    a = rng.normal(size=4)
    dW, _ = early_phase_rhs(prob)(W, a)
    x, y = D.symbols["x"], D.symbols["y"]
    r_s, u_s = D.polar["r_sym"], D.polar["u_sym"]
    a_s = sp.Symbol("a", real=True)
    args = [a_s, r_s, *u_s, *x, y]
    f_r = sp.lambdify(args, D.polar["r"], "numpy")
    f_u = [sp.lambdify(args, e, "numpy") for e in D.polar["u"]]
    for j in range(4):
        r = np.linalg.norm(W[j])
        u = W[j] / r
        rdot_cart = W[j] @ dW[j] / r
        udot_cart = (dW[j] - rdot_cart * u) / r
        pts = [(a[j], r, *u, *prob.X[i], prob.y[i]) for i in range(prob.n)]
        rdot = sum(f_r(*p) for p in pts) / prob.n
        udot = np.array([sum(f(*p) for p in pts) / prob.n for f in f_u])
        # float64 rounding of O(1) sums -> 1e-12
        assert abs(rdot - rdot_cart) < 1e-12
        np.testing.assert_allclose(udot, udot_cart, rtol=0, atol=1e-12)
        # and r' = a G(u) (the polar form's claim)
        assert abs(rdot - a[j] * prob.G(u[None])[0]) < 1e-12
        assert abs(rdot + a[j] * prob.G(u[None])[0]) > 1e-6 or abs(rdot) < 1e-9


def test_bad_dimension():
    from theory.errors import InputError

    with pytest.raises(InputError):
        derive("relu", "logistic", 0)


def test_cli_derive(capsys):
    assert main(["derive", "--activation", "linear", "--loss", "square"]) == 0
    out = capsys.readouterr().out
    assert "Conservation law" in out and "CERTIFIED: LHS < RHS" in out
    assert main(["derive", "--activation", "linear", "--latex", "--no-prop57"]) == 0
    assert "\\paragraph" in capsys.readouterr().out
    assert main(["derive", "--activation", "nope"]) == 2
    assert "unknown activation" in capsys.readouterr().err
    assert main(["derive", "--loss", "hinge"]) == 2
