"""What a property is: a named claim, a strategy that draws examples, and a check.

A check returns an :class:`Outcome`: ``passed``, the measured numbers (``evidence``) and one
line saying what was compared.  A check that finds its example outside the claim's scope (a
degenerate draw) returns ``Outcome.not_applicable(...)``; the runner rejects such examples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st

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

    @classmethod
    def not_applicable(cls, why: str) -> "Outcome":
        return cls(True, why, {}, applicable=False)


@dataclass(frozen=True)
class Property:
    """A named claim of the theory, checked against training on drawn examples."""

    name: str
    claim: str
    strategy: Callable[[Profile], st.SearchStrategy]  # draws an Example
    check: Callable[[Example, Theory, Profile], Outcome]
    builtins: Callable[[], list[Example]] = lambda: []
    uses_prediction: bool = False  # a failure can be replayed as `sbias verify --claim`


def r(x: float, k: int = 6) -> float:
    """Round a measured number for the report."""
    return float(f"{float(x):.{k}g}")
