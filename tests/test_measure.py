"""Measurements: each on synthetic weights whose answer is known by construction, plus a wrong
prediction (rotated, sign-flipped, wrong rate) that must be rejected."""

import numpy as np
import pytest

from numerics.measure import (
    angle_deg,
    clusters,
    conservation_drift,
    directions,
    escape_time,
    growth_rates,
    mass,
    match,
)


def _rot(deg):
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def _weights(rng, dirs, sgns, m_each, jitter_deg):
    """Neurons near given directions with a = sign·|w| (scales spread over a decade)."""
    Ws, As = [], []
    for u, s in zip(dirs, sgns):
        for _ in range(m_each):
            v = _rot(rng.uniform(-jitter_deg, jitter_deg)) @ u
            r = 10 ** rng.uniform(0, 1)
            Ws.append(r * v)
            As.append(s * r)
    return np.array(Ws), np.array(As)


def test_basic_quantities():
    W = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]])
    a = np.array([0.0, 1.0, -1.0])
    assert np.allclose(directions(W), [[0.6, 0.8], [0, 0], [0, -1]])
    assert np.allclose(mass(W, a), np.array([25, 1, 5]) / 31)
    # tiny angles are resolved (arccos would give 0 or ~1e-6 here)
    u = np.array([1.0, 0.0])
    v = np.array([np.cos(1e-10), np.sin(1e-10)])
    assert angle_deg(u, v) == pytest.approx(np.degrees(1e-10), rel=1e-6)


def test_match_accepts_right_and_rejects_wrong_predictions():
    rng = np.random.default_rng(0)
    e1, e2 = np.eye(2)
    W, a = _weights(rng, [e2, -e2, e1, -e1], [1, 1, -1, -1], 25, jitter_deg=1.0)
    pred = [{"direction": e2, "sign": 1}, {"direction": -e2, "sign": 1},
            {"direction": e1, "sign": -1}, {"direction": -e1, "sign": -1}]
    res = match(W, a, pred, tau_deg=2.0)
    assert res.matched_mass == pytest.approx(1.0) and res.worst_angle_deg <= 1.0
    assert res.per_extremum_mass.sum() == pytest.approx(1.0)
    assert np.all(res.per_extremum_mass > 0.1)
    rotated = [dict(p, direction=_rot(5.0) @ p["direction"]) for p in pred]
    assert match(W, a, rotated, tau_deg=2.0).matched_mass < 1e-12
    flipped = [dict(p, sign=-p["sign"]) for p in pred]
    assert match(W, a, flipped, tau_deg=2.0).matched_mass == 0.0
    partial = pred[:2]  # the negative extrema missing: their mass is unmatched
    r2 = match(W, a, partial, tau_deg=2.0)
    assert 0.2 < r2.unmatched_mass < 0.8 and r2.worst_angle_deg == np.inf


def test_clusters_recover_groups_and_masses():
    rng = np.random.default_rng(1)
    dirs = [np.array([1.0, 0.0]), _rot(120) @ [1.0, 0.0]]
    W, a = _weights(rng, dirs, [1, -1], 30, jitter_deg=0.5)
    cen, sg, cm, lab = clusters(W, a, tau_deg=2.0)
    assert len(cen) == 2 and cm.sum() == pytest.approx(1.0)
    for c, s in zip(cen, sg):
        k = 0 if s == 1 else 1
        assert angle_deg(c, dirs[k]) < 0.5
    assert set(lab.tolist()) == {0, 1}
    # same directions with mixed signs split into sign-pure clusters
    a2 = a.copy()
    a2[::2] *= -1
    assert len(clusters(W, a2, tau_deg=2.0)[0]) == 4


def test_growth_rates_recovered_and_wrong_rate_rejected():
    t = np.linspace(0, 10, 21)
    rates = np.array([0.3, 0.1])
    groups = np.array([0, 0, 1])
    r0 = np.array([1.0, 2.0, 0.5])
    scale = np.exp(np.outer(t, rates[groups]))  # (T, m)
    W = (r0 * scale)[:, :, None] * np.array([0.6, 0.8])
    a = r0 * scale
    got = growth_rates(t, W, a, groups, window=(2.0, 10.0))
    assert np.allclose(got, rates, rtol=1e-12)  # exact exponentials: only rounding
    assert not np.allclose(got, rates * 1.03, rtol=1e-2)


def test_escape_time_interpolation_and_conservation_drift():
    t = np.arange(0.0, 12.0)
    rms = 1e-3 * np.exp(0.5 * t)  # reaches 0.1 at t = 2 log(100)
    assert escape_time(t, rms, 0.1) == pytest.approx(2 * np.log(100), rel=1e-12)
    assert np.isnan(escape_time(t, rms, 1e6))
    rng = np.random.default_rng(2)
    W0 = rng.normal(size=(5, 2))
    a0 = rng.normal(size=5)
    c = a0 ** 2 - (W0 ** 2).sum(1)
    # a hyperbolic rotation keeps a^2 - |w|^2: drift 0 to rounding
    ch, sh = np.cosh(0.7), np.sinh(0.7)
    u = directions(W0)
    r = np.linalg.norm(W0, axis=1)
    r1, a1 = ch * r + sh * a0, sh * r + ch * a0
    Wt = np.stack([W0, r1[:, None] * u])
    at = np.stack([a0, a1])
    assert conservation_drift(Wt, at)[-1] < 1e-14
    at_bad = at.copy()
    at_bad[1] *= 1.01
    assert conservation_drift(Wt, at_bad)[-1] > 1e-3
    assert np.allclose(at[1] ** 2 - (Wt[1] ** 2).sum(1), c)
