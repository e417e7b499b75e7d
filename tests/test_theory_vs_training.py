"""Theory (theory.extrema.predict) against real training (numerics.engine) on the same Problem.

Claims checked (docs/theory.md, "Predicted directions", "Escape time"): at escape, with
eps -> 0, the mass sits at the predicted extrema of matching sign; the escape time grows like
log(1/eps)/lambda_max; each cluster grows at its extremum's rate |G(u*)|.  Each claim also has
a wrong prediction that must be rejected."""

import math

import numpy as np
import pytest
import torch

from numerics.datasets import make_dataset
from numerics.engine import train
from numerics.init import init_weights
from numerics.measure import growth_rates, match
from theory import extrema
from theory.problem import Problem

torch.set_num_threads(1)  # tests only: 2 shared cores, small tensors

CASES = [
    ("generic:n=16,d=2", "relu", "logistic"),
    ("generic:n=16,d=3", "relu", "logistic"),
    ("xor:n=64", "relu", "logistic"),
    ("skewed_xor:n=64,alpha=1.0471975511965976,delta=0.2,sigma=0.0707", "relu", "logistic"),
    ("generic:n=16,d=2", "leaky_relu:0.1", "logistic"),
    ("generic:n=16,d=2,target=real", "relu", "square"),
]


def _tilted(pred, deg, seed=0):
    """The same extrema, each turned by `deg` degrees towards a random orthogonal direction."""
    rng = np.random.default_rng(seed)
    out = []
    for e in pred.extrema:
        u = np.asarray(e.direction, dtype=float)
        h = rng.normal(size=u.shape)
        h -= (h @ u) * u
        h /= np.linalg.norm(h)
        t = math.radians(deg)
        out.append({"direction": math.cos(t) * u + math.sin(t) * h, "sign": e.sign})
    return out


@pytest.mark.parametrize("spec,act,loss", CASES)
def test_mass_concentrates_on_predicted_extrema(spec, act, loss):
    P = Problem.from_arrays(*make_dataset(spec), act, loss)
    pred = extrema.predict(P, basins=False)
    assert not pred.degenerate and pred.extrema
    W0, a0 = init_weights("small_a", 128, P.d, 1e-8, seed=0)
    run = train(P, W0, a0, adaptive=True, eta=0.1, lr_max=1.0, until_escape=True)
    assert run.stop_reason == "escape"
    res = match(run.W, run.a, pred, tau_deg=2.0)
    assert res.matched_mass >= 0.99, (res.matched_mass, res.worst_angle_deg)
    # wrong predictions are rejected: directions turned by 5 degrees, or signs flipped
    assert match(run.W, run.a, _tilted(pred, 5.0), tau_deg=2.0).matched_mass < 0.5
    flipped = [{"direction": e.direction, "sign": -e.sign} for e in pred.extrema]
    assert match(run.W, run.a, flipped, tau_deg=2.0).matched_mass < 0.5


SLOPE_CASES = ["generic:n=16,d=2", "xor:n=64",
               "skewed_xor:n=64,alpha=1.0471975511965976,delta=0.2,sigma=0.0707"]


@pytest.mark.parametrize("spec", SLOPE_CASES)
def test_escape_time_slope_is_inverse_lambda_max(spec):
    """t*(eps) = log(1/eps)/lambda_max + O(1): the fitted slope over eps = 1e-4..1e-16 is within
    3 % of 1/lambda_max.  Error budget: Euler's growth per step 1 + lam·dt instead of
    e^{lam·dt} lowers the rate by ~lam·dt/2 <= eta/2 = 1 % (eta = 0.02); the O(1) transient
    differs between eps by a fraction of 1/lam over a lever arm of 27.6/lam."""
    P = Problem.from_arrays(*make_dataset(spec))
    lam = extrema.predict(P, basins=False).lambda_max
    eps = np.array([1e-4, 1e-8, 1e-12, 1e-16])
    t_star = []
    for e in eps:
        W0, a0 = init_weights("small_a", 32, P.d, e, seed=1)
        run = train(P, W0, a0, adaptive=True, eta=0.02, lr_max=1.0, until_escape=True)
        t_star.append(run.escape_time)
    slope = np.polyfit(np.log(1 / eps), t_star, 1)[0]
    assert abs(slope * lam - 1) < 0.03, slope * lam
    assert abs(slope * lam * 1.05 - 1) >= 0.03  # a growth rate 5 % off is rejected


def test_cluster_growth_rates_match_extrema():
    """Each populated extremum's cluster grows at rate |G(u*)| during the early phase."""
    P = Problem.from_arrays(*make_dataset("generic:n=16,d=3"))
    pred = extrema.predict(P, basins=False)
    W0, a0 = init_weights("small_a", 128, 3, 1e-12, seed=0)
    run = train(P, W0, a0, adaptive=True, eta=0.02, lr_max=1.0, until_escape=True,
                record="every:10")
    res = match(run.W, run.a, pred, tau_deg=2.0)
    labels = np.where(res.angles_deg <= 2.0, res.nearest, -1)
    window = (0.4 * run.escape_time, 0.8 * run.escape_time)  # aligned, output still ~ 0
    rates = growth_rates(run.traj_times, run.W_traj, run.a_traj, labels, window)
    checked = 0
    for k, e in enumerate(pred.extrema):
        if k < len(rates) and np.sum(labels == k) >= 3:
            # tolerance: Euler's rate bias eta/2 = 1 % plus the alignment transient in window
            assert rates[k] == pytest.approx(e.growth_rate, rel=0.03), (k, rates[k], e)
            assert rates[k] != pytest.approx(1.1 * e.growth_rate, rel=0.03)
            checked += 1
    assert checked >= 2
