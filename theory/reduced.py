"""The reduced early-phase system, integrated numerically (numpy, no torch).

While the network output is ≈ 0 the gradient flow of every neuron decouples (docs/theory.md,
"The early phase")::

    w_j' = a_j ∇G(w_j),        a_j' = G(w_j).

Integrated from the same initial weights as a training run, this is the exact finite-ε
prediction of the early phase: training and this system agree neuron by neuron until the output
grows to order one, with a difference that shrinks with ε (the neglected terms are of relative
size ‖f‖ ≈ ε² e^{2λ_max t}).  The system is 1-homogeneous, so scaling the initial weights by ε
scales the solution by ε: directions do not depend on ε.

Methods:

* ``"euler"``: explicit Euler, ``θ ← θ + dt F(θ)``.  With the same step sequence as gradient
  descent (pass ``dts``, e.g. ``np.diff(run.times)``) it reproduces GD's discretisation of the
  early phase exactly, so a comparison isolates the effect of ε from that of the step size.
* ``"rk4"``: classical Runge–Kutta.  Fourth order on a face of the kink arrangement; across a
  kink of ReLU (``⟨w, x_i⟩ = 0``) the right-hand side jumps and every method drops to first
  order.

Kinks.  ``∇G`` uses σ'(0) = γ at ``⟨w, x_i⟩ = 0`` (``Problem.grad_G``, the kink convention of
``theory.activations``, which gradient descent in ``numerics`` uses too); data in
general position meet kinks only on a null set.  At an *attracting* kink (the flow on both
sides points into the hyperplane, e.g. the ±e2 maxima of symmetric XOR) the exact flow slides
along the hyperplane (a Filippov sliding mode, with the convexified vector field), while any
fixed-step method chatters across it: the iterate zig-zags in a band of angular width O(dt·λ)
about the hyperplane and its average follows the sliding motion, an O(dt) error.  Gradient
descent chatters the same way, so Euler with GD's steps still matches GD; RK4 there is no better
than Euler.  Shrink ``dt`` to shrink the band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError


@dataclass
class ReducedTrajectory:
    """``times`` (T), ``W`` (T×m×d), ``a`` (T×m) of the reduced system."""

    times: np.ndarray
    W: np.ndarray
    a: np.ndarray


def vector_field(problem, W: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(a_j ∇G(w_j), G(w_j))`` for all neurons (W m×d, a m)."""
    return a[:, None] * problem.grad_G(W), problem.G(W)


def _check(problem, W0, a0):
    W = np.array(W0, dtype=float)
    a = np.array(a0, dtype=float)
    if W.ndim != 2 or W.shape[1] != problem.d or a.shape != (W.shape[0],):
        raise InputError(f"initial weights must be W (m×{problem.d}) and a (m); got "
                         f"{W.shape} and {a.shape}")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(a))):
        raise InputError("initial weights contain NaN or inf")
    return W, a


def _step(problem, W, a, h, method):
    if method == "euler":
        dW, da = vector_field(problem, W, a)
        return W + h * dW, a + h * da
    k1 = vector_field(problem, W, a)
    k2 = vector_field(problem, W + 0.5 * h * k1[0], a + 0.5 * h * k1[1])
    k3 = vector_field(problem, W + 0.5 * h * k2[0], a + 0.5 * h * k2[1])
    k4 = vector_field(problem, W + h * k3[0], a + h * k3[1])
    return (W + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
            a + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]))


def integrate(problem, W0, a0, times, *, dt: float, method: str = "rk4") -> ReducedTrajectory:
    """Integrate from ``(W0, a0)`` at t = 0 onto the increasing grid ``times`` with steps of at
    most ``dt`` (each grid point is hit exactly: the step before it is shortened)."""
    if method not in ("euler", "rk4"):
        raise InputError(f"unknown method {method!r}; use euler or rk4")
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"step dt must be positive and finite, got {dt!r}")
    grid = np.atleast_1d(np.asarray(times, dtype=float))
    if np.any(grid < 0) or np.any(np.diff(grid) < 0) or not np.all(np.isfinite(grid)):
        raise InputError("times must be finite, non-negative and increasing")
    W, a = _check(problem, W0, a0)
    t = 0.0
    Ws, As = [], []
    for target in grid:
        while t < target:
            h = min(dt, target - t)
            W, a = _step(problem, W, a, h, method)
            t = target if h == target - t else t + h
        Ws.append(W.copy())
        As.append(a.copy())
    return ReducedTrajectory(grid.copy(), np.stack(Ws), np.stack(As))


def euler_steps(problem, W0, a0, dts) -> ReducedTrajectory:
    """Explicit Euler with the given step sequence (e.g. gradient descent's ``np.diff(times)``);
    returns every state, ``len(dts) + 1`` of them, at times ``[0, cumsum(dts)]``."""
    W, a = _check(problem, W0, a0)
    dts = np.asarray(dts, dtype=float)
    if np.any(~np.isfinite(dts)) or np.any(dts < 0):
        raise InputError("steps dts must be finite and non-negative")
    Ws, As = [W.copy()], [a.copy()]
    for h in dts:
        W, a = _step(problem, W, a, h, "euler")
        Ws.append(W)
        As.append(a)
    times = np.concatenate([[0.0], np.cumsum(dts)])
    return ReducedTrajectory(times, np.stack(Ws), np.stack(As))
