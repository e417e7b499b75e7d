"""The training side of a claim check: real gradient descent on the data.

**Probes** (one per claimed extremum, :mod:`numerics.probes`).  Balanced neurons start on a ring
of radius ``r_k = min(1°, ρ_k/4)`` around the claimed direction u_k, where ρ_k is the angle from
u_k to the nearest kink hyperplane ⟨w, x_i⟩ = 0 that does not pass through u_k: inside that
star G is exactly the linear model G(u_k + th) = G(u_k) + tφ(h), so a true extremum attracts
the whole ring (a smooth one with angular rate λ_k, a kink one at the constant slope of φ).  A
probe runs for 8/λ_p, λ_p = |G(u_k)| at the claimed direction, in the early phase.
Verdicts:

* *attractor*: the median final angle of the probe's neurons from u_k must be at most
  ``τ_k = 4·√2·η_f/16`` rad plus the claim's written-precision angle: after the settle segment
  at η_f/16 (η_f the finest step parameter used) a neuron on a kink moves at most √2·η_f/16 rad
  per step (the adaptive rule changes each neuron by at most that fraction of its size), so
  it sits within a few such steps of the kink; on a smooth face the remaining angle is
  ``r_k e^{−6}`` or less.  A rotated claim sends the ring to the true extremum, |rotation|
  away; a wrong sign or a non-extremum sends it elsewhere.
* *growth rate*: the Richardson-extrapolated, Euler-consistent rate λ̂ must equal the claimed
  rate within ``|λ̂(η/2) − λ̂(η)| + 2e-3·λ + (written precision)``: the first term bounds the
  extrapolation's remainder (the three levels showed a first-order bias, see
  ``numerics.probes.first_order``: the remainder is then ≤ 0.17 of the correction), 2e-3
  covers the fit over ≥ 6 growth times of float64 log-norms and the O(θ²) offset of a probe
  that sits a few hundredths of a degree from the extremum.

**Random starts.**  Networks of width m from isotropic small initialisation (|a| ≪ |w|) at a
realistic ε and at a tiny one (a long early phase: t* = log(1/ε)/λ_max), trained to escape with
η = 0.01.  A neuron is *settled* when it grew over the last third of the run (rate ≥ 10 % of
the fastest neuron's; the others sit in the ReLU dead region) and its direction stayed within
``SETTLE_DEG`` of its final one over that third (≥ the kink chattering band √2·η = 0.8°).
Settled neurons must sit within ``MATCH_DEG`` of a claimed extremum of their sign.  A group of
settled neurons elsewhere is followed up by a probe started at its centre: if that probe stays
there, the claim misses an extremum (found by training, whatever its share of the mass); if
it moves on to a claimed extremum, the group was slow transit and is only reported.  An
extremum with basin b is seen by a width-m run with probability 1 − (1 − b)^m when its neurons
have settled by escape (λ_k t* ≳ 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.init import init_weights
from numerics.measure import angle_deg, clusters, directions, norms
from numerics.probes import (
    DEFAULT_PROBES,
    STAR_FRACTION,
    ProbeSettings,
    probe_radius,
    run_probes,
    star_radius,
)

from .claim_exact import Finding
from .claim_schema import Claim
from .training import escape_level, rate_bound

RATE_FLOOR = 2e-3  # module docstring, "Probes": the fit of float64 log-norms, O(θ²) offsets
RANDOM_ETA = 0.01
SETTLE_DEG = 1.5  # ≥ the kink chattering band √2·RANDOM_ETA = 0.8°
MATCH_DEG = 2.0  # the clusters_match radius; above SETTLE_DEG, the band a settled neuron moves in
GROWING = 0.1  # slower neurons sit in the ReLU dead region (module docstring)
FOLLOW_THROUGH = math.sqrt(2) * RANDOM_ETA  # rad: a trained direction's chattering band


@dataclass(frozen=True)
class RandomRun:
    """A random-start network: width, ε, seed, and whether its settled neurons are judged.
    At a realistic ε (t* = log(1/ε)/λ_max ≈ 18/λ_max at 1e-8) the theory itself leaves slow
    neurons in transit at escape, so that run's numbers are reported, not judged."""

    m: int
    eps: float
    seed: int
    judged: bool = True


RANDOM_RUNS = (RandomRun(256, 1e-8, 0, judged=False), RandomRun(1024, 1e-40, 1))


def leading_G(problem, U: np.ndarray) -> np.ndarray:
    """G for piecewise-linear σ; its leading order σ'(0)⟨w, v⟩ for smooth σ."""
    act = problem.activation
    return problem.G(U) if act.piecewise_linear else act.deriv0 * (U @ problem.v)


def probe_inputs(problem, claim: Claim, settings: ProbeSettings = DEFAULT_PROBES):
    """(directions, stars, probe rates λ_p, start radii, through) of the claimed extrema."""
    ex = claim.extrema
    dirs = np.array([c.direction for c in ex])
    # a claimed direction is known to its written precision: hyperplanes that close count as
    # through it (its kinks)
    through = max((c.angle_tol for c in ex), default=0.0) + 1e-9
    rho = np.array([star_radius(problem, u, through) for u in dirs])
    Gu = np.abs(leading_G(problem, dirs))
    floor = 1e-6 * rate_bound(problem)
    lam_p = np.where(Gu > floor, Gu, np.maximum([c.growth_rate for c in ex], floor))
    radii = np.array([probe_radius(problem, u, c.sign, lam, settings, through)
                      for u, c, lam in zip(dirs, ex, lam_p)])
    return dirs, rho, lam_p, radii, through


def probe_side(problem, claim: Claim, settings: ProbeSettings = DEFAULT_PROBES,
               device="cpu") -> tuple[list[dict], list[Finding], dict]:
    """Probe every claimed extremum; returns (rows, findings, resolution)."""
    ex = claim.extrema
    if not ex:
        return [], [], {}
    dirs, rho, lam_p, radii, through = probe_inputs(problem, claim, settings)
    res = run_probes(problem, dirs, [c.sign for c in ex], radii, lam_p, settings,
                     device=device, through=through)
    rows, findings = [], []
    taus, rtols = [], []
    for k, (c, p) in enumerate(zip(ex, res)):
        if p.skipped:
            rows.append({"claimed": k, "sign": c.sign, "skipped": True, "steps": p.steps,
                         "why": "too slow to probe: gradient descent would chatter across its "
                                f"kink for ~{p.steps} steps (budget {settings.max_steps}); "
                                "judged by the exact side only"})
            continue
        tau = math.radians(p.angle_threshold_deg) + c.angle_tol
        rtol = p.rate_uncertainty + RATE_FLOOR * c.growth_rate + c.rate_tol
        rtols.append(rtol / c.growth_rate)
        row = {"claimed": k, "sign": c.sign, "star_radius_deg": math.degrees(rho[k]),
               "start_radius_deg": math.degrees(p.radius), "duration": p.duration,
               "eta": p.eta, "end_angle_deg": p.end_angle_deg,
               "median_neuron_angle_deg": p.median_angle_deg,
               "end_direction": [round(float(v), 6) for v in p.end_direction],
               "angle_threshold_deg": math.degrees(tau), "fitted_rate": p.rate,
               "rates_eta_pair": list(p.rates), "rate_tolerance": rtol,
               "claimed_rate": c.growth_rate, "steps": p.steps,
               "long_settle": p.long_settle}
        rows.append(row)
        if not p.grew:
            findings.append(Finding("training", k, "no_growth",
                                    f"claimed extremum {k}: probe neurons placed there did not "
                                    f"grow (claimed rate {c.growth_rate:.5g})", row))
            continue
        verdict = p.attractor(math.degrees(c.angle_tol))
        row["attractor"] = verdict
        row["rate_resolved"] = p.rate_resolved
        if verdict != "unresolved":  # the rotation this probe resolves
            taus.append(math.degrees(tau))
        if verdict == "unresolved":
            row["note"] = (f"direction not resolved within the budget (offset "
                           f"{p.end_angle_deg:.3g}° inside the start ring at a kink, still "
                           "shrinking as the step is refined, or the finest step is not small "
                           "against the star): judged by the exact side only")
            # the neurons sit off u: their rate may be lower by G's exact drop there
            rtol += p.G_deficit
            row["rate_tolerance"] = rtol
            rtols[-1] = rtol / c.growth_rate
            if not p.near_start(math.degrees(c.angle_tol)):  # it grew somewhere else
                row["rate_resolved"] = False
                row["rate_note"] = (f"rate not compared: the probe ended "
                                    f"{p.end_angle_deg:.3g}° away, beyond its start ring (the "
                                    "finest step could still cross the star); judged by the "
                                    "exact side only")
                rtols.pop()
                continue
        if verdict == "leaves":
            findings.append(Finding("training", k, "not_attractor",
                                    f"claimed extremum {k} (sign {c.sign:+d}) is not an "
                                    f"attractor: probe neurons started "
                                    f"{math.degrees(p.radius):.3g}° from it ended "
                                    f"{p.end_angle_deg:.3g}° away (threshold "
                                    f"{math.degrees(tau):.2g}°), near "
                                    f"{[round(float(v), 4) for v in p.end_direction]}", row))
            continue
        if not p.rate_resolved:
            row["rate_note"] = ("rate not resolved: its step bias was not of first order "
                                "within the budget; judged by the exact side only")
            rtols.pop()
            continue
        if not abs(p.rate - c.growth_rate) <= rtol:
            findings.append(Finding("training", k, "rate",
                                    f"claimed extremum {k}: growth rate {p.rate:.6g} measured, "
                                    f"{c.growth_rate:.6g} claimed "
                                    f"({100 * (c.growth_rate / p.rate - 1):+.2f} % off; "
                                    f"tolerance {100 * rtol / c.growth_rate:.2g} %)", row))
    resolution = {"rotation_deg": max(taus, default=float("nan")),
                  "rate_rel": max(rtols, default=float("nan")),
                  "not_probed": [row["claimed"] for row in rows if row.get("skipped")],
                  "unresolved": [row["claimed"] for row in rows
                                 if row.get("attractor") == "unresolved"],
                  "rate_unresolved": [row["claimed"] for row in rows
                                      if row.get("rate_resolved") is False]}
    return rows, findings, resolution


def _snapshot_at(run, t: float) -> int:
    return int(np.argmin(np.abs(run.traj_times - t)))


def random_side(problem, claim: Claim, runs=RANDOM_RUNS, settings=DEFAULT_PROBES,
                device="cpu") -> tuple[list[dict], list[Finding]]:
    """Random small initialisations: settled neurons must sit on claimed extrema."""
    from numerics.engine import train

    rows, findings = [], []
    groups = []  # (run index, centre, sign, count, rate)
    for ri, rr in enumerate(runs):
        W, a = init_weights("small_a", rr.m, problem.d, rr.eps, rr.seed)
        every = max(1, int(math.log(1 / rr.eps) / RANDOM_ETA / 60))
        # smooth σ: the first-order theory holds while ⟨w, x⟩ is small (GELU's next term is
        # O(|z|) relative), so such runs stop when the output reaches 1e-6 of the targets
        level = escape_level(problem) * (1.0 if problem.activation.homogeneous else 1e-6)
        run = train(problem, W, a, adaptive=True, eta=RANDOM_ETA,
                    lr_max=1.0 / rate_bound(problem), until_escape=True,
                    escape_level=level, record=f"every:{every}",
                    progress=False, device=device, max_steps=400_000)
        row = {"m": rr.m, "eps": rr.eps, "seed": rr.seed, "judged": rr.judged,
               "escaped": run.escaped, "steps": run.steps}
        if not run.escaped:
            rows.append(row)
            if claim.extrema:
                findings.append(Finding("training", None, "no_escape",
                                        f"width {rr.m}, ε = {rr.eps:g}: training did not escape "
                                        f"({run.stop_reason}) although growth is claimed", row))
            continue
        t_end = float(run.traj_times[-1])
        i_a = _snapshot_at(run, 2 * t_end / 3)
        Wa, aa = run.W_traj[i_a], run.a_traj[i_a]
        We, ae = run.W_traj[-1], run.a_traj[-1]
        dt = t_end - float(run.traj_times[i_a])
        growth = (np.log(np.maximum(norms(We, ae), 1e-300))
                  - np.log(np.maximum(norms(Wa, aa), 1e-300))) / max(dt, 1e-300)
        growing = growth >= GROWING * growth.max()
        Ue = directions(We)
        moved = np.zeros(rr.m)
        for i in range(i_a, len(run.traj_times)):
            moved = np.maximum(moved, angle_deg(directions(run.W_traj[i]), Ue))
        settled = growing & (moved <= SETTLE_DEG)
        s = np.sign(ae).astype(int)
        near = np.full(rr.m, np.inf)
        for c in claim.extrema:
            ang = angle_deg(Ue, c.direction)
            tol = MATCH_DEG + math.degrees(c.angle_tol)
            near = np.where(s == c.sign, np.minimum(near, ang - tol + MATCH_DEG), near)
        matched = settled & (near <= MATCH_DEG)
        off = settled & ~matched
        mass = (norms(We, ae) ** 2) / np.sum(norms(We, ae) ** 2)
        row.update(escape_time=run.escape_time, growing=int(growing.sum()),
                   mass_on_claim=float(mass[near <= MATCH_DEG].sum()),
                   settled=int(settled.sum()), matched=int(matched.sum()),
                   transit=int((growing & ~settled).sum()), unclaimed=int(off.sum()))
        if off.any() and rr.judged:
            cen, csg, cmass, lab = clusters(We[off], ae[off], tau_deg=MATCH_DEG)
            for q in range(len(cen)):
                mem = lab == q
                groups.append((ri, cen[q], int(csg[q]), int(mem.sum()),
                               float(np.mean(growth[off][mem])),
                               float(np.max(moved[off][mem])) / max(dt, 1e-300)))
        rows.append(row)
    if groups:
        findings += _follow_up(problem, claim, runs, rows, groups, settings, device)
    return rows, findings


def _follow_up(problem, claim, runs, rows, groups, settings, device) -> list[Finding]:
    """Does a group of settled neurons that no claimed extremum explains sit at an attractor?

    The group's centre is a trained direction, known to about the chattering band of the step
    (√2·η = 0.8° at η = 0.01): kink hyperplanes within ``FOLLOW_THROUGH`` of it count as
    through it.  Stage 1: a probe from the group's centre for
    ``T_f = max(12/λ_g, 10 τ/v_g)`` (λ_g the
    group's growth rate, v_g its angular speed over the last third of its run, τ the probe
    attractor threshold): a group in slow transit (sliding along a nearly flat kink ridge, or
    lingering at a saddle) moves on by ≥ 10 τ.  Stage 2: the same attractor test as a claimed
    extremum gets — a probe from stage 1's end for T_f/4 must stay within τ.  Only a group
    that passes both and lies farther than ``MATCH_DEG`` from every claimed extremum of its
    sign is a finding."""
    findings = []
    R = rate_bound(problem)
    tau = math.degrees(4 * math.sqrt(2) * settings.eta / 2 / 16)  # the finest base threshold
    lam = np.array([max(g[4], 1e-6 * R) for g in groups])
    speed = np.array([g[5] for g in groups])
    T_f = np.minimum(np.maximum(12.0 / lam, 10 * tau / np.maximum(speed, 1e-300)), 600.0 / lam)
    where = settings
    dirs = np.array([g[1] for g in groups])
    signs = [g[2] for g in groups]
    tr = FOLLOW_THROUGH
    rho = np.array([star_radius(problem, u, tr) for u in dirs])
    radii = np.minimum(math.radians(0.25), STAR_FRACTION * rho)
    first = run_probes(problem, dirs, signs, radii, settings.duration / T_f, where,
                       device=device, through=tr)
    ends = np.array([p.end_direction for p in first])
    rho2 = np.array([star_radius(problem, u, tr) for u in ends])
    radii2 = np.minimum(math.radians(0.25), STAR_FRACTION * rho2)
    second = run_probes(problem, ends, signs, radii2, settings.duration / (T_f / 4), where,
                        seed=1, device=device, through=tr)
    for g, p1, p2 in zip(groups, first, second):
        ri, centre, sg, count, rate, v = g
        end = p2.end_direction
        claimed = [c for c in claim.extrema if c.sign == sg]
        dist = min((float(angle_deg(end, c.direction)) - math.degrees(c.angle_tol)
                    for c in claimed), default=math.inf)
        stays = not p1.skipped and p2.attractor() == "stays"
        rec = {"run": ri, "direction": [round(float(x), 5) for x in centre], "sign": sg,
               "neurons": count, "rate": rate, "speed_deg_per_time": v,
               "probe_end": [round(float(x), 5) for x in end], "stays": bool(stays),
               "nearest_claimed_deg": dist}
        rows[ri].setdefault("groups", []).append(rec)
        if stays and dist > MATCH_DEG:
            rr = runs[ri]
            findings.append(Finding(
                "training", None, "unclaimed",
                f"{count} neuron(s) of the width-{rr.m} run (ε = {rr.eps:g}) settled near "
                f"{[round(float(x), 4) for x in end]} (sign {sg:+d}, growing at ≈ "
                f"{rate:.4g}); probes started there stay (an attractor of training), and no "
                f"claimed extremum of that sign is within {MATCH_DEG}° (nearest {dist:.3g}°)",
                rec))
    return findings
