"""The XOR family in d = 2 (docs/theory.md, "The XOR family"), solved by sympy.

Data: class −1 at ``±μ e1``, class +1 at ``±μ v`` with ``v = (cos α, sin α)``, ``0 < α ≤ π/2``
(α = π/2 is symmetric XOR), ``μ > 0``.  On the unit circle ``u = (cos θ, sin θ)`` sympy builds
``G(θ) = (1/4) Σ_i c_i σ(⟨u, x_i⟩)`` (``c_i`` derived from the loss as in
:mod:`theory.derive`; for ReLU and logistic loss it simplifies to
``(μ/8)(|cos(θ − α)| − |cos θ|)``) and finds its extrema without being told them:

1. kink angles: the zeros in ``(−π, π]`` of every ``Abs`` argument, from ``sympy.solve``
   plus shifts by π (the argument is ``±cos`` of an affine function of θ: checked);
2. between consecutive kinks the ``Abs`` signs are fixed (decided at the arc midpoint), G is
   smooth there; its critical points from ``sympy.solve`` (plus π-shifts) count when they lie
   strictly inside the arc, classified by the second derivative;
3. a kink is a local maximum iff ``G'(θ−) > 0 > G'(θ+)``, a minimum iff ``G'(θ−) < 0 < G'(θ+)``
   (one-sided derivatives from the neighbouring arcs' smooth forms); a zero one-sided slope is
   reported as ``degenerate``;
4. every predicted extremum has ``sign = +1`` (max, ``G > 0``) or ``−1`` (min, ``G < 0``) and
   growth rate ``λ = |G|``.

Every inequality in α is decided by ``sympy.solveset`` over ``0 < α < π/2`` (and separately at
α = π/2); μ > 0 is a positive factor of G (checked: G is linear in μ), so signs are decided at
μ = 1.  Result for ``0 < α ≤ π/2``: maxima at ``θ = ±π/2`` and minima at ``θ = α ∓ π/2``, all
with ``λ = μ sin(α)/8`` — derived, not typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .activations import Activation, parse_activation
from .derive import sigma_form
from .errors import InputError
from .losses import Loss, parse_loss
from .problem import Problem

ALPHA = sp.Symbol("alpha", positive=True)
MU = sp.Symbol("mu", positive=True)
THETA = sp.Symbol("theta", real=True)
_GENERIC = sp.Interval.open(0, sp.pi / 2)


def _check_params(alpha, mu) -> None:
    if alpha is not None:
        a = float(alpha)
        if not (np.isfinite(a) and 0 < a <= np.pi / 2 + 1e-15):
            raise InputError(f"XOR angle alpha must lie in (0, pi/2], got {alpha}")
    if mu is not None:
        m = float(mu)
        if not (np.isfinite(m) and m > 0):
            raise InputError(f"XOR cluster distance mu must be positive, got {mu}")


def xor_points(alpha, mu) -> tuple[list, list]:
    """The four points and labels (±1): ``−μe1, +μe1`` (label −1), ``+μv, −μv`` (label +1)."""
    ca, sa = (sp.cos(alpha), sp.sin(alpha)) if isinstance(alpha, sp.Basic) else (
        np.cos(alpha), np.sin(alpha))
    X = [[-mu, 0 * mu], [mu, 0 * mu], [mu * ca, mu * sa], [-mu * ca, -mu * sa]]
    return X, [-1, -1, 1, 1]


def xor_dataset(alpha, mu=1.0, exact: bool = False, activation="relu",
                loss="logistic") -> Problem:
    """The 4-point XOR problem.  ``exact=True`` keeps sympy numbers (pass e.g.
    ``sympy.pi/3``; floats are converted with ``nsimplify``), so ``Problem.X_exact`` holds
    ``cos α`` etc. exactly."""
    _check_params(alpha, mu)
    if exact:
        a = alpha if isinstance(alpha, sp.Basic) else sp.nsimplify(alpha, [sp.pi])
        m = mu if isinstance(mu, sp.Basic) else sp.nsimplify(mu)
        X, y = xor_points(a, m)
        return Problem.from_arrays(sp.Matrix(X), [sp.Integer(v) for v in y], activation, loss)
    X, y = xor_points(float(alpha), float(mu))
    return Problem.from_arrays(np.array(X, dtype=float), np.array(y, dtype=float),
                               activation, loss)


def G_theta(alpha=ALPHA, mu=MU, activation: str | Activation = "relu",
            loss: str | Loss = "logistic") -> sp.Expr:
    """``G(cos θ, sin θ)`` for the XOR data, simplified by sympy."""
    act, lo = parse_activation(activation), parse_loss(loss)
    y, f = sp.Symbol("y", real=True), sp.Symbol("f", real=True)
    c_of_y = -sp.diff(lo.sympy(y, f), f).subs(f, 0)
    X, labels = xor_points(alpha, mu)
    u = (sp.cos(THETA), sp.sin(THETA))
    tot = sum(c_of_y.subs(y, lab) * sigma_form(act, x[0] * u[0] + x[1] * u[1])
              for x, lab in zip(X, labels))
    return sp.simplify(tot / len(X))


# ----------------------------------------------------------------------------- deciding signs
def _decider(alpha_value):
    """A function ``sign(expr) -> -1, 0, +1`` valid for all α of the case (and μ > 0)."""
    generic = alpha_value is None

    def sign(expr) -> int:
        e = sp.simplify(sp.sympify(expr).subs(MU, 1))
        if not generic:
            e = sp.simplify(e.subs(ALPHA, alpha_value))
        if e.free_symbols - {ALPHA}:
            raise AssertionError(f"cannot decide the sign of {e}")
        if e.has(sp.Abs):  # |g| = sign(g)·g, deciding sign(g) first (solveset needs no Abs)
            e = sp.simplify(e.replace(sp.Abs, lambda g: sign(g) * g))
        if not e.has(ALPHA):
            if e.is_zero:
                return 0
            if e.is_positive:
                return 1
            if e.is_negative:
                return -1
            v = sp.N(e, 50)
            if v == 0:
                raise AssertionError(f"cannot decide the sign of {e}")
            return 1 if v > 0 else -1
        if sp.solveset(sp.Le(e, 0), ALPHA, _GENERIC) is sp.S.EmptySet:
            return 1
        if sp.solveset(sp.Ge(e, 0), ALPHA, _GENERIC) is sp.S.EmptySet:
            return -1
        if sp.solveset(sp.Ne(e, 0), ALPHA, _GENERIC) is sp.S.EmptySet:
            return 0
        raise InputError(f"the sign of {e} changes for 0 < alpha < pi/2: no uniform closed form")

    return sign


def _in_circle(sign, t) -> list:
    """Representatives of ``t + kπ`` (k = −3..3) lying in ``(−π, π]``."""
    out = []
    for k in range(-3, 4):
        s = sp.simplify(t + k * sp.pi)
        if sign(s + sp.pi) > 0 and sign(sp.pi - s) >= 0:
            out.append(s)
    return out


def _dedupe(sign, angles: list) -> list:
    out: list = []
    for t in angles:
        if all(sign(t - s) != 0 for s in out):
            out.append(t)
    return out


def _sort(sign, angles: list) -> list:
    import functools

    return sorted(angles, key=functools.cmp_to_key(lambda p, q: sign(p - q)))


@dataclass(frozen=True)
class XorExtremum:
    """One extremal angle θ (sympy, in (−π, π]); ``G`` and ``growth_rate`` are sympy in α, μ."""

    theta: sp.Expr
    sign: int
    G: sp.Expr
    growth_rate: sp.Expr
    kind: str  # "kink" | "smooth" | "degenerate"


@dataclass
class XorClosedForms:
    """Closed forms derived by sympy for one case (``alpha`` None: generic 0 < α < π/2)."""

    alpha: sp.Expr | None
    G: sp.Expr
    kinks: list
    extrema: list = field(default_factory=list)

    def evaluate(self, mu: float = 1.0, alpha: float | None = None) -> list[dict]:
        """Numeric extrema: direction (cos θ, sin θ), sign, G, growth rate (float64)."""
        a = self.alpha if self.alpha is not None else alpha
        if a is None:
            raise InputError("evaluate needs a numeric alpha for the generic closed forms")
        _check_params(a, mu)
        subs = {ALPHA: a, MU: mu}
        out = []
        for e in self.extrema:
            th = float(sp.N(e.theta.subs(subs), 30))
            out.append({"theta": th, "direction": np.array([np.cos(th), np.sin(th)]),
                        "sign": e.sign, "G": float(sp.N(e.G.subs(subs), 30)),
                        "growth_rate": float(sp.N(e.growth_rate.subs(subs), 30)),
                        "kind": e.kind})
        return out


def derive_xor(alpha_value=None, activation="relu", loss="logistic") -> XorClosedForms:
    """Run steps 1–4 of the module docstring; ``alpha_value`` None means 0 < α < π/2."""
    sign = _decider(alpha_value)
    a = ALPHA if alpha_value is None else alpha_value
    G = G_theta(a, MU, activation, loss)
    if sp.simplify(G - MU * G.subs(MU, 1)) != 0:  # pragma: no cover - G is linear in μ
        raise AssertionError("G is not linear in mu")
    # 1. kinks
    kinks = []
    for ab in G.atoms(sp.Abs):
        arg = ab.args[0]
        sols = sp.solve(arg, THETA)
        for s in sols:
            if sp.simplify(arg.subs(THETA, THETA + sp.pi) + arg) != 0:  # pragma: no cover
                raise AssertionError(f"{arg} is not antiperiodic with period pi")
            kinks += _in_circle(sign, s)
    kinks = _sort(sign, _dedupe(sign, kinks))
    res = XorClosedForms(alpha_value, G, kinks)
    if not kinks:  # smooth G: no kinks (e.g. linear activation)
        arcs = [(-sp.pi, sp.pi)]
    else:
        arcs = [(kinks[j], kinks[j + 1]) for j in range(len(kinks) - 1)]
        arcs.append((kinks[-1], kinks[0] + 2 * sp.pi))

    def smooth_form(lo, hi):
        mid = (lo + hi) / 2
        rep = {ab: sign(ab.args[0].subs(THETA, mid)) * ab.args[0] for ab in G.atoms(sp.Abs)}
        return G.xreplace(rep)

    forms = [smooth_form(lo, hi) for lo, hi in arcs]

    def add(theta, kind, G_val, is_max):
        g = sp.simplify(G_val)
        g = sp.simplify(g.replace(sp.Abs, lambda q: sign(q) * q))
        sg = sign(g)
        if (is_max and sg > 0) or (not is_max and sg < 0):
            theta = sp.simplify(theta - 2 * sp.pi) if sign(theta - sp.pi) > 0 else theta
            res.extrema.append(XorExtremum(theta, 1 if is_max else -1, g, sg * g, kind))

    # 2. arc interiors.  On an arc G is a sinusoid (checked: G'' + G = 0), so G' has simple
    # zeros exactly π apart; on an arc shorter than π, G' has an interior zero iff its signs at
    # the two ends differ strictly.  Only then is the zero solved for.
    for (lo, hi), Gs in zip(arcs, forms):
        if sp.simplify(sp.diff(Gs, THETA, 2) + Gs) != 0:  # pragma: no cover
            raise AssertionError(f"G on an arc is not a sinusoid: {Gs}")
        dG = sp.diff(Gs, THETA)
        if sp.simplify(dG) == 0:
            continue  # flat arc: no strict extremum
        short = sign(sp.pi - (hi - lo)) > 0
        if short and sign(dG.subs(THETA, lo)) * sign(dG.subs(THETA, hi)) >= 0:
            continue
        for s in sp.solve(dG, THETA):
            for k in range(-3, 4):
                t = sp.simplify(s + k * sp.pi)
                if sign(t - lo) > 0 and sign(hi - t) > 0:
                    d2 = sign(sp.diff(Gs, THETA, 2).subs(THETA, t))
                    if d2 != 0:
                        add(t, "smooth", Gs.subs(THETA, t), d2 < 0)
    # 3. kinks: one-sided derivatives from the neighbouring arcs
    for j, t in enumerate(kinks):
        left, right = forms[j - 1], forms[j]
        dl = sign(sp.diff(left, THETA).subs(THETA, t))
        dr = sign(sp.diff(right, THETA).subs(THETA, t))
        Gt = G.subs(THETA, t)
        if dl > 0 and dr < 0:
            add(t, "kink", Gt, True)
        elif dl < 0 and dr > 0:
            add(t, "kink", Gt, False)
        elif (dl == 0) != (dr == 0) and (dl >= 0 >= dr or dl <= 0 <= dr):
            g = sp.simplify(Gt)
            res.extrema.append(XorExtremum(t, sign(g), g, sp.simplify(sp.Abs(g)),
                                           "degenerate"))
    return res


_CACHE: dict = {}


def xor_closed_forms(alpha=None, mu=None, activation="relu",
                     loss="logistic") -> XorClosedForms | list[dict]:
    """Closed forms for the XOR family.

    ``alpha`` None: the generic case 0 < α < π/2 as sympy expressions of α and μ.  A numeric
    ``alpha`` in (0, π/2) uses the generic result; α = π/2 (within 1e-15) uses the separately
    derived symmetric case.  With both ``alpha`` and ``mu`` given, the numeric extrema
    (:meth:`XorClosedForms.evaluate`) are returned instead."""
    _check_params(alpha, mu)
    key_act = (str(parse_activation(activation)), str(parse_loss(loss)))
    symmetric = alpha is not None and (
        alpha == sp.pi / 2 or abs(float(alpha) - np.pi / 2) <= 1e-15)
    key = key_act + (symmetric,)
    if key not in _CACHE:
        _CACHE[key] = derive_xor(sp.pi / 2 if symmetric else None, activation, loss)
    cf = _CACHE[key]
    if alpha is not None and mu is not None:
        return cf.evaluate(mu, None if symmetric else alpha)
    return cf
