"""Property: the occupied clusters do not depend on the width (rare basins excepted)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from numerics.measure import match

from ..example import Example
from ..strategies import both_labels, datasets, general_position, losses, seeds
from ..training import train_to_escape
from .base import Outcome, Property, r

CLAIM = ("For widths m = 16, 128, 1024 the same predicted extrema are occupied at escape "
         "(ε = 1e-8): every extremum with λ_k ≥ λ_max/2 whose basin holds at least 5/m of the "
         "starting directions is occupied, and at every width at most 1 % of the squared norm "
         "lies farther than τ = 3° from every predicted extremum of its sign.")

WIDTHS = (16, 128, 1024)
EPS = 1e-8
TAU_DEG = 3.0
# an extremum with basin b gets no neuron out of m with probability (1 − b)^m ≤ e^{−bm};
# requiring occupation only when b·m ≥ 5 keeps each such false alarm below e^{−5} = 0.7 %
MIN_EXPECTED = 5.0
# Neurons bound for an extremum of rate λ_k first need ~1/λ_k for a to grow (ρ = a/r → 1), then
# travel; escape comes at t* = log(1/ε)/λ_max.  Only clusters with λ_k ≥ λ_max/2 (λ_k t* ≥ 9.2
# at ε = 1e-8) have surely arrived: slower ones are still in transit and not required.  ε is
# that of clusters_match, whose δ = 1 % bounds the mass still in transit at escape.
MIN_RATE = 0.5
# At most DELTA of the mass may sit off the predicted extrema at any width: the neurons still
# in transit at escape, as in clusters_match.  (Slow clusters are light at escape; their
# neurons may still be travelling, so they are judged by occupation only, as above.)
DELTA = 0.01


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    pred = theory.predict(p, basins=True, init="small_a", basin_samples=2000, seed=ex.seed)
    if pred.degenerate or not pred.extrema:
        return Outcome.not_applicable("no first-order prediction")
    occupied, unmatched, problems = {}, {}, []
    for m in WIDTHS:
        run = train_to_escape(p, m, EPS, ex.seed, device=profile.device)
        mr = match(run.W, run.a, pred, TAU_DEG)
        near = mr.angles_deg <= TAU_DEG
        counts = np.array([np.sum((mr.nearest == k) & near) for k in range(len(pred.extrema))])
        occupied[m] = [int(k) for k in np.nonzero(counts)[0]]
        unmatched[m] = mr.unmatched_mass
        for k, e in enumerate(pred.extrema):
            required = ((e.basin_fraction or 0) * m >= MIN_EXPECTED
                        and e.growth_rate >= MIN_RATE * pred.lambda_max)
            if required and counts[k] == 0:
                problems.append(f"m={m}: extremum {k} (basin {e.basin_fraction:.3f}) has no neuron")
        if mr.unmatched_mass > DELTA:
            problems.append(f"m={m}: {100 * mr.unmatched_mass:.1f} % of the mass is at no "
                            "predicted extremum of its sign")
    ok = not problems
    ev = {"occupied": {str(k): v for k, v in occupied.items()},
          "unmatched_mass": {str(k): r(v, 3) for k, v in unmatched.items()},
          "basins": [r(e.basin_fraction or 0, 3) for e in pred.extrema]}
    return Outcome(ok, "occupied clusters agree across widths" if ok else "; ".join(problems[:3]),
                   ev)


@st.composite
def _strategy(draw, profile):
    X, y = draw(datasets(n_max=16, d_max=3))
    assume(general_position(X) and both_labels(y))
    return Example(X, y, draw(st.sampled_from(("relu", "leaky_relu:0.1", "abs"))),
                   draw(losses()), draw(seeds()))


def _builtins():
    from numerics.datasets import skewed_xor

    return [Example(*skewed_xor(n=16, alpha=float(np.pi / 3), seed=2), "relu", "logistic", 2)]


PROPERTY = Property("width_independence", CLAIM, _strategy, check, _builtins,
                    uses_prediction=True)
