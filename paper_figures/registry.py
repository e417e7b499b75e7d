"""The figures, in order, behind one interface (what ``sbias figures`` runs).

Every module listed in :data:`MODULES` has ``NAME``, ``CONFIG`` (full size), ``quick_config()``,
``compute(config, out_dir, device, progress) -> data path`` and ``plot(data_path, out_dir) ->
[png, pdf, ...]``; ``compute`` writes ``out_dir/NAME.npz`` with the config it was computed from
(:func:`paper_figures.common.write_data`).  :func:`Figure.is_current` says whether that file
exists and was computed from the same config (resume).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from theory.errors import InputError

from .common import data_is_current

MODULES = ("figure1", "figure2", "g_landscape", "escape_time", "mass_concentration",
           "width_independence", "later_phase", "ood_transfer")


@dataclass(frozen=True)
class Figure:
    name: str
    config: dict
    quick: Callable[[], dict]
    compute: Callable
    plot: Callable
    data_path: Callable[[Path], Path]
    is_current: Callable[[Path, dict], bool]


def _module_figure(name: str) -> Figure:
    mod = importlib.import_module(f"paper_figures.{name}")

    def path(out_dir, _n=mod.NAME):
        return Path(out_dir) / f"{_n}.npz"

    return Figure(mod.NAME, mod.CONFIG, mod.quick_config, mod.compute, mod.plot, path,
                  lambda out_dir, cfg, _p=path: data_is_current(_p(out_dir), cfg))


def figures() -> list[Figure]:
    """All figures, in the order of :data:`MODULES`."""
    return [_module_figure(n) for n in MODULES]


def names() -> list[str]:
    return [f.name for f in figures()]


def select(only: str | list[str] | None) -> list[Figure]:
    """Figures named in ``only`` (comma-separated text or a list; registry order kept);
    all when ``only`` is empty.  Unknown names raise :class:`InputError`."""
    figs = figures()
    if not only:
        return figs
    wanted = [s.strip() for s in (only.split(",") if isinstance(only, str) else only)]
    wanted = [s for s in wanted if s]
    known = {f.name for f in figs}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise InputError(f"unknown figure {unknown[0]!r}; known: {', '.join(f.name for f in figs)}")
    return [f for f in figs if f.name in wanted]


def describe() -> str:
    """One line per figure with its full-size config (for ``--help``-style listings)."""
    return "\n".join(f"{f.name}: {json.dumps(f.config, sort_keys=True)}" for f in figures())
