"""The later phase on XOR-like data: neurons follow the moving attractors of G_t.

After escape the loss weights ``c_i`` are replaced by the residuals ``r_i(t)``, so
``G_t(w) = (1/n) Σ_i r_i(t) σ(⟨w, x_i⟩)`` moves as clusters get fitted, and every neuron's
direction follows the gradient flow of ``G_t`` (:mod:`theory.later_phase`).  This figure trains
two networks on the Figure 2 data (skewed XOR, α = π/3, n = 512, δ = 0.2, σ = 0.1/√2, constant
lr 2^-4, 2^13 epochs):

* **equal start**: Figure 2's initialisation (PyTorch's default ``nn.Linear`` times 2^-7);
* **unequal start**: balanced neurons (``|a| = |w|``), the ones with a > 0 at scale 1e-4, those
  with a < 0 at 1e-7: the positive clusters fit the +1 points first, the residuals on them
  drop, and the negative clusters' persistence condition ``ρ(±v) > ρ(±e1) cos α``
  (:mod:`theory.xor_persistence`) fails.

Rows, for each run: (1) every neuron's angle over time (marker area ∝ its share of the squared
norm) with the attractors of G_t (maxima for a > 0, minima for a < 0, of either sign of G_t;
exact, :func:`theory.later_phase.direction_attractors`); (2) the share of the squared norm near
each attractor (neurons counted at the nearest attractor of their sign; attractors followed
over time as in :mod:`numerics.tracking`); (3) the four persistence margins with the
cluster-averaged residuals, divided by ``(μ/4)·max ρ`` (below 0: the kink has stopped being an
extremum of the 4-cluster model); (4) the number of directions carrying 95 % of the output
weight ``Σ_j |a_j||w_j|`` (clusters within 2°) and the training loss.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np

from numerics import measure
from numerics.datasets import skewed_xor
from numerics.engine import train
from numerics.init import init_weights
from numerics.tracking import directions_for_mass, track
from theory.problem import Problem
from theory.xor_persistence import cluster_rho, persistence_conditions

from .common import data_figure, write_data

NAME = "later_phase"
RUNS = ("equal", "unequal")

CONFIG = {
    "n": 2 ** 9, "mu": 1.0, "alpha": math.pi / 3, "delta": 0.2, "sigma": 0.1 / math.sqrt(2),
    "symmetric": 1, "data_seed": 0, "m": 256, "init_seed": 0,
    "equal_init": "torch_default", "equal_scale": 2.0 ** -7,
    "unequal_scales": [1e-4, 1e-7],  # a > 0 neurons, a < 0 neurons
    "lr": 2.0 ** -4, "epochs": 2 ** 13, "record_every": 64,
    "mass_level": 0.95, "cluster_tau_deg": 2.0,
    "activation": "relu", "loss": "logistic", "dtype": "float64",
}


def quick_config() -> dict:
    """Smoke-test size: fewer points, neurons and epochs (same code path)."""
    c = copy.deepcopy(CONFIG)
    c.update(n=64, m=32, epochs=2 ** 11, record_every=64)
    return c


def make_problem(config: dict) -> Problem:
    X, y = skewed_xor(n=config["n"], mu=config["mu"], alpha=config["alpha"],
                      sigma=config["sigma"], delta=config["delta"],
                      symmetric=config["symmetric"], seed=config["data_seed"])
    return Problem.from_arrays(X, y, config["activation"], config["loss"])


def initial_weights(config: dict, run: str, device="cpu"):
    """Figure 2's init (``equal``) or balanced neurons with sign-dependent scales."""
    m = config["m"]
    if run == "equal":
        return init_weights(config["equal_init"], m, 2, config["equal_scale"],
                            seed=config["init_seed"], device=device)
    rng = np.random.default_rng(config["init_seed"])
    U = rng.normal(size=(m, 2))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    s = np.where(np.arange(m) < m // 2, 1.0, -1.0)
    scale = np.where(s > 0, *config["unequal_scales"])
    return init_weights("explicit", m, 2, 1.0, W=U * scale[:, None], a=s * scale,
                        device=device)


def _angle_deg(U) -> np.ndarray:
    return np.degrees(np.arctan2(U[..., 1], U[..., 0]))


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    p = make_problem(config)
    conds = persistence_conditions(config["alpha"])
    out = {"condition_labels": np.array(json.dumps([c.label for c in conds]))}
    for k, name in enumerate(RUNS):
        W0, a0 = initial_weights(config, name, device)
        run = train(p, W0, a0, lr=config["lr"], steps=config["epochs"],
                    record=f"every:{config['record_every']}", device=device,
                    progress=bool(progress))
        tr = track(p, run.traj_times, run.W_traj, run.a_traj,
                   tau_deg=config["cluster_tau_deg"])
        T, m = len(tr.records), config["m"]
        ext = [(rec.t, _angle_deg(u), s, g, tid) for rec in tr.records
               for (u, s, g), tid in zip(rec.extrema, rec.track_of)]
        track_mass = np.zeros((T, len(tr.tracks)))
        margins = np.zeros((T, len(conds)))
        ndir = np.zeros(T, dtype=int)
        for i, rec in enumerate(tr.records):
            W, a = run.W_traj[i], run.a_traj[i]
            U, sg, mass = measure.directions(W), measure.signs(a), measure.mass(W, a)
            for j in range(m):
                cands = [(measure.angle_deg(U[j:j + 1], u)[0], tid) for (u, s, _), tid
                         in zip(rec.extrema, rec.track_of) if s == sg[j]]
                if cands:
                    track_mass[i, min(cands)[1]] += mass[j]
            rho = cluster_rho(p.X, rec.r, config["alpha"])
            scale = config["mu"] / 4 * float(np.max(rho))
            margins[i] = [c.margin(config["alpha"], config["mu"], rho) / scale for c in conds]
            ndir[i] = directions_for_mass(W, a, config["mass_level"], config["cluster_tau_deg"])
        out.update({
            f"t_{k}": run.traj_times, f"angle_{k}": _angle_deg(measure.directions(run.W_traj)),
            f"mass_{k}": measure.mass(run.W_traj, run.a_traj), f"sign_{k}": np.sign(run.a_traj),
            f"ext_{k}": np.array(ext, dtype=float).reshape(-1, 5),
            f"track_mass_{k}": track_mass, f"track_sign_{k}": np.array(
                [tr.tracks[i].sign for i in range(len(tr.tracks))]),
            f"margins_{k}": margins, f"ndir_{k}": ndir, f"loss_t_{k}": run.times,
            f"loss_{k}": run.loss, f"escape_{k}": np.float64(run.escape_time)})
    return write_data(Path(out_dir) / f"{NAME}.npz", config, **out)


CAPTION = (
    "Later phase on the Figure 2 data (skewed XOR, α = π/3). Left: Figure 2's initialisation; "
    "right: a>0 neurons started at 1e-4, a<0 at 1e-7. Row 1: every neuron's angle (red a>0, "
    "blue a<0; area ∝ share of the squared norm) and the attractors of G_t (black dashes: "
    "maxima, grey: minima; exact). Row 2: share of the squared norm at each attractor. Row 3: "
    "the four persistence margins of the 4-cluster model (< 0: the kink is no longer an "
    "extremum of G_t). Row 4: directions carrying 95 % of the output weight, and the loss. "
    "Dotted: escape.")


def _draw(plt, config, arr):
    labels = json.loads(str(arr["condition_labels"]))
    fig, axs = plt.subplots(4, 2, figsize=(12, 11), sharex="col",
                            gridspec_kw={"height_ratios": [2.2, 1, 1, 1]})
    titles = {"equal": "equal start (Figure 2 init, PyTorch default × 2^-7)",
              "unequal": f"unequal start (a>0 at {config['unequal_scales'][0]:g}, "
                         f"a<0 at {config['unequal_scales'][1]:g})"}
    for k, name in enumerate(RUNS):
        t, ang, mass, sg = arr[f"t_{k}"], arr[f"angle_{k}"], arr[f"mass_{k}"], arr[f"sign_{k}"]
        te = float(arr[f"escape_{k}"])
        ax = axs[0, k]
        ext = arr[f"ext_{k}"]
        for s, col, lab in ((1, "black", "max of G_t"), (-1, "grey", "min of G_t")):
            sel = ext[:, 2] == s
            ax.scatter(ext[sel, 0], ext[sel, 1], s=14, marker="_", lw=1, color=col, label=lab)
        tt = np.broadcast_to(t[:, None], ang.shape)
        for s, col, lab in ((1, "tab:red", "neuron, a > 0"), (-1, "tab:blue", "neuron, a < 0")):
            sel = sg == s
            ax.scatter(tt[sel], ang[sel], s=0.5 + 100 * mass[sel], color=col, alpha=0.35, lw=0,
                       label=lab, zorder=3)
        ax.set_ylim(-180, 180)
        ax.set_yticks(np.arange(-180, 181, 60))
        ax.set_title(titles[name], fontsize=9)
        ax.legend(fontsize=7, loc="upper right", markerscale=2)
        ax = axs[1, k]
        tm, ts = arr[f"track_mass_{k}"], arr[f"track_sign_{k}"]
        for i in range(tm.shape[1]):
            if tm[:, i].max() >= 0.02:
                ax.plot(t, tm[:, i], lw=1, color="tab:red" if ts[i] > 0 else "tab:blue",
                        alpha=0.8)
        ax.set_ylim(0, 1)
        ax = axs[2, k]
        for i, lab in enumerate(labels):
            ax.plot(t, arr[f"margins_{k}"][:, i], lw=1, label=lab)
        ax.axhline(0, color="black", lw=0.6)
        ax.legend(fontsize=6, loc="lower right", ncol=2)
        ax = axs[3, k]
        ax.step(t, arr[f"ndir_{k}"], where="post", color="black",
                label=f"directions with {100 * config['mass_level']:g}% of Σ|a||w|")
        ax.set_yscale("log")
        ax.set_ylim(0.8, max(8, arr[f"ndir_{k}"].max() * 1.5))
        ax.set_xlabel("gradient-flow time t")
        tw = ax.twinx()
        tw.semilogy(arr[f"loss_t_{k}"], arr[f"loss_{k}"], color="tab:green", lw=1,
                    label="loss")
        tw.tick_params(labelsize=7)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = tw.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper right")
        for a_ in axs[:, k]:
            a_.axvline(te, color="grey", ls=":", lw=1)
    axs[0, 0].set_ylabel("angle (degrees)")
    axs[1, 0].set_ylabel("mass share\nat attractor")
    axs[2, 0].set_ylabel("persistence margin\n/ ((μ/4) max ρ)")
    axs[3, 0].set_ylabel("directions")
    fig.suptitle(f"Later phase: neurons follow the attractors of G_t (n={config['n']}, "
                 f"m={config['m']}, lr={config['lr']:g}, {config['epochs']} epochs)",
                 fontsize=10)
    fig.text(0.01, 0.005, CAPTION, fontsize=7.5, wrap=True, va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def _summary(config, arr) -> dict:
    """Per run: escape time, the number of directions carrying 95 % of the output weight at
    escape, its range afterwards and at the end, the intervals where each persistence margin
    is negative, and the final loss."""
    labels = json.loads(str(arr["condition_labels"]))
    out = {}
    for k, name in enumerate(RUNS):
        t, nd = arr[f"t_{k}"], arr[f"ndir_{k}"]
        te = float(arr[f"escape_{k}"])
        after = t >= te
        i0 = int(np.argmax(after)) if after.any() else len(t) - 1
        fails = {}
        for i, lab in enumerate(labels):
            neg = arr[f"margins_{k}"][:, i] < 0
            edges = np.flatnonzero(np.diff(np.concatenate([[0], neg.astype(int), [0]])))
            fails[lab] = [[float(t[a]), float(t[min(b, len(t)) - 1])]
                          for a, b in zip(edges[::2], edges[1::2])]
        out[name] = {"escape_time": te, "directions_at_escape": int(nd[i0]),
                     "directions_after_escape_min": int(nd[after].min()) if after.any() else None,
                     "directions_after_escape_max": int(nd[after].max()) if after.any() else None,
                     "directions_at_end": int(nd[-1]), "negative_margin_intervals": fails,
                     "final_loss": float(arr[f"loss_{k}"][-1])}
    return out


plot, summary = data_figure(NAME, _draw, _summary)
