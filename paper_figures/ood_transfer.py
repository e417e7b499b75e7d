"""Figure 3 (and its appendix variants): OOD transfer of mid-training features.

``compute()`` runs the OOD experiment (:mod:`numerics.ood`) — or reads a finished experiment
folder — and writes ``ood_transfer.json``: for every setting (init scale x training
correlation) and every probe epoch, the mean and standard deviation over seeds of the OOD probe
accuracies and the feature scale, plus the paired t-test table.  ``plot(data)`` draws the
paper's layout: OOD accuracy on the uncorrelated set (label = bottom/CIFAR class) and on the
reversed set (label = top/MNIST digit) against epochs, and the feature scale (root mean square
of the average-pool features), small against standard initialisation; PNG and PDF.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from numerics.ood.experiment import ALL_METRICS, ExperimentConfig, collect, run_experiment
from numerics.ood.train import RunConfig
from theory.atomic import atomic_write_json

NAME = "ood_transfer"
PANELS = (("uncorrelated/C1000", "OOD accuracy, uncorrelated (label = bottom)"),
          ("reversed/C1000", "OOD accuracy, reversed (label = top digit)"),
          ("feature_scale", "feature scale (RMS of avg-pool features)"))


def quick_config() -> ExperimentConfig:
    """Smoke-test size (seconds on CPU): same code paths, tiny data and few epochs."""
    return ExperimentConfig(seeds=[0, 1], base=RunConfig(epochs=8, probe_every=2,
                                                         dtype="float32"),
                            n_train=256, n_ood=256)


def full_config() -> ExperimentConfig:
    """The offline default of ``sbias ood run --offline`` (128 epochs, probes every 16)."""
    return ExperimentConfig(seeds=[0, 1, 2], base=RunConfig(epochs=128, probe_every=16,
                                                            dtype="float32"))


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


def compute(out_dir: str | Path = "figures", quick: bool = False, device: str = "auto",
            results_dir: str | Path | None = None) -> Path:
    """Run (or resume, or with ``results_dir`` read) the experiment; write the data file."""
    out_dir = Path(out_dir)
    if results_dir is not None:
        results = collect(results_dir)
    else:
        cfg = quick_config() if quick else full_config()
        results = run_experiment(cfg, out_dir / f"{NAME}_runs{'_quick' if quick else ''}",
                                 device=device)
    path = out_dir / f"{NAME}.json"
    atomic_write_json(path, summarise(results))
    return path


def plot(data: dict | str | Path, out_dir: str | Path = "figures") -> list[Path]:
    """Draw the figure from ``compute()``'s data (dict or file); returns the PNG and PDF paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not isinstance(data, dict):
        data = json.loads(Path(data).read_text())
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
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{NAME}.png", out_dir / f"{NAME}.pdf"]
    for p in paths:
        fig.savefig(p, dpi=150)
    plt.close(fig)
    return paths
