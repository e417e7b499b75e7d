"""The later-phase theory under test, and planted wrong versions of it.

The later-phase properties (``g_t_tracking``, ``xor_persistence``) read their predictions from
``theory.later`` when the theory bundle carries one (:class:`TheoryWithLater`), else from
:func:`package_later`, the package's own:

* ``attractors(problem, r) -> [Extremum]``: the attractors of the direction flow of
  ``G_t`` (weights ``r`` in place of ``c``), :func:`theory.later_phase.direction_attractors`;
* ``landscape(problem, r) -> weights``: the loss weights of the landscape whose direction flow
  the theory says the neurons follow (``r`` itself); the tracking envelope's premise (the pull
  towards each attractor) is computed on it, so a wrong theory is judged by its own landscape;
* ``persistence(alpha, activation) -> [PersistenceCondition]``: the XOR family's persistence
  conditions, :func:`theory.xor_persistence.persistence_conditions`.

:func:`planted_later` builds deliberately wrong versions, so that the tests can show each
property rejects them:

``g_t_early_extrema``   neurons stay at the early-phase extrema: the attractors ignore ``r``
                        and are those of G (``c_i``), as if the early phase never ended;
``xor_cos_2alpha``      every ``cos α`` in the conditions replaced by ``cos 2α``;
``xor_swap_residuals``  the residuals of the two classes swapped (ρ₊₁ ↔ ρ₊ᵥ, ρ₋₁ ↔ ρ₋ᵥ).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import sympy as sp

from theory.errors import InputError
from theory.later_phase import direction_attractors
from theory.xor import ALPHA
from theory.xor_persistence import RHO, persistence_conditions

from .theory_bundle import LATER_PLANTS, Theory, package_theory


def residual_landscape(problem, r):
    """The package's landscape: ``G_t`` has the residuals themselves as loss weights."""
    return r


@dataclass(frozen=True)
class LaterTheory:
    name: str
    attractors: Callable
    persistence: Callable
    landscape: Callable = residual_landscape


@dataclass(frozen=True)
class TheoryWithLater(Theory):
    """A :class:`Theory` that also carries a later-phase theory."""

    later: LaterTheory | None = None


def package_later() -> LaterTheory:
    return LaterTheory("package", direction_attractors, persistence_conditions)


def later_of(theory) -> LaterTheory:
    """The later-phase theory a bundle carries, or the package's."""
    return getattr(theory, "later", None) or package_later()


def with_later(theory: Theory, later: LaterTheory) -> TheoryWithLater:
    base = {f.name: getattr(theory, f.name) for f in fields(Theory)}
    return TheoryWithLater(**{**base, "name": later.name}, later=later)


def _rewrite(conds, rule) -> list:
    return [replace(c, value=rule(c.value), slopes=tuple(rule(e) for e in c.slopes),
                    margins=tuple(rule(e) for e in c.margins),
                    automatic=tuple(rule(e) for e in c.automatic)) for c in conds]


def planted_later(how: str) -> TheoryWithLater:
    """The package theory with a planted wrong later phase (module docstring)."""
    base = package_later()
    if how == "g_t_early_extrema":
        def early(problem, r):
            return direction_attractors(problem, problem.c)

        later = replace(base, name=f"planted:{how}", attractors=early,
                        landscape=lambda problem, r: problem.c)
    elif how == "xor_cos_2alpha":
        def cos2(alpha=None, activation="relu"):
            return _rewrite(persistence_conditions(alpha, activation),
                            lambda e: e.subs(sp.cos(ALPHA), sp.cos(2 * ALPHA)))

        later = replace(base, name=f"planted:{how}", persistence=cos2)
    elif how == "xor_swap_residuals":
        swap = {RHO[0]: RHO[2], RHO[2]: RHO[0], RHO[1]: RHO[3], RHO[3]: RHO[1]}

        def swapped(alpha=None, activation="relu"):
            return _rewrite(persistence_conditions(alpha, activation),
                            lambda e: e.xreplace(swap))

        later = replace(base, name=f"planted:{how}", persistence=swapped)
    else:
        raise InputError(f"unknown planted later-phase theory {how!r}; known: "
                         f"{', '.join(LATER_PLANTS)}")
    return with_later(package_theory(), later)
