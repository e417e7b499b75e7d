"""Activations σ: one definition per activation, holding its numpy, sympy and torch views.

Piecewise-linear activations are ``σ(z) = z`` for ``z > 0`` and ``σ(z) = γ z`` for ``z ≤ 0``:
ReLU ``γ = 0``, leaky ReLU ``max(z, γ z)`` with ``0 < γ < 1``, ``|z|`` is ``γ = −1`` and the
identity is ``γ = 1``.  All of them are positively 1-homogeneous, so ``⟨w, ∇G(w)⟩ = G(w)`` and
``a² − |w|²`` is conserved by gradient flow.

**The kink convention, σ'(0) = γ** (the left derivative), in every view and every place the
package differentiates σ: the hand-written gradients of the training engines (dense and the
d = 2 fast path of :mod:`numerics.fast2d`, whose tie-break puts a point exactly on a neuron's
kink on the neuron's negative side), ``Problem.grad_G`` and the reduced early-phase system.  So
ReLU has σ'(0) = 0 and leaky ReLU σ'(0) = γ, as torch's autograd of ``relu`` and
``leaky_relu`` has it; ``|z|`` has σ'(0) = −1 (torch's ``abs`` uses the subgradient 0, our
torch view does not); the identity has 1.  Exactly at a kink σ is not differentiable and any
value in ``[min(γ, 1), max(γ, 1)]`` is a subgradient: the choice matters only for a neuron
exactly orthogonal to a data point, which the certificates of ``theory.certificate`` treat as
a kink in their own right.

Smooth activations (``tanh``, ``gelu``) have ``σ(0) = 0`` and ``σ'(0) ≠ 0``; to leading order
in the scale of ``w`` the function G is linear, ``G(w) ≈ σ'(0)⟨w, v⟩``.

The torch views take a tensor and use its own methods (or its own module, looked up from the
tensor's type): this module never imports torch.

Names accepted by :func:`parse_activation`: ``relu``, ``leaky_relu:G`` (``G`` the slope γ, a
decimal or a fraction such as ``1/10``), ``abs``, ``linear`` and ``tanh``, ``gelu``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from .errors import InputError

PIECEWISE_LINEAR = "piecewise_linear"
SMOOTH = "smooth"

_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def array_namespace(z):
    """The module an array-like's type comes from (``torch`` for a tensor), without importing
    it here."""
    return sys.modules[type(z).__module__.split(".")[0]]


@dataclass(frozen=True)
class Activation:
    """One activation σ (see the module docstring for the views and the kink convention).

    ``gamma`` is the slope γ for ``z ≤ 0`` of a piecewise-linear activation (``None`` for
    smooth ones), kept as an exact :class:`fractions.Fraction` so certificates can use it
    exactly.  ``deriv0`` is ``σ'(0)``: γ for piecewise-linear σ (the kink convention).
    """

    name: str
    family: str  # PIECEWISE_LINEAR or SMOOTH
    gamma: Fraction | None
    deriv0: float

    # ----------------------------------------------------------------- properties
    @property
    def piecewise_linear(self) -> bool:
        return self.family == PIECEWISE_LINEAR

    @property
    def homogeneous(self) -> bool:
        """Positively 1-homogeneous: ``σ(c z) = c σ(z)`` for ``c > 0``."""
        return self.piecewise_linear

    @property
    def has_kinks(self) -> bool:
        """True when σ is not differentiable at 0 (all piecewise-linear σ but the identity)."""
        return self.piecewise_linear and self.gamma != 1

    @property
    def gamma_float(self) -> float:
        return float(self.gamma) if self.gamma is not None else float("nan")

    # ----------------------------------------------------------------- views (per subclass)
    def numpy(self, z: np.ndarray) -> np.ndarray:
        """σ(z), numpy float64."""
        raise NotImplementedError

    def numpy_deriv(self, z: np.ndarray) -> np.ndarray:
        """σ'(z), numpy float64 (σ'(0) = γ at a kink)."""
        raise NotImplementedError

    def sympy(self, z: sp.Expr) -> sp.Expr:
        """σ(z) as a sympy expression."""
        raise NotImplementedError

    def sympy_deriv(self, z: sp.Expr) -> sp.Expr:
        """σ'(z) as a sympy expression (``Piecewise`` at a kink, with σ'(0) = γ)."""
        raise NotImplementedError

    def torch(self, z):
        """σ(z) for a torch tensor ``z`` (same dtype and device)."""
        raise NotImplementedError

    def torch_deriv(self, z):
        """σ'(z) for a torch tensor ``z`` (σ'(0) = γ at a kink)."""
        raise NotImplementedError

    def __str__(self) -> str:  # the canonical CLI spelling
        return self.name


@dataclass(frozen=True)
class PiecewiseLinear(Activation):
    """``σ(z) = z`` for ``z > 0``, ``γ z`` for ``z ≤ 0``;  ``σ'(z) = 1`` for ``z > 0``, ``γ``
    for ``z ≤ 0``.  ReLU's torch view is ``Tensor.relu`` (its autograd also gives σ'(0) = 0)."""

    def numpy(self, z):
        z = np.asarray(z, dtype=float)
        return np.where(z > 0, z, float(self.gamma) * z)

    def numpy_deriv(self, z):
        z = np.asarray(z, dtype=float)
        return np.where(z > 0, 1.0, float(self.gamma))

    def sympy(self, z):
        g = sp.Rational(self.gamma.numerator, self.gamma.denominator)
        if g == 1:
            return z
        if g == -1:
            return sp.Abs(z)
        if g == 0:
            return sp.Max(z, 0)
        return sp.Piecewise((z, z > 0), (g * z, True))

    def sympy_deriv(self, z):
        g = sp.Rational(self.gamma.numerator, self.gamma.denominator)
        return sp.Integer(1) if g == 1 else sp.Piecewise((sp.Integer(1), z > 0), (g, True))

    def torch(self, z):
        g = float(self.gamma)
        return z.relu() if g == 0.0 else z.where(z > 0, g * z)

    def torch_deriv(self, z):
        g = float(self.gamma)
        return (z > 0).to(z.dtype) if g == 0.0 else z.new_ones(z.shape).where(z > 0, g)


@dataclass(frozen=True)
class Tanh(Activation):
    """``σ = tanh``, ``σ' = 1 − tanh²``, ``σ'(0) = 1``."""

    def numpy(self, z):
        return np.tanh(np.asarray(z, dtype=float))

    def numpy_deriv(self, z):
        return 1.0 - np.tanh(np.asarray(z, dtype=float)) ** 2

    def sympy(self, z):
        return sp.tanh(z)

    def sympy_deriv(self, z):
        return 1 - sp.tanh(z) ** 2

    def torch(self, z):
        return z.tanh()

    def torch_deriv(self, z):
        return 1.0 - z.tanh() ** 2


@dataclass(frozen=True)
class Gelu(Activation):
    """``σ(z) = z Φ(z) = (z/2)(1 + erf(z/√2))`` (exact GELU, not the tanh approximation);
    ``σ'(z) = Φ(z) + z φ(z)``, ``σ'(0) = 1/2``."""

    def numpy(self, z):
        from scipy.special import erf  # scipy ships with scikit-learn, a dependency

        z = np.asarray(z, dtype=float)
        return 0.5 * z * (1.0 + erf(z / _SQRT2))

    def numpy_deriv(self, z):
        from scipy.special import erf

        z = np.asarray(z, dtype=float)
        return 0.5 * (1.0 + erf(z / _SQRT2)) + z * np.exp(-0.5 * z * z) / _SQRT_2PI

    def sympy(self, z):
        return z * (1 + sp.erf(z / sp.sqrt(2))) / 2

    def sympy_deriv(self, z):
        return (1 + sp.erf(z / sp.sqrt(2))) / 2 + z * sp.exp(-z ** 2 / 2) / sp.sqrt(2 * sp.pi)

    def torch(self, z):
        return array_namespace(z).nn.functional.gelu(z)

    def torch_deriv(self, z):
        return 0.5 * (1.0 + (z / _SQRT2).erf()) + z * (-0.5 * z * z).exp() / _SQRT_2PI


def _parse_slope(text: str) -> Fraction:
    try:
        val = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"leaky_relu slope {text!r} is not a number (use e.g. leaky_relu:0.1)"
                         ) from None
    if not (0 <= val < 1):
        raise InputError(f"leaky_relu slope must lie in [0, 1), got {text}")
    return val


KNOWN = ("relu", "leaky_relu:G", "abs", "linear", "tanh", "gelu")


def piecewise_linear(name: str, gamma: Fraction) -> PiecewiseLinear:
    """The piecewise-linear activation with slope ``gamma`` for z ≤ 0 (σ'(0) = γ)."""
    return PiecewiseLinear(name, PIECEWISE_LINEAR, Fraction(gamma), float(gamma))


def parse_activation(spec: str | Activation) -> Activation:
    """Parse an activation name (see module docstring).  Raises :class:`InputError`."""
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str) or not spec:
        raise InputError(f"activation must be a name, one of {', '.join(KNOWN)}")
    s = spec.strip().lower()
    if s == "relu":
        return piecewise_linear("relu", Fraction(0))
    if s == "abs":
        return piecewise_linear("abs", Fraction(-1))
    if s in ("linear", "identity"):
        return piecewise_linear("linear", Fraction(1))
    if s.startswith("leaky_relu"):
        rest = s[len("leaky_relu"):]
        if rest == "":
            g = Fraction(1, 100)
        elif rest.startswith(":") or rest.startswith("="):
            g = _parse_slope(rest[1:])
        else:
            raise InputError(f"unknown activation {spec!r}; known: {', '.join(KNOWN)}")
        if g == 0:
            return piecewise_linear("relu", Fraction(0))
        return piecewise_linear(f"leaky_relu:{_fmt_fraction(g)}", g)
    if s == "tanh":
        return Tanh("tanh", SMOOTH, None, 1.0)
    if s == "gelu":
        return Gelu("gelu", SMOOTH, None, 0.5)
    raise InputError(f"unknown activation {spec!r}; known: {', '.join(KNOWN)}")


def _fmt_fraction(g: Fraction) -> str:
    text = repr(float(g))
    return text if Fraction(text) == g else f"{g.numerator}/{g.denominator}"
