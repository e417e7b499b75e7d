"""``sbias predict``: the extremal directions of G for a dataset (DESIGN §4)."""

from __future__ import annotations

import argparse

import numpy as np

from theory.errors import InputError

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
first order along one side, or dependent points through the kink).  Every reported extremum is
certified in exact arithmetic for relu / leaky_relu / abs; for tanh / gelu the leading-order
G(w) ≈ σ'(0)⟨w, v⟩ is used.  "degenerate": true with no extrema means G vanishes identically
(no first-order prediction).  basin: share of random starting directions whose reduced flow
ends at the direction (binomial sd sqrt(p(1-p)/K)).
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
    p.add_argument("--json", action="store_true", help="JSON on stdout (DESIGN §4 schema)")
    p.add_argument("--init", default="small_a", choices=("small_a", "balanced"),
                   help="initialisation for the basins: small_a (|a| ≪ |w|, a takes the sign of "
                        "G) or balanced (|a| = |w|, random sign); default small_a")
    p.add_argument("--basin-samples", type=int, default=2000, metavar="K",
                   help="random starting directions for the basin fractions (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed for basins and search (default 0)")
    p.add_argument("--no-basins", action="store_true", help="skip the basin estimate")
    p.set_defaults(func=run)


def _table(pred, d: int) -> str:
    if pred.degenerate:
        return "degenerate: G vanishes identically; the first-order theory predicts nothing."
    head = ["#", "direction"] + (["angle°"] if d == 2 else []) + \
        ["sign", "G", "growth", "kind", "basin", "exact"]
    rows = []
    for k, e in enumerate(pred.extrema):
        row = [str(k), "[" + ", ".join(f"{v:+.6f}" for v in e.direction) + "]"]
        if d == 2:
            row.append(f"{np.degrees(np.arctan2(e.direction[1], e.direction[0])):+.3f}")
        row += [f"{e.sign:+d}", f"{e.G:+.6g}", f"{e.growth_rate:.6g}", e.kind,
                "-" if e.basin_fraction is None else f"{e.basin_fraction:.3f}",
                e.exact or "-"]
        rows.append(row)
    w = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(h.ljust(x) for h, x in zip(head, w))]
    lines += ["  ".join(c.ljust(x) for c, x in zip(r, w)) for r in rows]
    lam = "none" if pred.lambda_max is None else f"{pred.lambda_max:.6g}"
    lines.append(f"lambda_max = {lam}; method = {pred.method}; complete = {pred.complete}")
    return "\n".join(lines)


def run(args) -> int:
    from theory.extrema import predict
    from theory.problem import Problem

    if args.basin_samples < 1:
        raise InputError(f"--basin-samples must be a positive integer, got {args.basin_samples}")
    problem = Problem.load_npz(args.data, args.activation, args.loss)
    pred = predict(problem, exact=args.exact, basins=not args.no_basins, init=args.init,
                   basin_samples=args.basin_samples, seed=args.seed)
    if args.json:
        print_json(pred.to_json())
    else:
        print(_table(pred, problem.d))
    return 0
