"""The figures, in order, behind one interface (what ``sbias figures`` runs).

Each :class:`Figure` has ``CONFIG`` (full size), ``quick_config()``, ``compute(config, out_dir,
device, progress) -> data path`` and ``plot(data_path, out_dir) -> [png, pdf, ...]``, and
``data_path(out_dir)``, the file ``compute`` writes.  :func:`is_current` says whether that file
exists and was computed from the same config (resume).  The OOD transfer figure
(``paper_figures.ood_transfer``, owned elsewhere) has its own signature and is adapted here
through its public functions only; its config is ``{"quick": bool}``, recorded in a sidecar.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from theory.atomic import atomic_write_text
from theory.errors import InputError

from .common import config_text, data_is_current

MODULES = ("figure1", "figure2", "g_landscape", "escape_time", "mass_concentration",
           "width_independence", "later_phase")


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


def _ood_figure() -> Figure | None:
    if importlib.util.find_spec("paper_figures.ood_transfer") is None:
        return None
    mod = importlib.import_module("paper_figures.ood_transfer")
    if not (callable(getattr(mod, "compute", None)) and callable(getattr(mod, "plot", None))):
        return None
    name = getattr(mod, "NAME", "ood_transfer")

    def path(out_dir):
        return Path(out_dir) / f"{name}.json"

    def sidecar(out_dir):
        return Path(out_dir) / f"{name}.config.json"

    def compute(config, out_dir, device="cpu", progress=True):
        p = mod.compute(out_dir, quick=bool(config["quick"]), device=str(device))
        atomic_write_text(sidecar(out_dir), config_text(config))
        return Path(p)

    def current(out_dir, config):
        s = sidecar(out_dir)
        return path(out_dir).is_file() and s.is_file() and s.read_text() == config_text(config)

    return Figure(name, {"quick": False}, lambda: {"quick": True}, compute,
                  lambda data_path, out_dir: [Path(p) for p in mod.plot(data_path, out_dir)],
                  path, current)


def figures() -> list[Figure]:
    """All figures in order (the OOD transfer figure last, when its module is present)."""
    out = [_module_figure(n) for n in MODULES]
    ood = _ood_figure()
    if ood is not None:
        out.append(ood)
    return out


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
