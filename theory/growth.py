"""Growth rates, escape time and mass-share exponents from a prediction (docs/theory.md, §3).

* growth rate of the extremum u_k: λ_k = |G(u_k)| (the neuron's scale grows like exp(λ_k t));
* λ_max = max_k λ_k;
* escape time t*(ε) = log(1/ε)/λ_max + O(1) (the O(1) is passed as ``offset``);
* mass share of cluster k at the escape time ∝ ε^{2(1 − λ_k/λ_max)}: exponent 2(1 − λ_k/λ_max).
"""

from __future__ import annotations

import math

from .errors import InputError


def lambda_max(prediction) -> float | None:
    """Largest growth rate over the prediction's extrema; None when there are none."""
    rates = [e.growth_rate for e in prediction.extrema]
    return max(rates) if rates else None


def escape_time(eps: float, lam_max: float, offset: float = 0.0) -> float:
    """t*(ε) = log(1/ε)/λ_max + offset.  Needs 0 < ε < 1 and λ_max > 0."""
    eps = float(eps)
    if not (0.0 < eps < 1.0):
        raise InputError(f"initialisation scale eps must lie in (0, 1), got {eps}")
    if lam_max is None or not (float(lam_max) > 0.0) or not math.isfinite(float(lam_max)):
        raise InputError(f"lambda_max must be a positive finite number, got {lam_max}")
    return math.log(1.0 / eps) / float(lam_max) + float(offset)


def mass_share_exponents(prediction) -> list[float]:
    """2(1 − λ_k/λ_max) for each extremum, in the prediction's order (0 for the fastest)."""
    lm = lambda_max(prediction)
    if lm is None:
        return []
    return [2.0 * (1.0 - e.growth_rate / lm) for e in prediction.extrema]
