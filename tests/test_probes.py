"""Probes (numerics.probes): when a Richardson pair is trusted, and what a probe that ends
inside its start ring at a kink means."""

import math

import numpy as np
import pytest

from numerics.probes import DEFAULT_PROBES, ProbeResult, first_order, run_probes
from theory.extrema import predict
from verify.example import Example
from verify.strategies import xor_points


@pytest.mark.parametrize("rates, ok", [
    ((0.96, 0.98, 0.99), True),            # bias −4 %, −2 %, −1 %: first order
    ((0.99657, 0.99832, 0.99916), True),   # seen: ratio 2.08 at a kink (n = 30, d = 3, abs)
    ((0.99914, 0.99657, 0.99832), False),  # seen there one level coarser: another pattern
    ((0.964, 1.0, 0.987), False),          # seen: the bias changes sign (n = 26, d = 2)
    ((1.0001, 1.0, 1.0001), True),         # settled: differences below RATE_SETTLED
    ((0.9, 0.99, 0.999), False),           # shrinking by 10: not first order
    ((0.99, 0.98, 0.97), False),           # growing bias
])
def test_first_order_accepts_a_linear_step_bias_only(rates, ok):
    assert first_order(rates) is ok


def _result(kink, end_deg, radius_deg=0.7):
    return ProbeResult(np.array([1.0, 0, 0]), 1, math.radians(radius_deg), 8.0, np.zeros(8),
                       np.array([1.0, 0, 0]), end_deg, (1.0, 1.0), 1.0, 0.0, True, 0.005,
                       1000, level_angles_deg=(end_deg, end_deg), star=math.radians(3.0),
                       kink=kink)


def test_a_kink_probe_that_ends_inside_its_ring_is_unresolved_not_rejected():
    thr = _result(True, 0.0).angle_threshold_deg
    assert _result(True, thr / 2).attractor() == "stays"
    assert _result(True, 0.5).attractor() == "unresolved"   # inside the 0.7° ring
    assert _result(True, 0.7 + thr + 0.01).attractor() == "leaves"   # beyond it
    assert _result(False, 0.5).attractor() == "leaves"   # smooth: converges like e^{−λt}


def test_probe_rates_at_xor_extrema_are_first_order_and_exact():
    """Four-point XOR (kink extrema): the Richardson rate agrees with |G(u_k)| to 1e-4 (the
    remainder is ≤ 0.17 of the reported correction, FIRST_ORDER_Q)."""
    X, y = xor_points(math.pi / 3, 1.0)
    p = Example(X, y, "relu", "logistic", 0).problem()
    pred = predict(p, basins=False)
    dirs = np.array([e.direction for e in pred.extrema])
    lam = np.array([e.growth_rate for e in pred.extrema])
    res = run_probes(p, dirs, [e.sign for e in pred.extrema], np.full(len(dirs), 0.01), lam,
                     DEFAULT_PROBES)
    for pr, l in zip(res, lam):
        assert pr.rate_resolved and pr.attractor() == "stays"
        assert abs(pr.rate / l - 1) <= pr.rate_uncertainty / l + 1e-4


def test_probe_that_left_with_a_coarse_step_is_refined():
    """A full-profile false alarm of growth_rates and claim_check (seed 2000: generic n = 38,
    d = 3, |z|, logistic): at a vertex whose star is 1.22° wide, the probe's three first levels
    (η = 0.04, 0.02, 0.01; up to √2·η = 0.81° per step) all left for a faster region 12.5°
    away and agreed there, so the pair was not refined; the direction was "unresolved" (the
    step was not small against the star) and the rate compared was that of the other region
    (+20 %).  Now a probe that left while √2·η_f ≥ ρ/2 is refined: at η ≤ 0.005 it stays and
    its rate matches |G(u)|.  A rate measured beyond the start ring is never compared."""
    from pathlib import Path

    from numerics.probes import DEFAULT_PROBES, probe_radius, run_probes
    from theory.extrema import predict
    from verify.example import Example

    z = np.load(Path(__file__).with_name("data") / "growth_rates_coarse_leave_2000.npz",
                allow_pickle=False)
    p = Example(z["X"], z["y"], str(z["activation"]), str(z["loss"]), 0).problem()
    pred = predict(p, basins=False)
    e = min((e for e in pred.extrema if e.sign < 0 and abs(e.growth_rate - 0.0161089) < 1e-6),
            key=lambda e: tuple(e.direction))
    u = np.asarray(e.direction, float)
    r = probe_radius(p, u, e.sign, e.growth_rate, DEFAULT_PROBES)
    res = run_probes(p, u[None], [e.sign], [r], [e.growth_rate], DEFAULT_PROBES)[0]
    assert min(res.level_angles_deg[:3]) > 10.0  # the coarse levels left the star
    assert res.attractor() == "stays" and res.near_start()
    assert res.rate_resolved and abs(res.rate / e.growth_rate - 1) < 1e-3


def test_directions_first_order():
    """The end directions' Richardson test: moves that shrink by ~2 per halving and point the
    same way pass; moves that grow, or turn back, do not; moves within four settle steps pass."""
    from numerics.probes import directions_first_order

    def unit(deg):
        return np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg)), 0.0])

    assert directions_first_order([unit(4.0), unit(2.0), unit(1.0)], 1e-4)
    assert not directions_first_order([unit(2.11), unit(1.93), unit(1.50)], 1e-4)
    assert not directions_first_order([unit(2.0), unit(1.0), unit(1.5)], 1e-4)
    assert directions_first_order([unit(0.01), unit(0.02), unit(0.0)], 0.01)  # < 0.2°


@pytest.mark.parametrize("name, rate, stopped", [
    ("growth_rates_vertex_2005.npz", 0.0244191, 3),
    ("growth_rates_kink_2005.npz", 0.2494089, 2)])
def test_probe_is_refined_until_its_direction_is_first_order(name, rate, stopped):
    """Two full-profile false alarms of growth_rates and claim_check (seed 2005).  (1) Clustered
    n = 12, d = 4, leaky ReLU 0.1, logistic (shrunk to n = 8): at a slow vertex extremum (0.156
    λ_max, two kink hyperplanes through it, star 3.7°) the settled offsets were 3.42°, 2.11°,
    1.93°, 1.50° at η = 0.04 … 0.005 — still shrinking, but by 1.29 < SHRINK over the last
    halving — and the pair extrapolated to 1.06° against 0.54°: "leaves".  (2) Generic n = 18,
    d = 4, |z|, exponential (shrunk to logistic): offsets 1.09°, 1.14°, 0.92° at η = 0.04 …
    0.01, extrapolated to 0.70° against 0.42°.  In both the end directions' moves were not of
    first order, so Richardson could not be trusted: such a pair is now refined, and at
    η = 0.00125 both probes stay."""
    from pathlib import Path

    from numerics.probes import probe_radius

    z = np.load(Path(__file__).with_name("data") / name, allow_pickle=False)
    p = Example(z["X"], z["y"], str(z["activation"]), str(z["loss"]), 0).problem()
    pred = predict(p, basins=False)
    dirs = np.array([e.direction for e in pred.extrema])
    lam = np.array([e.growth_rate for e in pred.extrema])
    radii = [probe_radius(p, e.direction, e.sign, e.growth_rate, DEFAULT_PROBES)
             for e in pred.extrema]
    k = int(np.argmin(np.abs(lam - rate)))
    res = run_probes(p, dirs, [e.sign for e in pred.extrema], radii, lam, DEFAULT_PROBES)[k]
    assert res.level_angles_deg[stopped] > 0.9  # where the old rule stopped
    assert res.direction_resolved and res.attractor() == "stays", res.level_angles_deg
    assert res.rate_resolved and abs(res.rate / lam[k] - 1) < 1e-3


def test_a_slow_kink_band_is_settled_long_enough_to_collapse():
    """A full-profile false alarm of growth_rates (seed 2009: generic n = 23, d = 4, ReLU,
    logistic): at a vertex extremum (λ = 0.0413, two kink hyperplanes through it, slowest slope
    κ = 2.2e-5 = 5e-4 λ) one side pushes a neuron across a kink by a whole step while the way
    back runs only at ~λ·offset, so the chattering is a sawtooth of height ∝ η and period
    ~1.4/λ that the 200-step settle cannot collapse: settled offsets 0.39°, 0.19°, 0.16°,
    0.17° at η = 0.04 … 0.005 (samples of the sawtooth), extrapolated to 0.18° against a
    threshold of 0.12°: "leaves".  Settled again for 3/λ̂ at η/16, the offsets are 0.086°,
    0.040°, 0.027°, 0.010° and the probe stays; its rate was right all along (1e-6)."""
    from pathlib import Path

    from numerics.probes import probe_radius

    z = np.load(Path(__file__).with_name("data") / "growth_rates_sawtooth_2009.npz",
                allow_pickle=False)
    p = Example(z["X"], z["y"], str(z["activation"]), str(z["loss"]), 0).problem()
    e = min(predict(p, basins=False).extrema, key=lambda e: abs(e.growth_rate - 0.0413137))
    u = np.asarray(e.direction, float)
    r = probe_radius(p, u, e.sign, e.growth_rate, DEFAULT_PROBES)
    res = run_probes(p, u[None], [e.sign], [r], [e.growth_rate], DEFAULT_PROBES,
                     seed=int(z["seed"]))[0]
    assert res.long_settle and res.attractor() == "stays", res.level_angles_deg
    assert res.end_angle_deg < 0.05 and res.level_angles_deg[-1] < 0.05
    assert res.rate_resolved and abs(res.rate / e.growth_rate - 1) < 1e-4

