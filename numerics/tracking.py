"""Cluster tracking along a recorded run: where the mass sits relative to the extrema of G_t.

At every recorded state ``(W, a)`` of a run:

* the residuals ``r_i(t) = −∂ℓ/∂f(y_i, f_t(x_i))`` and ``G_t(w) = (1/n) Σ r_i σ(⟨w, x_i⟩)``;
* the certified extrema of ``G_t`` (:func:`theory.later_phase.g_t_extrema`, or any function
  with the same signature, e.g. a planted wrong theory);
* the clusters of the neurons (:func:`numerics.measure.clusters`): centres, signs, mass shares;
* for every cluster, the nearest extremum of ``G_t`` of its sign and the angle to it.

Extrema are linked from one record to the next into **tracks**: an extremum's continuation is
the nearest extremum of the same sign at the next record, provided the two are each other's
nearest (mutual nearest neighbours, so two extrema can never continue into one).  An extremum
with no continuation **vanishes** at the next record's time (for example when the face
certificate of a kink fails and no smooth extremum takes its place nearby, or when a maximum
and a minimum annihilate); a track's ``vanished`` is that time (None while it exists).

Angles are in degrees; directions are unit vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory.later_phase import direction_attractors, residuals

from . import measure


@dataclass
class Track:
    """One extremum of ``G_t`` followed over records: ``records`` (indices), ``directions``
    (unit), ``G`` values, its ``sign``; ``vanished``: the time of the first record at which it
    had no continuation (None: it lives to the end or to the last record)."""

    ident: int
    sign: int
    records: list = field(default_factory=list)
    directions: list = field(default_factory=list)
    G: list = field(default_factory=list)
    vanished: float | None = None


@dataclass
class Record:
    """One recorded state.  ``extrema``: rows ``(direction, sign, G)`` of the certified extrema
    of G_t; ``track_of``: the track id of each extremum; clusters as in
    :func:`numerics.measure.clusters` (``centres``, ``csign``, ``cmass``, ``labels``);
    ``nearest_track`` / ``angle_deg``: per cluster, the track of the nearest same-sign extremum
    (−1: none) and the angle to it."""

    t: float
    r: np.ndarray
    extrema: list
    track_of: list
    centres: np.ndarray
    csign: np.ndarray
    cmass: np.ndarray
    labels: np.ndarray
    nearest_track: np.ndarray
    angle_deg: np.ndarray


@dataclass
class Tracking:
    records: list
    tracks: dict

    @property
    def times(self) -> np.ndarray:
        return np.array([rec.t for rec in self.records])

    def track_direction(self, ident: int, k: int) -> np.ndarray | None:
        """Direction of track ``ident`` at record ``k`` (None if it does not exist there)."""
        tr = self.tracks[ident]
        if k in tr.records:
            return tr.directions[tr.records.index(k)]
        return None


def _angle(u, v) -> float:
    return float(measure.angle_deg(np.asarray(u)[None, :], np.asarray(v))[0])


def _extrema_rows(pred) -> list:
    return [(np.asarray(e.direction, dtype=float), int(e.sign), float(e.G))
            for e in getattr(pred, "extrema", pred)]


def link(prev: list, cur: list) -> list:
    """For each extremum in ``cur``, the index of its predecessor in ``prev`` (−1: new): the
    nearest same-sign extremum, kept only when the two are mutual nearest neighbours."""
    out = [-1] * len(cur)
    for i, (u, s, _) in enumerate(cur):
        cand = [(j, _angle(u, v)) for j, (v, sv, _) in enumerate(prev) if sv == s]
        if not cand:
            continue
        j, _ = min(cand, key=lambda p: p[1])
        back = [(k, _angle(prev[j][0], w)) for k, (w, sw, _) in enumerate(cur) if sw == s]
        k, _ = min(back, key=lambda p: p[1])
        if k == i:
            out[i] = j
    return out


def track(problem, traj_times, W_traj, a_traj, *, extrema_fn=None, tau_deg: float = 2.0,
          heavy: float = measure.DEFAULT_HEAVY, records=None) -> Tracking:
    """Track clusters and the extrema of G_t over the recorded states (module docstring).

    ``extrema_fn(problem, r) -> Prediction`` (default: the certified
    :func:`theory.later_phase.g_t_extrema`); ``records``: the indices of the snapshots to use
    (default all); ``tau_deg`` and ``heavy`` as in :func:`numerics.measure.clusters`."""
    extrema_fn = extrema_fn or direction_attractors
    idx = range(len(traj_times)) if records is None else list(records)
    recs: list[Record] = []
    tracks: dict[int, Track] = {}
    prev_rows, prev_ids = [], []
    for k_rec, k in enumerate(idx):
        W, a = np.asarray(W_traj[k]), np.asarray(a_traj[k])
        r = residuals(problem, W, a)
        rows = _extrema_rows(extrema_fn(problem, r))
        pred = link(prev_rows, rows)
        ids = []
        for i, (u, s, g) in enumerate(rows):
            if pred[i] >= 0:
                tid = prev_ids[pred[i]]
            else:
                tid = len(tracks)
                tracks[tid] = Track(tid, s)
            tr = tracks[tid]
            tr.records.append(k_rec)
            tr.directions.append(u)
            tr.G.append(g)
            ids.append(tid)
        for tid in set(prev_ids) - set(ids):
            tracks[tid].vanished = float(traj_times[k])
        centres, csign, cmass, labels = measure.clusters(W, a, tau_deg=tau_deg, heavy=heavy)
        near = np.full(len(centres), -1)
        ang = np.full(len(centres), np.inf)
        for c in range(len(centres)):
            for i, (u, s, _) in enumerate(rows):
                if s == csign[c]:
                    th = _angle(centres[c], u)
                    if th < ang[c]:
                        ang[c], near[c] = th, ids[i]
        recs.append(Record(float(traj_times[k]), r, rows, ids, centres, csign, cmass, labels,
                           near, ang))
        prev_rows, prev_ids = rows, ids
    return Tracking(recs, tracks)


def directions_for_mass(W, a, level: float = 0.95, tau_deg: float = 2.0) -> int:
    """The number of directions carrying ``level`` of the output weight: the fewest clusters
    (:func:`numerics.measure.clusters` within ``tau_deg``, heaviest first) whose share of
    ``Σ_j |a_j||w_j|`` reaches ``level``.  ``|a_j||w_j|`` is neuron j's weight in the output
    ``f(x) = Σ_j a_j |w_j| σ(⟨u_j, x⟩)``."""
    W = np.asarray(W, dtype=float)
    a = np.asarray(a, dtype=float)
    out_w = np.abs(a) * np.linalg.norm(W, axis=-1)
    _, _, _, labels = measure.clusters(W, a, tau_deg=tau_deg)
    share = np.array([out_w[labels == c].sum() for c in range(labels.max() + 1)])
    share = np.sort(share)[::-1] / out_w.sum()
    return int(np.searchsorted(np.cumsum(share), level * (1 - 1e-12)) + 1)


# ----------------------------------------------------------------------------- neurons
@dataclass
class NeuronFollow:
    """Per-neuron comparison with the later-phase direction flow (:func:`follow_neurons`).

    ``checks``: rows ``(t, neuron, β, B, heavy)`` (degrees): a neuron attached to a track, at
    angle β from its attractor, and its tracking envelope B;
    ``moves``: rows ``(t, neuron, measured, predicted_prev, predicted_cur, band, heavy)``
    (degrees, signed): a neuron in transit, its measured turn since the previous record and
    the turns the direction flow predicts with the landscape of the previous and of the
    current record (see :func:`follow_neurons`);
    ``transits``: dicts ``{neuron, start, end, window, heavy_at}``: a neuron is in transit
    from the first record until it is attached, and again after its attractor vanished;
    ``window`` is the travel time the flow of the landscape frozen at the start predicts,
    ``end`` the arrival time (None: not arrived), ``heavy_at`` the records it was heavy at."""

    checks: list = field(default_factory=list)
    moves: list = field(default_factory=list)
    transits: list = field(default_factory=list)


def record_step_sizes(times, traj_steps) -> np.ndarray:
    """For each record, the largest step size taken since the previous record (the steps that
    set the chattering band seen at the record; the first record: the first step);
    ``times`` are the run's per-step times, ``traj_steps`` the records' step indices."""
    dt = np.diff(np.asarray(times, dtype=float))
    out = np.zeros(len(traj_steps))
    if not len(dt):
        return out
    for k, s in enumerate(traj_steps):
        lo = int(traj_steps[k - 1]) if k > 0 else 0
        seg = dt[lo:int(s)]  # the steps from the previous record's state to this one
        out[k] = seg.max() if len(seg) else dt[min(int(s), len(dt) - 1)]
    return out


def _tangent_slope(problem, r, th: float) -> float:
    """``dG_t/dθ`` at angle ``th`` (right derivative at a kink), d = 2."""
    u = np.array([[np.cos(th), np.sin(th)]])
    return float(problem.grad_G(u, weights=r)[0] @ np.array([-np.sin(th), np.cos(th)]))


def max_slope_near(problem, r, th_star: float, radius: float, kinks, grid: int = 64) -> float:
    """``max |dG_t/dθ|`` over the arc ``[θ* − radius, θ* + radius]`` (d = 2): on a grid of
    ``grid`` angles, the arc's ends and both sides of every kink in it (G_t is a sinusoid
    between kinks, so this samples its slope where it is largest up to the grid)."""
    radius = max(float(radius), 1e-6)
    th = list(th_star + np.linspace(-radius, radius, grid))
    k = _wrap(np.asarray(kinks) - th_star)
    for kk in k[np.abs(k) <= radius]:
        th += [th_star + kk + 1e-9, th_star + kk - 1e-9]
    th = np.asarray(th)
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    T = np.stack([-np.sin(th), np.cos(th)], axis=1)
    return float(np.max(np.abs(np.sum(problem.grad_G(U, weights=r) * T, axis=1))))


def _wrap(x):
    return (np.asarray(x) + np.pi) % (2 * np.pi) - np.pi


def kink_angles(X) -> np.ndarray:
    """Angles (radians) of the kink directions ``u ⊥ x_i`` of 2-D data."""
    X = np.asarray(X, dtype=float)
    X = X[np.linalg.norm(X, axis=1) > 0]
    base = np.arctan2(X[:, 1], X[:, 0])
    return _wrap(np.concatenate([base + np.pi / 2, base - np.pi / 2]))


def adjacent(kinks, th: float, th_star: float) -> bool:
    """True when no kink lies strictly between ``th`` and ``th_star`` on the shorter arc
    (a kink at ``th_star`` itself does not count): the neuron is on an arc next to its
    attractor, where the pull towards it is at least ``(|a|/|w|)|G_t(u*)| sin β``."""
    d = float(_wrap(th - th_star))
    k = _wrap(np.asarray(kinks) - th_star)
    eps = 1e-12
    if d >= 0:
        return not np.any((k > eps) & (k < d - eps))
    return not np.any((k < -eps) & (k > d + eps))


def follow_neurons(problem, tracking: Tracking, W_traj, a_traj, step_sizes, *,
                   heavy: float = measure.DEFAULT_HEAVY) -> NeuronFollow:
    """Follow every neuron along the recorded states against the direction flow of G_t (d = 2).

    ``W_traj``/``a_traj``/``step_sizes`` are aligned with ``tracking.records``.

    * **Band.**  The most one gradient step can turn neuron j near its attractor u*:
      ``step size × (|a_j|/|w_j|) × max |dG_t/dθ|`` over the arc around u* that holds the
      neuron (:func:`max_slope_near`, radius the larger of its angle and its envelope).
    * **Attached.**  A neuron on an arc adjacent to an attractor of its sign (:func:`adjacent`),
      or within twice its band of one, is attached to it (the nearest such); from then on it is
      compared with the envelope :func:`theory.later_phase.envelope_step` started at its
      measured angle, ``κ = (|a_j|/|w_j|)|G_t(u*)|``.  When the attractor vanishes the neuron
      goes into transit.
    * **Transit.**  Between records the neuron must turn the way the direction flow says:
      the predicted turn is ``Δt·sign(a)(|a|/|w|)·dG_t/dθ`` at its angle, with the landscapes of
      both records; it is recorded in ``moves`` (the property compares signs where both
      predictions agree and exceed the band)."""
    recs = tracking.records
    m = np.asarray(W_traj[0]).shape[0]
    kinks = kink_angles(problem.X)
    out = NeuronFollow()
    state: dict[int, dict] = {}
    prev = None
    for k, R in enumerate(recs):
        v = _RecordView(problem, R, W_traj[k], a_traj[k], step_sizes[k], kinks, heavy / m)
        for j in range(m):
            st = state.get(j)
            if st is not None and st["track"] is not None:
                if st["track"] in R.track_of:
                    out.checks.append(v.envelope(j, st))
                    continue
                state[j] = v.transit(j, out, recs[-1].t)  # its attractor vanished
            elif st is not None and prev is not None:
                out.moves.append(v.move(j, prev))
            cur = state[j] if j in state else None
            tidx = cur.get("transit") if cur is not None else None
            att = v.attach(j)
            if att is not None:
                state[j] = att
                if tidx is not None:
                    out.transits[tidx]["end"] = R.t
                continue
            if cur is None:
                state[j] = v.transit(j, out, recs[-1].t)
            if v.heavy[j]:
                out.transits[state[j]["transit"]]["heavy_at"].append(R.t)
        prev = v
    return out


class _RecordView:
    """One record's quantities for :func:`follow_neurons` (angles in radians)."""

    def __init__(self, problem, R: Record, W, a, step: float, kinks, heavy_mass: float):
        from theory.later_phase import angular_speed

        W, a = np.asarray(W), np.asarray(a)
        self.problem, self.R, self.step, self.kinks = problem, R, float(step), kinks
        U = measure.directions(W)
        self.U = U
        self.th = np.arctan2(U[:, 1], U[:, 0])
        self.om = np.abs(a) / np.linalg.norm(W, axis=1)
        self.sg = measure.signs(a)
        self.heavy = measure.mass(W, a) >= heavy_mass
        self.own = angular_speed(problem, W, a, R.r)
        self.ext_th = {tid: float(np.arctan2(u[1], u[0])) for (u, _, _), tid in
                       zip(R.extrema, R.track_of)}

    def band(self, j: int, tid: int, radius: float) -> float:
        return self.step * max(self.own[j], self.om[j] * max_slope_near(
            self.problem, self.R.r, self.ext_th[tid], radius, self.kinks))

    def envelope(self, j: int, st: dict) -> tuple:
        """Advance neuron j's envelope to this record; the row for ``checks``."""
        from theory.later_phase import envelope_step

        R = self.R
        u, _, g = R.extrema[R.track_of.index(st["track"])]
        beta = np.radians(_angle(self.U[j], u))
        bj = self.band(j, st["track"], max(st["B"], beta))
        st["B"] = envelope_step(st["B"], bj, min(st["kappa"], self.om[j] * abs(g)),
                                R.t - st["t"], np.radians(_angle(st["u"], u)))
        st.update(kappa=self.om[j] * abs(g), t=R.t, u=u)
        return (R.t, j, np.degrees(beta), np.degrees(st["B"]), bool(self.heavy[j]))

    def attach(self, j: int) -> dict | None:
        """The state of neuron j attached to the nearest attractor of its sign that it is
        adjacent to or within twice its band of; None if there is none."""
        R = self.R
        cands = [(abs(float(_wrap(self.th[j] - self.ext_th[tid]))), tid, u, g)
                 for (u, s, g), tid in zip(R.extrema, R.track_of) if s == self.sg[j]]
        for beta, tid, u, g in sorted(cands, key=lambda c: c[0]):
            bj = self.band(j, tid, beta)
            if adjacent(self.kinks, self.th[j], self.ext_th[tid]) or beta <= 2 * bj:
                return {"track": tid, "B": max(beta, bj), "kappa": self.om[j] * abs(g),
                        "t": R.t, "u": u}
        return None

    def transit(self, j: int, out: NeuronFollow, t_end: float) -> dict:
        """Start a transit of neuron j here, with its frozen-landscape window."""
        from theory.later_phase import frozen_travel_time_2d

        R = self.R
        targets = [self.ext_th[tid] for (_, s, _), tid in zip(R.extrema, R.track_of)
                   if s == self.sg[j]]
        win = frozen_travel_time_2d(self.problem, R.r, float(self.th[j]), int(self.sg[j]),
                                    self.om[j], targets, 2 * self.step * self.own[j],
                                    max(t_end - R.t, 0.0) + 1e-12)
        out.transits.append({"neuron": j, "start": R.t, "end": None, "heavy_at": [],
                             "window": win})
        return {"track": None, "transit": len(out.transits) - 1}

    def move(self, j: int, prev: "_RecordView") -> tuple:
        """Neuron j's measured turn since ``prev`` and the turns the direction flow predicts
        from ``prev``'s angle with the landscapes of both records (degrees)."""
        dt = self.R.t - prev.R.t
        pred = [dt * self.sg[j] * o * _tangent_slope(self.problem, rr, prev.th[j])
                for rr, o in ((prev.R.r, prev.om[j]), (self.R.r, self.om[j]))]
        return (self.R.t, j, np.degrees(float(_wrap(self.th[j] - prev.th[j]))),
                np.degrees(pred[0]), np.degrees(pred[1]),
                np.degrees(self.step * self.own[j]), bool(self.heavy[j]))
