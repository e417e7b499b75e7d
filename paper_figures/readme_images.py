"""Small PNGs for the README (600 px wide; 900 for the 8-panel Figure 1) from data files.

``python3 -m paper_figures.readme_images FIGURES_DIR docs/img`` redraws Figure 1 (main
ordering), Figure 2 and the mass-concentration figure (theory versus training) from the data
files that ``sbias figures`` wrote into FIGURES_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import figure1, figure2, mass_concentration
from .common import pyplot, read_data, save_readme_png


def make(figures_dir, img_dir) -> list[Path]:
    plt = pyplot()
    figures_dir, img_dir = Path(figures_dir), Path(img_dir)
    out = []
    config, arr = read_data(figures_dir / "figure1.npz")
    fig = figure1._draw(plt, config, arr, [0])
    fig.set_size_inches(13, 4.6)
    out.append(save_readme_png(fig, img_dir / "figure1.png", width_px=900))  # 8 panels
    plt.close(fig)
    config, arr = read_data(figures_dir / "figure2.npz")
    fig = figure2._draw(plt, config, arr)
    out.append(save_readme_png(fig, img_dir / "figure2.png"))
    plt.close(fig)
    config, arr = read_data(figures_dir / "mass_concentration.npz")
    fig = mass_concentration._draw(plt, config, arr)
    out.append(save_readme_png(fig, img_dir / "mass_concentration.png"))
    plt.close(fig)
    return out


if __name__ == "__main__":
    for p in make(sys.argv[1], sys.argv[2]):
        print(p, p.stat().st_size, "bytes")
