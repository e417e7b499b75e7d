"""Probes: small balanced networks started next to given directions, trained in the early phase.

A probe answers, by real training, two questions about one direction u of sign s:

* **is u an attractor?**  ``neurons`` hidden units start at angle ``radius`` from u (random
  tangent directions), with ``a = s|w|`` (balanced: ``a² − |w|² = 0`` is conserved, so every
  neuron's angular speed factor ``|a|/|w|`` is 1 from the first step).  For 1-homogeneous σ the
  early-phase flow of a balanced neuron is the Riemannian gradient flow of s·G on the sphere.
  Near a *smooth* extremum G(u) = λ cos θ on its face, so θ' = −λ sin θ: the angle decays like
  ``e^{−λt}``.  Near a *kink* extremum G(u* + th) = G* + t φ(h) exactly for small t, so the
  components across the kink hyperplanes shrink at a constant speed (the slope of φ, reached in
  finite time) and the components along them (an edge) decay like ``e^{−λt}``.  A probe run for
  ``duration`` = C/λ (C = 8: ``e^{−4} < 2 %`` of the start radius is left at half-time, where
  the rate fit starts) has arrived unless the kink's slope is tiny.
* **how fast does it grow?**  For a balanced neuron at an extremum ``r' = a λ``, ``a' = r λ``:
  explicit Euler multiplies its norm by exactly ``1 + λ dt`` per step, so the *Euler-consistent*
  rate λ̂ solving ``Σ_j log(1 + λ̂ dt_j) = Δ log |θ|`` over the fit window is exact on a smooth
  face (no ``η/2`` bias).  At a kink, gradient descent chatters across the kink hyperplane in a
  band about one step wide, where |G| is lower: a bias linear in the step parameter η while
  the band lies inside the star (there G is exactly its 1-homogeneous linear model, so the
  chattering pattern scales with the step).  Runs at 2η, η and η/2 test that: the rate
  differences must shrink by a factor near 2 (:func:`first_order`); then the pair (η, η/2)
  removes the bias to first order (Richardson extrapolation ``2 λ̂(η/2) − λ̂(η)``) and the
  size of the correction ``|λ̂(η/2) − λ̂(η)|`` is reported as the remaining uncertainty.
  Otherwise the step is halved (within the budget); a rate that never shows first order is
  reported as not resolved (``rate_resolved``), not compared.

The probe's initial scale ε is chosen so that the output stays negligible (≤ 1e-6) for the
whole run: the probe measures the early-phase (f ≈ 0) dynamics, i.e. the claim about G, not the
fitting phase.  A last short segment at η/16 collapses the chattering band before the final
directions are read; where the way back to a kink is slow, that takes a long segment
(``LONG_SETTLE``/λ̂, see :func:`run_probes`).  All probes of one call train together in one
batched tensor program.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .batched import train_batched
from .measure import angle_deg, directions

#: Log of the smallest initial scale used: squares of the weights must stay normal float64
#: numbers (≥ 1e-300), or the adaptive step's relative rate |∇θ|/|θ| becomes 0/0.
LOG_EPS_FLOOR = -300.0
#: The output bound the initial scale is chosen for: |f| ≤ e^{LOG_F_MAX} over the run.
LOG_F_MAX = math.log(1e-6)
#: Richardson needs both step parameters in the asymptotic regime: when the two settled end
#: directions differ by more than PAIR_ANGLE_DEG (the largest start radius: a probe that hopped
#: out of its basin at the larger step), the pair is halved (and see :func:`first_order`).
PAIR_ANGLE_DEG = 1.0
#: A settled offset that falls by this factor per halving of η is converging (√2 for √η).
SHRINK = 1.3
#: First order (:func:`first_order`): for a bias Aη + Bη² the ratio q of successive rate
#: differences is 2(1 + 3x)/(1 + 1.5x), x = Bη/A.  q ∈ [1.5, 2.5] holds for x ∈ [−0.13, 0.22],
#: where the Richardson remainder |Bη²/2| is at most 0.17 of the correction |r(η) − r(η/2)|
#: that the probe reports as its uncertainty.
FIRST_ORDER_Q = (1.5, 2.5)
#: A probe's long settle (see :func:`run_probes`) lasts LONG_SETTLE/λ̂ at η/16: an offset left
#: by the chattering band (≤ one step, √2·η rad) decays at least like e^{−λ̂t} on the way back
#: (the sphere's contraction; a sliding slope only adds to it), so e^{−3} < 1/16 of it is
#: left: below the band of the finer step.
LONG_SETTLE = 3.0
#: Rate differences below this fraction of the rate count as settled (an eighth of the claim
#: check's 0.2 % floor): there is no bias left to extrapolate.
RATE_SETTLED = 2.5e-4


def first_order(rates) -> bool:
    """Do three rates fitted at η, η/2, η/4 (coarse to fine) show a step bias of first order,
    so that the Richardson pair (η/2, η/4) can be trusted?  Either both differences are below
    ``RATE_SETTLED`` of the rate, or they have one sign and shrink by a factor in
    ``FIRST_ORDER_Q``.  (Seen otherwise at crowded kinks: a coarse step that leaves the star
    chatters in another pattern, and the bias changes sign or grows as η falls.)"""
    if len(rates) < 3 or not np.all(np.isfinite(rates)):
        return False
    r0, r1, r2 = (float(v) for v in rates[-3:])
    d1, d2 = r0 - r1, r1 - r2
    floor = RATE_SETTLED * abs(r2)
    if abs(d1) <= floor and abs(d2) <= floor:
        return True
    if d1 * d2 <= 0:
        return False
    return FIRST_ORDER_Q[0] <= d1 / d2 <= FIRST_ORDER_Q[1]


def directions_first_order(ends, eta_f: float) -> bool:
    """Do three settled end directions at η, η/2, η/4 (unit vectors, coarse to fine) show a step
    bias of first order, so that the Richardson extrapolation of the finest pair can be trusted
    (the directions' analogue of :func:`first_order`)?  Either both moves are within four
    settle steps at the finest η (``4√2·η_f/16`` rad, the attractor threshold's own term), or
    they point the same way and shrink by a factor in ``FIRST_ORDER_Q``.  (Seen otherwise at a
    slow vertex: offsets 3.42°, 2.11°, 1.93°, 1.50° at η = 0.04 … 0.005, moves 0.18° then
    0.43°; refined, the same probe came down to 0.48° and its extrapolation to 0.11°.)"""
    if len(ends) < 3:
        return False
    e0, e1, e2 = (np.asarray(e, dtype=float) for e in ends[-3:])
    d1, d2 = e0 - e1, e1 - e2
    n1, n2 = float(np.linalg.norm(d1)), float(np.linalg.norm(d2))
    floor = 4 * math.sqrt(2) * eta_f / 16
    if n1 <= floor and n2 <= floor:
        return True
    if float(d1 @ d2) <= 0 or n2 == 0.0:
        return False
    return FIRST_ORDER_Q[0] <= n1 / n2 <= FIRST_ORDER_Q[1]


@dataclass(frozen=True)
class ProbeSettings:
    """How probes are run.  ``duration`` is in units of 1/λ (the probe's own growth rate),
    ``eta`` the first adaptive step parameter of the Richardson pair (η, η/2), which runs
    after one at 2η; the levels are halved while the rates are not of first order
    (:func:`first_order`: the probe hopped out of a narrow star at the larger step, or the bias
    is not yet linear), at most ``refinements`` times.
    ``settle_steps``: steps of the final segment at a sixteenth of the finest η;
    ``record_every``: snapshot spacing in steps."""

    neurons: int = 8
    duration: float = 8.0
    eta: float = 0.02
    refinements: int = 3
    settle_steps: int = 200
    record_every: int = 4
    max_steps: int = 20_000


DEFAULT_PROBES = ProbeSettings()


@dataclass
class ProbeResult:
    """One probe: ``final_angles_deg`` of its neurons from the start direction after the settle
    segment, ``end_direction`` (the Richardson extrapolation of the two settled mean directions),
    ``end_angle_deg`` its angle from the start direction and ``angle_uncertainty_deg`` the size
    of that correction; the Euler-consistent rates at the two step parameters, their
    extrapolation and its uncertainty; bookkeeping (duration, finest η, steps, skipped)."""

    direction: np.ndarray
    sign: int
    radius: float
    duration: float
    final_angles_deg: np.ndarray
    end_direction: np.ndarray
    end_angle_deg: float
    rates: tuple[float, float]
    rate: float
    rate_uncertainty: float
    grew: bool
    eta: float
    steps: int
    skipped: bool = False
    angle_uncertainty_deg: float = 0.0
    level_angles_deg: tuple = ()  # settled end direction's angle from the start, per level
    star: float = math.pi / 2     # the star radius ρ at the start direction (rad)
    rate_resolved: bool = True    # the last three levels' rates are first order (first_order)
    kink: bool = False            # a kink hyperplane passes through the start direction
    G_deficit: float = 0.0        # max_j s·(G(u) − G(u_j)) over the settled neurons' u_j
    direction_resolved: bool = True  # the last three end directions are first order
    long_settle: bool = False     # the end directions were read after a long settle

    def near_start(self, extra_deg: float = 0.0) -> bool:
        """Did the (extrapolated) end direction stay within the start ring plus the
        threshold (and ``extra_deg``)?  Only then is the fitted rate a rate *at* the start
        direction, up to G's drop at the neurons (``G_deficit``): neurons that ended beyond
        the ring grew wherever they went."""
        return self.end_angle_deg <= (math.degrees(self.radius) + self.angle_threshold_deg
                                      + extra_deg)

    @property
    def median_angle_deg(self) -> float:
        return float(np.median(self.final_angles_deg))

    @property
    def angle_threshold_deg(self) -> float:
        """The attractor test's threshold: the size of the Richardson correction of the end
        direction plus four settle steps (√2·η/16 rad each, the adaptive rule's largest move)."""
        return self.angle_uncertainty_deg + math.degrees(4 * math.sqrt(2) * self.eta / 16)

    def attractor(self, extra_deg: float = 0.0) -> str:
        """``"stays"``: the (extrapolated) end direction is within the threshold (plus
        ``extra_deg``) of the start direction.  ``"unresolved"``: it is not, but its offset
        shrinks as the step is refined — by at least ``SHRINK`` per halving, as gradient
        descent approaches the flow's attractor (seen: like √η at slow kinks, where the
        tangential gradient is hundreds of times the growth rate) — so the run could not
        resolve it within its budget; this is no evidence against the direction.
        Also ``"unresolved"`` when the finest step was not small against the star (√2·η ≥
        ρ/2): a single step could then carry a neuron out of a basin narrower than the star
        (seen at slow kink extrema whose basin reaches only a few tenths of a degree).
        Also ``"unresolved"`` when the finest pair's end directions differ by more than
        ``PAIR_ANGLE_DEG`` (the refinements ran out before they agreed: the threshold, which
        is that difference, would say nothing), and at a kink point when the probe ended
        inside its start ring (end offset ≤ start radius + threshold): its neurons did not
        move away, but gradient
        descent's discrete equilibrium sits off the kink at every step tried (seen at vertices
        where the slowest slope is ~1 % of the growth rate: 0.19–0.40° off at η = 0.02 …
        0.00125, constant over 16× longer runs).  A direction that is not an attractor sends
        the ring away from it, beyond the ring.
        ``"leaves"``: the probe settles elsewhere (a rotated or wrong claim: the offset stays)."""
        if self.skipped or self.angle_uncertainty_deg > PAIR_ANGLE_DEG:
            return "unresolved"  # the pair's end directions still disagree: no threshold
        if self.end_angle_deg <= self.angle_threshold_deg + extra_deg:
            return "stays"
        if self.kink and self.end_angle_deg <= (math.degrees(self.radius)
                                                + self.angle_threshold_deg + extra_deg):
            return "unresolved"
        a = self.level_angles_deg
        if len(a) >= 2 and a[-1] <= a[-2] / SHRINK:
            return "unresolved"
        if not self.direction_resolved and len(a) >= 2 and a[-1] <= max(a) / SHRINK:
            # approaching the start direction as η falls (the finest offset SHRINK below the
            # largest), but not at first order: the extrapolated end direction is not trusted
            # (a probe that ends as far away at every level, e.g. at a repeller, still leaves)
            return "unresolved"
        if math.sqrt(2) * self.eta >= self.star / 2:
            return "unresolved"
        return "leaves"


#: The largest start radius of a probe, and its share of the star.
R_MAX = math.radians(1.0)
STAR_FRACTION = 0.25


def star_radius(problem, u: np.ndarray, through: float = 1e-9) -> float:
    """ρ: the angle (rad) from unit ``u`` to the nearest kink hyperplane ⟨w, x_i⟩ = 0 not
    through u (π/2 when σ has no kinks).  Inside this star G is exactly its linear model
    G(u + th) = G(u) + tφ(h) (up to the sphere's curvature).  A hyperplane within ``through``
    rad of u counts as through it (a direction known only to that precision)."""
    act = problem.activation
    if not (act.piecewise_linear and act.has_kinks):
        return math.pi / 2
    nrm = np.linalg.norm(problem.X, axis=1)
    ok = nrm > 0
    z = np.abs(problem.X[ok] @ u) / nrm[ok]
    off = z[z > np.sin(through)]
    return float(np.arcsin(min(1.0, off.min()))) if off.size else math.pi / 2


def kink_slope(problem, u: np.ndarray, sign: int, rho: float, samples: int = 256,
               seed: int = 0, through: float = 1e-9) -> float | None:
    """κ: the smallest rate (per radian) at which s·G falls away from a kink point u, over
    tangent directions — random ones and ones inside each kink hyperplane through u (where
    the slope is smallest) — or None when no kink passes through u (smooth point: the angle
    then decays like e^{−λt} and needs no κ).  A balanced neuron's angular speed is the
    tangential gradient, at least κ, so it crosses a distance r in at most r/κ."""
    act = problem.activation
    if not (act.piecewise_linear and act.has_kinks):
        return None
    nrm = np.linalg.norm(problem.X, axis=1)
    Z = np.nonzero((nrm > 0) & (np.abs(problem.X @ u)
                                <= np.sin(through) * np.maximum(nrm, 1e-300)))[0]
    if len(Z) == 0:
        return None
    rng = np.random.default_rng(seed)
    H = rng.normal(size=(samples, len(u)))
    parts = [H]
    for i in Z:  # directions inside the hyperplane of x_i
        xi = problem.X[i] / nrm[i]
        parts.append(H[: max(8, samples // len(Z))] - np.outer(H[: max(8, samples // len(Z))]
                                                              @ xi, xi))
    H = np.concatenate(parts)
    H -= np.outer(H @ u, u)
    H = H[np.linalg.norm(H, axis=1) > 1e-12]
    H /= np.linalg.norm(H, axis=1, keepdims=True)
    t = min(rho / 4, 1e-3)
    V = u[None, :] + t * H
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    Gu = float(problem.G(u[None])[0])
    return float(np.min(sign * (Gu - problem.G(V)))) / t


def probe_radius(problem, u: np.ndarray, sign: int, rate: float,
                 settings: "ProbeSettings", through: float = 1e-9) -> float:
    """The start radius of a probe at u: at most 1°, a quarter of the star (so the ring starts
    where G is its linear model), and — at a kink — small enough to arrive within a quarter of
    the run at the kink's slowest slope: r ≤ κ·duration/(4·rate).  ``through``: see
    :func:`star_radius`."""
    rho = star_radius(problem, u, through)
    r = min(R_MAX, STAR_FRACTION * rho)
    kappa = kink_slope(problem, u, sign, rho, through=through)
    if kappa is not None and kappa > 0:
        r = min(r, kappa * settings.duration / max(rate, 1e-300) / 4)
    return max(r, 1e-9)


def kinks_through(problem, u: np.ndarray, through: float = 1e-9) -> int:
    """How many kink hyperplanes ⟨w, x_i⟩ = 0 pass within ``through`` rad of unit ``u`` (0
    when σ has no kinks)."""
    act = problem.activation
    if not (act.piecewise_linear and act.has_kinks):
        return 0
    nrm = np.linalg.norm(problem.X, axis=1)
    ok = nrm > 0
    return int(np.sum(np.abs(problem.X[ok] @ u) / nrm[ok] <= np.sin(through)))


def _deficit(problem, u: np.ndarray, sign: int, neuron_dirs) -> float:
    """max_j s·(G(u) − G(u_j)) ≥ 0 over settled neuron directions u_j (piecewise-linear σ,
    where G is exact; 0 otherwise): how much lower a probe's rate may be because its neurons
    sit off u."""
    if not problem.activation.piecewise_linear:
        return 0.0
    U = np.concatenate([np.atleast_2d(V) for V in neuron_dirs])
    Gu = float(problem.G(u[None])[0])
    return max(0.0, float(np.max(sign * (Gu - problem.G(U)))))


def tangent_ring(u: np.ndarray, radius: float, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` unit vectors at angle ``radius`` (rad) from unit ``u``, in random tangent
    directions."""
    H = rng.normal(size=(k, len(u)))
    H -= np.outer(H @ u, u)
    H /= np.linalg.norm(H, axis=1, keepdims=True)
    return math.cos(radius) * u[None, :] + math.sin(radius) * H


def euler_rate(times: np.ndarray, t0: float, t1: float, dlog: float) -> float:
    """λ with ``Σ_{steps in (t0, t1]} log(1 + λ dt) = dlog`` (bisection; the left side is
    increasing in λ).  ``times`` are the run's step times."""
    dts = np.diff(times[(times >= t0 - 1e-12 * max(1.0, abs(t0))) & (times <= t1)])
    if len(dts) == 0 or t1 <= t0:
        return float("nan")
    lo, hi = -1.0 / max(dts.max(), 1e-300) + 1e-12, 1.0
    while np.sum(np.log1p(hi * dts)) < dlog and hi < 1e12:
        hi *= 2.0
    if np.sum(np.log1p(lo * dts)) > dlog:
        return float("nan")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.sum(np.log1p(mid * dts)) < dlog:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _fit_rate(run, T: float) -> tuple[float, bool]:
    """Euler-consistent growth rate of the probe's total norm over [T/2, T]."""
    tt = run.traj_times
    sq = (run.W_traj ** 2).sum(-1) + run.a_traj ** 2            # (snapshots, neurons)
    lognorm = 0.5 * np.log(np.maximum(sq.sum(1), 1e-300))
    i0 = int(np.searchsorted(tt, 0.5 * T))
    i1 = len(tt) - 1
    if i1 <= i0:
        return float("nan"), False
    dlog = float(lognorm[i1] - lognorm[i0])
    rate = euler_rate(run.times, float(tt[i0]), float(tt[i1]), dlog)
    return rate, bool(dlog > 0)


def relative_rate(problem, u: np.ndarray) -> float:
    """The adaptive step's relative rate |∇_θ L|/|θ| of a balanced neuron at unit ``u``
    (early phase): sqrt(|∇G(u)|² + G(u)²)/√2, the larger of the two one-sided gradients at a
    kink (the neuron chatters between them)."""
    act = problem.activation
    if not act.piecewise_linear:
        g = act.deriv0 * problem.v
        return float(np.sqrt(g @ g + (g @ u) ** 2) / math.sqrt(2))
    Z = problem.X @ u
    on = np.abs(Z) <= 1e-12 * np.linalg.norm(problem.X, axis=1)
    Gu = float(problem.G(u[None])[0])
    out = 0.0
    for slope_on_kink in (1.0, float(act.gamma)):  # the two one-sided derivatives of σ at 0
        D = np.where(Z > 0, 1.0, float(act.gamma))
        D[on] = slope_on_kink
        g = (D * problem.c) @ problem.X / problem.n
        out = max(out, float(np.sqrt(g @ g + Gu * Gu) / math.sqrt(2)))
    return out


def base_level(star: float, settings: "ProbeSettings") -> int:
    """The probe's first step level j (step parameter η·2^{-j}): under the adaptive rule a
    neuron moves by at most √2·η rad per step.  The pair (η_j, η_j/2) starts where the finer
    step is at most the star's radius ρ, so that at least one of the two cannot cross the whole
    star in one step: √2·η·2^{-j} ≤ 2ρ.  A probe that still hops out of its basin at the
    coarser step makes the pair disagree, and finer levels follow (see :func:`run_probes`)."""
    eta_max = 2 * star / math.sqrt(2)
    return max(0, int(math.ceil(math.log2(settings.eta / eta_max)))) if eta_max > 0 else 60


def estimated_steps(problem, u: np.ndarray, rate: float, settings: "ProbeSettings",
                    star: float = math.pi / 2) -> float:
    """Steps of a probe's first three levels (2η_j, η_j and η_j/2, duration/rate each):
    3.5·duration·ρ/(rate·η_j), ρ the relative rate at u (:func:`relative_rate`)."""
    eta = settings.eta / 2 ** base_level(star, settings)
    return 3.5 * settings.duration * relative_rate(problem, u) / max(rate, 1e-300) / eta


def _initial_weights(problem, dirs, signs, radii, rates, durations, P, rngs):
    """Balanced starts on tangent rings (probe k's from ``rngs[k]``); the scale keeps
    |f| ≤ e^{LOG_F_MAX} for the run.

    A probe that stays at its direction grows at ≈ rates[k]; its output is at most
    P ε² e^{2 λ t} |x|max.  The scale is set for λ = 2·rates[k] (a probe that drifts into a
    faster region has already left its direction, which the angle check sees)."""
    K, d = dirs.shape
    xmax = float(np.max(np.linalg.norm(problem.X, axis=1)))
    W0, a0 = np.zeros((K, P, d)), np.zeros((K, P))
    for k in range(K):
        U = tangent_ring(dirs[k], float(radii[k]), P, rngs[k])
        log_eps = (0.5 * (LOG_F_MAX - math.log(P * max(xmax, 1e-300)))
                   - 2.0 * float(rates[k]) * durations[k])
        eps = math.exp(max(log_eps, LOG_EPS_FLOOR))
        W0[k] = eps * U
        a0[k] = signs[k] * eps
    return W0, a0


def _train(problem, W0, a0, etas, durations, settings, device):
    return train_batched([problem] * len(W0), torch.tensor(W0), torch.tensor(a0),
                         adaptive=True, eta=np.asarray(etas, dtype=float), lr_max=1e300,
                         t_max=durations, record=f"every:{settings.record_every}",
                         device=device)


def _settled_ends(problem, states, etas, settings, device, times=None):
    """For each final state (W, a) of a run at step parameter ``etas[i]``: ``settle_steps``
    more steps at a sixteenth of it (this collapses the chattering band), or — with
    ``times`` — steps at a sixteenth for ``times[i]`` time units (:data:`LONG_SETTLE`); then
    (per-neuron directions, mass-weighted mean direction).  One batched call for all."""
    W = torch.tensor(np.stack([w for w, _ in states]))
    a = torch.tensor(np.stack([b for _, b in states]))
    limit = dict(steps=settings.settle_steps) if times is None else \
        dict(t_max=np.asarray(times, dtype=float))
    settled = train_batched([problem] * len(states), W, a, adaptive=True,
                            eta=np.asarray(etas, dtype=float) / 16, lr_max=1e300,
                            device=device, **limit)
    out = []
    for run in settled:
        U = directions(run.W)
        msq = (run.W ** 2).sum(1) + run.a ** 2
        mean = (U * (msq / msq.max())[:, None]).sum(0) if msq.max() > 0 else U.sum(0)
        out.append((U, mean / max(np.linalg.norm(mean), 1e-300)))
    return out, [run.steps for run in settled]


def run_probes(problem, dirs, signs, radii, rates, settings: ProbeSettings = DEFAULT_PROBES,
               *, seed: int = 0, device="cpu", through: float = 1e-9) -> list[ProbeResult]:
    """One probe per direction (rows of ``dirs``, unit), with its sign, start radius (rad) and
    the rate ``rates[k] > 0`` that sets its duration ``settings.duration / rates[k]``.

    Probe k's ring is drawn from the seed ``(seed, k)`` and batched networks train
    independently, so a probe's result does not depend on which other probes run with it.

    Each probe runs at three step parameters (2η_j, η_j, η_j/2), halved while the rates are
    not of first order (:func:`first_order`) or the pair's end directions disagree; every
    run is settled.  Rates and end directions
    are Richardson-extrapolated from the pair: gradient descent's chattering at a kink biases
    both at first order in η while the band lies in the star (at some vertices whose slowest
    slope is tiny the discrete equilibrium does not shrink with η within the budget: see
    :meth:`ProbeResult.attractor`).  Probes train together, each at its own step parameter:
    one batched program for the first three levels of every probe (:func:`base_level`, from
    the star at each direction, with ``through`` as in :func:`star_radius`) and one per
    refinement round, so the wall time follows the slowest member of a round, not the sum
    over levels.  A probe that does not stay but ended within its ring plus one step is settled
    again, every level, for ``LONG_SETTLE``/λ̂ (see the comment at that step)."""
    dirs = np.asarray(dirs, dtype=float)
    radii = np.asarray(radii, dtype=float)
    rates = np.asarray(rates, dtype=float)
    K, d = dirs.shape
    if K == 0:
        return []
    stars = np.array([star_radius(problem, dirs[k], through) for k in range(K)])
    kinks = [kinks_through(problem, dirs[k], through) > 0 for k in range(K)]
    cost = np.array([estimated_steps(problem, dirs[k], float(rates[k]), settings,
                                     float(stars[k])) for k in range(K)])
    rngs = [np.random.default_rng([seed, k]) for k in range(K)]
    P = settings.neurons
    durations = settings.duration / np.maximum(rates, 1e-300)
    W0, a0 = _initial_weights(problem, dirs, signs, radii, rates, durations, P, rngs)
    level = np.array([base_level(float(s), settings) for s in stars])
    live = cost <= settings.max_steps

    fits = {k: [] for k in range(K)}
    ends = {k: [] for k in range(K)}
    finals = {k: [] for k in range(K)}  # each level's final (W, a, η), before settling
    steps = {k: 0 for k in range(K)}

    def train_members(members):
        """Train and settle the (probe k, step level j) pairs ``members`` — all of them in one
        batched call (each with its own step parameter), then one settling call; a probe's
        levels are listed coarse to fine, so its fits and ends stay in that order."""
        ks = [k for k, _ in members]
        etas = np.array([settings.eta / 2 ** int(j) for _, j in members])
        runs = _train(problem, W0[ks], a0[ks], etas, durations[ks], settings, device)
        settled, _ = _settled_ends(problem, [(run.W, run.a) for run in runs], etas, settings,
                                   device)
        for k, run, end, eta in zip(ks, runs, settled, etas):
            fits[k].append(_fit_rate(run, durations[k]))
            steps[k] += run.steps
            ends[k].append(end)
            finals[k].append((run.W, run.a, float(eta)))

    # Three levels (η_{j−1}, η_j, η_{j+1}) from the start, one coarser than the base pair:
    # the Richardson pair (η_j, η_{j+1}) is trusted only when the rate differences of the
    # three shrink at first order (:func:`first_order`).
    todo = [k for k in range(K) if live[k]]
    if todo:
        train_members([(k, int(level[k]) + i) for k in todo for i in (-1, 0, 1)])
    level[todo] += 1  # the level of the finest run
    for _ in range(settings.refinements):
        again = []
        for k in todo:
            (_, g1), (_, g2) = fits[k][-2], fits[k][-1]
            moved = float(angle_deg(ends[k][-1][1], ends[k][-2][1]))
            eta_f = settings.eta / 2 ** int(level[k])
            # Richardson on the end directions too: they must be of first order (seen: a slow
            # kink whose offsets went 1.09°, 1.14°, 0.92° at η = 0.04 … 0.01 and, refined,
            # 0.61°, 0.35°, 0.19°: it stays)
            agree = g1 and g2 and first_order([f[0] for f in fits[k][-3:]]) \
                and moved <= PAIR_ANGLE_DEG \
                and directions_first_order([e[1] for e in ends[k][-3:]], eta_f)
            # a settled offset that is still shrinking with η: refine while the budget lasts
            off_f = float(angle_deg(ends[k][-1][1], dirs[k]))
            off_c = float(angle_deg(ends[k][-2][1], dirs[k]))
            band = math.degrees(4 * math.sqrt(2) * eta_f / 16)
            converging = off_f > band and off_f <= off_c / SHRINK
            # left while one step could still cross the star (√2·η_f ≥ ρ/2, the attractor
            # test's "unresolved"): a finer step tells an attractor from a wrong direction
            # (seen: a vertex whose 1.22° star every level from 0.04 to 0.01 left for a
            # faster region 12.5° away, all three agreeing)
            coarse = off_f > band and math.sqrt(2) * eta_f >= stars[k] / 2
            if (not agree or converging or coarse) and steps[k] < settings.max_steps:
                again.append(k)
        todo = again
        if not todo:
            break
        level[todo] += 1
        train_members([(k, int(level[k])) for k in todo])

    def result(k):
        if not live[k]:
            nan = float("nan")
            return ProbeResult(dirs[k].copy(), int(signs[k]), float(radii[k]),
                               float(durations[k]), np.full(P, nan), dirs[k].copy(), nan,
                               (nan, nan), nan, nan, False, nan, int(cost[k]), skipped=True,
                               star=float(stars[k]), rate_resolved=False, kink=bool(kinks[k]))
        (U_f, end_f), (_, end_c) = ends[k][-1], ends[k][-2]
        eta_f = float(settings.eta / 2 ** int(level[k]))
        (r1, g1), (r2, g2) = fits[k][-2], fits[k][-1]
        rate = 2 * r2 - r1  # Richardson on the rates (module doc)
        extrap = 2 * end_f - end_c  # and on the end directions
        extrap /= max(np.linalg.norm(extrap), 1e-300)
        return ProbeResult(dirs[k].copy(), int(signs[k]), float(radii[k]),
                           float(durations[k]), angle_deg(U_f, dirs[k]), extrap,
                           float(angle_deg(extrap, dirs[k])), (r1, r2), float(rate),
                           float(abs(r2 - r1)), g1 and g2, eta_f,
                           int(steps[k] + len(ends[k]) * settings.settle_steps + extra[k]),
                           angle_uncertainty_deg=float(angle_deg(end_f, end_c)),
                           level_angles_deg=tuple(float(angle_deg(e[1], dirs[k]))
                                                  for e in ends[k]),
                           star=float(stars[k]),
                           rate_resolved=first_order([f[0] for f in fits[k][-3:]]),
                           kink=bool(kinks[k]),
                           G_deficit=_deficit(problem, dirs[k], int(signs[k]),
                                              [e[0] for e in ends[k][-2:]]),
                           direction_resolved=directions_first_order(
                               [e[1] for e in ends[k][-3:]], eta_f),
                           long_settle=bool(settled_long[k]))

    settled_long = np.zeros(K, bool)
    extra = np.zeros(K, int)  # steps of the long settles
    out = [result(k) for k in range(K)]
    # The settle's premise — a few hundred steps at η/16 collapse the chattering band — fails
    # where the way back is slow: at a kink whose one side pushes a neuron out by a whole step
    # (up to √2·η rad) and whose other side returns it only at the sphere's contraction λ·offset
    # (seen: a vertex with slowest slope 5e-4 λ; offsets 0.39°, 0.19°, 0.16°, 0.17° at
    # η = 0.04 … 0.005, each a sample of a sawtooth of period ~1.4/λ and height ∝ η).  A probe
    # that does not stay, but ended within its ring plus one step of its start, is settled again
    # at η/16 for LONG_SETTLE/λ̂ (λ̂ its fitted rate): every offset left by the band decays at
    # least like e^{−λ̂t} to below the band of the finer step, and the verdict is read again.
    # The long settle costs 16·LONG_SETTLE·ρ/(λ̂·η) steps per level (ρ the relative rate at u,
    # :func:`relative_rate`); it runs only within twice a probe's step budget.
    def settle_time(k):
        return LONG_SETTLE / max(fits[k][-1][0], 1e-300)

    def long_cost(k):
        return 16 * settle_time(k) * relative_rate(problem, dirs[k]) * sum(
            1 / eta for _, _, eta in finals[k])

    redo = [k for k in range(K) if live[k] and out[k].grew and out[k].attractor() != "stays"
            and out[k].level_angles_deg[-1] <= math.degrees(out[k].radius
                                                            + math.sqrt(2) * out[k].eta)
            and long_cost(k) <= 2 * settings.max_steps]
    if redo:
        members = [(k, i) for k in redo for i in range(len(finals[k]))]
        states = [finals[k][i][:2] for k, i in members]
        etas = [finals[k][i][2] for k, i in members]
        times = [settle_time(k) for k, _ in members]
        settled, taken = _settled_ends(problem, states, etas, settings, device, times)
        for (k, i), end, n_steps in zip(members, settled, taken):
            ends[k][i] = end
            extra[k] += n_steps
        for k in redo:
            settled_long[k] = True
            out[k] = result(k)
    return out
