"""When does the batched engine pay in a sweep?  (``verify.sweep.BATCH_MAX_WORK``)

For a group of B cells that share a data set spec and width (B = seeds × ε values), time
training them one after the other with ``numerics.engine.train`` against one
``numerics.batched.train_batched`` call, side by side, on one torch thread, with the sweep's
usual recipe (adaptive steps, η = 0.1, until escape; ε spread over 1e-4 … 1e-10 so the
problems leave the batch at different steps).  Also B = 1 (a batched group of one cell), which
the sweep uses when a cell has no partner.  Writes ``benchmarks/results_sweep.md``.

    python3 benchmarks/bench_sweep.py
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from numerics.batched import train_batched
from numerics.datasets import make_dataset
from numerics.engine import train
from numerics.init import init_weights
from theory.problem import Problem

KW = dict(lr=1.0, adaptive=True, eta=0.1, until_escape=True, max_steps=100_000)
EPS = (1e-4, 1e-6, 1e-8, 1e-10)
REPEATS = 3


def cells(n: int, m: int, B: int):
    seeds = range(max(1, B // len(EPS)))
    out = []
    for s in seeds:
        X, y = make_dataset(f"xor:n={n}", seed=s)
        p = Problem.from_arrays(X, y, "relu", "logistic")
        for e in EPS[:B]:
            out.append((p, *init_weights("small_a", m, 2, e, s)))
    return out[:B]


def time_pair(n: int, m: int, B: int) -> tuple[float, float]:
    cs = cells(n, m, B)
    seq, bat = [], []
    for _ in range(REPEATS):  # interleaved, best of REPEATS each
        t0 = time.perf_counter()
        for p, W, a in cs:
            train(p, W, a, progress=False, **KW)
        seq.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        train_batched([c[0] for c in cs], torch.stack([c[1] for c in cs]),
                      torch.stack([c[2] for c in cs]), **KW)
        bat.append(time.perf_counter() - t0)
    return min(seq), min(bat)


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for n in (64, 256):
        for m in (64, 256, 1024, 4096):
            for B in (1, 8):
                s, b = time_pair(n, m, B)
                rows.append((n, m, B, m * n, s, b, s / b))
                print(f"n={n:4d} m={m:5d} B={B:2d} m·n={m * n:8d}  sequential {s:7.3f} s  "
                      f"batched {b:7.3f} s  ratio {s / b:5.2f}", flush=True)
    lines = ["# Sweep engine benchmark (benchmarks/bench_sweep.py)", "",
             f"Machine: {platform.platform()}; {os.cpu_count()} logical CPUs; torch "
             f"{torch.__version__}; 1 torch thread; load average at start "
             f"{os.getloadavg()[0]:.2f}.", "",
             "XOR data (n points), ReLU, logistic loss, adaptive steps η = 0.1 until escape; "
             f"B cells = seeds × ε in {EPS}; best of {REPEATS}, interleaved.", "",
             "| n | m | B | m·n | sequential train (s) | train_batched (s) | speed-up |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {n} | {m} | {B} | {w} | {s:.3f} | {b:.3f} | {r:.2f} |"
              for n, m, B, w, s, b, r in rows]
    Path(__file__).with_name("results_sweep.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
