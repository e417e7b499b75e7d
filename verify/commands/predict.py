"""``sbias predict``: the extremal directions of G for a dataset (docs/cli.md)."""

from __future__ import annotations

import argparse

import numpy as np

from theory.errors import InputError
from theory.search import DEFAULT_TIME_BUDGET

from .common import add_activation_loss, print_json

DESCRIPTION = """\
Predict the directions that small-initialised neurons converge to in the early phase.

G(w) = (1/n) Σ_i c_i σ(⟨w, x_i⟩), with the loss weights c_i = −∂ℓ(y_i, f)/∂f at f = 0:
logistic c_i = y_i/2 (labels ±1, or {0,1} mapped to ±1), exponential c_i = y_i,
square c_i = y_i (real targets).

Sign convention: sign +1 is a strict local maximum of G on the unit sphere with G > 0 (where
neurons with output weight a > 0 go); sign −1 is a strict local minimum with G < 0 (neurons
with a < 0).  The growth rate is |G|; lambda_max is the largest one.  kind: smooth (no data
point orthogonal to the direction), kink (on hyperplanes ⟨u, x_i⟩ = 0), degenerate (G flat to
first order along one side, or dependent points through the kink).  For relu / leaky_relu /
abs every candidate is decided by an exact certificate when affordable (see "established"
below); for tanh / gelu the leading-order G(w) ≈ σ'(0)⟨w, v⟩ is used.  "degenerate": true
with no extrema means G vanishes identically (no first-order prediction).  basin: share of
random starting directions whose reduced flow ends at the direction (binomial sd
sqrt(p(1-p)/K)).

established: "certified" (exact face certificate, or the closed form ±v/|v| of a linear G) or
"verified" (the exact test was too large: float64 tests of random tangent directions and
perturbations passed; "evidence" gives their number and the confidence).  When candidates are
enumerated exhaustively the result is complete; in high dimension a multi-start search is used
("method": "search", "complete": false) and "coverage" bounds what it may have missed: the
share of uniform random starts that ended at no reported extremum, and a Good–Turing upper
bound, at the stated confidence, on the share whose flow ends at an extremum never reached.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("predict", help="extremal directions of G, growth rates, basins",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, metavar="F.npz",
                   help=".npz with arrays X (n×d) and y (n)")
    add_activation_loss(p)
    p.add_argument("--exact", action="store_true",
                   help="also print sympy closed forms of each direction and G")
    p.add_argument("--json", action="store_true", help="JSON on stdout (schema: docs/cli.md)")
    p.add_argument("--init", default="small_a", choices=("small_a", "balanced"),
                   help="initialisation for the basins: small_a (|a| ≪ |w|, a takes the sign of "
                        "G) or balanced (|a| = |w|, random sign); default small_a")
    p.add_argument("--basin-samples", type=int, default=2000, metavar="K",
                   help="random starting directions for the basin fractions (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed for basins and search (default 0)")
    p.add_argument("--no-basins", action="store_true", help="skip the basin estimate")
    p.add_argument("--time-budget", type=float, default=None, metavar="S",
                   help="seconds for the multi-start search and its exact certificates in high "
                        "dimension (default "
                        f"{DEFAULT_TIME_BUDGET:g}; the search takes half); candidates left "
                        "uncertified then are verified in float64 instead")
    p.add_argument("--search-starts", type=int, default=None, metavar="N",
                   help="force the multi-start search with N random starts (default: "
                        "exhaustive enumeration when affordable, else adaptive)")
    p.add_argument("--progress", action="store_true",
                   help="show a progress bar on stderr (default: only on a terminal)")
    p.set_defaults(func=run)


def _table(pred, d: int) -> str:
    if pred.degenerate:
        return "degenerate: G vanishes identically; the first-order theory predicts nothing."
    head = ["#", "direction"] + (["angle°"] if d == 2 else []) + \
        ["sign", "G", "growth", "kind", "established", "basin", "exact"]
    rows = []
    for k, e in enumerate(pred.extrema):
        row = [str(k), "[" + ", ".join(f"{v:+.6f}" for v in e.direction) + "]"]
        if d == 2:
            row.append(f"{np.degrees(np.arctan2(e.direction[1], e.direction[0])):+.3f}")
        row += [f"{e.sign:+d}", f"{e.G:+.6g}", f"{e.growth_rate:.6g}", e.kind,
                e.established or "-",
                "-" if e.basin_fraction is None else f"{e.basin_fraction:.3f}",
                e.exact or "-"]
        rows.append(row)
    w = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(h.ljust(x) for h, x in zip(head, w))]
    lines += ["  ".join(c.ljust(x) for c, x in zip(r, w)) for r in rows]
    lam = "none" if pred.lambda_max is None else f"{pred.lambda_max:.6g}"
    lines.append(f"lambda_max = {lam}; method = {pred.method}; complete = {pred.complete}")
    if pred.search is not None:
        cov = pred.coverage
        lines.append(f"search: {pred.search['starts']} random starts in "
                     f"{pred.search['seconds']:.1f} s"
                     + (" (stopped by the time budget)" if pred.search["stopped_by_budget"]
                        else "")
                     + f"; unassigned basin share {cov['unassigned_basin_share']:.3f}; "
                     f"missing basin share <= {cov['missing_mass_bound']:.3f} at confidence "
                     f"{cov['confidence']:g}")
    for note in pred.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def run(args) -> int:
    from theory.extrema import predict
    from theory.problem import Problem

    if args.basin_samples < 1:
        raise InputError(f"--basin-samples must be a positive integer, got {args.basin_samples}")
    if args.time_budget is not None and not (0 < args.time_budget < float("inf")):
        raise InputError(f"--time-budget must be a positive number of seconds, got "
                         f"{args.time_budget}")
    if args.search_starts is not None and args.search_starts < 1:
        raise InputError(f"--search-starts must be a positive integer, got {args.search_starts}")
    problem = Problem.load_npz(args.data, args.activation, args.loss)
    pred = predict(problem, exact=args.exact, basins=not args.no_basins, init=args.init,
                   basin_samples=args.basin_samples, seed=args.seed,
                   search_starts=args.search_starts, time_budget=args.time_budget,
                   progress=True if args.progress else None)
    if args.json:
        print_json(pred.to_json())
    else:
        print(_table(pred, problem.d))
    return 0
