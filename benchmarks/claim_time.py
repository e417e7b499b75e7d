"""Wall time of the true claim check, ``sbias verify --data F --claim C``, as a user runs it.

The datasets are the claim-power sets (``benchmarks/claim_power.py``: n ≤ 50, d ≤ 3, extrema
known exactly); each claim is the package's exact prediction, which must be accepted.  Each
command runs with ``--workers 1`` (everything in one process) and ``--workers 2`` (the
enumeration, exact side and random starts in a second process beside the probes), side by
side in one run, and the two reports must give the same verdict.  The time is the command's
wall time (start-up and imports included) and the check's own ``seconds``.  Writes
``benchmarks/results_claim_time.md``.

    python3 benchmarks/claim_time.py [--only NAME] [--out benchmarks/results_claim_time.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from claim_power import datasets  # noqa: E402

OUT = Path(__file__).with_name("results_claim_time.md")


def timed(data: Path, claim: Path, act: str, loss: str, workers: int, out: Path) -> dict:
    """Run one claim check; its wall time, the check's own seconds and its verdict."""
    cmd = ["sbias", "verify", "--data", str(data), "--claim", str(claim), "--activation", act,
           "--loss", loss, "--workers", str(workers), "--out", str(out)]
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, capture_output=True, text=True).returncode
    wall = time.perf_counter() - t0
    rep = json.loads((out / "claim_report.json").read_text())
    return {"rc": rc, "wall": wall, "seconds": rep["seconds"], "passed": rep["passed"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="only datasets whose name contains this")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    from theory.extrema import predict
    from theory.problem import Problem

    rows = []
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i, (name, (X, y, act, loss)) in enumerate(datasets().items()):
            if args.only and args.only not in name:
                continue
            p = Problem.from_arrays(np.array(X, dtype=object), np.array(y, dtype=object), act,
                                    loss)
            data, claim = tmp / f"d{i}.npz", tmp / f"c{i}.json"
            np.savez(data, X=np.array(X), y=np.array(y))
            claim.write_text(json.dumps(predict(p, exact=True).to_json()))
            res = {w: timed(data, claim, act, loss, w, tmp / f"o{i}w{w}") for w in (1, 2)}
            row = {"dataset": name, "n": p.n, "d": p.d, "res": res,
                   "load": round(os.getloadavg()[0], 2)}
            print(json.dumps(row, ensure_ascii=False), flush=True)
            rows.append(row)
    lines = ["# Claim check: wall time of the true claim", "",
             f"Machine: {platform.platform()}, {os.cpu_count()} logical CPUs; load average "
             f"{load0:.2f} at the start.  `sbias verify --data F --claim C --workers W`; wall "
             "= the command (imports included), check = the report's `seconds`.", "",
             "| dataset | n, d | verdict (W=1 / W=2) | W=1 wall s | W=1 check s | W=2 wall s | "
             "W=2 check s | W=1 / W=2 (wall) |", "|" + "---|" * 8]
    for r in rows:
        a, b = r["res"][1], r["res"][2]
        verdict = "/".join("accepted" if x["passed"] else "REJECTED" for x in (a, b))
        lines.append(f"| {r['dataset']} | {r['n']}, {r['d']} | {verdict} | {a['wall']:.1f} | "
                     f"{a['seconds']:.1f} | {b['wall']:.1f} | {b['seconds']:.1f} | "
                     f"{a['wall'] / b['wall']:.2f}x |")
    worst = max((r["res"][2]["wall"] for r in rows), default=float("nan"))
    lines += ["", f"Slowest true claim check with `--workers 2`: {worst:.1f} s (wall)."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
