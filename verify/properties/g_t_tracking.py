"""Property: after escape, neurons follow the moving attractors of G_t (the later phase)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from numerics.engine import train
from numerics.init import init_weights
from numerics.tracking import follow_neurons, record_step_sizes, track

from ..example import Example
from ..later_theory import later_of
from ..strategies import PL_ACTIVATIONS, examples, seeds, xor_points
from ..training import ETA, escape_level, rate_bound
from .base import Outcome, Property, r
from .xor_persistence import initial_weights as unequal_weights

CLAIM = ("After escape, on 2-D data, every heavy neuron stays within its tracking envelope B(t) "
         "of an attractor of G_t of its sign (a local max of G_t for a > 0, a min for a < 0; "
         "G_t has the residuals r_i(t) as loss weights): B is the gradient step's chattering "
         "band plus the attractor's displacement, relaxed at κ = (|a|/|w|)|G_t(u*)|. After its "
         "attractor vanishes a neuron is in transit and turns the way the direction flow of G_t "
         "says.")

M = 32
EPS = 1e-6
# Continue for this many growth times (1/λ_max) past escape: long enough for the residuals to
# change by O(1) (the fitted clusters' r_i drop by e^{-1} every few growth times), so the
# extrema of G_t move, vanish and appear.
HORIZON = 20.0
RECORD_EVERY = 5
# Records examined after escape (evenly spaced in the recorded grid); each costs one exact
# attractor enumeration.  The envelope is conservative on a coarser grid (a displacement is
# added whole), so fewer records only loosen it.
RECORDS = {"quick": 16, "ci": 16}
RECORDS_DEFAULT = 40
# Rounding: β and B are computed in float64 from unit vectors (angles to ~1e-7 degrees).
ROUND_DEG = 1e-6


def run_later(p, W0, a0, lam: float, device: str = "cpu"):
    """Train to escape (the suite's level), then again from the same start for HORIZON growth
    times ``1/lam`` past it, recording every RECORD_EVERY steps.  Returns (run, escape
    time)."""
    lr_max = 1.0 / rate_bound(p)
    first = train(p, W0, a0, adaptive=True, eta=ETA, lr=lr_max, lr_max=lr_max,
                  until_escape=True, escape_level=escape_level(p), device=device,
                  progress=False, max_steps=200_000)
    if not first.escaped:
        return None, math.nan
    run = train(p, W0, a0, adaptive=True, eta=ETA, lr=lr_max, lr_max=lr_max,
                t_max=first.escape_time + HORIZON / lam, record=f"every:{RECORD_EVERY}",
                device=device, progress=False)
    return run, first.escape_time


def later_rate(p) -> float:
    """λ_max of the early phase (the growth-time unit of HORIZON)."""
    from theory.extrema import predict

    if p.G_identically_zero:
        return 0.0
    lm = predict(p, basins=False).lambda_max
    return float(lm) if lm else float(p.G_rate_bound)


def follow(p, run, t_escape: float, n_records: int, attractors):
    """Tracking and the per-neuron comparison on ``n_records`` records after escape."""
    tt = run.traj_times
    after = np.nonzero(tt >= t_escape)[0]
    sel = after[np.unique(np.linspace(0, len(after) - 1, min(n_records, len(after)))
                          .round().astype(int))]
    tr = track(p, tt, run.W_traj, run.a_traj, extrema_fn=attractors, records=sel)
    steps = record_step_sizes(run.times, run.traj_steps[sel])
    return tr, follow_neurons(p, tr, run.W_traj[sel], run.a_traj[sel], steps)


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    if p.d != 2:
        return Outcome.not_applicable("the tracking envelope is derived for d = 2")
    lam = later_rate(p)
    if lam <= 0 or p.G_identically_zero:
        return Outcome.not_applicable("no early-phase growth")
    if ex.params.get("init") == "unequal":
        W0, a0 = unequal_weights(ex.seed, int(ex.params["big"]))
    else:
        W0, a0 = init_weights("small_a", M, 2, EPS, ex.seed)
    run, t_esc = run_later(p, W0, a0, lam, device=profile.device)
    if run is None:
        return Outcome(False, "training did not escape", {})
    n_rec = RECORDS.get(profile.name, RECORDS_DEFAULT)
    tr, fo = follow(p, run, t_esc, n_rec, later_of(theory).attractors)
    heavy = [c for c in fo.checks if c[4]]
    bad = [c for c in heavy if c[2] > c[3] + ROUND_DEG]
    # transit: where the predictions with both records' landscapes agree in sign and exceed
    # the chattering band, the measured turn must have that sign
    moves = [mv for mv in fo.moves if mv[6] and np.sign(mv[3]) == np.sign(mv[4])
             and min(abs(mv[3]), abs(mv[4])) > mv[5]]
    wrong = [mv for mv in moves if np.sign(mv[2]) != np.sign(mv[3])]
    transits = [t for t in fo.transits if t["heavy_at"]]
    t_last = tr.records[-1].t
    windows = [(t["end"] if t["end"] is not None else t_last) - t["start"] for t in transits]
    ev = {"records": len(tr.records), "t_escape": r(t_esc), "t_end": r(tr.records[-1].t),
          "heavy_checks": len(heavy), "worst_angle_deg": r(max((c[2] for c in heavy),
                                                              default=0.0)),
          "max_envelope_deg": r(max((c[3] for c in heavy), default=0.0)),
          "worst_ratio": r(max((c[2] / c[3] for c in heavy if c[3] > 0), default=0.0)),
          "vanished": sum(t.vanished is not None for t in tr.tracks.values()),
          "heavy_transits": len(transits), "transit_moves_checked": len(moves),
          "longest_window": r(max(windows, default=0.0)),
          "unfinished_transits": sum(t["end"] is None for t in transits),
          "final_loss": r(run.loss[-1])}
    problems = []
    if bad:
        t, j, beta, B, _ = max(bad, key=lambda c: c[2] - c[3])
        problems.append(f"{len(bad)} heavy neuron-records outside the envelope; worst: neuron "
                        f"{j} at t = {t:.4g} is {beta:.3g}° from its attractor, envelope "
                        f"{B:.3g}°")
    if wrong:
        t, j, meas, pred, _, band, _ = wrong[0]
        problems.append(f"{len(wrong)} transit turns against the direction flow; first: neuron "
                        f"{j} at t = {t:.4g} turned {meas:+.3g}°, predicted {pred:+.3g}°")
    if not heavy:
        problems.append("no heavy neuron was ever attached to an attractor")
    ok = not problems
    msg = (f"{len(heavy)} heavy neuron-records within their envelopes (worst angle "
           f"{ev['worst_angle_deg']}°, envelope up to {ev['max_envelope_deg']}°); "
           f"{len(moves)} transit turns as predicted") if ok else "; ".join(problems)
    return Outcome(ok, msg, ev)


@st.composite
def _strategy(draw, profile):
    kind = draw(st.sampled_from(("generic", "generic", "xor")))
    if kind == "xor":
        alpha = draw(st.integers(20, 100).map(lambda k: k / 64))
        X, y = xor_points(alpha, 1.0)
        return Example(X, y, "relu", "logistic", draw(seeds()),
                       {"init": "unequal", "big": draw(st.sampled_from((1, -1))),
                        "alpha": alpha}, "xor")
    # the tracking envelope is derived on the circle: 2-D data, generic or clustered
    ex = draw(examples(activations=PL_ACTIVATIONS, d_min=2, d_max=2, n_max=16))
    ex.params = dict(ex.params, init="small_a")
    return ex


def _builtins():
    from numerics.datasets import skewed_xor

    X, y = xor_points(math.pi / 3, 1.0)
    Xs, ys = skewed_xor(n=16, alpha=math.pi / 3, seed=0)
    return [Example(X, y, "relu", "logistic", 0, {"init": "unequal", "big": 1,
                                                  "alpha": math.pi / 3}),
            Example(Xs, ys, "relu", "logistic", 1, {"init": "small_a"})]


PROPERTY = Property("g_t_tracking", CLAIM, _strategy, check, _builtins)
