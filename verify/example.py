"""One drawn example: a dataset with its activation and loss, plus the property's parameters.

An :class:`Example` is what a hypothesis strategy draws and what a counterexample file stores:
``.npz`` with ``X``, ``y``, ``activation``, ``loss``, ``property``, ``seed`` and ``params``
(JSON text) — plain arrays only, so it loads with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory.atomic import atomic_write_npz
from theory.errors import InputError
from theory.problem import Problem, load_xy


@dataclass
class Example:
    X: np.ndarray
    y: np.ndarray
    activation: str = "relu"
    loss: str = "logistic"
    seed: int = 0
    params: dict = field(default_factory=dict)
    family: str = "builtin"  # generic | clustered | xor | builtin

    def problem(self) -> Problem:
        return Problem.from_arrays(self.X, self.y, self.activation, self.loss)

    def describe(self) -> str:
        n, d = np.shape(self.X)
        extra = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in sorted(self.params.items()))
        return (f"n={n}, d={d}, {self.family}, activation={self.activation}, loss={self.loss}, "
                f"seed={self.seed}" + (f", {extra}" if extra else ""))

    def record(self) -> dict:
        """What the report lists for a drawn example."""
        n, d = np.shape(self.X)
        return {"n": int(n), "d": int(d), "activation": self.activation, "loss": self.loss,
                "family": self.family}

    def save(self, path: str | Path, prop: str = "") -> None:
        atomic_write_npz(path, X=np.asarray(self.X, dtype=float),
                         y=np.asarray(self.y, dtype=float), activation=np.str_(self.activation),
                         loss=np.str_(self.loss), property=np.str_(prop),
                         seed=np.int64(self.seed), params=np.str_(json.dumps(self.params)),
                         family=np.str_(self.family))

    @classmethod
    def load(cls, path: str | Path) -> tuple["Example", str]:
        """Read a counterexample file; returns the example and its property's name."""
        X, y = load_xy(path)
        with np.load(path, allow_pickle=False) as z:
            def get(k, default):
                return z[k].item() if k in z.files else default
            act, loss = str(get("activation", "relu")), str(get("loss", "logistic"))
            prop, seed = str(get("property", "")), int(get("seed", 0))
            family = str(get("family", "builtin"))
            try:
                params = json.loads(str(get("params", "{}")))
            except json.JSONDecodeError:
                raise InputError(f"{path}: 'params' is not valid JSON") from None
        return cls(X.astype(float), y.astype(float), act, loss, seed, params, family), prop
