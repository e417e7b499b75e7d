"""Property: after escape, neurons follow the moving attractors of G_t (the later phase)."""

from __future__ import annotations

import math
import time

import numpy as np
from hypothesis import strategies as st

from numerics.engine import train
from numerics.init import init_weights
from numerics.tracking import (
    FineGrid,
    LaterSteps,
    follow_neurons,
    landscape_change,
    record_step_sizes,
    track,
    train_later,
)
from theory.later_phase import residuals

from ..example import Example
from ..later_theory import later_of
from ..strategies import PL_ACTIVATIONS, examples, seeds, xor_points
from ..training import ETA, escape_level, rate_bound
from .base import Outcome, Property, r
from .xor_persistence import initial_weights as unequal_weights

CLAIM = ("After escape, on 2-D data, every heavy neuron attached to an attractor of G_t of its "
         "sign (a local max of G_t for a > 0, a min for a < 0; G_t has the residuals r_i(t) as "
         "loss weights) stays within its tracking envelope B(t): the gradient step's chattering "
         "band plus the attractor's displacement, relaxed at κ = (|a|/|w|)|G_t(u*)|, claimed "
         "while B is within the attractor's pull radius (where the direction flow pulls at "
         "least κ sin β). Gradient descent is run with lr · sharpness ≤ 1/4, where it follows "
         "the flow. Transits after an attractor vanishes, or after the neuron's output weight "
         "changes sign (it then follows the attractors of its new sign), are reported, not "
         "checked.")

M = 32
EPS = 1e-6
# Continue for this many growth times (1/λ_max) past escape: long enough for the residuals to
# change by O(1) (the fitted clusters' r_i drop by e^{-1} every few growth times), so the
# extrema of G_t move, vanish and appear.
HORIZON = 20.0
RECORD_EVERY = 5
# The sharpness cap of the later-phase step (LaterSteps): lr · S ≤ 1/4.  The early-phase rule
# alone let lr · S reach 6 on nearly collinear opposite labels (gradient descent then
# oscillates, the loss rises on a third of the steps, and the run is not the flow this
# property is about).  lr · S < 1 keeps the sharpest mode's decay monotone as in the flow;
# 1/4 leaves a factor 2 for S growing within a chunk (a chunk ending above 2·SHARP is redone
# shorter) and another for S jumping within a step at a kink (measured: ≤ 0.61).
SHARP = 0.25
# Records examined after escape (evenly spaced in the recorded grid); each costs one exact
# attractor enumeration.  The examined records can miss the landscape between them (an
# attractor that vanishes and reappears, or moves out and back); an excess found on them is
# therefore re-derived through every record in between (numerics.tracking.FineGrid), and
# only an excess that persists there fails.  The examined grid sets the cost.
RECORDS = {"quick": 16, "ci": 16}
RECORDS_DEFAULT = 40
# Rounding: β and B are computed in float64 from unit vectors (angles to ~1e-7 degrees).
ROUND_DEG = 1e-6


def run_later(p, W0, a0, lam: float, device: str = "cpu"):
    """Train to escape (the suite's recipe), then continue from the escape state for HORIZON
    growth times ``1/lam`` under :class:`numerics.tracking.LaterSteps` (the early-phase rule
    plus the sharpness cap ``lr · S ≤ SHARP``), recording every RECORD_EVERY steps; if a
    recorded state still took a step with ``dt · S ≥ 1`` (S can jump within a step when a
    neuron's activation pattern changes), again with the cap halved, at most twice.
    Returns (run, escape time); run is None if training did not escape, and its
    ``config["max_lr_sharpness"]`` tells whether the last attempt held."""
    lr_max = 1.0 / rate_bound(p)
    first = train(p, W0, a0, adaptive=True, eta=ETA, lr=lr_max, lr_max=lr_max,
                  until_escape=True, escape_level=escape_level(p), device=device,
                  progress=False, max_steps=200_000)
    if not first.escaped:
        return None, math.nan
    for sharp in (SHARP, SHARP / 2, SHARP / 4):
        rule = LaterSteps(lr_max=lr_max, eta=ETA, sharp=sharp, record_every=RECORD_EVERY)
        run = train_later(p, first.W, first.a, first.time, first.escape_time + HORIZON / lam,
                          rule, device=device)
        if run.config["max_lr_sharpness"] < 1.0:
            break
    return run, first.escape_time


def later_rate(p) -> float:
    """λ_max of the early phase (the growth-time unit of HORIZON)."""
    from theory.extrema import predict

    if p.G_identically_zero:
        return 0.0
    lm = predict(p, basins=False).lambda_max
    return float(lm) if lm else float(p.G_rate_bound)


def follow(p, run, t_escape: float, n_records: int, later):
    """Tracking and the per-neuron comparison on ``n_records`` records after escape, with the
    run's every record as the fine grid that confirms an apparent excess."""
    tt = run.traj_times
    after = np.nonzero(tt >= t_escape)[0]
    sel = after[np.unique(np.linspace(0, len(after) - 1, min(n_records, len(after)))
                          .round().astype(int))]
    tr = track(p, tt, run.W_traj, run.a_traj, extrema_fn=later.attractors, records=sel)
    fine = FineGrid(p, tt, run.W_traj, run.a_traj, record_step_sizes(run.times, run.traj_steps),
                    sel, later.attractors, later.landscape)
    steps = record_step_sizes(run.times, run.traj_steps[sel])
    # the landscape's change over the recording interval before each examined record
    # (the envelope's drift term; the fine grid takes every interval's own)
    # (the examined records' residuals are the tracking's own, R.r)
    changes = [0.0 if q == 0 else landscape_change(
        p, later.landscape(p, residuals(p, run.W_traj[q - 1], run.a_traj[q - 1])),
        later.landscape(p, R.r)) for q, R in zip(sel, tr.records)]
    return tr, follow_neurons(p, tr, run.W_traj[sel], run.a_traj[sel], steps,
                              landscape=later.landscape, fine=fine, changes=changes)


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
    t_start = time.perf_counter()
    run, t_esc = run_later(p, W0, a0, lam, device=profile.device)
    if run is None:
        return Outcome(False, "training did not escape", {})
    if run.config["max_lr_sharpness"] >= 1.0:
        return Outcome.not_applicable(
            f"gradient descent left the flow's regime (dt · sharpness = "
            f"{run.config['max_lr_sharpness']:.3g} ≥ 1 at a recorded state)")
    n_rec = RECORDS.get(profile.name, RECORDS_DEFAULT)
    t0 = time.perf_counter()
    tr, fo = follow(p, run, t_esc, n_rec, later_of(theory))
    heavy = [c for c in fo.checks if c[4]]
    bad = [c for c in heavy if c[2] > c[3] + ROUND_DEG]
    transits = [t for t in fo.transits if t["heavy_at"]]
    t_last = tr.records[-1].t
    windows = [(t["end"] if t["end"] is not None else t_last) - t["start"] for t in transits]
    ev = {"records": len(tr.records), "fine_records": len(run.traj_times),
          "steps": int(run.steps), "max_lr_sharpness": r(run.config["max_lr_sharpness"]),
          "t_escape": r(t_esc), "t_end": r(tr.records[-1].t),
          "heavy_checks": len(heavy), "worst_angle_deg": r(max((c[2] for c in heavy),
                                                              default=0.0)),
          "max_envelope_deg": r(max((c[3] for c in heavy), default=0.0)),
          "worst_ratio": r(max((c[2] / c[3] for c in heavy if c[3] > 0), default=0.0)),
          "vanished": sum(t.vanished is not None for t in tr.tracks.values()),
          "released": fo.released, "sign_changes": fo.sign_changes, "refined": fo.refined,
          "heavy_transits": len(transits), "longest_window": r(max(windows, default=0.0)),
          "unfinished_transits": sum(t["end"] is None for t in transits),
          "final_loss": r(run.loss[-1]), "seconds_train": r(t0 - t_start),
          "seconds_follow": r(time.perf_counter() - t0)}
    problems = []
    if bad:
        t, j, beta, B, _ = max(bad, key=lambda c: c[2] - c[3])
        problems.append(f"{len(bad)} heavy neuron-records outside the envelope; worst: neuron "
                        f"{j} at t = {t:.4g} is {beta:.3g}° from its attractor, envelope "
                        f"{B:.3g}°")
    if not heavy and transits and all(t["end"] is None for t in transits):
        # the claim is about attached neurons: this run never had one to judge (counted)
        return Outcome.not_applicable(
            f"every heavy neuron was in transit until the run ended ({len(transits)} "
            f"unfinished transits after escape at t = {t_esc:.4g}, run ends at "
            f"t = {t_last:.4g}): nothing attached to judge")
    if not heavy:
        problems.append("no heavy neuron was ever attached to an attractor")
    ok = not problems
    msg = (f"{len(heavy)} heavy neuron-records within their envelopes (worst angle "
           f"{ev['worst_angle_deg']}°, envelope up to {ev['max_envelope_deg']}°, worst ratio "
           f"{ev['worst_ratio']}); {fo.released} claims withdrawn, {fo.sign_changes} sign "
           "changes") if ok else "; ".join(problems)
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
