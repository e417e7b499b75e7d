"""Property: the occupied clusters do not depend on the width (rare basins excepted)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from numerics.init import init_weights
from numerics.measure import match, norms

from ..example import Example
from ..strategies import both_labels, datasets, general_position, losses, seeds
from ..training import train_to_escape
from .base import Outcome, Property, r

CLAIM = ("For widths m = 16, 128, 1024 the same predicted extrema are occupied at escape: every "
         "extremum whose basin holds at least 5/m of the starting directions is occupied, and "
         "every heavy neuron sits within τ = 3° of a predicted extremum of its sign.")

WIDTHS = (16, 128, 1024)
EPS = 1e-6
TAU_DEG = 3.0
# an extremum with basin b gets no neuron out of m with probability (1 − b)^m ≤ e^{−bm};
# requiring occupation only when b·m ≥ 5 keeps each such false alarm below e^{−5} = 0.7 %
MIN_EXPECTED = 5.0
# A neuron "grew" when its norm rose by ε^{−1/2} by escape, i.e. at an average rate of at least
# λ_max/2 over [0, t*]: it has spent much of the early phase at (or near) an extremum.  Neurons
# still in transit at escape (slow clusters, separatrices) grow less and are not judged: their
# destination is not yet visible.  Of those that grew, at most STRAY may sit off the predicted
# extrema (near-separatrix starts that grew while passing a saddle), with a 3-sd Poisson
# allowance so that one stray neuron out of 16 is no failure.
GROWTH = 0.5
STRAY = 0.02


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    pred = theory.predict(p, basins=True, init="small_a", basin_samples=2000, seed=ex.seed)
    if pred.degenerate or not pred.extrema:
        return Outcome.not_applicable("no first-order prediction")
    occupied, stray, problems = {}, {}, []
    for m in WIDTHS:
        run = train_to_escape(p, m, EPS, ex.seed, device=profile.device)
        W0, a0 = init_weights("small_a", m, p.d, EPS, ex.seed)
        grew = norms(run.W, run.a) >= EPS ** -GROWTH * norms(W0.numpy(), a0.numpy())
        mr = match(run.W, run.a, pred, TAU_DEG)
        near = mr.angles_deg <= TAU_DEG
        counts = np.array([np.sum((mr.nearest == k) & near) for k in range(len(pred.extrema))])
        occupied[m] = [int(k) for k in np.nonzero(counts)[0]]
        # neurons that grew but sit at no predicted extremum of their sign (mass plays no
        # role: the slow clusters are light at escape but occupied all the same)
        n_grew, n_stray = int(grew.sum()), int(np.sum(grew & ~near))
        stray[m] = n_stray / max(1, n_grew)
        for k, e in enumerate(pred.extrema):
            if (e.basin_fraction or 0) * m >= MIN_EXPECTED and counts[k] == 0:
                problems.append(f"m={m}: extremum {k} (basin {e.basin_fraction:.3f}) has no neuron")
        # Poisson allowance: STRAY·N expected strays, plus 3 standard deviations
        if n_stray > STRAY * n_grew + 3 * np.sqrt(STRAY * n_grew):
            problems.append(f"m={m}: {100 * stray[m]:.1f} % of the grown neurons are at no "
                            "predicted extremum of their sign")
    ok = not problems
    ev = {"occupied": {str(k): v for k, v in occupied.items()},
          "stray_neurons": {str(k): r(v, 3) for k, v in stray.items()},
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
