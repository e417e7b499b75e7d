"""G on the circle, its predicted extrema, and where trained neurons hold their mass at escape.

Claim shown (docs/theory.md, "Mass concentration"): with small initialisation, at the escape time
the squared norm of neurons with a > 0 sits at local maxima of G with G > 0, that of neurons with a
< 0 at local minima with G < 0, whatever the data set.  Two data sets: skewed XOR α = π/3 and a
generic 2-D set (Gaussian points, random ±1 labels).  Training: m neurons, ``small_a`` init (|a| ≪
|w|, the theory's basin model) at scale ε, adaptive gradient descent until the output RMS reaches
the escape level (:mod:`numerics.engine`).  Panel per data set: :func:`paper_figures.landscape.
draw_landscape` (G, ▲/▼ predicted extrema, mass-weighted histogram of neuron angles). Reported: the
mass within ``match_tau_deg`` of a same-sign predicted extremum."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from numerics import measure
from numerics.batched import train_batched
from numerics.datasets import make_dataset
from numerics.init import init_weights
from theory.extrema import predict
from theory.problem import Problem

from .common import data_figure, write_data
from .landscape import draw_landscape

NAME = "g_landscape"

CONFIG = {
    "datasets": ["skewed_xor:n=64,alpha=1.0471975511965976,sigma=0.05,delta=0.1",
                 "generic:n=12,d=2"],
    "titles": ["skewed XOR, α = π/3", "generic 2-D data (n = 12)"],
    "data_seed": 3, "m": 1024, "init": "small_a", "init_scale": 1e-8, "init_seed": 0,
    "eta": 0.02, "lr_max": 1.0, "activation": "relu", "loss": "logistic",
    "match_tau_deg": 3.0, "dtype": "float64",
}


def quick_config() -> dict:
    c = copy.deepcopy(CONFIG)
    c.update(m=64)
    return c


def problems(config: dict) -> list[Problem]:
    return [Problem.from_arrays(*make_dataset(s, seed=config["data_seed"]),
                                config["activation"], config["loss"])
            for s in config["datasets"]]


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    """Train all data sets in one batched program until escape; write data, weights and the
    predicted extrema."""
    probs = problems(config)
    W0, a0 = init_weights(config["init"], config["m"], 2, config["init_scale"],
                          seed=config["init_seed"], device=device)
    B = len(probs)
    runs = train_batched(probs, W0.expand(B, -1, -1).clone(), a0.expand(B, -1).clone(),
                         adaptive=True, eta=config["eta"], lr=config["lr_max"],
                         lr_max=config["lr_max"], until_escape=True, device=device)
    out = {}
    for k, (p, run) in enumerate(zip(probs, runs)):
        pred = predict(p, basins=False)
        res = measure.match(run.W, run.a, pred, tau_deg=config["match_tau_deg"])
        out.update({f"X_{k}": p.X, f"y_{k}": p.y, f"W_{k}": run.W, f"a_{k}": run.a,
                    f"pred_dir_{k}": np.array([e.direction for e in pred.extrema]),
                    f"pred_sign_{k}": np.array([e.sign for e in pred.extrema]),
                    f"pred_G_{k}": np.array([e.G for e in pred.extrema]),
                    f"matched_mass_{k}": res.matched_mass,
                    f"escape_time_{k}": run.escape_time})
    return write_data(Path(out_dir) / f"{NAME}.npz", config, **out)


def _prediction(arr, k) -> list[dict]:
    return [{"direction": u, "sign": int(s), "G": float(g)}
            for u, s, g in zip(arr[f"pred_dir_{k}"], arr[f"pred_sign_{k}"], arr[f"pred_G_{k}"])]


def _draw(plt, config, arr):
    B = len(config["datasets"])
    fig, axs = plt.subplots(1, B, figsize=(6.0 * B, 3.8), squeeze=False)
    for k in range(B):
        p = Problem.from_arrays(arr[f"X_{k}"], arr[f"y_{k}"], config["activation"],
                                config["loss"])
        draw_landscape(axs[0, k], p, _prediction(arr, k), arr[f"W_{k}"], arr[f"a_{k}"],
                       title=f"{config['titles'][k]}: mass within {config['match_tau_deg']:g}° "
                             f"of a predicted extremum {float(arr[f'matched_mass_{k}']):.3f}")
    fig.suptitle(f"G(u) = (1/n) Σ c_i relu(⟨u, x_i⟩) and the trained mass at escape "
                 f"(m={config['m']}, ε={config['init_scale']:g})", fontsize=10)
    fig.tight_layout()
    return fig


def _summary(config, arr) -> dict:
    return {config["titles"][k]: {"matched_mass": float(arr[f"matched_mass_{k}"]),
                                  "escape_time": float(arr[f"escape_time_{k}"]),
                                  "n_extrema": int(len(arr[f"pred_sign_{k}"]))}
            for k in range(len(config["datasets"]))}


plot, summary = data_figure(NAME, _draw, _summary)
