"""Property: the share of neurons reaching each extremum equals its predicted basin fraction."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from numerics.measure import match

from ..example import Example
from ..strategies import both_labels, datasets, general_position, losses, seeds
from ..training import train_to_escape
from .base import Outcome, Property, r

CLAIM = ("In 2-D, with isotropic directions and |a| ≪ |w| at start (ε = 1e-12), the "
         "fraction of neurons within 3° of each extremum at escape equals its predicted basin "
         "fraction within binomial error (4 standard deviations of the two sampling errors, "
         "plus 1/m), for every extremum whose neurons have had time to arrive (λ_k t* ≥ 10); "
         "neurons still in transit at escape (unassigned beyond the predicted remainder) may "
         "only lower a count.")

M = 2048
EPS = 1e-12
# Neurons bound for an extremum of rate λ_k need a few 1/λ_k to turn a (ρ = a/r → ±1) and to
# travel, while escape comes at t* = log(1/ε)/λ_max: only extrema with λ_k t* ≥ 10 are compared
# (λ_k ≥ 0.36 λ_max at ε = 1e-12); slower clusters are still in transit at escape.
MIN_RATE = 10 / np.log(1 / EPS)
TAU_DEG = 3.0
SAMPLES = 4000
Z = 4.0  # 4 sd: a false alarm per extremum ≈ 6e-5, ≈ 1e-3 over ≤ 16 extrema


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    pred = theory.predict(p, basins=True, init="small_a", basin_samples=SAMPLES, seed=ex.seed)
    if pred.degenerate or not pred.extrema:
        return Outcome.not_applicable("no first-order prediction")
    run = train_to_escape(p, M, EPS, ex.seed + 1, init="small_a", device=profile.device)
    if not run.escaped:
        return Outcome(False, f"training did not escape ({run.stop_reason})", {})
    mr = match(run.W, run.a, pred, TAU_DEG)
    counts = np.array([np.sum((mr.nearest == k) & (mr.angles_deg <= TAU_DEG))
                       for k in range(len(pred.extrema))]) / M
    # Neurons still in transit at escape (slow starts where |G| is small, slow clusters) are at
    # no extremum yet: they can only lower a cluster's count.  Their share is what training
    # leaves unassigned beyond the theory's own remainder (dead-region starts).
    transit = max(0.0, (1.0 - counts.sum()) - (pred.unassigned_fraction or 0.0))
    rows, problems = [], []
    for k, e in enumerate(pred.extrema):
        if e.growth_rate < MIN_RATE * pred.lambda_max:
            continue
        b = e.basin_fraction or 0.0
        got = float(counts[k])
        sd = np.sqrt(max(b * (1 - b), 1.0 / M) * (1.0 / M + 1.0 / SAMPLES))
        tol = Z * sd + 1.0 / M
        rows.append({"extremum": k, "basin": r(b, 4), "neurons": r(got, 4), "tol": r(tol, 3)})
        if not (b - tol - transit <= got <= b + tol):
            problems.append(f"extremum {k}: {100 * got:.2f} % of neurons vs basin "
                            f"{100 * b:.2f} % (tolerance {100 * tol:.2f} %, in transit "
                            f"{100 * transit:.2f} %)")
    ok = not problems
    return Outcome(ok, f"{len(rows)} basin fractions within binomial error" if ok
                   else "; ".join(problems[:3]), {"m": M, "in_transit": r(transit, 3),
                                                  "basins": rows})


@st.composite
def _strategy(draw, profile):
    # d = 2, where the predicted basins are exact (theory.basins, 1-D ascent on a 2^16 grid).
    # In d ≥ 3 the basins come from a Monte-Carlo sphere flow whose discretised sliding along
    # kinks can send a few % of the starts to a different extremum than training does on
    # kink-dense data (seen: 16 % predicted vs 12 % trained): a known limit, not claimed here.
    X, y = draw(datasets(n_max=12, d_max=2))
    assume(general_position(X) and both_labels(y))
    return Example(X, y, draw(st.sampled_from(("relu", "leaky_relu:0.1", "abs"))),
                   draw(losses()), draw(seeds()))


def _builtins():
    from numerics.datasets import skewed_xor

    return [Example(*skewed_xor(n=16, alpha=float(np.pi / 3), seed=7), "relu", "logistic", 7)]


PROPERTY = Property("basin_fractions", CLAIM, _strategy, check, _builtins, uses_prediction=True)
