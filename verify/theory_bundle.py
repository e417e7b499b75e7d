"""The theory under test, as one injectable bundle.

Every property checks *a* :class:`Theory` against training.  :func:`package_theory` is the
package's own (``theory.extrema.predict``, the sympy early-phase right-hand side, the reduced
integrator, the XOR closed forms, the conservation law).  :func:`planted` builds deliberately
wrong theories — a rotated direction, flipped signs, wrong growth rates, a missing or an extra
extremum, wrong loss weights — so the test suite can show that each property rejects them
("a check must be able to fail").
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from theory.derive import early_phase_rhs
from theory.errors import InputError
from theory.extrema import Extremum, Prediction, predict
from theory.reduced import euler_steps
from theory.xor import xor_closed_forms


def _conserved(W: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``a_j² − |w_j|²`` per neuron (conserved for 1-homogeneous σ: docs/theory.md)."""
    return np.asarray(a) ** 2 - np.sum(np.asarray(W) ** 2, axis=-1)


def _xor(alpha: float, mu: float) -> list[dict]:
    return xor_closed_forms(alpha, mu)


@dataclass(frozen=True)
class Theory:
    """What a property may ask of the theory.

    * ``predict(problem, **kw) -> Prediction``: the extremal directions (predict's schema,
      docs/cli.md);
    * ``early_rhs(problem) -> rhs(W, a) -> (dW, da)``: the early-phase system ``w' = a∇G``,
      ``a' = G``;
    * ``reduced(problem, W0, a0, dts) -> trajectory`` with ``.W`` (T×m×d), ``.a`` (T×m): the
      reduced system integrated with explicit Euler on the given steps;
    * ``xor(alpha, mu) -> list[dict(direction, sign, growth_rate)]``: closed forms;
    * ``conserved(W, a) -> (m,)``: the quantity gradient flow conserves per neuron.
    """

    name: str
    predict: Callable[..., Prediction]
    early_rhs: Callable
    reduced: Callable
    xor: Callable[[float, float], list]
    conserved: Callable[[np.ndarray, np.ndarray], np.ndarray]
    cli: str | None = None  # how the command line names it (FILE.py:NAME), for replays
    #: How another process rebuilds this theory (:func:`rebuild`): ``("package",)``,
    #: ``("plant", how, arg)`` or ``("plugin", "FILE.py:NAME")``; ``None`` for a theory built
    #: in Python, which the runner then keeps in this process.
    recipe: tuple | None = None


def package_theory() -> Theory:
    """The package's own theory layer."""
    return Theory("package", predict, early_phase_rhs, euler_steps, _xor, _conserved,
                  recipe=("package",))


def rebuild(recipe: tuple) -> Theory:
    """The theory a :attr:`Theory.recipe` names (in a worker process of the suite runner)."""
    kind, *args = recipe
    if kind == "package":
        return package_theory()
    if kind == "plant":
        return planted(*args)
    if kind == "plugin":
        from .theory_plugin import load_theory

        return load_theory(*args)
    raise InputError(f"unknown theory recipe {recipe!r}")


# ----------------------------------------------------------------------------- planted errors
def _rotate(u: np.ndarray, deg: float) -> np.ndarray:
    """Rotate unit ``u`` by ``deg`` degrees in the plane of ``u`` and a fixed orthogonal vector
    (the first coordinate axis made orthogonal to ``u``, or the second if parallel)."""
    d = len(u)
    for k in range(d):
        e = np.zeros(d)
        e[k] = 1.0
        h = e - np.dot(e, u) * u
        if np.linalg.norm(h) > 1e-3:
            break
    h /= np.linalg.norm(h)
    th = math.radians(deg)
    return math.cos(th) * u + math.sin(th) * h


def _perturb_prediction(pred: Prediction, how: str, arg: float) -> Prediction:
    ex = [copy.copy(e) for e in pred.extrema]
    if how == "rotate":
        ex = [replace(e, direction=_rotate(e.direction, arg), exact=None) for e in ex]
    elif how == "flip_sign":
        ex = [replace(e, sign=-e.sign, G=-e.G, exact=None) for e in ex]
    elif how == "growth":
        ex = [replace(e, growth_rate=e.growth_rate * arg, G=e.G * arg) for e in ex]
    elif how == "growth_top":
        if ex:
            k = max(range(len(ex)), key=lambda i: ex[i].growth_rate)
            ex[k] = replace(ex[k], growth_rate=ex[k].growth_rate * arg, G=ex[k].G * arg)
    elif how == "growth_slowest":
        if ex:
            k = min(range(len(ex)), key=lambda i: ex[i].growth_rate)
            ex[k] = replace(ex[k], growth_rate=ex[k].growth_rate * arg, G=ex[k].G * arg)
    elif how == "drop_slowest":
        if ex:
            ex.pop(min(range(len(ex)), key=lambda i: ex[i].growth_rate))
    elif how == "ignore_kinks":
        ex = [e for e in ex if e.kind == "smooth"]
    elif how == "drop":
        if ex:
            # drop the extremum that catches the most neurons (largest basin, then growth rate)
            k = max(range(len(ex)), key=lambda i: ((ex[i].basin_fraction or 0), ex[i].growth_rate))
            ex.pop(k)
    elif how == "extra":
        d = len(ex[0].direction) if ex else 2
        rng = np.random.default_rng(12345)
        u = rng.normal(size=d)
        u /= np.linalg.norm(u)
        lam = pred.lambda_max or 1.0
        ex.append(Extremum(u, 1, lam, lam, "smooth", 0.05, None))
    elif how == "basins_reversed":
        # by rank: the largest basin gets the smallest fraction, the second largest the second
        # smallest, ...  (a positional reversal leaves a symmetric list such as [a, b, a] as is)
        order = sorted(range(len(ex)), key=lambda i: ex[i].basin_fraction or 0.0)
        fr = [ex[i].basin_fraction for i in order]
        new = list(ex)
        for i, f in zip(order, fr[::-1]):
            new[i] = replace(ex[i], basin_fraction=f)
        ex = new
    else:  # pragma: no cover - guarded by planted()
        raise AssertionError(how)
    rates = [e.growth_rate for e in ex]
    return Prediction(ex, max(rates) if rates else None, pred.degenerate, pred.complete,
                      f"planted:{how}")


class _ScaledG:
    """A problem whose G (and ∇G) are multiplied by ``k``: the reduced system of wrong loss
    weights ``c_i → k c_i``."""

    def __init__(self, problem, k: float):
        self._p, self._k = problem, k
        self.d, self.n = problem.d, problem.n

    def G(self, W, weights=None):
        return self._k * self._p.G(W, weights)

    def grad_G(self, W, weights=None):
        return self._k * self._p.grad_G(W, weights)


#: Planted wrong later-phase theories (built in :mod:`verify.later_theory`).
LATER_PLANTS = ("g_t_early_extrema", "xor_cos_2alpha", "xor_swap_residuals")
PLANTS = ("rotate", "flip_sign", "growth", "growth_top", "growth_slowest", "drop",
          "drop_slowest", "ignore_kinks", "extra", "basins_reversed", "weights", "conserved_sum",
          "xor_rotate", "xor_growth") + LATER_PLANTS
PERTURBATIONS = ("rotate", "flip_sign", "growth", "growth_top", "growth_slowest", "drop",
                 "drop_slowest", "ignore_kinks", "extra", "basins_reversed")


def planted(how: str, arg: float | None = None) -> Theory:
    """A deliberately wrong theory (details: :func:`_planted`)."""
    return replace(_planted(how, arg), recipe=("plant", how, arg))


def _planted(how: str, arg: float | None) -> Theory:
    """A deliberately wrong theory.

    ``rotate`` (arg degrees, default 10), ``flip_sign``, ``growth`` (rates × arg, default 1.5),
    ``growth_top`` (only the largest rate × arg, default 1.5: changes every λ_k/λ_max),
    ``growth_slowest`` (only the slowest rate × arg, default 1.25), ``drop`` (the extremum with
    the largest basin is missing), ``drop_slowest`` (the slowest extremum is missing),
    ``ignore_kinks`` (only smooth extrema are predicted: every kink extremum is missing),
    ``extra`` (a spurious extremum), ``basins_reversed`` (the basin fractions reversed by rank:
    the largest basin gets the smallest fraction): perturb the predicted extrema.
    ``weights`` (× arg, default 1.5): the early-phase system and reduced integrator use wrong
    loss weights ``c_i → arg·c_i``.
    ``conserved_sum``: claims ``a² + |w|²`` is conserved.  ``xor_rotate`` (arg degrees),
    ``xor_growth`` (× arg): wrong XOR closed forms.  ``LATER_PLANTS``: wrong later-phase
    theories (:func:`verify.later_theory.planted_later`)."""
    if how in LATER_PLANTS:  # see verify.later_theory.planted_later
        from .later_theory import planted_later

        return planted_later(how)
    base = package_theory()
    if how in PERTURBATIONS:
        default = {"rotate": 10.0, "growth": 1.5, "growth_top": 1.5,
                   "growth_slowest": 1.25}.get(how, 0.0)
        k = default if arg is None else float(arg)

        def pred(problem, **kw):
            return _perturb_prediction(base.predict(problem, **kw), how, k)

        return replace(base, name=f"planted:{how}", predict=pred,
                       cli=None)
    if how == "weights":
        k = 1.5 if arg is None else float(arg)

        def rhs(problem):
            f = base.early_rhs(problem)
            return lambda W, a: tuple(k * v for v in f(W, a))

        def reduced(problem, W0, a0, dts):
            return base.reduced(_ScaledG(problem, k), W0, a0, dts)

        return replace(base, name="planted:weights", early_rhs=rhs, reduced=reduced)
    if how == "conserved_sum":
        return replace(base, name="planted:conserved_sum",
                       conserved=lambda W, a: np.asarray(a) ** 2
                       + np.sum(np.asarray(W) ** 2, axis=-1))
    if how in ("xor_rotate", "xor_growth"):
        k = (5.0 if how == "xor_rotate" else 1.5) if arg is None else float(arg)

        def xor(alpha, mu):
            out = []
            for e in base.xor(alpha, mu):
                e = dict(e)
                if how == "xor_rotate":
                    e["direction"] = _rotate(np.asarray(e["direction"], dtype=float), k)
                else:
                    e["growth_rate"] = e["growth_rate"] * k
                out.append(e)
            return out

        return replace(base, name=f"planted:{how}", xor=xor)
    raise InputError(f"unknown planted theory {how!r}; known: {', '.join(PLANTS)}")
