"""``sbias ood``: mid-training features and out-of-distribution transfer (paper §6, Figure 3).

``sbias ood run`` trains image classifiers on correlated domino images (a simple class-coded
image on top of a complex one) from small (2^-5) and standard (1) initialisation, probes the
average-pool features on uncorrelated and reversed OOD dominoes with logistic regression every
few epochs, and tests whether mid-training features transfer better than final ones (one-sided
paired t-test over seeds).  ``sbias ood report`` re-collects the results of a run folder.
"""

from __future__ import annotations

import argparse
import itertools
import sys

from theory.errors import InputError

from .common import print_json

OFFLINE_EPOCHS = 128
# small_cnn on the CPU: one intra-op thread.  Measured on the 2-core development machine, one
# epoch of the offline default: idle, 0.05 s with 2 threads and 0.08 s with 1; with two other
# busy processes on the cores, 9.3-10.8 s with 2 threads and 0.31-0.46 s with 1 (each of the
# many small operations ends at a barrier where a thread spins while its partner is
# descheduled).  One thread also makes the float32 result independent of the core count.
SMALL_CNN_CPU_THREADS = 1
PAPER_EPOCHS = 256


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ood", help="OOD transfer of mid-training features on domino images (paper Figure 3)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="ood_command", metavar="ACTION")
    r = sub.add_parser("run", help="train, probe and test (resumes an interrupted --out)",
                       description="Train every (init scale, correlation) setting for every seed, "
                       "probe OOD features every --probe-every epochs, write results.json/.csv "
                       "and ttest.json/.csv to --out.  An existing --out with the same "
                       "configuration is resumed from its checkpoints.")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--data-dir", help="folder with MNIST IDX files (train-images-idx3-ubyte "
                     "etc., gz or not) and CIFAR-10 binary batches (data_batch_*.bin, "
                     "test_batch.bin)")
    src.add_argument("--offline", action="store_true", help="offline default (no download): "
                     "sklearn's bundled 8x8 digits on top of procedural noisy textures "
                     "(used when --data-dir is not given)")
    r.add_argument("--model", choices=["small_cnn", "resnet18"], default=None,
                   help="default: small_cnn offline, resnet18 with --data-dir")
    r.add_argument("--init-scale", nargs="+", default=None, metavar="S",
                   help="parameter multipliers at init, e.g. 2^-5 1 (default: the paper's "
                   "settings 2^-5/100%%, 1/100%%, 2^-5/95%%)")
    r.add_argument("--correlation", nargs="+", type=float, default=None, metavar="P",
                   help="training-set correlations of digit and label, e.g. 1.0 0.95")
    r.add_argument("--seeds", type=int, default=3, help="number of seeds 0..N-1 (default 3)")
    r.add_argument("--epochs", type=int, default=None,
                   help=f"default {OFFLINE_EPOCHS} offline, {PAPER_EPOCHS} (paper) with data")
    r.add_argument("--probe-every", type=int, default=None,
                   help="epochs between probes/checkpoints (default epochs/16 with data as in "
                   "the paper, epochs/8 offline)")
    r.add_argument("--mid-epoch", type=int, default=None,
                   help="mid-training epoch of the t-test (default epochs/4: paper 64 of 256)")
    r.add_argument("--batch-size", type=int, default=128, help="default 128; lr = batch·2^-10")
    r.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="default float32 (as the paper's GPU runs)")
    r.add_argument("--n-train", type=int, default=None, help="training dominoes (before the "
                   "25%% validation split); default all with data, 2048 offline")
    r.add_argument("--n-ood", type=int, default=None, help="OOD dominoes (default all / 2048)")
    r.add_argument("--data-seed", type=int, default=0, help="seed of the domino construction")
    r.add_argument("--no-augment", action="store_true", help="no random horizontal flips")
    r.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    r.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads (default: 1 for small_cnn on the CPU, whose tiny "
                   "convolutions gain little from more and slow down many-fold when the cores "
                   "are shared; torch's choice otherwise)")
    r.add_argument("--probe-max-iter", type=int, default=None,
                   help="lbfgs iteration cap of each probe fit (default 2000)")
    r.add_argument("--out", required=True, help="experiment folder (created or resumed)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--json", action="store_true", help="print the t-test table as JSON")
    r.set_defaults(func=run_cmd)
    rep = sub.add_parser("report", help="collect results and print the t-test table",
                         description="Collect every run's metrics under --out (finished or not), "
                         "rewrite results.json/.csv and ttest.json/.csv, print the table.")
    rep.add_argument("--out", required=True, help="experiment folder")
    rep.add_argument("--json", action="store_true", help="print the t-test table as JSON")
    rep.set_defaults(func=report_cmd)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def build_config(args):
    from numerics.ood.experiment import PAPER_SETTINGS, ExperimentConfig, parse_scale
    from numerics.ood.train import RunConfig

    offline = args.data_dir is None
    model = args.model or ("small_cnn" if offline else "resnet18")
    epochs = args.epochs or (OFFLINE_EPOCHS if offline else PAPER_EPOCHS)
    if epochs < 1 or args.seeds < 1 or args.batch_size < 1:
        raise InputError("--epochs, --seeds and --batch-size must be positive")
    probe_every = args.probe_every or max(1, epochs // (8 if offline else 16))
    if args.init_scale is None and args.correlation is None:
        settings = [list(s) for s in PAPER_SETTINGS]
    else:
        scales = [parse_scale(s) for s in (args.init_scale or ["2^-5", "1"])]
        corrs = args.correlation or [1.0]
        for c in corrs:
            if not 0.0 <= c <= 1.0:
                raise InputError(f"--correlation must be in [0, 1], got {c}")
        settings = [[s, c] for s, c in itertools.product(scales, corrs)]
    extra = {} if args.probe_max_iter is None else {"probe_max_iter": args.probe_max_iter}
    base = RunConfig(model=model, epochs=epochs, probe_every=probe_every,
                     batch_size=args.batch_size, augment=not args.no_augment, dtype=args.dtype,
                     **extra)
    return ExperimentConfig(source="offline" if offline else str(args.data_dir),
                            settings=settings, seeds=list(range(args.seeds)), base=base,
                            mid_epoch=args.mid_epoch, data_seed=args.data_seed,
                            n_train=args.n_train, n_ood=args.n_ood)


def run_cmd(args) -> int:
    import time

    import torch

    from numerics.ood.experiment import run_experiment
    from numerics.ood.train import resolve_device

    if args.threads is not None and args.threads < 1:
        raise InputError("--threads must be positive")
    cfg = build_config(args)
    threads = args.threads
    if threads is None and cfg.base.model == "small_cnn" and \
            resolve_device(args.device).type == "cpu":
        threads = SMALL_CNN_CPU_THREADS
    previous = torch.get_num_threads()
    t0 = time.perf_counter()
    try:  # the thread count is the process's, so it is restored for an in-process caller
        if threads is not None:
            torch.set_num_threads(threads)
        results = run_experiment(cfg, args.out, device=args.device,
                                 progress=not args.no_progress)
    finally:
        torch.set_num_threads(previous)
    wall = time.perf_counter() - t0
    _show(results, args.json)
    sys.stderr.write(f"sbias ood: {len(results['runs'])} runs in {wall:.1f} s "
                     f"({threads or previous} torch threads); results in {args.out}\n")
    return 0


def report_cmd(args) -> int:
    from numerics.ood.experiment import collect

    _show(collect(args.out), args.json)
    return 0


def _show(results: dict, as_json: bool) -> None:
    from numerics.ood.experiment import format_table

    if as_json:
        print_json(results["ttest"])
    else:
        print(f"OOD probe accuracy at epoch {results['mid_epoch']} (mid) vs "
              f"{results['final_epoch']} (final); one-sided paired t-test, mid > final")
        print(format_table(results["ttest"]))
