"""The result of one training run (:class:`Run`) and its ``RUN.npz`` file (docs/cli.md).

``RUN.npz`` holds ``W`` (m×d) and ``a`` (m) at the end, ``times`` and ``loss`` (one entry per
evaluated state, state 0 the initialisation, so ``len(times) == steps + 1``), and when a
trajectory was recorded ``traj_times`` (T), ``traj_steps`` (T), ``W_traj`` (T×m×d) and
``a_traj`` (T×m).  ``escape_time`` is NaN when the run did not escape; ``config`` is JSON text.

The data the run was trained on travel with it when known (:meth:`Run.attach_problem`): ``X``
(n×d) and ``y`` (n, labels as the loss uses them, ±1 for classification), ``activation`` and
``loss_function`` (text, as the CLI spells them) — so a ``RUN.npz`` is also a data file for
``--data``, and :meth:`Run.problem` rebuilds the :class:`theory.problem.Problem`.  Files written
before this carry no data; they stay readable (``problem()`` is then ``None``).

``provenance`` is JSON text from :func:`numerics.provenance.collect` (package version, git
commit, library versions, device, dtype, seeds, threads, command line); :meth:`Run.save` fills
it in when the run has none.

Files are written atomically and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory.atomic import atomic_write_bytes
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
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    activation: str | None = None
    loss_function: str | None = None
    provenance: dict = field(default_factory=dict)

    def attach_problem(self, problem) -> "Run":
        """Record the data, activation and loss the run was trained on (returns ``self``)."""
        self.X = np.asarray(problem.X, dtype=np.float64)
        self.y = np.asarray(problem.y, dtype=np.float64)
        self.activation = str(problem.activation)
        self.loss_function = str(problem.loss)
        return self

    def problem(self):
        """The :class:`theory.problem.Problem` the run was trained on, or ``None`` when the
        file carries no data (written before data were stored)."""
        if self.X is None or self.y is None:
            return None
        from theory.problem import Problem

        act = self.activation or self.config.get("activation") or "relu"
        loss = self.loss_function or self.config.get("loss") or "logistic"
        return Problem.from_arrays(self.X, self.y, act, loss)

    @property
    def escaped(self) -> bool:
        return bool(np.isfinite(self.escape_time))

    @property
    def time(self) -> float:
        """Gradient-flow time reached, ``t = Σ lr``."""
        return float(self.times[-1]) if len(self.times) else 0.0

    def save(self, path: str | Path) -> None:
        """Write ``RUN.npz`` atomically (keys: module docstring)."""
        atomic_write_bytes(path, self.to_bytes())

    def to_bytes(self) -> bytes:
        """The ``RUN.npz`` file's bytes (provenance filled in if missing)."""
        if not self.provenance:
            from .provenance import collect

            cfg = self.config
            self.provenance = collect(device=cfg.get("device"), dtype=cfg.get("dtype"),
                                      seeds={k: cfg[k] for k in ("seed", "data_seed",
                                                                 "init_seed") if k in cfg})
        arrays = dict(W=self.W, a=self.a, times=self.times, loss=self.loss,
                      escape_time=np.float64(self.escape_time), steps=np.int64(self.steps),
                      stop_reason=np.str_(self.stop_reason),
                      config=np.str_(json.dumps(self.config, default=str)),
                      provenance=np.str_(json.dumps(self.provenance, default=str)))
        if self.W_traj is not None:
            arrays.update(traj_times=self.traj_times, traj_steps=self.traj_steps,
                          W_traj=self.W_traj, a_traj=self.a_traj)
        if self.X is not None:
            arrays.update(X=self.X, y=self.y, activation=np.str_(self.activation),
                          loss_function=np.str_(self.loss_function))
        buf = io.BytesIO()
        np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
        return buf.getvalue()

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
        has_data = "X" in data and "y" in data
        return cls(W=data["W"], a=data["a"], times=data["times"], loss=data["loss"],
                   traj_times=data.get("traj_times"), traj_steps=data.get("traj_steps"),
                   W_traj=data.get("W_traj"), a_traj=data.get("a_traj"),
                   escape_time=float(data.get("escape_time", np.nan)),
                   steps=int(data.get("steps", len(data["times"]) - 1)),
                   stop_reason=str(data.get("stop_reason", "")),
                   config=_json(data, "config", p),
                   X=data["X"] if has_data else None, y=data["y"] if has_data else None,
                   activation=str(data["activation"]) if "activation" in data else None,
                   loss_function=(str(data["loss_function"]) if "loss_function" in data
                                  else None),
                   provenance=_json(data, "provenance", p))


def _json(data: dict, key: str, path: Path) -> dict:
    if key not in data:
        return {}
    try:
        obj = json.loads(str(data[key]))
    except json.JSONDecodeError:
        raise InputError(f"{path}: array {key!r} is not JSON text; not a RUN.npz") from None
    return obj if isinstance(obj, dict) else {}
