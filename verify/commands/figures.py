"""``sbias figures [--only NAMES] [--quick] [--out DIR] [--device auto|cpu|cuda]``.

For each figure of :mod:`paper_figures.registry`, in order: compute its data file (skipped when
the file exists and was computed from the same config: resume), then plot it (PNG and PDF).
``--quick`` uses each figure's ``quick_config()``: smaller sizes and fewer epochs, same code.
Prints one line per figure with its compute and plot times and the files written.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from numerics.device import select_device


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "figures", help="regenerate the paper's figures and the theory-versus-training figures",
        description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("--only", default=None, metavar="NAMES",
                   help="comma-separated figure names (default: all; see --list)")
    p.add_argument("--quick", action="store_true",
                   help="smoke-test sizes (minutes on CPU for all figures), same code paths")
    p.add_argument("--out", default="figures", metavar="DIR",
                   help="output folder (default figures)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    from tqdm import tqdm

    from paper_figures import registry

    if args.list:
        for name in registry.names():
            print(name)
        return 0
    figs = registry.select(args.only)
    device = str(select_device(args.device))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(figs, unit="figure", file=sys.stderr, disable=None)
    for fig in bar:
        bar.set_description(fig.name)
        config = fig.quick() if args.quick else fig.config
        t0 = time.perf_counter()
        if fig.is_current(out, config):
            data, how = fig.data_path(out), "data up to date"
        else:
            data = fig.compute(config, out, device=device, progress=bar.disable is False)
            how = f"computed in {time.perf_counter() - t0:.1f} s"
        t1 = time.perf_counter()
        paths = fig.plot(data, out)
        tqdm.write(f"{fig.name}: {how}; plotted in {time.perf_counter() - t1:.1f} s -> "
                   f"{', '.join(str(p) for p in paths)}", file=sys.stdout)
    return 0
