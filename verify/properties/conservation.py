"""Property: a² − |w|² is conserved per neuron, up to the step's second-order error."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from numerics.engine import TrainingDiverged, train
from numerics.init import init_weights

from ..example import Example
from ..strategies import both_labels, datasets, general_position, losses, seeds
from ..training import rate_bound
from .base import Outcome, Property, r

CLAIM = ("For 1-homogeneous σ the gradient flow conserves a_j² − |w_j|² for every neuron (full "
         "flow, not only the early phase): a gradient-descent step changes it by at most "
         "|Δa_j|² + |Δw_j|², i.e. second order in the step, and never at first order.")

ACTS = ("relu", "leaky_relu:0.1", "abs", "linear")


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    m, steps = 16, 300
    lr = 0.2 / rate_bound(p)
    # ε = 0.5: an O(1) network, so the full (nonlinear) flow is tested, not just the early phase.
    # The claim is about gradient descent at a stable step: if the run diverges (the O(1)
    # network's curvature can exceed the early-phase rate), the step is quartered and rerun.
    W, a = init_weights("gaussian", m, p.d, 0.5, ex.seed)
    for _ in range(6):
        try:
            run = train(p, W, a, lr=lr, steps=steps, record="every:1", progress=False)
            break
        except TrainingDiverged:
            lr /= 4
    else:
        return Outcome.not_applicable("gradient descent diverged at every step size tried")
    Wt, at = run.W_traj, run.a_traj
    q = theory.conserved(Wt, at)  # (T, m)
    dq = np.abs(np.diff(q, axis=0))
    second = np.diff(at, axis=0) ** 2 + np.sum(np.diff(Wt, axis=0) ** 2, axis=-1)
    # float64 rounding: q is a difference of squares of size |θ|², each step a few ulps
    size = at[1:] ** 2 + np.sum(Wt[1:] ** 2, axis=-1)
    slack = 1e-12 * size
    excess = dq - (second + slack)
    ok = bool(np.all(excess <= 0))
    drift = float(np.max(np.abs(q[-1] - q[0]) / np.maximum(size[-1], 1e-300)))
    ev = {"steps": steps, "lr": r(lr), "max_step_change_over_second_order":
          r(float(np.max(dq / np.maximum(second + slack, 1e-300)))), "relative_drift": r(drift)}
    msg = ("every step changed a²−|w|² by at most the second-order bound" if ok else
           "a step changed the conserved quantity at first order (exceeds |Δa|²+|Δw|²)")
    return Outcome(ok, msg, ev)


@st.composite
def _strategy(draw, profile):
    X, y = draw(datasets(n_max=20))
    assume(general_position(X) and both_labels(y))
    return Example(X, y, draw(st.sampled_from(ACTS)), draw(losses()), draw(seeds()))


def _builtins():
    X = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    return [Example(X, np.array([-1.0, -1, 1, 1]), "relu", "logistic", 0)]


PROPERTY = Property("conservation", CLAIM, _strategy, check, _builtins)
