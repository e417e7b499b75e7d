"""The package's experiment recipes: how small-initialised networks are trained to escape.

One place for the settings that the verification properties, the claim check and the figures
share:

* initial weights from :func:`numerics.init.init_weights` (``small_a`` by default: isotropic
  directions and ``|a| ≪ |w|``, the basin model of ``theory.basins``);
* the adaptive early-phase step of :mod:`numerics.stepping` with ``η = ETA`` and the late-phase
  cap ``lr_max = 1/rate_bound`` (:func:`lr_max`): the early phase is scale-free and its rates
  are at most :func:`rate_bound`, so the step never exceeds the fastest growth's time scale;
* stopped at escape, at the level :func:`escape_level` (1 % of the targets' RMS).

``ETA = 0.02``: every neuron changes by at most 2 % of its size per step.  Neurons sitting on
an attracting ReLU kink chatter across it in a band of angular width about η·Γ, where
Γ = (gradient jump across the kink)/λ is O(1) on the data drawn here (see ``theory.reduced``);
0.02 rad ≈ 1.1°, below the 2° matching tolerance used by the properties.  The Euler bias of
rates and escape times is about η/2 = 1 % (:mod:`numerics.stepping`).
"""

from __future__ import annotations

import numpy as np
import torch

from .batched import train_batched
from .engine import train
from .init import init_weights

ETA = 0.02
ESCAPE_FRACTION = 0.01
MAX_STEPS = 200_000


def rate_bound(problem) -> float:
    """The early phase's rate scale, :attr:`theory.problem.Problem.G_rate_bound`
    (``(1/n) Σ |c_i||x_i| max(1, |γ|)``, an upper bound on every growth rate |G(u*)|)."""
    return problem.G_rate_bound


def lr_max(problem) -> float:
    """The adaptive step's cap, ``1/rate_bound``."""
    return 1.0 / rate_bound(problem)


def escape_level(problem) -> float:
    """The end of the early phase: the output's RMS reaches 1 % of the targets' RMS (0.01 for
    ±1 labels).  The early-phase system neglects terms of relative size |f|/|y|, so at this
    level they perturb the neurons' last moves by about 1 %; at an absolute level such as the
    engines' default 0.1, small square-loss targets (or targets equal to 0, whose c_i vanish
    while their residual −f_i does not) would already be in the fitting phase."""
    return ESCAPE_FRACTION * float(np.sqrt(np.mean(np.asarray(problem.y) ** 2)))


def escape_kwargs(problem, eta: float = ETA) -> dict:
    """The step and stop rules of the recipe, as keywords of :func:`numerics.engine.train`
    and :func:`numerics.batched.train_batched`."""
    return dict(adaptive=True, eta=eta, lr_max=lr_max(problem), until_escape=True,
                escape_level=escape_level(problem), max_steps=MAX_STEPS)


def train_to_escape(problem, m: int, eps: float, seed: int, *, init: str = "small_a",
                    eta: float = ETA, record: str = "none", device: str = "cpu"):
    """One run from ``init_weights(init, m, d, eps, seed)`` until escape (adaptive steps)."""
    W, a = init_weights(init, m, problem.d, eps, seed)
    return train(problem, W, a, record=record, progress=False, device=device,
                 **escape_kwargs(problem, eta))


def train_eps_sweep(problem, m: int, epss, seed: int, *, init: str = "small_a",
                    eta: float = ETA, record: str = "none", device: str = "cpu"):
    """The same directions (same seed) at several scales ε, in one batched program."""
    inits = [init_weights(init, m, problem.d, float(e), seed) for e in epss]
    return train_batched([problem] * len(inits), torch.stack([w for w, _ in inits]),
                         torch.stack([a for _, a in inits]), record=record, device=device,
                         **escape_kwargs(problem, eta))


def resolving_eta(directions, signs, margins=None, eta: float = ETA) -> float:
    """The adaptive step parameter at which gradient descent resolves a set of extrema.

    Under the adaptive rule a neuron moves by at most √2·η rad per step.  Gradient flow's
    basins are the theory's; a discrete step resolves them only if it cannot hop over a basin
    edge.  Where the edges are known (``margins[k]``: the angle from extremum k to its basin's
    nearest edge, exact on the circle, :func:`theory.basins.basin_margins_2d`) the step is at
    most half the smallest margin, √2·η ≤ m_min/2; otherwise an edge lies between two extrema
    of the same sign θ apart, and √2·η ≤ θ_min/4.  Never above ``eta``."""
    U = np.asarray(directions, dtype=float)
    s = np.asarray(signs)
    best = np.inf
    if margins is not None and len(margins):
        eta = min(eta, float(np.min(margins)) / (2 * np.sqrt(2)))
    for i in range(len(U)):
        same = (s == s[i]) & (np.arange(len(U)) > i)
        if same.any():
            cos = np.clip(U[same] @ U[i], -1.0, 1.0)
            best = min(best, float(np.min(np.arccos(cos))))
    return float(min(eta, best / (4 * np.sqrt(2)))) if np.isfinite(best) else float(eta)
