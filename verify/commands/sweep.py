"""``sbias sweep SPEC.toml --out DIR``: a grid of runs, each trained, predicted and matched.

The spec format, caching and engines are described in :mod:`verify.sweep`; the executors in
:mod:`verify.executors`.  The spec is validated (and the Dask scheduler reached) before any
cell runs; bad input exits 2 with one line.
"""

from __future__ import annotations

import argparse

from theory.errors import InputError

EPILOG = """spec (TOML):
  [grid]   dataset = ["xor:n=64", ...]  seed = [0, 1]  init_scale = [1e-4, 1e-8]  width = [64]
           activation = ["relu"]  loss = ["logistic"]          (the last two optional)
  [train]  sbias train's options: until = "escape" | steps = K, adaptive, lr, eta, init,
           max_steps, escape_level, device, dtype, record
  [sweep]  batch = "auto"|"always"|"never", max_batch, threads, match_tau_deg

outputs: DIR/results.csv, DIR/results.json, DIR/escape_time.png, DIR/matched_mass.png,
DIR/cells/<hash>/{run.npz,cell.json}.  Done cells are skipped on a rerun."""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help="a grid of runs (data sets × seeds × ε × widths), cached per cell",
        description="Train, predict and match every cell of a grid; one row per cell in "
                    "DIR/results.csv.  Runs in this process by default, on a local process "
                    "pool with --workers N, or on a Dask cluster.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", metavar="SPEC.toml", help="the sweep spec (TOML)")
    p.add_argument("--out", required=True, help="output folder")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=1,
                       help="local processes (default 1: in this process)")
    where.add_argument("--dask-scheduler", metavar="ADDR",
                       help="submit the cells to the running Dask scheduler at ADDR "
                            "(tcp://HOST:PORT); needs the [cluster] extra")
    where.add_argument("--dask-local", metavar="N", type=int,
                       help="start a local Dask cluster of N workers")
    p.add_argument("--no-figures", action="store_true", help="skip the summary figures")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _executor(args):
    from ..executors import Dask, InProcess, ProcessPool

    if args.dask_scheduler:
        return Dask.connect(args.dask_scheduler)
    if args.dask_local is not None:
        return Dask.local(args.dask_local)
    if args.workers < 1:
        raise InputError(f"--workers must be a positive integer, got {args.workers}")
    return InProcess() if args.workers == 1 else ProcessPool(args.workers)


def run(args) -> int:
    from ..sweep import load_spec, run_sweep

    spec = load_spec(args.spec)  # everything validated before any cell runs
    with _executor(args) as ex:
        res = run_sweep(spec, args.out, ex, progress=False if args.no_progress else None,
                        figures=not args.no_figures)
    print(f"{len(res.rows)} cells ({res.computed} run now, {res.skipped} already done) in "
          f"{res.seconds:.1f} s on {ex.name}: {res.out / 'results.csv'}")
    return 0
