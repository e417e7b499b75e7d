"""Property: at escape, the trained mass sits on the predicted extremal directions."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from numerics.measure import match

from ..example import Example
from ..strategies import both_labels, datasets, general_position, losses, seeds
from ..training import ETA, train_to_escape
from .base import Outcome, Property, r

CLAIM = ("Trained from small initialisation (ε = 1e-8) until escape, at least 1 − δ of the "
         "network's squared norm lies within τ of a predicted extremum of the same sign "
         "(τ = 2°, δ = 1 %).")

EPS = 1e-8
M = 256
TAU_DEG = 2.0  # > the kink chattering band ≈ η = 0.02 rad = 1.1° of the adaptive step
# δ: at ε = 1e-8 escape comes after log(1/ε) = 18.4 growth times; a neuron still in transit then
# is one that started next to a separatrix of the sphere flow, and holds a share of the mass
# that decays like a power of ε; 1 % bounds it at this ε.
DELTA = 0.01


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    pred = theory.predict(p, basins=False)
    if pred.degenerate or not pred.extrema:
        return Outcome.not_applicable("no first-order prediction")
    run = train_to_escape(p, M, EPS, ex.seed, device=profile.device)
    if not run.escaped:
        return Outcome(False, f"training did not escape ({run.stop_reason})", {})
    mr = match(run.W, run.a, pred, TAU_DEG)
    ok = mr.matched_mass >= 1 - DELTA
    ev = {"mass_within_tau": r(mr.matched_mass), "tau_deg": TAU_DEG, "delta": DELTA,
          "worst_heavy_angle_deg": r(mr.worst_angle_deg), "steps": run.steps,
          "escape_time": r(run.escape_time), "extrema": len(pred.extrema), "eta": ETA}
    msg = (f"{100 * mr.matched_mass:.2f} % of the mass within {TAU_DEG}° of predicted extrema"
           if ok else f"only {100 * mr.matched_mass:.2f} % of the mass within {TAU_DEG}° of a "
           f"predicted extremum of the same sign (need {100 * (1 - DELTA):.0f} %)")
    plot = {"problem": p, "prediction": pred, "W": run.W, "a": run.a} if p.d == 2 else None
    return Outcome(ok, msg, ev, plot=plot)


@st.composite
def _strategy(draw, profile):
    real = draw(st.booleans())
    X, y = draw(datasets(n_max=25, d_max=3, real_targets=real))
    assume(general_position(X) and (real or both_labels(y)) and np.any(y != 0))
    act = draw(st.sampled_from(("relu", "leaky_relu:0.1", "abs")))
    loss = "square" if real else draw(losses())
    return Example(X, y, act, loss, draw(seeds()))


def _builtins():
    from numerics.datasets import skewed_xor, xor

    X, y = skewed_xor(n=16, alpha=float(np.pi / 3), seed=0)
    return [Example(X, y, "relu", "logistic", 0),
            Example(*xor(n=16, seed=1), "leaky_relu:0.1", "logistic", 1)]


PROPERTY = Property("clusters_match", CLAIM, _strategy, check, _builtins, uses_prediction=True)
