"""Property: training and the reduced early-phase system agree neuron by neuron, better as ε → 0."""

from __future__ import annotations

import math

import numpy as np

from numerics.engine import train
from numerics.init import init_weights

from ..example import Example
from ..strategies import examples
from ..training import rate_bound
from .base import Outcome, Property, r

CLAIM = ("From the same initial weights, gradient descent on the full loss and the reduced "
         "system w' = a∇G, a' = G (explicit Euler on the same steps) agree neuron by neuron at "
         "half the escape time, with an error of order ε: the fitted exponent of the "
         "90th-percentile angle difference and of the largest relative norm difference over "
         "ε = 1e-5, 1e-7, 1e-9 is at least 1 − 0.15 (a vanishing first-order coefficient makes "
         "it larger).")

# The ε grid lies where the O(ε) difference is the smooth first-order term, not a discrete one.
# Gradient descent decides at every step on which side of each kink hyperplane a neuron is; a
# neuron whose two runs (training, reduced) differ by δ = O(ε) lands on different sides at a
# step with probability ≈ δ/(lr·|∇G|) per step spent within one step of a hyperplane, and
# such a flip is a jump of the step's size, independent of ε.  Summed over the run, the share
# of flipped neurons is O(ε·log(1/ε)/lr): measured on the two counterexamples of the full
# profile (seed 1011: clustered n = 7, d = 3, ReLU, square loss; seed 1002: clustered n = 22,
# d = 2, leaky ReLU 0.1, logistic), 2 of 24 neurons flipped at ε = 1e-3 (3.8° and 3.1°),
# 1 at 1e-4 (1.0°) and none at ε ≤ 1e-5, and the local exponents of the 90th percentile were
# 0.75 and 0.77 between 1e-3 and 1e-5 (pre-asymptotic), 0.93 and 0.93 between 1e-5 and 1e-7,
# 0.93 and 0.97 between 1e-7 and 1e-9.  The grid starts at 1e-5 for that reason; the run to
# t*/2 at 1e-9 takes log(1e9)/log(1e7) = 1.29 times the steps of the one at 1e-7.
EPSS = (1e-5, 1e-7, 1e-9)
M = 24
QUANTILE = 0.9
# The predicted exponent: the reduced system drops the terms of relative size |f| (the
# residuals r_i = c_i + O(f)); |f| grows like ε² e^{2λ_max t}, so at t*/2 = log(1/ε)/(2λ_max)
# it is O(ε), and the accumulated difference, dominated by the last growth time, is O(ε) too.
EXPONENT = 1.0
# Tolerance: the prefactor is the same at every ε (the early phase is scale-free: the same
# directions follow the same paths), so the log-log fit over four decades sees only the
# next-order term, relative O(ε) ≤ 1e-5, and the discrete kink events of chattering neurons
# (a flip across a kink is an O(step) jump that the 90th percentile leaves out unless more
# than 10 % of the neurons flip): 0.15 in the exponent is a factor 4 over the four decades.
# A finding, measured per neuron on the seed-1011 counterexample: most neurons' difference/ε
# is constant to 2–10 % from 1e-5 to 1e-11, but three neurons in transit within 2° of a kink
# hyperplane gain a factor 1.3–1.6 per two decades (difference/ε from 228 to 730 over
# 1e-5 … 1e-11 for the worst): locally ε^0.90–0.94, i.e. O(ε) only up to a slowly growing
# factor.  That factor fits inside the tolerance (0.94 > 0.85); it was not loosened for it.
# OPEN (a finding, not absorbed): on the grid 1e-5 … 1e-9 two of six full-profile runs still
# failed (seed 2002: exponent 0.849; seed 2011: 0.815, shrunk to a clustered n = 4, d = 2,
# leaky ReLU 0.1, square-loss set).  There, neurons 4.6–9.8° from any kink, not chattering,
# have difference/ε growing about linearly in log(1/ε) (9.0, 22.5, 34.3, 44.3, 52.5, 64.8 at
# ε = 1e-5 … 1e-9, 1e-11 for the worst): an ε·log(1/ε) term that the O(ε) derivation above
# does not have, and two neurons still flip across kinks down to ε = 1e-9.  The floor stays.
EXP_TOL = 0.15


def angle_errors(ex: Example, theory, epss=EPSS):
    p = ex.problem()
    lam = theory.predict(p, basins=False).lambda_max
    if not lam:
        return None
    lr = 0.05 / rate_bound(p)
    out = []
    for eps in epss:
        W, a = init_weights("gaussian", M, p.d, eps, ex.seed)
        t_half = 0.5 * math.log(1.0 / eps) / lam
        steps = max(1, int(math.ceil(t_half / lr)))
        run = train(p, W, a, lr=lr, steps=steps, progress=False)
        red = theory.reduced(p, W.numpy(), a.numpy(), np.full(steps, lr))
        Ur = red.W[-1] / np.linalg.norm(red.W[-1], axis=1, keepdims=True)
        Ut = run.W / np.linalg.norm(run.W, axis=1, keepdims=True)
        # 2·atan2(|u − v|, |u + v|): accurate down to ~1e-16 rad (arccos of a dot product
        # bottoms out at ~1e-8 rad, which would hide the ε scaling)
        ang = 2 * np.arctan2(np.linalg.norm(Ur - Ut, axis=1), np.linalg.norm(Ur + Ut, axis=1))
        # 90th percentile over neurons: a neuron chattering on an attracting ReLU kink can land
        # on the other side of it in one of the two runs (a discrete event of angular size
        # O(lr·|∇G|), independent of ε); ≤ 10 % of the neurons may be hit by such a flip
        angle = float(np.degrees(np.quantile(ang, QUANTILE)))
        # norms too: relative difference of |θ_j|
        nr = np.sqrt(np.sum(red.W[-1] ** 2, 1) + red.a[-1] ** 2)
        nt = np.sqrt(np.sum(run.W**2, 1) + run.a**2)
        out.append((angle, float(np.max(np.abs(nr - nt) / nt)), steps))
    return out


def check(ex: Example, theory, profile) -> Outcome:
    errs = angle_errors(ex, theory)
    if errs is None:
        return Outcome.not_applicable("no growing extremum")
    ang = np.array([e[0] for e in errs])
    rel = np.array([e[1] for e in errs])
    steps = max(e[2] for e in errs)
    # floor: float64 rounding accumulated over the steps (a few ulps per step, in degrees)
    floor = math.degrees(steps * 1e-14) + 1e-12
    x = np.log(np.array(EPSS))
    fits, problems = {}, []
    for name, seq in (("angle", ang), ("norm", rel)):
        if np.all(seq <= floor):
            fits[name] = None  # already at rounding level at every ε
            continue
        ok_pts = seq > floor
        if ok_pts.sum() < 2:
            continue
        slope = float(np.polyfit(x[ok_pts], np.log(seq[ok_pts]), 1)[0])
        fits[name] = r(slope, 4)
        if slope < EXPONENT - EXP_TOL:  # O(ε) is a bound: a faster fall is consistent
            problems.append(f"{name} difference ∝ ε^{slope:.3f}, predicted O(ε^{EXPONENT:g}) "
                            f"(exponent ≥ {EXPONENT - EXP_TOL:g})")
    ok = not problems
    ev = {"eps": list(EPSS), "angle_diff_deg_q90": [r(a) for a in ang],
          "max_rel_norm_diff": [r(v) for v in rel], "exponents": fits, "floor_deg": r(floor)}
    msg = (f"training − reduced system ∝ ε^{fits.get('angle')} (angles), "
           f"ε^{fits.get('norm')} (norms); predicted O(ε^{EXPONENT:g})" if ok else
           "; ".join(problems))
    return Outcome(ok, msg, ev)


def _strategy(profile):
    return examples(activations=("relu", "leaky_relu:0.1", "abs"), n_max=40)


def _builtins():
    X = np.array([[1.0, 0], [-1, 0], [0.5, 0.866], [-0.5, -0.866]])
    return [Example(X, np.array([-1.0, -1, 1, 1]), "relu", "logistic", 0)]


PROPERTY = Property("finite_eps_agreement", CLAIM, _strategy, check, _builtins)
