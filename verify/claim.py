"""Checking a claimed set of extrema against real training (``sbias verify --claim``).

A claim uses ``sbias predict``'s JSON schema, so a researcher's hand derivation is checked the
same way as the package's own prediction.  Two kinds of training evidence:

1. **Probes** — one small network per claimed extremum, its neurons started within ~3° of the
   claimed direction with ``a`` of the claimed sign and ``|a| = |w|`` (balanced, so each neuron's
   scale grows exactly like ``exp(λ t)`` while its direction is fixed).  A true extremum of that
   sign is an attractor of the sphere flow: the probe's mass must end within ``TAU_DEG`` of it,
   and its fitted growth rate must equal the claimed one within ``REL_TOL``.  A rotated direction
   drifts to the true one, a wrong sign runs away (it is a minimum of the ascent), a wrong rate
   is measured.
2. **Random starts** — networks of several widths, seeds and ε from isotropic small
   initialisation: at escape every heavy neuron must sit within ``TAU_DEG`` of a claimed
   extremum of its sign (at most ``DELTA`` of the mass elsewhere), so a missing extremum shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from numerics.batched import train_batched
from numerics.measure import growth_rates, match
from theory.extrema import Prediction

from .training import ETA, rate_bound, train_to_escape

TAU_DEG = 2.0  # > the adaptive step's kink chattering band η ≈ 1.1° (see verify.training)
PROBE_SPREAD = 0.05  # rad, ≈ 3°: probe neurons start this far from the claimed direction
PROBE_M = 16
PROBE_EPS = 1e-10
PROBE_MIN_MASS = 0.9  # share of the probe's mass that must end on the claimed direction
REL_TOL = 0.05  # growth rate: Euler bias ≈ η/2 = 1 % plus fit-window effects (growth_rates)
WINDOW = (0.3, 0.85)  # fraction of the probe's escape time used for the growth-rate fit
DELTA = 0.01  # mass of random-start runs allowed off the claimed extrema (transit, see above)
RANDOM_RUNS = ((256, 1e-8, 0), (1024, 1e-6, 1), (64, 1e-12, 2))  # (width, ε, seed)


@dataclass
class ClaimResult:
    passed: bool
    findings: list[str] = field(default_factory=list)
    probes: list[dict] = field(default_factory=list)
    random_runs: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"passed": self.passed, "findings": self.findings, "probes": self.probes,
                "random_runs": self.random_runs}


def _probe_init(u: np.ndarray, sign: int, seed: int):
    rng = np.random.default_rng(seed)
    U = u[None, :] + PROBE_SPREAD * rng.normal(size=(PROBE_M, len(u))) / math.sqrt(len(u))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    W = PROBE_EPS * U
    a = sign * PROBE_EPS * np.ones(PROBE_M)
    return W, a


def check_probes(problem, claim: Prediction, device="cpu") -> tuple[list[dict], list[str]]:
    """Train one probe per claimed extremum (batched) and compare with the claim."""
    ex = claim.extrema
    if not ex:
        return [], []
    inits = [_probe_init(np.asarray(e.direction, dtype=float), e.sign, k)
             for k, e in enumerate(ex)]
    W0 = torch.tensor(np.stack([w for w, _ in inits]))
    a0 = torch.tensor(np.stack([a for _, a in inits]))
    lr_max = 1.0 / rate_bound(problem)
    # a probe at a non-growing direction never escapes: stop it after the time a growth rate
    # of 1/20 of the data's rate bound would need
    t_cap = 20 * math.log(1 / PROBE_EPS) / rate_bound(problem)
    runs = train_batched([problem] * len(ex), W0, a0, adaptive=True, eta=ETA, lr_max=lr_max,
                         until_escape=True, t_max=t_cap, record="every:2", device=device)
    rows, findings = [], []
    for k, (e, run) in enumerate(zip(ex, runs)):
        mr = match(run.W, run.a, {"extrema": [{"direction": e.direction, "sign": e.sign}]},
                   TAU_DEG)
        row = {"extremum": k, "sign": e.sign, "direction": [round(float(v), 6) for v in
                                                           e.direction],
               "claimed_rate": e.growth_rate, "mass_on_claim": round(mr.matched_mass, 4),
               "escaped": run.escaped}
        if mr.matched_mass < PROBE_MIN_MASS:
            Uend = run.W / np.linalg.norm(run.W, axis=1, keepdims=True)
            mean = (Uend * (run.W**2).sum(1, keepdims=True)).sum(0)
            mean /= np.linalg.norm(mean)
            drift = math.degrees(math.acos(min(1.0, abs(float(mean @ e.direction)))))
            row["probe_end_direction"] = [round(float(v), 6) for v in mean]
            findings.append(f"extremum {k} (sign {e.sign:+d}) is not an attractor: neurons "
                            f"started 3° from it ended {drift:.1f}° away "
                            f"({100 * mr.matched_mass:.0f} % of the probe's mass stayed)")
        if run.escaped and math.isfinite(e.growth_rate):
            t = run.escape_time
            groups = np.zeros(PROBE_M, dtype=int)
            fitted = float(growth_rates(run.traj_times, run.W_traj, run.a_traj, groups,
                                        (WINDOW[0] * t, WINDOW[1] * t))[0])
            row["fitted_rate"] = round(fitted, 6)
            rel = fitted / e.growth_rate - 1 if e.growth_rate > 0 else math.inf
            row["rate_rel_error"] = round(rel, 4)
            if mr.matched_mass >= PROBE_MIN_MASS and not abs(rel) <= REL_TOL:
                findings.append(f"extremum {k}: growth rate {fitted:.5g} measured, "
                                f"{e.growth_rate:.5g} claimed ({100 * rel:+.1f} %)")
        elif not run.escaped and mr.matched_mass >= PROBE_MIN_MASS:
            findings.append(f"extremum {k}: the probe did not grow (claimed rate "
                            f"{e.growth_rate:.5g})")
        rows.append(row)
    return rows, findings


def check_random_starts(problem, claim: Prediction, device="cpu") -> tuple[list[dict], list[str]]:
    rows, findings = [], []
    for m, eps, seed in RANDOM_RUNS:
        run = train_to_escape(problem, m, eps, seed, device=device)
        if not run.escaped:
            if claim.extrema:
                findings.append(f"m={m}, ε={eps:g}: training did not escape")
            rows.append({"m": m, "eps": eps, "seed": seed, "escaped": False})
            continue
        mr = match(run.W, run.a, claim, 3.0)
        row = {"m": m, "eps": eps, "seed": seed, "escaped": True,
               "mass_on_claim": round(mr.matched_mass, 4),
               "escape_time": round(run.escape_time, 4)}
        if mr.unmatched_mass > DELTA:
            off = (mr.angles_deg > 3.0) & mr.heavy
            U = run.W[off] / np.linalg.norm(run.W[off], axis=1, keepdims=True)
            j = int(np.argmax((run.W[off] ** 2).sum(1))) if off.any() else None
            where = (f" (e.g. direction {np.round(U[j], 4).tolist()}, sign "
                     f"{int(np.sign(run.a[off][j])):+d})") if j is not None else ""
            findings.append(f"m={m}, ε={eps:g}: {100 * mr.unmatched_mass:.1f} % of the mass "
                            f"is at no claimed extremum of its sign{where}")
        rows.append(row)
    return rows, findings


def check_claim(problem, claim: Prediction, device: str = "cpu") -> ClaimResult:
    """Check every claimed extremum by probes, and the claim's completeness by random starts."""
    if claim.extrema and len(claim.extrema[0].direction) != problem.d:
        from theory.errors import InputError

        raise InputError(f"claim directions have {len(claim.extrema[0].direction)} entries; "
                         f"the data have d={problem.d}")
    probes, f1 = check_probes(problem, claim, device)
    randoms, f2 = check_random_starts(problem, claim, device)
    findings = f1 + f2
    return ClaimResult(not findings, findings, probes, randoms)
