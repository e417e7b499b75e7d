"""Measurements of trained weights in the theory's terms (numpy in, numpy out).

Conventions used throughout:

* neuron j is ``θ_j = (w_j, a_j)``; its **direction** is ``u_j = w_j/|w_j|``, its **sign** is
  ``sign(a_j)`` (+1 neurons ascend G, −1 neurons descend it);
* its **mass** is its share of the squared norm, ``(|w_j|² + a_j²) / Σ_k (|w_k|² + a_k²)``;
* a neuron is **heavy** when its mass is at least ``heavy/m`` (default ``heavy = 0.1``: a tenth
  of the mass of an average neuron); light neurons are the ones the small initialisation
  suppresses (docs/theory.md, "Mass concentration") and are not required to have arrived
  anywhere;
* a neuron **matches** an extremum when their signs agree and the angle between ``u_j`` and the
  extremum's direction is at most ``tau_deg``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .stepping import escape_crossing

DEFAULT_HEAVY = 0.1


def norms(W: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``(|w_j|² + a_j²)^{1/2}`` per neuron."""
    return np.sqrt(np.sum(np.asarray(W) ** 2, axis=-1) + np.asarray(a) ** 2)


def directions(W: np.ndarray) -> np.ndarray:
    """Unit rows ``w_j/|w_j|`` (a zero row stays zero)."""
    W = np.asarray(W, dtype=float)
    r = np.linalg.norm(W, axis=-1, keepdims=True)
    return np.divide(W, r, out=np.zeros_like(W), where=r > 0)


def signs(a: np.ndarray) -> np.ndarray:
    """``sign(a_j)`` as integers in {−1, 0, +1}."""
    return np.sign(np.asarray(a)).astype(int)


def mass(W: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Share of the squared norm held by each neuron (sums to 1)."""
    sq = norms(W, a) ** 2
    return sq / np.sum(sq, axis=-1, keepdims=True)


def angle_deg(U: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in degrees between the unit rows of ``U`` (…×d) and the unit vector ``v`` (d),
    computed as ``2·atan2(|u − v|, |u + v|)``: accurate to rounding also for tiny angles (the
    ``arccos`` of a dot product loses half the digits there, a floor of ~1e-6 degrees)."""
    U = np.asarray(U, dtype=float)
    v = np.asarray(v, dtype=float)
    return np.degrees(2.0 * np.arctan2(np.linalg.norm(U - v, axis=-1),
                                       np.linalg.norm(U + v, axis=-1)))


def pairwise_angle_deg(U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Row-by-row angle in degrees between unit rows of ``U`` and ``V`` (same shape)."""
    return angle_deg(U, V)


def _extrema_list(prediction):
    """Accept a ``Prediction``, a list of extrema objects, or ``predict``-style JSON dicts."""
    ex = getattr(prediction, "extrema", prediction)
    if isinstance(ex, dict):
        ex = ex["extrema"]
    out = []
    for e in ex:
        d = e["direction"] if isinstance(e, dict) else e.direction
        s = e["sign"] if isinstance(e, dict) else e.sign
        d = np.asarray(d, dtype=float)
        out.append((d / np.linalg.norm(d), int(s)))
    return out


@dataclass
class MatchResult:
    """How the trained neurons sit relative to predicted extrema (see module doc).

    ``matched_mass``: mass of neurons within ``tau_deg`` of a same-sign extremum;
    ``unmatched_mass = 1 − matched_mass``; ``per_extremum_mass[k]``: mass assigned to extremum k
    (nearest same-sign extremum, within ``tau_deg``); ``worst_angle_deg``: largest angle from
    the nearest same-sign extremum over heavy neurons; ``angles_deg``: that angle per neuron
    (inf when no extremum has the neuron's sign); ``nearest``: index of it (−1 if none)."""

    matched_mass: float
    unmatched_mass: float
    per_extremum_mass: np.ndarray
    worst_angle_deg: float
    angles_deg: np.ndarray
    nearest: np.ndarray
    heavy: np.ndarray
    tau_deg: float


def match(W: np.ndarray, a: np.ndarray, prediction, tau_deg: float = 2.0,
          heavy: float = DEFAULT_HEAVY) -> MatchResult:
    """Compare trained ``(W, a)`` with predicted extrema (``Prediction``, extrema, or JSON)."""
    W = np.asarray(W, dtype=float)
    a = np.asarray(a, dtype=float)
    ex = _extrema_list(prediction)
    m = W.shape[0]
    U = directions(W)
    s = signs(a)
    mu = mass(W, a)
    angles = np.full(m, np.inf)
    nearest = np.full(m, -1)
    for k, (v, sg) in enumerate(ex):
        ang = angle_deg(U, v)
        better = (s == sg) & (ang < angles)
        angles[better] = ang[better]
        nearest[better] = k
    ok = angles <= tau_deg
    per = np.array([mu[ok & (nearest == k)].sum() for k in range(len(ex))])
    is_heavy = mu >= heavy / m
    worst = float(np.max(angles[is_heavy])) if np.any(is_heavy) else 0.0
    matched = float(mu[ok].sum())
    return MatchResult(matched, 1.0 - matched, per, worst, angles, nearest, is_heavy,
                       float(tau_deg))


def clusters(W: np.ndarray, a: np.ndarray, tau_deg: float = 2.0, heavy: float = 0.0):
    """Mass-weighted angular clusters: neurons taken heaviest first; each starts a cluster or
    joins the first same-sign cluster whose centre is within ``tau_deg``.  Returns
    ``(centres (K×d) unit, cluster_sign (K), cluster_mass (K), labels (m; −1 for neurons lighter
    than heavy/m))``; centres are mass-weighted mean directions, clusters sorted by mass."""
    U = directions(W)
    s = signs(a)
    mu = mass(W, a)
    m = len(mu)
    labels = np.full(m, -1)
    cen: list[np.ndarray] = []
    csg: list[int] = []
    acc: list[np.ndarray] = []
    for j in np.argsort(-mu, kind="stable"):
        if mu[j] < heavy / m:
            continue
        for k, c in enumerate(cen):
            if csg[k] == s[j] and angle_deg(U[j], c) <= tau_deg:
                labels[j] = k
                acc[k] = acc[k] + mu[j] * U[j]
                break
        else:
            labels[j] = len(cen)
            cen.append(U[j].copy())
            csg.append(int(s[j]))
            acc.append(mu[j] * U[j])
    centres = np.array([v / np.linalg.norm(v) for v in acc]) if acc else np.zeros((0, W.shape[1]))
    cmass = np.array([mu[labels == k].sum() for k in range(len(cen))])
    order = np.argsort(-cmass, kind="stable")
    relabel = np.full(len(cen) + 1, -1)
    relabel[order] = np.arange(len(cen))
    labels = np.where(labels >= 0, relabel[labels], -1)
    return centres[order], np.array(csg, dtype=int)[order], cmass[order], labels


def growth_rates(traj_times: np.ndarray, W_traj: np.ndarray, a_traj: np.ndarray,
                 groups: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Growth rate of each group of neurons: least-squares slope of ``log`` of the group's norm
    ``(Σ_{j∈k} |w_j|² + a_j²)^{1/2}`` against time over the snapshots with ``t`` in ``window``
    (an early-phase window: after the directions settle, before escape).  ``groups`` labels each
    neuron (−1: ignored); one rate per label 0..K−1 (NaN: < 2 snapshots or no member)."""
    t = np.asarray(traj_times, dtype=float)
    sel = (t >= window[0]) & (t <= window[1])
    sq = np.sum(np.asarray(W_traj)[sel] ** 2, axis=-1) + np.asarray(a_traj)[sel] ** 2
    K = int(groups.max()) + 1 if len(groups) and groups.max() >= 0 else 0
    rates = np.full(K, np.nan)
    if sel.sum() < 2:
        return rates
    for k in range(K):
        if not np.any(groups == k):
            continue
        lognorm = 0.5 * np.log(sq[:, groups == k].sum(axis=1))
        rates[k] = np.polyfit(t[sel], lognorm, 1)[0]
    return rates


def escape_time(times: np.ndarray, rms_f: np.ndarray, level: float) -> float:
    """First time the output RMS reaches ``level``, from recorded samples: the engines'
    definition (:func:`numerics.stepping.escape_crossing`, linear interpolation in ``log rms``
    back to the previous sample); NaN if never reached."""
    rms_f = np.asarray(rms_f, dtype=float)
    hit = np.nonzero(rms_f >= level)[0]
    if len(hit) == 0:
        return float("nan")
    i = int(hit[0])
    if i == 0:
        return float(times[0])
    return float(escape_crossing(float(times[i]), math.log(rms_f[i]), math.log(rms_f[i - 1]),
                                 float(times[i] - times[i - 1]), math.log(level)))


def output_rms(problem, W: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``(1/n Σ_i f(x_i)²)^{1/2}`` for weights ``W`` (…×m×d), ``a`` (…×m)."""
    H = problem.activation.numpy(np.asarray(W) @ problem.X.T)  # (…, m, n)
    f = np.einsum("...m,...mn->...n", np.asarray(a), H)
    return np.sqrt(np.mean(f * f, axis=-1))


def conservation_drift(W_traj: np.ndarray, a_traj: np.ndarray) -> np.ndarray:
    """Per snapshot: ``max_j |c_j(t) − c_j(0)| / max_j |θ_j(t)|²`` with ``c_j = a_j² − |w_j|²``
    (conserved by gradient flow for 1-homogeneous σ; GD drifts by O(dt) per unit time)."""
    c = np.asarray(a_traj) ** 2 - np.sum(np.asarray(W_traj) ** 2, axis=-1)
    scale = np.max(np.asarray(a_traj) ** 2 + np.sum(np.asarray(W_traj) ** 2, axis=-1), axis=-1)
    return np.max(np.abs(c - c[0]), axis=-1) / scale
