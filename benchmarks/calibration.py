"""Measured calibration of the suite's verdicts (a measurement, not a test).

1. **False alarms**: the full profile on the package's own theory for seeds S (default 20
   seeds), each an independent draw of every property's examples.  A failure here is a false
   alarm (the suite's family-wise budget is 1 %).
2. **Power**: each planted wrong theory, with the same seeds, against the properties that
   target it (fail-fast, no shrinking: only the verdict is needed).  A plant counts as caught on
   a seed when any of its properties fails.  Running only the targeting properties gives a
   lower bound on the whole suite's power.

Runs are spread over ``--jobs`` processes (one torch thread each); every finished run is
appended to ``--out/runs.jsonl`` at once, so an interrupted calibration resumes where it
stopped.  The table goes to ``--out/calibration.md`` (copy it into BENCHMARKS.md).

    python3 benchmarks/calibration.py --seeds 20 --jobs 2 --out calibration-runs
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

from _runs import append_run, load_runs

#: plant (how, arg) -> the properties that target it
PLANTS = {
    ("weights", 1.5): ["symbolic_equals_numeric", "finite_eps_agreement"],
    ("conserved_sum", None): ["conservation"],
    ("rotate", 1.0): ["extrema_certified_complete", "claim_check"],
    ("rotate", 10.0): ["clusters_match", "extrema_certified_complete"],
    ("flip_sign", None): ["extrema_certified_complete", "clusters_match"],
    ("drop", None): ["extrema_certified_complete", "width_independence"],
    ("drop_slowest", None): ["extrema_certified_complete", "claim_check"],
    ("ignore_kinks", None): ["extrema_certified_complete", "clusters_match"],
    ("extra", None): ["extrema_certified_complete", "width_independence"],
    ("growth", 1.1): ["growth_rates", "escape_slope"],
    ("growth", 0.9): ["growth_rates", "escape_slope"],
    ("growth_slowest", 1.25): ["growth_rates", "claim_check"],
    ("growth_top", 1.3): ["mass_concentration", "escape_slope"],
    ("xor_rotate", 5.0): ["xor_closed_forms"],
    ("xor_growth", 1.5): ["xor_closed_forms"],
    ("basins_reversed", None): ["basin_fractions"],
    ("g_t_early_extrema", None): ["g_t_tracking"],
    ("xor_cos_2alpha", None): ["xor_persistence"],
    ("xor_swap_residuals", None): ["xor_persistence"],
}


def _one(kind: str, seed: int, plant=None) -> dict:
    import torch

    from verify.profiles import PROFILES
    from verify.runner import run_suite
    from verify.theory_bundle import package_theory, planted

    torch.set_num_threads(1)
    profile = replace(PROFILES["full"], seed=seed, device="cpu")
    t0 = time.time()
    if kind == "true":
        results = run_suite(profile, package_theory(), progress=False)
    else:
        how, arg = plant
        profile = replace(profile, shrink=False)
        results = run_suite(profile, planted(how, arg), only=PLANTS[plant], progress=False,
                            fail_fast=True)
    return {"kind": kind, "plant": list(plant) if plant else None, "seed": seed,
            "passed": all(r.passed for r in results), "seconds": round(time.time() - t0, 1),
            "failed": {r.name: r.message for r in results if not r.passed},
            "examples": {r.name: r.examples for r in results}}


def _key(rec: dict) -> tuple:
    return rec["kind"], tuple(rec["plant"]) if rec["plant"] else None, rec["seed"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--seed-list", default=None,
                    help="comma-separated seeds (instead of --seeds/--first-seed)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="calibration-runs")
    ap.add_argument("--only", choices=("true", "plants"), default=None)
    args = ap.parse_args(argv)
    out = Path(args.out)
    log, done = load_runs(out, _key)
    seeds = ([int(x) for x in args.seed_list.split(",")] if args.seed_list else
             list(range(args.first_seed, args.first_seed + args.seeds)))
    jobs = []
    if args.only in (None, "true"):
        jobs += [("true", s, None) for s in seeds]
    if args.only in (None, "plants"):
        # seed by seed, so that an interrupted calibration has every plant on the same seeds
        jobs += [("plant", s, p) for s in seeds for p in PLANTS]
    todo = [j for j in jobs if (j[0], j[2], j[1]) not in done]
    print(f"{len(jobs)} runs, {len(jobs) - len(todo)} already done", flush=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futs = {pool.submit(_one, *j): j for j in todo}
        for f in as_completed(futs):
            rec = f.result()
            done[_key(rec)] = rec
            append_run(log, rec)
            print(f"{rec['kind']} {rec['plant']} seed {rec['seed']}: "
                  f"{'pass' if rec['passed'] else 'FAIL'} ({rec['seconds']} s) "
                  f"{list(rec['failed'])}", flush=True)
            write_table(done, out / "calibration.md", seeds)
    write_table(done, out / "calibration.md", seeds)
    return 0


def write_table(done: dict, path: Path, seeds: list[int]) -> None:
    true = [r for r in done.values() if r["kind"] == "true" and r["seed"] in seeds]
    lines = ["# Calibration of the verdicts", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; full profile, seeds "
             f"{seeds[0]}…{seeds[-1]} planned.", "",
             "## The true theory (false alarms)", "",
             f"{sum(not r['passed'] for r in true)} failed of {len(true)} full runs; "
             f"median {sorted(r['seconds'] for r in true)[len(true) // 2] if true else 0} s "
             "per run.", ""]
    for r in true:
        if not r["passed"]:
            lines.append(f"- seed {r['seed']}: {r['failed']}")
    lines += ["", "## Planted wrong theories (power)", "",
              "| plant | targeting properties | caught | runs |", "|---|---|---|---|"]
    for plant, props in PLANTS.items():
        recs = [r for r in done.values() if r["kind"] == "plant" and tuple(r["plant"]) == plant
                and r["seed"] in seeds]
        caught = sum(not r["passed"] for r in recs)
        name = plant[0] + (f":{plant[1]:g}" if plant[1] is not None else "")
        lines.append(f"| {name} | {', '.join(props)} | {caught} | {len(recs)} |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
