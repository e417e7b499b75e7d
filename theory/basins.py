"""Basins of the extremal directions under the reduced early-phase flow (docs/theory.md, "Basins").

With w = r u and ρ = a/r the early-phase system closes in (u, ρ):

    u' = ρ (I − u uᵀ) ∇G(u),        ρ' = G(u) (1 − ρ²).

Initialisation ``"small_a"`` (|a| ≪ |w|): ρ(0) = 0, so ρ first takes the sign s of G(u(0)); while
ρ s > 0, u moves so that s·G(u) increases, hence s·G(u(t)) ≥ s·G(u(0)) > 0 and ρ never returns to
0.  ``"balanced"`` (|a| = |w|): ρ(0) = ±1 (random sign s) is a fixed point of the ρ equation.
In both cases u(t) follows the Riemannian gradient flow of s·G on the sphere, re-timed by |ρ| > 0,
and the re-timing does not change where it ends.

Kinks and re-timing.  Where the flow slides along a kink hyperplane (a Filippov sliding mode),
the sliding direction is the convex combination of the two one-sided fields whose normal part
vanishes.  A re-timing that jumps across the kink (e.g. normalising each step by the one-sided
gradient's length) changes that combination, and so the path: it is not used here.

* d = 2 (exact up to a grid of 2^16 angles): the flow is one-dimensional, so a start ascends
  (s = +1) to the first local maximum of G(θ) uphill of it; on the grid every angle points to
  its higher neighbour and pointer jumping finds where it ends.  Sampling error: none; grid
  error ≤ 2 cells (1e-4) per basin boundary.
* d ≥ 3: ``samples`` seeded uniform starts, explicit Euler steps ``u ← u + s·dt (I − uuᵀ)∇G(u)``
  with ``dt = h/R`` the same for every sample and every step, R the 90th percentile of the
  samples' initial speeds |(I − uuᵀ)∇G(u)|: a constant re-timing, which cannot depend on the
  side of a kink a sample is on; typical steps move about h rad.  Samples that
  have not arrived then get a second pass, each at its own constant scale (its speed where it
  stopped): again a pure re-timing of its path.  Known limit: on kink-dense data the
  discretised sliding can still send a few % of the starts to a different extremum than
  training does (seen: 16 % predicted against 12 % trained for one pair of extrema); the
  verify suite checks basin fractions against training in 2-D only.  h = 0.05 rad for
  ``flat_steps`` steps, then decaying geometrically to 2e-5 rad so that an end point settles on
  its kink.  Starts that have not arrived by then (slow paths near saddles) count for no
  extremum.  Sampling error: binomial, sd = sqrt(p (1 − p) / K).

A start whose G(u(0)) is 0 (e.g. the ReLU dead region, where G ≡ 0 is flat) does not move and
counts for no extremum; nor does an end point farther than ``match_angle`` from every extremum
of its sign.  Fractions therefore sum to ≤ 1.
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

        def grad(U):  # σ'(0) = γ at a kink, like Problem.grad_G, written as two matmuls
            Z = U @ problem.X.T
            return (Z > 0).astype(float) @ cX + gam * ((Z <= 0).astype(float) @ cX)

        return problem.G, grad
    v = act.deriv0 * problem.v
    return (lambda U: U @ v), (lambda U: np.broadcast_to(v, U.shape))


def gradient_bound(problem) -> float:
    """R ≥ |∇G(u)| on the sphere: (1/n) Σ |c_i||x_i| · max(1, |γ|) (|σ'| ≤ max(1, |γ|)); for
    smooth σ the leading-order |σ'(0) v|."""
    act = problem.activation
    if not act.piecewise_linear:
        return float(abs(act.deriv0) * np.linalg.norm(problem.v)) or 1.0
    return problem.G_rate_bound


def flow_end_points(problem, U0: np.ndarray, s: np.ndarray, *, flat_steps: int = 3000,
                    decay_steps: int = 300, per_sample: bool = False) -> np.ndarray:
    """End points of the sphere flow of s·G from the rows of ``U0`` (s ∈ {−1, 0, +1} per row):
    Euler steps with a re-timing that no sample's kink crossing can change (module docstring).
    ``per_sample``: each sample keeps its own constant scale, its speed at the start."""
    _, grad = leading_G(problem)
    U = np.array(U0, dtype=float)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    s = np.asarray(s, dtype=float)[:, None]
    R = gradient_bound(problem)
    hs = np.concatenate([np.full(flat_steps, 5e-2),
                         5e-2 * (4e-4) ** (np.arange(1, decay_steps + 1) / decay_steps)])
    for k, h in enumerate(hs):
        gr = grad(U)
        tang = gr - np.sum(gr * U, axis=1, keepdims=True) * U
        if k == 0:  # constant scales, fixed at the start: a pure re-timing of each path
            nt = np.linalg.norm(tang, axis=1, keepdims=True)
            if per_sample:  # each sample its own speed (floored: a sample at rest stays put)
                R = np.where(nt > 1e-9 * R, nt, np.inf)
            elif np.any(nt > 0):  # one scale for all: the 90th percentile of the speeds
                R = float(np.quantile(nt[nt > 0], 0.9))
        U = U + s * (h / R) * tang
        U /= np.linalg.norm(U, axis=1, keepdims=True)
    return U


GRID_2D = 2**16


def _basins_circle(problem, extrema, init: str) -> list[float]:
    """Exact (to the grid) basin fractions for d = 2 (module docstring)."""
    Gf, _ = leading_G(problem)
    N = GRID_2D
    th = 2 * np.pi * np.arange(N) / N
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    g = np.concatenate([Gf(U[k:k + 4096]) for k in range(0, N, 4096)])  # bounded memory
    idx = np.arange(N)
    fr = np.zeros(len(extrema))
    for sign in (1, -1):
        h = sign * g
        left, right = np.roll(idx, 1), np.roll(idx, -1)
        # each angle points to its strictly higher neighbour (the higher of the two), else itself
        nxt = np.where(h[right] > h[left], right, left)
        ptr = np.where(h[nxt] > h, nxt, idx)
        for _ in range(int(np.ceil(np.log2(N))) + 1):
            ptr = ptr[ptr]
        end = th[ptr]
        start_ok = h > 0 if init == "small_a" else np.ones(N, dtype=bool)
        weight = 1.0 / N if init == "small_a" else 0.5 / N
        for k, e in enumerate(extrema):
            if e.sign != sign:
                continue
            ang = np.arctan2(e.direction[1], e.direction[0])
            dist = np.abs((end - ang + np.pi) % (2 * np.pi) - np.pi)
            fr[k] += weight * np.sum(start_ok & (dist <= 3 * 2 * np.pi / N))
    return fr.tolist()


def basin_fractions(problem, extrema, *, init: str = "small_a", samples: int = 2000,
                    seed: int = 0, match_angle: float = 0.05) -> tuple[list[float], float]:
    """Share of ``samples`` uniform random starting directions (seeded) whose flow ends within
    ``match_angle`` rad of each extremum with the matching sign, and the unassigned share.

    For d = 2 the fractions are exact to a grid of 2^16 angles and ``samples``/``seed`` play no
    role.  ``match_angle`` 0.05 rad (~2.9°) is 2.5 times the largest Euler step and smaller than
    half the angle between any two extrema of the same sign on typical data; an end point is
    given to the nearest extremum of its sign."""
    if init not in INITS:
        raise InputError(f"unknown init {init!r}; known: {', '.join(INITS)}")
    samples = int(samples)
    if samples < 1:
        raise InputError(f"basin samples must be a positive integer, got {samples}")
    if problem.d == 2 and extrema:
        fr = _basins_circle(problem, extrema, init)
        return fr, 1.0 - float(sum(fr))
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

        def nearest(V, sv):
            ang = np.arccos(np.clip(V @ D.T, -1.0, 1.0))
            ang[sv[:, None] != sg[None, :]] = np.inf
            best = np.argmin(ang, axis=1)
            return best, ang[np.arange(len(V)), best] <= match_angle

        best, hit = nearest(U, s)
        # starts whose speed was far below the common scale have not arrived: a second pass
        # from where they stopped, each at its own constant scale (a re-timing, see above)
        late = ~hit & (s != 0)
        if late.any():
            U[late] = flow_end_points(problem, U[late], s[late], flat_steps=2000,
                                      per_sample=True)
            best, hit = nearest(U, s)
        np.add.at(counts, best[hit], 1)
    fr = (counts / samples).tolist()
    return fr, 1.0 - float(sum(fr))


def basin_margins_2d(problem, extrema) -> list[float]:
    """d = 2: for each extremum, the angle (rad) from it to the nearest edge of its basin under
    the flow of s·G on the circle (exact to the grid of :func:`basin_fractions`, 2π/2^16).

    The basin of an extremum on the circle is the arc of starts that ascend (s = +1) or descend
    (s = −1) to it; its edges are the neighbouring critical points of the other kind.  A
    discrete step longer than this margin can carry a neuron over the edge into the
    neighbouring basin, so it bounds the step at which gradient descent resolves the basins."""
    if problem.d != 2:
        raise InputError("basin margins are computed on the circle: d = 2 only")
    Gf, _ = leading_G(problem)
    N = GRID_2D
    th = 2 * np.pi * np.arange(N) / N
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    g = np.concatenate([Gf(U[k:k + 4096]) for k in range(0, N, 4096)])
    idx = np.arange(N)
    out = []
    for e in extrema:
        h = e.sign * g
        left, right = np.roll(idx, 1), np.roll(idx, -1)
        nxt = np.where(h[right] > h[left], right, left)
        ptr = np.where(h[nxt] > h, nxt, idx)
        for _ in range(int(np.ceil(np.log2(N))) + 1):
            ptr = ptr[ptr]
        k0 = int(np.round(np.arctan2(e.direction[1], e.direction[0]) % (2 * np.pi)
                          / (2 * np.pi) * N)) % N
        target = ptr[k0]
        inside = ptr == target
        if inside.all():
            out.append(np.pi)
            continue
        # walk from k0 to both sides until the basin ends
        steps_r = int(np.argmin(np.roll(inside, -k0)))
        steps_l = int(np.argmin(np.roll(inside[::-1], k0 + 1)))
        out.append(2 * np.pi / N * max(min(steps_r, steps_l) - 1, 0))
    return out
