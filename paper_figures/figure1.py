"""Figure 1: four neurons on symmetric XOR, started exactly on the four cluster axes.

Settings (DESIGN §5, the paper's replication): d = 2, n = 2^8, clusters at ±e1 (class 0, label
−1) and ±e2 (class 1, label +1), μ = 1, noise N(0, σ²I) with σ = 0.005 kept inside the δ = 0.01
ball, shifted and reflected (the data set is invariant under x → −x).  Neuron j starts at
``s_j·axis_j`` with axes ``(e1, e2, −e1, −e2)`` and output weight ``(−1, 1, −1, 1)_j·|w_j|``;
scale orderings ``(s1..s4) = (1, 0.1, 0.001, 0.01)·1e-4`` (main) and the two appendix ones.
Logistic loss on {0,1} targets (= softplus(−y f) with y = ±1), full-batch gradient descent,
base lr 2^-7 times the piecewise factor of :func:`schedule_factor`, 2^15 epochs, float64.

Claim shown: each neuron stays at its own axis (the angle panels, in degrees, stay tiny: for
this data the extrema of G are the axes up to the sampling noise), while its scale ``|w_j|``
grows like e^{λ t} with λ = |G(axis)| ≈ 1/8 until the fit, in the order set by the initial
scales.  Panels: each neuron's signed angle from its own axis and its scale ``|w_j|`` over the
epoch windows of :data:`CONFIG` ``["windows"]``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from numerics.datasets import xor
from numerics.engine import train
from numerics.init import init_weights
from theory.problem import Problem

from .common import pyplot, read_data, save_figure, write_data

NAME = "figure1"
AXES = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])

CONFIG = {
    "n": 2 ** 8, "mu": 1.0, "sigma": 0.005, "delta": 0.01, "symmetric": 1, "data_seed": 0,
    "orderings": [[1.0, 0.1, 0.001, 0.01], [1.0, 0.1, 0.01, 0.001], [1.0, 0.01, 0.1, 0.001]],
    "scale_unit": 1e-4,
    "output_signs": [-1.0, 1.0, -1.0, 1.0],
    "loss": "logistic", "activation": "relu",
    "schedule": {"base_lr": 2.0 ** -7, "warm_factor": 2.0 ** 9, "warm_epochs": 12,
                 "ramp_start": 8192, "ramp_end": 16384, "ramp_slope": 32.0,
                 "exp_factor": 32.0, "exp_doubling": 512},
    "epochs": 2 ** 15,
    "windows": [[0, None], [0, 3584], [3584, 15872], [15872, None]],
    "record_every": 4,
    "dtype": "float64",
}


def quick_config() -> dict:
    """Smoke-test size: fewer data points and epochs (same schedule and code path)."""
    c = copy.deepcopy(CONFIG)
    c.update(n=32, epochs=2 ** 10, windows=[[0, None], [0, 256], [256, 768], [768, None]],
             record_every=4)
    return c


def schedule_factor(epoch: int, s: dict) -> float:
    """The Figure 1 learning rate at ``epoch``: ``base_lr`` times ``warm_factor`` for epochs
    < ``warm_epochs``; 1 until ``ramp_start``; ``1 + ramp_slope(e/ramp_start − 1)`` until
    ``ramp_end``; then ``1 + exp_factor·2^((e − ramp_end)/exp_doubling)``."""
    e = float(epoch)
    if e < s["warm_epochs"]:
        f = s["warm_factor"]
    elif e < s["ramp_start"]:
        f = 1.0
    elif e < s["ramp_end"]:
        f = 1.0 + s["ramp_slope"] * (e / s["ramp_start"] - 1.0)
    else:
        f = 1.0 + s["exp_factor"] * 2.0 ** ((e - s["ramp_end"]) / s["exp_doubling"])
    return s["base_lr"] * f


def make_problem(config: dict) -> Problem:
    X, y = xor(n=config["n"], mu=config["mu"], sigma=config["sigma"], delta=config["delta"],
               symmetric=config["symmetric"], seed=config["data_seed"])
    return Problem.from_arrays(X, y, config["activation"], config["loss"])


def initial_weights(ordering, config: dict, device="cpu"):
    """Neuron j at ``s_j·axis_j``, output weight ``sign_j·|w_j|`` (explicit init, ε = 1)."""
    s = np.asarray(ordering, dtype=float) * config["scale_unit"]
    W = AXES * s[:, None]
    a = np.asarray(config["output_signs"]) * np.linalg.norm(W, axis=1)
    return init_weights("explicit", 4, 2, 1.0, W=W, a=a, device=device)


def signed_angle_deg(W_traj: np.ndarray) -> np.ndarray:
    """Signed angle (degrees) of each neuron from its own axis, (T×4)."""
    cross = AXES[:, 0] * W_traj[..., 1] - AXES[:, 1] * W_traj[..., 0]
    dot = np.sum(AXES * W_traj, axis=-1)
    return np.degrees(np.arctan2(cross, dot))


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    """Train the three scale orderings; write epochs, angles (T×4) and scales |w_j| (T×4)."""
    problem = make_problem(config)
    sched = config["schedule"]
    out = {}
    for k, ordering in enumerate(config["orderings"]):
        W0, a0 = initial_weights(ordering, config, device)
        run = train(problem, W0, a0, lr=sched["base_lr"],
                    schedule=lambda e: schedule_factor(e, sched), steps=config["epochs"],
                    record=f"every:{config['record_every']}", device=device,
                    progress=bool(progress))
        out[f"epochs_{k}"] = run.traj_steps
        out[f"angle_{k}"] = signed_angle_deg(run.W_traj)
        out[f"scale_{k}"] = np.linalg.norm(run.W_traj, axis=-1)
        out[f"loss_{k}"] = run.loss
    return write_data(Path(out_dir) / f"{NAME}.npz", config, **out)


def _panel(axs_col, epochs, angle, scale, window, end, labels):
    lo, hi = window[0], end if window[1] is None else window[1]
    sel = (epochs >= lo) & (epochs <= hi)
    for j in range(4):
        axs_col[0].plot(epochs[sel], angle[sel, j], lw=1, label=labels[j])
        axs_col[1].plot(epochs[sel], scale[sel, j], lw=1, label=labels[j])
    axs_col[1].set_yscale("log")
    axs_col[0].set_title(f"epochs [{lo}, {hi}]", fontsize=9)
    axs_col[1].set_xlabel("epoch")
    for ax in axs_col:
        ax.set_xlim(lo, hi)


def _draw(plt, config, arrays, which: list[int]):
    rows = 2 * len(which)
    fig, axs = plt.subplots(rows, 4, figsize=(13, 2.3 * rows), squeeze=False)
    for r, k in enumerate(which):
        ep = arrays[f"epochs_{k}"]
        end = int(ep[-1])
        s = config["orderings"][k]
        labels = [f"neuron {j + 1}: axis {ax_}, s={s[j]:g}e-4, a {'+' if sg > 0 else '−'}"
                  for j, (ax_, sg) in enumerate(zip(("e1", "e2", "−e1", "−e2"),
                                                     config["output_signs"]))]
        for c, win in enumerate(config["windows"]):
            _panel(axs[2 * r:2 * r + 2, c], ep, arrays[f"angle_{k}"], arrays[f"scale_{k}"],
                   win, end, labels)
        axs[2 * r, 0].set_ylabel("angle from own\naxis (degrees)")
        axs[2 * r + 1, 0].set_ylabel("scale |w_j|")
        axs[2 * r, 0].legend(fontsize=6, loc="best")
        if len(which) > 1:
            axs[2 * r, 0].annotate(f"ordering {k + 1}", (0.0, 1.25), xycoords="axes fraction",
                                   fontsize=9, weight="bold")
    fig.suptitle(f"Figure 1: 4 neurons on symmetric XOR (n={config['n']}, σ={config['sigma']}, "
                 f"lr schedule base 2^-7, {config['epochs']} epochs, float64)", fontsize=10)
    fig.tight_layout()
    return fig


def plot(data_path, out_dir) -> list[Path]:
    """``figure1.png/.pdf`` (main ordering) then ``figure1_appendix.png/.pdf`` (all three)."""
    plt = pyplot()
    config, arrays = read_data(data_path)
    paths = save_figure(_draw(plt, config, arrays, [0]), out_dir, NAME)
    paths += save_figure(_draw(plt, config, arrays, list(range(len(config["orderings"])))),
                         out_dir, f"{NAME}_appendix")
    return paths


def summary(data_path) -> dict:
    """Numbers the figure shows: max |angle| per ordering (degrees), final scales, final loss."""
    config, arrays = read_data(data_path)
    out = {}
    for k in range(len(config["orderings"])):
        out[f"ordering_{k + 1}"] = {
            "max_abs_angle_deg": float(np.max(np.abs(arrays[f"angle_{k}"]))),
            "final_scales": [float(v) for v in arrays[f"scale_{k}"][-1]],
            "final_loss": float(arrays[f"loss_{k}"][-1]),
        }
    return out

