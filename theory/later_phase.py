"""The later phase: the full gradient flow is the early-phase system with moving loss weights.

Network ``f(x) = Σ_j a_j σ(⟨w_j, x⟩)``, loss ``L = (1/n) Σ_i ℓ(y_i, f(x_i))``.  Write

    r_i(t) = −∂ℓ/∂f (y_i, f_t(x_i))            (the residuals; r_i(0) → c_i as ε → 0)
    G_t(w) = (1/n) Σ_i r_i(t) σ(⟨w, x_i⟩).

Claims derived here by sympy (:func:`derive_later_phase`), for the concrete ℓ of
:class:`theory.losses.Loss`:

1. **Full flow.**  ``w_j' = −∂L/∂w_j = a_j ∇G_t(w_j)`` and ``a_j' = −∂L/∂a_j = G_t(w_j)``
   exactly, where the gradient acts on ``w`` with ``r_i(t)`` held fixed.  This needs no
   assumption on σ: the chain rule through ``f`` produces ``r_i(t)`` and nothing else.  Only
   ``c_i`` is replaced by ``r_i(t)``.
2. **Polar form** (positively 1-homogeneous σ, so ``⟨w, ∇G_t(w)⟩ = G_t(w)`` and ∇G_t is
   0-homogeneous): with ``w = ρ u``, ``|u| = 1``,
   ``ρ' = a G_t(u)``, ``a' = ρ G_t(u)``, ``u' = (a/ρ)(I − u uᵀ) ∇G_t(u)``.  Every neuron's
   direction follows the Riemannian gradient flow of the moving ``G_t`` on the sphere
   (ascending when ``a > 0``), at **angular speed** ``|u'| = (|a|/ρ) |(I − u uᵀ)∇G_t(u)|``;
   in d = 2, ``θ' = (a/ρ) dG_t/dθ``.
3. **Relaxation rate** (piecewise-linear σ).  On a face, ``G_t(w) = ⟨w, g⟩`` and a smooth
   extremum is ``u* = ±g/|g|``; the Riemannian Hessian of ``u ↦ ⟨u, g⟩`` on the sphere at
   ``u*`` is ``−⟨u*, g⟩ I``, so near ``u*`` the angle β to it obeys ``β' = −(|a|/ρ)|G_t(u*)|
   sin β``: a neuron relaxes onto the extremum at the rate ``κ = (|a|/ρ)|G_t(u*)|`` — the
   growth rate of its scale times ``|a|/ρ``.  (In d = 2 the same rate bounds the pull towards
   a kink extremum from its two neighbouring arcs.)

Numerics for a network state (numpy): :func:`residuals`, :func:`weighted_problem` (a
:class:`Problem` whose loss weights are the given numbers, so the package's certified
predictor gives the extrema of ``G_t``: :func:`g_t_extrema`), :func:`angular_speed`,
:func:`g_t_rate_bound`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from .activations import Activation, parse_activation
from .derive import _angle, _polar, _sign_to_abs, _zero, sigma_form
from .errors import InputError
from .losses import Loss, parse_loss
from .problem import Problem

RHO = sp.Symbol("r_t", real=True)  # the residual −∂ℓ/∂f(y, f_t(x)) of one data point


# ----------------------------------------------------------------------------- derivation
@dataclass
class LaterPhaseDerivation:
    """What :func:`derive_later_phase` derived and checked (booleans are sympy decisions)."""

    activation: Activation
    loss: Loss
    d: int
    steps: list = field(default_factory=list)
    residual: sp.Expr | None = None         # r(y, f) = −∂ℓ/∂f
    full_flow_matches: bool = False         # −∂L/∂w = a ∇G_t(w), −∂L/∂a = G_t(w), exactly
    polar: dict = field(default_factory=dict)
    polar_matches: bool = False             # ρ' = a G_t(u), a' = ρ G_t(u), u' = (a/ρ)P∇G_t(u)
    angular_speed_sq: sp.Expr | None = None  # |u'|² derived from u'
    angular_speed_matches: bool = False     # |u'|² = (a/ρ)² |P ∇G_t(u)|²
    angle_eq: sp.Expr | None = None         # d = 2: θ'
    angle_matches: bool = False             # θ' = (a/ρ) dG_t/dθ

    def add(self, title: str, expr) -> None:
        self.steps.append((title, expr))

    def to_text(self) -> str:
        out = [f"Later phase for activation={self.activation}, loss={self.loss}, d={self.d}"]
        for k, (title, expr) in enumerate(self.steps, 1):
            body = expr if isinstance(expr, str) else sp.sstr(expr)
            out.append(f"\n[{k}] {title}")
            out.extend("    " + line for line in body.splitlines())
        return "\n".join(out) + "\n"


def derive_later_phase(activation: str | Activation = "relu", loss: str | Loss = "logistic",
                       d: int = 2) -> LaterPhaseDerivation:
    """Derive claims 1 and 2 of the module docstring with sympy (two neurons, one data point
    per term: the flow and ``G_t`` are both averages over the data of per-point terms)."""
    act, lo = parse_activation(activation), parse_loss(loss)
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not 1 <= int(d) <= 4:
        raise InputError(f"d must be an integer between 1 and 4, got {d!r}")
    d = int(d)
    D = LaterPhaseDerivation(act, lo, d)
    x = sp.Matrix(sp.symbols(f"x1:{d + 1}", real=True))
    y = sp.Symbol("y", real=True)
    W = [sp.Matrix(sp.symbols(f"w{j}_1:{d + 1}", real=True)) for j in (1, 2)]
    A = list(sp.symbols("a1:3", real=True))

    def sig(e):
        return sigma_form(act, e)

    f_net = sum(A[j] * sig((W[j].T * x)[0, 0]) for j in range(2))
    F = sp.Function("f")(*W[0], *W[1], *A)
    ell_F = lo.sympy(y, F)

    def flow(var):
        """Per-point −∂ℓ(y, f(x))/∂var with f the network (the chain rule through f)."""
        e = -sp.diff(ell_F, var)
        return e.subs(sp.Derivative(F, var), sp.diff(f_net, var)).subs(F, f_net)

    fs = sp.Symbol("f", real=True)
    r_of_f = -sp.diff(lo.sympy(y, fs), fs)
    D.residual = sp.simplify(r_of_f)
    D.add("Network f(x) = a1 sigma(<w1, x>) + a2 sigma(<w2, x>); residual r(y, f) = -dl/df",
          D.residual)
    # claim 1: the full per-point flow of neuron 1 equals (a ∇_w, 1)·[r σ(⟨w, x⟩)] with r frozen
    Gt_point = RHO * sig((W[0].T * x)[0, 0])
    at_state = {RHO: r_of_f.subs(fs, f_net)}
    ok_w = all(_zero(flow(W[0][k]) - (A[0] * sp.diff(Gt_point, W[0][k])).subs(at_state))
               for k in range(d))
    ok_a = _zero(flow(A[0]) - Gt_point.subs(at_state))
    D.full_flow_matches = bool(ok_w and ok_a)
    D.add("Full gradient flow, per data point: -dl/dw_1 and -dl/da_1",
          sp.Matrix([*(flow(W[0][k]) for k in range(d)), flow(A[0])]))
    D.add("Equals w' = a grad G_t(w), a' = G_t(w) with G_t's point term r_t sigma(<w, x>), "
          "r_t = r(y, f_t(x)) held fixed (any sigma)", str(D.full_flow_matches))

    # claim 2: polar form and angular speed (homogeneous σ)
    if not act.homogeneous:
        D.add("Polar form", f"not derived: {act} is not positively 1-homogeneous")
        return D
    w = sp.Matrix(sp.symbols(f"w_1:{d + 1}", real=True))
    a = sp.Symbol("a", real=True)
    G_point = RHO * sig((w.T * x)[0, 0])
    D.polar, D.polar_matches = _polar(act, G_point, w, a, x, d)
    D.add("Polar form w = r u: r' = <w, w'>/|w|", D.polar["r"])
    D.add("u' = (w' - r' u)/r", D.polar["u"])
    D.add("Equals r' = a G_t(u), a' = r G_t(u), u' = (a/r)(I - u u^T) grad G_t(u)",
          str(D.polar_matches))
    u, rr = D.polar["u_sym"], D.polar["r_sym"]
    grad_u = sp.Matrix([sp.diff(G_point, w[k]) for k in range(d)]).subs(
        {w[k]: u[k] for k in range(d)})
    proj = (sp.eye(d) - u * u.T) * grad_u
    speed_sq = sum(c ** 2 for c in D.polar["u"])
    D.angular_speed_sq = speed_sq
    target = (a / rr) ** 2 * sum(c ** 2 for c in proj)
    D.angular_speed_matches = bool(_zero(_sign_to_abs(speed_sq - target)))
    D.add("Angular speed |u'|^2 = (a/r)^2 |(I - u u^T) grad G_t(u)|^2",
          str(D.angular_speed_matches))
    if d == 2:
        D.angle_eq, D.angle_matches = _angle(act, G_point, w, a, x, D.polar["u"])
        D.add("d = 2: theta' = (a/r) dG_t/dtheta", str(D.angle_matches))
    return D


# ----------------------------------------------------------------------------- numerics
def output(problem: Problem, W, a) -> np.ndarray:
    """``f(x_i) = Σ_j a_j σ(⟨w_j, x_i⟩)`` for every data point (n,)."""
    W = np.asarray(W, dtype=float)
    return problem.activation.numpy(problem.X @ W.T) @ np.asarray(a, dtype=float)


def residuals(problem: Problem, W, a) -> np.ndarray:
    """``r_i = −∂ℓ/∂f(y_i, f(x_i))`` at the network state ``(W, a)`` (n,)."""
    return problem.loss.neg_derivative(problem.y, output(problem, W, a))


def weighted_problem(problem: Problem, weights) -> Problem:
    """The problem on the same data whose loss weights are ``weights`` exactly.

    Built as a square-loss problem with targets ``weights``: the square loss's ``c_i`` is
    ``y_i`` (``Loss.weights``), so its ``G`` is ``(1/n) Σ_i weights_i σ(⟨w, x_i⟩)`` — the
    ``G_t`` of a network state when ``weights = r(t)``.  Float weights are dyadic rationals, so
    the predictor's exact certificates hold for these weights exactly."""
    r = np.asarray(weights, dtype=float)
    if r.shape != (problem.n,):
        raise InputError(f"weights must have length n={problem.n}, got shape {r.shape}")
    return Problem.from_arrays(problem.X, r, problem.activation, "square")


def g_t_extrema(problem: Problem, weights, **kw):
    """Certified extrema of ``G_t`` (weights ``r_i(t)`` in place of ``c_i``): the package's
    predictor (:func:`theory.extrema.predict`, no basins) on :func:`weighted_problem`."""
    from .extrema import predict

    kw.setdefault("basins", False)
    return predict(weighted_problem(problem, weights), **kw)


def g_t_rate_bound(problem: Problem, weights) -> float:
    """``(1/n) Σ |r_i||x_i| max(1, |γ|)``: bounds |G_t| and |∇G_t| on the unit sphere
    (:attr:`Problem.G_rate_bound` with ``r`` in place of ``c``)."""
    return weighted_problem(problem, weights).G_rate_bound


def angular_speed(problem: Problem, W, a, weights) -> np.ndarray:
    """Claim 2's angular speed ``(|a_j|/|w_j|)·|(I − u_j u_jᵀ)∇G_t(u_j)|`` per neuron (rad per
    unit time; the one-sided derivative of σ at a kink is σ'(0⁺), as in
    :meth:`Problem.grad_G`)."""
    W = np.asarray(W, dtype=float)
    a = np.asarray(a, dtype=float)
    rho = np.linalg.norm(W, axis=1)
    U = np.divide(W, rho[:, None], out=np.zeros_like(W), where=rho[:, None] > 0)
    g = problem.grad_G(U, weights=weights)
    tang = g - np.sum(g * U, axis=1, keepdims=True) * U
    ratio = np.divide(np.abs(a), rho, out=np.zeros_like(rho), where=rho > 0)
    return ratio * np.linalg.norm(tang, axis=1)


@lru_cache(maxsize=None)
def _curvature_fn(loss_name: str):
    """``ℓ''(y, f) = ∂²ℓ/∂f²`` of a loss, derived by sympy from its own ``sympy`` view."""
    y, f = sp.symbols("y f", real=True)
    return sp.lambdify((y, f), sp.diff(parse_loss(loss_name).sympy(y, f), f, 2), "numpy")


def loss_curvature(problem: Problem, f) -> np.ndarray:
    """``ℓ''(y_i, f_i)`` for every data point (n,); ≥ 0 for the package's convex losses."""
    out = _curvature_fn(str(problem.loss))(np.asarray(problem.y, dtype=float),
                                           np.asarray(f, dtype=float))
    return np.broadcast_to(np.asarray(out, dtype=float), (problem.n,)).copy()


def sharpness_bound(problem: Problem, W, a) -> float:
    """An upper bound on the largest eigenvalue of the loss's Hessian in ``θ = (W, a)`` at a
    network state (piecewise-linear σ, away from kinks, where σ'' = 0).

    ``∇²L = (1/n) Σ_i ℓ''_i ∇f_i ∇f_iᵀ − (1/n) Σ_i r_i ∇²f_i``.  The first (Gauss–Newton)
    term's top eigenvalue equals that of the n×n matrix ``(1/n) D^{1/2} K D^{1/2}``,
    ``D = diag(ℓ''_i)``, ``K = J Jᵀ`` the network's tangent kernel
    (``K_ik = Σ_j σ(z_ij)σ(z_kj) + ⟨x_i, x_k⟩ Σ_j a_j² σ'(z_ij)σ'(z_kj)``, ``z_ij = ⟨w_j,
    x_i⟩``); it is computed exactly.  The second is block-diagonal over neurons, neuron j's
    block being ``[[0, vᵀ], [v, 0]]`` in ``(w_j, a_j)`` with ``v = (1/n) Σ_i r_i σ'(z_ij)
    x_i = ∇G_t(w_j)``, whose eigenvalues are ``±|v|``; its norm is ``max_j |∇G_t(w_j)|``.
    By Weyl's inequality the sum of the two bounds the top eigenvalue.  Gradient descent with
    step ``lr`` is stable along the sharpest direction only while ``lr · S < 2``, and follows
    the gradient flow (a monotone, not alternating, decay of that mode) while ``lr · S < 1``."""
    W = np.asarray(W, dtype=float)
    a = np.asarray(a, dtype=float)
    X = np.asarray(problem.X, dtype=float)
    Z = X @ W.T
    s = problem.activation.numpy(Z)
    ds = problem.activation.numpy_deriv(Z)
    K = s @ s.T + (X @ X.T) * ((ds * a ** 2) @ ds.T)
    f = s @ a
    h = np.sqrt(np.clip(loss_curvature(problem, f), 0.0, None))
    gn = float(np.linalg.eigvalsh(h[:, None] * K * h[None, :] / problem.n)[-1])
    r = problem.loss.neg_derivative(problem.y, f)
    v = (ds * r[:, None]).T @ X / problem.n  # (m, d): ∇G_t(w_j)
    return max(gn, 0.0) + float(np.max(np.linalg.norm(v, axis=1), initial=0.0))


# ----------------------------------------------------------------------------- attractors
def _half(v) -> int:
    return 0 if (v[1] > 0 or (v[1] == 0 and v[0] > 0)) else 1


def _ccw_key():
    import functools

    def cmp(p, q):
        hp, hq = _half(p), _half(q)
        if hp != hq:
            return hp - hq
        cr = p[0] * q[1] - p[1] * q[0]
        return -1 if cr > 0 else (1 if cr < 0 else 0)

    return functools.cmp_to_key(cmp)


def attractors_2d(problem: Problem, weights) -> list:
    """Every strict local maximum and minimum of ``G_t`` on the unit circle (d = 2,
    piecewise-linear σ), whatever the sign of ``G_t`` there, decided in exact rational
    arithmetic (floats are dyadic rationals; :class:`fractions.Fraction`).

    Why every sign.  The predictor reports maxima with ``G > 0`` and minima with ``G < 0`` —
    the directions whose neurons grow.  The direction flow ``u' = (a/|w|)(I − uuᵀ)∇G_t(u)``
    ascends ``G_t`` for ``a > 0`` whatever its sign, so in the later phase a maximum with
    ``G_t ≤ 0`` (a neuron sits there and shrinks) is an attractor too.  On an arc between two
    kinks ``G_t(w) = ⟨w, g⟩`` and its only critical points are ``±g/|g|``, a maximum with
    ``G_t = |g| > 0`` and a minimum with ``G_t = −|g|``; extrema of the other sign sit on kinks.

    Method.  The kink directions ``±J x_i`` (J the rotation by 90°, so they are rational) are
    sorted by angle exactly.  Walking around the circle, the face's ``g`` changes at each kink
    by the contributions of the points on its line (so the sweep is O(n) after the sort).  On
    each arc ``±g`` counts when it lies strictly inside the arc (exact cross products): a
    smooth extremum.  At each kink direction u with zero set Z (the points on its line), the
    one-sided derivatives along ``h = ±x_i`` are
    ``φ(h) = ⟨h, s⟩ + (1/n) Σ_{j∈Z} r_j σ(⟨h, x_j⟩)`` (s the part of the face's g along x_i,
    as in :mod:`theory.certificate`): a strict maximum has ``φ(±x_i) < 0``, or ``≤ 0`` with
    ``G_t(u) > 0`` (a side where G_t is flat to first order still falls off to second order:
    kind "degenerate", as the certificate reports it); minima likewise with signs reversed.
    Returns :class:`theory.extrema.Extremum` rows: ``sign`` +1 for maxima, −1 for minima,
    ``G`` the float value of G_t there, ``kind`` "smooth", "kink" or "degenerate"."""
    from fractions import Fraction

    from .extrema import Extremum

    if problem.d != 2 or not problem.activation.piecewise_linear:
        raise InputError("attractors_2d needs 2-D data and a piecewise-linear activation")
    n = problem.n
    X = [(Fraction(float(p[0])), Fraction(float(p[1]))) for p in problem.X]
    r = [Fraction(float(v)) for v in np.asarray(weights, dtype=float)]
    gam = Fraction(problem.activation.gamma)
    pts = [j for j, x in enumerate(X) if x != (0, 0)]
    if not pts:
        return []

    def dot(u, x):
        return u[0] * x[0] + u[1] * x[1]

    def cross(u, v):
        return u[0] * v[1] - u[1] * v[0]

    def sig(z):
        return z if z >= 0 else gam * z

    def slope(sg):
        return 1 if sg > 0 else gam

    def row(u, sign, kind, Z=()):
        uf = np.array([float(u[0]), float(u[1])])
        uf /= np.linalg.norm(uf)
        Gv = float(problem.G(uf[None, :], weights=weights)[0])
        return Extremum(uf, sign, Gv, abs(Gv), kind, None, None, tuple(Z))

    # kink directions (one per line and side, scaled to max-norm 1) with their zero sets
    zero: dict = {}
    for j in pts:
        for o in (1, -1):
            u = (-o * X[j][1], o * X[j][0])
            m = max(abs(u[0]), abs(u[1]))
            zero.setdefault((u[0] / m, u[1] / m), []).append(j)
    kinks = sorted(zero, key=_ccw_key())
    K = len(kinks)
    # the arc (kinks[-1], kinks[0]): signs and g, computed once
    a0, b0 = kinks[-1], kinks[0]
    inner = b0 if cross(a0, b0) != 0 else (-a0[1], a0[0])  # a point of the arc (a0, b0]

    def side(x):
        z = dot(a0, x) if dot(a0, x) != 0 else dot(inner, x)
        return 1 if z > 0 else -1

    sgn = {j: side(X[j]) for j in pts}
    g = [Fraction(0), Fraction(0)]
    for j in pts:
        k = r[j] * slope(sgn[j]) / n
        g = [g[0] + k * X[j][0], g[1] + k * X[j][1]]
    out = []
    for idx in range(K):
        a, b = kinks[idx - 1], kinks[idx]
        # smooth extremum strictly inside the arc (a, b)
        for sg in (1, -1):
            c = (sg * g[0], sg * g[1])
            if c == (0, 0):
                continue
            inside = (cross(a, c) > 0 and cross(c, b) > 0) if cross(a, b) > 0 else \
                (cross(a, c) > 0 if cross(a, b) == 0 else
                 not (cross(b, c) >= 0 and cross(c, a) >= 0))
            if inside:
                out.append(row(c, sg, "smooth"))
        # the kink b: face g without its zero set, one-sided derivatives along ±x_Z
        Z = zero[b]
        gf = list(g)
        for j in Z:
            k = r[j] * slope(sgn[j]) / n
            gf = [gf[0] - k * X[j][0], gf[1] - k * X[j][1]]
        xi = X[Z[0]]
        cs = dot(gf, xi) / dot(xi, xi)
        phis = []
        for h in (xi, (-xi[0], -xi[1])):
            phi = cs * dot(h, xi)
            for j in Z:
                phi += r[j] * sig(dot(h, X[j])) / n
            phis.append(phi)
        Gb = dot(b, gf)  # the sign of G_t at the kink
        for sg in (1, -1):
            # strict extremum: sg·φ < 0 on both rays; a flat side (φ = 0) still is one to
            # second order when sg·G_t > 0 (the normalisation bends it down), reported as
            # "degenerate" like the certificate does
            if all(sg * p <= 0 for p in phis) and (all(sg * p < 0 for p in phis)
                                                   or sg * Gb > 0):
                out.append(row(b, sg, "kink" if all(p != 0 for p in phis) else "degenerate",
                               Z))
        # cross the kink: the points on its line change side
        for j in Z:
            k = r[j] * (slope(-sgn[j]) - slope(sgn[j])) / n
            g = [g[0] + k * X[j][0], g[1] + k * X[j][1]]
            sgn[j] = -sgn[j]
    return out


def direction_attractors(problem: Problem, weights) -> list:
    """The attractors of the later-phase direction flow: every strict local maximum of
    ``G_t`` (``sign`` +1, where neurons with a > 0 settle) and minimum (``sign`` −1), of either
    sign of ``G_t``.  d = 2 with piecewise-linear σ: :func:`attractors_2d` (exact, complete);
    otherwise the certified extrema of :func:`g_t_extrema` (``sign·G_t > 0`` only)."""
    if problem.d == 2 and problem.activation.piecewise_linear and problem.activation.gamma != 1:
        return attractors_2d(problem, weights)
    return list(g_t_extrema(problem, weights).extrema)


# ----------------------------------------------------------------------------- tracking bounds
def envelope_step(B_prev: float, band: float, kappa: float, dt: float,
                  displacement: float, drift: float = 0.0) -> float:
    """One record step of the **tracking envelope** (radians), claim 3 of the module docstring.

    A neuron at angle β from an extremum that moves by ``displacement`` between two records
    ``dt`` apart obeys ``β' ≤ −κ sin β + |u*'|`` (to first order at the extremum), and gradient
    descent adds a chattering band: one step turns a direction by at most ``band`` (step size ×
    the neuron's angular speed near the extremum).  Over the interval, with
    ``sin β ≥ β sin B/B`` for ``β ≤ B < π``, the excess over the band contracts by at least
    ``exp(−κ dt · sin(B)/B)`` and the extremum's motion adds at most its displacement:

        B_next = band + (B_prev − band)₊ · exp(−κ dt · sin(B)/B) + displacement.

    (The exact solution of ``B' = −κB + v`` with constant v adds ``v(1 − e^{−κ dt})/κ ≤ v dt``,
    so adding the whole displacement is conservative; a band that shrinks, e.g. when a kink
    extremum turns smooth, lets the old chattering decay at the rate κ instead of vanishing.)

    ``drift`` (radians) is the landscape's own change: the premise (the pull bound) is
    evaluated on the records' landscapes, but the steps in between were taken on the residuals
    of the states in between.  Where the slope dG_t/dθ there differs from the records' by at
    most ρ, the pull is weaker by at most (|a|/|w|)·ρ, so ``β' ≤ −κ sin β + |u*'| + (|a|/|w|)ρ``
    and the interval adds at most ``drift = (|a|/|w|)·ρ·dt`` (:func:`numerics.tracking.
    landscape_change`).  It matters where the pull itself is of the size of that change: an
    attractor with G_t(u*) ≈ 0 next to a face whose points are already fitted."""
    ex = max(B_prev - band, 0.0)
    q = 1.0 if ex == 0.0 else (float(np.sin(ex) / ex) if ex < np.pi else 0.0)
    return band + ex * float(np.exp(-q * kappa * dt)) + displacement + drift


def pull_radius_2d(problem: Problem, weights, theta_star: float, sign: int, kappa0: float,
                   limit: float = np.pi) -> float:
    """The premise of the tracking envelope around an attractor ``u* = (cos θ*, sin θ*)`` of
    ``G`` with loss weights ``weights`` (d = 2, piecewise-linear σ): the largest
    ``β_v ≤ limit`` such that at every direction ``β ≤ β_v`` from u*, on either side, the
    direction flow pulls towards u* at least at the rate ``kappa0 · sin β`` per unit
    ``|a|/|w|``:

        F(β) = (pull towards u*) − kappa0 sin β ≥ 0,   pull = −sign · dG/dθ · (side of u*).

    On an arc between two kinks ``G(u) = ⟨u, g⟩`` (``g`` the face's gradient), and with
    ``t* = (−sin θ*, cos θ*)`` the direction at angle ``θ* + side·β`` has
    ``dG/dθ = cos β ⟨t*, g⟩ − side · sin β ⟨u*, g⟩``, so on each arc

        F(β) = −side·sign ⟨t*, g⟩ cos β + (sign ⟨u*, g⟩ − kappa0) sin β,

    a sinusoid whose first crossing below zero is solved in closed form, arc by arc outwards.
    A smooth extremum (``u* = sign·g/|g|``, ``kappa0 = |g|``) has ``F ≡ 0`` on its own arc:
    the bound ``β' ≤ −κ sin β`` is exact there.  Next to a kink extremum F > 0 up to 90°
    when ``sign·G(u*) > 0`` and less far otherwise (a maximum with ``G < 0`` pulls ever more
    weakly towards the face's minimum).  ``F ≥ −tol`` is accepted with ``tol`` = 1e-9 times
    the slope bound :func:`g_t_rate_bound`: F is a float64 sum of n terms, each below that
    bound, so its rounding is ~n·1e-16 of it, and the identically vanishing F on a smooth
    extremum's arc must not be decided by rounding."""
    if problem.d != 2 or not problem.activation.piecewise_linear:
        raise InputError("pull_radius_2d needs 2-D data and a piecewise-linear activation")
    w = np.asarray(weights, dtype=float)
    tol = 1e-9 * max(g_t_rate_bound(problem, w), 1e-300)
    X = np.asarray(problem.X, dtype=float)
    X = X[np.linalg.norm(X, axis=1) > 0]
    base = np.arctan2(X[:, 1], X[:, 0])
    kinks = np.concatenate([base + np.pi / 2, base - np.pi / 2])
    us = np.array([np.cos(theta_star), np.sin(theta_star)])
    ts = np.array([-np.sin(theta_star), np.cos(theta_star)])
    best = float(limit)
    for side in (1, -1):
        off = np.sort(((kinks - theta_star) * side) % (2 * np.pi))
        off = off[(off > 1e-12) & (off < best)]
        edges = [0.0, *off.tolist(), best]
        for lo, hi in zip(edges[:-1], edges[1:]):
            if hi - lo <= 0:
                continue
            mid = theta_star + side * 0.5 * (lo + hi)
            g = problem.grad_G(np.array([[np.cos(mid), np.sin(mid)]]), weights=w)[0]
            A = -side * sign * float(ts @ g)
            C = sign * float(us @ g) - kappa0
            R = float(np.hypot(A, C))
            if A * np.cos(lo) + C * np.sin(lo) < -tol:
                best = min(best, lo)
                break
            if R <= tol:
                continue
            # F(β) = R cos(β − φ) falls through −tol at β = φ + arccos(−tol/R) (+2πk)
            phi = float(np.arctan2(C, A))
            cross = lo + (phi + float(np.arccos(-tol / R)) - lo) % (2 * np.pi)
            if cross < hi:
                best = min(best, cross)
                break
    return best


def frozen_travel_time_2d(problem: Problem, weights, theta0: float, sign: int, omega: float,
                          targets, tol: float, t_cap: float, max_step: float = 1e-3) -> float:
    """Time for the direction flow ``θ' = sign·ω·dG_t/dθ`` of the landscape frozen at
    ``weights`` to bring ``θ0`` within ``tol`` of one of ``targets`` (radians; d = 2), by
    explicit Euler with angular steps of at most ``max_step``; ``inf`` if it stalls or takes
    longer than ``t_cap``.  The window a neuron needs after its extremum vanished."""
    tg = np.asarray(targets, dtype=float)
    th, t = float(theta0), 0.0
    while t < t_cap:
        if len(tg) and np.min(np.abs((th - tg + np.pi) % (2 * np.pi) - np.pi)) <= tol:
            return t
        u = np.array([[np.cos(th), np.sin(th)]])
        v = sign * omega * float(problem.grad_G(u, weights=weights)[0]
                                 @ np.array([-np.sin(th), np.cos(th)]))
        if v == 0.0:
            return float("inf")
        h = min(max_step / abs(v), t_cap - t)
        th += h * v
        t += h
    return float("inf")
