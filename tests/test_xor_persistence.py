"""theory.xor_persistence: the XOR family's persistence conditions, derived by sympy from the
face certificate, against the package's exact numeric certificate at sampled residuals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from theory.certificate import certify
from theory.later_phase import weighted_problem
from theory.problem import Problem
from theory.xor import ALPHA, MU
from theory.xor_persistence import (
    RHO,
    cluster_rho,
    departure,
    first_crossing,
    persistence_conditions,
)
from verify.later_theory import planted_later

PE1, ME1, PV, MV = RHO


def _by_label(conds):
    return {c.label: c for c in conds}


def test_relu_conditions_are_the_hand_derived_ones():
    """max at ±e2: ρ(±e1) > ρ(±v) cos α; min at α ∓ π/2: ρ(±v) > ρ(±e1) cos α (times μ/4)."""
    c = _by_label(persistence_conditions())
    want = {"max at theta = pi/2": MU * (PE1 - PV * sp.cos(ALPHA)) / 4,
            "max at theta = -pi/2": MU * (ME1 - MV * sp.cos(ALPHA)) / 4,
            "min at theta = alpha - pi/2": MU * (PV - PE1 * sp.cos(ALPHA)) / 4,
            "min at theta = alpha + pi/2": MU * (MV - ME1 * sp.cos(ALPHA)) / 4}
    assert set(c) == set(want)
    for label, expr in want.items():
        assert len(c[label].margins) == 1
        assert sp.simplify(c[label].margins[0] - expr) == 0
        assert c[label].zero_set in (("+e1", "-e1"), ("+v", "-v"))


def test_symmetric_xor_conditions_never_fail():
    conds = persistence_conditions(math.pi / 2)
    assert all(not c.margins for c in conds)
    assert all(c.margin(math.pi / 2, 1.0, [1e-3, 1.0, 1.0, 1e-3]) == math.inf for c in conds)


def _xor4(alpha, mu):
    v = np.array([math.cos(alpha), math.sin(alpha)])
    # in the order of theory.xor_persistence.NAMES: +e1, −e1, +v, −v
    X = np.array([[mu, 0.0], [-mu, 0.0], mu * v, -mu * v])
    return X, np.array([-1.0, -1.0, 1.0, 1.0])


@pytest.mark.parametrize("act", ["relu",
                                 pytest.param("leaky_relu:0.1", marks=pytest.mark.slow),
                                 pytest.param("abs", marks=pytest.mark.slow)])
def test_conditions_match_the_numeric_certificate(act):
    """At random α, μ and residuals, the kink is certified (exact arithmetic on the weighted
    4-point problem) exactly when every closed-form condition holds.  (Leaky ReLU and |z|
    are slow only because their early-phase XOR closed forms are derived first, ~40 s.)"""
    rng = np.random.default_rng(7)
    conds = persistence_conditions(None, act)
    seen = {True: 0, False: 0}
    for _ in range(40):
        alpha = float(rng.uniform(0.15, math.pi / 2 - 0.05))
        mu = float(rng.uniform(0.5, 2.0))
        rho = rng.uniform(0.01, 1.0, size=4)
        X, y = _xor4(alpha, mu)
        q = weighted_problem(Problem.from_arrays(X, y, act, "logistic"), y * rho)
        for c in conds:
            m = c.margin(alpha, mu, rho)
            vals = [c.evaluate(e, alpha, mu, rho) for e in (c.value, *c.slopes)]
            if min(abs(v) for v in vals) < 1e-9:
                continue  # on a boundary: float rounding of the data decides, skip
            cert = certify(q, c.direction(alpha), c.sign)
            assert cert.passed == (m > 0), (c.label, alpha, mu, rho, cert.reason)
            seen[cert.passed] += 1
    assert seen[True] > 10 and seen[False] > 10  # both outcomes were exercised


def test_planted_conditions_differ():
    a, mu, rho = 1.0, 1.0, [0.5, 0.5, 0.3, 0.3]
    good = _by_label(persistence_conditions())["min at theta = alpha - pi/2"]
    cos2 = _by_label(planted_later("xor_cos_2alpha").later.persistence())[good.label]
    swap = _by_label(planted_later("xor_swap_residuals").later.persistence())[good.label]
    assert good.margin(a, mu, rho) == pytest.approx((0.3 - 0.5 * math.cos(1.0)) / 4)
    assert cos2.margin(a, mu, rho) == pytest.approx((0.3 - 0.5 * math.cos(2.0)) / 4)
    assert swap.margin(a, mu, rho) == pytest.approx((0.5 - 0.3 * math.cos(1.0)) / 4)


def test_departure_solves_the_linear_ode():
    """Constant coefficients: x(t) = x* + (x0 − x*) e^{−ωv(t − t_f)}, x* = −m/v."""
    t = np.linspace(0, 10, 21)
    m, v, w, tf, x0 = -0.02, 0.1, 0.9, 2.5, 0.003
    x = departure(t, np.full_like(t, m), np.full_like(t, v), np.full_like(t, w), tf, x0)
    xs = -m / v
    want = np.where(t > tf, xs + (x0 - xs) * np.exp(-w * v * (t - tf)), 0.0)
    np.testing.assert_allclose(x, want, rtol=1e-12, atol=1e-15)
    # v = 0: a constant drift −ωm
    x = departure(t, np.full_like(t, m), np.zeros_like(t), np.full_like(t, w), tf, 0.0)
    np.testing.assert_allclose(x[t > tf], -w * m * (t[t > tf] - tf), rtol=1e-12)


def test_first_crossing_interpolates():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    assert first_crossing(t, [2.0, 1.0, -1.0, -2.0]) == pytest.approx(1.5)
    assert first_crossing(t, [2.0, 1.0, 0.5, 0.1]) is None
    assert first_crossing(t, [-1.0, 1.0, -1.0, 1.0], start=0.5) == pytest.approx(1.5)


def test_cluster_rho_averages_each_cluster():
    from numerics.datasets import skewed_xor

    X, y = skewed_xor(n=64, alpha=1.0, sigma=0.1, delta=0.2, seed=2)
    r = np.where(y > 0, 0.25, -0.75) * (1 + 0.0 * X[:, 0])
    np.testing.assert_allclose(cluster_rho(X, r, 1.0), [0.75, 0.75, 0.25, 0.25])
    # the four clusters get equal counts (16 points each)
    v = np.array([math.cos(1.0), math.sin(1.0)])
    k = np.argmax(X @ np.array([[1, 0], [-1, 0], v, -v]).T, axis=1)
    assert np.bincount(k).tolist() == [16, 16, 16, 16]
