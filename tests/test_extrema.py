"""Predicted extrema against independent checks: perturbations and dense sphere flows.

The checks here are written independently of theory.extrema/candidates/certificate: G is
evaluated directly from its definition, flows are plain projected gradient steps.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.extrema import Extremum, Prediction, predict
from theory.growth import escape_time, lambda_max, mass_share_exponents
from theory.problem import Problem

ACTS = ["relu", "leaky_relu:0.25", "abs", "linear", "tanh"]
LOSSES = ["logistic", "exponential", "square"]
SLOPE0 = {"tanh": 1.0}


def G_first_order(problem, U):
    """G from its definition; for smooth σ its leading order σ'(0)⟨w, v⟩."""
    U = np.atleast_2d(U)
    if problem.activation.piecewise_linear:
        g = float(problem.activation.gamma)
        Z = U @ problem.X.T
        return np.where(Z >= 0, Z, g * Z) @ problem.c / problem.n
    return SLOPE0[problem.activation.name] * (U @ (problem.c @ problem.X)) / problem.n


def perturbation_gain(problem, u, sign, rng, k=400):
    """Largest sign·(G(normalised u + t h) − G(u)) over random tangent h and small t.

    For a strict local extremum every gain is ≤ 0 up to float64 rounding of G (~1e-15·scale).
    "Local" means inside the star of u's face: t is capped at half the angular distance to the
    nearest kink hyperplane not through u (dense data put other faces within 1e-2 rad)."""
    d = len(u)
    H = rng.standard_normal((k, d))
    H -= (H @ u)[:, None] * u
    H /= np.linalg.norm(H, axis=1, keepdims=True)
    zx = np.abs(problem.X @ u) / np.maximum(np.linalg.norm(problem.X, axis=1), 1e-300)
    off = zx[zx > 1e-9]
    rho = float(off.min()) if off.size and problem.activation.piecewise_linear else 1.0
    best = -np.inf
    for t in (min(1e-2, rho / 2), min(1e-4, rho / 200), min(1e-6, rho / 20000)):
        P = u + t * H
        P /= np.linalg.norm(P, axis=1, keepdims=True)
        best = max(best, float(np.max(sign * (G_first_order(problem, P) - G_first_order(
            problem, u)))))
    return best


def flow_misses(problem, extrema, rng, starts=300, match=0.03):
    """End points of dense multi-start flows that no reported extremum of their sign explains.

    Starts with G > 0 ascend, with G < 0 descend (the sign a small-a neuron takes), by projected
    gradient steps of fixed length η (a re-timing of the flow) with η decaying from 0.05 to 1e-5
    rad over 3000 steps (total path 17 rad).
    An end point is explained if within ``match`` rad (>> final step) of an extremum of its sign.
    Returns the unexplained end points where G has grown (|G(end)| > |G(start)|)."""
    d = problem.d
    U = rng.standard_normal((starts, d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    G0 = G_first_order(problem, U)
    s = np.sign(G0)
    gam = float(problem.activation.gamma) if problem.activation.piecewise_linear else None
    for eta in 0.05 * (2e-4) ** (np.arange(3000) / 2999):
        if gam is not None:
            Z = U @ problem.X.T
            grad = (np.where(Z >= 0, 1.0, gam) * problem.c) @ problem.X / problem.n
        else:
            grad = np.broadcast_to(problem.c @ problem.X / problem.n, U.shape)
        grad = grad - np.sum(grad * U, axis=1, keepdims=True) * U
        ng = np.linalg.norm(grad, axis=1, keepdims=True)
        U = U + s[:, None] * eta * grad / np.maximum(ng, 1e-300)
        U /= np.linalg.norm(U, axis=1, keepdims=True)
    grew = s * G_first_order(problem, U) > s * G0
    ok = np.zeros(starts, dtype=bool)
    for e in extrema:
        ang = np.arccos(np.clip(U @ e.direction, -1, 1))
        ok |= (ang < match) & (s == e.sign)
    return U[grew & ~ok & (s != 0)]


@st.composite
def problems(draw):
    d = draw(st.integers(2, 4))
    n = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    act = draw(st.sampled_from(ACTS))
    loss = draw(st.sampled_from(LOSSES))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.choice([-1.0, 1.0], n) if loss != "square" else rng.standard_normal(n)
    return Problem.from_arrays(X, y, act, loss), seed


@settings(max_examples=30, deadline=None, derandomize=True)
@given(problems())
def test_predicted_extrema_survive_perturbation_and_flows(pp):
    problem, seed = pp
    rng = np.random.default_rng(seed + 1)
    pred = predict(problem, basins=False)
    if pred.degenerate:
        assert pred.extrema == [] and pred.lambda_max is None
        return
    assert pred.complete
    gscale = np.sum(np.abs(problem.c) * np.linalg.norm(problem.X, axis=1)) / problem.n
    for e in pred.extrema:
        assert abs(np.linalg.norm(e.direction) - 1) < 1e-12
        assert e.sign * e.G > 0 and e.growth_rate == pytest.approx(abs(e.G))
        assert G_first_order(problem, e.direction)[0] == pytest.approx(e.G, rel=1e-12,
                                                                       abs=1e-14 * gscale)
        # rounding of G in float64 is ~1e-16·gscale per term; 1e-12·gscale leaves room
        assert perturbation_gain(problem, e.direction, e.sign, rng) <= 1e-12 * gscale
    misses = flow_misses(problem, pred.extrema, rng)
    assert len(misses) == 0, f"flows ended at unreported points {misses[:3]}"


def test_checks_reject_wrong_predictions():
    """The perturbation check rejects a 1° rotation; the flow check notices a dropped extremum."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((9, 3))
    y = rng.choice([-1.0, 1.0], 9)
    p = Problem.from_arrays(X, y, "relu", "logistic")
    pred = predict(p, basins=False)
    e = pred.extrema[0]
    gscale = np.sum(np.abs(p.c) * np.linalg.norm(p.X, axis=1)) / p.n
    h = rng.standard_normal(3)
    h -= (h @ e.direction) * e.direction
    h /= np.linalg.norm(h)
    t = np.radians(1.0)
    u_rot = np.cos(t) * e.direction + np.sin(t) * h
    assert perturbation_gain(p, e.direction, e.sign, rng) <= 1e-12 * gscale
    assert perturbation_gain(p, u_rot, e.sign, rng) > 1e-6 * gscale
    assert perturbation_gain(p, e.direction, -e.sign, rng) > 1e-6 * gscale  # flipped sign
    assert len(flow_misses(p, pred.extrema, rng)) == 0
    assert len(flow_misses(p, pred.extrema[1:], rng)) > 0


def test_xor2_growth_rates_and_sorting():
    # symmetric XOR, μ = 1: G = (|u2| − |u1|)/8, maxima ±e2 and minima ±e1, λ = 1/8
    X = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    p = Problem.from_arrays(X, [-1, -1, 1, 1], "relu", "logistic")
    pred = predict(p, basins=False)
    assert pred.method == "arcs-2d"
    dirs = [tuple(np.round(e.direction, 12)) for e in pred.extrema]
    assert dirs == [(0, -1), (0, 1), (-1, 0), (1, 0)]
    assert [e.sign for e in pred.extrema] == [1, 1, -1, -1]
    assert lambda_max(pred) == pytest.approx(1 / 8, rel=1e-15)
    assert mass_share_exponents(pred) == [0.0] * 4
    assert escape_time(1e-6, 1 / 8) == pytest.approx(8 * np.log(1e6), rel=1e-15)


def test_mass_share_exponent_values():
    ex = [Extremum(np.array([1.0, 0]), 1, 0.2, 0.2, "smooth", None, None),
          Extremum(np.array([0.0, 1]), -1, -0.1, 0.1, "smooth", None, None)]
    pr = Prediction(ex, 0.2, False)
    assert mass_share_exponents(pr) == pytest.approx([0.0, 1.0], abs=1e-15)


def test_smooth_linear_and_degenerate():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 3))
    y = rng.choice([-1.0, 1.0], 7)
    v = (y / 2) @ X / 7
    for act in ("tanh", "linear"):
        pred = predict(Problem.from_arrays(X, y, act, "logistic"), basins=False)
        assert [e.sign for e in pred.extrema] == [1, -1]
        assert np.allclose(pred.extrema[0].direction, v / np.linalg.norm(v), atol=1e-15)
        assert pred.lambda_max == pytest.approx(np.linalg.norm(v), rel=1e-14)
    # each point with both labels: G ≡ 0
    Xd = np.concatenate([X, X])
    yd = np.concatenate([np.ones(7), -np.ones(7)])
    for act in ("relu", "abs", "tanh"):
        pred = predict(Problem.from_arrays(Xd, yd, act, "logistic"))
        assert pred.degenerate and pred.extrema == [] and pred.lambda_max is None
    # tanh with v = 0 but a nonzero G for relu
    Xs = np.array([[1.0, 0], [-1, 0]])
    pred = predict(Problem.from_arrays(Xs, [1, 1], "tanh", "logistic"))
    assert pred.degenerate and pred.extrema == []
    assert not predict(Problem.from_arrays(Xs, [1, 1], "relu", "logistic")).degenerate


def test_rank_deficient_data_and_search_agree():
    rng = np.random.default_rng(3)
    # data in a plane of R^3: extrema lie in the plane
    B = np.linalg.qr(rng.standard_normal((3, 2)))[0]
    X = rng.standard_normal((10, 2)) @ B.T
    y = rng.choice([-1.0, 1.0], 10)
    pred = predict(Problem.from_arrays(X, y, "relu", "logistic"), basins=False)
    assert pred.extrema
    for e in pred.extrema:
        assert np.linalg.norm(e.direction - B @ (B.T @ e.direction)) < 1e-12
    # search (incomplete) finds a subset of the enumerated extrema, and here all of them
    X = rng.standard_normal((12, 4))
    y = rng.choice([-1.0, 1.0], 12)
    p = Problem.from_arrays(X, y, "leaky_relu:0.1", "logistic")
    full = predict(p, basins=False)
    srch = predict(p, basins=False, search_starts=400)
    assert srch.method == "search" and not srch.complete and full.complete
    key = {(e.sign, tuple(np.round(e.direction, 9))) for e in full.extrema}
    skey = {(e.sign, tuple(np.round(e.direction, 9))) for e in srch.extrema}
    assert skey <= key and len(skey) == len(key)


def test_json_round_trip_and_claim_validation():
    from theory.errors import InputError

    X = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    pred = predict(Problem.from_arrays(X, [-1, -1, 1, 1]), basins=True, basin_samples=200)
    obj = pred.to_json()
    back = Prediction.from_json(obj)
    # from_json parses the claim schema; "established"/"evidence" are output-only so far
    claim_keys = ("direction", "sign", "G", "growth_rate", "kind", "basin_fraction", "exact")
    assert [{k: e.to_json()[k] for k in claim_keys} for e in back.extrema] == \
        [{k: e[k] for k in claim_keys} for e in obj["extrema"]]
    assert all(e["established"] == "certified" for e in obj["extrema"])
    for bad in ({}, {"extrema": [{"direction": [1, 0]}]},
                {"extrema": [{"direction": [0, 0], "sign": 1}]},
                {"extrema": [{"direction": [1, 0], "sign": 2}]},
                {"extrema": [{"direction": [1, 0], "sign": 1, "G": -0.1}]},
                {"extrema": [{"direction": [1, 0], "sign": 1}, {"direction": [1, 0, 0],
                                                                "sign": 1}]}):
        with pytest.raises(InputError):
            Prediction.from_json(bad)


def test_same_seed_same_result():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((15, 3))
    p = Problem.from_arrays(X, rng.choice([-1.0, 1.0], 15))
    a = predict(p, basin_samples=300, seed=4).to_json()
    b = predict(p, basin_samples=300, seed=4).to_json()
    assert a == b


def test_default_enumeration_is_exhaustive_in_five_dimensions():
    """d = 5, n = 24 (C(24, 4)·2·3⁴ ≈ 1.7e6 face tests) is enumerated by default — complete and
    certified — and its extrema survive the independent checks of this file."""
    rng = np.random.default_rng(21)
    p = Problem.from_arrays(rng.standard_normal((24, 5)), rng.choice([-1.0, 1.0], 24))
    pred = predict(p, basins=False)
    assert pred.method == "vertex-enumeration" and pred.complete and pred.coverage is None
    assert pred.extrema and all(e.established == "certified" for e in pred.extrema)
    gscale = np.sum(np.abs(p.c) * np.linalg.norm(p.X, axis=1)) / p.n
    for e in pred.extrema:
        # as above: float64 rounding of G is ~1e-16·gscale per term
        assert perturbation_gain(p, e.direction, e.sign, rng) <= 1e-12 * gscale
    assert not len(flow_misses(p, pred.extrema, rng, starts=100))
