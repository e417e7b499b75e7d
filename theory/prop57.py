"""Proposition 5.7's numerical inequality, checked with certified arithmetic.

With ``h(x, C) = C (Ei(x) − Ei(1)) + log x``, ``A = ((1 − 2a) e^{−7 q_max² a} − 4a)/2``,
``B = (1 + a)/2`` and ``C = e^{−4 q_max² a}``, the claim is ``LHS < RHS`` where

    LHS = h((1 − 2a) q_min², C)
    RHS = (A/B) h((1 − 2a) q_max², C) + ((B − A)/B)(1 + C e) log((1 − 2a) b_min²)
          − (1 + C e^{(1 − 2a) b_max²}) log(c²)

at ``a = 0.01, q_min = 2.25, q_max = 8/3, b_min = 5e-4, b_max = 0.5, c = 1000`` (the decimal
parameters are taken as the exact rationals they denote).

Certification.  ``mpmath.iv`` (outward-rounded interval arithmetic) has no ``ei``, so Ei is
enclosed by :func:`ei_interval`: for ``x > 0``, ``Ei(x) = γ + log x + Σ_{k≥1} x^k/(k·k!)``;
the first K terms are summed in interval arithmetic and the tail, whose terms decrease
geometrically with ratio at most ``x/(K+2)`` once ``K + 2 > x``, is bounded by
``t_{K+1}/(1 − x/(K+2))`` with ``t_{K+1} = x^{K+1}/((K+1)(K+1)!)``.  Since Ei is increasing on
(0, ∞), an argument interval ``[lo, hi]`` maps into ``[Ei(lo)↓, Ei(hi)↑]``.  Everything else
(exp, log, e, γ) is mpmath interval arithmetic, so the margin ``RHS − LHS`` lies in the
returned interval; the inequality is certified when its lower end is positive.

Meaning of h.  ``∂h/∂x = (1 + C eˣ)/x``, so ``h(x1, C) − h(x0, C)`` is the time the equation
``x' = x/(1 + C eˣ)`` needs from x0 to x1.  The four Figure 1 neurons obey exactly this
equation with C = 1 and the clock 2/μ (x = μ|w|², derived from the network and the loss in
:mod:`theory.figure1_scales`); ``log(c²)`` is the early-phase delay between two neurons whose
initial scales differ by the factor c.  What the inequality then asserts about the order or
timing of the neurons' saturation depends on the proposition's statement, which the
replication files do not contain; ``docs/later_phase.md`` reports what the trained trajectories
show against the terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
from mpmath import iv

PAPER = {"a": Fraction(1, 100), "q_min": Fraction(9, 4), "q_max": Fraction(8, 3),
         "b_min": Fraction(5, 10000), "b_max": Fraction(1, 2), "c": Fraction(1000)}


def _to_fraction(v) -> Fraction:
    return v if isinstance(v, Fraction) else Fraction(str(v))


def ei_interval(x, terms: int = 80):
    """An interval containing ``Ei(X)`` for an interval (or number) ``X ⊂ (0, ∞)``."""
    X = iv.mpf(x)
    if not endpoints(X)[0] > 0:
        raise ValueError("ei_interval needs x > 0")

    def enclose(pt):
        p = iv.mpf(pt)
        K = max(terms, int(mpmath.ceil(pt)) + 2)
        s = iv.mpf(0)
        term = iv.mpf(1)
        for k in range(1, K + 1):
            term = term * p / k          # x^k / k!
            s += term / k
        nxt = term * p / (K + 1) / (K + 1)  # t_{K+1}
        ratio = p / (K + 2)
        tail = nxt / (1 - ratio)
        return iv.euler + iv.log(p) + s + iv.mpf([0, endpoints(tail)[1]])

    xlo, xhi = endpoints(X)
    return iv.mpf([endpoints(enclose(xlo))[0], endpoints(enclose(xhi))[1]])


@dataclass
class Prop57Result:
    """Both sides and the margin ``RHS − LHS``: float64 values and certified intervals."""

    params: dict
    lhs_float: float
    rhs_float: float
    margin_float: float
    lhs_interval: object
    rhs_interval: object
    margin_interval: object
    dps: int
    intermediates: dict = field(default_factory=dict)

    @property
    def certified(self) -> bool | None:
        """True: margin > 0 proved; False: margin < 0 proved; None: undecided."""
        lo, hi = endpoints(self.margin_interval)
        if lo > 0:
            return True
        if hi < 0:
            return False
        return None

    def to_text(self) -> str:
        verdict = {True: "CERTIFIED: LHS < RHS", False: "CERTIFIED FALSE: LHS > RHS",
                   None: "UNDECIDED at this precision"}[self.certified]
        p = ", ".join(f"{k}={float(v):g}" for k, v in self.params.items())
        return (f"Proposition 5.7 inequality at {p}\n"
                f"  float64:   LHS = {self.lhs_float:.12f}, RHS = {self.rhs_float:.12f}, "
                f"margin = {self.margin_float:.12f}\n"
                f"  certified: LHS in {_fmt(self.lhs_interval)}, RHS in "
                f"{_fmt(self.rhs_interval)}\n"
                f"             margin in {_fmt(self.margin_interval)} "
                f"(interval arithmetic, {self.dps} digits)\n  {verdict}\n")


def endpoints(x) -> tuple:
    """The endpoints of an ``mpmath.iv`` interval as ``mpmath.mpf`` numbers."""
    lo, hi = x._mpi_
    return mpmath.mpf(lo), mpmath.mpf(hi)


def _fmt(x) -> str:
    lo, hi = endpoints(x)
    return f"[{mpmath.nstr(lo, 17)}, {mpmath.nstr(hi, 17)}]"


def _sides(P: dict, num, exp, log, ei, e):
    """Evaluate (LHS, RHS, intermediates) with the given arithmetic."""
    a, qmin, qmax = num(P["a"]), num(P["q_min"]), num(P["q_max"])
    bmin, bmax, c = num(P["b_min"]), num(P["b_max"]), num(P["c"])
    one = num(1)
    A = ((one - 2 * a) * exp(-7 * qmax**2 * a) - 4 * a) / 2
    B = (one + a) / 2
    C = exp(-4 * qmax**2 * a)
    ei1 = ei(one)

    def h(x):
        return C * (ei(x) - ei1) + log(x)

    x_min = (one - 2 * a) * qmin**2
    x_max = (one - 2 * a) * qmax**2
    lhs = h(x_min)
    rhs = ((A / B) * h(x_max) + ((B - A) / B) * (one + C * e) * log((one - 2 * a) * bmin**2)
           - (one + C * exp((one - 2 * a) * bmax**2)) * log(c**2))
    return lhs, rhs, {"A": A, "B": B, "C": C, "Ei(1)": ei1, "h_min": lhs, "h_max": h(x_max)}


def check_prop57(dps: int = 30, **overrides) -> Prop57Result:
    """Evaluate the inequality in float64 and in certified interval arithmetic.

    ``overrides`` replace parameters (``a, q_min, q_max, b_min, b_max, c``; decimals are read
    as exact rationals)."""
    unknown = set(overrides) - set(PAPER)
    if unknown:
        from .errors import InputError

        raise InputError(f"unknown Prop 5.7 parameter(s): {', '.join(sorted(unknown))}")
    P = {k: _to_fraction(overrides.get(k, v)) for k, v in PAPER.items()}
    from scipy.special import expi

    lf, rf, inter_f = _sides(P, lambda v: float(v), math.exp, math.log, expi, math.e)
    old = iv.dps
    iv.dps = dps
    try:
        def num(v):
            v = Fraction(v)
            return iv.mpf(v.numerator) / v.denominator

        li, ri, inter_i = _sides(P, num, iv.exp, iv.log, ei_interval, iv.e)
        margin = ri - li
    finally:
        iv.dps = old
    inter = {k: (float(inter_f[k]), inter_i[k]) for k in inter_f}
    return Prop57Result(P, float(lf), float(rf), float(rf - lf), li, ri, margin, dps, inter)
