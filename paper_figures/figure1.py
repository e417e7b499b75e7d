"""Figure 1: four neurons on symmetric XOR, started exactly on the four cluster axes.

Settings (the paper's replication files): d = 2, n = 2^8, clusters at ±e1 (class 0, label
−1) and ±e2 (class 1, label +1), μ = 1, noise N(0, σ²I) with σ = 0.005 kept inside the δ = 0.01
ball, shifted and reflected (the data set is invariant under x → −x).  Neuron j starts at
``s_j·axis_j`` with axes ``(e1, e2, −e1, −e2)`` and output weight ``(−1, 1, −1, 1)_j·|w_j|``;
scale orderings ``(s1..s4) = (1, 0.1, 0.001, 0.01)·1e-4`` (main) and the two appendix ones.
Logistic loss on {0,1} targets (= softplus(−y f) with y = ±1), full-batch gradient descent
with the paper's schedule (:func:`numerics.stepping.figure1_schedule`: base lr 2^-7 times a
piecewise factor), 2^15 epochs, float64.

Claim shown: each neuron stays at its own axis (the angle panels, in degrees, stay tiny: the
axes are kink extrema of G_t for every residual), while its scale follows the derived scale
equation ``s' = (μ/4) s/(1 + e^{μ s²})`` (:mod:`theory.figure1_scales`): exponential growth at
λ = μ/8 until its cluster is fitted, then saturation, in the order of the initial scales.
Panels: each neuron's signed angle from its own axis and its scale ``|w_j|`` over the epoch
windows of :data:`CONFIG` ``["windows"]``; dashed: the scale equation stepped with the same
schedule (gradient descent on ideal clusters) from the trained (|w_j|, |a_j|) once the
warm-up's large steps are over and the neurons are back on their axes; dots: its saturation
epochs (``μ s² = 1``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from numerics.datasets import xor
from numerics.engine import train
from numerics.init import init_weights
from numerics.stepping import SCHEDULES
from theory.figure1_scales import saturation_step, saturation_time, scale_path_steps
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
    "schedule": "figure1",  # numerics.stepping.figure1_schedule
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


def step_sizes(config: dict) -> np.ndarray:
    """The learning rate of every epoch of the run (the schedule named in the config)."""
    sched = SCHEDULES[config["schedule"]]
    return np.array([sched(e) for e in range(config["epochs"])])


def trained_saturation_epoch(epochs, scale, mu: float, level: float = 1.0):
    """First recorded epoch with ``μ|w|² ≥ level``, interpolated linearly in ``log |w|²``
    between the two records that bracket it (None if never reached)."""
    q = mu * np.asarray(scale, dtype=float) ** 2
    hit = np.nonzero(q >= level)[0]
    if not len(hit):
        return None
    k = int(hit[0])
    if k == 0:
        return float(epochs[0])
    l0, l1 = np.log(q[k - 1]), np.log(q[k])
    return float(epochs[k - 1] + (epochs[k] - epochs[k - 1]) * (np.log(level) - l0) / (l1 - l0))


SETTLE_DEG = 1.0  # the neurons count as back on their axes once all are within 1°


def settled_record(epochs, angle, after: int = 12) -> int:
    """First record after the warm-up epochs whose neurons are all within SETTLE_DEG of their
    axes (the warm-up's steps of size 4 turn them off by up to ~13° on the sampled data)."""
    ok = np.nonzero((np.asarray(epochs) >= after)
                    & (np.max(np.abs(angle), axis=1) < SETTLE_DEG))[0]
    return int(ok[0]) if len(ok) else len(epochs) - 1


def _path_from(s, b, dts, e0: int, epochs, mu: float) -> np.ndarray:
    """The scale map from ``(s, b)`` at epoch ``e0`` on, read at ``epochs`` (NaN before)."""
    path = scale_path_steps(s, dts[e0:], mu, b0=b)
    ep = np.asarray(epochs)
    return np.where(ep >= e0, path[np.clip(ep - e0, 0, len(path) - 1)], np.nan)


def compute(config: dict, out_dir, device="cpu", progress=True) -> Path:
    """Train the three scale orderings; write epochs, angles (T×4), scales |w_j| and |a_j|
    (T×4), and the scale equation's predictions under the same steps: from the balanced start
    (saturation epochs) and from the trained (|w_j|, |a_j|) once the neurons are back on their
    axes after the warm-up (path and saturation epochs)."""
    problem = make_problem(config)
    dts = step_sizes(config)
    mu = config["mu"]
    out = {}
    for k, ordering in enumerate(config["orderings"]):
        W0, a0 = initial_weights(ordering, config, device)
        run = train(problem, W0, a0, lr=float(dts[0]), schedule=SCHEDULES[config["schedule"]],
                    steps=config["epochs"], record=f"every:{config['record_every']}",
                    device=device, progress=bool(progress))
        s0 = np.asarray(ordering, dtype=float) * config["scale_unit"]
        ep, angle = run.traj_steps, signed_angle_deg(run.W_traj)
        scale = np.linalg.norm(run.W_traj, axis=-1)
        outw = np.abs(run.a_traj)
        i0 = settled_record(ep, angle)
        e0 = int(ep[i0])

        def sat(s, b, first):
            e = saturation_step(s, dts[first:], mu, b0=b)
            return np.nan if e is None else first + e

        out.update({
            f"epochs_{k}": ep, f"angle_{k}": angle, f"scale_{k}": scale, f"outw_{k}": outw,
            f"loss_{k}": run.loss,
            f"pred_scale_{k}": np.stack([_path_from(scale[i0, j], outw[i0, j], dts, e0, ep, mu)
                                         for j in range(4)], 1),
            f"pred_sat_epoch_{k}": np.array([sat(s, s, 0) for s in s0], dtype=float),
            f"pred_sat_time_{k}": np.array([saturation_time(s, mu) for s in s0]),
            f"settle_epoch_{k}": np.int64(e0),
            f"pred_sat_epoch_settled_{k}": np.array(
                [sat(scale[i0, j], outw[i0, j], e0) for j in range(4)], dtype=float)})
    return write_data(Path(out_dir) / f"{NAME}.npz", config, **out)


COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def _panel(axs_col, epochs, angle, scale, pred, sat, window, end, labels):
    lo, hi = window[0], end if window[1] is None else window[1]
    sel = (epochs >= lo) & (epochs <= hi)
    for j in range(4):
        axs_col[0].plot(epochs[sel], angle[sel, j], lw=1, color=COLORS[j], label=labels[j])
        axs_col[1].plot(epochs[sel], scale[sel, j], lw=1, color=COLORS[j], label=labels[j])
        if pred is not None:
            axs_col[1].plot(epochs[sel], pred[sel, j], lw=1, ls="--", color="black", alpha=0.6)
        if sat is not None and np.isfinite(sat[j]) and lo <= sat[j] <= hi:
            axs_col[1].plot([sat[j]], [1.0], "o", ms=3, color=COLORS[j])
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
                   arrays.get(f"pred_scale_{k}"), arrays.get(f"pred_sat_epoch_settled_{k}"), win,
                   end,
                   labels)
        axs[2 * r, 0].set_ylabel("angle from own\naxis (degrees)")
        axs[2 * r + 1, 0].set_ylabel("scale |w_j|")
        axs[2 * r, 0].legend(fontsize=6, loc="best")
        if len(which) > 1:
            axs[2 * r, 0].annotate(f"ordering {k + 1}", (0.0, 1.25), xycoords="axes fraction",
                                   fontsize=9, weight="bold")
    fig.suptitle(f"Figure 1: 4 neurons on symmetric XOR (n={config['n']}, σ={config['sigma']}, "
                 f"lr schedule base 2^-7, {config['epochs']} epochs, float64)\ndashed: the "
                 "derived scale equation with the same steps, from the trained state once the "
                 "warm-up is over; dots: its saturation (μs² = 1)", fontsize=9)
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


def prop57_levels(config: dict) -> dict:
    """The squared-scale levels ``μ|w|²`` named by Proposition 5.7's inequality with its cluster
    radius ``a = δ``: 1, ``(1 − 2a) q_min²`` and ``(1 − 2a) q_max²``
    (:data:`theory.prop57.PAPER`)."""
    from theory.prop57 import PAPER

    a = config["delta"]
    return {"1": 1.0, "(1-2a)q_min^2": (1 - 2 * a) * float(PAPER["q_min"]) ** 2,
            "(1-2a)q_max^2": (1 - 2 * a) * float(PAPER["q_max"]) ** 2}


def summary(data_path) -> dict:
    """Numbers the figure shows, per ordering: max |angle| (degrees), final scales and loss,
    and each neuron's saturation (``μ|w|² = 1``): the trained epoch, the scale equation's
    epoch under the same steps from the balanced start and from the trained state once the
    neurons are back on their axes (``settle_epoch``), and its gradient-flow time; the order
    of saturation in training and in the prediction, against the order of initial scales."""
    config, arrays = read_data(data_path)
    mu = config["mu"]
    out = {}

    def order(times):
        done = [j for j in range(4) if times[j] is not None]
        return sorted(done, key=lambda j: times[j])

    def clean(v):
        return [None if not np.isfinite(x) else float(x) for x in v]

    for k, ordering in enumerate(config["orderings"]):
        ep = arrays[f"epochs_{k}"]
        trained = [trained_saturation_epoch(ep, arrays[f"scale_{k}"][:, j], mu)
                   for j in range(4)]
        settled = clean(arrays[f"pred_sat_epoch_settled_{k}"])
        levels = prop57_levels(config)
        events = {name: [trained_saturation_epoch(ep, arrays[f"scale_{k}"][:, j], mu, lev)
                         for j in range(4)] for name, lev in levels.items()}
        out[f"ordering_{k + 1}"] = {
            "max_abs_angle_deg": float(np.max(np.abs(arrays[f"angle_{k}"]))),
            "epochs_reaching_prop57_levels": events,
            "final_scales": [float(v) for v in arrays[f"scale_{k}"][-1]],
            "final_loss": float(arrays[f"loss_{k}"][-1]),
            "saturation_epoch_trained": trained,
            "saturation_epoch_predicted_from_start": clean(arrays[f"pred_sat_epoch_{k}"]),
            "settle_epoch": int(arrays[f"settle_epoch_{k}"]),
            "saturation_epoch_predicted_from_settled": settled,
            "saturation_time_gradient_flow": [float(v) for v in
                                              arrays[f"pred_sat_time_{k}"]],
            "order_trained": order(trained),
            "order_predicted": order(settled),
            "order_of_initial_scales": [int(j) for j in
                                        np.argsort(-np.asarray(ordering), kind="stable")],
        }
    return out
