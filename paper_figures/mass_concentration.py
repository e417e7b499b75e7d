"""Mass concentration: each cluster's share of the squared norm at escape against ε.

Claim shown: at the escape time the cluster at the extremum u_k holds a share of
the squared norm ∝ ε^{2(1 − λ_k/λ_max)} (``theory.growth.mass_share_exponents``): the slowest
directions lose their mass as ε → 0.  Data set (in :data:`CONFIG`): two positive points 135°
apart with lengths 1 and 0.5 and one negative point of length 1 at −112.5°, far enough from
both that G has exactly three extrema: the maximum at 0° (λ = 1/6), the maximum at 135°
(λ = 1/12, exponent 2(1 − 1/2) = 1) and the minimum at −112.5° (λ = 1/6).

Training: ``small_a`` init with one seed, scaled by each ε of the grid, one batched run of the
package's escape recipe (:func:`numerics.recipes.train_eps_sweep`: adaptive steps capped at
1/rate_bound, stopped when the output RMS reaches 1 % of the targets' RMS).  Each neuron is
assigned to the nearest predicted extremum of its own sign within ``assign_tau_deg``; the rest
is reported as in transit.  The fitted exponent is the least-squares slope of log(share)
against log(ε).  The grid starts at ε = 1e-4: the
claim is asymptotic (ε → 0), and at ε = 1e-2 neurons are still in transit at escape.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np

from numerics import measure
from numerics.recipes import train_eps_sweep
from theory.extrema import predict
from theory.growth import mass_share_exponents
from theory.problem import Problem

from .common import (
    data_figure,
    fit_line,
    label_axes,
    log_eps_grid,
    write_data,
)

NAME = "mass_concentration"

CONFIG = {
    "point_angles_deg": [0.0, 135.0, -112.5], "point_lengths": [1.0, 0.5, 1.0],
    "labels": [1.0, 1.0, -1.0],
    "m": 512, "init": "small_a", "init_seed": 0,
    "eps_exp_hi": -4.0, "eps_exp_lo": -16.0, "n_eps": 7,
    "eta": 0.02, "assign_tau_deg": 10.0,
    "activation": "relu", "loss": "logistic", "dtype": "float64",
}


def quick_config() -> dict:
    c = copy.deepcopy(CONFIG)
    c.update(m=64, n_eps=4, eps_exp_lo=-10.0, eta=0.05)
    return c


def make_problem(config: dict) -> Problem:
    th = np.radians(config["point_angles_deg"])
    X = np.asarray(config["point_lengths"])[:, None] * np.stack([np.cos(th), np.sin(th)], 1)
    return Problem.from_arrays(X, np.asarray(config["labels"]), config["activation"],
                               config["loss"])


def cluster_shares(W, a, prediction, tau_deg: float) -> np.ndarray:
    """Mass share per predicted extremum (nearest same-sign extremum within ``tau_deg``)."""
    return measure.match(W, a, prediction, tau_deg=tau_deg).per_extremum_mass


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    p = make_problem(config)
    pred = predict(p, basins=False)
    eps = log_eps_grid(config["eps_exp_lo"], config["eps_exp_hi"], config["n_eps"])
    runs = train_eps_sweep(p, config["m"], eps, config["init_seed"], init=config["init"],
                           eta=config["eta"], device=device)
    shares = np.array([cluster_shares(r.W, r.a, pred, config["assign_tau_deg"]) for r in runs])
    fitted = np.array([fit_line(np.log(eps), np.log(shares[:, k]))[0]
                       if np.all(shares[:, k] > 0) else np.nan for k in range(shares.shape[1])])
    return write_data(Path(out_dir) / f"{NAME}.npz", config, eps=np.array(eps), shares=shares,
                      fitted=fitted, predicted=np.array(mass_share_exponents(pred)),
                      pred_dir=np.array([e.direction for e in pred.extrema]),
                      pred_sign=np.array([e.sign for e in pred.extrema]),
                      growth=np.array([e.growth_rate for e in pred.extrema]))


def _draw(plt, config, arr):
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    eps, sh = arr["eps"], arr["shares"]
    for k in range(sh.shape[1]):
        ang = math.degrees(math.atan2(arr["pred_dir"][k][1], arr["pred_dir"][k][0]))
        pe, fe = float(arr["predicted"][k]), float(arr["fitted"][k])
        (ln,) = ax.loglog(eps, sh[:, k], "os^vD"[k % 5] + "-", ms=7 - 1.5 * (k % 3), lw=1,
                          mfc="none" if k % 2 else None,
                          label=f"{'max' if arr['pred_sign'][k] > 0 else 'min'} at {ang:.1f}°, "
                                f"λ = {arr['growth'][k]:.4f}: fitted {fe:.3f}, predicted {pe:.3f}")
        # predicted line through the geometric mean of the measured shares
        x0, y0 = np.exp(np.mean(np.log(eps))), np.exp(np.mean(np.log(sh[:, k])))
        ax.loglog(eps, y0 * (eps / x0) ** pe, "--", color=ln.get_color(), lw=0.8)
    label_axes(ax, "initialisation scale ε", "cluster's share of the squared norm at escape",
               "Mass concentration: share ∝ ε^{2(1 − λ_k/λ_max)} (dashed: predicted)",
               legend_title="exponent of ε")
    fig.tight_layout()
    return fig


def _summary(config, arr) -> dict:
    return {"fitted_exponents": arr["fitted"].tolist(),
            "predicted_exponents": arr["predicted"].tolist(),
            "in_transit_max": float(np.max(1 - arr["shares"].sum(1)))}


plot, summary = data_figure(NAME, _draw, _summary)
