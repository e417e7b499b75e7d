"""Figure 3 (and its appendix variants): OOD transfer of mid-training features.

The figure interface of :mod:`paper_figures.registry`: ``CONFIG`` (the offline default of
``sbias ood run --offline``: 3 seeds, 128 epochs, probes every 16), ``quick_config()`` (the same
code paths on tiny data: 2 seeds, 8 epochs), ``compute(config, out_dir, device, progress)``
runs the OOD experiment (:mod:`numerics.ood`) in ``out_dir/ood_transfer_runs_<hash of the
config>`` (resuming a run that is there) — or, with ``results_dir``, reads a finished experiment
folder — and writes ``ood_transfer.npz``: for every setting (init scale x training correlation)
and every probe epoch, the mean and standard deviation over seeds of the OOD probe accuracies and
the feature scale, plus the paired t-test table (JSON text in the array ``summary_json``).
``plot(data_path, out_dir)`` draws the paper's layout: OOD accuracy on the uncorrelated set
(label = bottom/CIFAR class) and on the reversed set (label = top/MNIST digit) against epochs,
and the feature scale (root mean square of the average-pool features), small against standard
initialisation; PNG and PDF.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np

from numerics.ood.experiment import ALL_METRICS, ExperimentConfig, collect, run_experiment
from numerics.ood.train import RunConfig

from .common import config_text, pyplot, read_data, save_figure, write_data

NAME = "ood_transfer"
PANELS = (("uncorrelated/C1000", "OOD accuracy, uncorrelated (label = bottom)"),
          ("reversed/C1000", "OOD accuracy, reversed (label = top digit)"),
          ("feature_scale", "feature scale (RMS of avg-pool features)"))

#: The offline default of ``sbias ood run --offline`` (``n_train``/``n_ood`` None: 2048 each).
CONFIG = {"seeds": [0, 1, 2], "epochs": 128, "probe_every": 16, "dtype": "float32",
          "n_train": None, "n_ood": None}


def quick_config() -> dict:
    """Smoke-test size (seconds on CPU): same code paths, tiny data and few epochs."""
    c = copy.deepcopy(CONFIG)
    c.update(seeds=[0, 1], epochs=8, probe_every=2, n_train=256, n_ood=256)
    return c


def experiment_config(config: dict) -> ExperimentConfig:
    """The :class:`ExperimentConfig` of a figure config (offline data, the paper's settings)."""
    return ExperimentConfig(seeds=list(config["seeds"]),
                            base=RunConfig(epochs=config["epochs"],
                                           probe_every=config["probe_every"],
                                           dtype=config["dtype"]),
                            n_train=config["n_train"], n_ood=config["n_ood"])


def summarise(results: dict) -> dict:
    """Mean and standard deviation over seeds of every metric, per setting and probe epoch."""
    curves = {}
    for setting in dict.fromkeys(r["setting"] for r in results["runs"]):
        runs = [r for r in results["runs"] if r["setting"] == setting]
        epochs = sorted(set.intersection(*[{h["epoch"] for h in r["history"]} for r in runs]))
        c = {"epochs": epochs, "init_scale": runs[0]["init_scale"],
             "correlation": runs[0]["correlation"], "n_seeds": len(runs)}
        for m in ALL_METRICS:
            vals = np.array([[{h["epoch"]: h for h in r["history"]}[e][m] for e in epochs]
                             for r in runs], dtype=float)
            # train_loss has no value at epoch 0 (None -> NaN): leave those points NaN
            mean = [float(np.mean(v)) if np.isfinite(v).all() else None for v in vals.T]
            std = [float(np.std(v)) if np.isfinite(v).all() else None for v in vals.T]
            c[m] = {"mean": mean, "std": std}
        curves[setting] = c
    return {"curves": curves, "ttest": results["ttest"], "mid_epoch": results["mid_epoch"],
            "final_epoch": results["final_epoch"]}


def compute(config: dict, out_dir, device="auto", progress=True, *,
            results_dir: str | Path | None = None) -> Path:
    """Run (or resume) the experiment of ``config`` — or, with ``results_dir``, read that
    finished experiment folder instead — and write the data file ``ood_transfer.npz``.  The
    data file records the config it was computed from (with ``results_dir``: the experiment's
    own configuration)."""
    out_dir = Path(out_dir)
    if results_dir is not None:
        results = collect(results_dir)
        recorded = results["experiment"]
    else:
        digest = hashlib.sha256(config_text(config).encode()).hexdigest()[:12]
        results = run_experiment(experiment_config(config), out_dir / f"{NAME}_runs_{digest}",
                                 device=device, progress=progress)
        recorded = config
    return write_data(out_dir / f"{NAME}.npz", recorded,
                      summary_json=np.array(json.dumps(summarise(results))))


def read_summary(data_path) -> dict:
    """The curves and t-test table that :func:`compute` wrote (see :func:`summarise`)."""
    _, arrays = read_data(data_path)
    return json.loads(str(arrays["summary_json"]))


def plot(data_path, out_dir) -> list[Path]:
    """Draw the figure from :func:`compute`'s data file; returns the PNG and PDF paths."""
    plt = pyplot()
    data = read_summary(data_path)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.4))
    for ax, (metric, title) in zip(axes, PANELS):
        for setting, c in data["curves"].items():
            e = np.array(c["epochs"])
            mean = np.array(c[metric]["mean"], dtype=float)
            std = np.array(c[metric]["std"], dtype=float)
            small = c["init_scale"] < 1
            label = (f"{'small' if small else 'standard'} init ({setting.split('_')[0][4:]}), "
                     f"{round(100 * c['correlation'])}% corr.")
            (line,) = ax.plot(e, mean, marker="o", ms=3, label=label,
                              ls="-" if c["correlation"] == 1 else "--")
            ax.fill_between(e, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.axvline(data["mid_epoch"], color="grey", lw=0.8, ls=":")
        ax.set_xlabel("epoch")
        ax.set_title(title, fontsize=9)
        if metric == "feature_scale":
            ax.set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.suptitle("Mid-training features vs final features (mean ± std over seeds; dotted: "
                 f"t-test epoch {data['mid_epoch']})", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out_dir, NAME)
