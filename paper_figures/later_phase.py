"""Later phase: neurons follow the moving extrema of G_t, and the mass's cluster count.

After escape the loss weights ``c_i`` are replaced by ``r_i(t) = −∂ℓ/∂f(y_i, f_t(x_i))``
(DESIGN §2 'Later phase'), so ``G_t(w) = (1/n) Σ_i r_i(t) σ(⟨w, x_i⟩)`` moves as points get
fitted.  This figure trains one network from small initialisation well past escape, and at every
snapshot computes ``r(t)`` from the network's outputs, the extrema of ``G_t`` on the circle
(:func:`moving_extrema`), the neurons' angles and masses, and the number of clusters that hold
``mass_level`` (95 %) of the squared norm.

:func:`moving_extrema` (d = 2 only) is numerical, not certified: G_t on a uniform grid of
``grid`` angles, every grid point that is a strict local maximum with G_t > 0 (or minimum with
G_t < 0) against its two neighbours, refined by bounded Brent search
(``scipy.optimize.minimize_scalar``) on the bracket of its neighbours.  G_t is piecewise
sinusoidal with kinks, so within a bracket that holds one extremum it is unimodal and the
refinement converges to it (to ``xatol``); two extrema closer than two grid steps
(0.2° at the default) would be reported as one.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from numerics import measure
from numerics.datasets import make_dataset
from numerics.engine import train
from numerics.init import init_weights
from theory.problem import Problem

from .common import plot_from_data, read_data, write_data
from .landscape import angle_of

NAME = "later_phase"
GRID = 3600  # 0.1° grid for moving_extrema
XATOL_DEG = 1e-6  # Brent refinement tolerance in degrees

CONFIG = {
    "dataset": "generic:n=12,d=2", "data_seed": 3, "m": 256, "init": "small_a",
    "init_scale": 1e-6, "init_seed": 0, "eta": 0.05, "lr_max": 0.2, "t_max": 600.0,
    "record_every": 10, "cluster_tau_deg": 3.0, "mass_level": 0.95, "heavy": 0.1,
    "activation": "relu", "loss": "logistic", "dtype": "float64",
}


def quick_config() -> dict:
    c = copy.deepcopy(CONFIG)
    c.update(m=32, t_max=300.0, record_every=20)
    return c


def moving_extrema(problem: Problem, weights, grid: int = GRID) -> list[tuple[float, int, float]]:
    """Extrema of ``G_t`` (weights ``r`` replacing ``c``) on the unit circle, d = 2: a list of
    ``(angle in degrees, sign, G_t)``; see the module docstring for the method."""
    if problem.d != 2:
        raise ValueError("moving_extrema needs 2-D data")
    th = np.linspace(-180.0, 180.0, grid, endpoint=False)
    step = 360.0 / grid

    def G(t_deg):
        t = np.radians(np.atleast_1d(t_deg))
        return problem.G(np.stack([np.cos(t), np.sin(t)], -1), weights=weights)

    g = G(th)
    left, right = np.roll(g, 1), np.roll(g, -1)
    out = []
    is_max = (g > 0) & (g >= left) & (g >= right) & ((g > left) | (g > right))
    is_min = (g < 0) & (g <= left) & (g <= right) & ((g < left) | (g < right))
    for sign, idx in ((1, np.nonzero(is_max)[0]), (-1, np.nonzero(is_min)[0])):
        for i in idx:
            r = minimize_scalar(lambda t, s=sign: -s * float(G(t)[0]),
                                bounds=(th[i] - step, th[i] + step), method="bounded",
                                options={"xatol": XATOL_DEG})
            ang = (float(r.x) + 180.0) % 360.0 - 180.0
            out.append((ang, sign, float(G(ang)[0])))
    return out


def clusters_holding(W, a, level: float, tau_deg: float) -> int:
    """Fewest clusters (:func:`numerics.measure.clusters`, heaviest first) whose mass reaches
    ``level`` of the total."""
    _, _, cmass, _ = measure.clusters(W, a, tau_deg=tau_deg)
    return int(np.searchsorted(np.cumsum(cmass), level * (1 - 1e-12)) + 1)


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    p = Problem.from_arrays(*make_dataset(config["dataset"], seed=config["data_seed"]),
                            config["activation"], config["loss"])
    W0, a0 = init_weights(config["init"], config["m"], p.d, config["init_scale"],
                          seed=config["init_seed"], device=device)
    run = train(p, W0, a0, adaptive=True, eta=config["eta"], lr=config["lr_max"],
                lr_max=config["lr_max"], t_max=config["t_max"],
                record=f"every:{config['record_every']}", device=device,
                progress=bool(progress))
    T = len(run.traj_times)
    ext_t, ext_ang, ext_sign, ext_G = [], [], [], []
    n_clusters = np.zeros(T, dtype=int)
    ang = np.zeros((T, config["m"]))
    mass = np.zeros((T, config["m"]))
    r_all = np.zeros((T, p.n))
    for k in range(T):
        W, a = run.W_traj[k], run.a_traj[k]
        f = a @ p.activation.numpy(W @ p.X.T)
        r = p.loss.neg_derivative(p.y, f)
        r_all[k] = r
        for th, s, g in moving_extrema(p, r):
            ext_t.append(run.traj_times[k])
            ext_ang.append(th)
            ext_sign.append(s)
            ext_G.append(g)
        ang[k] = angle_of(measure.directions(W))
        mass[k] = measure.mass(W, a)
        n_clusters[k] = clusters_holding(W, a, config["mass_level"], config["cluster_tau_deg"])
    return write_data(Path(out_dir) / f"{NAME}.npz", config, t=run.traj_times, angle=ang,
                      mass=mass, sign=np.sign(run.a_traj), ext_t=np.array(ext_t),
                      ext_angle=np.array(ext_ang), ext_sign=np.array(ext_sign),
                      ext_G=np.array(ext_G), n_clusters=n_clusters, r=r_all,
                      loss_t=run.times, loss=run.loss, escape_time=run.escape_time)


def _draw(plt, config, arr):
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True,
                                   gridspec_kw={"height_ratios": [2.2, 1]})
    t, ang, mass, sg = arr["t"], arr["angle"], arr["mass"], arr["sign"]
    m = ang.shape[1]
    heavy = mass >= config["heavy"] / m
    for s, col, lab in ((1, "tab:red", "neuron, a > 0"), (-1, "tab:blue", "neuron, a < 0")):
        sel = heavy & (sg == s)
        tt = np.broadcast_to(t[:, None], ang.shape)[sel]
        ax0.scatter(tt, ang[sel], s=2 + 60 * np.sqrt(mass[sel]), color=col, alpha=0.25,
                    lw=0, label=lab)
    for s, col, lab in ((1, "darkred", "max of G_t (G_t > 0)"),
                        (-1, "navy", "min of G_t (G_t < 0)")):
        sel = arr["ext_sign"] == s
        ax0.scatter(arr["ext_t"][sel], arr["ext_angle"][sel], s=3, marker="s", color=col,
                    label=lab)
    te = float(arr["escape_time"])
    for ax in (ax0, ax1):
        ax.axvline(te, color="grey", ls=":", lw=1)
    ax0.set_ylim(-180, 180)
    ax0.set_yticks(np.arange(-180, 181, 45))
    ax0.set_ylabel("angle (degrees)")
    ax0.set_title(f"heavy neurons (mass ≥ {config['heavy']:g}/m; marker area ∝ mass) and the "
                  f"extrema of G_t; dotted: escape t* = {te:.1f}", fontsize=9)
    ax0.legend(fontsize=7, loc="upper left", markerscale=2)
    ax1.step(t, arr["n_clusters"], where="post", color="black",
             label=f"clusters holding {100 * config['mass_level']:g}% of the mass")
    ax1.set_ylabel("clusters")
    ax1.set_xlabel("gradient-flow time t")
    ax1.set_yscale("log")
    ax1.set_ylim(0.8, max(arr["n_clusters"]) * 1.5)
    tw = ax1.twinx()
    tw.semilogy(arr["loss_t"], arr["loss"], color="tab:green", lw=1, label="training loss")
    tw.set_ylabel("loss", color="tab:green")
    h1, l1 = ax1.get_legend_handles_labels()
    h2, l2 = tw.get_legend_handles_labels()
    ax1.legend(h1 + h2, l1 + l2, fontsize=7, loc="center right")
    fig.suptitle(f"Later phase on {config['dataset']} (m={config['m']}, "
                 f"ε={config['init_scale']:g})", fontsize=10)
    fig.tight_layout()
    return fig


def plot(data_path, out_dir) -> list[Path]:
    return plot_from_data(_draw, data_path, out_dir, NAME)


def summary(data_path) -> dict:
    config, arr = read_data(data_path)
    t, n = arr["t"], arr["n_clusters"]
    te = float(arr["escape_time"])
    at_escape = int(n[np.searchsorted(t, te)]) if te < t[-1] else None
    return {"escape_time": te, "clusters_at_escape": at_escape, "clusters_at_end": int(n[-1]),
            "final_loss": float(arr["loss"][-1]),
            "extrema_at_start": int(np.sum(arr["ext_t"] == t[0])),
            "extrema_at_end": int(np.sum(arr["ext_t"] == t[-1]))}
