"""``sbias verify``: run the property suite, check a claim, or replay a counterexample."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from theory.errors import InputError

from .common import add_activation_loss, print_json

HELP = """Three uses:

  sbias verify [--profile quick|ci|full] [--out DIR] [--json] [--only NAMES]
      Run the property suite: every claim of the theory (symbolic = numeric, conservation,
      certified and complete extrema, finite-ε agreement, clusters, width independence, growth
      rates, escape slope, mass concentration, XOR closed forms, basins) checked against real
      training on built-in and hypothesis-drawn datasets. Writes DIR/report.md,
      DIR/report.json, DIR/figures/*.png and, for a failing property, the shrunk
      counterexample DIR/counterexamples/NAME.npz with the command that replays it.
      quick: derandomised, CPU-sized (≤ 3 min on 2 cores); full: 25 random examples per
      property, GPU when present.

  sbias verify --data F.npz --claim CLAIM.json [--activation A] [--loss L] [--out DIR]
      Check a claimed set of extrema (the JSON schema of `sbias predict --json`) against
      training on that dataset: probes started next to each claimed direction must stay there
      and grow at the claimed rate; random small initialisations of several widths, seeds and
      ε must put their mass only on claimed directions of the right sign.

  sbias verify --replay DIR/counterexamples/NAME.npz
      Re-run the property a counterexample file names, with the package's theory.

Exit status: 0 every checked claim held, 1 a verification failed, 2 bad input."""


def register(sub) -> None:
    p = sub.add_parser("verify", help="check the theory against training (the main job)",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="quick", help="quick (default) | ci | full")
    p.add_argument("--out", default="sbias-verify", help="output folder (default sbias-verify)")
    p.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    p.add_argument("--only", default=None,
                   help="comma-separated property names to run (default: all)")
    p.add_argument("--plant", default=None, metavar="HOW[:ARG]",
                   help="run the suite against a deliberately wrong theory to see it fail: "
                        "rotate:DEG, flip_sign, growth:K, growth_top:K, drop, extra, "
                        "basins_reversed, weights:K, conserved_sum, xor_rotate:DEG, "
                        "xor_growth:K")
    p.add_argument("--data", default=None, help="dataset .npz (with --claim)")
    p.add_argument("--claim", default=None, help="claimed extrema, predict's JSON schema")
    p.add_argument("--replay", default=None, help="a counterexample .npz to re-run")
    p.add_argument("--device", default=None, help="auto | cpu | cuda (default: the profile's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_activation_loss(p)
    p.set_defaults(func=run)


def _theory(spec: str | None):
    from ..theory_bundle import package_theory, planted

    if not spec:
        return package_theory()
    how, _, arg = spec.partition(":")
    try:
        val = float(arg) if arg else None
    except ValueError:
        raise InputError(f"--plant argument {arg!r} is not a number") from None
    return planted(how, val)


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
    theory = _theory(args.plant)
    out = Path(args.out)
    t0 = time.time()
    results = run_suite(profile, theory, only, out,
                        progress=not args.no_progress and sys.stderr.isatty())
    data = write_report(results, out, profile.name, theory.name, time.time() - t0)
    if args.json:
        print_json(data)
    else:
        for r in results:
            print(f"{'PASS' if r.passed else 'FAIL'}  {r.name:28s} {r.examples:3d} examples  "
                  f"{r.seconds:6.1f} s  {r.message}")
            if r.counterexample and "reproduce" in r.counterexample:
                print(f"      counterexample: {r.counterexample['file']}\n"
                      f"      replay: {r.counterexample['reproduce']}")
        n_ok = sum(r.passed for r in results)
        print(f"{n_ok} passed, {len(results) - n_ok} failed  ({data['seconds']} s; report: "
              f"{out / 'report.md'})")
    return 0 if data["passed"] else 1


def _run_claim(args) -> int:
    from theory.atomic import atomic_write_json, atomic_write_text
    from theory.extrema import Prediction
    from theory.problem import Problem

    from ..claim import check_claim

    if not (args.data and args.claim):
        raise InputError("--data and --claim go together: both are needed to check a claim")
    problem = Problem.load_npz(args.data, args.activation, args.loss)
    try:
        text = Path(args.claim).read_text()
    except OSError as exc:
        raise InputError(f"cannot read claim file {args.claim}: {exc.strerror}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{args.claim}: not valid JSON ({exc.msg} at line {exc.lineno})") \
            from None
    claim = Prediction.from_json(obj)
    device = args.device or "cpu"
    from numerics.device import select_device

    select_device(device)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: see verify.runner.run_suite
    try:
        res = check_claim(problem, claim, device=device)
    finally:
        torch.set_num_threads(threads)
    out = Path(args.out)
    data = {"data": str(args.data), "claim": str(args.claim), "activation": str(
        problem.activation), "loss": str(problem.loss), **res.to_json()}
    atomic_write_json(out / "claim_report.json", data)
    lines = [f"# Claim check — {'HOLDS' if res.passed else 'REJECTED'}", "",
             f"Data `{args.data}` ({problem.describe()}), claim `{args.claim}` "
             f"({len(claim.extrema)} extrema).", ""]
    lines += [f"- {f}" for f in res.findings] or ["- every claimed extremum attracted its probe "
                                                  "and grew at the claimed rate; random starts "
                                                  "put their mass only on claimed extrema"]
    lines += ["", "## Probes", "", "```", json.dumps(res.probes, indent=1), "```", "",
              "## Random starts", "", "```", json.dumps(res.random_runs, indent=1), "```"]
    atomic_write_text(out / "claim_report.md", "\n".join(lines) + "\n")
    if args.json:
        print_json(data)
    else:
        print(f"claim {'HOLDS' if res.passed else 'REJECTED'}: {len(claim.extrema)} extrema "
              f"checked (report: {out / 'claim_report.md'})")
        for f in res.findings:
            print(f"  - {f}")
    return 0 if res.passed else 1


def _run_replay(args) -> int:
    from ..runner import replay

    name, o = replay(args.replay, _theory(args.plant))
    print(f"{'PASS' if o.passed else 'FAIL'}  {name}: {o.message}")
    if args.json:
        print_json({"property": name, "passed": o.passed, "message": o.message,
                    "measured": o.evidence})
    return 0 if o.passed else 1
