"""Shared plumbing of the figure modules: data files that remember their config, figure saving.

Every figure's ``compute()`` writes one ``.npz`` (atomically, :mod:`theory.atomic`) holding its
arrays plus ``config_json``, the canonical JSON text of the config it was computed from.
:func:`data_is_current` compares that text with a config, which is how ``sbias figures``
resumes: an existing data file whose config matches is not recomputed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from theory.atomic import atomic_write_npz

README_WIDTH_PX = 600  # README images: 600 px wide


def config_text(config: dict) -> str:
    """Canonical JSON text of a config (sorted keys; floats written with repr, so exact)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def write_data(path: str | Path, config: dict, **arrays) -> Path:
    """Write ``arrays`` and the config to ``path`` (.npz) atomically; returns the path."""
    path = Path(path)
    atomic_write_npz(path, config_json=np.array(config_text(config)), **arrays)
    return path


def read_data(path: str | Path) -> tuple[dict, dict]:
    """``(config, arrays)`` from a data file written by :func:`write_data`."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "config_json"}
        config = json.loads(str(z["config_json"]))
    return config, arrays


def data_is_current(path: str | Path, config: dict) -> bool:
    """True when ``path`` exists, is readable and was computed from exactly ``config``."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        with np.load(p, allow_pickle=False) as z:
            return "config_json" in z.files and str(z["config_json"]) == config_text(config)
    except (OSError, ValueError, EOFError):
        return False


def save_figure(fig, out_dir: str | Path, name: str, dpi: int = 150) -> list[Path]:
    """Save ``fig`` as ``name.png`` and ``name.pdf`` in ``out_dir``; close it; return both."""
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for p in paths:
        fig.savefig(p, dpi=dpi)
    plt.close(fig)
    return paths


def plot_from_data(draw, data_path, out_dir, name: str) -> list[Path]:
    """The usual ``plot()``: read the data file, ``draw(plt, config, arrays) -> fig``, save
    ``name.png`` and ``name.pdf``."""
    config, arrays = read_data(data_path)
    return save_figure(draw(pyplot(), config, arrays), out_dir, name)


def data_figure(name: str, draw, summarise):
    """A figure module's ``plot`` and ``summary`` from its two pieces of logic.

    ``draw(plt, config, arrays) -> fig`` draws the figure from its data file;
    ``summarise(config, arrays) -> dict`` gives the numbers the figure shows.  Returns
    ``plot(data_path, out_dir) -> [name.png, name.pdf]`` and ``summary(data_path) -> dict``."""

    def plot(data_path, out_dir) -> list[Path]:
        return plot_from_data(draw, data_path, out_dir, name)

    def summary(data_path) -> dict:
        return summarise(*read_data(data_path))

    plot.__doc__ = f"``{name}.png`` and ``{name}.pdf`` from the data file."
    summary.__doc__ = summarise.__doc__
    return plot, summary


def label_axes(ax, xlabel: str, ylabel: str, title: str, legend_title: str | None = None,
               **legend) -> None:
    """The figures' usual axis dressing: labels, a title at font size 9 and a legend at size 7
    (with an optional title; ``legend`` passes further options such as ``loc``)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    if legend_title is not None:
        legend.update(title=legend_title, title_fontsize=7)
    ax.legend(fontsize=7, **legend)


def save_readme_png(fig, path: str | Path, width_px: int = README_WIDTH_PX) -> Path:
    """Save a small PNG (``width_px`` wide) of ``fig`` for the README (does not close it)."""
    w_in = fig.get_size_inches()[0]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=width_px / w_in)
    return path


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend (figures are files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value v with (weight of values ≤ v) ≥ q·(total weight): the q-quantile of the
    distribution putting mass ``weights`` on ``values`` (numpy's ``inverted_cdf`` method)."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    return float(np.quantile(values, q, weights=weights, method="inverted_cdf"))


def fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares ``y ≈ slope·x + intercept`` (numpy.polyfit); returns (slope, intercept)."""
    slope, intercept = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    return float(slope), float(intercept)


def log_eps_grid(lo_exp: float, hi_exp: float, k: int) -> list[float]:
    """``k`` init scales ε = 10^e, e evenly spaced from ``hi_exp`` down to ``lo_exp``."""
    return [float(10.0 ** e) for e in np.linspace(hi_exp, lo_exp, k)]


def unit_angle_deg(u) -> float:
    """Angle of a 2-D vector in degrees in [−180, 180)."""
    t = math.degrees(math.atan2(float(u[1]), float(u[0])))
    return t - 360.0 if t >= 180.0 else t
