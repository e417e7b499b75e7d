"""The package's own predictions through its own claim check, on many drawn datasets.

Draws datasets from the `claim_check` property's strategy (generic and clustered data, n ≤ 40,
d = 2..4, every activation and loss), runs `predict` and then the claim check (exact side and
training side) on each, and counts acceptances per activation, loss, d and family.  Data on
which G vanishes identically are counted as degenerate (no claim to check).  Every finished
dataset is appended to ``--out/runs.jsonl`` (resumable); the table goes to
``--out/claim_acceptance.md``.

    python3 benchmarks/claim_acceptance.py --count 200 --jobs 2 --out claim-acceptance
"""

from __future__ import annotations

import argparse
import platform
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from _runs import append_run, load_runs


def draw(count: int, seed: int):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    from verify.profiles import PROFILES
    from verify.properties import BY_NAME

    out = []

    @hseed(seed)
    @settings(max_examples=count, derandomize=False, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(BY_NAME["claim_check"].strategy(PROFILES["full"]))
    def collect(ex):
        out.append(ex)

    collect()
    return out[:count]


def one(k: int, ex) -> dict:
    import torch

    from theory.extrema import predict
    from verify.claim import check_claim

    torch.set_num_threads(1)
    p = ex.problem()
    t0 = time.time()
    truth = predict(p, basins=True)
    rec = {"k": k, "n": p.n, "d": p.d, "activation": ex.activation, "loss": ex.loss,
           "family": ex.family, "extrema": len(truth.extrema)}
    if truth.degenerate and not truth.extrema:
        return dict(rec, verdict="degenerate", seconds=round(time.time() - t0, 1))
    v = check_claim(p, truth, truth=truth)
    return dict(rec, verdict="accepted" if v.passed else "rejected",
                reasons=[f.message for f in v.findings][:3],
                unresolved=v.resolution.get("training", {}).get("unresolved", []),
                not_probed=v.resolution.get("training", {}).get("not_probed", []),
                rate_unresolved=v.resolution.get("training", {}).get("rate_unresolved", []),
                seconds=round(time.time() - t0, 1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="claim-acceptance")
    args = ap.parse_args(argv)
    out = Path(args.out)
    log, done = load_runs(out, lambda rec: rec["k"])
    exs = draw(args.count, args.seed)
    todo = [(k, ex) for k, ex in enumerate(exs) if k not in done]
    print(f"{len(exs)} datasets, {len(exs) - len(todo)} done", flush=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futs = [pool.submit(one, k, ex) for k, ex in todo]
        for f in as_completed(futs):
            rec = f.result()
            done[rec["k"]] = rec
            append_run(log, rec)
            print(rec["k"], rec["verdict"], rec["seconds"], rec.get("reasons", ""), flush=True)
    recs = list(done.values())
    table(recs, out / "claim_acceptance.md")
    return 0


def table(recs: list, path: Path) -> None:
    verdicts = Counter(r["verdict"] for r in recs)
    lines = ["# The package's predictions through its own claim check", "",
             f"Machine: {platform.machine()}; {len(recs)} drawn datasets: "
             + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())) + ".", ""]
    for key in ("activation", "loss", "d", "family"):
        c = Counter((r[key], r["verdict"]) for r in recs)
        vals = sorted({r[key] for r in recs}, key=str)
        lines.append(f"- by {key}: " + "; ".join(
            f"{v}: " + ", ".join(f"{c[(v, w)]} {w}" for w in sorted(verdicts) if c[(v, w)])
            for v in vals))
    big = [r for r in recs if r["n"] >= 20]
    lines.append(f"- n ≥ 20: {len(big)} datasets, "
                 f"{sum(r['verdict'] == 'accepted' for r in big)} accepted")
    unres = sum(len(r.get("unresolved", [])) + len(r.get("not_probed", [])) for r in recs)
    lines.append(f"- extrema whose direction the training side could not resolve within its "
                 f"budget (not probed, or probe unresolved; judged by the exact side only): "
                 f"{unres}")
    if any("rate_unresolved" in r for r in recs):
        lines.append("- rates not resolved (step bias not of first order; the exact side "
                     f"judges them): {sum(len(r.get('rate_unresolved', [])) for r in recs)}")
    secs = sorted(r["seconds"] for r in recs)
    if secs:
        lines.append(f"- seconds per dataset: median {secs[len(secs) // 2]}, max {secs[-1]}")
    rej = [r for r in recs if r["verdict"] == "rejected"]
    if rej:
        lines += ["", "Rejections:", ""]
        lines += [f"- #{r['k']} (n={r['n']}, d={r['d']}, {r['activation']}, {r['loss']}, "
                  f"{r['family']}): {r['reasons']}" for r in rej]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
