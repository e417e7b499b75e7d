"""What every training engine shares: the step rule, the stop rule, escape, and the run record.

The sequential engine (:func:`numerics.engine.train`) and the batched one
(:func:`numerics.batched.train_batched`) differ only in how they compute the network's output
and gradient; everything that decides *how far* to step, *when* to stop and *what* to report is
here, written once, vectorised over problems (numpy arrays, or plain floats for one run).

Step rule (:class:`StepRule`):

* constant ``lr``, or ``schedule(step) -> lr`` (e.g. :func:`figure1_schedule`);
* ``adaptive``: the early phase is scale-free, so the step is ``dt = η / ρ`` with the relative
  rate ``ρ = max_j |∇_{θ_j} L| / |θ_j|`` (θ_j = (w_j, a_j), :func:`relative_rate`): every
  neuron changes by at most a fraction η of its size per step, and the number of steps to
  escape grows like ``log(1/ε)/η`` instead of ``1/(ε·lr)``; ``dt`` is capped by ``lr_max``
  (default ``lr``) for the late phase.  When stopping at escape, the step is also capped by
  ``κ·T_rem``, ``T_rem`` the time left to escape extrapolated from the current growth of the
  output (``κ = escape_refine``, floor ``η/64 / ρ``): steps shrink geometrically into the
  escape event, which pins the escape time and shrinks the Euler chattering of neurons sitting
  on ReLU kinks (whose angular amplitude is of order η) before the final state is taken.  Like
  any Euler step, a step of size dt grows a neuron by ``1 + λ dt`` instead of ``e^{λ dt}``: the
  discrete growth rate is ``λ(1 − λ dt/2 + …)``, a relative bias of at most about η/2 in rates
  and escape times (use η ≈ 0.02 when measuring them to 1 %).
* with a time limit ``t_max`` the last step is shortened to land on it.

Stop rule (:class:`StopRule`); the first reason met, in the order of :class:`Stop`, is the
run's ``stop_reason``: the loss became non-finite (``diverged``), escape (``until_escape``),
``steps`` steps, time ``t_max``, loss ``≤ loss_below``, ``max_steps``.

Escape (:func:`escape_crossing`): the first evaluated state whose output RMS over the data,
``‖f‖ = (Σ_i s_i f_i²)^{1/2}``, reaches ``escape_level``.  In the early phase
``‖f‖ ∝ ε² e^{2 λ_max t}``, so ``t* = log(1/ε)/λ_max + O(1)``; the reported time is interpolated
linearly in ``log ‖f‖`` between the two states that bracket the level.  The engines' default
level is the absolute :data:`ESCAPE_LEVEL` = 0.1 (order one against ±1 labels); the package's
experiments use a level relative to the targets, :func:`numerics.recipes.escape_level`.

Divergence is reported one way: the run stops with ``stop_reason = "diverged"`` and keeps its
last finite state (state k − 1 when the loss of state k is not finite).  :func:`numerics.engine.
train` then raises :class:`TrainingDiverged` carrying that run (unless asked to return it);
:func:`numerics.batched.train_batched` returns it among the others, which go on.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from theory.errors import InputError

from .run_io import Run

ESCAPE_LEVEL = 0.1


# The rules below are written once for one run (Python floats, as the sequential engine calls
# them: plain float arithmetic, no numpy overhead per step) and for B runs (numpy arrays, as
# the batched engine calls them); these helpers pick the matching operation.
def _where(cond, a, b):
    if isinstance(cond, np.ndarray):
        return np.where(cond, a, b)
    return a if cond else b


def _minimum(a, b):
    return np.minimum(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) \
        else min(a, b)


def _maximum(a, b):
    return np.maximum(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) \
        else max(a, b)


def _isnan(x):
    return np.isnan(x) if isinstance(x, np.ndarray) else math.isnan(x)


def _div(a, b):
    """``a / b`` with IEEE results for b = 0 (±inf or NaN) for floats as for arrays."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.true_divide(a, b)
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * \
            math.copysign(1.0, b)
    return a / b


# ----------------------------------------------------------------------------- step rule
def figure1_schedule(epoch: int) -> float:
    """The paper's Figure 1 learning rate: ``2⁻⁷`` times ``2⁹`` for epochs < 12, 1 until 8192,
    ``1 + 32(e/8192 − 1)`` until 16384, then ``1 + 32·2^((e − 16384)/512)``."""
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


#: Learning-rate schedules by name (a config can name one: ``{"schedule": "figure1"}``).
SCHEDULES = {"figure1": figure1_schedule}


def _positive(value, name: str) -> None:
    if isinstance(value, np.ndarray):  # one value per problem (batched engine)
        if value.ndim == 1 and value.size and np.all(np.isfinite(value) & (value > 0)):
            return
        raise InputError(f"{name} must be positive finite numbers, got {value!r}")
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive finite number, got {value!r}")


@dataclass(frozen=True)
class StepRule:
    """How far to step (module docstring): constant ``lr``, ``schedule``, or ``adaptive``."""

    lr: float = 0.05
    schedule: Callable[[int], float] | None = None
    adaptive: bool = False
    eta: float = 0.1
    lr_max: float | None = None
    escape_refine: float = 0.5

    def __post_init__(self):
        _positive(self.lr, "lr")
        if self.adaptive:
            _positive(self.eta, "eta")
        if self.lr_max is not None:
            _positive(self.lr_max, "lr_max")

    @property
    def cap(self) -> float:
        """The largest adaptive step (``lr_max``, default ``lr``)."""
        return float(self.lr_max) if self.lr_max is not None else float(self.lr)

    def size(self, k: int, rate, log_rms, prev_log_rms, prev_dt, log_level: float | None):
        """The step ``dt`` from state ``k`` (a float, or one per problem).  ``rate``:
        :func:`relative_rate` (adaptive only); ``log_level``: refine into escape at that
        log-level (None: don't); ``prev_*``: the previous step's log ‖f‖ and dt (NaN before the
        first step)."""
        if not self.adaptive:
            lr = float(self.schedule(k)) if self.schedule is not None else float(self.lr)
            return np.full(np.shape(log_rms), lr) if isinstance(log_rms, np.ndarray) else lr
        cap = self.cap
        dt = _where(rate > 0, _minimum(_div(self.eta, rate), cap), cap)
        if log_level is not None and self.escape_refine > 0:
            growth = _div(log_rms - prev_log_rms, prev_dt)
            floor = _maximum(self.escape_refine * _div(log_level - log_rms, growth),
                             _div(self.eta / 64, rate))
            dt = _where((growth > 0) & (growth < math.inf), _minimum(dt, floor), dt)
        return dt

    def config(self) -> dict:
        eta = self.eta.tolist() if isinstance(self.eta, np.ndarray) else self.eta
        return dict(lr=self.lr, adaptive=self.adaptive, eta=eta, lr_max=self.lr_max,
                    escape_refine=self.escape_refine,
                    schedule=getattr(self.schedule, "__name__", None))


def relative_rate(gW: torch.Tensor, ga: torch.Tensor, W: torch.Tensor, a: torch.Tensor,
                  d_axis: int) -> np.ndarray:
    """``ρ = max_j (|∂L/∂w_j|² + |∂L/∂a_j|²)^{1/2} / (|w_j|² + a_j²)^{1/2}`` per problem;
    ``d_axis`` is the axis of ``W`` holding the d coordinates, the neurons are the last axis
    of ``a`` (numpy array, one entry per leading index of ``a``)."""
    rho = torch.sqrt(((gW * gW).sum(d_axis) + ga * ga) / ((W * W).sum(d_axis) + a * a))
    rate = torch.amax(rho, dim=-1)
    return rate.item() if rate.ndim == 0 else rate.cpu().numpy()


# ----------------------------------------------------------------------------- stop rule
class Stop(enum.Enum):
    """Why a run stopped, in order of precedence (the first one met wins)."""

    DIVERGED = "diverged"
    ESCAPE = "escape"
    STEPS = "steps"
    TIME = "time"
    LOSS = "loss"
    MAX_STEPS = "max_steps"


STOP_ORDER = tuple(Stop)


@dataclass(frozen=True)
class StopRule:
    """When to stop (module docstring).  At least one of ``steps``, ``t_max``, ``loss_below``
    and ``until_escape`` must be given; ``max_steps`` is a safety net."""

    steps: int | None = None
    t_max: float | None = None
    loss_below: float | None = None
    until_escape: bool = False
    escape_level: float = ESCAPE_LEVEL
    max_steps: int = 10_000_000

    def __post_init__(self):
        _positive(self.escape_level, "escape level")
        if self.t_max is not None:
            _positive(self.t_max, "t_max")
        if self.steps is not None and (not isinstance(self.steps, (int, np.integer))
                                       or self.steps < 0):
            raise InputError(f"steps must be a non-negative integer, got {self.steps!r}")
        if (self.steps is None and self.t_max is None and self.loss_below is None
                and not self.until_escape):
            raise InputError("no stop rule: give steps, t_max, loss_below or until_escape")

    @property
    def log_level(self) -> float:
        return math.log(self.escape_level)

    def clip(self, dt, t):
        """Shorten the steps that would overshoot ``t_max``."""
        return dt if self.t_max is None else _minimum(dt, self.t_max - t)

    def reasons(self, k: int, t, loss, escaped, diverged):
        """0 while running, else ``1 + i`` for ``STOP_ORDER[i]``, the first rule met at state
        ``k`` (time ``t``, loss, escaped yet, loss not finite); an int, or one per problem."""
        conds = (
            diverged,
            escaped & self.until_escape,
            self.steps is not None and k >= self.steps,
            self.t_max is not None and t >= self.t_max * (1 - 1e-15),  # rounding of Σ dt
            self.loss_below is not None and loss <= self.loss_below,
            k >= self.max_steps,
        )
        code = np.zeros(np.shape(t), dtype=np.int64) if isinstance(t, np.ndarray) else 0
        for i in range(len(conds) - 1, -1, -1):  # the first rule in the order wins
            code = _where(conds[i], i + 1, code)
        return code

    def config(self) -> dict:
        t_max = self.t_max.tolist() if isinstance(self.t_max, np.ndarray) else self.t_max
        return dict(steps=self.steps, t_max=t_max, loss_below=self.loss_below,
                    until_escape=self.until_escape, escape_level=self.escape_level,
                    max_steps=self.max_steps)


def reason_name(code: int) -> str:
    """The ``stop_reason`` string of a code from :meth:`StopRule.reasons` ("" = running)."""
    return STOP_ORDER[code - 1].value if code > 0 else ""


# ----------------------------------------------------------------------------- escape
def log_rms(msq):
    """``log ‖f‖`` from the mean square ``‖f‖²`` (floored at 1e-300: f = 0 has no log)."""
    if isinstance(msq, np.ndarray):
        return 0.5 * np.log(np.maximum(msq, 1e-300))
    return 0.5 * math.log(max(msq, 1e-300))


def escape_crossing(t, log_rms_now, prev_log_rms, prev_dt, log_level):
    """The escape time of a state at time ``t`` whose ``log ‖f‖`` has just reached
    ``log_level``: linear interpolation in ``log ‖f‖`` back to the previous state (``dt``
    earlier), or ``t`` itself when there is none (NaN) or ``log ‖f‖`` did not change."""
    back = _div(prev_dt * (log_rms_now - log_level), log_rms_now - prev_log_rms)
    first = _isnan(prev_log_rms) | (log_rms_now == prev_log_rms)
    return _where(first, t, t - back)


# ----------------------------------------------------------------------------- records
def record_grid(spec: str) -> Callable[[int], bool]:
    """``"none" | "log" | "every:K"`` -> predicate on the step index: ``"log"`` marks steps
    0, 1, 2, ... growing geometrically by 10 %, ``"every:K"`` every K-th step."""
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


def make_run(W, a, times, losses, snaps, escape_time, steps, reason, config) -> Run:
    """A :class:`Run` from final weights (tensors or arrays), the per-step history and the
    snapshots: a list ``[(t, k, W, a), ...]`` or, stacked, ``(times, steps, W_traj,
    a_traj)``."""
    run = Run(W=np.asarray(_cpu(W), dtype=np.float64).copy(),
              a=np.asarray(_cpu(a), dtype=np.float64).copy(),
              times=np.asarray(times, dtype=np.float64), loss=np.asarray(losses, np.float64),
              escape_time=float(escape_time), steps=int(steps), stop_reason=reason,
              config=config)
    if isinstance(snaps, tuple):
        run.traj_times = np.asarray(snaps[0], dtype=np.float64)
        run.traj_steps = np.asarray(snaps[1], dtype=np.int64)
        run.W_traj = np.asarray(snaps[2], dtype=np.float64)
        run.a_traj = np.asarray(snaps[3], dtype=np.float64)
    elif snaps:
        run.traj_times = np.array([s[0] for s in snaps], dtype=np.float64)
        run.traj_steps = np.array([s[1] for s in snaps], dtype=np.int64)
        run.W_traj = np.stack([s[2] for s in snaps]).astype(np.float64)
        run.a_traj = np.stack([s[3] for s in snaps]).astype(np.float64)
    return run


def _cpu(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


class TrainingDiverged(RuntimeError):
    """The loss became non-finite at ``step``; ``run`` holds the last good state
    (``stop_reason = "diverged"``)."""

    def __init__(self, step: int, run: Run):
        super().__init__(f"training diverged: non-finite loss at step {step} "
                         f"(t = {run.time:.6g}); lower the step size")
        self.step = step
        self.run = run
