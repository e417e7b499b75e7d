"""The symbolic derivation of the early-phase dynamics (docs/theory.md, section 2), by sympy.

Starting point: the network ``f(x) = Σ_j a_j σ(⟨w_j, x⟩)`` (two neurons, j = 1, 2, d inputs)
and the loss ``L = (1/n) Σ_i ℓ(y_i, f(x_i))`` with the concrete ℓ of :class:`theory.losses.Loss`.
From there sympy derives, in order:

(a) the gradient flow ``w_j' = −∂L/∂w_j``, ``a_j' = −∂L/∂a_j`` (differentiating the ``Sum``);
(b) the early phase: (b1) replacing ``−∂ℓ/∂f(y, f)`` by its value at ``f = 0``, the loss weight
    ``c(y)``, gives ``w' = a ∇G(w)``, ``a' = G(w)`` with ``G(w) = (1/n) Σ c_i σ(⟨w, x_i⟩)``;
    (b2) with ``w = ε w̄``, ``a = ε ā`` the rescaled flow ``w̄' = w'/ε`` is expanded in ε: for
    positively 1-homogeneous σ its leading order is the same system in the barred variables
    (first correction O(ε²)); for smooth σ it is the system for the linear ``σ'(0)⟨w, x⟩``;
(c) the conservation law ``d/dt(a_j² − |w_j|²) = 0`` for the full flow and the early phase,
    through Euler's identity ``z σ'(z) = σ(z)``, which sympy checks on each sign region; for
    tanh the residual ``z σ'(z) − σ(z) = −2z³/3 + …`` is nonzero;
(d) the polar form ``w = r u``: ``r' = a G(u)``, ``a' = r G(u)``, ``u' = (a/r)(I − uuᵀ)∇G(u)``;
(e) for d = 2 the angle equation ``θ' = (a/r) dG/dθ`` with ``u = (cos θ, sin θ)``.

Piecewise-linear σ (slope 1 for z ≥ 0, γ for z < 0) are written in the *Abs form*
``σ(z) = ((1+γ)/2) z + ((1−γ)/2)|z|`` — sympy checks that this equals
:meth:`Activation.sympy` on ``z > 0``, ``z < 0`` and at 0 — because ``|εz| = ε|z|`` and
``sign(εz) = sign(z)`` for ε > 0 are then automatic.  Its derivative is
``σ'(z) = (1+γ)/2 + ((1−γ)/2) sign(z)``: the two one-sided slopes away from 0 and their mean at
the kink.  Where a step needs ``z sign(z) = |z|`` it substitutes ``sign(z) = |z|/z``, valid for
``z ≠ 0``; at ``z = 0`` both sides of Euler's identity are 0, checked separately.

:func:`grad_G_symbolic` and :func:`early_phase_rhs` lambdify the derived per-point term of G for
a concrete :class:`Problem`; they do not use :meth:`Problem.grad_G`, so comparing the two is a
real check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .activations import Activation, parse_activation
from .errors import InputError
from .losses import Loss, parse_loss

EPS = sp.Symbol("epsilon", positive=True)
Z = sp.Symbol("z", real=True)
_P = sp.Symbol("p", positive=True)
M_NEURONS = 2


# ----------------------------------------------------------------------------- σ in sympy
def sigma_form(activation: Activation, z: sp.Expr) -> sp.Expr:
    """σ(z) as used by the derivation: the Abs form for piecewise-linear σ, else σ itself."""
    if activation.piecewise_linear:
        g = sp.Rational(activation.gamma.numerator, activation.gamma.denominator)
        return (1 + g) / 2 * z + (1 - g) / 2 * sp.Abs(z)
    return activation.sympy(z)


def sigma_form_matches(activation: Activation) -> bool:
    """True when :func:`sigma_form` equals :meth:`Activation.sympy` for z > 0, z < 0, z = 0."""
    for z in (_P, -_P, sp.Integer(0)):
        if sp.simplify(sigma_form(activation, z) - activation.sympy(z)) != 0:
            return False
    return True


def _sign_to_abs(expr: sp.Expr) -> sp.Expr:
    """Replace every ``sign(e)`` by ``|e|/e`` (valid where ``e ≠ 0``, i.e. off the kinks)."""
    return expr.replace(sp.sign, lambda e: sp.Abs(e) / e)


def _zero(expr: sp.Expr) -> bool:
    """Decide ``expr == 0`` by the cheapest sympy normal form that settles it:
    expansion, then rational cancellation, then :func:`sympy.simplify`."""
    e = sp.expand(expr)
    if e == 0:
        return True
    e = sp.cancel(sp.together(e))
    if e == 0:
        return True
    return sp.simplify(e) == 0


def euler_residual(activation: Activation, z: sp.Expr = Z) -> sp.Expr:
    """``z σ'(z) − σ(z)``: identically 0 iff σ is positively 1-homogeneous (Euler)."""
    s = sigma_form(activation, Z)
    return (Z * sp.diff(s, Z) - s).subs(Z, z)


def euler_identity_holds(activation: Activation) -> bool:
    """Decide ``z σ'(z) = σ(z)`` for all real z: on the regions z > 0 and z < 0 and at z = 0
    for piecewise-linear σ; for smooth σ by simplification of the residual (tanh: nonzero)."""
    if activation.piecewise_linear:
        return all(sp.simplify(euler_residual(activation, z)) == 0
                   for z in (_P, -_P, sp.Integer(0)))
    return sp.simplify(euler_residual(activation)) == 0


# ----------------------------------------------------------------------------- the result
@dataclass
class Derivation:
    """Everything the derivation produced.  ``steps`` is the printable list of (title, expr)."""

    activation: Activation
    loss: Loss
    d: int
    steps: list[tuple[str, object]] = field(default_factory=list)
    c_expr: sp.Expr | None = None            # c(y) = −∂ℓ/∂f(y, 0)
    c_matches_loss: bool = False             # c(y) == Loss.weight_factor() * y
    flow_w: list | None = None               # per-point −∂ℓ/∂w_1k
    flow_a: sp.Expr | None = None            # per-point −∂ℓ/∂a_1
    G_point: sp.Expr | None = None           # per-point term c(y) σ(⟨w, x⟩) of n·G
    early_w: list | None = None              # per-point a ∂/∂w_k of G_point
    early_a: sp.Expr | None = None
    early_matches_flow: bool = False         # flow with f = 0 in −∂ℓ/∂f == (a ∇G, G)
    eps_leading_w: list | None = None        # leading order in ε of w̄_1' (per point)
    eps_leading_a: sp.Expr | None = None
    eps_matches_early: bool = False          # leading order == early phase in barred variables
    eps_correction_order: int | None = None  # power of ε of the first correction
    euler: sp.Expr | None = None             # z σ'(z) − σ(z) (simplified)
    euler_series: sp.Expr | None = None      # its series at 0 when it is nonzero
    conservation_full: sp.Expr | None = None   # d/dt(a_1² − |w_1|²) under the full flow
    conservation_early: sp.Expr | None = None  # same under the early-phase system
    conservation_holds: bool = False
    polar: dict = field(default_factory=dict)    # 'r', 'a', 'u' derived expressions
    polar_matches: bool = False
    angle_eq: sp.Expr | None = None
    angle_matches: bool = False
    symbols: dict = field(default_factory=dict)

    def add(self, title: str, expr) -> None:
        self.steps.append((title, expr))

    def to_text(self) -> str:
        """The steps as plain text (sympy's ``sstr``)."""
        out = [f"Derivation for activation={self.activation}, loss={self.loss}, d={self.d}"]
        for k, (title, expr) in enumerate(self.steps, 1):
            out.append(f"\n[{k}] {title}")
            body = expr if isinstance(expr, str) else sp.sstr(expr)
            out.extend("    " + line for line in body.splitlines())
        return "\n".join(out) + "\n"

    def to_latex(self) -> str:
        """The steps as a LaTeX fragment (one ``\\paragraph`` and display per step)."""
        out = [f"% Derivation for activation={self.activation}, loss={self.loss}, d={self.d}"]
        for title, expr in self.steps:
            out.append(f"\\paragraph{{{_latex_escape(title)}}}")
            if isinstance(expr, str):
                out.append(_latex_escape(expr))
            else:
                out.append("\\[" + sp.latex(expr) + "\\]")
        return "\n".join(out) + "\n"


def _latex_escape(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("&", r"\&"), ("%", r"\%"),
                 ("#", r"\#")):
        s = s.replace(a, b)
    return s


# ----------------------------------------------------------------------------- derivation
def derive(activation: str | Activation = "relu", loss: str | Loss = "logistic",
           d: int = 2) -> Derivation:
    """Derive steps (a)–(e) of the module docstring for σ = ``activation``, ℓ = ``loss``."""
    act = parse_activation(activation)
    lo = parse_loss(loss)
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not 1 <= int(d) <= 6:
        raise InputError(f"d must be an integer between 1 and 6 for the symbolic derivation, "
                         f"got {d!r}")
    d = int(d)
    D = Derivation(act, lo, d)
    if not sigma_form_matches(act):  # pragma: no cover - guards the Abs form
        raise AssertionError(f"Abs form of {act} disagrees with Activation.sympy")

    # symbols ------------------------------------------------------------------------
    i, n = sp.symbols("i n", integer=True, positive=True)
    Xi = sp.IndexedBase("x", real=True)
    Yi = sp.IndexedBase("y", real=True)
    y = sp.Symbol("y", real=True)
    x = sp.Matrix(sp.symbols(f"x1:{d + 1}", real=True))
    W = [sp.Matrix(sp.symbols(f"w{j}_1:{d + 1}", real=True)) for j in range(1, M_NEURONS + 1)]
    A = list(sp.symbols(f"a1:{M_NEURONS + 1}", real=True))
    Wb = [sp.Matrix(sp.symbols(f"wbar{j}_1:{d + 1}", real=True))
          for j in range(1, M_NEURONS + 1)]
    Ab = list(sp.symbols(f"abar1:{M_NEURONS + 1}", real=True))
    fsym = sp.Symbol("f", real=True)
    D.symbols = dict(x=x, y=y, W=W, A=A, Wb=Wb, Ab=Ab, eps=EPS, n=n)

    def sig(e):
        return sigma_form(act, e)

    def net(x_vec):
        return sum(A[j] * sig((W[j].T * x_vec)[0, 0]) for j in range(M_NEURONS))

    # (a) network, loss, gradient flow ---------------------------------------------------
    xi_vec = sp.Matrix([Xi[i, k] for k in range(1, d + 1)])
    L = sp.Sum(lo.sympy(Yi[i], net(xi_vec)), (i, 1, n)) / n
    D.add("Network f(x) = sum_j a_j sigma(<w_j, x>), two neurons", net(x))
    D.add("Loss L = (1/n) sum_i l(y_i, f(x_i))", L)
    flow_sum_w = -sp.diff(L, W[0][0])
    D.add("Gradient flow (a): w_11' = -dL/dw_11", flow_sum_w)
    # the per-point flow, with the network output kept as an undefined function F so that
    # "f ~ 0" can be imposed in -dl/df alone (not inside sigma(<w, x>))
    allvars = [*W[0], *W[1], *A]
    F = sp.Function("f")(*allvars)
    f_net = net(x)
    ell_F = lo.sympy(y, F)

    def per_point(var, f_value):
        e = -sp.diff(ell_F, var)
        e = e.subs(sp.Derivative(F, var), sp.diff(f_net, var))
        return e.subs(F, f_value)

    D.flow_w = [per_point(W[0][k], f_net) for k in range(d)]
    D.flow_a = per_point(A[0], f_net)
    # differentiation commutes with the finite sum: the Sum's summand is the per-point term
    # (checked with n = 2, where both Sums can be written out)
    expected = sp.Sum(D.flow_w[0].subs({y: Yi[i], **{x[k]: Xi[i, k + 1] for k in range(d)}}),
                      (i, 1, n)) / n
    summand_ok = _zero((flow_sum_w - expected).subs(n, 2).doit())
    D.add("Gradient flow (a): a_1' = -dL/da_1", -sp.diff(L, A[0]))

    # (b1) c and the early-phase system ----------------------------------------------
    c_expr = sp.simplify(-sp.diff(lo.sympy(y, fsym), fsym).subs(fsym, 0))
    D.c_expr = c_expr
    D.c_matches_loss = _zero(c_expr - lo.weight_factor() * y)
    D.add("Loss weight c(y) = -dl/df (y, f) at f = 0", sp.Eq(sp.Symbol("c"), c_expr))
    w = sp.Matrix(sp.symbols(f"w_1:{d + 1}", real=True))
    a = sp.Symbol("a", real=True)
    G_point = c_expr * sig((w.T * x)[0, 0])
    D.G_point = G_point
    G_sum = sp.Sum((c_expr * sig((w.T * xi_vec)[0, 0])).subs(y, Yi[i]), (i, 1, n)) / n
    D.add("G(w) = (1/n) sum_i c_i sigma(<w, x_i>)", G_sum)
    early_w = [a * sp.diff(G_point, w[k]) for k in range(d)]
    early_a = G_point
    D.early_w, D.early_a = early_w, early_a
    # check: the flow with f = 0 in -dl/df is exactly (a grad G, G) for neuron 1
    sub1 = {W[0][k]: w[k] for k in range(d)} | {A[0]: a}
    flow0_w = [per_point(W[0][k], 0).subs(sub1) for k in range(d)]
    flow0_a = per_point(A[0], 0).subs(sub1)
    early_ok = all(_zero(u - v) for u, v in zip(flow0_w, early_w)) and \
        _zero(flow0_a - early_a)
    D.early_matches_flow = bool(early_ok and summand_ok)
    D.add("Early phase (b1): -dl/df -> c(y) while f ~ 0 gives, per data point, "
          "w' = a grad G(w), a' = G(w)",
          [*[sp.Eq(sp.Symbol(f"w_{k + 1}'"), early_w[k]) for k in range(d)],
           sp.Eq(sp.Symbol("a'"), early_a)])
    D.add("Check: flow with f = 0 in -dl/df equals (a grad G, G)", str(D.early_matches_flow))

    # (b2) ε expansion ------------------------------------------------------------------
    sub_eps = {W[j][k]: EPS * Wb[j][k] for j in range(M_NEURONS) for k in range(d)}
    sub_eps |= {A[j]: EPS * Ab[j] for j in range(M_NEURONS)}
    wbar_dot = [(e.subs(sub_eps) / EPS) for e in D.flow_w]
    abar_dot = D.flow_a.subs(sub_eps) / EPS
    order = 3
    tay_w = [_taylor_eps(e, order) for e in wbar_dot]
    tay_a = _taylor_eps(abar_dot, order)
    lead_w = [t[0] for t in tay_w]
    lead_a = tay_a[0]
    nonzero = [p for p in range(1, order) if any(t[p] != 0 for t in tay_w + [tay_a])]
    D.eps_correction_order = nonzero[0] if nonzero else None
    D.eps_leading_w, D.eps_leading_a = lead_w, lead_a
    # what the leading order should be: early phase in barred variables (homogeneous σ),
    # or the linear G with σ'(0) (smooth σ)
    wb1 = Wb[0]
    if act.homogeneous:
        Gb = G_point.subs({w[k]: wb1[k] for k in range(d)})
    else:
        s0 = sp.diff(act.sympy(Z), Z).subs(Z, 0)
        Gb = c_expr * s0 * (wb1.T * x)[0, 0]
    tgt_w = [Ab[0] * sp.diff(Gb, wb1[k]) for k in range(d)]
    D.eps_matches_early = all(_zero(u - v) for u, v in zip(lead_w, tgt_w)) and \
        _zero(lead_a - Gb)
    D.add("eps expansion (b2): w = eps*wbar, a = eps*abar, wbar_11' = (-dL/dw_11)/eps, series",
          sum(cf * EPS**p for p, cf in enumerate(tay_w[0])) + sp.O(EPS**order))
    D.add("Leading order of (wbar_1', abar_1') per data point", sp.Matrix([*lead_w, lead_a]))
    D.add("Leading order equals " + ("the early phase in barred variables (scale-free)"
                                     if act.homogeneous else
                                     "the early phase for the LINEAR G = sigma'(0) c <w, x>"),
          f"{bool(D.eps_matches_early)}; first correction O(eps^{D.eps_correction_order})")

    # (c) conservation law ---------------------------------------------------------------
    E = sp.simplify(euler_residual(act))
    D.euler = E
    holds = euler_identity_holds(act)
    if not holds:
        D.euler_series = sp.series(euler_residual(act), Z, 0, 6)
    D.add("Euler residual z sigma'(z) - sigma(z)" + (" (0 on z>0, z<0 and z=0)" if holds
                                                      else ", series at 0"),
          sp.Integer(0) if holds else D.euler_series)
    Q_dot_full = 2 * A[0] * D.flow_a - 2 * sum(W[0][k] * D.flow_w[k] for k in range(d))
    Q_dot_early = 2 * a * early_a - 2 * sum(w[k] * early_w[k] for k in range(d))
    z1 = (W[0].T * x)[0, 0]
    r_full = -sp.diff(lo.sympy(y, fsym), fsym).subs(fsym, f_net)
    # algebraic identity (no sign information): residual = -2 a r(f) E(<w, x>)
    ident_full = _zero(Q_dot_full + 2 * A[0] * r_full * euler_residual(act, z1))
    ident_early = _zero(Q_dot_early + 2 * a * c_expr * euler_residual(act, (w.T * x)[0, 0]))
    # change of variables z = <w_1, x> (eliminating w_1d, valid for x_d != 0) so that the
    # preactivation is one symbol; piecewise-linear sigma: sign(z) = |z|/z off the kink
    zs = sp.Symbol("z", real=True)
    to_z_full = {W[0][d - 1]: (zs - sum(W[0][k] * x[k] for k in range(d - 1))) / x[d - 1]}
    to_z_early = {w[d - 1]: (zs - sum(w[k] * x[k] for k in range(d - 1))) / x[d - 1]}
    cons_full = Q_dot_full.subs(to_z_full)
    cons_early = Q_dot_early.subs(to_z_early)
    if act.piecewise_linear:
        cons_full, cons_early = _sign_to_abs(cons_full), _sign_to_abs(cons_early)
    cons_full = sp.expand(cons_full)
    cons_early = sp.expand(cons_early)
    if act.homogeneous and not (_zero(cons_full) and _zero(cons_early)):  # pragma: no cover
        raise AssertionError("conservation residual did not simplify to 0")
    if act.homogeneous:
        cons_full = cons_early = sp.Integer(0)
    else:
        cons_full = sp.factor_terms(cons_full)
        cons_early = sp.factor_terms(cons_early)
    D.conservation_full, D.conservation_early = cons_full, cons_early
    D.conservation_holds = bool(holds and ident_full and ident_early
                                and cons_full == 0 and cons_early == 0)
    D.add("d/dt (a_1^2 - |w_1|^2) = 2 a_1 a_1' - 2 <w_1, w_1'> under the full flow "
          "= -2 a_1 r(f) [z sigma'(z) - sigma(z)], z = <w_1, x>", cons_full)
    D.add("Identity d/dt(a^2 - |w|^2) = -2 a r(f) [z sigma'(z) - sigma(z)] (full) and "
          "-2 a c [z sigma'(z) - sigma(z)] (early)", str(bool(ident_full and ident_early)))
    D.add("Same under the early-phase system", cons_early)
    D.add("Conservation law a^2 - |w|^2 = const", "holds (sigma positively 1-homogeneous)"
          if D.conservation_holds else
          "FAILS: the Euler residual is nonzero, so a^2 - |w|^2 drifts")
    if not holds:
        D.add("Early-phase residual, series in z = <w, x>",
              sp.series(cons_early, zs, 0, 5))

    # (d) polar form ---------------------------------------------------------------------
    D.polar, D.polar_matches = _polar(act, G_point, w, a, x, d)
    if act.homogeneous:
        D.add("Polar form (d), w = r u, |u| = 1: r' = <w, w'>/|w|", D.polar["r"])
        D.add("a' = G(r u)", D.polar["a"])
        D.add("u' = (w' - r' u)/r", D.polar["u"])
        D.add("Equals r' = a G(u), a' = r G(u), u' = (a/r)(I - u u^T) grad G(u)",
              str(bool(D.polar_matches)))
    else:
        D.add("Polar form", "needs <u, grad G(u)> = G(u) (homogeneity): not derived for "
              f"{act}; the leading-order G is linear")

    # (e) angle equation ---------------------------------------------------------------
    if d == 2 and act.homogeneous:
        D.angle_eq, D.angle_matches = _angle(act, G_point, w, a, x, D.polar["u"])
        D.add("Angle (e), u = (cos theta, sin theta): theta' = cos(theta) u_2' - "
              "sin(theta) u_1'", D.angle_eq)
        D.add("Equals (a/r) dG/dtheta", str(bool(D.angle_matches)))
    return D


def _taylor_eps(expr: sp.Expr, order: int) -> list[sp.Expr]:
    """Taylor coefficients ``[e_0, …, e_{order−1}]`` of ``expr`` in ε at 0.

    ``|ε z| = ε|z|`` and ``sign(ε z) = sign(z)`` (ε > 0) are applied first; the remaining
    ``Abs``/``sign`` factors are then ε-free and frozen as symbols, leaving an expression
    analytic in ε whose coefficients are ``∂^p/∂ε^p`` at 0 over ``p!``.  An ``Abs``/``sign``
    still containing ε would mean σ is not homogeneous (an error)."""
    expr = expr.replace(lambda e: isinstance(e, (sp.Abs, sp.sign)),
                        lambda e: e.func(sp.factor_terms(e.args[0])))
    frozen = {}
    for atom in expr.atoms(sp.Abs, sp.sign):
        if atom.has(EPS):
            raise AssertionError(f"{atom} depends on epsilon: sigma is not homogeneous")
        frozen[atom] = sp.Dummy("k")
    e = sp.factor_terms(expr.xreplace(frozen))
    back = {v: k for k, v in frozen.items()}
    coeffs = []
    for p in range(order):
        coeffs.append(sp.simplify(e.subs(EPS, 0) / sp.factorial(p)))
        e = sp.diff(e, EPS)
    if any(cf.has(sp.nan, sp.zoo, sp.oo, -sp.oo) for cf in coeffs):
        # a removable 0/0 at ε = 0 (e.g. tanh(ε z)/ε): let sympy's series resolve it
        ser = sp.series(sp.factor_terms(expr.xreplace(frozen)), EPS, 0, order).removeO()
        coeffs = [sp.simplify(ser.coeff(EPS, p)) for p in range(order)]
    return [cf.xreplace(back) for cf in coeffs]


def _polar(act, G_point, w, a, x, d):
    """Derive r', a', u' from ``w' = a ∇G(w)``, ``a' = G(w)`` with ``w = r u``."""
    if not act.homogeneous:
        return {}, False
    r = sp.Symbol("r", positive=True)
    u = sp.Matrix(sp.symbols(f"u_1:{d + 1}", real=True))
    uu = sum(uk**2 for uk in u)
    grad = sp.Matrix([sp.diff(G_point, w[k]) for k in range(d)])
    wdot = a * grad
    sub = {w[k]: r * u[k] for k in range(d)}

    def on_sphere(e):
        # w = r u with r > 0 splits |w|^k = r^k |u|^k; then |u| = 1
        e = sp.factor_terms(e.subs(sub)).replace(
            lambda p: p.is_Pow and p.base.is_Add, lambda p: sp.factor_terms(p.base) ** p.exp)
        e = e.replace(lambda p: p.is_Pow and p.base == uu, lambda p: sp.Integer(1))
        return sp.factor_terms(e.xreplace({uu: sp.Integer(1)}))

    norm_w = sp.sqrt(sum(wk**2 for wk in w))
    r_dot = on_sphere((w.T * wdot)[0, 0] / norm_w)
    a_dot = on_sphere(G_point)
    u_dot = sp.Matrix([on_sphere((wdot[k] - ((w.T * wdot)[0, 0] / norm_w) * w[k] / norm_w)
                                 / norm_w) for k in range(d)])
    G_u = G_point.subs({w[k]: u[k] for k in range(d)})
    grad_u = grad.subs({w[k]: u[k] for k in range(d)})
    proj = (sp.eye(d) - u * u.T) * grad_u
    # |u| = 1 is used through the substitution above; homogeneity through sign -> |.|/(.)
    ok = (_zero(_sign_to_abs(r_dot - a * G_u))
          and _zero(a_dot - r * G_u)
          and all(_zero(_sign_to_abs(u_dot[k] - a / r * proj[k])) for k in range(d)))
    return {"r": r_dot, "a": a_dot, "u": u_dot, "r_sym": r, "u_sym": u}, bool(ok)


def _angle(act, G_point, w, a, x, u_dot):
    th = sp.Symbol("theta", real=True)
    r = sp.Symbol("r", positive=True)
    u = sp.Matrix(sp.symbols("u_1:3", real=True))
    sub = {u[0]: sp.cos(th), u[1]: sp.sin(th)}
    ud = [e.subs(sub) for e in u_dot]
    theta_dot = sp.simplify(sp.cos(th) * ud[1] - sp.sin(th) * ud[0])
    G_th = G_point.subs({w[0]: sp.cos(th), w[1]: sp.sin(th)})
    target = a / r * sp.diff(G_th, th)
    ok = sp.simplify(sp.expand_trig(theta_dot - target)) == 0
    return theta_dot, bool(ok)


# ----------------------------------------------------------------------------- concrete data
def G_symbolic(problem, w=None) -> tuple[sp.Expr, sp.Matrix]:
    """``G(w)`` for a concrete problem from the derived per-point term, and the symbols ``w``.

    ``G(w) = (1/n) Σ_i c(y_i) σ(⟨w, x_i⟩)`` with ``c(y) = −∂ℓ/∂f(y, 0)`` computed by sympy
    (not :attr:`Problem.c`) and σ in the Abs form."""
    d = problem.d
    w = sp.Matrix(sp.symbols(f"w_1:{d + 1}", real=True)) if w is None else w
    y = sp.Symbol("y", real=True)
    f = sp.Symbol("f", real=True)
    c_expr = -sp.diff(problem.loss.sympy(y, f), f).subs(f, 0)
    X = problem.X_exact
    ys = [sp.nsimplify(v) for v in problem.y.tolist()]
    G = sum(c_expr.subs(y, ys[i]) * sigma_form(problem.activation, (X[i, :] * w)[0, 0])
            for i in range(problem.n)) / problem.n
    return G, w


def grad_G_symbolic(problem):
    """Lambdified ``(G, ∇G)`` of the symbolic G: ``G_fn(W) -> (m,)``, ``grad_fn(W) -> (m, d)``
    for ``W`` of shape (m, d).  At a kink sympy's ``sign(0) = 0`` gives the mean of the
    one-sided slopes; compare with numerics only away from kinks."""
    G, w = G_symbolic(problem)
    grad = [sp.diff(G, wk) for wk in w]
    mods = ["numpy", "scipy"]  # scipy: erf (GELU) on arrays; numpy alone maps it to math.erf
    g_f = sp.lambdify([list(w)], G, mods)
    gr_f = [sp.lambdify([list(w)], gk, mods) for gk in grad]

    def G_fn(W):
        W = np.atleast_2d(np.asarray(W, dtype=float))
        return np.broadcast_to(np.asarray(g_f(list(W.T)), dtype=float), (W.shape[0],)).copy()

    def grad_fn(W):
        W = np.atleast_2d(np.asarray(W, dtype=float))
        cols = [np.broadcast_to(np.asarray(f(list(W.T)), dtype=float), (W.shape[0],))
                for f in gr_f]
        return np.stack(cols, axis=1)

    return G_fn, grad_fn


def early_phase_rhs(problem):
    """The early-phase right-hand side ``(W, a) -> (a ∇G(W), G(W))`` from the symbolic G.

    ``W`` is (m, d), ``a`` is (m,); returns ``dW`` (m, d) and ``da`` (m,)."""
    G_fn, grad_fn = grad_G_symbolic(problem)

    def rhs(W, a):
        W = np.atleast_2d(np.asarray(W, dtype=float))
        a = np.asarray(a, dtype=float).reshape(-1)
        return a[:, None] * grad_fn(W), G_fn(W)

    return rhs
