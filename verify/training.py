"""Training as the properties use it: small-initialised networks trained until escape.

Thin wrappers over :mod:`numerics` so every property trains the same way: initial weights from
:func:`numerics.init.init_weights` (``small_a`` by default: isotropic directions and
``|a| ≪ |w|``, the basin model of ``theory.basins``), the adaptive early-phase step of
:func:`numerics.engine.train` with ``η = ETA``, stopped at escape (:func:`escape_level`).

``ETA = 0.02``: every neuron changes by at most 2 % of its size per step.  Neurons sitting on
an attracting ReLU kink chatter across it in a band of angular width about η·Γ, where
Γ = (gradient jump across the kink)/λ is O(1) on the data drawn here (see
``theory.reduced``); 0.02 rad ≈ 1.1°, below the 2° matching tolerance used by the properties.
"""

from __future__ import annotations

import numpy as np

from numerics.batched import train_batched
from numerics.engine import train
from numerics.init import init_weights

ETA = 0.02


def rate_bound(problem) -> float:
    """The early phase's rate scale, :attr:`theory.problem.Problem.G_rate_bound`."""
    return problem.G_rate_bound


ESCAPE_FRACTION = 0.01


def escape_level(problem) -> float:
    """The suite's end of the early phase: the output's RMS reaches 1 % of the targets' RMS
    (0.01 for ±1 labels).  The early-phase system neglects terms of relative size |f|/|y|, so
    at this level they perturb the neurons' last moves by about 1 %; at an absolute level such
    as the engine's default 0.1, small square-loss targets (or targets equal to 0, whose c_i
    vanish while their residual −f_i does not) would already be in the fitting phase."""
    return ESCAPE_FRACTION * float(np.sqrt(np.mean(np.asarray(problem.y) ** 2)))


def train_to_escape(problem, m: int, eps: float, seed: int, *, init: str = "small_a",
                    eta: float = ETA, record: str = "none", device: str = "cpu"):
    """One run from ``init_weights(init, m, d, eps, seed)`` until escape (adaptive steps)."""
    W, a = init_weights(init, m, problem.d, eps, seed)
    lr_max = 1.0 / rate_bound(problem)
    return train(problem, W, a, adaptive=True, eta=eta, lr_max=lr_max, until_escape=True,
                 escape_level=escape_level(problem), record=record, progress=False,
                 device=device, max_steps=200_000)


def train_eps_sweep(problem, m: int, epss, seed: int, *, init: str = "small_a",
                    eta: float = ETA, record: str = "none", device: str = "cpu"):
    """The same directions (same seed) at several scales ε, in one batched program."""
    Ws, As = [], []
    for e in epss:
        W, a = init_weights(init, m, problem.d, float(e), seed)
        Ws.append(W)
        As.append(a)
    import torch

    lr_max = 1.0 / rate_bound(problem)
    return train_batched([problem] * len(epss), torch.stack(Ws), torch.stack(As),
                         adaptive=True, eta=eta, lr_max=lr_max, until_escape=True,
                         escape_level=escape_level(problem), record=record, device=device,
                         max_steps=200_000)
