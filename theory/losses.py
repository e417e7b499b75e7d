"""Losses ℓ(y, f) and the loss weights ``c_i = −∂ℓ(y_i, f)/∂f`` at ``f = 0`` (DESIGN §2).

=============  ===========================  ===========================  ================
name           ℓ(y, f)                       labels accepted              c_i
=============  ===========================  ===========================  ================
logistic       log(1 + exp(−y f))            ±1, or {0, 1} mapped to ±1   y_i / 2
exponential    exp(−y f)                     ±1, or {0, 1} mapped to ±1   y_i
square         (f − y)² / 2                  any finite real              y_i
=============  ===========================  ===========================  ================

The same objects give the later-phase weights ``r_i(t) = −∂ℓ/∂f(y_i, f_t(x_i))``
(:meth:`Loss.neg_derivative`) and the symbolic loss for the derivation layer (:meth:`Loss.sympy`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .errors import InputError

KNOWN = ("logistic", "exponential", "square")


@dataclass(frozen=True)
class Loss:
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
        return sp.Rational(1, 2) if self.name == "logistic" else sp.Integer(1)

    def weights(self, y_mapped: np.ndarray) -> np.ndarray:
        """Loss weights ``c_i`` from mapped labels, float64."""
        return float(self.weight_factor()) * np.asarray(y_mapped, dtype=float)

    def neg_derivative(self, y: np.ndarray, f: np.ndarray) -> np.ndarray:
        """``r_i = −∂ℓ(y_i, f_i)/∂f`` (numpy).  At ``f = 0`` this is ``c_i``."""
        y = np.asarray(y, dtype=float)
        f = np.asarray(f, dtype=float)
        if self.name == "logistic":
            # y σ(−y f), written stably
            return y * 0.5 * (1.0 - np.tanh(0.5 * y * f))
        if self.name == "exponential":
            return y * np.exp(-y * f)
        return y - f

    def value(self, y: np.ndarray, f: np.ndarray) -> np.ndarray:
        """ℓ(y_i, f_i) elementwise (numpy)."""
        y = np.asarray(y, dtype=float)
        f = np.asarray(f, dtype=float)
        if self.name == "logistic":
            return np.logaddexp(0.0, -y * f)
        if self.name == "exponential":
            return np.exp(-y * f)
        return 0.5 * (f - y) ** 2

    def sympy(self, y: sp.Expr, f: sp.Expr) -> sp.Expr:
        """ℓ(y, f) as a sympy expression."""
        if self.name == "logistic":
            return sp.log(1 + sp.exp(-y * f))
        if self.name == "exponential":
            return sp.exp(-y * f)
        return (f - y) ** 2 / 2

    def __str__(self) -> str:
        return self.name


def parse_loss(spec: str | Loss) -> Loss:
    """Parse a loss name; raises :class:`InputError` for unknown names."""
    if isinstance(spec, Loss):
        return spec
    s = str(spec).strip().lower()
    if s not in KNOWN:
        raise InputError(f"unknown loss {spec!r}; known: {', '.join(KNOWN)}")
    return Loss(s)
