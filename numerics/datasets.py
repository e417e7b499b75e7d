"""Seeded dataset generators: each returns ``(X, y)`` with ``X`` float64 (n×d) and ``y`` (n,).

Labels are ±1 (float64) for classification sets; ``generic`` with ``target="real"`` gives real
targets (use the square loss).  The same ``seed`` always gives the same arrays
(``numpy.random.default_rng``).

Cluster noise (the paper's replication files): every point is its cluster centre plus ``N(0, σ² I)``
noise kept only inside the ball of radius δ (rejection sampling).  ``symmetric=1`` ("shifted and
reflected"): the noise vectors of each ± pair of clusters are drawn once and used as ``c + ξ`` and
``−(c + ξ)``, so the data set is exactly invariant under ``x → −x``.

================= ==========================================================================
name              data
================= ==========================================================================
xor               symmetric XOR (Figure 1): class −1 at ±μ e1, class +1 at ±μ e2 (d ≥ 2, extra
                  coordinates zero, noise in the first two only).  Defaults are Figure
                  1's: n=256, μ=1, σ=0.005, δ=0.01.
                  Figure 2's setting: ``xor:n=512,delta=0.2,sigma=0.0707...`` (σ = 0.1/√d).
skewed_xor        as xor, class +1 at ±μ v with v = (cos α, sin α); ``alpha`` in radians
                  (default π/3).  α = π/2 is xor.
xor_ood           the four XOR clusters at new angles, for out-of-distribution tests: class −1
                  at ±μ(cos β₋, sin β₋), class +1 at ±μ(cos β₊, sin β₊); defaults β₋ = π/4,
                  β₊ = 3π/4 (XOR rotated by 45°: each test cluster sits half-way between two
                  training clusters of ``xor``).
xor3d             d=3: ±e1 and ±e3 labelled +1, ±e2 labelled −1 (n multiple of 6, default 6;
                  σ=0 by default, i.e. exactly the six points).
gaussian_clusters k cluster centres ~ N(0, I_d), each with a random ±1 label, n points spread
                  evenly over the clusters, noise σ (δ-ball rejection).
generic           X ~ N(0, I_d); y random ±1 (``target="sign"``) or y ~ N(0, 1)
                  (``target="real"``).
linear_separable  x ~ N(0, I_d) and its mirror −x, labels y = sign⟨x, e1⟩ and −y: linearly
                  separable and symmetric (for ReLU, G is then linear: G(w) = ⟨w, v⟩/2).
================= ==========================================================================

:func:`parse_dataset_spec` reads ``"NAME"`` or ``"NAME:k=v,k=v"``; :func:`make_dataset` builds
one.  Unknown names and parameters raise :class:`theory.errors.InputError`.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from theory.errors import InputError


# ----------------------------------------------------------------------------- noise and clusters
def _ball_noise(rng: np.random.Generator, k: int, d: int, sigma: float, delta: float) -> np.ndarray:
    """``k`` draws of ``N(0, σ² I_d)`` conditioned on ``|ξ| ≤ δ`` (rejection sampling)."""
    out = np.zeros((k, d))
    if sigma == 0 or k == 0:
        return out
    filled = 0
    while filled < k:
        z = rng.normal(0.0, sigma, size=(max(2 * (k - filled), 16), d))
        z = z[np.linalg.norm(z, axis=1) <= delta][: k - filled]
        out[filled:filled + len(z)] = z
        filled += len(z)
    return out


def _clusters(rng, pairs, n: int, d: int, sigma: float, delta: float, symmetric: bool):
    """Points around ± pairs of centres.  ``pairs`` = [(centre (d,), label), ...]: each pair
    gives clusters at +centre and −centre with the same label, n/(2·len(pairs)) points each."""
    per = n // (2 * len(pairs))
    if per * 2 * len(pairs) != n:
        raise InputError(f"n={n} must be a multiple of {2 * len(pairs)} (points per cluster equal)")
    Xs, ys = [], []
    for centre, label in pairs:
        xi = _ball_noise(rng, per, d, sigma, delta)
        plus = centre + xi
        minus = -(centre + xi) if symmetric else -centre + _ball_noise(rng, per, d, sigma, delta)
        Xs += [plus, minus]
        ys += [np.full(per, float(label)), np.full(per, float(label))]
    return np.concatenate(Xs), np.concatenate(ys)


def _unit(d: int, angle: float) -> np.ndarray:
    v = np.zeros(d)
    v[0], v[1] = math.cos(angle), math.sin(angle)
    return v


def _pad(X: np.ndarray, d: int) -> np.ndarray:
    """Zero-pad 2-D data to d coordinates (the XOR family lives in the first two)."""
    return np.concatenate([X, np.zeros((X.shape[0], d - X.shape[1]))], axis=1)


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise InputError(msg)


def _check_noise(n, d, sigma, delta, dmin=1):
    _check(n > 0, f"n must be positive, got {n}")
    _check(d >= dmin, f"d must be at least {dmin}, got {d}")
    _check(sigma >= 0 and math.isfinite(sigma), f"sigma must be >= 0 and finite, got {sigma}")
    _check(delta > 0 and math.isfinite(delta), f"delta must be > 0 and finite, got {delta}")


# ----------------------------------------------------------------------------- generators
def skewed_xor(n: int = 256, mu: float = 1.0, alpha: float = math.pi / 3, sigma: float = 0.005,
               delta: float = 0.01, d: int = 2, symmetric: int = 1, seed: int = 0):
    """Skewed XOR: class −1 at ±μ e1, class +1 at ±μ (cos α, sin α) (radians), δ-ball noise."""
    _check_noise(n, d, sigma, delta, dmin=2)
    _check(0 < alpha <= math.pi / 2, f"alpha must lie in (0, π/2], got {alpha}")
    rng = np.random.default_rng(seed)
    X, y = _clusters(rng, [(mu * _unit(2, 0.0), -1), (mu * _unit(2, alpha), +1)], n, 2, sigma,
                     delta, bool(symmetric))
    return _pad(X, d), y


def xor(n: int = 256, mu: float = 1.0, sigma: float = 0.005, delta: float = 0.01, d: int = 2,
        symmetric: int = 1, seed: int = 0):
    """Symmetric XOR (Figure 1 defaults): class −1 at ±μ e1, class +1 at ±μ e2."""
    return skewed_xor(n=n, mu=mu, alpha=math.pi / 2, sigma=sigma, delta=delta, d=d,
                      symmetric=symmetric, seed=seed)


def xor_ood(n: int = 256, mu: float = 1.0, angle_neg: float = math.pi / 4,
            angle_pos: float = 3 * math.pi / 4, sigma: float = 0.005, delta: float = 0.01,
            d: int = 2, symmetric: int = 1, seed: int = 0):
    """XOR clusters at new angles (radians): class −1 at ±μ(cos β₋, sin β₋), +1 at β₊."""
    _check_noise(n, d, sigma, delta, dmin=2)
    rng = np.random.default_rng(seed)
    X, y = _clusters(rng, [(mu * _unit(2, angle_neg), -1), (mu * _unit(2, angle_pos), +1)], n, 2,
                     sigma, delta, bool(symmetric))
    return _pad(X, d), y


def xor3d(n: int = 6, mu: float = 1.0, sigma: float = 0.0, delta: float = 0.01,
          symmetric: int = 1, seed: int = 0):
    """3-D XOR-like data: ±μ e1, ±μ e3 labelled +1, ±μ e2 labelled −1 (docs/theory.md, "The XOR
    family": positive features (±1, 0, ±1)/√2, not data directions)."""
    _check_noise(n, 3, sigma, delta)
    rng = np.random.default_rng(seed)
    e = np.eye(3)
    return _clusters(rng, [(mu * e[0], +1), (mu * e[1], -1), (mu * e[2], +1)], n, 3, sigma,
                     delta, bool(symmetric))


def gaussian_clusters(n: int = 64, k: int = 4, d: int = 2, sigma: float = 0.1,
                      delta: float = 0.3, seed: int = 0):
    """``k`` clusters with centres ~ N(0, I_d) and random ±1 labels; n/k points each."""
    _check_noise(n, d, sigma, delta)
    _check(k > 0 and n % k == 0, f"n={n} must be a positive multiple of k={k}")
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d))
    labels = rng.choice([-1.0, 1.0], size=k)
    per = n // k
    X = np.repeat(centres, per, axis=0) + _ball_noise(rng, n, d, sigma, delta)
    return X, np.repeat(labels, per)


def generic(n: int = 16, d: int = 2, target: str = "sign", seed: int = 0):
    """Random generic data: X ~ N(0, I_d); y random ±1 (target=sign) or N(0, 1) (target=real)."""
    _check(n > 0 and d > 0, f"n and d must be positive, got n={n}, d={d}")
    _check(target in ("sign", "real"), f"target must be 'sign' or 'real', got {target!r}")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.choice([-1.0, 1.0], size=n) if target == "sign" else rng.normal(size=n)
    return X, y


def linear_separable(n: int = 32, d: int = 2, seed: int = 0):
    """Symmetric linearly separable data: pairs (x, y) and (−x, −y), y = sign⟨x, e1⟩."""
    _check(n > 0 and n % 2 == 0, f"n must be a positive even number, got {n}")
    _check(d > 0, f"d must be positive, got {d}")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n // 2, d))
    y = np.where(X[:, 0] >= 0, 1.0, -1.0)
    return np.concatenate([X, -X]), np.concatenate([y, -y])


DATASETS = {f.__name__: f for f in (xor, skewed_xor, xor_ood, xor3d, gaussian_clusters, generic,
                                    linear_separable)}


# ----------------------------------------------------------------------------- specs
def _convert(name: str, key: str, text: str, default):
    try:
        if isinstance(default, bool) or isinstance(default, int):
            v = float(text)
            if v != int(v):
                raise ValueError
            return int(v)
        if isinstance(default, float):
            return float(text)
        return text
    except ValueError:
        raise InputError(f"dataset {name}: parameter {key}={text!r} must be "
                         f"{'an integer' if isinstance(default, int) else 'a number'}") from None


def parse_dataset_spec(spec: str) -> tuple[str, dict]:
    """``"NAME[:k=v,k=v]"`` -> ``(NAME, {k: typed value})``.  Raises InputError on unknown
    names or parameters and on malformed values."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"empty dataset spec; known datasets: {', '.join(DATASETS)}")
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    params = inspect.signature(DATASETS[name]).parameters
    kwargs: dict = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, val = item.partition("=")
        key = key.strip()
        if not eq:
            raise InputError(f"dataset {name}: parameter {item!r} must be written key=value")
        if key not in params:
            raise InputError(f"dataset {name}: unknown parameter {key!r}; known: "
                             f"{', '.join(params)}")
        v = _convert(name, key, val.strip(), params[key].default)
        if isinstance(v, float) and not math.isfinite(v):
            raise InputError(f"dataset {name}: parameter {key} must be finite, got {val}")
        kwargs[key] = v
    return name, kwargs


def make_dataset(spec: str, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Build the dataset named by ``spec`` (see :func:`parse_dataset_spec`).  ``seed``, when
    given and not set in the spec, seeds the generator."""
    name, kwargs = parse_dataset_spec(spec)
    if seed is not None:
        kwargs.setdefault("seed", int(seed))
    X, y = DATASETS[name](**kwargs)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
