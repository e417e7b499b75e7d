"""theory.figure1_scales: the Figure 1 scale equation derived from the network and the loss,
its exact time (Proposition 5.7's h at C = 1), and the saturation order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from theory.figure1_scales import (
    derive_scale_equation,
    saturation_step,
    saturation_time,
    scale_path_steps,
)
from theory.prop57 import PAPER


def test_scale_equation_is_derived():
    E = derive_scale_equation()
    assert E.axes_attract and E.decoupled and E.conserved
    assert E.time_checked and E.equals_h
    assert len(E.off_axis) == 8 and all(e.is_negative for e in E.off_axis)


@pytest.mark.parametrize("mu", [0.5, 1.0, 2.0])
def test_saturation_time_matches_the_ode(mu):
    """T(s0², 1/μ) against the ODE q' = (μ/2) q/(1 + e^{μq}) integrated numerically
    (log q as the variable; rtol 1e-10 of the integrator, compared at 1e-7)."""
    s0 = 1e-5
    sol = solve_ivp(lambda t, lq: [mu / 2 / (1 + math.exp(mu * math.exp(lq[0])))], (0, 500),
                    [math.log(s0 ** 2)], rtol=1e-10, atol=1e-12, dense_output=True,
                    events=lambda t, lq: lq[0] - math.log(1 / mu))
    assert saturation_time(s0, mu) == pytest.approx(sol.t_events[0][0], rel=1e-7)


def test_saturation_order_and_spacing():
    """Saturation in the order of the initial scales; a factor c in scale delays by
    (8/μ) log c up to the O(e^{-1/μs²}) difference of the Ei terms."""
    t = [saturation_time(s) for s in (1e-4, 1e-5, 1e-6, 1e-7)]
    assert t == sorted(t)
    np.testing.assert_allclose(np.diff(t), 8 * math.log(10), rtol=1e-6)
    # the ratio of Proposition 5.7's c = 1000 between the largest and smallest neuron
    c = float(PAPER["c"])
    assert saturation_time(1e-4 / c) - saturation_time(1e-4) == pytest.approx(
        8 * math.log(c), rel=1e-6)


def test_scale_map_tends_to_the_gradient_flow():
    """With small steps the gradient-descent map saturates at the gradient-flow time: the
    Euler step's relative rate bias is about (μ/4)·dt/2 = 1.25e-3 at dt = 0.01, so 1e-2."""
    dt, s0 = 0.01, 1e-2
    k = saturation_step(s0, np.full(10_000, dt))
    assert k * dt == pytest.approx(saturation_time(s0), rel=1e-2)
    # an unbalanced start with |a| > |w| grows faster (s' = (μ/4) b ρ)
    assert saturation_step(s0, np.full(10_000, dt), b0=2 * s0) < k
    assert np.all(np.diff(scale_path_steps(s0, np.full(100, dt))) > 0)
