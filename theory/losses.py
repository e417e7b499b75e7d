"""Losses ℓ(y, f): one definition per loss, holding its numpy, sympy and torch views, and the
loss weights ``c_i = −∂ℓ(y_i, f)/∂f`` at ``f = 0``.

=============  ===========================  ===========================  ================
name           ℓ(y, f)                       labels accepted              c_i
=============  ===========================  ===========================  ================
logistic       log(1 + exp(−y f))            ±1, or {0, 1} mapped to ±1   y_i / 2
exponential    exp(−y f)                     ±1, or {0, 1} mapped to ±1   y_i
square         (f − y)² / 2                  any finite real              y_i
=============  ===========================  ===========================  ================

Each loss gives ℓ (:meth:`Loss.value`, :meth:`Loss.torch_value`, :meth:`Loss.sympy`) and the
later-phase weights ``r_i(t) = −∂ℓ/∂f(y_i, f_t(x_i))`` (:meth:`Loss.neg_derivative`,
:meth:`Loss.torch_neg_derivative`); at ``f = 0`` they are the ``c_i``.  The torch views use
the tensors' own methods (or their own module): this module never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .activations import array_namespace
from .errors import InputError

KNOWN = ("logistic", "exponential", "square")


@dataclass(frozen=True)
class Loss:
    """One loss ℓ(y, f) (see the module docstring); subclasses hold the views."""

    name: str

    @property
    def classification(self) -> bool:
        return self.name in ("logistic", "exponential")

    def labels(self, y: np.ndarray) -> np.ndarray:
        """Validate labels and map them to the loss's convention (±1 for classification).

        Raises :class:`InputError` naming the problem.
        """
        y = np.asarray(y, dtype=float)
        if not self.classification:
            return y
        vals = set(np.unique(y).tolist())
        if vals <= {-1.0, 1.0}:
            return y
        if vals <= {0.0, 1.0}:
            return 2.0 * y - 1.0
        bad = sorted(vals - {-1.0, 0.0, 1.0})[:3] or sorted(vals)[:3]
        raise InputError(
            f"{self.name} loss needs labels in {{-1, +1}} or {{0, 1}}; got values such as "
            f"{', '.join(f'{v:g}' for v in bad)} (use --loss square for real-valued targets)"
        )

    def weight_factor(self) -> sp.Rational:
        """``c_i = factor · y_i`` (labels already mapped)."""
        raise NotImplementedError

    def weights(self, y_mapped: np.ndarray) -> np.ndarray:
        """Loss weights ``c_i`` from mapped labels, float64."""
        return float(self.weight_factor()) * np.asarray(y_mapped, dtype=float)

    # ----------------------------------------------------------------- views (per subclass)
    def value(self, y: np.ndarray, f: np.ndarray) -> np.ndarray:
        """ℓ(y_i, f_i) elementwise (numpy)."""
        raise NotImplementedError

    def neg_derivative(self, y: np.ndarray, f: np.ndarray) -> np.ndarray:
        """``r_i = −∂ℓ(y_i, f_i)/∂f`` (numpy).  At ``f = 0`` this is ``c_i``."""
        raise NotImplementedError

    def sympy(self, y: sp.Expr, f: sp.Expr) -> sp.Expr:
        """ℓ(y, f) as a sympy expression."""
        raise NotImplementedError

    def torch_value(self, y, f):
        """ℓ(y, f) for torch tensors (elementwise, broadcasting)."""
        raise NotImplementedError

    def torch_neg_derivative(self, y, f):
        """``r = −∂ℓ/∂f`` for torch tensors."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Logistic(Loss):
    """``ℓ = log(1 + e^{−y f})``, ``r = y σ(−y f)`` (σ the sigmoid), ``c = y/2``."""

    name: str = "logistic"

    def weight_factor(self):
        return sp.Rational(1, 2)

    def value(self, y, f):
        return np.logaddexp(0.0, -np.asarray(y, dtype=float) * np.asarray(f, dtype=float))

    def neg_derivative(self, y, f):
        from scipy.special import expit  # the sigmoid, accurate for any margin y f

        y = np.asarray(y, dtype=float)
        return y * expit(-y * np.asarray(f, dtype=float))

    def sympy(self, y, f):
        return sp.log(1 + sp.exp(-y * f))

    def torch_value(self, y, f):
        return array_namespace(f).nn.functional.softplus(-y * f)

    def torch_neg_derivative(self, y, f):
        return y * (-y * f).sigmoid()


@dataclass(frozen=True)
class Exponential(Loss):
    """``ℓ = e^{−y f}``, ``r = y e^{−y f}``, ``c = y``."""

    name: str = "exponential"

    def weight_factor(self):
        return sp.Integer(1)

    def value(self, y, f):
        return np.exp(-np.asarray(y, dtype=float) * np.asarray(f, dtype=float))

    def neg_derivative(self, y, f):
        y = np.asarray(y, dtype=float)
        return y * np.exp(-y * np.asarray(f, dtype=float))

    def sympy(self, y, f):
        return sp.exp(-y * f)

    def torch_value(self, y, f):
        return (-y * f).exp()

    def torch_neg_derivative(self, y, f):
        return y * (-y * f).exp()


@dataclass(frozen=True)
class Square(Loss):
    """``ℓ = (f − y)²/2``, ``r = y − f``, ``c = y``."""

    name: str = "square"

    def weight_factor(self):
        return sp.Integer(1)

    def value(self, y, f):
        return 0.5 * (np.asarray(f, dtype=float) - np.asarray(y, dtype=float)) ** 2

    def neg_derivative(self, y, f):
        return np.asarray(y, dtype=float) - np.asarray(f, dtype=float)

    def sympy(self, y, f):
        return (f - y) ** 2 / 2

    def torch_value(self, y, f):
        return 0.5 * (f - y) ** 2

    def torch_neg_derivative(self, y, f):
        return y - f


_LOSSES = {"logistic": Logistic(), "exponential": Exponential(), "square": Square()}


def parse_loss(spec: str | Loss) -> Loss:
    """Parse a loss name; raises :class:`InputError` for unknown names."""
    if isinstance(spec, Loss):
        return spec
    s = str(spec).strip().lower()
    if s not in KNOWN:
        raise InputError(f"unknown loss {spec!r}; known: {', '.join(KNOWN)}")
    return _LOSSES[s]
