"""Basins of the extremal directions under the reduced early-phase flow (DESIGN §2).

With w = r u and ρ = a/r the early-phase system closes in (u, ρ):

    u' = ρ (I − u uᵀ) ∇G(u),        ρ' = G(u) (1 − ρ²).

Initialisation ``"small_a"`` (|a| ≪ |w|): ρ(0) = 0, so ρ first takes the sign s of G(u(0)); while
ρ s > 0, u moves so that s·G(u) increases, hence s·G(u(t)) ≥ s·G(u(0)) > 0 and ρ never returns to
0.  ``"balanced"`` (|a| = |w|): ρ(0) = ±1 (random sign s) is a fixed point of the ρ equation.
In both cases u(t) follows the Riemannian gradient flow of s·G on the sphere, re-timed by |ρ| > 0,
and the re-timing does not change where it ends.  So the end point is computed from the flow of
s·G with normalised (unit-speed) explicit steps — again a re-timing — of length 0.01 rad (300 of
them: paths up to 3 rad; the Euler error on a path of length O(1) is O(0.01) rad, ~0.6°),
then steps decreasing to 1e-6 rad so that an end point settles on its kink.

A start whose G(u(0)) is 0 (e.g. the ReLU dead region, where G ≡ 0 is flat) does not move and
counts for no extremum; nor does an end point farther than ``match_angle`` from every extremum
of its sign.  Fractions therefore sum to ≤ 1.  Their sampling error is binomial:
sd = sqrt(p (1 − p) / K).
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

INITS = ("small_a", "balanced")


def leading_G(problem):
    """(G, ∇G) as vectorised numpy callables on (K, d) arrays: the exact G for piecewise-linear
    σ; the leading-order G(w) = σ'(0)⟨w, v⟩ for smooth σ."""
    act = problem.activation
    if act.piecewise_linear:
        cX = problem.c[:, None] * problem.X / problem.n
        gam = float(act.gamma)

        def grad(U):  # right derivative at a kink, like Problem.grad_G, written as two matmuls
            Z = U @ problem.X.T
            return (Z >= 0).astype(float) @ cX + gam * ((Z < 0).astype(float) @ cX)

        return problem.G, grad
    v = act.deriv0 * problem.v
    return (lambda U: U @ v), (lambda U: np.broadcast_to(v, U.shape))


def flow_end_points(problem, U0: np.ndarray, s: np.ndarray, *, flat_steps: int = 300,
                    decay_steps: int = 100) -> np.ndarray:
    """End points of the sphere flow of s·G from the rows of ``U0`` (s ∈ {−1, 0, +1} per row)."""
    _, grad = leading_G(problem)
    U = np.array(U0, dtype=float)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    s = np.asarray(s, dtype=float)[:, None]
    etas = np.concatenate([np.full(flat_steps, 1e-2),
                           1e-2 * (1e-4) ** (np.arange(1, decay_steps + 1) / decay_steps)])
    for eta in etas:
        gr = grad(U)
        tang = gr - np.sum(gr * U, axis=1, keepdims=True) * U
        nt = np.linalg.norm(tang, axis=1, keepdims=True)
        step = np.where(nt > 1e-300, tang / np.where(nt > 1e-300, nt, 1.0), 0.0)
        U = U + s * eta * step
        U /= np.linalg.norm(U, axis=1, keepdims=True)
    return U


def basin_fractions(problem, extrema, *, init: str = "small_a", samples: int = 2000,
                    seed: int = 0, match_angle: float = 0.05) -> tuple[list[float], float]:
    """Share of ``samples`` uniform random starting directions (seeded) whose flow ends within
    ``match_angle`` rad of each extremum with the matching sign, and the unassigned share.

    ``match_angle`` 0.05 rad (~2.9°) is five times the Euler step bound above and smaller than
    half the angle between any two extrema of the same sign on typical data; an end point is
    given to the nearest extremum of its sign."""
    if init not in INITS:
        raise InputError(f"unknown init {init!r}; known: {', '.join(INITS)}")
    samples = int(samples)
    if samples < 1:
        raise InputError(f"basin samples must be a positive integer, got {samples}")
    Gf, _ = leading_G(problem)
    rng = np.random.default_rng(seed)
    U0 = rng.standard_normal((samples, problem.d))
    U0 /= np.linalg.norm(U0, axis=1, keepdims=True)
    if init == "small_a":
        s = np.sign(Gf(U0))
    else:
        s = rng.choice([-1.0, 1.0], size=samples)
    U = flow_end_points(problem, U0, s)
    counts = np.zeros(len(extrema))
    if extrema:
        D = np.array([e.direction for e in extrema])
        sg = np.array([e.sign for e in extrema])
        ang = np.arccos(np.clip(U @ D.T, -1.0, 1.0))
        ang[s[:, None] != sg[None, :]] = np.inf
        best = np.argmin(ang, axis=1)
        hit = ang[np.arange(samples), best] <= match_angle
        np.add.at(counts, best[hit], 1)
    fr = (counts / samples).tolist()
    return fr, 1.0 - float(sum(fr))
