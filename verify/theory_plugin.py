"""A researcher's own theory, property-tested: ``sbias verify --theory FILE.py:NAME``.

``NAME`` is a callable ``(X, y, activation, loss) -> list of extrema`` in ``sbias predict``'s
schema: each extremum a dict with ``direction`` (d numbers, any length > 0), ``sign`` (+1: a
maximum of G with G > 0, where neurons with a > 0 go; −1: a minimum with G < 0), ``G`` and
``growth_rate`` required, ``kind`` and ``basin_fraction`` optional.  ``X`` is the n×d float64
data, ``y`` the labels as the loss uses them (±1 for logistic and exponential loss, real targets
for square loss), ``activation`` and ``loss`` the names as the CLI spells them (``relu``,
``leaky_relu:0.1``, ``abs``, ``linear``, ``tanh``, ``gelu``; ``logistic``, ``exponential``,
``square``).  The list may be a bare list or ``{"extrema": [...]}``.

The theory replaces the package's prediction in every prediction-based property; the rest of
the package's theory (the early-phase equations, the conservation law) stays.  A theory that
raises, or returns a malformed list, fails on that dataset with the reason (hypothesis then
shrinks that dataset like any other counterexample); it never crashes the run.

From Python: :func:`theory_from_callable` wraps a function, and
``verify.runner.run_suite(profile, theory)`` runs the properties.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from theory.errors import InputError
from theory.extrema import Extremum, Prediction

from .claim_schema import Claim, parse_claim
from .theory_bundle import Theory, package_theory


class TheoryFailure(RuntimeError):
    """The theory under test raised or returned something that is not a list of extrema."""


def claim_to_prediction(claim: Claim, method: str) -> Prediction:
    """A :class:`Prediction` carrying the claimed extrema (the schema's fields only)."""
    ex = [Extremum(np.asarray(c.direction, dtype=float), c.sign, c.G, c.growth_rate,
                   c.kind or "kink", c.basin_fraction, None) for c in claim.extrema]
    lam = max((e.growth_rate for e in ex), default=None)
    return Prediction(ex, lam, bool(claim.degenerate and not ex), True, method)


def theory_from_callable(fn: Callable, name: str, cli: str | None = None) -> Theory:
    """Wrap ``fn(X, y, activation, loss) -> extrema`` as the :class:`Theory` the suite tests.
    ``cli`` is the ``FILE.py:NAME`` spelling used in replay commands."""

    def predict(problem, **_ignored) -> Prediction:
        try:
            out = fn(np.array(problem.X), np.array(problem.y), str(problem.activation),
                     str(problem.loss))
        except Exception as exc:  # the theory under test, not the package, failed
            raise TheoryFailure(f"theory {name} raised {type(exc).__name__}: {exc}") from None
        try:
            claim = parse_claim(out, problem.d, source=f"theory {name}")
        except InputError as exc:
            raise TheoryFailure(f"theory {name} returned a malformed list: {exc}") from None
        return claim_to_prediction(claim, f"theory:{name}")

    return replace(package_theory(), name=f"theory:{name}", predict=predict, cli=cli,
                   recipe=None)


def load_theory(spec: str) -> Theory:
    """``FILE.py:NAME`` -> :class:`Theory`; bad input raises :class:`InputError` (one line)."""
    path, sep, name = str(spec).rpartition(":")
    if not sep or not path or not name:
        raise InputError(f"--theory must be FILE.py:NAME (a Python file and a callable in it), "
                         f"got {spec!r}")
    p = Path(path)
    if not p.is_file():
        raise InputError(f"theory file not found: {p}")
    key = hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:12]
    modspec = importlib.util.spec_from_file_location(f"sbias_user_theory_{key}", p)
    if modspec is None or modspec.loader is None:
        raise InputError(f"{p}: not a Python module")
    module = importlib.util.module_from_spec(modspec)
    try:
        modspec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - any failure of the user's module is input
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise InputError(f"{p}: the module failed to import ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not hasattr(module, name):
        raise InputError(f"{p} has no {name!r}")
    fn = getattr(module, name)
    if not callable(fn):
        raise InputError(f"{p}: {name!r} is not callable (it is a {type(fn).__name__})")
    return replace(theory_from_callable(fn, name, cli=f"{p}:{name}"),
                   recipe=("plugin", f"{p.resolve()}:{name}"))
