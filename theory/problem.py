"""The problem specification: data, activation and loss — the single source for both views.

A :class:`Problem` is what the theory layer predicts from and what the numerics layer trains
on, so a comparison can never mix conventions.  It pins the normalisation of G (docs/theory.md,
"The function G"):

    G(w) = (1/n) Σ_i c_i σ(⟨w, x_i⟩),      c_i = −∂ℓ(y_i, f)/∂f at f = 0.

Exact mode.  Every float64 number is a dyadic rational, so float data have an exact rational
value; integer, :class:`fractions.Fraction` and sympy inputs are kept as given.  Certificates
(``theory.certificate``) work on :meth:`Problem.X_exact` and so hold for the data exactly as
stored, not up to rounding.  ``Problem.exact_input`` records whether the user gave exact
numbers (integers, rationals, sympy), which is when closed forms are worth printing.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import numpy as np
import sympy as sp

from .activations import Activation, parse_activation
from .errors import InputError
from .losses import Loss, parse_loss


def _to_sympy_number(v) -> sp.Expr:
    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, (bool, np.bool_)):
        return sp.Integer(int(v))
    if isinstance(v, (numbers.Integral, np.integer)):
        return sp.Integer(int(v))
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    f = float(v)
    q = Fraction(f)  # exact: floats are dyadic rationals
    return sp.Rational(q.numerator, q.denominator)


def _is_exact_scalar(v) -> bool:
    return isinstance(v, (sp.Basic, Fraction, numbers.Integral, np.integer)) and not isinstance(
        v, (bool, np.bool_)
    )


def _as_float_array(a, what: str) -> np.ndarray:
    try:
        if isinstance(a, sp.MatrixBase):
            arr = np.array(a.evalf(20).tolist(), dtype=float)
        else:
            arr = np.asarray(a)
            if arr.dtype == object:
                def to_float(v):
                    return float(sp.N(v, 20)) if isinstance(v, sp.Basic) else float(v)

                arr = (np.vectorize(to_float, otypes=[float])(arr) if arr.size
                       else arr.astype(float))
            arr = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be numeric ({exc})") from None
    return arr


@dataclass(frozen=True, eq=False)
class Problem:
    """Data ``X`` (n×d), labels/targets ``y`` (n), an activation and a loss.

    Build with :meth:`Problem.from_arrays` or :meth:`Problem.load_npz`, which validate.
    ``y`` holds labels already mapped to the loss's convention (±1 for classification).
    """

    X: np.ndarray
    y: np.ndarray
    activation: Activation
    loss: Loss
    exact_input: bool = False
    _X_exact: sp.Matrix | None = field(default=None, repr=False)
    _y_exact: tuple | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(cls, X, y, activation: str | Activation = "relu",
                    loss: str | Loss = "logistic") -> "Problem":
        """Validate and build.  Raises :class:`InputError` with a one-line message."""
        act = parse_activation(activation)
        lo = parse_loss(loss)
        exact_X = exact_y = None
        exact_input = False
        if isinstance(X, sp.MatrixBase) or (
            isinstance(X, (list, tuple, np.ndarray)) and np.asarray(X, dtype=object).size
            and all(_is_exact_scalar(v) for v in np.asarray(X, dtype=object).ravel())
        ):
            Xo = np.asarray(X.tolist() if isinstance(X, sp.MatrixBase) else X, dtype=object)
            if Xo.ndim == 2:
                exact_X = sp.Matrix([[_to_sympy_number(v) for v in row] for row in Xo])
                exact_input = True
        if isinstance(y, sp.MatrixBase):
            y = list(y)
        yo = np.asarray(y, dtype=object)
        if exact_input and yo.ndim == 1 and all(_is_exact_scalar(v) for v in yo.ravel()):
            exact_y = tuple(_to_sympy_number(v) for v in yo)
        Xf = _as_float_array(X, "X")
        yf = _as_float_array(y, "y")
        _validate(Xf, yf)
        ym = lo.labels(yf)
        if exact_y is not None:
            if lo.classification:
                exact_y = tuple(sp.Integer(int(v)) for v in ym)
        Xf.setflags(write=False)
        ym.setflags(write=False)
        return cls(Xf, ym, act, lo, exact_input and exact_y is not None, exact_X,
                   exact_y)

    @classmethod
    def load_npz(cls, path: str | Path, activation: str | Activation = "relu",
                 loss: str | Loss = "logistic") -> "Problem":
        """Load ``X`` and ``y`` from an ``.npz`` (``allow_pickle=False``) and validate.

        Integer arrays are kept exact (exact mode)."""
        X, y = load_xy(path)
        if X.dtype.kind in "iu" and y.dtype.kind in "iub":
            return cls.from_arrays(X.astype(object), y.astype(object), activation, loss)
        return cls.from_arrays(X, y, activation, loss)

    def with_(self, activation=None, loss=None) -> "Problem":
        """The same data with another activation and/or loss."""
        X = self._X_exact if self.exact_input else self.X
        y = list(self._y_exact) if self.exact_input else self.y
        return Problem.from_arrays(X, y, activation or self.activation, loss or self.loss)

    # ------------------------------------------------------------------ shapes and weights
    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @cached_property
    def c(self) -> np.ndarray:
        """Loss weights ``c_i`` (float64)."""
        return self.loss.weights(self.y)

    @cached_property
    def X_exact(self) -> sp.Matrix:
        """``X`` as an exact sympy matrix (the given numbers, or the floats' exact values)."""
        if self._X_exact is not None:
            return self._X_exact
        return sp.Matrix([[_to_sympy_number(v) for v in row] for row in self.X.tolist()])

    @cached_property
    def c_exact(self) -> tuple:
        """Loss weights ``c_i`` as exact sympy numbers."""
        ys = self._y_exact if self._y_exact is not None else tuple(
            _to_sympy_number(v) for v in self.y.tolist())
        k = self.loss.weight_factor()
        return tuple(k * v for v in ys)

    @cached_property
    def v(self) -> np.ndarray:
        """``v = (1/n) Σ c_i x_i``: G's gradient at 0 for smooth σ (divided by σ'(0))."""
        return (self.c @ self.X) / self.n

    @cached_property
    def G_rate_bound(self) -> float:
        """``(1/n) Σ |c_i||x_i| · max(1, |γ|)`` (smooth σ: ``max(1, σ'(0))``): an upper bound on
        |G| and |∇G| over the unit sphere for piecewise-linear σ (|σ'| ≤ max(1, |γ|)), and the
        natural rate scale of the early phase."""
        g = self.activation.gamma
        k = max(1.0, abs(float(g))) if g is not None else max(1.0, self.activation.deriv0)
        return float(np.sum(np.abs(self.c) * np.linalg.norm(self.X, axis=1)) / self.n * k)

    # ------------------------------------------------------------------ G and its gradient
    def G(self, W: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """``G(w) = (1/n) Σ_i c_i σ(⟨w, x_i⟩)`` for ``W`` of shape (..., d).

        ``weights`` replaces ``c`` (e.g. the later-phase ``r_i(t)``, giving ``G_t``)."""
        c = self.c if weights is None else np.asarray(weights, dtype=float)
        Z = np.asarray(W, dtype=float) @ self.X.T
        return self.activation.numpy(Z) @ c / self.n

    def grad_G(self, W: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """``∇G(w) = (1/n) Σ_i c_i σ'(⟨w, x_i⟩) x_i`` (σ'(0) = γ at a kink, as
        in every view of ``theory.activations``)."""
        c = self.c if weights is None else np.asarray(weights, dtype=float)
        Z = np.asarray(W, dtype=float) @ self.X.T
        return (self.activation.numpy_deriv(Z) * c) @ self.X / self.n

    def G_exact(self, u) -> sp.Expr:
        """G at an exact point ``u`` (a sequence of sympy numbers)."""
        u = sp.Matrix(list(u))
        tot = sp.Integer(0)
        for i in range(self.n):
            z = (self.X_exact[i, :] * u)[0, 0]
            tot += self.c_exact[i] * self.activation.sympy(z)
        return sp.simplify(tot / self.n)

    @property
    def G_identically_zero(self) -> bool:
        """True when G vanishes on the whole sphere: no first-order prediction (docs/theory.md,
        "Degenerate data").

        Decided exactly: G is a sum of σ-ridge functions; grouping points on the same line
        through 0 (x and t·x, t > 0 same ray; t < 0 opposite ray) it vanishes identically iff
        every line's contribution does."""
        from .degeneracy import g_vanishes_identically

        return g_vanishes_identically(self)

    def describe(self) -> str:
        return (f"n={self.n}, d={self.d}, activation={self.activation}, loss={self.loss}, "
                f"exact_input={self.exact_input}")


# ---------------------------------------------------------------------- validation and I/O
def _validate(X: np.ndarray, y: np.ndarray) -> None:
    if X.ndim != 2:
        raise InputError(f"X must be a 2-D array (n×d); got {X.ndim}-D with shape {X.shape}")
    n, d = X.shape
    if n == 0:
        raise InputError("X is empty: no data points (n = 0)")
    if d == 0:
        raise InputError("X has no features (d = 0)")
    if y.ndim != 1:
        raise InputError(f"y must be a 1-D array of length n={n}; got shape {y.shape}")
    if y.shape[0] != n:
        raise InputError(f"X has {n} rows but y has {y.shape[0]} entries")
    if not np.all(np.isfinite(X)):
        i = int(np.argwhere(~np.isfinite(X))[0][0])
        raise InputError(f"X contains NaN or inf (first in row {i})")
    if not np.all(np.isfinite(y)):
        i = int(np.argwhere(~np.isfinite(y))[0][0])
        raise InputError(f"y contains NaN or inf (first at index {i})")


def load_xy(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read arrays ``X`` and ``y`` from an ``.npz`` with ``allow_pickle=False``.

    Raises :class:`InputError` for a missing or unreadable file, a missing array, or pickled
    (object) arrays."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"data file not found: {p}")
    if p.is_dir():
        raise InputError(f"{p} is a folder, not an .npz file")
    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] != b"PK":  # .npz files are zip archives
        raise InputError(f"{p}: not a readable .npz file (not a zip archive of arrays X and y)")
    try:
        with np.load(p, allow_pickle=False) as z:
            keys = set(z.files)
            missing = [k for k in ("X", "y") if k not in keys]
            if missing:
                raise InputError(f"{p}: missing array {missing[0]!r} (the file has: "
                                 f"{', '.join(sorted(keys)) or 'nothing'}); need X (n×d) and y (n)")
            X = z["X"]
            y = z["y"]
    except InputError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise InputError(f"{p}: contains pickled objects; refusing to load "
                             "(store X and y as plain numeric arrays)") from None
        raise InputError(f"{p}: not a readable .npz file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{p}: not a readable .npz file ({exc})") from None
    for name, a in (("X", X), ("y", y)):
        if a.dtype.kind not in "biuf":
            raise InputError(f"{p}: array {name} has non-numeric dtype {a.dtype}")
    return X, y


def save_xy(path: str | Path, X: np.ndarray, y: np.ndarray, **extra) -> None:
    """Write ``X``, ``y`` (and extra plain arrays) to ``.npz`` atomically."""
    from .atomic import atomic_write_npz

    atomic_write_npz(path, X=np.asarray(X), y=np.asarray(y), **extra)
