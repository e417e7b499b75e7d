"""The shared training core (numerics.stepping) and the experiment recipes (numerics.recipes):
one definition of the step rule, the stop rules, escape and divergence, evaluated the same way
for one run (floats) and for B runs (arrays)."""

import math

import numpy as np
import pytest
import torch

import verify.training
from numerics import recipes
from numerics.batched import train_batched
from numerics.datasets import make_dataset
from numerics.engine import TrainingDiverged, figure1_schedule, train
from numerics.init import init_weights
from numerics.measure import escape_time
from numerics.stepping import STOP_ORDER, StepRule, Stop, StopRule, escape_crossing, reason_name
from theory.errors import InputError
from theory.problem import Problem

torch.set_num_threads(1)  # tests only: 2 shared cores, small tensors


def test_stop_rules_first_met_wins_for_floats_and_arrays():
    rule = StopRule(steps=10, t_max=5.0, loss_below=0.1, until_escape=True, max_steps=20)
    # (k, t, loss, escaped, diverged) -> expected reason
    cases = [(3, 1.0, 0.5, False, False, ""), (3, 1.0, 0.5, True, True, "diverged"),
             (12, 6.0, 0.01, True, False, "escape"), (12, 6.0, 0.01, False, False, "steps"),
             (3, 5.0, 0.01, False, False, "time"), (3, 1.0, 0.1, False, False, "loss"),
             (3, 5.0 * (1 - 1e-16), 0.5, False, False, "time")]  # rounding of Σ dt
    for k, t, loss, esc, div, want in cases:
        assert reason_name(rule.reasons(k, t, loss, esc, div)) == want
    # the batched engine's call: one array entry per problem, same answers
    k = 3
    rows = [c for c in cases if c[0] == k]
    codes = rule.reasons(k, np.array([c[1] for c in rows]), np.array([c[2] for c in rows]),
                         np.array([c[3] for c in rows]), np.array([c[4] for c in rows]))
    assert [reason_name(c) for c in codes] == [c[5] for c in rows]
    assert reason_name(StopRule(max_steps=5, steps=9).reasons(5, 0.0, 1.0, False, False)) \
        == "max_steps"
    assert [s.value for s in STOP_ORDER][:2] == ["diverged", "escape"] and Stop.TIME.value == "time"


@pytest.mark.parametrize("kw", [dict(), dict(steps=-1), dict(steps=1.5), dict(t_max=0.0),
                                dict(steps=1, escape_level=-1.0), dict(t_max=math.inf)])
def test_stop_rule_bad_input(kw):
    with pytest.raises(InputError):
        StopRule(**kw)


@pytest.mark.parametrize("kw", [dict(lr=0.0), dict(lr=math.nan), dict(adaptive=True, eta=0.0),
                                dict(lr_max=-1.0)])
def test_step_rule_bad_input(kw):
    with pytest.raises(InputError):
        StepRule(**kw)


def test_step_sizes_floats_equal_arrays():
    rule = StepRule(lr=0.3, adaptive=True, eta=0.1, lr_max=2.0, escape_refine=0.5)
    rate = [0.0, 0.01, 0.5, 2.0, 0.5, 0.5]
    log_f = [-3.0, -3.0, -3.0, -3.0, -2.3026, -3.0]
    prev = [math.nan, -3.5, -3.2, -3.1, -2.4, -2.9]  # growth: none, +, +, +, + (close), −
    prev_dt = [math.nan, 0.1, 0.1, 0.1, 0.1, 0.1]
    level = math.log(0.1)
    floats = [rule.size(0, r, lf, p, d, level)
              for r, lf, p, d in zip(rate, log_f, prev, prev_dt)]
    arrays = rule.size(0, np.array(rate), np.array(log_f), np.array(prev), np.array(prev_dt),
                       level)
    assert np.array_equal(np.array(floats), arrays)
    # the rule itself: η/ρ capped at lr_max; near escape κ·T_rem with the floor η/64/ρ
    assert floats[0] == 2.0 and floats[3] == 0.05  # the cap; η/ρ
    assert floats[1] == pytest.approx(0.1 / 64 / 0.01)  # κ·T_rem = 0.07 below the floor
    t_rem = (level - log_f[2]) / ((log_f[2] - prev[2]) / 0.1)
    assert floats[2] == pytest.approx(0.5 * t_rem) and 0.5 * t_rem < 0.2
    assert floats[4] == pytest.approx(0.1 / 64 / 0.5)  # escape 1.5e-5 away: the floor
    assert floats[5] == 0.2  # output shrinking: no refinement
    assert StepRule(schedule=figure1_schedule).size(100, None, -1.0, 0, 0, None) == 2.0 ** -7


def test_escape_interpolation_is_exact_on_exponential_growth():
    """log ‖f‖ linear in t (the early phase): the interpolated crossing is the exact one, and
    measure.escape_time applies the same definition to recorded samples."""
    lam, exact, level = 0.37, 5.2, 0.1
    t = np.array([0.0, 1.3, 2.9, 4.4, 7.0, 9.1])
    rms = level * np.exp(lam * (t - exact))
    i = int(np.nonzero(rms >= level)[0][0])
    got = escape_crossing(t[i], math.log(rms[i]), math.log(rms[i - 1]), t[i] - t[i - 1],
                          math.log(level))
    assert got == pytest.approx(exact, rel=1e-14)
    assert escape_time(t, rms, level) == pytest.approx(exact, rel=1e-14)
    assert escape_crossing(4.0, 1.0, math.nan, math.nan, 0.5) == 4.0  # no previous state


def test_divergence_reported_once_as_a_run():
    P = Problem.from_arrays(*make_dataset("generic:target=real"), "relu", "square")
    W0, a0 = init_weights("gaussian", 8, 2, 3.0, seed=0)
    run = train(P, W0, a0, lr=50.0, steps=1000, on_divergence="stop")
    with pytest.raises(TrainingDiverged) as info:
        train(P, W0, a0, lr=50.0, steps=1000)
    assert run.stop_reason == info.value.run.stop_reason == "diverged"
    assert np.array_equal(run.W, info.value.run.W) and run.steps == info.value.step - 1
    batched = train_batched([P], W0[None], a0[None], lr=50.0, steps=1000)[0]
    assert batched.stop_reason == "diverged" and batched.steps == run.steps
    with pytest.raises(InputError, match="on_divergence"):
        train(P, W0, a0, lr=0.1, steps=1, on_divergence="ignore")


def test_batched_schedule_equals_sequential():
    probs = [Problem.from_arrays(*make_dataset(f"generic:n={9 + b},d=3", seed=b))
             for b in range(3)]
    inits = [init_weights("small_a", 12, 3, 1e-3, seed=b) for b in range(3)]
    runs = train_batched(probs, torch.stack([w for w, _ in inits]),
                         torch.stack([a for _, a in inits]), schedule=figure1_schedule,
                         steps=30)
    for p, (w, a), rb in zip(probs, inits, runs):
        rs = train(p, w, a, schedule=figure1_schedule, steps=30)
        assert np.allclose(rb.W, rs.W, rtol=1e-12, atol=0)
        assert np.array_equal(rb.times, rs.times)
        assert rb.config["schedule"] == rs.config["schedule"] == "figure1_schedule"


def test_recipes_and_their_verify_reexport():
    P = Problem.from_arrays(*make_dataset("generic:n=20,d=2,target=real"), "relu", "square")
    assert recipes.escape_level(P) == pytest.approx(0.01 * np.sqrt(np.mean(P.y ** 2)))
    assert recipes.lr_max(P) == 1.0 / P.G_rate_bound
    run = recipes.train_to_escape(P, 16, 1e-6, seed=0)
    assert run.stop_reason == "escape" and run.config["escape_level"] == recipes.escape_level(P)
    assert run.config["lr_max"] == recipes.lr_max(P) and run.config["eta"] == recipes.ETA
    sweep = recipes.train_eps_sweep(P, 16, [1e-6, 1e-3], seed=0)
    assert np.allclose(sweep[0].W, run.W, rtol=1e-12, atol=0)  # the same run, batched
    assert sweep[1].escape_time < sweep[0].escape_time
    for name in ("ETA", "ESCAPE_FRACTION", "escape_level", "rate_bound", "train_to_escape",
                 "train_eps_sweep"):
        assert getattr(verify.training, name) is getattr(recipes, name)
