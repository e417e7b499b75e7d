"""Training benchmarks (DESIGN §6): ratios measured side by side in one run.

1. Figure 2 setting (m=4096, n=512, d=2, float64, CPU): time per full-batch step of the engine
   against an idiomatic PyTorch loop (nn.Sequential, DataLoader, BCEWithLogitsLoss, SGD, weights
   copied out every epoch).  Target: >= 3x faster.
2. 64 small problems (n=16, d=3, m=256) trained to escape: one batched tensor program against
   64 idiomatic loops, both with the same constant step (and, for information, the batched
   adaptive step).  Target: >= 20x faster.
3. Escape at eps=1e-12 with the adaptive step: <= 300 steps, and every heavy neuron's final
   direction within 0.5 degrees of a small constant-step run.
4. (CUDA only) m=65536, n=4096, d=32 in float32 and float64: engine vs idiomatic loop.

Usage: ``python benchmarks/bench_train.py [--threads N] [--out benchmarks/results_train.md]``.
``--threads`` (default 1) pins torch's intra-op threads for BOTH sides of every ratio; the
team's machine has 2 shared cores and oversubscribed threads make timings meaningless.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numerics.batched import train_batched  # noqa: E402
from numerics.datasets import make_dataset  # noqa: E402
from numerics.engine import ESCAPE_LEVEL, train  # noqa: E402
from numerics.init import init_weights  # noqa: E402
from numerics.measure import angle_deg, directions, mass  # noqa: E402
from theory.problem import Problem  # noqa: E402


# ----------------------------------------------------------------------------- idiomatic loop
def idiomatic_loop(X, y01, W0, a0, lr, epochs, device="cpu", until_escape=False):
    """The reference: nn.Sequential + DataLoader + BCEWithLogitsLoss + SGD, weights copied out
    every epoch.  Returns (epochs run, seconds)."""
    n, d = X.shape
    m = W0.shape[0]
    dtype = W0.dtype
    net = torch.nn.Sequential(torch.nn.Linear(d, m, bias=False), torch.nn.ReLU(),
                              torch.nn.Linear(m, 1, bias=False)).to(device=device, dtype=dtype)
    with torch.no_grad():
        net[0].weight.copy_(W0)
        net[2].weight.copy_(a0[None, :])
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X.to(device), y01.to(device)), batch_size=n)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    crit = torch.nn.BCEWithLogitsLoss()
    history = []
    t0 = time.perf_counter()
    done = 0
    for _ in range(epochs):
        done += 1
        for xb, yb in loader:
            opt.zero_grad()
            logits = net(xb).squeeze(-1)
            loss = crit(logits, yb)
            loss.backward()
            opt.step()
        history.append([p.detach().cpu().numpy().copy() for p in net.parameters()])
        if until_escape and logits.detach().pow(2).mean().sqrt().item() >= ESCAPE_LEVEL:
            break
    if device != "cpu":
        torch.cuda.synchronize()
    return done, time.perf_counter() - t0


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def per_step(problem, m, eps, steps, reps, device="cpu", dtype=torch.float64):
    """Median seconds per step: engine vs idiomatic, interleaved reps (same load for both)."""
    X = torch.tensor(problem.X, dtype=dtype)
    y01 = torch.tensor((problem.y + 1) / 2, dtype=dtype)
    W0, a0 = init_weights("torch_default", m, problem.d, eps, seed=0, dtype=dtype)
    ours, ref = [], []
    train(problem, W0, a0, lr=2 ** -4, steps=2, device=device, dtype=dtype)  # warm-up
    idiomatic_loop(X, y01, W0, a0, 2 ** -4, 2, device)
    for _ in range(reps):
        _sync(device)
        t0 = time.perf_counter()
        train(problem, W0, a0, lr=2 ** -4, steps=steps, device=device, dtype=dtype,
              progress=False)
        _sync(device)
        ours.append((time.perf_counter() - t0) / steps)
        _, sec = idiomatic_loop(X, y01, W0, a0, 2 ** -4, steps, device)
        ref.append(sec / steps)
    return statistics.median(ours), statistics.median(ref)


# ----------------------------------------------------------------------------- benchmarks
def bench_figure2(lines, reps):
    X, y = make_dataset(f"skewed_xor:n=512,delta=0.2,sigma={0.1 / np.sqrt(2)},"
                        f"alpha={np.pi / 3}")
    P = Problem.from_arrays(X, y)
    ours, ref = per_step(P, 4096, 2 ** -7, steps=40, reps=reps)
    lines.append("## 1. Figure 2 setting, per full-batch step (m=4096, n=512, d=2, float64, CPU)")
    lines.append("")
    lines.append("| | ms/step |")
    lines.append("|---|---|")
    lines.append(f"| idiomatic PyTorch loop | {ref * 1e3:.2f} |")
    lines.append(f"| numerics.engine.train | {ours * 1e3:.2f} |")
    lines.append(f"| **ratio** | **{ref / ours:.1f}x** (target >= 3x) |")
    lines.append("")
    return ref / ours


def bench_batched(lines, B=64, n=16, d=3, m=256, eps=1e-4, lr=0.1):
    probs = [Problem.from_arrays(*make_dataset(f"generic:n={n},d={d}", seed=b)) for b in range(B)]
    inits = [init_weights("small_a", m, d, eps, seed=b) for b in range(B)]
    W0 = torch.stack([w for w, _ in inits])
    a0 = torch.stack([a for _, a in inits])
    train_batched(probs, W0, a0, lr=lr, steps=2)  # warm-up (the loops warm up on problem 0)
    t_batched, t_adapt = [], []
    for _ in range(3):  # median of 3: each batched run is short, the machine is shared
        t0 = time.perf_counter()
        runs = train_batched(probs, W0, a0, lr=lr, until_escape=True, max_steps=100_000)
        t_batched.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        runs_ad = train_batched(probs, W0, a0, adaptive=True, eta=0.1, lr_max=1.0,
                                until_escape=True)
        t_adapt.append(time.perf_counter() - t0)
    t_batched, t_adapt = statistics.median(t_batched), statistics.median(t_adapt)
    t0 = time.perf_counter()
    epochs = []
    for p, (w, a) in zip(probs, inits):
        e, _ = idiomatic_loop(torch.tensor(p.X), torch.tensor((p.y + 1) / 2), w, a, lr, 100_000,
                              until_escape=True)
        epochs.append(e)
    t_loops = time.perf_counter() - t0
    steps = [r.steps for r in runs]
    # the idiomatic loop checks escape after its update, the engine before: off by one step
    agree = max(abs(e - s) for e, s in zip(epochs, steps))
    lines.append(f"## 2. {B} small problems to escape (n={n}, d={d}, m={m}, eps={eps:g}, "
                 f"lr={lr})")
    lines.append("")
    lines.append("| | seconds | steps (max over problems) |")
    lines.append("|---|---|---|")
    lines.append(f"| {B} idiomatic loops | {t_loops:.2f} | {max(epochs)} |")
    lines.append(f"| batched, same constant lr (median of 3) | {t_batched:.2f} | {max(steps)} |")
    lines.append(f"| batched, adaptive (eta=0.1, median of 3) | {t_adapt:.2f} | "
                 f"{max(r.steps for r in runs_ad)} |")
    lines.append(f"| **ratio (same lr)** | **{t_loops / t_batched:.1f}x** (target >= 20x) | "
                 f"step counts agree to {agree} |")
    lines.append(f"| ratio (adaptive) | {t_loops / t_adapt:.1f}x | |")
    lines.append("")
    return t_loops / t_batched


def bench_adaptive(lines, eta=0.15):
    rows = []
    for spec in (f"skewed_xor:n=512,delta=0.2,sigma={0.1 / np.sqrt(2)},alpha={np.pi / 3}",
                 "xor:n=256", "generic:n=16,d=3"):
        P = Problem.from_arrays(*make_dataset(spec))
        W0, a0 = init_weights("small_a", 256, P.d, 1e-12, seed=0)
        t0 = time.perf_counter()
        fast = train(P, W0, a0, adaptive=True, eta=eta, lr_max=1.0, until_escape=True)
        t_fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        slow = train(P, W0, a0, lr=0.01, until_escape=True, max_steps=10 ** 6)
        t_slow = time.perf_counter() - t0
        ang = angle_deg(directions(fast.W), directions(slow.W))
        heavy = mass(slow.W, slow.a) >= 0.1 / len(slow.a)
        rows.append((spec.split(":")[0], fast.steps, slow.steps, ang[heavy].max(),
                     float(np.sum(mass(slow.W, slow.a) * ang)), fast.escape_time,
                     slow.escape_time, t_fast, t_slow))
    lines.append(f"## 3. Escape at eps=1e-12: adaptive (eta={eta}) vs small constant step "
                 "(lr=0.01), m=256")
    lines.append("")
    lines.append("| data | adaptive steps | small-step steps | max angle, heavy neurons (deg) | "
                 "mass-weighted mean angle (deg) | t* adaptive | t* small-step | s adaptive | "
                 "s small-step |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]:.4f} | {r[5]:.2f} | "
                     f"{r[6]:.2f} | {r[7]:.2f} | {r[8]:.2f} |")
    lines.append("")
    lines.append("Targets: <= 300 adaptive steps and <= 0.5 degrees.")
    lines.append("")
    return rows


def bench_gpu(lines):
    if not torch.cuda.is_available():
        lines.append("## 4. GPU (m=65536, n=4096, d=32): skipped, no CUDA device")
        lines.append("")
        return
    lines.append(f"## 4. GPU: {torch.cuda.get_device_name(0)} (m=65536, n=4096, d=32)")
    lines.append("")
    lines.append("| dtype | engine ms/step | idiomatic ms/step | ratio |")
    lines.append("|---|---|---|---|")
    P = Problem.from_arrays(*make_dataset("generic:n=4096,d=32"))
    for dtype in (torch.float32, torch.float64):
        ours, ref = per_step(P, 65536, 2 ** -7, steps=50, reps=3, device="cuda", dtype=dtype)
        lines.append(f"| {str(dtype)[6:]} | {ours * 1e3:.2f} | {ref * 1e3:.2f} | "
                     f"{ref / ours:.1f}x |")
    lines.append("")


def machine() -> str:
    cpu = platform.processor() or "unknown cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"{platform.platform()}; {cpu}; {os.cpu_count()} logical CPUs; torch "
            f"{torch.__version__}; torch threads {torch.get_num_threads()}; load average at "
            f"start {load[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=str(Path(__file__).with_name("results_train.md")))
    ap.add_argument("--only", default="1,2,3,4")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    only = set(args.only.split(","))
    lines = ["# Training benchmarks (benchmarks/bench_train.py)", "", f"Machine: {machine()}",
             "", "Ratios are measured side by side in one run (interleaved where possible).", ""]
    if "1" in only:
        bench_figure2(lines, args.reps)
    if "2" in only:
        bench_batched(lines)
    if "3" in only:
        bench_adaptive(lines)
    if "4" in only:
        bench_gpu(lines)
    text = "\n".join(lines) + "\n"
    from theory.atomic import atomic_write_text

    atomic_write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
