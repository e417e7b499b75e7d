"""The claim check's power both ways, on datasets whose extrema are known exactly.

Every dataset has integer (or exact) coordinates, so `sbias predict --exact` gives its extrema
as sympy closed forms.  For each: the true claim (the exact prediction) must be accepted, and
each of six wrong claims rejected — the slowest extremum dropped; the slowest rotated by 3°;
the slowest growth rate × 1.25; the fastest × 1.10; a spurious extra direction; one sign
flipped.  The table records the verdict and which side (exact, training) gave it, and the
time of each check.  Writes ``benchmarks/results_claim_power.md``.

    python3 benchmarks/claim_power.py [--out benchmarks/results_claim_power.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("results_claim_power.md")


def datasets() -> dict:
    """name -> (X, y, activation, loss): integer data, extrema known in closed form."""
    rng = np.random.default_rng(2024)
    out = {
        "3-D XOR (4 vertex maxima, 2 minima)": (
            [[1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1], [0, 1, 0], [0, -1, 0]],
            [1, 1, 1, 1, -1, -1], "relu", "logistic"),
        "symmetric XOR, 2-D": ([[1, 0], [-1, 0], [0, 1], [0, -1]], [-1, -1, 1, 1],
                               "relu", "logistic"),
        "generic 2-D, 6 points": ([[4, 1], [-2, 4], [-4, -3], [3, -4], [1, 5], [-5, 2]],
                                  [1, -1, 1, -1, -1, 1], "relu", "logistic"),
    }
    for k, (loss, act) in enumerate([("logistic", "relu"), ("square", "relu"),
                                     ("exponential", "relu"), ("logistic", "leaky_relu:1/10"),
                                     ("logistic", "abs"), ("square", "relu"),
                                     ("exponential", "leaky_relu:1/10")]):
        X = rng.integers(-5, 6, size=(12, 3))
        X[np.all(X == 0, axis=1)] = 1
        y = rng.integers(-3, 4, size=12) if loss == "square" else rng.choice([-1, 1], 12)
        out[f"generic 3-D integer #{k} ({act}, {loss})"] = (X.tolist(), y.tolist(), act, loss)
    # Narrow faces: a smooth extremum 0.15° from a kink hyperplane (the fastest), and a slow
    # one (λ = 0.54 λ_max) 0.22° from one; found by scanning random integer data.
    out["narrow face: smooth max 0.15° from a kink"] = (
        [[-6, 8, -3], [9, 7, -3], [-6, 1, -2], [3, 9, -5], [1, -2, 8], [2, -4, -6], [7, 5, 7],
         [9, -3, -9], [1, 9, -5], [0, -9, 6], [6, 0, -1], [-1, 1, -8]],
        [1, -1, 1, -1, -1, 1, -1, 1, -1, -1, -1, 1], "relu", "logistic")
    out["narrow face: slow smooth extremum 0.22° from a kink"] = (
        [[0, 4, -9], [2, 5, -8], [9, -5, 6], [7, 1, 9], [0, -7, 7], [-7, 9, 7], [-1, 3, -5],
         [-6, -4, 0], [-7, -2, -5], [-6, 9, 7], [4, -8, -1], [8, 3, -1]],
        [-1, 1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 1], "relu", "logistic")
    # The timing target's largest size: n = 50, d = 3.
    X = rng.integers(-9, 10, size=(50, 3))
    X[np.all(X == 0, axis=1)] = 1
    out["generic 3-D integer, n = 50"] = (X.tolist(), rng.choice([-1, 1], 50).tolist(), "relu",
                                          "logistic")
    return out


#: column titles of the table, in verify.claim.WRONG_CLAIMS order after "true"
TITLES = {"true": "true", "drop_slowest": "drop slowest",
          "rotate_slowest_3deg": "rotate slowest 3°", "slowest_rate_x1.25": "slowest rate ×1.25",
          "fastest_rate_x1.10": "fastest rate ×1.10", "spurious_extra": "spurious extra",
          "sign_flipped": "sign flipped"}


def variants(pj: dict) -> dict:
    """The true claim and the six wrong ones (:func:`verify.claim.wrong_claims`), by title."""
    from verify.claim import wrong_claims

    return {TITLES[k]: v for k, v in {"true": pj, **wrong_claims(pj)}.items()}


def main(argv=None) -> int:
    import torch

    from theory.extrema import predict
    from theory.problem import Problem
    from verify.claim import check_claim

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--only", default=None, help="substring of the dataset names to run")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name, (X, y, act, loss) in datasets().items():
        if args.only and args.only not in name:
            continue
        p = Problem.from_arrays(np.array(X, dtype=object), np.array(y, dtype=object), act,
                                loss)
        truth = predict(p, exact=True)
        kinds = {k: sum(e.kind == k for e in truth.extrema) for k in ("smooth", "kink",
                                                                        "degenerate")}
        slow = min(e.growth_rate for e in truth.extrema) / truth.lambda_max
        verdicts = {}
        for vname, claim in variants(truth.to_json()).items():
            t0 = time.time()
            v = check_claim(p, claim, truth=truth)
            sides = "+".join(sorted({f.side for f in v.findings}))
            verdicts[vname] = ("accepted" if v.passed else f"rejected ({sides})",
                               round(time.time() - t0, 1))
        row = {"dataset": name, "n": p.n, "d": p.d, "extrema": len(truth.extrema),
               "kinds": kinds, "slowest/λ_max": round(slow, 3), "verdicts": verdicts}
        print(json.dumps(row, ensure_ascii=False), flush=True)
        rows.append(row)
    names = list(variants({"extrema": [{"direction": [1, 0], "sign": 1, "G": 1,
                                        "growth_rate": 1}] * 2}))
    lines = ["# Claim check: power both ways", "",
             f"Machine: {platform.machine()}, {platform.processor() or 'CPU'}; one torch "
             "thread.  Each cell: the verdict (and the side that gave it) and seconds.", "",
             "| dataset | n, d | extrema (smooth/kink/degenerate) | slowest/λ_max | "
             + " | ".join(names) + " |", "|" + "---|" * (4 + len(names))]
    for r in rows:
        k = r["kinds"]
        cells = [f"{r['verdicts'][n][0]}, {r['verdicts'][n][1]} s" for n in names]
        lines.append(f"| {r['dataset']} | {r['n']}, {r['d']} | {r['extrema']} "
                     f"({k['smooth']}/{k['kink']}/{k['degenerate']}) | {r['slowest/λ_max']} | "
                     + " | ".join(cells) + " |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
