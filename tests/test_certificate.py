"""Exact face certificate (theory.certificate) and exact-mode predictions."""

import numpy as np
import pytest
import sympy as sp

from theory.certificate import certify
from theory.errors import InputError
from theory.extrema import predict
from theory.problem import Problem


def xor3():
    """Clusters ±e1, ±e3 labelled +1 and ±e2 labelled −1 (3-D XOR), integer data (exact)."""
    X = np.array([[1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1], [0, 1, 0], [0, -1, 0]])
    y = np.array([1, 1, 1, 1, -1, -1])
    return Problem.from_arrays(X.astype(object), y.astype(object), "relu", "logistic")


def rot(u, axis_from, axis_to, deg):
    """Rotate u by deg degrees in the plane of two coordinate axes."""
    t = np.radians(deg)
    R = np.eye(len(u))
    R[axis_from, axis_from] = R[axis_to, axis_to] = np.cos(t)
    R[axis_from, axis_to], R[axis_to, axis_from] = -np.sin(t), np.sin(t)
    return R @ u


def test_xor3_exact_prediction():
    # G(u) = (|u1| + |u3| − |u2|)/12: maxima (±1, 0, ±1)/√2 with G = √2/12; minima ±e2, G = −1/12.
    pred = predict(xor3(), exact=True, basins=False)
    assert pred.complete and not pred.degenerate
    pos, neg = pred.of_sign(1), pred.of_sign(-1)
    r = sp.sqrt(2) / 2
    want_pos = {(a * r, sp.Integer(0), b * r) for a in (1, -1) for b in (1, -1)}
    got_pos = {tuple(sp.simplify(v) for v in e.exact_direction()) for e in pos}
    assert got_pos == want_pos
    for e in pos:
        assert sp.simplify(e.exact_G() - sp.sqrt(2) / 12) == 0
        assert e.kind == "kink" and e.zero_set == (4, 5)
    got_neg = {tuple(e.exact_direction()) for e in neg}
    assert got_neg == {(0, 1, 0), (0, -1, 0)}
    for e in neg:
        assert e.exact_G() == sp.Rational(-1, 12)
    assert pred.lambda_max == pytest.approx(np.sqrt(2) / 12, rel=1e-15)  # float64 rounding


def test_true_extremum_passes_rotated_and_flipped_fail():
    p = xor3()
    u = np.array([1.0, 0.0, 1.0]) / np.sqrt(2)
    ok = certify(p, u, 1)
    assert ok.passed and ok.G_exact == sp.sqrt(2) / 12
    # 1 degree rotations: inside the face (e1–e3 plane) and off the kink (towards e2)
    assert not certify(p, rot(u, 0, 2, 1.0), 1).passed
    assert not certify(p, rot(u, 1, 0, 1.0), 1).passed
    assert not certify(p, u, -1).passed  # flipped sign
    m = np.array([0.0, 1.0, 0.0])
    assert certify(p, m, -1).passed
    assert not certify(p, m, 1).passed
    assert not certify(p, rot(m, 1, 0, 1.0), -1).passed
    # a data direction that is not an extremum (saddle: G grows towards e3)
    assert not certify(p, [1.0, 0.0, 0.0], 1).passed


def test_exact_direction_input_and_algebraic_data():
    p = xor3()
    assert certify(p, [sp.sqrt(2) / 2, 0, sp.sqrt(2) / 2], 1).passed
    # algebraic data: points at 30° and 150° labelled +1, −e2 labelled −1 (square loss)
    X = sp.Matrix([[sp.sqrt(3), 1], [-sp.sqrt(3), 1], [0, -1]])
    q = Problem.from_arrays(X, [1, 1, -1], "relu", "square")
    cert = certify(q, [0, 1], 1)
    # on the face u2 > 0, |u1| < √3 u2: g = (1/3)(0, 2) so u = e2, G = 2/3
    assert cert.passed and cert.G_exact == sp.Rational(2, 3) and cert.kind == "smooth"
    # the faces P = {x1} and P = {x2} give maxima x1/|x1| and x2/|x2|, also with G = |x1|/3 = 2/3
    # (at 60°, between them, G = √3/3 < 2/3)
    pred = predict(q, exact=True, basins=False)
    h = sp.sqrt(3) / 2
    got = {tuple(sp.simplify(v) for v in e.exact_direction()) for e in pred.of_sign(1)}
    assert got == {(0, 1), (h, sp.Rational(1, 2)), (-h, sp.Rational(1, 2))}
    assert all(e.exact_G() == sp.Rational(2, 3) for e in pred.of_sign(1))


def test_degenerate_kinds():
    # orthogonal data: at e1, G = u1/4 for u2 < 0 — flat to first order on one side
    p = Problem.from_arrays(np.array([[1, 0], [0, 1]], dtype=object), np.array([1, -1],
                            dtype=object), "relu", "logistic")
    c = certify(p, [1.0, 0.0], 1)
    assert c.passed and c.kind == "degenerate"
    # three lines through the kink e3 in a 2-D S: dependent x_Z
    X = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [-1, -1, 0]], dtype=object)
    q = Problem.from_arrays(X, np.array([1, -1, -1, -1], dtype=object), "relu", "logistic")
    c = certify(q, [0.0, 0.0, 1.0], 1)
    assert c.passed and c.kind == "degenerate"
    # generic kink (independent lines, strict bounds) is "kink"
    assert certify(xor3(), [0.0, 1.0, 0.0], -1).kind == "kink"


def test_certify_bad_input():
    p = xor3()
    with pytest.raises(InputError):
        certify(p, [1.0, 0.0], 1)
    with pytest.raises(InputError):
        certify(p, [1.0, 0.0, 0.0], 0)
    with pytest.raises(InputError):
        certify(p, [0.0, 0.0, 0.0], 1)
    with pytest.raises(InputError):
        certify(p.with_(activation="tanh"), [1.0, 0.0, 0.0], 1)


def _ridge_problem(d, y_ridge, seed=0):
    """|z| activation, square loss: x_i = R e_i with R a random integer matrix; y_i = −y_ridge for
    i < d, y_d = 1.  G(u) = (|⟨Rᵀu, e_d⟩| − y_ridge Σ_{i<d} |⟨Rᵀu, e_i⟩|)/d, whose maxima are
    ±R^{-T} e_d/|·| when y_ridge is large: a kink where k = d − 1 hyperplanes meet."""
    rng = np.random.default_rng(seed)
    R = rng.integers(-3, 4, (d, d))
    while round(abs(np.linalg.det(R))) == 0:
        R = rng.integers(-3, 4, (d, d))
    X = R.T.astype(object)  # rows x_i = R e_i
    y = np.array([-y_ridge] * (d - 1) + [1], dtype=object)
    return Problem.from_arrays(X, y, "abs", "square"), R


def test_dual_basis_certifies_large_zero_sets_exactly():
    d = 41  # k = 40 hyperplanes through the extremum: one exact 40×40 solve
    p, R = _ridge_problem(d, 10**6)
    u = np.linalg.solve(R.T.astype(float), np.eye(d)[-1])  # ⟨u, R e_i⟩ = 0 for i < d
    u /= np.linalg.norm(u)
    c = certify(p, u, 1, tol_zero=1e-9)
    assert c.passed and c.established == "certified" and c.dim_S == d - 1 and c.kind == "kink"
    # G at the extremum: ⟨u, x_d⟩/d exactly (square loss c_i = y_i, n = d)
    assert c.G == pytest.approx(abs(u @ R.T[-1].astype(float)) / d, rel=1e-12)
    assert not certify(p, u, -1).passed
    # a weak ridge (|β_ℓ| beyond the slope y_ridge/n on some line): the same kink is rejected
    q, _ = _ridge_problem(d, 1)
    assert not certify(q, u, 1, tol_zero=1e-9).passed


def test_undecided_dependent_certificate_is_verified_not_dropped(monkeypatch):
    import theory.certificate as cert_mod
    from theory.extrema import predict as pred_fn

    X = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [-1, -1, 0]], dtype=object)
    q = Problem.from_arrays(X, np.array([1, -1, -1, -1], dtype=object), "relu", "logistic")
    full = pred_fn(q, basins=False)
    assert full.complete and all(e.established == "certified" for e in full.extrema)
    monkeypatch.setattr(cert_mod, "MAX_RAY_SUBSETS", 0)
    c = certify(q, [0.0, 0.0, 1.0], 1)
    assert not c.passed and c.undecided and "ray subsets" in c.reason
    part = pred_fn(q, basins=False)
    assert not part.complete and part.notes
    e3 = [e for e in part.extrema if np.allclose(e.direction, [0, 0, 1])]
    assert len(e3) == 1 and e3[0].established == "verified"
    ev = e3[0].evidence
    assert ev["tangent_directions"] >= 1000 and ev["confidence"] == 0.95
    assert ev["ascent_share_below"] == pytest.approx(np.log(20) / ev["tangent_directions"])
    # the same extrema, certified or verified
    key = {(e.sign, tuple(np.round(e.direction, 9))) for e in full.extrema}
    assert key == {(e.sign, tuple(np.round(e.direction, 9))) for e in part.extrema}


def test_float_verification_rejects_non_extrema():
    from theory.certificate import face_of
    from theory.verification import verify_face

    p = xor3()
    ok = verify_face(p, face_of(p, [1, 0, 1], 1e-9), 1)
    assert ok.passed and ok.established == "verified" and ok.G == pytest.approx(np.sqrt(2) / 12)
    assert not verify_face(p, face_of(p, [1, 0, 1], 1e-9), -1).passed  # flipped sign
    assert not verify_face(p, face_of(p, [1, 0, 0], 1e-9), 1).passed  # a saddle
