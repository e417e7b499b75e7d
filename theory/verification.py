"""Float64 verification of a face's candidate, for when the exact certificate is too large.

Labelled ``established = "verified"`` (never "certified").  For piecewise-linear σ the candidate
u of a face is a strict local maximum iff the directional derivative

    φ(h) = ⟨h, g⟩ + (1/n) Σ_{i∈Z} c_i σ(⟨h, x_i⟩)      (h tangent at u, |h| = 1)

is ≤ 0 for every h (minimum: ≥ 0), and u lies on its face.  This module checks, in float64:

* the face: ⟨u, x_i⟩ has the face's sign for every i ∉ Z, with a margin of 1e-9 |x_i|;
* ``directions`` uniform random tangent directions h: sign·φ(h) ≤ 1e-12·scale (float64
  rounding of a sum of n terms is ~1e-16·scale per term);
* ``perturbations`` actual values of G at normalised u + t h for t = 1e-2, 1e-4, 1e-6 times
  the angular distance to the nearest hyperplane not through u: G may not rise (fall).

What a pass means.  If the set of ascent directions is nonempty it is an open cone, taking a
share q > 0 of the tangent sphere; N uniform directions all miss it with probability (1 − q)^N.
So N passing directions give, at confidence 1 − δ, q < ln(1/δ)/N (the "rule of three": 3/N at
95 %).  Reported as ``evidence = {"tangent_directions": N, "perturbation_tests": M,
"confidence": 1 − δ, "ascent_share_below": ln(1/δ)/N}``.  A failed check is evidence against the
candidate, not a proof (float64).
"""

from __future__ import annotations

import math

import numpy as np

from .certificate import Certificate

DIRECTIONS = 2000
PERTURBATIONS = 200


def verify_face(problem, sv, sign: int, *, seed: int = 0, directions: int = DIRECTIONS,
                perturbations: int = PERTURBATIONS, confidence: float = 0.95) -> Certificate:
    """Float64 verification (module docstring) of the candidate of face ``sv`` (point sign
    vector) for the sign ``sign``; ``problem`` should be the float twin
    (``theory.scaling.rescaled``) so that every number is of size about 1."""
    X, c, n = problem.X, problem.c, problem.n
    gam = float(problem.activation.gamma)
    sv = np.asarray(sv).astype(int)
    norms = np.linalg.norm(X, axis=1)
    nz = norms > 0
    Zm = (sv == 0) & nz
    zs = tuple(int(i) for i in np.nonzero(Zm)[0])
    w = np.where(sv > 0, 1.0, np.where(sv < 0, gam, 0.0)) * c * nz
    g = w @ X / n
    if zs:
        Q = np.linalg.qr(X[Zm].T)[0]
        rank = int(np.linalg.matrix_rank(X[Zm]))
        Q = Q[:, :rank]
        pg = g - Q @ (Q.T @ g)
    else:
        Q, rank, pg = np.zeros((X.shape[1], 0)), 0, g
    scale = float(np.sum(np.abs(c) * norms) / n * max(1.0, abs(gam))) or 1.0
    tol = 1e-12 * scale
    npg = float(np.linalg.norm(pg))
    kind = "smooth" if not zs else ("degenerate" if len({tuple(np.round(
        X[i] / norms[i] * np.sign(X[i][np.argmax(np.abs(X[i]))]), 12)) for i in zs}) > rank
        else "kink")
    if npg <= tol:
        return Certificate(False, "Π g = 0 on this face (float64)", "degenerate", zs,
                           established="verified")
    u = sign * pg / npg
    z = X @ u
    off = nz & (sv != 0)
    if np.any(np.sign(z[off]) != sv[off]) or np.any(np.abs(z[off]) <= 1e-9 * norms[off]):
        return Certificate(False, "candidate is not inside its face (float64)", kind, zs,
                           established="verified")
    rng = np.random.default_rng(seed)
    H = rng.standard_normal((directions, X.shape[1]))
    H -= np.outer(H @ u, u)
    H /= np.linalg.norm(H, axis=1, keepdims=True)
    zh = H @ X[Zm].T if zs else np.zeros((directions, 0))
    phi = H @ g + (np.where(zh >= 0, zh, gam * zh) @ c[Zm]) / n
    if np.max(sign * phi) > tol:
        return Certificate(False, "a tangent direction of ascent (float64)", kind, zs,
                           established="verified")
    rho = float(np.min(np.abs(z[off]) / norms[off])) if off.any() else 1.0
    Hp = H[:perturbations]
    Gu = float(problem.G(u[None])[0])
    for t in (1e-2, 1e-4, 1e-6):
        P = u + (t * min(1.0, rho)) * Hp
        P /= np.linalg.norm(P, axis=1, keepdims=True)
        if np.max(sign * (problem.G(P) - Gu)) > tol:
            return Certificate(False, "a perturbation raises G (float64)", kind, zs,
                               established="verified")
    delta = 1.0 - confidence
    ev = {"tangent_directions": int(directions), "perturbation_tests": 3 * len(Hp),
          "confidence": float(confidence),
          "ascent_share_below": math.log(1.0 / delta) / directions}
    return Certificate(True, f"verified in float64: {directions} tangent directions and "
                       f"{3 * len(Hp)} perturbations passed", kind, zs, direction=u, G=sign * npg,
                       established="verified", evidence=ev, dim_S=rank)
