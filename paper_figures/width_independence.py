"""Width independence: the occupied directions, and their mass, do not depend on the width m.

Claim shown (docs/theory.md, "Predicted directions"): the limiting directions are fixed by the data
alone; the width only changes how finely the basins are sampled.  Data set: skewed XOR α = π/3
(sampled, noisy); for each m in :data:`CONFIG` ``["widths"]`` a network with ``small_a`` init at
scale ε is trained with adaptive steps until escape.  Measured: (left) each predicted extremum's
share of the squared norm (neurons within ``match_tau_deg`` of it, same sign) and the unmatched
rest; (right) the number of occupied clusters (:func:`numerics.measure.clusters` with
``cluster_tau_deg``, clusters holding at least ``occupied_min_mass`` of the mass) against the number
of predicted extrema.  The shares fluctuate with m (basins are sampled by m random starts, a
binomial spread of order 1/√m), the set of occupied directions does not."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from numerics import measure
from numerics.datasets import make_dataset
from numerics.engine import train
from numerics.init import init_weights
from theory.extrema import predict
from theory.problem import Problem

from .common import data_figure, label_axes, unit_angle_deg, write_data

NAME = "width_independence"

CONFIG = {
    "dataset": "skewed_xor:n=64,alpha=1.0471975511965976,sigma=0.05,delta=0.1",
    "data_seed": 3, "widths": [16, 64, 256, 1024, 4096], "init": "small_a",
    "init_scale": 1e-8, "init_seed": 0, "eta": 0.02, "lr_max": 1.0, "match_tau_deg": 3.0,
    "cluster_tau_deg": 3.0, "occupied_min_mass": 0.01, "activation": "relu",
    "loss": "logistic", "dtype": "float64",
}


def quick_config() -> dict:
    c = copy.deepcopy(CONFIG)
    c.update(widths=[16, 64, 256], eta=0.05)
    return c


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    p = Problem.from_arrays(*make_dataset(config["dataset"], seed=config["data_seed"]),
                            config["activation"], config["loss"])
    pred = predict(p, basins=True, seed=0)
    K = len(pred.extrema)
    shares, occupied, unmatched = [], [], []
    for m in config["widths"]:
        W0, a0 = init_weights(config["init"], m, p.d, config["init_scale"],
                              seed=config["init_seed"], device=device)
        run = train(p, W0, a0, adaptive=True, eta=config["eta"], lr=config["lr_max"],
                    lr_max=config["lr_max"], until_escape=True, device=device, progress=False)
        res = measure.match(run.W, run.a, pred, tau_deg=config["match_tau_deg"])
        _, _, cmass, _ = measure.clusters(run.W, run.a, tau_deg=config["cluster_tau_deg"])
        shares.append(res.per_extremum_mass)
        unmatched.append(res.unmatched_mass)
        occupied.append(int(np.sum(cmass >= config["occupied_min_mass"])))
    return write_data(Path(out_dir) / f"{NAME}.npz", config, widths=np.array(config["widths"]),
                      shares=np.array(shares).reshape(len(config["widths"]), K),
                      unmatched=np.array(unmatched), occupied=np.array(occupied),
                      pred_dir=np.array([e.direction for e in pred.extrema]),
                      pred_sign=np.array([e.sign for e in pred.extrema]),
                      growth=np.array([e.growth_rate for e in pred.extrema]),
                      basin=np.array([e.basin_fraction for e in pred.extrema], dtype=float))


def _draw(plt, config, arr):
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
    w = arr["widths"]
    for k in range(arr["shares"].shape[1]):
        ang = unit_angle_deg(arr["pred_dir"][k])
        ax0.plot(w, arr["shares"][:, k], "os^vD"[k % 5] + "-", ms=5, lw=1,
                 label=f"{'max' if arr['pred_sign'][k] > 0 else 'min'} at {ang:.1f}° "
                       f"(λ = {arr['growth'][k]:.4f})")
    ax0.plot(w, arr["unmatched"], "k:", marker="x", lw=1,
             label=f"not within {config['match_tau_deg']:g}° of any")
    ax0.set_xscale("log", base=2)
    ax0.set_ylim(-0.02, 1.02)
    label_axes(ax0, "width m", "share of squared norm at escape", "mass per predicted extremum")
    ax1.plot(w, arr["occupied"], "o-", label="occupied clusters (≥ "
             f"{100 * config['occupied_min_mass']:g}% of the mass)")
    ax1.axhline(len(arr["pred_sign"]), color="grey", ls="--",
                label=f"predicted extrema ({len(arr['pred_sign'])})")
    ax1.set_xscale("log", base=2)
    ax1.set_ylim(0, len(arr["pred_sign"]) + 2)
    label_axes(ax1, "width m", "number of clusters",
               f"clusters (angular radius {config['cluster_tau_deg']:g}°)")
    fig.suptitle(f"Width independence on skewed XOR α = π/3 (ε = {config['init_scale']:g}, "
                 "small_a init, until escape)", fontsize=10)
    fig.tight_layout()
    return fig


def _summary(config, arr) -> dict:
    return {"widths": arr["widths"].tolist(), "occupied": arr["occupied"].tolist(),
            "unmatched_max": float(arr["unmatched"].max()),
            "shares_at_max_width": arr["shares"][-1].round(4).tolist(),
            "basin_fractions": arr["basin"].tolist(),
            "predicted_angles_deg": [round(unit_angle_deg(u), 2) for u in arr["pred_dir"]]}


plot, summary = data_figure(NAME, _draw, _summary)
