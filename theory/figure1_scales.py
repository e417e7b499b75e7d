"""The scale equation of the four Figure 1 neurons, derived by sympy, and its exact time.

Setting (the paper's Figure 1, ideal clusters): symmetric XOR with one point per cluster,
``+μe1, −μe1`` (label −1) and ``+μe2, −μe2`` (label +1), logistic loss
``L = (1/4) Σ_i log(1 + exp(−y_i f(x_i)))``, ReLU, four neurons on the four axes:
``w_1 = s_1 e1, a_1 = −b_1``, ``w_2 = s_2 e2, a_2 = b_2``, ``w_3 = −s_3 e1, a_3 = −b_3``,
``w_4 = −s_4 e2, a_4 = b_4`` (the paper starts them balanced, ``b_j = s_j``).

:func:`derive_scale_equation` takes the gradient flow of that network and loss and shows:

1. the ansatz is invariant: each axis is a kink of G_t (the two points orthogonal to it sit on
   it) whose one-sided slopes ``sign_j·φ(±u⊥)`` are ``−ρμ/4 < 0`` for every residual ρ > 0,
   so a neuron on its axis stays there (gradient flow slides along the kink; gradient descent
   with σ'(0) = 0, torch's convention, sees no off-axis force at all);
2. each neuron sees only its own cluster, where ``y f = μ s_j b_j``, so the neurons decouple:

       s_j' = (μ/4) b_j ρ_j,   b_j' = (μ/4) s_j ρ_j,   ρ_j = 1/(1 + e^{μ s_j b_j});

   ``b² − s²`` is conserved, and on the balanced start ``b = s``, with ``q = s²``,

       q' = (μ/2) q / (1 + e^{μ q});

3. the time for q to go from ``q0`` to ``q`` is exactly

       T(q0, q) = (2/μ) [log(q/q0) + Ei(μq) − Ei(μq0)] = (2/μ) [h(μq, 1) − h(μq0, 1)],

   with ``h(x, C) = C(Ei(x) − Ei(1)) + log x`` the function of Proposition 5.7
   (:mod:`theory.prop57`): ``∂h/∂x = (1 + C eˣ)/x``, so ``h(x, C)`` is the time for
   ``x' = x/(1 + C eˣ)`` from 1 to x, and this network is the case C = 1 with the clock
   ``2/μ``.

A neuron **saturates** when its cluster's output reaches ``y f = 1`` (``μ s² = 1``; residual
``1/(1 + e) ≈ 0.27``).  While growing the dynamics are scale-free (``q' ≈ μq/4``), so the
saturation time is ``T(s0², 1/μ) ≈ (4/μ) log(1/(√μ s0)) + O(1)``: the neurons saturate in the
order of their initial scales, a factor c between two initial scales delaying the smaller by
``(4/μ) log c``.  Gradient descent with step ``dt`` is the map
``(s, b) ← (s + dt (μ/4) b ρ, b + dt (μ/4) s ρ)`` (exactly, for the ideal clusters:
:func:`scale_path_steps`); large steps do not keep ``b = s`` (gradient descent conserves
``b² − s²`` only up to O(dt²) per step), which is why the map carries both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from .activations import parse_activation
from .derive import _zero, sigma_form
from .losses import parse_loss

MU = sp.Symbol("mu", positive=True)
S = sp.symbols("s1:5", positive=True)
B = sp.symbols("b1:5", positive=True)
Q = sp.Symbol("q", positive=True)
Q0 = sp.Symbol("q0", positive=True)
AXES = ((1, 0), (0, 1), (-1, 0), (0, -1))
OUT_SIGNS = (-1, 1, -1, 1)


@dataclass
class ScaleEquation:
    """What :func:`derive_scale_equation` derived (sympy) and checked."""

    s_dot: list = field(default_factory=list)       # s_j' for j = 1..4
    b_dot: list = field(default_factory=list)       # b_j' = |a_j|' for j = 1..4
    off_axis: list = field(default_factory=list)    # sign_j·φ(±u⊥): one-sided slopes off axis
    axes_attract: bool = False                      # all of them < 0 for every residual > 0
    decoupled: bool = False                         # claim 2, both equations
    conserved: bool = False                         # (b² − s²)' = 0
    q_dot: sp.Expr | None = None                    # (μ/2) q/(1 + e^{μq})
    time: sp.Expr | None = None                     # T(q0, q)
    time_checked: bool = False                      # dT/dq = 1/q' and T(q0, q0) = 0
    equals_h: bool = False                          # T = (2/μ)(h(μq, 1) − h(μq0, 1))


def h(x, C):
    """Proposition 5.7's ``h(x, C) = C (Ei(x) − Ei(1)) + log x`` (sympy)."""
    return C * (sp.Ei(x) - sp.Ei(1)) + sp.log(x)


def derive_scale_equation() -> ScaleEquation:
    """Derive claims 1–3 of the module docstring from the network and the loss."""
    act, lo = parse_activation("relu"), parse_loss("logistic")
    out = ScaleEquation()
    W = [sp.Matrix(sp.symbols(f"w{j}_1:3", real=True)) for j in range(1, 5)]
    A = list(sp.symbols("a1:5", real=True))
    pts = [(MU * sp.Matrix(ax), -1 if ax[1] == 0 else 1) for ax in AXES]

    def f(x):
        return sum(A[j] * sigma_form(act, (W[j].T * x)[0, 0]) for j in range(4))

    L = sum(lo.sympy(yy, f(x)) for x, yy in pts) / 4
    ansatz = {}
    for j, (ax, sg) in enumerate(zip(AXES, OUT_SIGNS)):
        ansatz.update({W[j][0]: S[j] * ax[0], W[j][1]: S[j] * ax[1], A[j]: sg * B[j]})
    rho = sp.symbols("rho1:5", positive=True)  # residual magnitudes on the four clusters
    for j, (ax, sg) in enumerate(zip(AXES, OUT_SIGNS)):
        gw = sp.Matrix([sp.simplify(-sp.diff(L, W[j][k]).subs(ansatz)) for k in range(2)])
        out.s_dot.append(sp.simplify((gw.T * sp.Matrix(ax))[0, 0]))  # along the axis
        out.b_dot.append(sp.simplify(sg * -sp.diff(L, A[j]).subs(ansatz)))
        # off the axis: one-sided slopes of G_t = (1/4) Σ y_i ρ_i σ(⟨w, x_i⟩) along ±u⊥;
        # only the two points on the kink contribute (the own cluster's ⟨u⊥, x⟩ = 0)
        perp = sp.Matrix([-ax[1], ax[0]])
        for hs in (1, -1):
            phi = sum(yy * rho[i] * sigma_form(act, (hs * perp.T * x)[0, 0])
                      for i, (x, yy) in enumerate(pts) if (sp.Matrix(ax).T * x)[0, 0] == 0) / 4
            out.off_axis.append(sp.simplify(sg * phi))
    out.axes_attract = all(e.is_negative for e in out.off_axis)
    res = [1 / (1 + sp.exp(MU * S[j] * B[j])) for j in range(4)]
    out.decoupled = all(_zero(out.s_dot[j] - MU / 4 * B[j] * res[j])
                        and _zero(out.b_dot[j] - MU / 4 * S[j] * res[j]) for j in range(4))
    out.conserved = all(_zero(B[j] * out.b_dot[j] - S[j] * out.s_dot[j]) for j in range(4))
    target = [MU / 4 * S[j] / (1 + sp.exp(MU * S[j] ** 2)) for j in range(4)]
    # q = s², q' = 2 s s'
    out.q_dot = sp.simplify((2 * S[0] * target[0]).subs(S[0], sp.sqrt(Q)))
    T = 2 / MU * (sp.log(Q / Q0) + sp.Ei(MU * Q) - sp.Ei(MU * Q0))
    out.time = T
    out.time_checked = _zero(sp.simplify(sp.diff(T, Q) - 1 / out.q_dot)) and \
        T.subs(Q, Q0) == 0
    out.equals_h = _zero(sp.expand(T - 2 / MU * (h(MU * Q, 1) - h(MU * Q0, 1)),
                                   log=True, force=True))
    return out


def saturation_time(s0: float, mu: float = 1.0, level: float = 1.0) -> float:
    """Gradient-flow time for a scale ``s0`` to reach ``μ s² = level`` (T of claim 3)."""
    q0, q1 = float(s0) ** 2, level / mu
    if q0 >= q1:
        return 0.0
    return float(2 / mu * (mpmath.log(q1 / q0) + mpmath.ei(mu * q1) - mpmath.ei(mu * q0)))


def scale_path_steps(s0: float, step_sizes, mu: float = 1.0, b0: float | None = None
                     ) -> np.ndarray:
    """Gradient descent on the ideal clusters, restricted to the invariant ansatz:
    ``s ← s + dt (μ/4) b ρ``, ``b ← b + dt (μ/4) s ρ``, ``ρ = 1/(1 + e^{μ s b})``, from
    ``(s0, b0)`` (``b0 = s0``: balanced).  Returns the scales ``s_0..s_K`` (K steps)."""
    dts = np.asarray(step_sizes, dtype=float)
    s = np.empty(len(dts) + 1)
    s[0] = s0
    b = float(s0 if b0 is None else b0)
    for k, dt in enumerate(dts):
        g = dt * (mu / 4) / (1.0 + np.exp(mu * s[k] * b))
        s[k + 1], b = s[k] + g * b, b + g * s[k]
    return s


def saturation_step(s0: float, step_sizes, mu: float = 1.0, level: float = 1.0,
                    b0: float | None = None) -> int | None:
    """First step index at which the gradient-descent map reaches ``μ s² ≥ level``."""
    s = scale_path_steps(s0, step_sizes, mu, b0)
    hit = np.nonzero(mu * s ** 2 >= level)[0]
    return int(hit[0]) if len(hit) else None
