"""Activations σ, in the three views the package needs: numpy, sympy and their properties.

Conventions (DESIGN §2):

* piecewise-linear activations are written ``σ(z) = z`` for ``z ≥ 0`` and ``σ(z) = γ z`` for
  ``z < 0``: ReLU ``γ = 0``, leaky ReLU ``max(z, γ z)`` with ``0 ≤ γ < 1``, ``|z|`` is ``γ = -1``,
  the identity is ``γ = 1``.  All of them are positively 1-homogeneous, so
  ``⟨w, ∇G(w)⟩ = G(w)`` and ``a² − |w|²`` is conserved.
* smooth activations (``tanh``, ``gelu``) have ``σ(0) = 0`` and ``σ'(0) ≠ 0``; to leading order in
  the scale of ``w`` the function G is linear, ``G(w) ≈ σ'(0)⟨w, v⟩``.

Names accepted by :func:`parse_activation`: ``relu``, ``leaky_relu:G`` (``G`` the slope γ, a
decimal or a fraction such as ``1/10``), ``abs``, ``linear`` and ``tanh``, ``gelu``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from .errors import InputError

PIECEWISE_LINEAR = "piecewise_linear"
SMOOTH = "smooth"


@dataclass(frozen=True)
class Activation:
    """One activation σ.

    ``gamma`` is the negative-side slope γ of a piecewise-linear activation (``None`` for smooth
    ones), kept as an exact :class:`fractions.Fraction` so certificates can use it exactly.
    ``deriv0`` is ``σ'(0)``.
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

    # ----------------------------------------------------------------- numpy view
    def numpy(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if self.piecewise_linear:
            g = float(self.gamma)
            return np.where(z >= 0, z, g * z)
        if self.name == "tanh":
            return np.tanh(z)
        if self.name == "gelu":
            from scipy.special import erf  # scipy ships with scikit-learn, a dependency

            return 0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))
        raise AssertionError(self.name)

    def numpy_deriv(self, z: np.ndarray) -> np.ndarray:
        """σ'(z); at the kink z = 0 of a piecewise-linear σ the right derivative 1 is used,
        matching torch's convention for ``relu`` (which uses 0) is NOT assumed anywhere: callers
        that sit exactly on a kink must treat it as a kink."""
        z = np.asarray(z, dtype=float)
        if self.piecewise_linear:
            g = float(self.gamma)
            return np.where(z > 0, 1.0, np.where(z < 0, g, 1.0))
        if self.name == "tanh":
            return 1.0 - np.tanh(z) ** 2
        if self.name == "gelu":
            from scipy.special import erf

            return 0.5 * (1.0 + erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(
                2.0 * math.pi
            )
        raise AssertionError(self.name)

    # ----------------------------------------------------------------- sympy view
    def sympy(self, z: sp.Expr) -> sp.Expr:
        """σ(z) as a sympy expression (``Piecewise`` for piecewise-linear σ)."""
        if self.piecewise_linear:
            g = sp.Rational(self.gamma.numerator, self.gamma.denominator)
            if g == 1:
                return z
            if g == -1:
                return sp.Abs(z)
            if g == 0:
                return sp.Max(z, 0)
            return sp.Piecewise((z, z >= 0), (g * z, True))
        if self.name == "tanh":
            return sp.tanh(z)
        if self.name == "gelu":
            return z * (1 + sp.erf(z / sp.sqrt(2))) / 2
        raise AssertionError(self.name)

    def __str__(self) -> str:  # the canonical CLI spelling
        return self.name


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


def parse_activation(spec: str | Activation) -> Activation:
    """Parse an activation name (see module docstring).  Raises :class:`InputError`."""
    if isinstance(spec, Activation):
        return spec
    if not isinstance(spec, str) or not spec:
        raise InputError(f"activation must be a name, one of {', '.join(KNOWN)}")
    s = spec.strip().lower()
    if s == "relu":
        return Activation("relu", PIECEWISE_LINEAR, Fraction(0), 1.0)
    if s == "abs":
        return Activation("abs", PIECEWISE_LINEAR, Fraction(-1), float("nan"))
    if s in ("linear", "identity"):
        return Activation("linear", PIECEWISE_LINEAR, Fraction(1), 1.0)
    if s.startswith("leaky_relu"):
        rest = s[len("leaky_relu"):]
        if rest == "":
            g = Fraction(1, 100)
        elif rest.startswith(":") or rest.startswith("="):
            g = _parse_slope(rest[1:])
        else:
            raise InputError(f"unknown activation {spec!r}; known: {', '.join(KNOWN)}")
        if g == 0:
            return Activation("relu", PIECEWISE_LINEAR, Fraction(0), 1.0)
        return Activation(f"leaky_relu:{_fmt_fraction(g)}", PIECEWISE_LINEAR, g, 1.0)
    if s == "tanh":
        return Activation("tanh", SMOOTH, None, 1.0)
    if s == "gelu":
        return Activation("gelu", SMOOTH, None, 0.5)
    raise InputError(f"unknown activation {spec!r}; known: {', '.join(KNOWN)}")


def _fmt_fraction(g: Fraction) -> str:
    text = repr(float(g))
    return text if Fraction(text) == g else f"{g.numerator}/{g.denominator}"
