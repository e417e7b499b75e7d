"""What a property is: a named claim, a strategy that draws examples, and a check.

A check returns an :class:`Outcome`: ``passed``, the measured numbers (``evidence``), one line
saying what was compared, the extrema it *excluded* from the claim on this example with the
reason (every exclusion is counted and shown in the report), and its statistical ``checks``
(each with its p-value and the share of the false-alarm budget it used).  A check that finds its
example outside the claim's scope returns ``Outcome.not_applicable(reason)``; the runner counts
the reasons.

``profile.alpha`` is the example's share of the suite's false-alarm budget
(:mod:`verify.profiles`): a property with statistical checks splits it over them (Bonferroni);
:func:`binomial_tail_le` is the exact test used (width_independence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st
from scipy.stats import binom

from ..example import Example
from ..profiles import Profile
from ..theory_bundle import Theory


@dataclass
class Outcome:
    passed: bool
    message: str
    evidence: dict = field(default_factory=dict)
    applicable: bool = True
    plot: dict | None = None  # optional data for the report's figures (not serialised)
    excluded: list = field(default_factory=list)  # [{"extremum", "why", ...}]
    checks: list = field(default_factory=list)    # [{"name", "p_value", "alpha", "passed"}]

    @classmethod
    def not_applicable(cls, why: str) -> "Outcome":
        return cls(True, why, {}, applicable=False)


@dataclass(frozen=True)
class Property:
    """A named claim of the theory, checked against training on drawn examples.

    ``statistical``: the property has checks with a false-alarm probability (it uses its share
    of the budget).  ``sizes``: per profile name, ``(drawn examples, min checked examples)``
    overriding the profile's (for the costly properties)."""

    name: str
    claim: str
    strategy: Callable[[Profile], st.SearchStrategy]  # draws an Example
    check: Callable[[Example, Theory, Profile], Outcome]
    builtins: Callable[[], list[Example]] = lambda: []
    uses_prediction: bool = False  # a failure can be replayed as `sbias verify --claim`
    statistical: bool = False
    sizes: dict = field(default_factory=dict)


#: The finest step parameter a property pays for (its cost grows like 1/η): an example whose
#: extrema need a finer step (:func:`resolving_step`) is below the training's resolution and
#: not applicable to the properties that count neurons per extremum.
FINEST_ETA_FRACTION = 1 / 4


def resolving_step(problem, pred):
    """``(η, reason)``: the step that resolves the predicted extrema
    (:func:`numerics.recipes.resolving_eta`), or a not-applicable reason when it would be finer
    than ``FINEST_ETA_FRACTION`` of the recipe's η."""
    from numerics.recipes import ETA, resolving_eta
    from theory.basins import basin_margins_2d

    margins = basin_margins_2d(problem, pred.extrema) if problem.d == 2 else None
    eta = resolving_eta([e.direction for e in pred.extrema], [e.sign for e in pred.extrema],
                        margins)
    if eta < ETA * FINEST_ETA_FRACTION:
        return eta, ("a basin edge lies closer to its extremum than a training step of "
                     f"η = {ETA * FINEST_ETA_FRACTION:g} resolves")
    return eta, None


#: Refinements of the step when mass is found at no predicted extremum (:func:`refined`).
STEP_REFINEMENTS = 2


def refined(train_at, unmatched_of, eta: float, delta: float):
    """Train at step parameter ``eta`` and, while the mass at no predicted extremum
    (``unmatched_of(run)``) exceeds ``delta`` and fell at the last refinement, again at η/4 —
    at most :data:`STEP_REFINEMENTS` times.  Returns ``(run, [(η, unmatched), ...])``.

    The claims are about gradient flow.  Where a kink ridge's sliding speed is small against
    its one-sided normal slopes, gradient descent at a finite step can hold a cluster still —
    a discrete equilibrium the flow does not have — and the equilibrium moves or vanishes as
    η shrinks.  Seen in a full-profile run (seed 2004: generic n = 39, d = 3, ReLU, logistic):
    36 of 256 neurons (3.5 % of the mass) chattered on a ridge 4.96° from a predicted vertex
    minimum for 700 time units at η = 0.02, where the Filippov sliding speed is 7.8e-4
    (0.011 λ_max) against one-sided normal slopes of 0.017 and 0.0053; at η = 0.005 they
    reached the vertex (0.2°).  A wrong prediction leaves its mass unmatched at every step, so
    the refinement stops once the unmatched mass no longer falls."""
    history, run = [], None
    for i in range(STEP_REFINEMENTS + 1):
        run = train_at(eta)
        u = unmatched_of(run)
        history.append((eta, u))
        if u is None or u <= delta or (i and u >= history[-2][1]):
            break
        eta /= 4
    return run, history


def no_prediction(problem, pred) -> "Outcome | None":
    """The outcome when the theory predicts no extremum: not applicable on data where G
    vanishes identically (no first-order prediction exists), a failure otherwise (the theory
    misses every extremum the data have).  None when there is something to check."""
    if pred.extrema and not pred.degenerate:
        return None
    if problem.G_identically_zero:
        return Outcome.not_applicable("no first-order prediction (G vanishes identically)")
    return Outcome(False, "the theory predicts no extremum, but G does not vanish identically",
                   {"extrema": len(pred.extrema), "degenerate": bool(pred.degenerate)})


def r(x: float, k: int = 6) -> float:
    """Round a measured number for the report."""
    return float(f"{float(x):.{k}g}")


def binomial_tail_le(k: int, m: int, p: float) -> float:
    """P(Binomial(m, p) ≤ k): the exact p-value of seeing at most k hits."""
    return float(binom.cdf(k, m, min(max(p, 0.0), 1.0)))
