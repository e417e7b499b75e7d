"""Property: gradient descent changes a² − |w|² by exactly (Δa)² − |Δw|² per step.

For positively 1-homogeneous σ, Euler's identity σ'(z) z = σ(z) gives ⟨w_j, −∂L/∂w_j⟩ =
a_j · (−∂L/∂a_j) for every neuron, whatever the residuals.  An explicit Euler (gradient-descent)
step θ⁺ = θ + dt·g therefore changes q_j = a_j² − |w_j|² by

    q_j⁺ − q_j = 2 dt (a_j g_a − ⟨w_j, g_w⟩) + dt² (g_a² − |g_w|²) = (Δa_j)² − |Δw_j|²,

an identity of the discrete scheme (the gradient flow's conservation law is its dt → 0 limit).
The check compares both sides step by step in float64; a non-homogeneous σ (tanh) breaks it at
first order in dt, and so does any other claimed conserved quantity.
"""

from __future__ import annotations

import numpy as np

from numerics.engine import TrainingDiverged, train
from numerics.init import init_weights

from ..example import Example
from ..strategies import examples
from ..training import rate_bound
from .base import Outcome, Property, r

CLAIM = ("For 1-homogeneous σ every gradient-descent step changes a_j² − |w_j|² by exactly "
         "(Δa_j)² − |Δw_j|² (the discrete form of the conservation law), up to float64 "
         "rounding, in the full (nonlinear) dynamics.")

ACTS = ("relu", "leaky_relu:0.1", "abs", "linear")
#: float64 rounding: q and the increments are sums of d + 1 squares each rounded to half an
#: ulp, and q⁺ − q cancels; 16 ulps of the largest square involved bounds the error.
ULPS = 16


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    m, steps = 16, 200
    lr = 0.2 / rate_bound(p)
    # ε = 0.5: an O(1) network, so the full (nonlinear) flow is tested, not just the early phase.
    # At an unstable step (the O(1) network's curvature can exceed the early-phase rate) the
    # step is quartered: the identity holds for any step, but a diverging run has no states.
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
    q = theory.conserved(Wt, at)                                       # (T, m)
    dq = np.diff(q, axis=0)
    dW, da = np.diff(Wt, axis=0), np.diff(at, axis=0)
    rhs = da ** 2 - np.sum(dW ** 2, axis=-1)
    sq = at ** 2 + np.sum(Wt ** 2, -1)
    size = np.maximum(sq[1:], sq[:-1])
    tol = ULPS * np.finfo(float).eps * size
    excess = np.abs(dq - rhs) - tol
    ok = bool(np.all(excess <= 0))
    worst = float(np.max(np.abs(dq - rhs) / np.maximum(size, 1e-300)))
    first = float(np.max(np.abs(dq) / np.maximum(size, 1e-300)))
    ev = {"steps": steps, "lr": r(lr), "max_identity_error_rel": r(worst),
          "max_step_change_rel": r(first), "tolerance_ulps": ULPS}
    msg = (f"every step obeyed q⁺ − q = (Δa)² − |Δw|² to {worst:.2g} (relative)" if ok else
           f"a step broke the discrete conservation identity by {worst:.3g} of |θ|² "
           f"(tolerance {ULPS} ulps)")
    return Outcome(ok, msg, ev)


def _strategy(profile):
    return examples(activations=ACTS, n_max=40)


def _builtins():
    X = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    return [Example(X, np.array([-1.0, -1, 1, 1]), "relu", "logistic", 0)]


PROPERTY = Property("conservation", CLAIM, _strategy, check, _builtins)
