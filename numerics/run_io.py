"""The result of one training run (:class:`Run`) and its ``RUN.npz`` file (DESIGN §4).

``RUN.npz`` holds ``W`` (m×d) and ``a`` (m) at the end, ``times`` and ``loss`` (one entry per
evaluated state, state 0 the initialisation, so ``len(times) == steps + 1``), and when a
trajectory was recorded ``traj_times`` (T), ``traj_steps`` (T), ``W_traj`` (T×m×d) and
``a_traj`` (T×m).  ``escape_time`` is NaN when the run did not escape; ``config`` is JSON text.
Files are written atomically and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory.atomic import atomic_write_npz
from theory.errors import InputError


@dataclass
class Run:
    """A finished (or stopped) training run.  Arrays are float64 numpy."""

    W: np.ndarray
    a: np.ndarray
    times: np.ndarray
    loss: np.ndarray
    traj_times: np.ndarray | None = None
    traj_steps: np.ndarray | None = None
    W_traj: np.ndarray | None = None
    a_traj: np.ndarray | None = None
    escape_time: float = float("nan")
    steps: int = 0
    stop_reason: str = ""
    config: dict = field(default_factory=dict)

    @property
    def escaped(self) -> bool:
        return bool(np.isfinite(self.escape_time))

    @property
    def time(self) -> float:
        """Gradient-flow time reached, ``t = Σ lr``."""
        return float(self.times[-1]) if len(self.times) else 0.0

    def save(self, path: str | Path) -> None:
        """Write ``RUN.npz`` atomically (keys: module docstring)."""
        arrays = dict(W=self.W, a=self.a, times=self.times, loss=self.loss,
                      escape_time=np.float64(self.escape_time), steps=np.int64(self.steps),
                      stop_reason=np.str_(self.stop_reason),
                      config=np.str_(json.dumps(self.config, default=str)))
        if self.W_traj is not None:
            arrays.update(traj_times=self.traj_times, traj_steps=self.traj_steps,
                          W_traj=self.W_traj, a_traj=self.a_traj)
        atomic_write_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Run":
        """Read a ``RUN.npz`` written by :meth:`save`.  Raises InputError if unreadable."""
        p = Path(path)
        if not p.exists():
            raise InputError(f"run file not found: {p}")
        try:
            with np.load(p, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (ValueError, OSError, EOFError) as exc:
            raise InputError(f"{p}: not a readable RUN.npz ({exc})") from None
        missing = [k for k in ("W", "a", "times", "loss") if k not in data]
        if missing:
            raise InputError(f"{p}: missing array {missing[0]!r}; not a RUN.npz")
        return cls(W=data["W"], a=data["a"], times=data["times"], loss=data["loss"],
                   traj_times=data.get("traj_times"), traj_steps=data.get("traj_steps"),
                   W_traj=data.get("W_traj"), a_traj=data.get("a_traj"),
                   escape_time=float(data.get("escape_time", np.nan)),
                   steps=int(data.get("steps", len(data["times"]) - 1)),
                   stop_reason=str(data.get("stop_reason", "")),
                   config=json.loads(str(data["config"])) if "config" in data else {})
