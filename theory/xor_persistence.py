"""The XOR family in the later phase: when does each early cluster stay on its kink?

Data as in :mod:`theory.xor`: class −1 at ``±μ e1``, class +1 at ``±μ v``,
``v = (cos α, sin α)``, one point (or one equal-weight cluster) each.  In the later phase the
loss weights are the residuals ``r_i(t)``; for the logistic and exponential losses
``r_i = y_i ρ_i`` with ``ρ_i > 0``.  Name the four magnitudes by their points:

    ρ₊₁ = |r| at +μe1,   ρ₋₁ = |r| at −μe1,   ρ₊ᵥ = |r| at +μv,   ρ₋ᵥ = |r| at −μv.

The four early extrema (:func:`theory.xor.derive_xor`) are kinks: the maxima ``±e2`` (a > 0)
and the minima ``α ∓ π/2`` (a < 0).  :func:`derive_persistence` runs the face certificate of
:mod:`theory.certificate` symbolically, with ``ρ`` as symbols, at each of them:

* the zero set Z is the pair of points orthogonal to the kink direction u; on the face,
  ``G_t(w) = ⟨w, g⟩`` with ``g = (1/n)(Σ_P r_i x_i + γ Σ_N r_i x_i)``;
* the candidate is u itself iff ``sign·G_t(u) > 0``;
* u is a strict extremum iff ``sign·φ(h) < 0`` on both unit rays ``h = ±x_Z/|x_Z|`` of S =
  span x_Z, with ``φ(h) = ⟨h, s⟩ + (1/n) Σ_{i∈Z} r_i σ(⟨h, x_i⟩)`` the one-sided derivative of
  G_t along h (``s`` the part of g in S).

Each condition ``−sign·φ(h) > 0`` (and ``sign·G_t(u) > 0``) is a linear form in ρ with
coefficients in α, μ.  Those positive for every ρ > 0, α ∈ (0, π/2), μ > 0 are recorded as
*automatic*; what remains is the **persistence condition** of the cluster.  For ReLU (derived,
not typed) they read

    max at +e2 (a > 0):        ρ₊₁ > ρ₊ᵥ cos α      (residual on the +e1 point beats v's)
    max at −e2 (a > 0):        ρ₋₁ > ρ₋ᵥ cos α
    min at α − π/2 (a < 0):    ρ₊ᵥ > ρ₊₁ cos α
    min at α + π/2 (a < 0):    ρ₋ᵥ > ρ₋₁ cos α

each multiplied by μ/4 (= μ/n): the **margin** ``−sign·φ(h)`` is the one-sided slope of G_t
at the kink on the side that fails first.  So the margin is also the departure speed: once it
is negative, a neuron on the kink leaves at angular speed ``(|a|/|w|)·|margin|`` (the later
phase's angular speed, :mod:`theory.later_phase`).

While ρ = (1/2, 1/2, 1/2, 1/2) (logistic, f ≈ 0) every condition holds for α > 0.  For noisy
clusters the conditions with the cluster-averaged residuals (:func:`cluster_rho`) are the
4-point model of the data; the sampled data's own extrema are certified separately
(:func:`theory.later_phase.g_t_extrema`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .activations import parse_activation
from .errors import InputError
from .xor import ALPHA, MU, _check_params, _decider, xor_closed_forms

#: ρ₊₁, ρ₋₁, ρ₊ᵥ, ρ₋ᵥ: residual magnitudes at +μe1, −μe1, +μv, −μv.
RHO = sp.symbols("rho_pe1 rho_me1 rho_pv rho_mv", positive=True)
NAMES = ("+e1", "-e1", "+v", "-v")
#: label of the point named in NAMES (class −1 at ±e1, +1 at ±v).
LABELS = (-1, -1, 1, 1)


def _points(alpha, mu) -> list[sp.Matrix]:
    """``+μe1, −μe1, +μv, −μv`` in the order of :data:`NAMES`."""
    v = sp.Matrix([sp.cos(alpha), sp.sin(alpha)])
    e1 = sp.Matrix([1, 0])
    return [mu * e1, -mu * e1, mu * v, -mu * v]


@dataclass(frozen=True)
class PersistenceCondition:
    """One early cluster of the XOR family and the condition under which it stays.

    ``theta``: the kink angle (sympy in α); ``sign``: +1 (max, a > 0) or −1 (min, a < 0);
    ``value``: ``sign·G_t(u)``; ``slopes``: ``−sign·φ(h)`` on the two unit rays of S, i.e.
    the one-sided slopes of G_t at the kink pointing back into it; ``margins``: the
    conditions among ``value`` and ``slopes`` that are not automatic (each must be > 0);
    ``automatic``: those that hold for every ρ > 0; ``zero_set``: names of the points
    orthogonal to the kink.  All are sympy expressions in α, μ and :data:`RHO`."""

    label: str
    theta: sp.Expr
    sign: int
    value: sp.Expr
    slopes: tuple
    margins: tuple
    automatic: tuple
    zero_set: tuple

    def direction(self, alpha: float) -> np.ndarray:
        th = float(sp.N(self.theta.subs(ALPHA, alpha), 30))
        return np.array([np.cos(th), np.sin(th)])

    def evaluate(self, expr: sp.Expr, alpha: float, mu: float, rho) -> float:
        """``expr`` (one of this condition's expressions) at numeric α, μ, ρ."""
        return float(_lambdify(expr)(alpha, mu, *np.asarray(rho, dtype=float)))

    def max_slope(self, alpha: float, mu: float, rho) -> float:
        """The larger |one-sided slope| of G_t at the kink: a gradient step of size dt turns a
        neuron sitting there by at most ``dt·(|a|/|w|)·max_slope`` (its chattering band)."""
        return max(abs(self.evaluate(e, alpha, mu, rho)) for e in self.slopes)

    def margin(self, alpha: float, mu: float, rho) -> float:
        """The smallest margin at numeric α, μ and ρ = (ρ₊₁, ρ₋₁, ρ₊ᵥ, ρ₋ᵥ): > 0 while the
        kink is a strict extremum of G_t; its negative is the departure speed per unit
        ``|a|/|w|`` once it fails.  ``+inf`` when every condition is automatic."""
        if not self.margins:
            return float("inf")
        return min(self.evaluate(m, alpha, mu, rho) for m in self.margins)


_LAMBDA: dict = {}


def _lambdify(expr: sp.Expr):
    key = expr  # sympy expressions hash structurally (and cache the hash); srepr cost 0.5 ms
    if key not in _LAMBDA:
        _LAMBDA[key] = sp.lambdify([ALPHA, MU, *RHO], expr, "numpy")
    return _LAMBDA[key]


def _sigma(gamma, z_sign: int, z: sp.Expr) -> sp.Expr:
    return z if z_sign >= 0 else gamma * z


_SC = sp.symbols("s_alpha c_alpha", positive=True)


def _fast_sign(decide):
    """``decide`` (the XOR module's sign decision over 0 < α < π/2, by ``solveset``) with a
    fast path first: with sin α and cos α replaced by positive symbols (true on that range)
    and μ > 0, sympy's assumptions settle sums of signed monomials directly."""

    def sign(expr) -> int:
        e = sp.simplify(sp.sympify(expr))
        if e == 0:
            return 0
        q = e.subs({sp.sin(ALPHA): _SC[0], sp.cos(ALPHA): _SC[1]})
        if not q.has(ALPHA):
            if q.is_positive:
                return 1
            if q.is_negative:
                return -1
        return decide(e)

    return sign


def _always_positive(expr: sp.Expr, sign) -> bool:
    """True when the linear form ``expr`` in ρ is > 0 for all ρ > 0 (and the α range of
    ``sign``): every coefficient ≥ 0 and at least one > 0."""
    e = sp.expand(expr)
    coeffs = [e.coeff(r) for r in RHO]
    if sp.simplify(e - sum(c * r for c, r in zip(coeffs, RHO))) != 0:  # pragma: no cover
        raise AssertionError(f"{expr} is not linear in the residuals")
    signs = [sign(c) if c != 0 else 0 for c in coeffs]
    return all(s >= 0 for s in signs) and any(s > 0 for s in signs)


def derive_persistence(alpha_value=None, activation="relu") -> list[PersistenceCondition]:
    """The symbolic face certificate at each early extremum (module docstring), with the
    residual magnitudes ρ as symbols.  ``alpha_value`` None: 0 < α < π/2; or e.g. ``pi/2``.
    Labels: classification residuals ``r = y ρ`` (logistic or exponential loss)."""
    act = parse_activation(activation)
    if not act.piecewise_linear or act.gamma == 1:
        raise InputError(f"persistence conditions need a piecewise-linear activation with a "
                         f"kink, not {act}")
    gamma = sp.Rational(act.gamma.numerator, act.gamma.denominator)
    sign_of = _fast_sign(_decider(alpha_value))
    a = ALPHA if alpha_value is None else alpha_value
    early = xor_closed_forms(alpha_value, None, act, "logistic").extrema
    X = _points(a, MU)
    r = [lab * rho for lab, rho in zip(LABELS, RHO)]
    n = len(X)
    out = []
    for e in early:
        u = sp.Matrix([sp.cos(e.theta), sp.sin(e.theta)]).subs(ALPHA, a)
        z = [sp.simplify((u.T * x)[0, 0]) for x in X]
        zs = [sign_of(v) for v in z]
        Z = [i for i in range(n) if zs[i] == 0]
        g = sp.zeros(2, 1)
        for i in range(n):
            if zs[i] != 0:
                g += (1 if zs[i] > 0 else gamma) * r[i] * X[i] / n
        value = sp.simplify(e.sign * (u.T * g)[0, 0])
        slopes = []
        if Z:
            b = X[Z[0]]
            nb = sp.sqrt(sp.simplify((b.T * b)[0, 0]))
            s = ((b.T * g)[0, 0] / (b.T * b)[0, 0]) * b
            for sg in (1, -1):
                h = sg * b / nb
                phi = (h.T * s)[0, 0]
                for i in Z:
                    hz = sp.simplify((h.T * X[i])[0, 0])
                    phi += r[i] * _sigma(gamma, sign_of(hz), hz) / n
                slopes.append(sp.simplify(sp.expand_trig(-e.sign * phi)))
        margins, automatic = [], []
        for c in [value, *slopes]:
            (automatic if _always_positive(c, sign_of) else margins).append(c)
        label = f"{'max' if e.sign > 0 else 'min'} at theta = {sp.sstr(e.theta)}"
        out.append(PersistenceCondition(label, e.theta, e.sign, value, tuple(slopes),
                                        tuple(margins), tuple(automatic),
                                        tuple(NAMES[i] for i in Z)))
    return out


_CACHE: dict = {}


def persistence_conditions(alpha=None, activation="relu") -> list[PersistenceCondition]:
    """Cached :func:`derive_persistence`: the generic case 0 < α < π/2, or the symmetric case
    when ``alpha`` is π/2 (within 1e-15)."""
    _check_params(alpha, None)
    symmetric = alpha is not None and abs(float(alpha) - np.pi / 2) <= 1e-15
    key = (str(parse_activation(activation)), symmetric)
    if key not in _CACHE:
        _CACHE[key] = derive_persistence(sp.pi / 2 if symmetric else None, activation)
    return _CACHE[key]


def cluster_rho(X, r, alpha: float, labels=None) -> np.ndarray:
    """Cluster-averaged residual magnitudes ``(ρ₊₁, ρ₋₁, ρ₊ᵥ, ρ₋ᵥ)`` of skewed-XOR data: each
    point goes to the nearest of the centres ``+e1, −e1, +v, −v`` (by direction) and ``|r|`` is
    averaged per cluster.  A cluster with no point gives NaN."""
    X = np.asarray(X, dtype=float)
    r = np.asarray(r, dtype=float)
    if X.ndim != 2 or X.shape[1] < 2 or r.shape != (X.shape[0],):
        raise InputError("cluster_rho needs X (n×d, d ≥ 2) and r (n)")
    v = np.array([np.cos(alpha), np.sin(alpha)])
    C = np.array([[1.0, 0.0], [-1.0, 0.0], v, -v])
    k = np.argmax(X[:, :2] @ C.T, axis=1)
    out = np.full(4, np.nan)
    for j in range(4):
        if np.any(k == j):
            out[j] = float(np.mean(np.abs(r[k == j])))
    return out


def margins_over_time(conditions, alpha: float, mu: float, rho_t) -> np.ndarray:
    """``(T, 4)`` array: each condition's margin at each row of ``rho_t`` (T×4)."""
    rho_t = np.atleast_2d(np.asarray(rho_t, dtype=float))
    return np.array([[c.margin(alpha, mu, rho) for c in conditions] for rho in rho_t])


def departure(times, margins, values, omega, t_fail: float, x0: float,
              substeps: int = 64) -> np.ndarray:
    """The angle of a neuron leaving a kink whose condition failed at ``t_fail`` (radians, on
    the record grid ``times``; 0 before ``t_fail``).

    On the failing side, at angle x from the kink, the one-sided slope of G_t is
    ``−margin − value·x + O(x²)`` (on an arc G_t is a sinusoid, whose second derivative along
    the circle is −G_t), so the later-phase direction flow gives

        x' = ω (−margin(t) − value(t)·x),      x(t_fail) = x0,

    with ω = |a|/|w|.  ``margins``, ``values`` and ``omega`` are given on the record grid and
    interpolated linearly; the linear ODE is integrated exactly over ``substeps`` pieces per
    record interval (coefficients frozen on each piece)."""
    t = np.asarray(times, dtype=float)
    m, v, w = (np.asarray(q, dtype=float) * np.ones_like(t) for q in (margins, values, omega))
    out = np.zeros_like(t)
    x, started = float(x0), False
    for k in range(1, len(t)):
        lo, hi = t[k - 1], t[k]
        if hi <= t_fail:
            continue
        a = max(lo, t_fail)
        if not started:
            started = True
        edges = np.linspace(a, hi, substeps + 1)
        for s0, s1 in zip(edges[:-1], edges[1:]):
            mid = 0.5 * (s0 + s1)
            f = (mid - lo) / (hi - lo)
            mm = (1 - f) * m[k - 1] + f * m[k]
            vv = (1 - f) * v[k - 1] + f * v[k]
            ww = (1 - f) * w[k - 1] + f * w[k]
            h = s1 - s0
            c = ww * vv
            if abs(c * h) < 1e-12:
                x += -ww * mm * h
            else:
                xs = -mm / vv  # the moving fixed point (the emerging smooth extremum)
                x = xs + (x - xs) * np.exp(-c * h)
        out[k] = x
    return out


def first_crossing(times, values, level: float = 0.0, start: float = -np.inf):
    """First time after ``start`` that ``values`` falls from ≥ ``level`` to < ``level``,
    interpolated linearly between grid points (None if it never does)."""
    t = np.asarray(times, dtype=float)
    y = np.asarray(values, dtype=float) - level
    for k in range(1, len(t)):
        if t[k] <= start:
            continue
        if y[k] < 0 <= y[k - 1]:
            return float(t[k - 1] + (t[k] - t[k - 1]) * y[k - 1] / (y[k - 1] - y[k]))
        if y[k] < 0 and t[k - 1] <= start:
            return float(t[k])
    return None
