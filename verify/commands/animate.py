"""``sbias animate RUN.npz --out FILE.gif|.mp4``: watch the neurons of a recorded run.

The drawing is :func:`paper_figures.animation.animate` (its docstring says what each frame
shows).  The data come from the run file (``sbias train`` stores ``X``, ``y``, activation and
loss in it); a run file written before data were stored needs ``--data F.npz`` (with
``--activation``/``--loss`` when they differ from the ones the run's config names).
"""

from __future__ import annotations

from theory.errors import InputError

from .common import ACTIVATION_HELP, LOSS_HELP


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "animate", help="animate a recorded run: directions, G and its extrema over time",
        description="Animate RUN.npz (trained with --record log or every:K): neuron directions "
                    "on the circle (d = 2) or projected on the final neurons' two principal "
                    "directions (d >= 3), marker area ∝ mass, colour = sign of a; G (G_t after "
                    "escape) drawn around the circle with its certified extrema; time and "
                    "loss.  GIF via Pillow; MP4 needs ffmpeg.")
    p.add_argument("run", metavar="RUN.npz", help="a run file from sbias train --record ...")
    p.add_argument("--out", required=True, help="output .gif (Pillow) or .mp4 (ffmpeg)")
    p.add_argument("--data", default=None,
                   help="data .npz (X, y) when the run file does not carry its data")
    p.add_argument("--activation", default=None, help=ACTIVATION_HELP + "; default: the run's")
    p.add_argument("--loss", default=None, help=LOSS_HELP + "; default: the run's")
    p.add_argument("--fps", type=float, default=10.0, help="frames per second (default 10)")
    p.add_argument("--max-frames", type=int, default=150,
                   help="at most this many frames, evenly spread over the snapshots "
                        "(default 150)")
    p.add_argument("--dpi", type=int, default=100, help="resolution (default 100)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _problem(args, run):
    from theory.problem import Problem

    act = args.activation or run.activation or run.config.get("activation")
    loss = args.loss or run.loss_function or run.config.get("loss")
    if args.data:
        return Problem.load_npz(args.data, act or "relu", loss or "logistic")
    if run.X is None:
        raise InputError(f"{args.run} carries no training data (written by an older sbias "
                         "train); give it with --data F.npz")
    return Problem.from_arrays(run.X, run.y, act or "relu", loss or "logistic")


def run(args) -> int:
    from numerics.run_io import Run
    from paper_figures.animation import check_writer

    check_writer(args.out)  # before any work: .gif/.mp4, ffmpeg present for .mp4
    if args.max_frames is None or args.max_frames < 1:
        raise InputError(f"--max-frames must be a positive integer, got {args.max_frames}")
    if not (args.fps > 0 and args.fps < float("inf")):
        raise InputError(f"--fps must be a positive number, got {args.fps}")
    if args.dpi < 10:
        raise InputError(f"--dpi must be at least 10, got {args.dpi}")
    rec = Run.load(args.run)
    problem = _problem(args, rec)
    from paper_figures.animation import animate

    info = animate(rec, problem, args.out, fps=args.fps, max_frames=args.max_frames,
                   progress=False if args.no_progress else None, dpi=args.dpi)
    print(f"wrote {info.path}: {info.frames} frames of {info.snapshots} snapshots "
          f"({info.later_phase_frames} after escape, G_t), {info.seconds:.1f} s")
    return 0
