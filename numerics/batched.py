"""B independent training problems in ONE tensor program (``torch.bmm``).

Each problem b has its own data ``(X_b, y_b)`` (same d, same activation and loss), its own
initial weights and therefore its own run; the arithmetic is :mod:`numerics.engine`'s, with a
leading batch dimension:

* data sets with different n are padded with zero rows of sample weight 0, which is exact: a
  padding row adds 0 to the loss and 0 to every gradient;
* step sizes are per problem (constant ``lr``, or the engine's adaptive ``dt_b = η/ρ_b`` with its
  escape refinement);
* stop rules are per problem; a stopped problem is masked (its weights no longer change) while
  the others continue.  A problem whose loss becomes non-finite stops with
  ``stop_reason = "diverged"`` and keeps its last good state (no exception: the others go on).

In float64 the runs agree with B sequential :func:`numerics.engine.train` runs to rounding
(``tests/test_batched.py`` checks 1e-12 relative).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from theory.errors import InputError
from theory.problem import Problem

from .device import select_device, select_dtype
from .engine import (
    ESCAPE_LEVEL,
    _check_step_args,
    _make_run,
    record_grid,
    torch_activation,
    torch_loss,
)
from .run_io import Run


def train_batched(problems: list[Problem], W0, a0, *, lr: float = 0.05, adaptive: bool = False,
                  eta: float = 0.1, lr_max: float | None = None, steps: int | None = None,
                  t_max: float | None = None, loss_below: float | None = None,
                  until_escape: bool = False, escape_level: float = ESCAPE_LEVEL,
                  escape_refine: float = 0.5, max_steps: int = 10_000_000,
                  record: str = "none", device=None, dtype=None) -> list[Run]:
    """Train B problems together from ``W0`` (B×m×d) and ``a0`` (B×m); one :class:`Run` each.
    Arguments as in :func:`numerics.engine.train` (full batch)."""
    B = len(problems)
    if B == 0:
        raise InputError("train_batched needs at least one problem")
    acts = {str(p.activation) for p in problems}
    losses_ = {str(p.loss) for p in problems}
    ds = {p.d for p in problems}
    if len(acts) > 1 or len(losses_) > 1 or len(ds) > 1:
        raise InputError("batched problems must share activation, loss and dimension d; got "
                         f"{sorted(acts)}, {sorted(losses_)}, d in {sorted(ds)}")
    _check_step_args(lr, eta, lr_max, steps, t_max, escape_level, adaptive, None, 0.0)
    if steps is None and t_max is None and loss_below is None and not until_escape:
        raise InputError("no stop rule: give steps, t_max, loss_below or until_escape")
    if device is None:
        device = W0.device if isinstance(W0, torch.Tensor) else "cpu"
    if dtype is None:
        dtype = W0.dtype if isinstance(W0, torch.Tensor) else torch.float64
    dev, dt_ = select_device(device), select_dtype(dtype)
    W = torch.as_tensor(np.asarray(W0) if not isinstance(W0, torch.Tensor) else W0,
                        dtype=dt_).to(dev).clone()
    a = torch.as_tensor(np.asarray(a0) if not isinstance(a0, torch.Tensor) else a0,
                        dtype=dt_).to(dev).clone()
    d = problems[0].d
    if W.ndim != 3 or W.shape[0] != B or W.shape[2] != d or tuple(a.shape) != W.shape[:2]:
        raise InputError(f"weights must be W ({B}×m×{d}) and a ({B}×m); got {tuple(W.shape)} "
                         f"and {tuple(a.shape)}")

    # ---- padded data: zero rows with zero sample weight
    ns = [p.n for p in problems]
    nmax = max(ns)
    Xp = np.zeros((B, nmax, d))
    yp = np.zeros((B, nmax))
    sp_ = np.zeros((B, nmax))
    for b, p in enumerate(problems):
        Xp[b, :p.n] = p.X
        yp[b, :p.n] = p.y
        sp_[b, :p.n] = 1.0 / p.n
    X = torch.as_tensor(Xp, dtype=dt_, device=dev)
    XT = X.transpose(1, 2).contiguous()
    y = torch.as_tensor(yp, dtype=dt_, device=dev)
    s = torch.as_tensor(sp_, dtype=dt_, device=dev)

    act = problems[0].activation
    sigma, dsigma = torch_activation(act)
    ell, neg_dell = torch_loss(problems[0].loss)
    relu = act.piecewise_linear and act.gamma == 0
    snap = record_grid(record)
    lr_cap = float(lr_max) if lr_max is not None else float(lr)
    log_level = math.log(escape_level)

    active = np.ones(B, dtype=bool)
    reason = [""] * B
    times = [[] for _ in range(B)]
    losses = [[] for _ in range(B)]
    snaps = [[] for _ in range(B)]
    t = np.zeros(B)
    k_of = np.zeros(B, dtype=np.int64)
    escape = np.full(B, np.nan)
    prev_log_rms = np.full(B, np.nan)
    prev_dt = np.full(B, np.nan)
    W_good, a_good = W.clone(), a.clone()
    k = 0
    while True:
        # ---- forward for all problems
        Zt = torch.bmm(W, XT)                                   # (B, m, n)
        Ht = Zt.clamp_(min=0.0) if relu else sigma(Zt)
        f = torch.bmm(a[:, None, :], Ht)[:, 0, :]              # (B, n)
        stats = torch.stack([(s * ell(y, f)).sum(1), (s * f * f).sum(1)])
        loss_k, msq = stats.cpu().numpy()
        # ---- per-problem bookkeeping (numpy, B scalars)
        bad = active & ~np.isfinite(loss_k)
        if bad.any():
            sel = torch.as_tensor(bad, device=dev)
            W = torch.where(sel[:, None, None], W_good, W)
            a = torch.where(sel[:, None], a_good, a)
            for b in np.nonzero(bad)[0]:
                reason[b] = "diverged"
                k_of[b] = max(k - 1, 0)
            active &= ~bad
        log_rms = 0.5 * np.log(np.maximum(msq, 1e-300))
        for b in np.nonzero(active)[0]:
            times[b].append(float(t[b]))
            losses[b].append(float(loss_k[b]))
            if snap(k):
                snaps[b].append((float(t[b]), k, W[b].cpu().numpy().copy(),
                                 a[b].cpu().numpy().copy()))
            if math.isnan(escape[b]) and log_rms[b] >= log_level:
                if math.isnan(prev_log_rms[b]) or log_rms[b] == prev_log_rms[b]:
                    escape[b] = t[b]
                else:
                    escape[b] = t[b] - prev_dt[b] * (log_rms[b] - log_level) / (
                        log_rms[b] - prev_log_rms[b])
            r = ""
            if until_escape and not math.isnan(escape[b]):
                r = "escape"
            elif steps is not None and k >= steps:
                r = "steps"
            elif t_max is not None and t[b] >= t_max * (1 - 1e-15):
                r = "time"
            elif loss_below is not None and loss_k[b] <= loss_below:
                r = "loss"
            elif k >= max_steps:
                r = "max_steps"
            if r:
                reason[b] = r
                k_of[b] = k
                active[b] = False
        if not active.any():
            break

        # ---- backward for all problems (ascent directions, as in the engine)
        sr = s * neg_dell(y, f)                                 # (B, n)
        ga = torch.bmm(Ht, sr[:, :, None])[:, :, 0]             # (B, m)
        Dt = Ht.sign_().mul_(sr[:, None, :]) if relu else dsigma(Zt).mul_(sr[:, None, :])
        gW = torch.bmm(Dt, X).mul_(a[:, :, None])               # (B, m, d)

        # ---- per-problem step sizes (0 for stopped problems)
        if adaptive:
            rate = torch.amax(torch.sqrt(((gW * gW).sum(2) + ga * ga)
                                         / ((W * W).sum(2) + a * a)), dim=1).cpu().numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                dt = np.where(rate > 0, np.minimum(eta / rate, lr_cap), lr_cap)
                if until_escape and escape_refine > 0:
                    growth = (log_rms - prev_log_rms) / prev_dt
                    t_rem = (log_level - log_rms) / growth
                    cap = np.maximum(escape_refine * t_rem, eta / 64 / rate)
                    dt = np.where(np.isfinite(growth) & (growth > 0), np.minimum(dt, cap), dt)
        else:
            dt = np.full(B, float(lr))
        if t_max is not None:
            dt = np.minimum(dt, t_max - t)
        dt = np.where(active, dt, 0.0)

        # ---- masked update
        W_good.copy_(W)
        a_good.copy_(a)
        dtt = torch.as_tensor(dt, dtype=dt_, device=dev)
        act_t = torch.as_tensor(active, device=dev)
        W = torch.where(act_t[:, None, None], W + dtt[:, None, None] * gW, W)
        a = torch.where(act_t[:, None], a + dtt[:, None] * ga, a)
        t = t + dt
        prev_log_rms = np.where(active, log_rms, prev_log_rms)
        prev_dt = np.where(active, dt, prev_dt)
        k += 1

    runs = []
    cfg = dict(lr=lr, adaptive=adaptive, eta=eta, lr_max=lr_max, steps=steps, t_max=t_max,
               loss_below=loss_below, until_escape=until_escape, escape_level=escape_level,
               escape_refine=escape_refine, record=record, batched=B, activation=str(act),
               loss=str(problems[0].loss), device=str(dev), dtype=str(dt_).replace("torch.", ""))
    for b in range(B):
        sn = snaps[b]
        if record != "none" and (not sn or sn[-1][1] != k_of[b]):
            sn.append((float(t[b]), int(k_of[b]), W[b].cpu().numpy().copy(),
                       a[b].cpu().numpy().copy()))
        runs.append(_make_run(W[b], a[b], times[b], losses[b], sn, escape[b], int(k_of[b]),
                              reason[b], dict(cfg, index=b)))
    return runs
