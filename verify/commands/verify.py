"""``sbias verify``: run the property suite, check a claim, or replay a counterexample."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from theory.errors import InputError

from .common import add_activation_loss, print_json

HELP = """Four uses:

  sbias verify [--profile quick|ci|full] [--seed S] [--out DIR] [--json] [--only NAMES]
      Run the property suite: every claim of the theory (symbolic = numeric, conservation,
      certified and complete extrema, finite-ε agreement, clusters, width independence, growth
      rates, escape slope, mass concentration, XOR closed forms, basins, the claim check)
      checked against real training on built-in and hypothesis-drawn datasets (generic and
      clustered, n ≤ 40, d = 2..4, every activation and loss the claim covers). Writes
      DIR/report.md, DIR/report.json, DIR/figures/*.png and, for a failing property, the
      shrunk counterexample DIR/counterexamples/NAME.npz with the command that replays it.
      quick: derandomised, CPU-sized (≤ 3 min on 2 cores); full: 25 random examples per
      property (--seed S makes it reproducible), GPU when present. The suite's false-alarm
      budget (1 % per run on the true theory) is split over properties and examples; the
      report prints each share.

  sbias verify --data F.npz --claim CLAIM.json [--activation A] [--loss L] [--out DIR]
      Check a claimed set of extrema (the JSON schema of `sbias predict --json`) on that
      dataset from two sides. Exact: each claimed direction certified on the data, its G and
      growth rate compared with the exact values at the precision they are written with, the
      set compared with the package's enumeration (every missing or extra extremum named).
      Training: probes started inside each claimed extremum's star must stay and grow at the
      claimed rate; random small initialisations must settle only on claimed extrema.
      Rejected if either side rejects; the report gives each side's resolution.

  --workers N|auto (the suite): processes the properties run in (auto: one per CPU core).
      Results do not depend on it.

  sbias verify --theory FILE.py:NAME [--profile P] [--seed S] [--out DIR]
      Property-test your own theory: NAME(X, y, activation, loss) returns a list of extrema in
      predict's schema (direction, sign, G, growth_rate required). The prediction-based
      properties run with it on hypothesis-drawn datasets; a falsified theory ends with exit 1
      and the shrunk counterexample saved (npz, the extrema your theory claimed on it, the
      command that replays it). A theory that raises or returns a malformed list fails on
      that dataset.

  sbias verify --replay DIR/counterexamples/NAME.npz [--theory FILE.py:NAME]
      Re-run the property a counterexample file names (with the package's theory, or yours).

Exit status: 0 every checked claim held, 1 a verification failed, 2 bad input."""


def register(sub) -> None:
    p = sub.add_parser("verify", help="check the theory against training (the main job)",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="quick", help="quick (default) | ci | full")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the drawn examples (full profile: makes a run reproducible)")
    p.add_argument("--out", default="sbias-verify", help="output folder (default sbias-verify)")
    p.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    p.add_argument("--only", default=None,
                   help="comma-separated property names to run (default: all)")
    p.add_argument("--theory", default=None, metavar="FILE.py:NAME",
                   help="property-test your own theory (a callable in a Python file)")
    p.add_argument("--plant", default=None, metavar="HOW[:ARG]",
                   help="run the suite against a deliberately wrong theory to see it fail: "
                        f"{', '.join(PLANT_HELP)}")
    p.add_argument("--data", default=None, help="dataset .npz (with --claim)")
    p.add_argument("--claim", default=None, help="claimed extrema, predict's JSON schema")
    p.add_argument("--replay", default=None, help="a counterexample .npz to re-run")
    p.add_argument("--device", default=None, help="auto | cpu | cuda (default: the profile's)")
    p.add_argument("--workers", default="auto", metavar="N|auto",
                   help="processes the properties run in (default auto: one per CPU core; "
                        "with --claim, 2 or more also train the random starts beside the "
                        "probes); the results do not depend on it")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_activation_loss(p)
    p.set_defaults(func=run)


PLANT_HELP = ("rotate:DEG", "flip_sign", "growth:K", "growth_top:K", "growth_slowest:K", "drop",
              "drop_slowest", "ignore_kinks", "extra", "basins_reversed", "weights:K",
              "conserved_sum", "xor_rotate:DEG", "xor_growth:K", "g_t_early_extrema",
              "xor_cos_2alpha", "xor_swap_residuals")


def _theory(args):
    from ..theory_bundle import package_theory, planted

    if args.theory and args.plant:
        raise InputError("--theory and --plant exclude each other: test one theory at a time")
    if args.theory:
        from ..theory_plugin import load_theory

        return load_theory(args.theory)
    if not args.plant:
        return package_theory()
    how, _, arg = args.plant.partition(":")
    try:
        val = float(arg) if arg else None
    except ValueError:
        raise InputError(f"--plant argument {arg!r} is not a number") from None
    return planted(how, val)


def _workers(value: str) -> int:
    """``--workers``: a positive integer, or ``auto`` (the CPU cores this process may use)."""
    if str(value) == "auto":
        import os

        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"--workers must be a positive integer or auto, got {value!r}")
    return n


def run(args) -> int:
    if args.claim or args.data:
        return _run_claim(args)
    if args.replay:
        return _run_replay(args)
    return _run_suite(args)


def _run_suite(args) -> int:
    from numerics.device import select_device

    from ..profiles import get_profile
    from ..properties import BY_NAME
    from ..report import write_report
    from ..runner import run_suite

    profile = get_profile(args.profile)
    if args.seed is not None:
        from dataclasses import replace

        profile = replace(profile, seed=int(args.seed))
    if args.device:
        from dataclasses import replace

        select_device(args.device)  # validates
        profile = replace(profile, device=args.device)
    if profile.device == "auto":
        from dataclasses import replace

        profile = replace(profile, device=str(select_device("auto")))
    only = None
    if args.only:
        only = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in only if s not in BY_NAME]
        if unknown:
            raise InputError(f"unknown property {unknown[0]!r}; known: {', '.join(BY_NAME)}")
    theory = _theory(args)
    if args.theory and only is None:  # a researcher's theory: the prediction-based properties
        only = [p.name for p in BY_NAME.values() if p.uses_prediction]
    out = Path(args.out)
    t0 = time.time()
    results = run_suite(profile, theory, only, out,
                        progress=not args.no_progress and sys.stderr.isatty(),
                        workers=_workers(args.workers))
    data = write_report(results, out, profile.name, theory.name, time.time() - t0,
                        alpha_total=profile.alpha_total, seed=profile.seed,
                        device=profile.device)
    if args.json:
        print_json(data)
    else:
        for r in results:
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.name:28s} {r.examples:3d} examples  "
                  f"{r.seconds:6.1f} s  {r.message}")
            if r.excluded_count or r.not_applicable:
                print(f"      {r.not_applicable} not applicable, {r.excluded_count} extrema "
                      "excluded (reasons in the report)")
            if r.counterexample and "reproduce" in r.counterexample:
                print(f"      counterexample: {r.counterexample['file']}\n"
                      f"      replay: {r.counterexample['reproduce']}")
        n_ok = sum(r.passed for r in results)
        print(f"{n_ok} passed, {len(results) - n_ok} failed  ({data['seconds']} s; report: "
              f"{out / 'report.md'})")
    return 0 if data["passed"] else 1


def _run_claim(args) -> int:
    from theory.atomic import atomic_write_json, atomic_write_text
    from theory.problem import Problem

    from ..claim import check_claim, render_markdown
    from ..claim_schema import load_claim

    if not (args.data and args.claim):
        raise InputError("--data and --claim go together: both are needed to check a claim")
    problem = Problem.load_npz(args.data, args.activation, args.loss)
    claim = load_claim(args.claim, problem.d)
    device = args.device or "cpu"
    from numerics.device import select_device

    select_device(device)
    from numerics.device import torch_threads

    with torch_threads(1):  # small networks (numerics.device.torch_threads)
        res = check_claim(problem, claim, device=device, workers=_workers(args.workers))
    out = Path(args.out)
    data = {"data": str(args.data), "claim": str(args.claim), "activation": str(
        problem.activation), "loss": str(problem.loss), **res.to_json()}
    atomic_write_json(out / "claim_report.json", data)
    header = (f"Data `{args.data}` ({problem.describe()}), claim `{args.claim}` "
              f"({len(claim.extrema)} extrema).")
    atomic_write_text(out / "claim_report.md", render_markdown(res, header))
    if args.json:
        print_json(data)
    else:
        print(f"claim {'HOLDS' if res.passed else 'REJECTED'}: {len(claim.extrema)} extrema "
              f"checked in {res.seconds:.1f} s (report: {out / 'claim_report.md'})")
        for f in res.findings:
            print(f"  - [{f.side}] {f.message}")
    return 0 if res.passed else 1


def _run_replay(args) -> int:
    from ..runner import replay

    name, o = replay(args.replay, _theory(args))
    print(f"{'PASS' if o.passed else 'FAIL'}  {name}: {o.message}")
    if args.json:
        print_json({"property": name, "passed": o.passed, "message": o.message,
                    "measured": o.evidence})
    return 0 if o.passed else 1
