"""Figure 2: a wide network on skewed XOR; neurons end on the predicted directions.

Settings (the paper's replication files; docs/theory.md, "The paper's experiments"):
d = 2, n = 2^9, m = 2^12, skewed XOR with μ = 1, δ = 0.2, σ = 0.1/√d (class −1 at ±μ e1,
class +1 at ±μ(cos α, sin α), noise shifted and reflected), α ∈ {π/2, π/3}; PyTorch's default
``nn.Linear`` init (no bias) times 2^-7; logistic loss; constant lr 2^-4; 2^13 full-batch
epochs; float64.

Claim shown: the predicted directions are those of the SAMPLED data set (``theory.extrema.
predict`` on the very data trained on, not the noiseless closed form), and the neurons holding
the mass sit on them.  Reported number: the 95 % quantile of each neuron's angle from the
nearest same-sign predicted direction, **mass-weighted** (the smallest angle within which 95 %
of the squared norm lies; light neurons, suppressed by the small initialisation, do not count
in proportion to their negligible mass).  The unweighted quantile over neurons is stored too.

Panels per α: the network scale ‖θ‖ = (Σ_j |w_j|² + a_j²)^{1/2} over epochs (log scale); the
final angle of each neuron against its share of the squared norm (log scale), with the
predicted directions as vertical lines.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np

from numerics import measure
from numerics.datasets import skewed_xor
from numerics.engine import train
from numerics.init import init_weights
from theory.extrema import predict
from theory.problem import Problem

from .common import (
    data_figure,
    label_axes,
    unit_angle_deg,
    weighted_quantile,
    write_data,
)

NAME = "figure2"

CONFIG = {
    "n": 2 ** 9, "m": 2 ** 12, "d": 2, "mu": 1.0, "delta": 0.2, "sigma": 0.1 / math.sqrt(2),
    "symmetric": 1, "alphas": [math.pi / 2, math.pi / 3], "data_seed": 0, "init_seed": 0,
    "init": "torch_default", "init_scale": 2.0 ** -7, "lr": 2.0 ** -4, "epochs": 2 ** 13,
    "loss": "logistic", "activation": "relu", "record_every": 32, "quantile": 0.95,
    "dtype": "float64",
}


def quick_config() -> dict:
    """Smoke-test size: fewer points, neurons and epochs (same code path)."""
    c = copy.deepcopy(CONFIG)
    c.update(n=64, m=256, epochs=2 ** 10)
    return c


def make_problem(config: dict, alpha: float) -> Problem:
    X, y = skewed_xor(n=config["n"], mu=config["mu"], alpha=alpha, sigma=config["sigma"],
                      delta=config["delta"], d=config["d"], symmetric=config["symmetric"],
                      seed=config["data_seed"])
    return Problem.from_arrays(X, y, config["activation"], config["loss"])


def angle_deviation(W, a, prediction) -> np.ndarray:
    """Each neuron's angle (degrees) from the nearest predicted direction of its own sign."""
    return measure.match(W, a, prediction).angles_deg


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    """Train one network per α; write scale curves, final weights, predictions, quantiles."""
    out = {}
    for k, alpha in enumerate(config["alphas"]):
        problem = make_problem(config, alpha)
        pred = predict(problem, basins=False)
        W0, a0 = init_weights(config["init"], config["m"], config["d"], config["init_scale"],
                              seed=config["init_seed"], device=device)
        run = train(problem, W0, a0, lr=config["lr"], steps=config["epochs"],
                    record=f"every:{config['record_every']}", device=device,
                    progress=bool(progress))
        dev = angle_deviation(run.W, run.a, pred)
        mu = measure.mass(run.W, run.a)
        out[f"epochs_{k}"] = run.traj_steps
        out[f"scale_{k}"] = np.sqrt(np.sum(run.W_traj ** 2, axis=(1, 2))
                                    + np.sum(run.a_traj ** 2, axis=1))
        out[f"W_{k}"], out[f"a_{k}"] = run.W, run.a
        out[f"pred_dir_{k}"] = np.array([e.direction for e in pred.extrema])
        out[f"pred_sign_{k}"] = np.array([e.sign for e in pred.extrema])
        out[f"pred_G_{k}"] = np.array([e.G for e in pred.extrema])
        out[f"q_mass_{k}"] = weighted_quantile(dev, mu, config["quantile"])
        out[f"q_neurons_{k}"] = float(np.quantile(dev, config["quantile"]))
        out[f"loss_{k}"] = run.loss
    return write_data(Path(out_dir) / f"{NAME}.npz", config, **out)


def _draw(plt, config, arr, width=10.0):
    A = len(config["alphas"])
    fig, axs = plt.subplots(A, 2, figsize=(width, 3.2 * A), squeeze=False)
    for k, alpha in enumerate(config["alphas"]):
        ax = axs[k, 0]
        ax.plot(arr[f"epochs_{k}"], arr[f"scale_{k}"], color="black")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("network scale ‖θ‖")
        ax.set_title(f"α = {math.degrees(alpha):.0f}°: scale over training", fontsize=9)
        ax = axs[k, 1]
        W, a = arr[f"W_{k}"], arr[f"a_{k}"]
        th = np.array([unit_angle_deg(u) for u in W])
        mu = measure.mass(W, a)
        for s, col, lab in ((1, "tab:red", "neuron, a > 0"), (-1, "tab:blue", "neuron, a < 0")):
            sel = np.sign(a) == s
            ax.scatter(th[sel], mu[sel], s=4, color=col, alpha=0.6, label=lab)
        seen = set()
        for u, s in zip(arr[f"pred_dir_{k}"], arr[f"pred_sign_{k}"]):
            ax.axvline(unit_angle_deg(u), color="tab:red" if s > 0 else "tab:blue", ls="--",
                       lw=0.8, label=None if s in seen else
                       f"predicted {'max' if s > 0 else 'min'} of G (sampled data)")
            seen.add(s)
        ax.set_yscale("log")
        ax.set_xlim(-180, 180)
        ax.set_xticks(np.arange(-180, 181, 45))
        q = float(arr[f"q_mass_{k}"])
        label_axes(ax, "final angle of w_j (degrees)", "share of squared norm",
                   f"α = {math.degrees(alpha):.0f}°: 95% mass-weighted angle deviation {q:.2f}°",
                   loc="lower right")
    fig.suptitle(f"Figure 2: m={config['m']} neurons, skewed XOR n={config['n']}, init "
                 f"torch default × 2^-7, lr 2^-4, {config['epochs']} epochs", fontsize=10)
    fig.tight_layout()
    return fig


def _summary(config, arr) -> dict:
    """95 % angle quantiles (mass-weighted and over neurons) and predicted angles per α."""
    out = {}
    for k, alpha in enumerate(config["alphas"]):
        out[f"alpha_{math.degrees(alpha):.0f}deg"] = {
            "q95_mass_weighted_deg": float(arr[f"q_mass_{k}"]),
            "q95_over_neurons_deg": float(arr[f"q_neurons_{k}"]),
            "predicted_angles_deg": [round(unit_angle_deg(u), 3) for u in arr[f"pred_dir_{k}"]],
            "final_loss": float(arr[f"loss_{k}"][-1]),
        }
    return out


plot, summary = data_figure(NAME, _draw, _summary)
