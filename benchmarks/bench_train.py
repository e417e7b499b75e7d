"""Training benchmarks: ratios measured side by side in one run.

1. Figure 2 setting (m=4096, n=512, d=2, float64, CPU): time per full-batch step of the engine,
   dense path and d = 2 arc path (``numerics.fast2d``), against an idiomatic PyTorch loop
   (nn.Sequential, DataLoader, BCEWithLogitsLoss, SGD, weights copied out every epoch),
   interleaved.  Targets: dense >= 3x, fast2d >= 30x.
   1b. How the step time scales with m (2^10 .. 2^20, n = 512) and with n (m = 4096), both
   paths (dense up to the sizes that fit).  1c. Small problems, where ``path="auto"`` keeps
   the dense step (fewer tensor operations).  1d. Agreement of the arc step with the dense
   step over random problems and exact ties.
2. 64 small problems (n=16, d=3, m=256) trained to escape: one batched tensor program against
   64 idiomatic loops, both with the same constant step (and, for information, the batched
   adaptive step).  Target: >= 20x faster.
3. Escape at eps=1e-12 with the adaptive step: <= 300 steps, and every heavy neuron's final
   direction within 0.5 degrees of a small constant-step run.
4. (CUDA only) m=65536, n=4096, d=32 in float32 and float64: engine vs idiomatic loop; and the
   d = 2 paths (dense and fast2d) at the Figure 2 setting and at m = 2^20, float32 and float64.

Usage: ``python benchmarks/bench_train.py [--threads N] [--out benchmarks/results_train.md]``.
``--threads`` (default 1) pins torch's intra-op threads for BOTH sides of every ratio; the
team's machine has 2 shared cores and oversubscribed threads make timings meaningless.
"""

from __future__ import annotations

import argparse
import math
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
from numerics.engine import ESCAPE_LEVEL, DenseNet, Fast2DNet, train  # noqa: E402
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


def per_step(problem, m, eps, steps, reps, device="cpu", dtype=torch.float64,
             paths=("auto",), idiomatic=True):
    """Seconds per step (median and min over ``reps``): the engine on each of ``paths`` and the
    idiomatic loop, interleaved (same load for all).  Each timed run includes its set-up."""
    X = torch.tensor(problem.X, dtype=dtype)
    y01 = torch.tensor((problem.y + 1) / 2, dtype=dtype)
    W0, a0 = init_weights("torch_default", m, problem.d, eps, seed=0, dtype=dtype)
    times = {p: [] for p in paths}
    times["idiomatic"] = []
    for p in paths:  # warm-up
        train(problem, W0, a0, lr=2 ** -4, steps=2, device=device, dtype=dtype, path=p)
    if idiomatic:
        idiomatic_loop(X, y01, W0, a0, 2 ** -4, 2, device)
    for _ in range(reps):
        for p in paths:
            _sync(device)
            t0 = time.perf_counter()
            train(problem, W0, a0, lr=2 ** -4, steps=steps, device=device, dtype=dtype,
                  progress=False, path=p)
            _sync(device)
            times[p].append((time.perf_counter() - t0) / steps)
        if idiomatic:
            _, sec = idiomatic_loop(X, y01, W0, a0, 2 ** -4, steps, device)
            times["idiomatic"].append(sec / steps)
    return {k: (statistics.median(v), min(v)) for k, v in times.items() if v}


def figure2_problem(n=512):
    X, y = make_dataset(f"skewed_xor:n={n},delta=0.2,sigma={0.1 / np.sqrt(2)},"
                        f"alpha={np.pi / 3}")
    return Problem.from_arrays(X, y)


# ----------------------------------------------------------------------------- benchmarks
def bench_figure2(lines, reps):
    t = per_step(figure2_problem(), 4096, 2 ** -7, steps=50, reps=reps,
                 paths=("dense", "fast2d"))
    ref = t["idiomatic"]
    lines.append("## 1. Figure 2 setting, per full-batch step (m=4096, n=512, d=2, float64, CPU)")
    lines.append("")
    lines.append(f"50-step runs (set-up included), {reps} interleaved repetitions.")
    lines.append("")
    lines.append("| | ms/step, median | ms/step, min | ratio to idiomatic (median) | "
                 "ratio (min) |")
    lines.append("|---|---|---|---|---|")
    for key, label in (("idiomatic", "idiomatic PyTorch loop"),
                       ("dense", "numerics.engine.train, path=dense"),
                       ("fast2d", "numerics.engine.train, path=fast2d (auto here)")):
        med, low = t[key]
        lines.append(f"| {label} | {med * 1e3:.3f} | {low * 1e3:.3f} | {ref[0] / med:.1f}x | "
                     f"{ref[1] / low:.1f}x |")
    lines.append("")
    lines.append("Targets: dense >= 3x, fast2d >= 30x the idiomatic loop.")
    lines.append("")
    return ref[0] / t["fast2d"][0]


def _step_time(problem, m, path, steps, reps=3):
    W0, a0 = init_weights("torch_default", m, problem.d, 2 ** -7, seed=0)
    train(problem, W0, a0, lr=2 ** -4, steps=1, path=path)  # warm-up
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        train(problem, W0, a0, lr=2 ** -4, steps=steps, progress=False, path=path)
        t1 = time.perf_counter()
        train(problem, W0, a0, lr=2 ** -4, steps=0, progress=False, path=path)
        best = min(best, (t1 - t0 - (time.perf_counter() - t1)) / steps)
    return best


def bench_scaling(lines, dense_max=2 ** 26):
    """Step time (set-up subtracted, min of 3) against m and n, both paths."""
    lines.append("## 1b. Step time against m (n = 512) and n (m = 4096), d = 2, float64, CPU")
    lines.append("")
    lines.append("Best of 3 runs, set-up (a 0-step run) subtracted; dense only while n·m <= "
                 f"{dense_max:.0e}.")
    lines.append("")
    lines.append("| n | m | fast2d ms/step | dense ms/step | dense/fast2d | fast2d ns per "
                 "(n + m) |")
    lines.append("|---|---|---|---|---|---|")
    P512 = figure2_problem()
    sizes = [(512, 2 ** k) for k in range(10, 21)] + [(2 ** k, 4096) for k in (6, 8, 10, 12, 14)]
    for n, m in sizes:
        P = P512 if n == 512 else figure2_problem(n)
        steps = max(3, min(50, int(2e7 // (n * m))))
        tf = _step_time(P, m, "fast2d", max(steps, 5))
        td = _step_time(P, m, "dense", steps) if n * m <= dense_max else math.nan
        ratio = f"{td / tf:.1f}x" if math.isfinite(td) else "—"
        dcol = f"{td * 1e3:.2f}" if math.isfinite(td) else "—"
        lines.append(f"| {n} | {m} | {tf * 1e3:.3f} | {dcol} | {ratio} | "
                     f"{tf * 1e9 / (n + m):.0f} |")
    lines.append("")


def bench_small(lines):
    """Where path="auto" keeps the dense step: n·m below 2^17."""
    lines.append("## 1c. Small problems: dense vs fast2d per step (sequential, d = 2, CPU)")
    lines.append("")
    lines.append("| n | m | n·m | dense ms/step | fast2d ms/step | auto picks |")
    lines.append("|---|---|---|---|---|---|")
    from numerics.engine import FAST2D_MIN_SIZE

    for n, m in ((16, 64), (64, 256), (64, 1024), (256, 256), (256, 512), (256, 1024),
                 (512, 1024)):
        P = Problem.from_arrays(*make_dataset(f"generic:n={n},d=2"))
        td = _step_time(P, m, "dense", 200)
        tf = _step_time(P, m, "fast2d", 200)
        pick = "fast2d" if n * m >= FAST2D_MIN_SIZE else "dense"
        lines.append(f"| {n} | {m} | {n * m} | {td * 1e3:.3f} | {tf * 1e3:.3f} | {pick} |")
    lines.append("")


def _one_step(net, P, W, a):
    X, y = torch.tensor(P.X), torch.tensor(P.y)
    nn = net(P, X)
    order = nn.data_order if nn.data_order is not None else torch.arange(P.n)
    f = nn.forward(nn.held(torch.tensor(W)), torch.tensor(a))
    gW, ga = nn.backward(P.loss.torch_neg_derivative(y[order], f) / P.n)
    f = torch.empty_like(f).index_copy_(0, order, f)
    return f.numpy(), nn.md(gW).numpy(), ga.numpy()


def bench_agreement(lines, trials=600):
    """max |fast2d − dense| / max |dense| over f, −∂L/∂W, −∂L/∂a of one step."""
    rng = np.random.default_rng(2024)
    worst = {"random": 0.0, "ties": 0.0}
    errs = []
    acts = ("relu", "leaky_relu:0.1", "abs", "linear")
    for k in range(trials):
        act, loss = acts[k % 4], ("logistic", "exponential", "square")[k % 3]
        n, m = int(rng.integers(3, 200)), int(rng.integers(1, 300))
        if k % 2:  # exact ties: integer points (repeats, multiples, antipodes, the ±π cut)
            base = rng.integers(-4, 5, size=(n, 2)).astype(float)
            X = np.concatenate([base, -base[: n // 3], 2 * base[: n // 4], [[-1.0, 0.0]]])
            X = X[np.abs(X).sum(1) > 0]
            rot = np.stack([-X[:, 1], X[:, 0]], 1)  # exactly orthogonal neurons
            W = np.concatenate([rot[rng.integers(0, len(X), m)] * 0.5,
                                rng.normal(size=(m, 2))])
            kind = "ties"
        else:
            X = rng.normal(size=(n, 2))
            W = rng.normal(size=(m, 2)) * 10.0 ** rng.uniform(-8, 0.5)
            kind = "random"
        y = rng.choice([-1.0, 1.0], size=len(X)) if loss != "square" else \
            rng.normal(size=len(X))
        a = rng.normal(size=len(W)) / math.sqrt(len(W))
        P = Problem.from_arrays(X, y, act, loss)
        fast, dense = _one_step(Fast2DNet, P, W, a), _one_step(DenseNet, P, W, a)
        err = max(float(np.max(np.abs(u - v)) / max(np.max(np.abs(v)), 1e-300))
                  for u, v in zip(fast, dense))
        worst[kind] = max(worst[kind], err)
        errs.append(err)
    lines.append("## 1d. Agreement of the fast2d step with the dense step (float64)")
    lines.append("")
    lines.append(f"{trials} one-step problems (ReLU, leaky ReLU 0.1, |z|, linear; three losses; "
                 "n < 200, m < 300): half random, half with exact ties (integer points "
                 "repeated, negated, doubled, on the ±π cut; neurons exactly orthogonal to "
                 "data points). Error: max |fast2d − dense| / max |dense| over f, −∂L/∂W, "
                 "−∂L/∂a.")
    lines.append("")
    lines.append("| random, max | with ties, max | all, median |")
    lines.append("|---|---|---|")
    lines.append(f"| {worst['random']:.1e} | {worst['ties']:.1e} | {np.median(errs):.1e} |")
    lines.append("")
    return worst


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
        lines.append("## 4. GPU: skipped, no CUDA device")
        lines.append("")
        return
    lines.append(f"## 4. GPU: {torch.cuda.get_device_name(0)}")
    lines.append("")
    lines.append("m=65536, n=4096, d=32 (dense path):")
    lines.append("")
    lines.append("| dtype | engine ms/step | idiomatic ms/step | ratio |")
    lines.append("|---|---|---|---|")
    P = Problem.from_arrays(*make_dataset("generic:n=4096,d=32"))
    for dtype in (torch.float32, torch.float64):
        t = per_step(P, 65536, 2 ** -7, steps=50, reps=3, device="cuda", dtype=dtype)
        ours, ref = t["auto"][0], t["idiomatic"][0]
        lines.append(f"| {str(dtype)[6:]} | {ours * 1e3:.2f} | {ref * 1e3:.2f} | "
                     f"{ref / ours:.1f}x |")
    lines.append("")
    lines.append("d = 2 (skewed XOR, n = 512), dense and fast2d paths, median of 3:")
    lines.append("")
    lines.append("| m | dtype | dense ms/step | fast2d ms/step | idiomatic ms/step | "
                 "idiomatic/fast2d |")
    lines.append("|---|---|---|---|---|---|")
    P2 = figure2_problem()
    for m in (4096, 2 ** 20):
        for dtype in (torch.float32, torch.float64):
            t = per_step(P2, m, 2 ** -7, steps=50, reps=3, device="cuda", dtype=dtype,
                         paths=("dense", "fast2d"))
            d_, f_, i_ = t["dense"][0], t["fast2d"][0], t["idiomatic"][0]
            lines.append(f"| {m} | {str(dtype)[6:]} | {d_ * 1e3:.2f} | {f_ * 1e3:.3f} | "
                         f"{i_ * 1e3:.2f} | {i_ / f_:.1f}x |")
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
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--out", default=str(Path(__file__).with_name("results_train.md")))
    ap.add_argument("--only", default="1,1b,1c,1d,2,3,4")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    only = set(args.only.split(","))
    lines = ["# Training benchmarks (benchmarks/bench_train.py)", "", f"Machine: {machine()}",
             "", "Ratios are measured side by side in one run (interleaved where possible).", ""]
    benches = {"1": lambda: bench_figure2(lines, args.reps), "1b": lambda: bench_scaling(lines),
               "1c": lambda: bench_small(lines), "1d": lambda: bench_agreement(lines),
               "2": lambda: bench_batched(lines), "3": lambda: bench_adaptive(lines),
               "4": lambda: bench_gpu(lines)}
    for key, bench in benches.items():  # in this order, whatever the order of --only
        if key in only:
            bench()
    text = "\n".join(lines) + "\n"
    from theory.atomic import atomic_write_text

    atomic_write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
