"""Property: each cluster grows at its predicted rate λ_k = |G(u_k)|."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from numerics.measure import growth_rates, match

from ..example import Example
from ..strategies import both_labels, datasets, general_position, losses, seeds
from ..training import train_to_escape
from .base import Outcome, Property, r

CLAIM = ("During the early phase the squared-norm of the neurons at extremum u_k grows like "
         "exp(2 λ_k t): the fitted rate of each cluster holding ≥ 5 % of the mass is λ_k within "
         "5 %.")

EPS = 1e-12
M = 128
TAU_DEG = 3.0
MIN_MASS = 0.05
# Fit window [0.4, 0.85]·t*: by 0.4 t* (≥ 11 growth times at ε = 1e-12) the small-a transient
# r ∝ cosh(λt) has reached exp(λt) to a relative 1e-9 and directions have settled; since
# |f| ∝ ε² e^{2λ_max t}, at 0.85 t* the output is ε^{0.3} ≈ 3e-4 of its escape level, so the
# f-feedback on the rate is negligible.  The remaining error is the Euler step's,
# λ_eff/λ − 1 ≈ −η/2 = −1 %.  Hence 5 %.
WINDOW = (0.4, 0.85)
REL_TOL = 0.05


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    pred = theory.predict(p, basins=False)
    if pred.degenerate or not pred.extrema:
        return Outcome.not_applicable("no first-order prediction")
    run = train_to_escape(p, M, EPS, ex.seed, record="every:2", device=profile.device)
    if not run.escaped:
        return Outcome(False, f"training did not escape ({run.stop_reason})", {})
    mr = match(run.W, run.a, pred, TAU_DEG)
    groups = np.where(mr.angles_deg <= TAU_DEG, mr.nearest, -1)
    t_star = run.escape_time
    rates = growth_rates(run.traj_times, run.W_traj, run.a_traj, groups,
                         (WINDOW[0] * t_star, WINDOW[1] * t_star))
    checked, problems = [], []
    for k, e in enumerate(pred.extrema):
        if k >= len(rates) or mr.per_extremum_mass[k] < MIN_MASS:
            continue
        rel = rates[k] / e.growth_rate - 1
        checked.append({"extremum": k, "predicted": r(e.growth_rate), "fitted": r(rates[k]),
                        "rel_error": r(rel, 3)})
        if not abs(rel) <= REL_TOL:
            problems.append(f"extremum {k}: fitted rate {rates[k]:.5g}, predicted "
                            f"{e.growth_rate:.5g} ({100 * rel:+.1f} %)")
    if not checked:
        problems.append("no cluster holds 5 % of the mass within 3° of a predicted extremum")
    ok = not problems
    return Outcome(ok, f"{len(checked)} cluster rates within {100 * REL_TOL:.0f} %" if ok
                   else "; ".join(problems[:3]), {"clusters": checked,
                                                  "escape_time": r(t_star)})


@st.composite
def _strategy(draw, profile):
    X, y = draw(datasets(n_max=20, d_max=3))
    assume(general_position(X) and both_labels(y))
    return Example(X, y, draw(st.sampled_from(("relu", "leaky_relu:0.1", "abs"))),
                   draw(losses()), draw(seeds()))


def _builtins():
    from numerics.datasets import skewed_xor

    return [Example(*skewed_xor(n=16, alpha=float(np.pi / 3), seed=3), "relu", "logistic", 3)]


PROPERTY = Property("growth_rates", CLAIM, _strategy, check, _builtins, uses_prediction=True)
