"""theory.later_phase: the later-phase system derived by sympy, checked against autograd, and
the exact 2-D attractors of G_t checked against the certified predictor and a dense grid."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from theory.extrema import predict
from theory.later_phase import (
    angular_speed,
    attractors_2d,
    derive_later_phase,
    direction_attractors,
    envelope_step,
    frozen_travel_time_2d,
    g_t_extrema,
    g_t_rate_bound,
    loss_curvature,
    pull_radius_2d,
    residuals,
    sharpness_bound,
    weighted_problem,
)
from theory.problem import Problem


@functools.lru_cache(maxsize=None)
def _derive(act, loss):
    return derive_later_phase(act, loss, 2)


@pytest.mark.parametrize("act, loss", [("relu", "logistic"), ("leaky_relu:0.1", "square"),
                                       ("abs", "exponential")])
def test_derivation_full_flow_polar_and_speed(act, loss):
    D = _derive(act, loss)
    assert D.full_flow_matches
    assert D.polar_matches
    assert D.angular_speed_matches
    assert D.angle_matches
    assert "r_t" in D.to_text()


def test_derivation_full_flow_needs_no_homogeneity():
    """w' = a∇G_t, a' = G_t holds for tanh too; the polar form is not derived for it."""
    D = derive_later_phase("tanh", "logistic", 2)
    assert D.full_flow_matches
    assert not D.polar_matches and D.polar == {}


def _state(act, loss, seed=0, n=9, d=3, m=5, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n) if loss == "square" else rng.choice([-1.0, 1.0], size=n)
    p = Problem.from_arrays(X, y, act, loss)
    W = rng.normal(size=(m, d)) * scale
    a = rng.normal(size=m) * scale
    return p, W, a


def _torch_loss(p, W, a):
    from numerics.engine import torch_activation, torch_loss

    sigma, _ = torch_activation(p.activation)
    ell, _ = torch_loss(p.loss)
    X = torch.tensor(p.X)
    y = torch.tensor(p.y)
    f = sigma(X @ W.T) @ a
    return ell(y, f).mean()


@pytest.mark.parametrize("act", ["relu", "leaky_relu:0.1", "abs", "tanh"])
@pytest.mark.parametrize("loss", ["logistic", "exponential", "square"])
def test_full_flow_equals_autograd(act, loss):
    """−∂L/∂w_j = a_j ∇G_t(w_j) and −∂L/∂a_j = G_t(w_j) with G_t's weights r_i = −ℓ'(y_i, f_i)
    of the current network, against torch autograd of the real loss (away from kinks)."""
    p, W, a = _state(act, loss, scale=0.7)
    Wt = torch.tensor(W, requires_grad=True)
    at = torch.tensor(a, requires_grad=True)
    _torch_loss(p, Wt, at).backward()
    r = residuals(p, W, a)
    # relative 1e-12: float64 sums of a few dozen products
    np.testing.assert_allclose(-Wt.grad.numpy(), a[:, None] * p.grad_G(W, weights=r),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(-at.grad.numpy(), p.G(W, weights=r), rtol=1e-12, atol=1e-14)


def test_residuals_at_zero_output_are_the_loss_weights():
    p, W, a = _state("relu", "logistic")
    np.testing.assert_allclose(residuals(p, W, 0 * a), p.c, rtol=0, atol=0)


def test_angular_speed_matches_a_small_gradient_step():
    """|u'| = (|a|/|w|)|(I − uuᵀ)∇G_t(u)|: the turn of each direction under one tiny
    gradient step of the real loss, divided by the step."""
    p, W, a = _state("leaky_relu:0.1", "logistic", seed=3, m=6)
    Wt = torch.tensor(W, requires_grad=True)
    at = torch.tensor(a, requires_grad=True)
    _torch_loss(p, Wt, at).backward()
    h = 1e-7
    W2 = W - h * Wt.grad.numpy()
    U1 = W / np.linalg.norm(W, axis=1, keepdims=True)
    U2 = W2 / np.linalg.norm(W2, axis=1, keepdims=True)
    turn = 2 * np.arctan2(np.linalg.norm(U2 - U1, axis=1), np.linalg.norm(U2 + U1, axis=1))
    # the turn is h·speed + O(h²); relative 1e-5 leaves room for the O(h) term and rounding
    np.testing.assert_allclose(turn / h, angular_speed(p, W, a, residuals(p, W, a)),
                               rtol=1e-5)


def test_weighted_problem_has_the_given_weights():
    p, W, a = _state("relu", "logistic", d=2)
    r = residuals(p, W, a)
    q = weighted_problem(p, r)
    np.testing.assert_array_equal(q.c, r)
    np.testing.assert_array_equal(q.X, p.X)
    assert g_t_rate_bound(p, r) == pytest.approx(np.sum(np.abs(r) * np.linalg.norm(p.X, axis=1))
                                                 / p.n, rel=1e-15)
    # at r = c the extrema of G_t are the early-phase ones
    want = predict(p, basins=False).to_json()["extrema"]
    got = g_t_extrema(p, p.c).to_json()["extrema"]
    assert len(got) == len(want)
    for e, f in zip(got, want):
        np.testing.assert_allclose(e["direction"], f["direction"], atol=1e-15)
        assert e["sign"] == f["sign"]


# ----------------------------------------------------------------------------- attractors
def _random_problem(rng, grid: bool):
    n = int(rng.integers(2, 14))
    X = rng.normal(size=(n, 2))
    if grid:  # coincident lines and repeated points: degenerate kinks
        X = np.round(X * 2) / 2
        X[np.all(X == 0, axis=1)] = [0.5, -0.5]
    r = rng.normal(size=n)
    act = str(rng.choice(["relu", "leaky_relu:0.1", "abs"]))
    return Problem.from_arrays(X, np.sign(r) + (r == 0), act), r


def test_attractors_agree_with_the_certified_predictor():
    """The extrema with sign·G_t > 0 are exactly the predictor's (certified) ones."""
    rng = np.random.default_rng(11)
    for k in range(50):
        p, r = _random_problem(rng, grid=k % 3 == 0)
        mine = sorted((tuple(np.round(e.direction, 9)), e.sign, e.kind)
                      for e in attractors_2d(p, r) if e.sign * e.G > 0)
        pred = sorted((tuple(np.round(e.direction, 9)), e.sign, e.kind)
                      for e in g_t_extrema(p, r).extrema)
        assert mine == pred, (p.X, r)


def _grid_extrema(p, r, N=72000):
    th = np.linspace(-np.pi, np.pi, N, endpoint=False)
    g = p.G(np.stack([np.cos(th), np.sin(th)], 1), weights=r)
    L, R = np.roll(g, 1), np.roll(g, -1)
    out = []
    for s, mask in ((1, (g > L) & (g > R)), (-1, (g < L) & (g < R))):
        out += [(t, s) for t in th[mask]]
    return out


def test_attractors_match_a_dense_grid_whatever_the_sign_of_G():
    """Every strict local extremum of G_t on a 0.005° grid is reported (either sign of G_t),
    and nothing else: no extremum missing, none invented."""
    rng = np.random.default_rng(5)
    n_wrong_sign = 0
    for _ in range(60):
        p, r = _random_problem(rng, grid=False)
        ex = attractors_2d(p, r)
        n_wrong_sign += sum(e.sign * e.G <= 0 for e in ex)
        grid = _grid_extrema(p, r)
        # a grid local extremum lies within one grid step of a true one (G is continuous and
        # piecewise sinusoidal); extrema closer than two grid steps would merge: none here
        step = 2 * np.pi / 72000
        assert len(grid) == len(ex), (p.X, r)
        for t, s in grid:
            d = [abs(math.remainder(t - math.atan2(e.direction[1], e.direction[0]), 2 * math.pi))
                 for e in ex if e.sign == s]
            assert d and min(d) <= 1.5 * step
    assert n_wrong_sign > 0  # the case the predictor leaves out did occur


def test_a_maximum_with_negative_G_is_an_attractor():
    """Weights −1 at ±e1 make e2 a concave kink of G_t; a point at e2 with weight −0.2 makes
    G_t(e2) = −0.2/3 < 0.  So e2 is a strict maximum with negative G_t: neurons with a > 0
    settle there and shrink.  The predictor (sign·G > 0 only) leaves it out."""
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    r = np.array([-1.0, -1.0, -0.2])
    p = Problem.from_arrays(X, np.sign(r))
    ex = direction_attractors(p, r)
    neg_max = [e for e in ex if e.sign == 1 and e.G < 0]
    assert len(neg_max) == 1
    np.testing.assert_allclose(neg_max[0].direction, [0.0, 1.0], atol=1e-15)
    assert neg_max[0].G == pytest.approx(-0.2 / 3, rel=1e-14)
    assert neg_max[0].kind == "kink"
    assert not [e for e in g_t_extrema(p, r).extrema if e.sign == 1 and e.G < 0]


# ----------------------------------------------------------------------------- tracking bounds
def test_envelope_bounds_the_relaxation():
    """β' = −κ sin β from β0 stays below the envelope stepped on a coarse grid."""
    kappa, beta0 = 0.3, 1.2
    B, t, beta = beta0, 0.0, beta0
    for _ in range(20):
        dt = 0.5
        for _ in range(5000):  # fine explicit Euler of the exact flow
            beta -= dt / 5000 * kappa * math.sin(beta)
        B = envelope_step(B, 0.0, kappa, dt, 0.0)
        t += dt
        assert beta <= B + 1e-12
    assert B < beta0 * math.exp(-0.5 * kappa * t)  # and it does contract


def test_envelope_adds_displacement_and_keeps_the_band():
    assert envelope_step(0.01, 0.02, 1.0, 1.0, 0.0) == 0.02
    assert envelope_step(0.02, 0.02, 1.0, 1.0, 0.1) == pytest.approx(0.12)
    assert envelope_step(0.5, 0.0, 0.0, 1.0, 0.0) == 0.5  # no pull, no contraction
    assert envelope_step(4.0, 0.0, 1.0, 1.0, 0.0) == 4.0  # beyond π: no contraction claimed


def test_frozen_travel_time_matches_the_closed_form():
    """Weight −1 at +e1 and +1 at −e1 (ReLU): G_t(θ) = −(1/2)cos θ, a minimum at θ = 0.  A
    neuron with a < 0 turns as θ' = −ω dG_t/dθ = −(ω/2) sin θ, so it needs
    (2/ω) log(tan(θ0/2)/tan(tol/2)) to come from θ0 to tol."""
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    r = np.array([-1.0, 1.0])
    p = Problem.from_arrays(X, np.sign(r))
    omega, th0, tol = 0.8, 1.0, 0.05
    t = frozen_travel_time_2d(p, r, th0, -1, omega, [0.0], tol, 1e3, max_step=1e-4)
    want = 2 / omega * math.log(math.tan(th0 / 2) / math.tan(tol / 2))
    # Euler with angular steps h = 1e-4 is a Riemann sum of ∫dθ/θ': relative error about
    # h/(2·tol·log(θ0/tol)) = 3e-4
    assert t == pytest.approx(want, rel=1e-3)
    assert frozen_travel_time_2d(p, r, th0, -1, omega, [0.0], tol, 1.0) == math.inf


# ----------------------------------------------------------------------------- step and premise
@pytest.mark.parametrize("loss", ["logistic", "exponential", "square"])
def test_loss_curvature_is_the_second_derivative(loss):
    """ℓ'' derived by sympy = −∂r/∂f by autograd of the package's own residual."""
    p, W, a = _state("relu", loss, seed=3)
    f = torch.tensor(p.activation.numpy(p.X @ W.T) @ a, requires_grad=True)
    r = p.loss.torch_neg_derivative(torch.tensor(p.y), f)
    (g,) = torch.autograd.grad(r.sum(), f)  # r_i depends on f_i only
    np.testing.assert_allclose(loss_curvature(p, f.detach().numpy()), -g.numpy(), rtol=1e-12)


def _hessian_top(p, W, a):
    m, d = W.shape
    X, y = torch.tensor(p.X), torch.tensor(p.y)

    def L(th):
        f = p.activation.torch(X @ th[:m * d].reshape(m, d).T) @ th[m * d:]
        return p.loss.torch_value(y, f).mean()

    th = torch.tensor(np.concatenate([W.ravel(), a]))
    return float(torch.linalg.eigvalsh(torch.autograd.functional.hessian(L, th))[-1])


@pytest.mark.parametrize("act, loss", [("relu", "logistic"), ("leaky_relu:0.1", "square"),
                                       ("abs", "exponential"), ("relu", "square")])
def test_sharpness_bound_bounds_the_hessian_and_is_tight(act, loss):
    """The bound ≥ the top eigenvalue of the autograd Hessian, and within the Weyl gap: the
    Gauss–Newton part is exact and the residual part has norm ``ρ = max_j |∇G_t(w_j)|``, so
    the truth is at least GN − ρ and the bound exceeds it by at most 2ρ (ReLU-family σ'' = 0
    off the kinks, where random states lie with probability 1)."""
    for seed in range(5):
        p, W, a = _state(act, loss, seed=seed, n=7, d=2, m=6, scale=2.0)
        S, top = sharpness_bound(p, W, a), _hessian_top(p, W, a)
        r = residuals(p, W, a)
        res = float(np.max(np.linalg.norm(p.grad_G(W, weights=r), axis=1)))
        assert top <= S * (1 + 1e-12)
        assert S - top <= 2 * res * (1 + 1e-9) + 1e-12


def _pull_grid(p, w, th_star, sign, kappa0, side, betas):
    """F(β) on a grid by direct evaluation of the slope (the definition, not the arcs)."""
    th = th_star + side * betas
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    T = np.stack([-np.sin(th), np.cos(th)], axis=1)
    slope = np.sum(p.grad_G(U, weights=w) * T, axis=1)
    return -sign * slope * side - kappa0 * np.sin(betas)


@pytest.mark.parametrize("act", ["relu", "leaky_relu:0.1", "abs"])
def test_pull_radius_matches_a_dense_grid(act):
    """At every attractor of random landscapes: F ≥ 0 on a dense grid up to the radius, and
    F < 0 just beyond it (when the radius is below π) on one side."""
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(25):
        n = int(rng.integers(2, 7))
        X = rng.normal(size=(n, 2))
        p = Problem.from_arrays(X, np.sign(rng.normal(size=n)) + 0.0, act, "square")
        w = rng.normal(size=n)
        for e in direction_attractors(p, w):
            th = math.atan2(e.direction[1], e.direction[0])
            rad = pull_radius_2d(p, w, th, e.sign, abs(e.G))
            tol = 1e-7 * g_t_rate_bound(p, w)
            betas = np.linspace(1e-9, rad * (1 - 1e-9), 4001)
            for side in (1, -1):
                assert np.all(_pull_grid(p, w, th, e.sign, abs(e.G), side, betas) >= -tol)
            if rad < math.pi - 1e-6:
                beyond = np.array([rad + 1e-6])
                assert min(_pull_grid(p, w, th, e.sign, abs(e.G), s, beyond)[0]
                           for s in (1, -1)) < 0
            checked += 1
    assert checked > 40


def test_pull_radius_in_closed_form():
    """One point x = e1, weight 1, ReLU: G(θ) = cos θ on |θ| < 90° (a smooth max at 0, F ≡ 0
    there) and 0 beyond (no pull): the radius is exactly 90°.  Weight 1 at ±e1: G = |cos θ|/2
    has kink minima at ±90° with G = 0, pulling (a < 0 neurons) on both sides as far as the
    maxima at 0 and π, where the pull vanishes: the radius is 90°.  (The rounding allowance
    ``tol`` = 1e-9·bound moves the crossing by tol/R ≈ 2e-9 rad.)"""
    p = Problem.from_arrays(np.array([[1.0, 0.0]]), np.array([1.0]), "relu", "square")
    assert pull_radius_2d(p, [1.0], 0.0, 1, 1.0) == pytest.approx(math.pi / 2, abs=1e-8)
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    q = Problem.from_arrays(X, np.array([1.0, 1.0]), "relu", "square")
    rad = pull_radius_2d(q, [1.0, 1.0], math.pi / 2, -1, 0.0)
    assert rad == pytest.approx(math.pi / 2, abs=1e-8)
