"""Checking a claimed set of extrema (``sbias verify --data F --claim C``): two sides, one verdict.

A claim uses ``sbias predict``'s JSON schema (:mod:`verify.claim_schema`), so a researcher's
hand derivation is checked exactly like the package's own prediction.

* The **exact side** (:mod:`verify.claim_exact`) needs no training: each claimed direction is
  certified on the data in exact arithmetic and its G and rate compared with the exact values;
  the claimed set is compared with the package's enumeration, and every missing or extra
  extremum is named.
* The **training side** (:mod:`verify.claim_training`) trains real networks: probes placed
  inside each claimed extremum's star must stay and grow at the claimed rate (every claimed
  extremum, the slowest included), and random small initialisations must settle only on
  claimed extrema.

The claim is **rejected if either side rejects**; each reason names the extremum and its
evidence, and the report states each side's resolution on this dataset: the smallest rotation
and the smallest relative rate error it detects, and why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from numerics.probes import DEFAULT_PROBES, ProbeSettings
from theory.errors import InputError
from theory.extrema import predict

from .claim_exact import ExactSide, Finding, exact_side
from .claim_schema import Claim, parse_claim
from .claim_training import RANDOM_RUNS, RandomRun, probe_side, random_side


@dataclass(frozen=True)
class ClaimSettings:
    """What the training side runs: probe settings and the random-start networks."""

    probes: ProbeSettings = DEFAULT_PROBES
    random_runs: tuple[RandomRun, ...] = RANDOM_RUNS
    basin_samples: int = 2000
    seed: int = 0
    exact: bool = True      # run the exact side
    training: bool = True   # run the training side


@dataclass
class ClaimVerdict:
    """The outcome: ``passed`` and the reasons (``findings``), the exact side's rows, the probes,
    the random runs, and both sides' ``resolution``."""

    passed: bool
    findings: list[Finding]
    exact: ExactSide
    probes: list[dict] = field(default_factory=list)
    random_runs: list[dict] = field(default_factory=list)
    resolution: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def reasons(self) -> list[str]:
        return [f.message for f in self.findings]

    def to_json(self) -> dict:
        return {"passed": self.passed, "findings": [f.to_json() for f in self.findings],
                "exact": {"rows": self.exact.rows, "missing": self.exact.missing,
                          "enumeration": self.exact.enumeration},
                "probes": self.probes, "random_runs": self.random_runs,
                "resolution": self.resolution, "seconds": round(self.seconds, 2)}


def as_claim(claim, d: int | None = None) -> Claim:
    """A :class:`Claim` from a Claim, a :class:`theory.extrema.Prediction`, or decoded JSON."""
    if isinstance(claim, Claim):
        return claim
    if hasattr(claim, "to_json"):
        claim = claim.to_json()
    return parse_claim(claim, d)


def _enumeration_and_random_starts(problem, claim, settings, truth, device):
    """The work that does not need the probes: the package's enumeration (unless ``truth``
    is given), the exact side, and the random-start networks (when training).  Returns
    (exact side, random rows, random findings)."""
    if truth is None:
        truth = predict(problem, basins=True, basin_samples=settings.basin_samples,
                        seed=settings.seed)
    ex = exact_side(problem, claim, truth)
    if not settings.exact:
        ex = ExactSide([], ex.matches, ex.rows, ex.missing, ex.enumeration, {})
    randoms, f_random = [], []
    if settings.training:
        randoms, f_random = random_side(problem, claim, settings.random_runs,
                                        settings.probes, device)
    return ex, randoms, f_random


def _can_fork(device) -> bool:
    """A forked worker is safe for CPU work on a platform with fork (a CUDA context does not
    survive a fork)."""
    import multiprocessing

    from numerics.device import select_device

    return (select_device(device).type == "cpu"
            and "fork" in multiprocessing.get_all_start_methods())


def _in_worker(job):
    """:func:`_enumeration_and_random_starts` in a worker process (one torch thread: small
    networks, see :func:`numerics.device.torch_threads`)."""
    from numerics.device import torch_threads

    with torch_threads(1):
        return _enumeration_and_random_starts(*job)


def check_claim(problem, claim, device: str = "cpu",
                settings: ClaimSettings = ClaimSettings(), truth=None,
                workers: int = 1) -> ClaimVerdict:
    """Check ``claim`` on ``problem`` from both sides (module docstring).  ``truth``: the
    package's prediction, if already computed (with basins).  ``workers`` ≥ 2 (CPU, where
    the platform can fork): the enumeration, the exact side and the random starts run in a
    forked second process while this one runs the probes (they are independent and seeded:
    the verdict does not depend on it).  A fork starts in milliseconds, where a spawned
    process spends seconds importing torch, more than a small claim's whole check; the
    child runs one torch thread and begins before this process trains anything."""
    t0 = time.time()
    claim = as_claim(claim, problem.d)
    if claim.extrema and len(claim.extrema[0].direction) != problem.d:
        raise InputError(f"claim directions have {len(claim.extrema[0].direction)} entries; "
                         f"the data have d={problem.d}")
    job = (problem, claim, settings, truth, device)
    probes, f_probe, res_probe = [], [], {}
    if settings.training and workers >= 2 and _can_fork(device):
        from .executors import ProcessPool

        with ProcessPool(1, start="fork") as pool:
            other = pool.submit(_in_worker, job)
            probes, f_probe, res_probe = probe_side(problem, claim, settings.probes, device)
            ex, randoms, f_random = other.result()
    else:
        ex, randoms, f_random = _enumeration_and_random_starts(*job)
        if settings.training:
            probes, f_probe, res_probe = probe_side(problem, claim, settings.probes, device)
    findings = ex.findings + f_probe + f_random
    resolution = {}
    if settings.exact:
        resolution["exact"] = dict(ex.resolution, why=(
            "claimed numbers are compared at the precision they are written with (half a unit "
            "in the last digit; float64 rounding for numbers printed in full)"))
    if res_probe:
        resolution["training"] = dict(res_probe, why=(
            "probes end within a few settle steps (√2·η_f/16 rad each) of a true extremum; the "
            "rate tolerance is the Richardson correction |λ̂(η/2) − λ̂(η)| plus 0.2 %, used "
            "only where the rates at 2η, η, η/2 show a first-order step bias; over the probes "
            "whose direction and rate were resolved"))
    return ClaimVerdict(not findings, findings, ex, probes, randoms, resolution,
                        time.time() - t0)


def render_markdown(verdict: ClaimVerdict, header: str) -> str:
    """``claim_report.md``: the verdict, every reason, both sides' evidence and resolution."""
    v = verdict
    lines = [f"# Claim check — {'HOLDS' if v.passed else 'REJECTED'}", "", header, ""]
    if v.findings:
        lines += ["## Why it is rejected", ""]
        lines += [f"- **{f.side}**: {f.message}" for f in v.findings]
    else:
        lines += ["Every claimed extremum is certified exactly with its G and growth rate, the "
                  "claim lists every extremum of the package's enumeration, probes stay at "
                  "every claimed direction and grow at the claimed rate, and random starts "
                  "settle only on claimed extrema."]
    r = v.resolution
    lines += ["", "## Resolution on this dataset", ""]
    if r.get("exact"):
        lines.append(f"- exact side: rotations above {r['exact']['rotation_deg']:.3g}° and "
                     f"relative rate errors above {r['exact']['rate_rel']:.3g} are detected "
                     f"({r['exact']['why']})")
    if r.get("training") and "rotation_deg" in r["training"]:
        lines.append(f"- training side: rotations above {r['training']['rotation_deg']:.3g}° "
                     f"and relative rate errors above {r['training']['rate_rel']:.3g} are "
                     f"detected ({r['training']['why']})")
        t = r["training"]
        lines.append(f"- not resolved by training (judged by the exact side only): not probed "
                     f"{t.get('not_probed', [])}, direction {t.get('unresolved', [])}, rate "
                     f"{t.get('rate_unresolved', [])}")
    e = v.exact
    lines += ["", "## Exact side", "", f"Enumeration: {e.enumeration}", "",
              "| claimed | sign | matched | angle (deg) | kind | G exact | rate error |",
              "|---|---|---|---|---|---|---|"]
    for row in e.rows:
        lines.append(f"| {row['claimed']} | {row['sign']:+d} | {row.get('matched')} | "
                     f"{row.get('angle_deg', float('nan')):.3g} | {row.get('kind', '')} | "
                     f"{row.get('G_exact', float('nan')):.6g} | "
                     f"{row.get('rate_rel_error', float('nan')):+.3g} |")
    if e.missing:
        lines += ["", "Missing from the claim:", ""]
        lines += [f"- {m}" for m in e.missing]
    lines += ["", "## Probes", "", "| claimed | star (deg) | start (deg) | end angle (deg) | "
              "threshold | fitted rate | claimed rate | tolerance | steps |",
              "|---|---|---|---|---|---|---|---|---|"]
    for p in v.probes:
        if p.get("skipped"):
            lines.append(f"| {p['claimed']} | not probed: {p['why']} | | | | | | | |")
            continue
        lines.append(f"| {p['claimed']} | {p['star_radius_deg']:.3g} | "
                     f"{p['start_radius_deg']:.3g} | {p['end_angle_deg']:.3g} | "
                     f"{p['angle_threshold_deg']:.2g} | {p['fitted_rate']:.6g} | "
                     f"{p['claimed_rate']:.6g} | {p['rate_tolerance']:.2g} | {p['steps']} |")
    lines += ["", "## Random starts", ""]
    for rr in v.random_runs:
        lines.append(f"- width {rr['m']}, ε = {rr['eps']:g}, seed {rr['seed']}: " + (
            f"escaped at t* = {rr['escape_time']:.4g}; {rr['settled']} settled neurons, "
            f"{rr['matched']} on claimed extrema, {rr['unclaimed']} elsewhere, "
            f"{rr['transit']} in transit" if rr["escaped"] else "did not escape"))
        for g in rr.get("groups", []):
            lines.append(f"  - group of {g['neurons']} at {g['direction']} (sign "
                         f"{g['sign']:+d}): follow-up probe ended at {g['probe_end']}, "
                         f"{g['nearest_claimed_deg']:.3g}° from the nearest claimed extremum")
    lines.append(f"\n{v.seconds:.1f} s.")
    return "\n".join(lines) + "\n"


#: The six wrong claims of the claim check's power tests, by name (:func:`wrong_claims`).
WRONG_CLAIMS = ("drop_slowest", "rotate_slowest_3deg", "slowest_rate_x1.25",
                "fastest_rate_x1.10", "spurious_extra", "sign_flipped")


def wrong_claims(claim: dict) -> dict:
    """Six subtly wrong versions of a true claim (predict's JSON), by the names in
    :data:`WRONG_CLAIMS`: the slowest extremum dropped; the slowest rotated by 3°; the slowest
    growth rate × 1.25; the fastest × 1.10; a spurious extra direction (seeded, with the
    largest rate); the fastest's sign flipped.  A claim check with power rejects each."""
    import copy

    import numpy as np

    from .theory_bundle import _rotate

    ex = claim["extrema"]
    rates = [e["growth_rate"] for e in ex]
    ks, kf = int(np.argmin(rates)), int(np.argmax(rates))
    out = {name: copy.deepcopy(claim) for name in WRONG_CLAIMS}
    out["drop_slowest"]["extrema"].pop(ks)
    e = out["rotate_slowest_3deg"]["extrema"][ks]
    e["direction"] = list(_rotate(np.array(e["direction"]), 3.0))
    for name, k, factor in (("slowest_rate_x1.25", ks, 1.25), ("fastest_rate_x1.10", kf, 1.10)):
        e = out[name]["extrema"][k]
        e["G"] *= factor
        e["growth_rate"] *= factor
    u = np.random.default_rng(7).normal(size=len(ex[0]["direction"]))
    out["spurious_extra"]["extrema"].append({"direction": list(u / np.linalg.norm(u)),
                                             "sign": 1, "G": max(rates),
                                             "growth_rate": max(rates)})
    e = out["sign_flipped"]["extrema"][kf]
    e["sign"], e["G"] = -e["sign"], -e["G"]
    return out
