"""The exact side of a claim check: no training, only the data and exact arithmetic.

For every claimed extremum (direction u, sign s, G, growth rate):

1. it is matched to the package's own enumeration (:func:`theory.extrema.predict`): the nearest
   predicted extremum of the same sign within the claim's written precision (its
   ``angle_tol``, see :mod:`verify.claim_schema`; never below ``FLOOR_RAD`` = 1e-9 rad, the
   float64 rounding of a unit vector computed from a closed form);
2. a claimed direction that matches nothing is certified directly
   (:func:`theory.certificate.certify`, exact face certificate): when the enumeration was a
   search it may have missed a true extremum, which the claim then adds (and the report says
   so); otherwise the claim is rejected with the certificate's reason and the nearest true
   extremum;
3. the claimed G and growth rate must equal the exact ``G(u*)`` and ``|G(u*)|`` within their
   written precision.

Every predicted extremum that no claimed one matches is *missing*; it is named with its G,
growth rate, kind and basin.  For smooth σ (tanh, gelu) and the identity the leading-order G is
linear, ``σ'(0)⟨w, v⟩``, and its two extrema ±v/|v| are the complete, exact prediction; for
data on which G vanishes identically there is nothing to claim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from numerics.measure import angle_deg
from theory.certificate import certify

from .claim_schema import Claim

FLOOR_RAD = 1e-9


@dataclass
class Finding:
    """One reason a claim is rejected.  ``side``: "exact" or "training"; ``extremum``: the
    claimed extremum's index (None: about the claim as a whole); ``what``: a short code."""

    side: str
    extremum: int | None
    what: str
    message: str
    evidence: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"side": self.side, "extremum": self.extremum, "what": self.what,
                "message": self.message, "evidence": self.evidence}


@dataclass
class ExactSide:
    """Outcome of :func:`exact_side`: ``matches[k]`` is the predicted extremum claimed extremum
    k matched (None: certified directly, or rejected), ``rows`` one record per claimed
    extremum, ``missing`` the predicted extrema nobody claimed, ``resolution`` the smallest
    rotation (deg) and relative rate error this side detects on this claim."""

    findings: list[Finding]
    matches: list[int | None]
    rows: list[dict]
    missing: list[dict]
    enumeration: dict
    resolution: dict


def _fmt_dir(u) -> str:
    return "[" + ", ".join(f"{v:+.4f}" for v in u) + "]"


def exact_side(problem, claim: Claim, truth) -> ExactSide:
    """Compare ``claim`` with the exact prediction ``truth`` (a :class:`Prediction`)."""
    findings: list[Finding] = []
    rows: list[dict] = []
    matches: list[int | None] = []
    used: set[int] = set()
    pl_kinks = problem.activation.piecewise_linear and problem.activation.has_kinks
    if truth.degenerate:
        if claim.extrema:
            findings.append(Finding("exact", None, "degenerate",
                                    "G vanishes identically on these data (no first-order "
                                    f"prediction), but the claim lists {len(claim.extrema)} "
                                    "extrema"))
        return ExactSide(findings, [None] * len(claim.extrema), [], [],
                         {"method": truth.method, "complete": truth.complete,
                          "degenerate": True}, {"rotation_deg": 0.0, "rate_rel": 0.0})
    for k, c in enumerate(claim.extrema):
        tol = max(c.angle_tol, FLOOR_RAD)
        same = [j for j, e in enumerate(truth.extrema) if e.sign == c.sign]
        angs = {j: math.radians(float(angle_deg(truth.extrema[j].direction, c.direction)))
                for j in same}
        j = min(angs, key=angs.get) if angs else None
        row = {"claimed": k, "sign": c.sign, "direction": [round(float(v), 8)
                                                           for v in c.direction],
               "angle_tolerance_deg": math.degrees(tol)}
        G_true = None
        if j is not None and angs[j] <= tol:
            matches.append(j)
            used.add(j)
            e = truth.extrema[j]
            G_true, kind = float(e.G), e.kind
            row.update(matched=j, angle_deg=math.degrees(angs[j]), kind=kind,
                       established=getattr(e, "established", "certified"))
        else:
            matches.append(None)
            near = (f"; the nearest extremum of sign {c.sign:+d} is "
                    f"{_fmt_dir(truth.extrema[j].direction)}, {math.degrees(angs[j]):.4g}° away "
                    f"(G = {truth.extrema[j].G:.6g})"
                    if j is not None else f"; there is no extremum of sign {c.sign:+d} at all")
            cert = None
            if pl_kinks:
                cert = certify(problem, c.direction, c.sign, tol_zero=max(tol, 1e-7),
                               tol_angle=max(tol, 1e-6))
            if cert is not None and cert.passed:
                G_true, kind = float(cert.G), cert.kind
                row.update(matched=None, certified_directly=True, kind=kind)
                note = ("certified exactly, but the package's enumeration " +
                        ("(a search) had missed it" if not truth.complete else
                         "did not list it — please report this"))
                row["note"] = note
            else:
                why = cert.reason if cert is not None else "not an extremum of the leading-order G"
                findings.append(Finding("exact", k, "not_extremum",
                                        f"claimed extremum {k} (sign {c.sign:+d}, direction "
                                        f"{_fmt_dir(c.direction)}) is not a strict local "
                                        f"{'maximum' if c.sign > 0 else 'minimum'} of G: "
                                        f"{why}{near}",
                                        {"nearest_angle_deg": math.degrees(angs[j])
                                         if j is not None else None}))
                row.update(matched=None, rejected=why)
        if G_true is not None:
            row["G_exact"] = G_true
            rate_err = abs(c.growth_rate - abs(G_true))
            G_err = abs(c.G - G_true)
            rate_tol = c.rate_tol + 4 * np.finfo(float).eps * abs(G_true)
            G_tol = c.G_tol + 4 * np.finfo(float).eps * abs(G_true)
            row.update(rate_rel_error=c.growth_rate / abs(G_true) - 1)
            if rate_err > rate_tol or G_err > G_tol:
                findings.append(Finding("exact", k, "rate",
                                        f"claimed extremum {k}: growth rate {c.growth_rate:.6g} "
                                        f"and G {c.G:.6g} claimed, exact G(u) = {G_true:.6g} "
                                        f"(rate {100 * (c.growth_rate / abs(G_true) - 1):+.3g} %)",
                                        {"claimed_rate": c.growth_rate, "exact_G": G_true}))
        rows.append(row)
    missing = []
    for j, e in enumerate(truth.extrema):
        if j in used:
            continue
        # a directly certified claim may stand for a predicted extremum of the same direction
        if any(m is None and claim.extrema[k].sign == e.sign and
               float(angle_deg(e.direction, claim.extrema[k].direction)) <= 1e-4
               for k, m in enumerate(matches)):
            continue
        rec = {"predicted": j, "direction": [round(float(v), 8) for v in e.direction],
               "sign": e.sign, "G": float(e.G), "growth_rate": float(e.growth_rate),
               "kind": e.kind, "basin_fraction": e.basin_fraction}
        missing.append(rec)
        basin = (f", basin {e.basin_fraction:.3g}" if e.basin_fraction is not None else "")
        findings.append(Finding("exact", None, "missing",
                                f"missing extremum: {_fmt_dir(e.direction)} (sign {e.sign:+d}, "
                                f"G = {e.G:.6g}, growth rate {e.growth_rate:.6g} = "
                                f"{e.growth_rate / truth.lambda_max:.3g} λ_max, {e.kind}{basin})",
                                rec))
    enum = {"method": truth.method, "complete": bool(truth.complete), "degenerate": False,
            "extrema": len(truth.extrema)}
    cov = truth.to_json().get("coverage")
    if cov is not None:
        enum["coverage"] = cov
    res = {"rotation_deg": max((math.degrees(max(c.angle_tol, FLOOR_RAD))
                                for c in claim.extrema), default=math.degrees(FLOOR_RAD)),
           "rate_rel": max(((c.rate_tol + 4 * np.finfo(float).eps * c.growth_rate)
                            / c.growth_rate for c in claim.extrema), default=0.0)}
    return ExactSide(findings, matches, rows, missing, enum, res)
