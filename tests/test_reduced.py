"""The reduced early-phase integrator (theory/reduced.py): exact solutions, order of accuracy,
homogeneity, and agreement with full training that improves as eps shrinks."""

import numpy as np
import pytest
import torch

from numerics.datasets import make_dataset
from numerics.engine import train
from numerics.init import init_weights
from numerics.measure import angle_deg, directions
from theory.errors import InputError
from theory.problem import Problem
from theory.reduced import euler_steps, integrate

torch.set_num_threads(1)  # tests only


def _linear_problem():
    return Problem.from_arrays(*make_dataset("generic:n=10,d=3", seed=4), "linear", "logistic")


def _exact_linear(P, W0, a0, t, lam_scale=1.0):
    """G(w) = <w, v> (identity σ): s = <w, v/|v|> and a rotate hyperbolically at rate |v|."""
    v = P.v
    lam = np.linalg.norm(v) * lam_scale
    vh = v / np.linalg.norm(v)
    s0 = W0 @ vh
    s = s0 * np.cosh(lam * t) + a0 * np.sinh(lam * t)
    a = a0 * np.cosh(lam * t) + s0 * np.sinh(lam * t)
    return W0 + np.outer(s - s0, vh), a


def test_rk4_and_euler_against_exact_solution():
    P = _linear_problem()
    rng = np.random.default_rng(0)
    W0, a0 = rng.normal(size=(5, 3)), rng.normal(size=5)
    T = 20.0  # several e-folds: |v| ≈ 0.2 here
    We, ae = _exact_linear(P, W0, a0, T)
    err = {}
    for method in ("rk4", "euler"):
        for dt in (0.2, 0.1):
            tr = integrate(P, W0, a0, [T], dt=dt, method=method)
            err[method, dt] = np.max(np.abs(tr.W[-1] - We)) / np.max(np.abs(We))
    # orders: halving dt divides the error by 2^4 (RK4) and 2 (Euler), up to O(dt) corrections
    assert 12 < err["rk4", 0.2] / err["rk4", 0.1] < 20
    assert 1.7 < err["euler", 0.2] / err["euler", 0.1] < 2.3
    assert err["rk4", 0.1] < 1e-7
    # a wrong growth rate (1 % off) is rejected at the accuracy reached
    Wbad, _ = _exact_linear(P, W0, a0, T, lam_scale=1.01)
    assert np.max(np.abs(Wbad - We)) / np.max(np.abs(We)) > 1e3 * err["rk4", 0.1]


def test_homogeneity_and_grid():
    P = Problem.from_arrays(*make_dataset("generic:n=12"))
    rng = np.random.default_rng(1)
    W0, a0 = rng.normal(size=(6, 2)), rng.normal(size=6)
    grid = [0.0, 0.35, 1.0, 2.5]
    tr = integrate(P, W0, a0, grid, dt=0.1)
    assert np.array_equal(tr.times, grid) and np.array_equal(tr.W[0], W0)
    s = 2.0 ** -40  # exact in binary: the 1-homogeneous system scales bitwise
    trs = integrate(P, s * W0, s * a0, grid, dt=0.1)
    assert np.array_equal(trs.W, s * tr.W) and np.array_equal(trs.a, s * tr.a)
    Pt = P.with_(activation="tanh")  # not homogeneous: the same check fails
    t1 = integrate(Pt, W0, a0, grid, dt=0.1)
    t2 = integrate(Pt, s * W0, s * a0, grid, dt=0.1)
    assert not np.allclose(t2.W / s, t1.W, rtol=1e-6)


def test_conservation_in_reduced_flow():
    P = Problem.from_arrays(*make_dataset("generic:n=12", seed=3))
    rng = np.random.default_rng(2)
    W0, a0 = rng.normal(size=(8, 2)), rng.normal(size=8)
    c0 = a0 ** 2 - (W0 ** 2).sum(1)
    drift = {}
    for dt in (0.02, 0.01):
        tr = integrate(P, W0, a0, [10.0], dt=dt, method="euler")
        c = tr.a[-1] ** 2 - (tr.W[-1] ** 2).sum(1)
        drift[dt] = np.max(np.abs(c - c0)) / np.max(tr.a[-1] ** 2 + (tr.W[-1] ** 2).sum(1))
    assert 1.7 < drift[0.02] / drift[0.01] < 2.3  # Euler: O(dt), the flow conserves it


def test_full_training_approaches_reduced_flow_as_eps_shrinks():
    """Neuron by neuron, at half the escape time, training and the reduced system (Euler with
    GD's own steps) differ by an angle that shrinks as eps does (the neglected terms are
    O(|f|) ~ eps^2 e^{2 lam t})."""
    P = Problem.from_arrays(*make_dataset("generic:n=16"))
    worst = []
    for eps in (1e-4, 1e-8, 1e-12):
        W0, a0 = init_weights("small_a", 32, 2, eps, seed=1)
        run = train(P, W0, a0, adaptive=True, eta=0.1, lr_max=1.0, until_escape=True,
                    record="every:1")
        red = euler_steps(P, W0.numpy(), a0.numpy(), np.diff(run.times))
        k = int(np.searchsorted(run.times, run.escape_time / 2))
        ang = angle_deg(directions(run.W_traj[k]), directions(red.W[k]))
        worst.append(ang.max())
    # at t*/2, |f| ~ eps·sqrt(level): 4 decades of eps give about 4 decades of error
    assert worst[0] > 1e3 * worst[1] > 1e6 * worst[2], worst
    # and the comparison can fail: the reduced flow from a rotated start disagrees
    W0, a0 = init_weights("small_a", 32, 2, 1e-8, seed=1)
    run = train(P, W0, a0, lr=0.2, t_max=20.0)
    red = euler_steps(P, W0.numpy()[:, ::-1].copy(), a0.numpy(), np.diff(run.times))
    assert angle_deg(directions(run.W), directions(red.W[-1])).max() > 1.0


def test_bad_input():
    P = Problem.from_arrays(*make_dataset("generic"))
    with pytest.raises(InputError):
        integrate(P, np.zeros((2, 3)), np.zeros(2), [1.0], dt=0.1)
    with pytest.raises(InputError):
        integrate(P, np.zeros((2, 2)), np.zeros(2), [1.0], dt=0.0)
    with pytest.raises(InputError):
        integrate(P, np.zeros((2, 2)), np.zeros(2), [2.0, 1.0], dt=0.1)
    with pytest.raises(InputError):
        integrate(P, np.zeros((2, 2)), np.zeros(2), [1.0], dt=0.1, method="heun")
