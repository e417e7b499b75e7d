"""Property: the XOR family's closed forms (directions and growth rate) match training."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from numerics.measure import growth_rates, match

from ..example import Example
from ..strategies import seeds, xor_family, xor_points
from ..training import train_to_escape
from .base import Outcome, Property, r

CLAIM = ("For XOR data (class −1 at ±μe1, class +1 at ±μ(cos α, sin α)) trained from small "
         "initialisation, ≥ 99 % of the mass lies within 2° of the closed-form directions "
         "(±e2 for a > 0; α ∓ π/2 for a < 0) and the clusters grow at μ sin α / 8 within 5 %.")

EPS = 1e-10
M = 128
TAU_DEG = 2.0  # the adaptive step's kink chattering band is ≈ η rad ≈ 1.1° (see training.py)
DELTA = 0.01
REL_TOL = 0.05  # as in growth_rates: Euler bias η/2 = 1 % plus window effects
WINDOW = (0.4, 0.85)


class _Closed:
    """The closed forms in the shape ``numerics.measure.match`` reads."""

    def __init__(self, rows):
        self.extrema = [{"direction": np.asarray(e["direction"], dtype=float),
                         "sign": int(e["sign"])} for e in rows]
        self.rates = [float(e["growth_rate"]) for e in rows]


def check(ex: Example, theory, profile) -> Outcome:
    alpha, mu = ex.params["alpha"], ex.params["mu"]
    p = ex.problem()
    closed = _Closed(theory.xor(alpha, mu))
    run = train_to_escape(p, M, EPS, ex.seed, record="every:2", device=profile.device)
    if not run.escaped:
        return Outcome(False, f"training did not escape ({run.stop_reason})", {})
    mr = match(run.W, run.a, closed, TAU_DEG)
    groups = np.where(mr.angles_deg <= TAU_DEG, mr.nearest, -1)
    t = run.escape_time
    fitted = growth_rates(run.traj_times, run.W_traj, run.a_traj, groups,
                          (WINDOW[0] * t, WINDOW[1] * t))
    problems = []
    if mr.matched_mass < 1 - DELTA:
        problems.append(f"only {100 * mr.matched_mass:.2f} % of the mass within {TAU_DEG}° of "
                        "the closed-form directions")
    rates = []
    for k, lam in enumerate(closed.rates):
        if k < len(fitted) and mr.per_extremum_mass[k] >= 0.05:
            rel = fitted[k] / lam - 1
            rates.append({"extremum": k, "closed_form": r(lam), "fitted": r(fitted[k]),
                          "rel_error": r(rel, 3)})
            if abs(rel) > REL_TOL:
                problems.append(f"extremum {k}: fitted rate {fitted[k]:.5g} vs closed form "
                                f"{lam:.5g}")
    ok = not problems
    ev = {"alpha": alpha, "mu": mu, "mass_within_tau": r(mr.matched_mass), "rates": rates}
    plot = {"problem": p, "prediction": closed, "W": run.W, "a": run.a}
    return Outcome(ok, f"{100 * mr.matched_mass:.2f} % of the mass on the closed forms; rates "
                   "within 5 %" if ok else "; ".join(problems[:3]), ev, plot=plot)


@st.composite
def _strategy(draw, profile):
    alpha, mu = draw(xor_family())
    X, y = xor_points(alpha, mu)
    return Example(X, y, "relu", "logistic", draw(seeds()), {"alpha": alpha, "mu": mu})


def _builtins():
    out = []
    for alpha in (np.pi / 2, np.pi / 3):
        X, y = xor_points(alpha, 1.0)
        out.append(Example(X, y, "relu", "logistic", 6, {"alpha": float(alpha), "mu": 1.0}))
    return out


PROPERTY = Property("xor_closed_forms", CLAIM, _strategy, check, _builtins)
