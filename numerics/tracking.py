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


# ----------------------------------------------------------------------------- the run
@dataclass(frozen=True)
class LaterSteps:
    """The step rule of a run continued past escape (:func:`train_later`).

    ``eta`` and ``lr_max`` are the early-phase adaptive rule (:mod:`numerics.recipes`: every
    neuron changes by at most a fraction ``eta`` of its size per step, and the step is at most
    ``lr_max``).  That rule is scale-free per neuron but blind to the output: once a network
    fits nearly collinear points of opposite labels its neurons grow large while the output
    stays O(1), and the loss's Hessian in θ grows like ``ℓ'' |x|² Σ_j |θ_j|²`` (the
    Gauss–Newton term), far beyond ``1/lr_max``.  Gradient descent then no longer follows the
    gradient flow: with ``lr · S > 2`` (``S`` the sharpness) it oscillates along the sharpest
    direction and the residuals with it.  So the step is also capped by ``sharp / S``, ``S``
    the bound :func:`theory.later_phase.sharpness_bound` at the start of each chunk of at most
    ``chunk`` steps; a chunk at whose end ``lr · S > 2·sharp`` is redone at half the length
    (S can still jump within one step, when a neuron's activation pattern changes; the run
    reports the largest ``dt · S`` over its recorded states).
    ``sharp ≤ 1/2`` keeps the sharpest mode's factor per step ``1 − lr·S ≥ 1/2`` (a monotone
    decay, as in the flow, never a sign flip) with its decay rate within
    ``−log(1 − h)/h − 1 ≤ 0.39`` of the flow's."""

    lr_max: float
    eta: float = 0.02
    sharp: float = 0.25
    chunk: int = 16
    record_every: int = 5


def train_later(problem, W0, a0, t0: float, t_end: float, rule: LaterSteps,
                device: str = "cpu"):
    """Gradient descent from the state ``(W0, a0)`` at time ``t0`` to ``t_end`` under the step
    rule :class:`LaterSteps`, recording every ``rule.record_every`` steps (and each chunk's
    end).  Returns a :class:`numerics.run_io.Run` on the absolute clock (``times`` from
    ``t0``); ``config["max_lr_sharpness"]`` is the largest ``dt · S`` over the recorded states
    (``dt`` the step taken from the state, ``S`` its :func:`theory.later_phase.
    sharpness_bound`): measured, so that a caller can see the rule held."""
    from theory.later_phase import sharpness_bound

    from .engine import train
    from .run_io import Run

    W = np.asarray(W0, dtype=float)
    a = np.asarray(a0, dtype=float)
    t, k_total = float(t0), 0
    times, losses, tt, ts, Ws, As = [], [], [t], [0], [W], [a]
    while t < t_end * (1 - 1e-12):
        S = sharpness_bound(problem, W, a)
        lr = min(rule.lr_max, rule.sharp / S) if S > 0 else rule.lr_max
        n_steps = rule.chunk
        while True:
            run = train(problem, W, a, adaptive=True, eta=rule.eta, lr=lr, lr_max=lr,
                        t_max=min(n_steps * lr, t_end - t), record=f"every:{rule.record_every}",
                        device=device, progress=False)
            if n_steps == 1 or lr * sharpness_bound(problem, run.W, run.a) <= 2 * rule.sharp:
                break
            n_steps = max(n_steps // 2, 1)
        times.append(t + run.times[:-1])
        losses.append(run.loss[:-1])
        tt.append(t + run.traj_times[1:])
        ts.append(k_total + run.traj_steps[1:])
        Ws.append(run.W_traj[1:])
        As.append(run.a_traj[1:])
        t += float(run.times[-1])
        k_total += int(run.steps)
        W, a = run.W, run.a
    f = problem.activation.numpy(problem.X @ W.T) @ a
    times.append([t])
    losses.append([float(np.mean(problem.loss.value(problem.y, f)))])
    out = Run(W=W, a=a, times=np.concatenate(times), loss=np.concatenate(losses),
              steps=k_total, stop_reason="time", config=dict(rule.__dict__))
    out.traj_times = np.concatenate([np.atleast_1d(x) for x in tt])
    out.traj_steps = np.concatenate([np.atleast_1d(x) for x in ts]).astype(np.int64)
    out.W_traj = np.concatenate([np.asarray(x).reshape(-1, *W.shape) for x in Ws])
    out.a_traj = np.concatenate([np.asarray(x).reshape(-1, *a.shape) for x in As])
    dts = np.diff(out.times)
    out.config["max_lr_sharpness"] = max(
        (float(dts[q]) * sharpness_bound(problem, out.W_traj[i], out.a_traj[i])
         for i, q in enumerate(out.traj_steps) if q < len(dts)), default=0.0)
    return out


# ----------------------------------------------------------------------------- neurons
@dataclass
class NeuronFollow:
    """Per-neuron comparison with the later-phase direction flow (:func:`follow_neurons`).

    ``checks``: rows ``(t, neuron, β, B, heavy)`` (degrees): a neuron attached to a track, at
    angle β from its attractor, and its tracking envelope B;
    ``transits``: dicts ``{neuron, start, end, window, heavy_at, why}``: a neuron is in
    transit from the first record until it is attached, and again after its attractor
    vanished (``why`` "vanished"), its envelope's premise failed (``why`` "released") or its
    output weight changed sign (``why`` "sign": ``a' = |w|·G_t(u)`` carries a neuron that
    sits at an attractor of its sign s where s·G_t(u) < 0 through a = 0; from then on its
    direction flow runs the other way and it follows the attractors of its new sign);
    ``window`` is the travel time the flow of the landscape frozen at the start predicts,
    ``end`` the arrival time (None: not arrived), ``heavy_at`` the records it was heavy at;
    ``released``: the number of envelope claims withdrawn; ``sign_changes``: the number of
    attached neurons whose output weight changed sign; ``refined``: the number of
    neuron-records whose envelope was re-derived on the fine grid (:class:`FineGrid`)."""

    checks: list = field(default_factory=list)
    transits: list = field(default_factory=list)
    released: int = 0
    sign_changes: int = 0
    refined: int = 0


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


_SLOPES: dict = {}


def _max_activation_slope(name: str, act) -> float:
    """max|σ'|, attained on [−10, 10] for every activation here (1 for the piecewise-linear ones
    with |γ| ≤ 1, 1.13 for GELU); computed once per activation (the fine grid asks per record)."""
    if name not in _SLOPES:
        _SLOPES[name] = float(np.max(np.abs(act.numpy_deriv(np.linspace(-10, 10, 4001)))))
    return _SLOPES[name]


def landscape_change(problem, weights_prev, weights) -> float:
    """A bound on the change of the slope ``dG/dθ`` anywhere on the circle between two
    landscapes (loss weights ``weights_prev`` → ``weights``, d = 2):
    ``|Δ dG/dθ| ≤ (1/n) Σ_i |Δweights_i| |x_i| · max|σ'|`` (``d/dθ σ(⟨u, x⟩)`` is at most
    ``|x| max|σ'|``).  Between two consecutive records it measures how far the landscape the
    steps were taken on can be from the records' (gradient descent's residuals move between
    records, and chatter where other neurons chatter on kinks)."""
    X = np.asarray(problem.X, dtype=float)
    lip = _max_activation_slope(str(problem.activation), problem.activation)
    dw = np.abs(np.asarray(weights, dtype=float) - np.asarray(weights_prev, dtype=float))
    return float(lip * np.sum(dw * np.linalg.norm(X, axis=1)) / len(X))


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


def _own_residuals(problem, r):
    return r


def _theta(u) -> float:
    return float(np.arctan2(u[1], u[0]))


class FineGrid:
    """Every recorded state of a run, to re-derive an envelope between two examined records.

    The envelope is a statement about continuous time; the examined records sample it.  When a
    neuron is found outside the envelope stepped from one examined record to the next, the same
    bound is stepped again through every recorded state in between (``W_traj``/``a_traj``/
    ``times`` the run's records, ``steps`` their step sizes, :func:`record_step_sizes`;
    ``sel`` the examined records' indices): the attractor is followed record by record
    (:func:`link`, with ``extrema_fn``), its displacement summed along its path, κ and the
    premise (:func:`theory.later_phase.pull_radius_2d` on ``landscape(problem, r)``) taken at
    each record.  If the attractor vanishes in between, or reappears as another one, or the
    premise fails, the claim is withdrawn: the coarse records had not resolved the landscape."""

    def __init__(self, problem, times, W_traj, a_traj, steps, sel, extrema_fn,
                 landscape=None):
        self.problem, self.times = problem, np.asarray(times, dtype=float)
        self.W, self.a, self.steps = W_traj, a_traj, np.asarray(steps, dtype=float)
        self.sel = [int(q) for q in sel]
        self.extrema_fn = extrema_fn
        self.landscape = landscape or _own_residuals
        self._chains: dict = {}

    def chain(self, k: int, u_start, u_end, sign: int):
        """The attractor that sits at ``u_start`` at examined record ``k − 1`` followed through
        every record up to examined record ``k``: rows ``(q, t, u, G, r)``, or None when it
        vanished or arrives elsewhere than ``u_end``."""
        from theory.later_phase import residuals

        key = (k, round(_theta(u_start), 12), sign)
        if key in self._chains:
            return self._chains[key]
        q0 = self.sel[k - 1]
        prev = _extrema_rows(self.extrema_fn(self.problem,
                                             residuals(self.problem, self.W[q0], self.a[q0])))
        cand = [i for i, (u, s, _) in enumerate(prev) if s == sign]
        i_prev = min(cand, key=lambda i: _angle(prev[i][0], u_start)) if cand else None
        rows = []
        for q in range(q0 + 1, self.sel[k] + 1):
            if i_prev is None:
                break
            r = residuals(self.problem, self.W[q], self.a[q])
            cur = _extrema_rows(self.extrema_fn(self.problem, r))
            nxt = link(prev, cur)
            i_prev = nxt.index(i_prev) if i_prev in nxt else None
            if i_prev is not None:
                rows.append((q, float(self.times[q]), cur[i_prev][0], cur[i_prev][2], r))
            prev = cur
        ok = i_prev is not None and rows and _angle(rows[-1][2], u_end) < 1e-9
        self._chains[key] = rows if ok else None
        return self._chains[key]

    def envelope(self, k: int, j: int, st: dict, u_end, sign: int, kinks) -> float | None:
        """Neuron j's envelope at examined record ``k`` stepped through every record since
        ``k − 1`` (radians; ``st`` its state at ``k − 1``), or None if the claim is withdrawn
        (class docstring)."""
        from theory.later_phase import angular_speed, envelope_step, pull_radius_2d

        rows = self.chain(k, st["u"], u_end, sign)
        if rows is None:
            return None
        B, u_prev, kap_prev, valid_prev, t_prev = st["B"], st["u"], st["kappa"], st["valid"], \
            st["t"]
        from theory.later_phase import residuals

        q0 = self.sel[k - 1]  # ω·max|dG_t/dθ| at the previous record (rad per unit time)
        w0, a0 = np.asarray(self.W[q0]), np.asarray(self.a[q0])
        r0 = residuals(self.problem, w0, a0)
        turn_prev = abs(a0[j]) / np.linalg.norm(w0[j]) * max_slope_near(
            self.problem, r0, _theta(u_prev), B, kinks)
        land_prev, rho_prev = self.landscape(self.problem, r0), st.get("rho", 0.0)
        for q, t, u, g, r in rows:
            w, a = np.asarray(self.W[q]), np.asarray(self.a[q])
            om = abs(a[j]) / np.linalg.norm(w[j])
            uj = w[j] / np.linalg.norm(w[j])
            beta = np.radians(_angle(uj, u))
            own = angular_speed(self.problem, w[j:j + 1], a[j:j + 1], r)[0]
            turn = om * max_slope_near(self.problem, r, _theta(u), max(B, beta), kinks)
            # The steps since the previous record were taken from the states in between:
            # one turns the neuron by at most dt·ω·|dG_t/dθ| at its own state, bounded by the
            # interval's largest step times the larger turn rate of its two end records (the
            # residuals move little over the few steps between records).  The end record's
            # rate alone fell short: seed 2001 (n = 5, ReLU), a chattering neuron 0.601° off
            # against 0.589°, while the steps grew from 0.16 to 0.29 and the slope fell from
            # 0.066 to 0.034 over the last records.
            band = self.steps[q] * max(own, turn, turn_prev)
            turn_prev = turn
            kap = om * abs(g)
            land = self.landscape(self.problem, r)
            valid = pull_radius_2d(self.problem, land, _theta(u), sign, abs(g))
            # the landscape's change over this interval bounds how far the one the steps were
            # taken on was from the two records' (envelope_step's drift)
            rho = landscape_change(self.problem, land_prev, land)
            B = envelope_step(B, band, min(kap_prev, kap), t - t_prev,
                              np.radians(_angle(u_prev, u)), om * max(rho, rho_prev) * (t - t_prev))
            land_prev, rho_prev = land, rho
            if B > min(valid_prev, valid):
                return None
            u_prev, kap_prev, valid_prev, t_prev = u, kap, valid, t
        return B


def follow_neurons(problem, tracking: Tracking, W_traj, a_traj, step_sizes, *,
                   heavy: float = measure.DEFAULT_HEAVY, landscape=None,
                   fine: FineGrid | None = None, changes=None) -> NeuronFollow:
    """Follow every neuron along the recorded states against the direction flow of G_t (d = 2).

    ``W_traj``/``a_traj``/``step_sizes`` are aligned with ``tracking.records``;
    ``landscape(problem, r)``: the loss weights of the landscape whose direction flow the
    theory under test says the neurons follow (default ``r`` itself: ``G_t``); the premise of
    the envelope is computed on it, so a wrong theory is judged by its own landscape.

    * **Premise.**  Around an attractor u* of sign s the envelope needs the pull bound
      ``β' ≤ −κ sin β`` for every angle ``β ≤ B`` (κ = ``(|a_j|/|w_j|)|G(u*)|``); it holds up
      to the pull radius :func:`theory.later_phase.pull_radius_2d`.
    * **Band.**  The most one gradient step can turn neuron j near its attractor:
      ``step size × (|a_j|/|w_j|) × max |dG_t/dθ|`` over the arc around u* that holds the
      neuron (:func:`max_slope_near`, radius the larger of its angle and its envelope).
    * **Attached.**  A neuron is attached to the nearest attractor of its sign whose pull
      radius covers ``max(β, band)``; from then on it is compared with the envelope
      :func:`theory.later_phase.envelope_step` started at ``max(β, band)``, stepped with the
      smaller κ of the two records.  When the envelope exceeds the pull radius at either record
      the claim is withdrawn (``released``); when the attractor vanishes the neuron goes into
      transit.  A neuron found outside its envelope is re-derived on ``fine`` when given
      (:class:`FineGrid`): only an excess that persists there is reported as a check row
      with β > B.
    * **Drift.**  ``changes`` (aligned with the records; default 0): per record, the landscape's
      change over one recording interval just before it (:func:`landscape_change`); the
      envelope adds ``(|a_j|/|w_j|) × change × elapsed time`` (``envelope_step``'s drift)."""
    recs = tracking.records
    changes = np.zeros(len(recs)) if changes is None else np.asarray(changes, dtype=float)
    m = np.asarray(W_traj[0]).shape[0]
    kinks = kink_angles(problem.X)
    out = NeuronFollow()
    landscape = landscape or _own_residuals
    state: dict[int, dict] = {}
    for k, R in enumerate(recs):
        v = _RecordView(problem, R, W_traj[k], a_traj[k], step_sizes[k], kinks, heavy / m,
                        landscape(problem, R.r), changes[k])
        for j in range(m):
            st = state.get(j)
            if st is not None and st["track"] is not None:
                row, why = v.envelope(j, st, k, fine)
                if row is not None:
                    out.checks.append(row)
                    continue
                out.released += why == "released"
                out.sign_changes += why == "sign"
                state[j] = v.transit(j, out, recs[-1].t, why)
            cur = state.get(j)
            att = v.attach(j)
            if att is not None:
                state[j] = att
                if cur is not None:
                    out.transits[cur["transit"]]["end"] = R.t
                continue
            if cur is None:
                state[j] = v.transit(j, out, recs[-1].t, "start")
            if v.heavy[j]:
                out.transits[state[j]["transit"]]["heavy_at"].append(R.t)
        out.refined = getattr(fine, "refined", 0)
    return out


class _RecordView:
    """One record's quantities for :func:`follow_neurons` (angles in radians)."""

    def __init__(self, problem, R: Record, W, a, step: float, kinks, heavy_mass: float,
                 weights, change: float = 0.0):
        from theory.later_phase import angular_speed

        W, a = np.asarray(W), np.asarray(a)
        self.problem, self.R, self.step, self.kinks = problem, R, float(step), kinks
        self.weights, self.change = weights, float(change)
        U = measure.directions(W)
        self.U = U
        self.th = np.arctan2(U[:, 1], U[:, 0])
        self.om = np.abs(a) / np.linalg.norm(W, axis=1)
        self.sg = measure.signs(a)
        self.heavy = measure.mass(W, a) >= heavy_mass
        self.own = angular_speed(problem, W, a, R.r)
        self.ext = {tid: (u, s, g) for (u, s, g), tid in zip(R.extrema, R.track_of)}
        self.ext_th = {tid: _theta(u) for tid, (u, _, _) in self.ext.items()}
        self._valid: dict = {}

    def band(self, j: int, tid: int, radius: float) -> float:
        return self.step * max(self.own[j], self.om[j] * max_slope_near(
            self.problem, self.R.r, self.ext_th[tid], radius, self.kinks))

    def valid(self, tid: int) -> float:
        """The pull radius of attractor ``tid`` on the theory's landscape (radians)."""
        from theory.later_phase import pull_radius_2d

        if tid not in self._valid:
            _, s, g = self.ext[tid]
            self._valid[tid] = pull_radius_2d(self.problem, self.weights, self.ext_th[tid], s,
                                              abs(g))
        return self._valid[tid]

    def envelope(self, j: int, st: dict, k: int, fine) -> tuple:
        """Advance neuron j's envelope to this record: ``(row for checks, None)``, or
        ``(None, why)`` when its attractor vanished or the claim is withdrawn."""
        from theory.later_phase import envelope_step

        tid = st["track"]
        if tid not in self.ext:
            return None, "vanished"
        u, s, g = self.ext[tid]
        if self.sg[j] != s:  # a_j changed sign: the attractor is no longer one of its sign
            return None, "sign"
        beta = np.radians(_angle(self.U[j], u))
        bj = self.band(j, tid, max(st["B"], beta))
        kap = self.om[j] * abs(g)
        valid = self.valid(tid)
        elapsed = self.R.t - st["t"]
        B = envelope_step(st["B"], bj, min(st["kappa"], kap), elapsed,
                          np.radians(_angle(st["u"], u)),
                          self.om[j] * max(self.change, st.get("rho", 0.0)) * elapsed)
        if B > min(st["valid"], valid):
            return None, "released"
        if beta > B and fine is not None:
            fine.refined = getattr(fine, "refined", 0) + 1
            B = fine.envelope(k, j, st, u, s, self.kinks)
            if B is None:
                return None, "released"
        st.update(B=B, kappa=kap, t=self.R.t, u=u, valid=valid, rho=self.change)
        return (self.R.t, j, np.degrees(beta), np.degrees(B), bool(self.heavy[j])), None

    def attach(self, j: int) -> dict | None:
        """The state of neuron j attached to the nearest attractor of its sign whose pull radius
        covers ``max(β, band)``; None if there is none."""
        cands = [(abs(float(_wrap(self.th[j] - self.ext_th[tid]))), tid)
                 for tid, (_, s, _) in self.ext.items() if s == self.sg[j]]
        for beta, tid in sorted(cands):
            B = max(beta, self.band(j, tid, beta))
            valid = self.valid(tid)
            if B <= valid:
                u, _, g = self.ext[tid]
                return {"track": tid, "B": B, "kappa": self.om[j] * abs(g), "t": self.R.t,
                        "u": u, "valid": valid, "rho": self.change}
        return None

    def transit(self, j: int, out: NeuronFollow, t_end: float, why: str) -> dict:
        """Start a transit of neuron j here, with its frozen-landscape window."""
        from theory.later_phase import frozen_travel_time_2d

        targets = [self.ext_th[tid] for tid, (_, s, _) in self.ext.items() if s == self.sg[j]]
        win = frozen_travel_time_2d(self.problem, self.R.r, float(self.th[j]), int(self.sg[j]),
                                    self.om[j], targets, 2 * self.step * self.own[j],
                                    max(t_end - self.R.t, 0.0) + 1e-12)
        out.transits.append({"neuron": j, "start": self.R.t, "end": None, "heavy_at": [],
                             "window": win, "why": why})
        return {"track": None, "transit": len(out.transits) - 1}
