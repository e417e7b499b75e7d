"""B independent training problems in ONE tensor program (batched tensor products).

Each problem b has its own data ``(X_b, y_b)`` (same d, same activation and loss), its own
initial weights and therefore its own run; the arithmetic is :mod:`numerics.engine`'s, with a
leading batch dimension:

* data sets with different n are padded with zero rows of sample weight 0, which is exact: a
  padding row adds 0 to the loss and 0 to every gradient;
* step sizes are per problem (constant ``lr``, or the engine's adaptive ``dt_b = η/ρ_b`` with its
  escape refinement);
* stop rules are per problem; a stopped problem leaves the *working set* (the tensors are
  compacted to the problems still running, so finished problems cost nothing) while the others
  continue.  A problem whose loss becomes non-finite stops with ``stop_reason = "diverged"``
  and keeps its last good state (no exception: the others go on).

In float64 the runs agree with B sequential :func:`numerics.engine.train` runs to rounding
(``tests/test_batched.py`` checks 1e-12 relative).

Cost per step (B running problems, m neurons, n samples, d dims), ReLU: four batched products
touching the B×n×m pre-activations (``Z = X Wᵀ``, ``f = H a``, ``ga = Hᵀ(s⊙r)``,
``Gᵀ = (s⊙r⊙X)ᵀ 1[Z>0]``) and two in-place passes over them (ReLU, then the mask); everything
else is B×d×m or smaller.  The per-problem bookkeeping (loss, escape, stop rules) is
vectorised numpy on one B×2 transfer per step; the per-step Python overhead is about 25 small
tensor operations, whatever B.
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

# stop reasons in the engine's order of precedence (code 0: still running)
_REASONS = ("", "escape", "steps", "time", "loss", "max_steps", "diverged")


def train_batched(problems: list[Problem], W0, a0, *, lr: float = 0.05, adaptive: bool = False,
                  eta: float = 0.1, lr_max: float | None = None, steps: int | None = None,
                  t_max: float | None = None, loss_below: float | None = None,
                  until_escape: bool = False, escape_level: float = ESCAPE_LEVEL,
                  escape_refine: float = 0.5, max_steps: int = 10_000_000,
                  record: str = "none", device=None, dtype=None) -> list[Run]:
    """Train B problems together from ``W0`` (B×m×d) and ``a0`` (B×m); one :class:`Run` each.
    Arguments as in :func:`numerics.engine.train` (full batch); ``t_max`` may also be one time
    limit per problem (a sequence of B numbers)."""
    B = len(problems)
    if B == 0:
        raise InputError("train_batched needs at least one problem")
    acts = {str(p.activation) for p in problems}
    losses_ = {str(p.loss) for p in problems}
    ds = {p.d for p in problems}
    if len(acts) > 1 or len(losses_) > 1 or len(ds) > 1:
        raise InputError("batched problems must share activation, loss and dimension d; got "
                         f"{sorted(acts)}, {sorted(losses_)}, d in {sorted(ds)}")
    if t_max is not None and np.ndim(t_max) > 0:  # one time limit per problem
        t_max = np.asarray(t_max, dtype=float)
        if t_max.shape != (B,) or not np.all(np.isfinite(t_max) & (t_max > 0)):
            raise InputError(f"t_max must be a positive number or {B} positive numbers")
    _check_step_args(lr, eta, lr_max, steps, None if np.ndim(t_max) else t_max, escape_level,
                     adaptive, None, 0.0)
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
    # data as (B, 1, n) rows and X both ways: (B, n, d) for Z = X Wᵀ, (B, d, n) for Gᵀ = Xᵀ D
    X = torch.as_tensor(Xp, dtype=dt_, device=dev)
    XT = X.transpose(1, 2).contiguous()
    y = torch.as_tensor(yp, dtype=dt_, device=dev)[:, None, :]
    s = torch.as_tensor(sp_, dtype=dt_, device=dev)[:, None, :]

    act = problems[0].activation
    sigma, dsigma = torch_activation(act)
    ell, neg_dell = torch_loss(problems[0].loss)
    relu = act.piecewise_linear and act.gamma == 0
    snap = record_grid(record)
    lr_cap = float(lr_max) if lr_max is not None else float(lr)
    log_level = math.log(escape_level)

    # ---- results, filled in when a problem stops
    W_out, a_out = torch.empty_like(W), torch.empty_like(a)
    code_out = np.zeros(B, dtype=np.int64)
    k_of = np.zeros(B, dtype=np.int64)
    n_rec = np.zeros(B, dtype=np.int64)  # how many (time, loss) entries belong to the run
    t_out = np.zeros(B)
    escape_out = np.full(B, np.nan)
    hist = _History(B)
    snaps = [[] for _ in range(B)]

    # ---- the working set: row c of every tensor/array below is problem idx[c].  The weights
    #      are kept as WT (B×d×m) and a (B×1×m), the pre-activations as Z (B×n×m): with the m
    #      neurons on the contiguous axis every product is a batched gemm with long rows, even
    #      Z = X Wᵀ itself (K = d; in this layout bmm beats the engine's sum of d outer products,
    #      measured for B = 1..64, m = 256, n = 16, d = 3).
    idx = np.arange(B)
    t_lim = None if t_max is None else np.broadcast_to(np.asarray(t_max, dtype=float), (B,))
    WT = W.transpose(1, 2).contiguous()
    a = a[:, None, :].contiguous()
    t = np.zeros(B)
    escape = np.full(B, np.nan)
    prev_log_rms = np.full(B, np.nan)
    prev_dt = np.full(B, np.nan)
    WT_good, a_good = WT.clone(), a.clone()  # state k-1 (double buffer, see the update)
    k = 0
    while True:
        # ---- forward for the working set
        Z = torch.bmm(X, WT)                                    # (B, n, m)
        H = Z.clamp_(min=0.0) if relu else sigma(Z)             # ReLU in place: Z > 0 iff H > 0
        f = torch.bmm(a, H.transpose(1, 2))                     # f = H a   (B, 1, n)
        stats = torch.cat([ell(y, f), f * f], 1).mul_(s).sum(2)    # loss, ‖f‖²  (B, 2)
        loss_k, msq = stats.cpu().numpy().T                     # the one transfer per step

        # ---- per-problem bookkeeping, vectorised over the working set
        bad = ~np.isfinite(loss_k)                              # diverged at state k
        log_rms = 0.5 * np.log(np.maximum(msq, 1e-300))
        hist.add(t, loss_k)
        if snap(k):
            Wn, an = WT.transpose(1, 2).cpu().numpy(), a[:, 0].cpu().numpy()
            for c in np.nonzero(~bad)[0]:
                snaps[idx[c]].append((float(t[c]), k, Wn[c].copy(), an[c].copy()))
        # escape: the first state with ‖f‖ >= level (interpolated linearly in log ‖f‖)
        new = (log_rms >= log_level) & np.isnan(escape) & ~bad
        if new.any():
            escape = _escape_update(new, escape, t, log_rms, prev_log_rms, prev_dt, log_level)
        # stop rules: a cheap test every step, the reasons only when some problem stops
        stop = bad | new if until_escape else bad.copy()
        if t_max is not None:
            stop |= t >= t_lim[idx] * (1 - 1e-15)
        if loss_below is not None:
            stop |= loss_k <= loss_below
        if (steps is not None and k >= steps) or k >= max_steps or stop.any():
            code = np.select(                                   # first true condition wins
                [bad,
                 np.full(len(idx), until_escape) & ~np.isnan(escape),
                 np.full(len(idx), steps is not None and k >= steps),
                 t >= t_lim[idx] * (1 - 1e-15) if t_max is not None
                 else np.zeros(len(idx), bool),
                 loss_k <= loss_below if loss_below is not None else np.zeros(len(idx), bool),
                 np.full(len(idx), k >= max_steps)],
                [6, 1, 2, 3, 4, 5], default=0)
            stop = code > 0
            # write the stopped problems out (a diverged one keeps state k-1)
            rows = np.nonzero(stop)[0]
            done = idx[rows]
            rows_t, done_t = torch.as_tensor(rows, device=dev), torch.as_tensor(done, device=dev)
            bad_t = torch.as_tensor(bad[rows], device=dev)[:, None, None]
            W_out[done_t] = torch.where(bad_t, WT_good[rows_t], WT[rows_t]).transpose(1, 2)
            a_out[done_t] = torch.where(bad_t, a_good[rows_t], a[rows_t])[:, 0]
            code_out[done] = code[rows]
            k_of[done] = np.where(bad[rows], max(k - 1, 0), k)
            n_rec[done] = np.where(bad[rows], k, k + 1)
            t_out[done] = t[rows]
            escape_out[done] = escape[rows]
            hist.flush(idx)
            if stop.all():
                break
            # compact the working set to the problems still running
            keep = np.nonzero(~stop)[0]
            kt = torch.as_tensor(keep, device=dev)
            idx, t, escape = idx[keep], t[keep], escape[keep]
            prev_log_rms, prev_dt, log_rms = prev_log_rms[keep], prev_dt[keep], log_rms[keep]
            WT, a, WT_good, a_good = WT[kt], a[kt], WT_good[kt], a_good[kt]
            X, XT, y, s, f, H = X[kt], XT[kt], y[kt], s[kt], f[kt], H[kt]
            Z = H if relu else Z[kt]                            # ReLU: H is Z, clamped

        # ---- backward (ascent directions, as in the engine):
        #      r = −ℓ'(y, f),  ga = (s⊙r)ᵀ H,  gW = a ⊙ G  with  Gᵀ = (s⊙r⊙X)ᵀ σ'(Z)  (B, d, m)
        sr = s * neg_dell(y, f)                                 # (B, 1, n)
        ga = torch.bmm(sr, H)                                   # (B, 1, m)
        D = H.gt_(0.0) if relu else dsigma(Z)                   # ReLU: 1[Z > 0], in place
        gWT = torch.bmm(XT * sr, D).mul_(a)                     # (B, d, m)

        # ---- per-problem step sizes
        if adaptive:
            rate = torch.amax(torch.sqrt(((gWT * gWT).sum(1) + ga[:, 0] * ga[:, 0])
                                         / ((WT * WT).sum(1) + a[:, 0] * a[:, 0])),
                              dim=1).cpu().numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                dt = np.where(rate > 0, np.minimum(eta / rate, lr_cap), lr_cap)
                if until_escape and escape_refine > 0:
                    growth = (log_rms - prev_log_rms) / prev_dt
                    t_rem = (log_level - log_rms) / growth
                    cap = np.maximum(escape_refine * t_rem, eta / 64 / rate)
                    dt = np.where(np.isfinite(growth) & (growth > 0), np.minimum(dt, cap), dt)
        else:
            dt = np.full(len(idx), float(lr))
        if t_max is not None:
            dt = np.minimum(dt, t_lim[idx] - t)

        # ---- update θ ← θ + dt·(−∇L) into the other buffer; the old state becomes state k-1
        if adaptive or t_max is not None:                       # per-problem step sizes
            dtt = torch.as_tensor(dt, dtype=dt_, device=dev)[:, None, None]
            WT_new = torch.addcmul(WT, dtt, gWT, out=WT_good)
            a_new = torch.addcmul(a, dtt, ga, out=a_good)
        else:                                                   # one constant step: a scalar
            WT_new = torch.add(WT, gWT, alpha=float(lr), out=WT_good)
            a_new = torch.add(a, ga, alpha=float(lr), out=a_good)
        WT_good, a_good, WT, a = WT, a, WT_new, a_new
        t = t + dt
        prev_log_rms, prev_dt = log_rms, dt
        k += 1

    runs = []
    cfg = dict(lr=lr, adaptive=adaptive, eta=eta, lr_max=lr_max, steps=steps,
               t_max=t_max.tolist() if isinstance(t_max, np.ndarray) else t_max,
               loss_below=loss_below, until_escape=until_escape, escape_level=escape_level,
               escape_refine=escape_refine, record=record, batched=B, activation=str(act),
               loss=str(problems[0].loss), device=str(dev), dtype=str(dt_).replace("torch.", ""))
    for b in range(B):
        sn = snaps[b]
        if record != "none" and (not sn or sn[-1][1] != k_of[b]):
            sn.append((float(t_out[b]), int(k_of[b]), W_out[b].cpu().numpy().copy(),
                       a_out[b].cpu().numpy().copy()))
        times, losses = hist.get(b, n_rec[b])
        runs.append(_make_run(W_out[b], a_out[b], times, losses, sn, escape_out[b],
                              int(k_of[b]), _REASONS[code_out[b]], dict(cfg, index=b)))
    return runs


def _escape_update(new, escape, t, log_rms, prev_log_rms, prev_dt, log_level):
    """Escape times of the problems flagged ``new`` (first state with ``log ‖f‖ >= log_level``):
    the engine's rule, linear interpolation in ``log ‖f‖`` between the bracketing states, or
    the state's time when there is no previous state (or no change)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        interp = t - prev_dt * (log_rms - log_level) / (log_rms - prev_log_rms)
    first = np.isnan(prev_log_rms) | (log_rms == prev_log_rms)
    return np.where(new, np.where(first, t, interp), escape)


class _History:
    """``times`` and ``loss`` of every problem, recorded one working-set row per step.

    ``add`` appends the step's arrays (cheap); ``flush`` (called before the working set
    changes) cuts the stacked rows into per-problem columns; ``get`` returns a problem's first
    ``count`` entries (a diverged problem's last row, the non-finite state, is not counted)."""

    def __init__(self, B: int):
        self.rows_t, self.rows_l = [], []
        self.cols_t = [[] for _ in range(B)]
        self.cols_l = [[] for _ in range(B)]

    def add(self, t: np.ndarray, loss: np.ndarray) -> None:
        self.rows_t.append(t)          # t is rebound (not modified in place) every step
        self.rows_l.append(loss)

    def flush(self, idx: np.ndarray) -> None:
        if not self.rows_t:
            return
        T, L = np.stack(self.rows_t), np.stack(self.rows_l)
        for c, b in enumerate(idx):
            self.cols_t[b].append(T[:, c])
            self.cols_l[b].append(L[:, c])
        self.rows_t, self.rows_l = [], []

    def get(self, b: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.cols_t[b]:
            return np.zeros(0), np.zeros(0)
        return (np.concatenate(self.cols_t[b])[:count], np.concatenate(self.cols_l[b])[:count])
