"""The training loop: gradient descent on the two-layer network, read top to bottom.

Model and loss (DESIGN §2)::

    Z = X Wᵀ  (n×m, stored transposed),   H = σ(Z),   f = H a  (n),   L = Σ_i s_i ℓ(y_i, f_i)

with sample weights ``s_i = 1/n`` (0 for padding rows in the batched engine).  Gradients are
written by hand (tested against torch autograd in ``tests/test_engine.py``)::

    r_i = −∂ℓ/∂f(y_i, f_i),     −∂L/∂a = Hᵀ (s ⊙ r),     −∂L/∂W = diag(a) (σ'(Z) ⊙ (s ⊙ r))ᵀ X

where σ'(0) is taken as torch takes it (ReLU 0, leaky ReLU γ).  Full-batch gradient descent
``θ ← θ − dt ∇L`` is the explicit Euler discretisation of gradient flow, and the run's clock is
``t = Σ dt`` (so ``times`` are gradient-flow times, comparable with the theory's ``t*``).

Step sizes:

* constant ``lr``, or ``schedule(step) -> lr`` (e.g. :func:`figure1_schedule`);
* ``adaptive=True``: the early phase is scale-free, so the step is ``dt = η / ρ`` with the
  relative rate ``ρ = max_j |∇_{θ_j} L| / |θ_j|`` (θ_j = (w_j, a_j)): every neuron changes by at
  most a fraction η of its size per step, the number of steps to escape grows like
  ``log(1/ε)/η`` instead of ``1/(ε·lr)``; ``dt`` is capped by ``lr_max`` (late phase).  When
  stopping at escape, the step is also capped by ``κ·T_rem`` where ``T_rem`` is the time left
  to escape extrapolated from the current growth of the output (``κ = escape_refine``, floor
  ``η/64 / ρ``): steps shrink geometrically into the escape event, which pins the escape time
  and shrinks the Euler chattering of neurons sitting on ReLU kinks (whose angular amplitude
  is of order η) before the final state is taken.  Like any Euler step, a step of size dt grows
  a neuron by ``1 + λ dt`` instead of ``e^{λ dt}``: the discrete growth rate is
  ``λ(1 − λ dt/2 + …)``, a relative bias of at most about η/2 in rates and escape times (use
  η ≈ 0.02 when measuring them to 1 %).

Escape (the definition used everywhere in the package): the output's RMS over the data,
``‖f‖ = (Σ_i s_i f_i²)^{1/2}``, first reaches ``escape_level`` (default 0.1).  In the early phase
``‖f‖ ∝ ε² e^{2 λ_max t}``, so ``t* = log(1/ε)/λ_max + O(1)``.  The reported ``escape_time`` is
interpolated linearly in ``log ‖f‖`` between the two states that bracket the level.

Stop rules (first one met): ``steps`` steps, time ``t_max`` (the last step is shortened to land
on it), loss ``≤ loss_below``, escape (``until_escape``), ``max_steps``.  A non-finite loss
raises :class:`TrainingDiverged` naming the step and carrying the last good state as a
:class:`Run`.

Mini-batch SGD with momentum (``batch_size``, ``momentum``; batches from a seeded permutation
per epoch) is there for completeness; its recorded loss and escape test use the current batch.

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

from .device import select_device, select_dtype
from .run_io import Run

ESCAPE_LEVEL = 0.1


class TrainingDiverged(RuntimeError):
    """The loss became non-finite at ``step``; ``run`` holds the last good state."""

    def __init__(self, step: int, run: Run):
        super().__init__(f"training diverged: non-finite loss at step {step} "
                         f"(t = {run.time:.6g}); lower the step size")
        self.step = step
        self.run = run


# ----------------------------------------------------------------------------- σ, σ', ℓ, −ℓ'
def torch_activation(act) -> tuple[Callable, Callable]:
    """``(σ, σ')`` as torch functions for a :class:`theory.activations.Activation`."""
    if act.piecewise_linear:
        g = float(act.gamma)
        if g == 0.0:
            return torch.relu, lambda z: (z > 0).to(z.dtype)
        return (lambda z: torch.where(z >= 0, z, g * z),
                lambda z: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, g)))
    if act.name == "tanh":
        return torch.tanh, lambda z: 1.0 - torch.tanh(z) ** 2
    if act.name == "gelu":
        return (torch.nn.functional.gelu,
                lambda z: 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))
                + z * torch.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi))
    raise InputError(f"activation {act} has no torch implementation")


def torch_loss(loss) -> tuple[Callable, Callable]:
    """``(ℓ(y, f), r = −∂ℓ/∂f)`` as torch functions for a :class:`theory.losses.Loss`."""
    if loss.name == "logistic":
        return (lambda y, f: torch.nn.functional.softplus(-y * f),
                lambda y, f: y * torch.sigmoid(-y * f))
    if loss.name == "exponential":
        return lambda y, f: torch.exp(-y * f), lambda y, f: y * torch.exp(-y * f)
    if loss.name == "square":
        return lambda y, f: 0.5 * (f - y) ** 2, lambda y, f: y - f
    raise InputError(f"loss {loss} has no torch implementation")


# ----------------------------------------------------------------------------- schedules
def figure1_schedule(epoch: int) -> float:
    """The paper's Figure 1 learning rate (DESIGN §5): ``2⁻⁷`` times ``2⁹`` for epochs < 12,
    1 until 8192, ``1 + 32(e/8192 − 1)`` until 16384, then ``1 + 32·2^((e − 16384)/512)``."""
    e = float(epoch)
    if e < 12:
        f = 2.0 ** 9
    elif e < 8192:
        f = 1.0
    elif e < 16384:
        f = 1.0 + 32.0 * (e / 8192.0 - 1.0)
    else:
        f = 1.0 + 32.0 * 2.0 ** ((e - 16384.0) / 512.0)
    return 2.0 ** -7 * f


SCHEDULES = {"figure1": figure1_schedule}


def record_grid(spec: str) -> Callable[[int], bool]:
    """``"none" | "log" | "every:K"`` -> predicate on the step index (see module doc)."""
    s = str(spec).strip().lower()
    if s == "none":
        return lambda k: False
    if s == "log":
        marks = {0}
        k = 1
        while k < 10**9:
            marks.add(k)
            k = max(k + 1, int(math.ceil(k * 1.1)))
        return marks.__contains__
    if s.startswith("every:"):
        try:
            K = int(s[6:])
        except ValueError:
            K = 0
        if K <= 0:
            raise InputError(f"--record every:K needs a positive integer K, got {spec!r}")
        return lambda k: k % K == 0
    raise InputError(f"unknown record spec {spec!r}; use none, log or every:K")


# ----------------------------------------------------------------------------- the loop
def train(problem: Problem, W0, a0, *, lr: float = 0.05,
          schedule: Callable[[int], float] | None = None, adaptive: bool = False,
          eta: float = 0.1, lr_max: float | None = None, steps: int | None = None,
          t_max: float | None = None, loss_below: float | None = None,
          until_escape: bool = False, escape_level: float = ESCAPE_LEVEL,
          escape_refine: float = 0.5, max_steps: int = 10_000_000, record: str = "none",
          batch_size: int | None = None, momentum: float = 0.0, seed: int = 0,
          device=None, dtype=None, progress: bool | None = None) -> Run:
    """Train ``f(x) = Σ_j a_j σ(⟨w_j, x⟩)`` on ``problem`` from ``(W0, a0)``; see module doc.

    ``W0`` (m×d) and ``a0`` (m) are tensors or arrays; the run uses their device and dtype
    unless ``device``/``dtype`` are given (default CPU, float64)."""
    # ---- set-up: tensors, step rule, stop rules
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
    _check_step_args(lr, eta, lr_max, steps, t_max, escape_level, adaptive, batch_size, momentum)
    if steps is None and t_max is None and loss_below is None and not until_escape:
        raise InputError("no stop rule: give steps, t_max, loss_below or until_escape")
    sigma, dsigma = torch_activation(problem.activation)
    ell, neg_dell = torch_loss(problem.loss)
    relu = problem.activation.piecewise_linear and problem.activation.gamma == 0
    snap = record_grid(record)
    lr_cap = float(lr_max) if lr_max is not None else float(lr)
    sgd = batch_size is not None and batch_size < n
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    perm, pos = None, n
    vW = torch.zeros_like(W) if momentum else None
    va = torch.zeros_like(a) if momentum else None
    XT = X.T.contiguous()
    s_full = torch.full((n,), 1.0 / n, dtype=dt_, device=dev)
    log_level = math.log(escape_level)

    times, losses, snaps = [], [], []
    t, k = 0.0, 0
    escape_time = float("nan")
    prev_log_rms, prev_dt = None, None
    W_good, a_good = W.clone(), a.clone()
    stop_reason = ""
    bar = _progress_bar(progress, steps)

    while True:
        # ---- forward at state k (on the current batch)
        if sgd:
            if pos >= n:
                perm, pos = torch.randperm(n, generator=gen).to(dev), 0
            idx = perm[pos:pos + batch_size]
            pos += batch_size
            Xb, yb = X[idx], y[idx]
            XbT = Xb.T.contiguous()
            s = torch.full((len(idx),), 1.0 / len(idx), dtype=dt_, device=dev)
        else:
            Xb, XbT, yb, s = X, XT, y, s_full
        Zt = _preact(W, XbT)  # Zᵀ = W Xᵀ (m×n): this layout makes every product below fast
        if relu:
            Ht = Zt.clamp_(min=0.0)  # in place: for ReLU, Z > 0 iff H > 0
        else:
            Ht = sigma(Zt)
        f = a @ Ht
        loss_k = float(s @ ell(yb, f))
        if not math.isfinite(loss_k):
            run = _make_run(W_good, a_good, times, losses, snaps, escape_time, max(k - 1, 0),
                            "diverged", locals_config(locals()))
            raise TrainingDiverged(k, run)
        times.append(t)
        losses.append(loss_k)
        if snap(k):
            snaps.append((t, k, W.cpu().numpy().copy(), a.cpu().numpy().copy()))

        # ---- escape: first time the output's RMS reaches the level (log-interpolated)
        log_rms = 0.5 * math.log(max(float(s @ (f * f)), 1e-300))
        if math.isnan(escape_time) and log_rms >= log_level:
            if prev_log_rms is None or log_rms == prev_log_rms:
                escape_time = t
            else:
                escape_time = t - prev_dt * (log_rms - log_level) / (log_rms - prev_log_rms)

        # ---- stop rules
        if until_escape and not math.isnan(escape_time):
            stop_reason = "escape"
        elif steps is not None and k >= steps:
            stop_reason = "steps"
        elif t_max is not None and t >= t_max * (1 - 1e-15):
            stop_reason = "time"
        elif loss_below is not None and loss_k <= loss_below:
            stop_reason = "loss"
        elif k >= max_steps:
            stop_reason = "max_steps"
        if stop_reason:
            break

        # ---- backward: r = −ℓ'(y, f); ascent directions gW = −∂L/∂W, ga = −∂L/∂a
        sr = s * neg_dell(yb, f)
        ga = Ht @ sr
        if relu:
            Dt = Ht.sign_().mul_(sr)  # in place: 1[Z > 0] ⊙ (s ⊙ r), Ht no longer needed
        else:
            Dt = dsigma(Zt).mul_(sr)
        gW = (Dt @ Xb).mul_(a[:, None])

        # ---- step size
        if adaptive:
            rate = float(torch.max(torch.sqrt(((gW * gW).sum(1) + ga * ga)
                                              / ((W * W).sum(1) + a * a))))
            dt = min(eta / rate, lr_cap) if rate > 0 else lr_cap
            if until_escape and escape_refine > 0 and prev_log_rms is not None:
                growth = (log_rms - prev_log_rms) / prev_dt
                if growth > 0:
                    t_rem = (log_level - log_rms) / growth
                    dt = min(dt, max(escape_refine * t_rem, eta / 64 / rate))
        else:
            dt = float(schedule(k)) if schedule is not None else float(lr)
        if t_max is not None:
            dt = min(dt, t_max - t)

        # ---- update θ ← θ + dt·(−∇L)   (momentum: v ← μ v − ∇L, θ ← θ + dt v)
        W_good.copy_(W)
        a_good.copy_(a)
        if momentum:
            vW.mul_(momentum).add_(gW)
            va.mul_(momentum).add_(ga)
            gW, ga = vW, va
        W.add_(gW, alpha=dt)
        a.add_(ga, alpha=dt)
        t += dt
        k += 1
        prev_log_rms, prev_dt = log_rms, dt
        if bar is not None and k % 100 == 0:
            bar.update(100)

    if bar is not None:
        bar.close()
    if not snaps or snaps[-1][1] != k:
        if record != "none":
            snaps.append((t, k, W.cpu().numpy().copy(), a.cpu().numpy().copy()))
    return _make_run(W, a, times, losses, snaps, escape_time, k, stop_reason,
                     locals_config(locals()))


# ----------------------------------------------------------------------------- helpers
def _preact(W: torch.Tensor, XT: torch.Tensor) -> torch.Tensor:
    """``Zᵀ = W Xᵀ`` (m×n).  For small d a sum of d outer products beats BLAS's small-K gemm."""
    d = W.shape[1]
    if d > 4:
        return W @ XT
    Zt = torch.outer(W[:, 0], XT[0])
    for j in range(1, d):
        Zt.addr_(W[:, j], XT[j])
    return Zt


def _check_step_args(lr, eta, lr_max, steps, t_max, escape_level, adaptive, batch_size,
                     momentum) -> None:
    def pos_finite(v, name):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InputError(f"{name} must be a positive finite number, got {v!r}")

    pos_finite(lr, "lr")
    pos_finite(escape_level, "escape level")
    if adaptive:
        pos_finite(eta, "eta")
    if lr_max is not None:
        pos_finite(lr_max, "lr_max")
    if t_max is not None:
        pos_finite(t_max, "t_max")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or steps < 0):
        raise InputError(f"steps must be a non-negative integer, got {steps!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
        raise InputError(f"batch size must be a positive integer, got {batch_size!r}")
    if not (0 <= momentum < 1):
        raise InputError(f"momentum must lie in [0, 1), got {momentum!r}")


def locals_config(ns: dict) -> dict:
    """The run's settings, for ``Run.config`` (JSON-able)."""
    keys = ("lr", "adaptive", "eta", "lr_max", "steps", "t_max", "loss_below", "until_escape",
            "escape_level", "escape_refine", "record", "batch_size", "momentum", "seed")
    cfg = {k: ns[k] for k in keys if k in ns}
    cfg["schedule"] = getattr(ns.get("schedule"), "__name__", None)
    cfg["activation"] = str(ns["problem"].activation)
    cfg["loss"] = str(ns["problem"].loss)
    cfg["device"] = str(ns.get("dev"))
    cfg["dtype"] = str(ns.get("dt_")).replace("torch.", "")
    return cfg


def _make_run(W, a, times, losses, snaps, escape_time, k, reason, config) -> Run:
    run = Run(W=W.detach().cpu().numpy().astype(np.float64).copy(),
              a=a.detach().cpu().numpy().astype(np.float64).copy(),
              times=np.asarray(times, dtype=np.float64), loss=np.asarray(losses, np.float64),
              escape_time=float(escape_time), steps=int(k), stop_reason=reason, config=config)
    if snaps:
        run.traj_times = np.array([s[0] for s in snaps], dtype=np.float64)
        run.traj_steps = np.array([s[1] for s in snaps], dtype=np.int64)
        run.W_traj = np.stack([s[2] for s in snaps]).astype(np.float64)
        run.a_traj = np.stack([s[3] for s in snaps]).astype(np.float64)
    return run


def _progress_bar(progress: bool | None, total: int | None):
    """tqdm bar when asked, or by default when stderr is a TTY and the run is long."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    if progress is None and total is not None and total < 5000:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="step", mininterval=0.5)
