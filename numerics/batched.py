"""B independent training problems in ONE tensor program (batched tensor products).

Each problem b has its own data ``(X_b, y_b)`` (same d, same activation and loss), its own
initial weights and therefore its own run; the arithmetic is :mod:`numerics.engine`'s, with a
leading batch dimension, and the step rule, stop rules, escape and divergence are those of
:mod:`numerics.stepping`:

* data sets with different n are padded with zero rows of sample weight 0, which is exact: a
  padding row adds 0 to the loss and 0 to every gradient;
* step sizes are per problem (constant ``lr`` or ``schedule``, or the adaptive ``dt_b = η/ρ_b``
  with its escape refinement);
* stop rules are per problem; a stopped problem leaves the *working set* (the tensors are
  compacted to the problems still running, so finished problems cost nothing) while the others
  continue.  A problem whose loss becomes non-finite stops with ``stop_reason = "diverged"``
  and keeps its last good state (no exception: the others go on);
* ``path`` as in :func:`numerics.engine.train`: for d = 2 and piecewise-linear σ the exact arc
  step of :mod:`numerics.fast2d` (by default when B·n·m ≥ 2¹⁷), else the dense products
  below.

In float64 the runs agree with B sequential :func:`numerics.engine.train` runs to rounding
(``tests/test_batched.py`` checks 1e-12 relative).

Cost per step of the dense path (B running problems, m neurons, n samples, d dims), ReLU: four
batched products touching the B×n×m pre-activations (``Z = X Wᵀ``, ``f = H a``,
``ga = Hᵀ(s⊙r)``, ``Gᵀ = (s⊙r⊙X)ᵀ 1[Z>0]``) and two in-place passes over them (ReLU, then the
mask); everything else is B×d×m or smaller.  The per-problem bookkeeping (loss, escape, stop
rules) is vectorised numpy on one B×2 transfer per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from theory.errors import InputError
from theory.problem import Problem

from . import fast2d
from .device import select_device, select_dtype
from .engine import choose_path
from .run_io import Run
from .stepping import (
    ESCAPE_LEVEL,
    StepRule,
    StopRule,
    escape_crossing,
    log_rms,
    make_run,
    reason_name,
    record_grid,
    relative_rate,
)


# ----------------------------------------------------------------------------- the two paths
class DenseBatchedNet:
    """``f`` and the ascent directions from the B×n×m pre-activations.  Weights are kept as
    WT (B×d×m) and a (B×1×m): with the m neurons on the contiguous axis every product is a
    batched gemm with long rows, even ``Z = X Wᵀ`` itself (K = d; in this layout bmm beats the
    sequential engine's sum of d outer products, measured for B = 1..64, m = 256, n = 16)."""

    data_order = None  # the points in their given order

    def __init__(self, problem: Problem, X: torch.Tensor):
        self.act = problem.activation
        self.relu = self.act.piecewise_linear and self.act.gamma == 0
        self.X, self.XT = X, X.transpose(1, 2).contiguous()

    def forward(self, WT, a):
        Z = torch.bmm(self.X, WT)                               # (B, n, m)
        # ReLU in place: Z > 0 iff H > 0, so H also gives the mask
        self.Z, self.H = Z, (Z.clamp_(min=0.0) if self.relu else self.act.torch(Z))
        self.a = a
        return torch.bmm(a, self.H.transpose(1, 2))             # f = H a   (B, 1, n)

    def backward(self, sr):
        """r = −ℓ'(y, f): ga = (s⊙r)ᵀ H, gW = a ⊙ G with Gᵀ = (s⊙r⊙X)ᵀ σ'(Z)  (B, d, m)."""
        ga = torch.bmm(sr, self.H)                              # (B, 1, m)
        D = self.H.gt_(0.0) if self.relu else self.act.torch_deriv(self.Z)  # ReLU: in place
        return torch.bmm(self.XT * sr, D).mul_(self.a), ga

    def select(self, rows):
        self.X, self.XT, self.H, self.a = self.X[rows], self.XT[rows], self.H[rows], self.a[rows]
        self.Z = self.H if self.relu else self.Z[rows]          # ReLU: H is Z, clamped


class Fast2DBatchedNet:
    """The d = 2 arc step (:class:`numerics.fast2d.Arcs2D`) in the batched layout."""

    def __init__(self, problem: Problem, X: torch.Tensor):
        self.arcs = fast2d.Arcs2D(X, float(problem.activation.gamma))
        self.data_order = self.arcs.order  # f and s ⊙ r are in the points' angle order

    def forward(self, WT, a):
        return self.arcs.forward(WT, a[:, 0])[:, None, :]

    def backward(self, sr):
        gWT, ga = self.arcs.backward(sr[:, 0])
        return gWT, ga[:, None, :]

    def select(self, rows):
        self.arcs.select(rows)


# ----------------------------------------------------------------------------- the loop
def train_batched(problems: list[Problem], W0, a0, *, lr: float = 0.05, adaptive: bool = False,
                  eta: float = 0.1, lr_max: float | None = None, steps: int | None = None,
                  t_max: float | None = None, loss_below: float | None = None,
                  until_escape: bool = False, escape_level: float = ESCAPE_LEVEL,
                  escape_refine: float = 0.5, max_steps: int = 10_000_000,
                  record: str = "none", device=None, dtype=None,
                  schedule: Callable[[int], float] | None = None,
                  path: str = "auto") -> list[Run]:
    """Train B problems together from ``W0`` (B×m×d) and ``a0`` (B×m); one :class:`Run` each.
    Arguments as in :func:`numerics.engine.train` (full batch); ``t_max`` and the adaptive
    step parameter ``eta`` may also be one value per problem (a sequence of B numbers)."""
    # ---- set-up: rules, tensors, padded data, the path
    B = len(problems)
    if B == 0:
        raise InputError("train_batched needs at least one problem")
    acts = {str(p.activation) for p in problems}
    losses_ = {str(p.loss) for p in problems}
    ds = {p.d for p in problems}
    if len(acts) > 1 or len(losses_) > 1 or len(ds) > 1:
        raise InputError("batched problems must share activation, loss and dimension d; got "
                         f"{sorted(acts)}, {sorted(losses_)}, d in {sorted(ds)}")
    eta_of = None
    if np.ndim(eta) > 0:  # one step parameter per problem: it follows the working set
        eta_of = np.asarray(eta, dtype=float)
        if eta_of.shape != (B,):
            raise InputError(f"eta must be one number or {B} numbers (one per problem)")
        eta = eta_of
    step_rule = StepRule(lr, schedule, adaptive, eta, lr_max, escape_refine)
    if t_max is not None and np.ndim(t_max) > 0:  # one time limit per problem
        t_max = np.asarray(t_max, dtype=float)
        if t_max.shape != (B,):
            raise InputError(f"t_max must be one number or {B} numbers (one per problem)")
    stop_rule = StopRule(steps, t_max, loss_below, until_escape, escape_level, max_steps)
    t_lim = t_max if isinstance(t_max, np.ndarray) else None
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
    ns = [p.n for p in problems]
    nmax = max(ns)
    Xp, yp, sp_ = np.zeros((B, nmax, d)), np.zeros((B, nmax)), np.zeros((B, nmax))
    for b, p in enumerate(problems):  # padding: zero rows with zero sample weight
        Xp[b, :p.n], yp[b, :p.n], sp_[b, :p.n] = p.X, p.y, 1.0 / p.n
    X = torch.as_tensor(Xp, dtype=dt_, device=dev)
    y = torch.as_tensor(yp, dtype=dt_, device=dev)[:, None, :]    # data as (B, 1, n) rows
    s = torch.as_tensor(sp_, dtype=dt_, device=dev)[:, None, :]
    act, loss = problems[0].activation, problems[0].loss
    chosen = choose_path(path, act, d, B * nmax * W.shape[1])
    net = (Fast2DBatchedNet if chosen == "fast2d" else DenseBatchedNet)(problems[0], X)
    if net.data_order is not None:  # labels and sample weights in the path's order of points
        y, s = y.gather(2, net.data_order[:, None, :]), s.gather(2, net.data_order[:, None, :])
    ell, neg_dell = loss.torch_value, loss.torch_neg_derivative
    snap = record_grid(record)
    log_level = stop_rule.log_level
    refine_to = log_level if until_escape else None
    per_problem_dt = adaptive or t_max is not None
    config = dict(step_rule.config(), **stop_rule.config(), record=record, batched=B,
                  activation=str(act), loss=str(loss), device=str(dev),
                  dtype=str(dt_).replace("torch.", ""), path=chosen)

    # ---- results, filled in when a problem stops
    W_out, a_out = torch.empty_like(W), torch.empty_like(a)
    code_out = np.zeros(B, dtype=np.int64)
    k_of = np.zeros(B, dtype=np.int64)
    n_rec = np.zeros(B, dtype=np.int64)  # how many (time, loss) entries belong to the run
    t_out = np.zeros(B)
    escape_out = np.full(B, np.nan)
    hist = _History(B)
    snaps = _Snapshots(B)

    # ---- the working set: row c of every tensor/array below is problem idx[c]
    idx = np.arange(B)
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
        f = net.forward(WT, a)                                  # (B, 1, n)
        stats = torch.cat([ell(y, f), f * f], 1).mul_(s).sum(2)  # loss, ‖f‖²  (B, 2)
        loss_k, msq = stats.cpu().numpy().T                     # the one transfer per step

        # ---- per-problem bookkeeping, vectorised over the working set
        bad = ~np.isfinite(loss_k)                              # diverged at state k
        log_f = log_rms(msq)
        hist.add(t, loss_k)
        if snap(k):
            snaps.add(t, k, WT.transpose(1, 2).cpu().numpy().copy(),  # WT is reused
                      a[:, 0].cpu().numpy().copy(), ~bad)
        # escape: the first state with ‖f‖ >= level (interpolated linearly in log ‖f‖)
        new = (log_f >= log_level) & np.isnan(escape) & ~bad
        if new.any():
            escape = np.where(new, escape_crossing(t, log_f, prev_log_rms, prev_dt, log_level),
                              escape)
        code = stop_rule.reasons(k, t, loss_k, ~np.isnan(escape), bad)
        if code.any():
            # write the stopped problems out (a diverged one keeps state k-1)
            stop = code > 0
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
            snaps.flush(idx)
            if stop.all():
                break
            # compact the working set to the problems still running
            keep = np.nonzero(~stop)[0]
            kt = torch.as_tensor(keep, device=dev)
            idx, t, escape = idx[keep], t[keep], escape[keep]
            prev_log_rms, prev_dt, log_f = prev_log_rms[keep], prev_dt[keep], log_f[keep]
            WT, a, WT_good, a_good = WT[kt], a[kt], WT_good[kt], a_good[kt]
            y, s, f = y[kt], s[kt], f[kt]
            net.select(kt)
            if t_lim is not None:  # the per-problem time limits follow the working set
                stop_rule = replace(stop_rule, t_max=t_lim[idx])
            if eta_of is not None:  # and so do the per-problem step parameters
                step_rule = replace(step_rule, eta=eta_of[idx])

        # ---- backward (ascent directions gWT = −∂L/∂Wᵀ, ga = −∂L/∂a)
        gWT, ga = net.backward(s * neg_dell(y, f))

        # ---- per-problem step sizes
        rate = relative_rate(gWT, ga[:, 0], WT, a[:, 0], d_axis=1) if adaptive else None
        dt = stop_rule.clip(step_rule.size(k, rate, log_f, prev_log_rms, prev_dt, refine_to), t)

        # ---- update θ ← θ + dt·(−∇L) into the other buffer; the old state becomes state k-1
        if per_problem_dt:
            dtt = torch.as_tensor(dt, dtype=dt_, device=dev)[:, None, None]
            WT_new = torch.addcmul(WT, dtt, gWT, out=WT_good)
            a_new = torch.addcmul(a, dtt, ga, out=a_good)
        else:                                                   # one step for all: a scalar
            WT_new = torch.add(WT, gWT, alpha=float(dt[0]), out=WT_good)
            a_new = torch.add(a, ga, alpha=float(dt[0]), out=a_good)
        WT_good, a_good, WT, a = WT, a, WT_new, a_new
        t = t + dt
        prev_log_rms, prev_dt = log_f, dt
        k += 1

    runs = []
    for b in range(B):
        traj = None
        if record != "none":  # the snapshots, and the final state if it was not one
            traj = snaps.get(b, (float(t_out[b]), int(k_of[b]), W_out[b].cpu().numpy(),
                                 a_out[b].cpu().numpy()))
        times, losses = hist.get(b, n_rec[b])
        runs.append(make_run(W_out[b], a_out[b], times, losses, traj, escape_out[b],
                             int(k_of[b]), reason_name(code_out[b]),
                             dict(config, index=b, **({} if eta_of is None
                                                      else {"eta": float(eta_of[b])}))))
    return runs


class _Snapshots:
    """The recorded states ``(t, k, W, a)`` of every problem.  ``add`` keeps the working set's
    arrays as they are (one copy, no per-problem work per snapshot); ``flush`` (called before
    the working set changes) cuts them into per-problem columns, leaving out a problem's
    non-finite states; ``get`` returns a problem's trajectory as stacked arrays."""

    def __init__(self, B: int):
        self.rows = []
        self.cols = [[] for _ in range(B)]

    def add(self, t: np.ndarray, k: int, W: np.ndarray, a: np.ndarray, ok: np.ndarray) -> None:
        self.rows.append((t, k, W, a, ok))  # t is rebound every step; W, a are fresh copies

    def flush(self, idx: np.ndarray) -> None:
        if not self.rows:
            return
        T = np.stack([r[0] for r in self.rows])
        K = np.array([r[1] for r in self.rows])
        W, A = np.stack([r[2] for r in self.rows]), np.stack([r[3] for r in self.rows])
        OK = np.stack([r[4] for r in self.rows])
        for c, b in enumerate(idx):
            sel = OK[:, c]
            self.cols[b].append((T[sel, c], K[sel], W[sel, c], A[sel, c]))
        self.rows = []

    def get(self, b: int, final: tuple) -> tuple:
        """``(times, steps, W_traj, a_traj)`` of problem b, ending with the ``final`` state
        ``(t, k, W, a)`` unless the last snapshot is that step."""
        last = (np.array([final[0]]), np.array([final[1]]), final[2][None], final[3][None])
        cols = self.cols[b]
        if not cols:
            return last
        out = [np.concatenate([c[i] for c in cols]) for i in range(4)]
        if out[1].size and out[1][-1] == final[1]:
            return tuple(out)
        return tuple(np.concatenate([o, x]) for o, x in zip(out, last))


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
