"""The training loop: gradient descent on the two-layer network, read top to bottom.

Model and loss::

    Z = X Wᵀ  (n×m, stored transposed),   H = σ(Z),   f = H a  (n),   L = Σ_i s_i ℓ(y_i, f_i)

with sample weights ``s_i = 1/n`` (0 for padding rows in the batched engine).  Gradients are
written by hand (tested against torch autograd in ``tests/test_engine.py``)::

    r_i = −∂ℓ/∂f(y_i, f_i),     −∂L/∂a = Hᵀ (s ⊙ r),     −∂L/∂W = diag(a) (σ'(Z) ⊙ (s ⊙ r))ᵀ X

with the package's kink convention σ'(0) = γ (ReLU 0, leaky ReLU γ; ``theory.activations``).
Full-batch gradient descent ``θ ← θ − dt ∇L`` is the explicit Euler discretisation of gradient
flow, and the run's clock is ``t = Σ dt`` (so ``times`` are gradient-flow times, comparable with
the theory's ``t*``).

Two ways to compute ``f`` and the gradient, same mathematics:

* ``path="dense"``: the n×m matrices above (any d, any σ);
* ``path="fast2d"``: for d = 2 and piecewise-linear σ, the exact O(n + m) step of
  :mod:`numerics.fast2d` (prefix sums over arcs of angles); it equals the dense step up to
  rounding.  ``path="auto"`` (the default) takes it whenever it applies to a full-batch run
  whose dense pre-activations would have at least :data:`FAST2D_MIN_SIZE` = 2¹⁷ entries
  (B·n·m in the batched engine): below that the dense step, with about a third of the tensor
  operations, is faster (break-even measured on the CPU near n·m = 10⁵, BENCHMARKS.md).

Step sizes (constant, ``schedule``, ``adaptive`` with escape refinement), the stop rules,
escape and divergence are those of :mod:`numerics.stepping`, shared with the batched engine.
A non-finite loss stops the run with its last finite state; by default :func:`train` raises
:class:`TrainingDiverged` carrying that run (``on_divergence="stop"`` returns it instead).

Mini-batch SGD with momentum (``batch_size``, ``momentum``; batches from a seeded permutation
per epoch) is there for completeness (dense path); its recorded loss and escape test use the
current batch.

Snapshots of ``W`` and ``a`` are taken on a grid of step indices: ``"log"`` (steps 0, 1, 2, ...
growing geometrically by 10 %), ``"every:K"``, or ``"none"``; the final state is always added.
``times`` and ``loss`` are recorded every step.  Same inputs and seed, same result.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np
import torch

from theory.errors import InputError
from theory.problem import Problem

from . import fast2d
from .device import select_device, select_dtype
from .run_io import Run
from .stepping import (  # noqa: F401  (figure1_schedule, record_grid: public here as before)
    ESCAPE_LEVEL,
    SCHEDULES,
    StepRule,
    StopRule,
    TrainingDiverged,
    escape_crossing,
    figure1_schedule,
    log_rms,
    make_run,
    reason_name,
    record_grid,
    relative_rate,
)

PATHS = ("auto", "dense", "fast2d")
FAST2D_MIN_SIZE = 2 ** 17


# ----------------------------------------------------------------------------- σ, σ', ℓ, −ℓ'
def torch_activation(act) -> tuple[Callable, Callable]:
    """``(σ, σ')`` as torch functions: the torch views of a
    :class:`theory.activations.Activation`."""
    return act.torch, act.torch_deriv


def torch_loss(loss) -> tuple[Callable, Callable]:
    """``(ℓ(y, f), r = −∂ℓ/∂f)`` as torch functions: the torch views of a
    :class:`theory.losses.Loss`."""
    return loss.torch_value, loss.torch_neg_derivative


def choose_path(path: str, activation, d: int, size: int, full_batch: bool = True) -> str:
    """``"dense"`` or ``"fast2d"`` for the requested ``path``; ``size`` is the number of
    dense pre-activations, B·n·m (see module doc)."""
    if path not in PATHS:
        raise InputError(f"unknown path {path!r}; use one of {', '.join(PATHS)}")
    fits = fast2d.supports(activation, d) and full_batch
    if path == "fast2d" and not fits:
        raise InputError("the fast2d path needs d = 2, a piecewise-linear activation and full "
                         f"batches; got d = {d}, {activation}")
    auto = path == "auto" and fits and size >= FAST2D_MIN_SIZE
    return "fast2d" if path == "fast2d" or auto else "dense"


# ----------------------------------------------------------------------------- the two paths
class DenseNet:
    """``f`` and the ascent directions from the n×m pre-activations (any d, any σ).  Weights
    are held as W (m×d)."""

    d_axis = 1
    data_order = None  # the points in their given order

    def __init__(self, problem: Problem, X: torch.Tensor):
        self.act = problem.activation
        self.relu = self.act.piecewise_linear and self.act.gamma == 0
        self.X, self.XT = X, X.T.contiguous()

    def forward(self, W, a, rows=None):
        """``f`` on the data (or on the mini-batch ``rows``)."""
        self.Xb = self.X if rows is None else self.X[rows]
        XbT = self.XT if rows is None else self.Xb.T.contiguous()
        Zt = _preact(W, XbT)  # Zᵀ = W Xᵀ (m×n): this layout makes every product below fast
        # ReLU in place: Z > 0 iff H > 0, so H also gives the mask
        self.Zt, self.Ht = Zt, (Zt.clamp_(min=0.0) if self.relu else self.act.torch(Zt))
        self.a = a
        return a @ self.Ht

    def backward(self, sr):
        """``(gW, ga) = (−∂L/∂W, −∂L/∂a)`` at the last forward; ``sr = s ⊙ r``."""
        ga = self.Ht @ sr
        if self.relu:
            Dt = self.Ht.sign_().mul_(sr)  # in place: 1[Z > 0] ⊙ (s ⊙ r), Ht no longer needed
        else:
            Dt = self.act.torch_deriv(self.Zt).mul_(sr)
        return (Dt @ self.Xb).mul_(self.a[:, None]), ga

    @staticmethod
    def held(W):
        """The weights as this path holds them."""
        return W

    @staticmethod
    def md(W):
        """Held weights as m×d."""
        return W


class Fast2DNet:
    """The d = 2 arc step of :mod:`numerics.fast2d` for one problem.  Weights are held as
    Wᵀ (2×m): each coordinate contiguous, as the angle and prefix-sum operations want them."""

    d_axis = 0

    def __init__(self, problem: Problem, X: torch.Tensor):
        self.arcs = fast2d.Arcs2D(X[None], float(problem.activation.gamma))
        self.data_order = self.arcs.order[0]  # f and s ⊙ r are in the points' angle order

    def forward(self, WT, a, rows=None):
        return self.arcs.forward(WT[None], a[None])[0]

    def backward(self, sr):
        gWT, ga = self.arcs.backward(sr[None])
        return gWT[0], ga[0]

    @staticmethod
    def held(W):
        return W.T.contiguous()

    @staticmethod
    def md(WT):
        return WT.T


def _preact(W: torch.Tensor, XT: torch.Tensor) -> torch.Tensor:
    """``Zᵀ = W Xᵀ`` (m×n).  For small d a sum of d outer products beats BLAS's small-K gemm."""
    d = W.shape[1]
    if d > 4:
        return W @ XT
    Zt = torch.outer(W[:, 0], XT[0])
    for j in range(1, d):
        Zt.addr_(W[:, j], XT[j])
    return Zt


# ----------------------------------------------------------------------------- the loop
def train(problem: Problem, W0, a0, *, lr: float = 0.05,
          schedule: Callable[[int], float] | None = None, adaptive: bool = False,
          eta: float = 0.1, lr_max: float | None = None, steps: int | None = None,
          t_max: float | None = None, loss_below: float | None = None,
          until_escape: bool = False, escape_level: float = ESCAPE_LEVEL,
          escape_refine: float = 0.5, max_steps: int = 10_000_000, record: str = "none",
          batch_size: int | None = None, momentum: float = 0.0, seed: int = 0,
          device=None, dtype=None, progress: bool | None = None, path: str = "auto",
          on_divergence: str = "raise") -> Run:
    """Train ``f(x) = Σ_j a_j σ(⟨w_j, x⟩)`` on ``problem`` from ``(W0, a0)``; see module doc.

    ``W0`` (m×d) and ``a0`` (m) are tensors or arrays; the run uses their device and dtype
    unless ``device``/``dtype`` are given (default CPU, float64).  The step rule is
    ``lr, schedule, adaptive, eta, lr_max, escape_refine`` and the stop rule ``steps, t_max,
    loss_below, until_escape, escape_level, max_steps`` (:mod:`numerics.stepping`); ``path``
    is ``"auto" | "dense" | "fast2d"``; ``on_divergence`` is ``"raise" | "stop"``."""
    # ---- set-up: tensors, rules, the path
    step_rule = StepRule(lr, schedule, adaptive, eta, lr_max, escape_refine)
    stop_rule = StopRule(steps, t_max, loss_below, until_escape, escape_level, max_steps)
    if device is None:
        device = W0.device if isinstance(W0, torch.Tensor) else "cpu"
    if dtype is None:
        dtype = W0.dtype if isinstance(W0, torch.Tensor) else torch.float64
    dev, dt_ = select_device(device), select_dtype(dtype)
    W = torch.as_tensor(W0, dtype=dt_).to(dev).clone()
    a = torch.as_tensor(a0, dtype=dt_).to(dev).clone()
    X = torch.as_tensor(np.array(problem.X), dtype=dt_, device=dev)
    y = torch.as_tensor(np.array(problem.y), dtype=dt_, device=dev)
    n, d = X.shape
    m = W.shape[0]
    if tuple(W.shape) != (m, d) or tuple(a.shape) != (m,):
        raise InputError(f"weights must be W (m×{d}) and a (m); got {tuple(W.shape)} and "
                         f"{tuple(a.shape)}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
        raise InputError(f"batch size must be a positive integer, got {batch_size!r}")
    if not (0 <= momentum < 1):
        raise InputError(f"momentum must lie in [0, 1), got {momentum!r}")
    if on_divergence not in ("raise", "stop"):
        raise InputError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
    snap = record_grid(record)
    sgd = batch_size is not None and batch_size < n
    chosen = choose_path(path, problem.activation, d, n * m, full_batch=not sgd)
    net = (Fast2DNet if chosen == "fast2d" else DenseNet)(problem, X)
    W = net.held(W)  # W from here on is in the path's layout (net.md(W) is m×d)
    if net.data_order is not None:  # labels in the path's order of the points
        y = y[net.data_order]
    ell, neg_dell = problem.loss.torch_value, problem.loss.torch_neg_derivative
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    perm, pos, rows = None, n, None
    vW = torch.zeros_like(W) if momentum else None
    va = torch.zeros_like(a) if momentum else None
    s_full = torch.full((n,), 1.0 / n, dtype=dt_, device=dev)
    refine_to = stop_rule.log_level if until_escape else None
    config = dict(step_rule.config(), **stop_rule.config(), record=record,
                  batch_size=batch_size, momentum=momentum, seed=seed,
                  activation=str(problem.activation), loss=str(problem.loss), device=str(dev),
                  dtype=str(dt_).replace("torch.", ""), path=chosen)

    times, losses, snaps = [], [], []
    t, k = 0.0, 0
    escape_time = math.nan
    prev_log_rms, prev_dt = math.nan, math.nan
    W_good, a_good = W.clone(), a.clone()
    bar = _progress_bar(progress, steps)

    while True:
        # ---- forward at state k (on the current batch)
        if sgd:
            if pos >= n:
                perm, pos = torch.randperm(n, generator=gen).to(dev), 0
            rows = perm[pos:pos + batch_size]
            pos += batch_size
            yb, s = y[rows], torch.full((len(rows),), 1.0 / len(rows), dtype=dt_, device=dev)
        else:
            yb, s = y, s_full
        f = net.forward(W, a, rows)
        loss_k = float(s @ ell(yb, f))
        diverged = not math.isfinite(loss_k)
        if not diverged:
            times.append(t)
            losses.append(loss_k)
            if snap(k):
                snaps.append((t, k, net.md(W).cpu().numpy().copy(), a.cpu().numpy().copy()))

        # ---- escape: first time the output's RMS reaches the level (log-interpolated)
        log_f = float(log_rms(float(s @ (f * f))))
        if math.isnan(escape_time) and log_f >= stop_rule.log_level and not diverged:
            escape_time = float(escape_crossing(t, log_f, prev_log_rms, prev_dt,
                                                stop_rule.log_level))

        # ---- stop rules
        code = int(stop_rule.reasons(k, t, loss_k, not math.isnan(escape_time), diverged))
        if code:
            break

        # ---- backward: r = −ℓ'(y, f); ascent directions gW = −∂L/∂W, ga = −∂L/∂a
        gW, ga = net.backward(s * neg_dell(yb, f))

        # ---- step size
        rate = relative_rate(gW, ga, W, a, d_axis=net.d_axis) if adaptive else None
        dt = float(stop_rule.clip(step_rule.size(k, rate, log_f, prev_log_rms, prev_dt,
                                                 refine_to), t))

        # ---- update θ ← θ + dt·(−∇L) (momentum: v ← μ v − ∇L, θ ← θ + dt v) into the other
        #      buffer; the old state is kept as the last good one
        if momentum:
            vW.mul_(momentum).add_(gW)
            va.mul_(momentum).add_(ga)
            gW, ga = vW, va
        W_new = torch.add(W, gW, alpha=dt, out=W_good)
        a_new = torch.add(a, ga, alpha=dt, out=a_good)
        W_good, a_good, W, a = W, a, W_new, a_new
        t += dt
        k += 1
        prev_log_rms, prev_dt = log_f, dt
        if bar is not None and k % 100 == 0:
            bar.update(100)

    if bar is not None:
        bar.close()
    reason = reason_name(code)
    if diverged:  # the run ends at its last finite state, k − 1
        run = make_run(net.md(W_good), a_good, times, losses, snaps, escape_time, max(k - 1, 0),
                       reason, config)
        if on_divergence == "raise":
            raise TrainingDiverged(k, run)
        return run
    if record != "none" and (not snaps or snaps[-1][1] != k):
        snaps.append((t, k, net.md(W).cpu().numpy().copy(), a.cpu().numpy().copy()))
    return make_run(net.md(W), a, times, losses, snaps, escape_time, k, reason, config)


def _progress_bar(progress: bool | None, total: int | None):
    """tqdm bar when asked, or by default when stderr is a TTY and the run is long."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    if progress is None and total is not None and total < 5000:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="step", mininterval=0.5)
