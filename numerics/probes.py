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
  ``duration`` = C/λ (C = 12: ``e^{−6} < 0.3 %`` of the start radius is left at half-time) has
  arrived unless the kink's slope is tiny.
* **how fast does it grow?**  For a balanced neuron at an extremum ``r' = a λ``, ``a' = r λ``:
  explicit Euler multiplies its norm by exactly ``1 + λ dt`` per step, so the *Euler-consistent*
  rate λ̂ solving ``Σ_j log(1 + λ̂ dt_j) = Δ log |θ|`` over the fit window is exact on a smooth
  face (no ``η/2`` bias).  At a kink, gradient descent chatters across the kink hyperplane in a
  band about one step wide, where |G| is lower: a bias linear in the step parameter η.  Two
  runs at η and η/2 remove it to first order (Richardson extrapolation ``2 λ̂(η/2) − λ̂(η)``); the
  size of the correction ``|λ̂(η/2) − λ̂(η)|`` is reported as the remaining uncertainty.

The probe's initial scale ε is chosen so that the output stays negligible (≤ 1e-6) for the
whole run: the probe measures the early-phase (f ≈ 0) dynamics, i.e. the claim about G, not the
fitting phase.  A last short segment at η/16 collapses the chattering band before the final
directions are read.  All probes of one call train together in one batched tensor program.
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
#: Richardson needs both step parameters in the asymptotic regime, where the chattering bias is
#: linear in η: when the two rates differ by more than this fraction, the pair is halved.
PAIR_AGREEMENT = 0.05


@dataclass(frozen=True)
class ProbeSettings:
    """How probes are run.  ``duration`` is in units of 1/λ (the probe's own growth rate),
    ``eta`` the first adaptive step parameter of the Richardson pair (η, η/2); a pair whose
    rates differ by more than ``PAIR_AGREEMENT`` (the probe hopped out of a narrow star at the
    larger step, or the bias is not yet linear) is halved, at most ``refinements`` times.
    ``measure_rate=False`` runs only η/2 (no rate pair): for probes that only ask where
    neurons go.  ``settle_steps``: steps of the final segment at a sixteenth of the finest η;
    ``record_every``: snapshot spacing in steps."""

    neurons: int = 8
    duration: float = 12.0
    eta: float = 0.02
    refinements: int = 3
    measure_rate: bool = True
    settle_steps: int = 200
    record_every: int = 4
    max_steps: int = 60_000


DEFAULT_PROBES = ProbeSettings()


@dataclass
class ProbeResult:
    """One probe: ``final_angles_deg`` of its neurons from the start direction after the settle
    segment, ``end_direction`` (mass-weighted mean), the Euler-consistent rates at the two step
    parameters and their extrapolation, and bookkeeping (duration, steps)."""

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

    @property
    def median_angle_deg(self) -> float:
        return float(np.median(self.final_angles_deg))


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


def estimated_steps(problem, u: np.ndarray, rate: float, settings: ProbeSettings) -> float:
    """Steps of a probe's base pair (η and η/2, duration/rate each): 3·duration·ρ/(rate·η)."""
    return 3 * settings.duration * relative_rate(problem, u) / max(rate, 1e-300) / settings.eta


def _initial_weights(problem, dirs, signs, radii, rates, durations, P, rng):
    """Balanced starts on tangent rings; the scale keeps |f| ≤ e^{LOG_F_MAX} for the run.

    A probe that stays at its direction grows at ≈ rates[k]; its output is at most
    P ε² e^{2 λ t} |x|max.  The scale is set for λ = 2·rates[k] (a probe that drifts into a
    faster region has already left its direction, which the angle check sees)."""
    K, d = dirs.shape
    xmax = float(np.max(np.linalg.norm(problem.X, axis=1)))
    W0, a0 = np.zeros((K, P, d)), np.zeros((K, P))
    for k in range(K):
        U = tangent_ring(dirs[k], float(radii[k]), P, rng)
        log_eps = (0.5 * (LOG_F_MAX - math.log(P * max(xmax, 1e-300)))
                   - 2.0 * float(rates[k]) * durations[k])
        eps = math.exp(max(log_eps, LOG_EPS_FLOOR))
        W0[k] = eps * U
        a0[k] = signs[k] * eps
    return W0, a0


def _train(problem, W0, a0, eta, durations, settings, device):
    return train_batched([problem] * len(W0), torch.tensor(W0), torch.tensor(a0),
                         adaptive=True, eta=eta, lr_max=1e300, t_max=durations,
                         record=f"every:{settings.record_every}", device=device)


def run_probes(problem, dirs, signs, radii, rates, settings: ProbeSettings = DEFAULT_PROBES,
               *, seed: int = 0, device="cpu") -> list[ProbeResult]:
    """One probe per direction (rows of ``dirs``, unit), with its sign, start radius (rad) and
    the rate ``rates[k] > 0`` that sets its duration ``settings.duration / rates[k]``."""
    dirs = np.asarray(dirs, dtype=float)
    K, d = dirs.shape
    if K == 0:
        return []
    cost = np.array([estimated_steps(problem, dirs[k], float(rates[k]), settings)
                     for k in range(K)])
    run_k = np.nonzero(cost <= settings.max_steps)[0]
    if len(run_k) < K:
        done = run_probes(problem, dirs[run_k], [signs[k] for k in run_k],
                          np.asarray(radii)[run_k], np.asarray(rates)[run_k], settings,
                          seed=seed, device=device) if len(run_k) else []
        out, it = [], iter(done)
        for k in range(K):
            if k in run_k:
                out.append(next(it))
            else:
                nan = float("nan")
                out.append(ProbeResult(dirs[k].copy(), int(signs[k]), float(radii[k]),
                                       settings.duration / max(float(rates[k]), 1e-300),
                                       np.full(settings.neurons, nan), dirs[k].copy(), nan,
                                       (nan, nan), nan, nan, False, nan, int(cost[k]),
                                       skipped=True))
        return out
    rng = np.random.default_rng(seed)
    P = settings.neurons
    durations = np.array([settings.duration / max(float(r), 1e-300) for r in rates])
    W0, a0 = _initial_weights(problem, dirs, signs, radii, rates, durations, P, rng)
    eta = np.full(K, float(settings.eta))
    if settings.measure_rate:
        coarse = _train(problem, W0, a0, settings.eta, durations, settings, device)
        fits = {k: [_fit_rate(coarse[k], durations[k])] for k in range(K)}
    else:
        coarse = None
        fits = {k: [(float("nan"), True)] for k in range(K)}
    finest = {}
    todo = np.arange(K)
    for level in range(settings.refinements + 1 if settings.measure_rate else 1):
        runs = _train(problem, W0[todo], a0[todo], settings.eta / 2 ** (level + 1),
                      durations[todo], settings, device)
        again = []
        for k, run in zip(todo, runs):
            fits[k].append(_fit_rate(run, durations[k]))
            finest[k] = run
            eta[k] = settings.eta / 2 ** (level + 1)
            (r1, g1), (r2, g2) = fits[k][-2], fits[k][-1]
            if settings.measure_rate and not (g1 and g2 and abs(r1 - r2) <= PAIR_AGREEMENT
                                              * abs(r2)):
                again.append(k)
        todo = np.array(again, dtype=int)
        if len(todo) == 0:
            break
    out = []
    for k in range(K):
        run = finest[k]
        settle = train_batched([problem], torch.tensor(run.W[None]), torch.tensor(run.a[None]),
                               adaptive=True, eta=eta[k] / 16, lr_max=1e300,
                               steps=settings.settle_steps, device=device)[0]
        (r1, g1), (r2, g2) = fits[k][-2], fits[k][-1]
        rate = 2 * r2 - r1  # Richardson: the chattering bias is first order in η (module doc)
        W, a = settle.W, settle.a
        U = directions(W)
        ang = angle_deg(U, dirs[k])
        msq = (W ** 2).sum(1) + a ** 2
        mean = (U * (msq / msq.max())[:, None]).sum(0) if msq.max() > 0 else U.sum(0)
        nm = np.linalg.norm(mean)
        end = mean / nm if nm > 0 else dirs[k]
        steps = int((coarse[k].steps if coarse else 0) + run.steps + settle.steps)
        out.append(ProbeResult(dirs[k].copy(), int(signs[k]), float(radii[k]),
                               float(durations[k]), ang, end, float(angle_deg(end, dirs[k])),
                               (r1, r2), float(rate), float(abs(r2 - r1)), g1 and g2,
                               float(eta[k]), steps))
    return out
