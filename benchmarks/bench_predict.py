"""Time `theory.extrema.predict` on random generic data (logistic loss, ReLU).

Cases (issue 2 targets): n=1000, d=2 (< 1 s); n=200, d=3 (< 10 s); n=500, d=10 (< 60 s);
basins off and on timed separately.  Writes benchmarks/results_predict.md.
Run: python3 benchmarks/bench_predict.py
"""

from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from theory.atomic import atomic_write_text
from theory.extrema import predict
from theory.problem import Problem

CASES = [(1000, 2, 1.0), (200, 3, 10.0), (500, 10, 60.0)]


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        name = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                     if ln.startswith("Model name")), platform.processor())
    except OSError:
        name = platform.processor()
    import os
    return f"{name}, {os.cpu_count()} CPUs visible (shared by the team)"


def main() -> None:
    rows = []
    for n, d, target in CASES:
        rng = np.random.default_rng(n * 100 + d)
        X = rng.standard_normal((n, d))
        y = rng.choice([-1.0, 1.0], n)
        p = Problem.from_arrays(X, y, "relu", "logistic")
        t0 = time.perf_counter()
        pred = predict(p, basins=False)
        t_off = time.perf_counter() - t0
        p = Problem.from_arrays(X, y, "relu", "logistic")  # fresh: no cached exact data
        t0 = time.perf_counter()
        pred_b = predict(p, basins=True)
        t_on = time.perf_counter() - t0
        rows.append((n, d, pred.method, pred.complete, len(pred.extrema), t_off, t_on, target,
                     pred_b.unassigned_fraction))
        print(rows[-1], flush=True)
    lines = ["# predict benchmark", "", f"Machine: {machine()}.", "",
             "Random generic data (standard normal X, labels ±1), ReLU, logistic loss, seed "
             "n·100+d; basins with the default 2000 samples.", "",
             "| n | d | method | complete | extrema | basins off (s) | basins on (s) | target "
             "(s, basins off) | unassigned basin share |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n, d, m, c, k, a, b, t, u in rows:
        lines.append(f"| {n} | {d} | {m} | {c} | {k} | {a:.2f} | {b:.2f} | {t:g} | {u:.3f} |")
    out = Path(__file__).with_name("results_predict.md")
    atomic_write_text(out, "\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
