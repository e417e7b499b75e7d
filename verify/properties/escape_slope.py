"""Property: the escape time grows like log(1/ε)/λ_max."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..example import Example
from ..strategies import both_labels, datasets, general_position, losses, seeds
from ..training import train_eps_sweep
from .base import Outcome, Property, r

CLAIM = ("The escape time satisfies t*(ε) = log(1/ε)/λ_max + O(1): its slope against log(1/ε) "
         "over ε = 1e-4 … 1e-16 is 1/λ_max within 3 %.")

EPSS = (1e-4, 1e-8, 1e-12, 1e-16)
M = 64
# The O(1) offset cancels in the slope.  What remains: the sub-dominant clusters' share of the
# output, relative e^{−2(λ_max − λ_2) t}, and the adaptive Euler step, whose growth per step
# log(1 + λ dt)/dt = λ(1 − η/2 + …) biases the rate by about η/2 = 1 %; 3 % covers both.
REL_TOL = 0.03
GAP = 0.9


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    pred = theory.predict(p, basins=False)
    if pred.degenerate or not pred.lambda_max:
        return Outcome.not_applicable("no first-order prediction")
    # A growth-rate gap: a cluster with λ_2 just below λ_max (but more neurons) can drive the
    # escape at large ε and lose to λ_max only at small ε, which tilts the fitted slope towards
    # 1/λ_2 by up to 1 − λ_2/λ_max.  The claim is tested where every rate is either within 1 %
    # of λ_max (a tilt ≤ 1 %, which with the Euler bias η/2 = 1 % stays inside 3 %) or at most
    # GAP·λ_max.
    lam = pred.lambda_max
    if any(GAP * lam < e.growth_rate < 0.99 * lam for e in pred.extrema):
        return Outcome.not_applicable("no growth-rate gap below λ_max")
    runs = train_eps_sweep(p, M, EPSS, ex.seed, device=profile.device)
    if not all(run.escaped for run in runs):
        return Outcome(False, "a run did not escape", {})
    x = np.log(1 / np.array(EPSS))
    t = np.array([run.escape_time for run in runs])
    slope = float(np.polyfit(x, t, 1)[0])
    predicted = 1.0 / pred.lambda_max
    rel = slope / predicted - 1
    ok = abs(rel) <= REL_TOL
    ev = {"eps": list(EPSS), "escape_times": [r(v) for v in t], "slope": r(slope),
          "predicted_slope": r(predicted), "rel_error": r(rel, 3)}
    return Outcome(ok, f"slope {slope:.5g} vs 1/λ_max = {predicted:.5g} ({100 * rel:+.2f} %)"
                   + ("" if ok else f", beyond {100 * REL_TOL:.0f} %"), ev)


@st.composite
def _strategy(draw, profile):
    X, y = draw(datasets(n_max=20, d_max=3))
    assume(general_position(X) and both_labels(y))
    return Example(X, y, draw(st.sampled_from(("relu", "leaky_relu:0.1", "abs"))),
                   draw(losses()), draw(seeds()))


def _builtins():
    from numerics.datasets import xor

    return [Example(*xor(n=16, seed=4), "relu", "logistic", 4)]


PROPERTY = Property("escape_slope", CLAIM, _strategy, check, _builtins, uses_prediction=True)

