"""Summary figures of a sweep (``sbias sweep``), drawn from its rows.

``escape_time.png``: each cell's escape time t* against log(1/ε), one colour per problem
(data set, seed, width, activation, loss).  In the early phase the output grows like
``ε² e^{2 λ_max t}``, so ``t* = log(1/ε)/λ_max + O(1)``: the dashed line through each problem's
points has the predicted slope 1/λ_max (its offset is the mean of ``t* − log(1/ε)/λ_max``), and
the legend gives the fitted slope next to it when the problem has two or more ε.

``matched_mass.png``: each cell's ``mass_matched`` — the share of the squared norm within the
sweep's match tolerance of a same-sign predicted extremum — as one bar per cell.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np

from .animation import publish
from .common import pyplot

PROBLEM_KEYS = ("dataset", "seed", "width", "activation", "loss")


def _save(fig, path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        publish(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _label(key: tuple) -> str:
    ds, seed, m, act, loss = key
    return f"{ds} s={seed} m={m}" + ("" if (act, loss) == ("relu", "logistic")
                                     else f" {act}/{loss}")


def draw_escape_times(rows: list[dict]):
    """Figure: t* against log(1/ε) with slope-1/λ_max lines (module doc)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in PROBLEM_KEYS), []).append(r)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    drawn = 0
    for k, (key, rs) in enumerate(groups.items()):
        pts = [(math.log(1.0 / r["init_scale"]), r["escape_time"]) for r in rs
               if r["escape_time"] is not None]
        if not pts:
            continue
        x, t = np.array(pts).T
        col = colors[k % len(colors)]
        lam = rs[0]["lambda_max"]
        label = _label(key)
        if len(x) >= 2 and np.ptp(x) > 0:
            label += f": slope {np.polyfit(x, t, 1)[0]:.4g}"
        if lam:
            label += f", 1/λ_max {1.0 / lam:.4g}"
            b = float(np.mean(t - x / lam))
            xs = np.array([min(x.min(), 0.0), x.max() * 1.05])
            ax.plot(xs, xs / lam + b, ls="--", color=col, lw=1.0)
        ax.plot(x, t, "o", color=col, label=label)
        drawn += 1
    if not drawn:
        ax.text(0.5, 0.5, "no cell escaped", transform=ax.transAxes, ha="center")
    ax.set_xlabel("log(1/ε)")
    ax.set_ylabel("escape time t*")
    ax.set_title("escape time against log 1/ε; dashed: predicted slope 1/λ_max", fontsize=10)
    if drawn:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_matched_mass(rows: list[dict]):
    """Figure: matched mass per cell (module doc)."""
    plt = pyplot()
    n = len(rows)
    fig, ax = plt.subplots(figsize=(min(14.0, 3.0 + 0.35 * n), 4.2))
    vals = [np.nan if r["mass_matched"] is None else r["mass_matched"] for r in rows]
    ax.bar(np.arange(n), vals, color="tab:green", edgecolor="black", lw=0.5)
    ax.axhline(1.0, color="grey", lw=0.6, ls=":")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mass within the match tolerance\nof a same-sign predicted extremum")
    if n <= 60:
        ax.set_xticks(np.arange(n))
        ax.set_xticklabels([f"{r['dataset']} s={r['seed']} ε={r['init_scale']:.0e} "
                            f"m={r['width']}" for r in rows], rotation=70, ha="right",
                           fontsize=6.5)
    else:
        ax.set_xlabel("cell (grid order)")
    ax.set_title("matched mass per cell (no bar: no first-order prediction)", fontsize=10)
    fig.tight_layout()
    return fig


def write_summary_figures(rows: list[dict], out: str | Path) -> list[Path]:
    """Write ``escape_time.png`` and ``matched_mass.png`` in ``out`` (atomically)."""
    plt = pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in (("escape_time", draw_escape_times), ("matched_mass", draw_matched_mass)):
        fig = draw(rows)
        try:
            paths.append(_save(fig, out / f"{name}.png"))
        finally:
            plt.close(fig)
    return paths
