"""Time `theory.extrema.predict` on random generic data (logistic loss, ReLU).

Part 1 (small and mid-size data): n=1000, d=2 (< 1 s); n=200, d=3 (< 10 s); n=500, d=10
(< 60 s); basins off and on timed separately.

Part 2 (scale): n=100, d=50 (< 30 s); n=1000, d=20 (< 60 s); n=2000, d=100 (< 5 min), basins off,
default time budget: the whole `predict` call in-process (data already loaded, no CLI start-up),
with the random starts completed, the extrema certified exactly vs verified in float64, the
largest zero-set dimension certified, and the coverage statement.

Part 3 (exact certificate against k): a kink where k hyperplanes meet (|z| activation, data
x_i = R e_i with a random integer matrix R, see tests/test_certificate.py), certified exactly
(one k×k integer solve) and verified in float64, timed.

Writes benchmarks/results_predict.md.  Run: python3 benchmarks/bench_predict.py
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
SCALE = [(100, 50, 30.0), (1000, 20, 60.0), (2000, 100, 300.0)]
KS = [10, 20, 40, 60, 80, 99]


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        name = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                     if ln.startswith("Model name")), platform.processor())
    except OSError:
        name = platform.processor()
    import os
    return f"{name}, {os.cpu_count()} CPUs visible (shared by the team)"


def random_problem(n, d):
    rng = np.random.default_rng(n * 100 + d)
    return Problem.from_arrays(rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], n),
                               "relu", "logistic")


def part1():
    rows = []
    for n, d, target in CASES:
        p = random_problem(n, d)
        t0 = time.perf_counter()
        pred = predict(p, basins=False)
        t_off = time.perf_counter() - t0
        p = random_problem(n, d)  # fresh: no cached exact data
        t0 = time.perf_counter()
        pred_b = predict(p, basins=True)
        t_on = time.perf_counter() - t0
        rows.append((n, d, pred.method, pred.complete, len(pred.extrema), t_off, t_on, target,
                     pred_b.unassigned_fraction))
        print(rows[-1], flush=True)
    lines = ["| n | d | method | complete | extrema | basins off (s) | basins on (s) | target "
             "(s, basins off) | unassigned basin share |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n, d, m, c, k, a, b, t, u in rows:
        lines.append(f"| {n} | {d} | {m} | {c} | {k} | {a:.2f} | {b:.2f} | {t:g} | {u:.3f} |")
    return lines


def part2():
    lines = ["| n | d | time (s) | target (s) | random starts | extrema | certified | verified "
             "| largest dim S certified | unassigned share | missing-mass bound (95 %) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, d, target in SCALE:
        p = random_problem(n, d)
        t0 = time.perf_counter()
        pred = predict(p, basins=False)
        t = time.perf_counter() - t0
        est = [e.established for e in pred.extrema]
        kmax = max((e.evidence["dim_S"] for e in pred.extrema
                    if e.established == "certified"), default=0)
        cov = pred.coverage
        lines.append(f"| {n} | {d} | {t:.1f} | {target:g} | {pred.search['starts']} | "
                     f"{len(est)} | {est.count('certified')} | {est.count('verified')} | "
                     f"{kmax} | {cov['unassigned_basin_share']:.3f} | "
                     f"{cov['missing_mass_bound']:.3f} |")
        print(lines[-1], flush=True)
    return lines


def ridge(d):
    """|z|, square loss: x_i = R e_i, y = (−10^6, …, −10^6, 1): a strict maximum where d − 1
    hyperplanes meet, at u ∝ R^{-T} e_d."""
    rng = np.random.default_rng(0)
    R = rng.integers(-3, 4, (d, d))
    while round(abs(np.linalg.det(R))) == 0:
        R = rng.integers(-3, 4, (d, d))
    y = np.array([-10**6] * (d - 1) + [1], dtype=object)
    p = Problem.from_arrays(R.T.astype(object), y, "abs", "square")
    u = np.linalg.solve(R.T.astype(float), np.eye(d)[-1])
    return p, u / np.linalg.norm(u)


def part3():
    from theory.certificate import certify, face_of
    from theory.verification import verify_face

    lines = ["| k (hyperplanes through the kink) | exact certificate (s) | passed | float64 "
             "verification (s) | passed |", "|---|---|---|---|---|"]
    for k in KS:
        p, u = ridge(k + 1)
        t0 = time.perf_counter()
        c = certify(p, u, 1, tol_zero=1e-9)
        te = time.perf_counter() - t0
        t0 = time.perf_counter()
        v = verify_face(p, face_of(p, u, 1e-9), 1)
        tv = time.perf_counter() - t0
        assert c.dim_S == k
        lines.append(f"| {k} | {te:.2f} | {c.passed} | {tv:.3f} | {v.passed} |")
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    import os

    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        p1 = part1()
        p2 = part2()
        p3 = part3()
    lines = ["# predict benchmark", "", f"Machine: {machine()}; load average "
             f"{os.getloadavg()[0]:.1f} when done.", "",
             "Random generic data (standard normal X, labels ±1), ReLU, logistic loss, seed "
             "n·100+d; basins with the default 2000 samples.", "", *p1, "",
             "## At scale (default time budget, basins off, in-process `predict`)", "", *p2, "",
             "## Exact certificate against the number k of hyperplanes through a kink", "",
             *p3]
    out = Path(__file__).with_name("results_predict.md")
    atomic_write_text(out, "\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
