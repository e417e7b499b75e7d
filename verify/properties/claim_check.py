"""Property: the theory's own predictions pass the claim check (``sbias verify --claim``)."""

from __future__ import annotations

from ..claim import check_claim
from ..example import Example
from ..strategies import ALL_ACTIVATIONS, examples
from .base import Outcome, Property

CLAIM = ("The theory's predicted extrema, fed to the claim check on the same data, are "
         "accepted from both sides: each is certified exactly with its G and rate and none is "
         "missing (exact side); probes stay at each and grow at its rate, and random starts "
         "settle only on them (training side).")


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    pred = theory.predict(p, basins=True)
    if pred.degenerate and not pred.extrema:
        return Outcome.not_applicable("degenerate data: G vanishes identically (no claim)")
    v = check_claim(p, pred, device=profile.device)
    ev = {"extrema": len(pred.extrema), "seconds": round(v.seconds, 1),
          "resolution": v.resolution, "method": pred.method}
    # what the training side could not resolve is judged by the exact side only: listed
    tr = v.resolution.get("training", {})
    why = {"not_probed": "too slow to probe within the step budget",
           "unresolved": "probe direction not resolved (inside its start ring at a kink, "
                         "still shrinking with the step, or the finest pair disagrees)",
           "rate_unresolved": "rate not resolved (step bias not of first order)"}
    excluded = [{"extremum": k, "why": f"{text}: judged by the exact side only"}
                for key, text in why.items() for k in tr.get(key, [])]
    if v.passed:
        return Outcome(True, f"claim of {len(pred.extrema)} extrema accepted "
                       f"({v.seconds:.0f} s)", ev, excluded=excluded)
    return Outcome(False, "claim rejected: " + "; ".join(
        f"[{f.side}] {f.message}" for f in v.findings[:3]), ev, excluded=excluded)


def _strategy(profile):
    return examples(activations=ALL_ACTIVATIONS, d_max=4)


def _builtins():
    import numpy as np

    X3 = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1], [0, 1, 0], [0, -1, 0]])
    return [Example(X3, np.array([1.0, 1, 1, 1, -1, -1]), "relu", "logistic", 0)]


PROPERTY = Property("claim_check", CLAIM, _strategy, check, _builtins, uses_prediction=True,
                    sizes={"quick": (1, 2), "ci": (0, 1), "full": (10, 8)})
