"""``sbias train``: train the two-layer network on a data file or a built-in dataset (docs/cli.md).

Writes ``RUN.npz`` (``W``, ``a``, ``times``, ``loss``, and ``W_traj``/``a_traj`` when recorded;
the data ``X``, ``y``, the activation and loss it was trained on; the provenance record; see
:mod:`numerics.run_io`).  ``--json`` prints a summary: final loss, escape time (first time
the output's RMS over the data reaches ``--escape-level``), steps, gradient-flow time, and the
share of the squared norm within 2 degrees of a same-sign predicted extremum
(``theory.extrema.predict``; null when no first-order prediction exists).
"""

from __future__ import annotations

import math

from theory.errors import InputError
from theory.problem import Problem

from .common import add_activation_loss, print_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a two-layer network from small initialisation",
        description="Full-batch gradient descent (time t = Σ lr) on f(x) = Σ_j a_j σ(⟨w_j, x⟩) "
                    "from weights of scale --init-scale; writes RUN.npz.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="data file .npz with arrays X (n×d) and y (n)")
    src.add_argument("--dataset", help="built-in dataset NAME[:k=v,...] (xor, skewed_xor, "
                                       "xor_ood, xor3d, gaussian_clusters, generic, "
                                       "linear_separable)")
    p.add_argument("--width", type=int, required=True, help="number of neurons m")
    p.add_argument("--init-scale", type=float, required=True, help="initial scale ε > 0")
    p.add_argument("--init", default="small_a",
                   help="init scheme: small_a (default), gaussian, balanced, torch_default")
    add_activation_loss(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the data set and the weights")
    p.add_argument("--lr", type=float, default=0.05,
                   help="step size (with --adaptive: the cap lr_max); default 0.05")
    stop = p.add_mutually_exclusive_group()
    stop.add_argument("--steps", type=int, help="number of gradient steps")
    stop.add_argument("--until", choices=["escape"], help="stop at the escape time")
    p.add_argument("--max-steps", type=int, default=1_000_000,
                   help="safety cap on steps with --until escape (default 1e6)")
    p.add_argument("--adaptive", action="store_true",
                   help="scale-free early-phase step dt = eta / max_j |∇θ_j L|/|θ_j|, capped by "
                        "--lr")
    p.add_argument("--eta", type=float, default=0.1, help="relative step for --adaptive")
    p.add_argument("--escape-level", type=float, default=0.1,
                   help="escape: RMS of the output over the data reaches this (default 0.1)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--dtype", default="float64", help="float64 (default) | float32")
    p.add_argument("--record", default="none", help="snapshots: none | log | every:K")
    p.add_argument("--out", required=True, help="output RUN.npz")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _problem(args) -> Problem:
    if args.data:
        return Problem.load_npz(args.data, args.activation, args.loss)
    from numerics.datasets import make_dataset

    X, y = make_dataset(args.dataset, seed=args.seed)
    return Problem.from_arrays(X, y, args.activation, args.loss)


def _mass_near_prediction(problem: Problem, run) -> float | None:
    try:
        from theory.extrema import predict
    except ImportError:
        return None
    pred = predict(problem, basins=False)
    if pred.degenerate or not pred.extrema:
        return None
    from numerics.measure import match

    return match(run.W, run.a, pred, tau_deg=2.0).matched_mass


def _provenance(args, device, dtype) -> dict:
    from numerics.provenance import collect

    seeds = {"init": args.seed} if args.data else {"data": args.seed, "init": args.seed}
    return collect(device=device, dtype=dtype, seeds=seeds)


def run(args) -> int:
    if args.width is None or args.width <= 0:
        raise InputError(f"--width must be a positive integer, got {args.width}")
    if not (math.isfinite(args.init_scale) and args.init_scale > 0):
        raise InputError(f"--init-scale must be a positive finite number, got {args.init_scale}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise InputError(f"--lr must be a positive finite number, got {args.lr}")
    if args.steps is None and args.until is None:
        raise InputError("give a stop rule: --steps K or --until escape")
    if args.steps is not None and args.steps < 0:
        raise InputError(f"--steps must be non-negative, got {args.steps}")
    from numerics.device import select_device, select_dtype
    from numerics.engine import TrainingDiverged, record_grid, train
    from numerics.init import init_weights

    device, dtype = select_device(args.device), select_dtype(args.dtype)
    record_grid(args.record)  # validate before any work
    problem = _problem(args)
    W0, a0 = init_weights(args.init, args.width, problem.d, args.init_scale, args.seed,
                          dtype=dtype, device=device)
    try:
        result = train(problem, W0, a0, lr=args.lr, adaptive=args.adaptive, eta=args.eta,
                       steps=args.steps, until_escape=args.until == "escape",
                       max_steps=args.max_steps, escape_level=args.escape_level,
                       record=args.record, seed=args.seed,
                       progress=False if args.no_progress else None)
    except TrainingDiverged as exc:
        exc.run.attach_problem(problem).provenance = _provenance(args, device, dtype)
        exc.run.save(args.out)
        raise InputError(f"{exc} (last good state saved to {args.out})") from None
    result.config.update(width=args.width, init=args.init, init_scale=args.init_scale,
                         data=args.data, dataset=args.dataset)
    result.attach_problem(problem)
    result.provenance = _provenance(args, device, dtype)
    result.save(args.out)
    if args.json:
        print_json({
            "final_loss": float(result.loss[-1]),
            "escape_time": result.escape_time if result.escaped else None,
            "steps": result.steps, "time": result.time, "stop_reason": result.stop_reason,
            "mass_within_2deg": _mass_near_prediction(problem, result),
            "out": str(args.out)})
    return 0
