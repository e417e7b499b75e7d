"""Escape time against log(1/ε): slope 1/λ_max.

Claim shown: the output becomes order one at ``t*(ε) = log(1/ε)/λ_max + O(1)``, λ_max the
largest growth rate |G(u*)| over the predicted extrema.  For each data set, the same initial
directions (``small_a`` init, one seed) are scaled by each ε of the grid and trained with the
package's escape recipe (:func:`numerics.recipes.train_eps_sweep`: adaptive step with
η = :data:`CONFIG` ``["eta"]`` refined into the escape event, capped at 1/rate_bound) in one
batched program; ``t*`` is the first time the output RMS reaches the recipe's escape level,
1 % of the targets' RMS.
The least-squares slope of ``t*`` against ``log(1/ε)`` is compared with ``1/λ_max``; the Euler
discretisation biases rates by about η/2 relative (engine docstring), so with η = 0.02 the two
should agree to about 1 %.  Lines: fitted (solid) and predicted slope through the data's mean
(dashed).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from numerics.datasets import make_dataset
from numerics.recipes import train_eps_sweep
from theory.extrema import predict
from theory.problem import Problem

from .common import (
    data_figure,
    fit_line,
    label_axes,
    log_eps_grid,
    write_data,
)

NAME = "escape_time"

CONFIG = {
    "datasets": ["skewed_xor:n=64,alpha=1.0471975511965976,sigma=0.05,delta=0.1",
                 "generic:n=12,d=2", "xor3d"],
    "titles": ["skewed XOR α = π/3", "generic 2-D (n = 12)", "3-D XOR-like"],
    "data_seed": 3, "m": 64, "init": "small_a", "init_seed": 0,
    "eps_exp_hi": -2.0, "eps_exp_lo": -24.0, "n_eps": 8,
    "eta": 0.02, "activation": "relu", "loss": "logistic", "dtype": "float64",
}


def quick_config() -> dict:
    c = copy.deepcopy(CONFIG)
    c.update(m=16, n_eps=4, eps_exp_lo=-12.0, eta=0.05)
    return c


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    """Escape times for every (data set, ε); fitted and predicted slopes."""
    eps = log_eps_grid(config["eps_exp_lo"], config["eps_exp_hi"], config["n_eps"])
    out = {"eps": np.array(eps)}
    for k, spec in enumerate(config["datasets"]):
        p = Problem.from_arrays(*make_dataset(spec, seed=config["data_seed"]),
                                config["activation"], config["loss"])
        lam = predict(p, basins=False).lambda_max
        runs = train_eps_sweep(p, config["m"], eps, config["init_seed"], init=config["init"],
                               eta=config["eta"], device=device)
        t = np.array([r.escape_time for r in runs])
        x = np.log(1.0 / np.asarray(eps))
        slope, icpt = fit_line(x, t)
        out.update({f"t_{k}": t, f"lambda_max_{k}": lam, f"slope_{k}": slope,
                    f"intercept_{k}": icpt})
    return write_data(Path(out_dir) / f"{NAME}.npz", config, **out)


def _draw(plt, config, arr):
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    x = np.log(1.0 / arr["eps"])
    for k, title in enumerate(config["titles"]):
        t = arr[f"t_{k}"]
        lam = float(arr[f"lambda_max_{k}"])
        slope = float(arr[f"slope_{k}"])
        (ln,) = ax.plot(x, t, "o", ms=4, label=None)
        ax.plot(x, slope * x + float(arr[f"intercept_{k}"]), "-", color=ln.get_color(), lw=1,
                label=f"{title}: fit {slope:.3f}, 1/λ_max = {1 / lam:.3f} "
                      f"({100 * (slope * lam - 1):+.2f}%)")
        ax.plot(x, (x - x.mean()) / lam + t.mean(), "--", color=ln.get_color(), lw=0.8)
    label_axes(ax, "log(1/ε)", "escape time t* (gradient-flow time)",
               "Escape time vs log(1/ε): solid = least-squares fit, dashed = slope 1/λ_max",
               legend_title="slope of t* against log(1/ε)")
    fig.tight_layout()
    return fig


def _summary(config, arr) -> dict:
    return {title: {"fitted_slope": float(arr[f"slope_{k}"]),
                    "predicted_slope": 1.0 / float(arr[f"lambda_max_{k}"]),
                    "relative_error": float(arr[f"slope_{k}"]) * float(arr[f"lambda_max_{k}"])
                    - 1.0}
            for k, title in enumerate(config["titles"])}


plot, summary = data_figure(NAME, _draw, _summary)
