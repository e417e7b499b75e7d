"""Batched training: B problems in one tensor program equal B sequential runs (float64)."""

import numpy as np
import pytest
import torch

from numerics.batched import train_batched
from numerics.datasets import make_dataset
from numerics.engine import TrainingDiverged, train
from numerics.init import init_weights
from theory.errors import InputError
from theory.problem import Problem

torch.set_num_threads(1)  # tests only: 2 shared cores, small tensors

REL = 1e-12  # float64: bmm vs mm summation order differs by rounding (~1e-16) per step


def _setup(B=4, m=24, d=3, activation="relu", loss="logistic", eps=(1e-3, 1e-6, 1e-9, 1e-4)):
    probs = [Problem.from_arrays(*make_dataset(f"generic:n={8 + 5 * b},d={d}", seed=b),
                                 activation, loss) for b in range(B)]
    ws = [init_weights("small_a", m, d, eps[b], seed=b) for b in range(B)]
    return probs, ws, torch.stack([w for w, _ in ws]), torch.stack([a for _, a in ws])


def _rel(x, y):
    return np.max(np.abs(x - y)) / np.max(np.abs(y))


# every code path of the batched loop: ReLU (mask in place) and smooth/leaky σ' (dsigma), one
# scalar step (constant lr) and per-problem steps (adaptive, t_max), each stop rule, snapshots,
# the working set shrinking as problems stop at different steps, d > 4
@pytest.mark.parametrize("setup_kw,kw", [
    (dict(), dict(adaptive=True, eta=0.1, lr_max=1.0, until_escape=True, record="log")),
    (dict(), dict(lr=0.2, steps=150, record="every:7")),
    (dict(activation="tanh", loss="square"), dict(adaptive=True, eta=0.1, lr_max=1.0,
                                                  t_max=30.0)),
    (dict(activation="leaky_relu:1/10", loss="exponential"), dict(lr=0.3, loss_below=0.69,
                                                                  max_steps=3000)),
    (dict(activation="gelu"), dict(lr=0.3, until_escape=True, t_max=500.0)),
    (dict(d=6), dict(lr=0.2, steps=60, until_escape=True)),
])
def test_batched_equals_sequential(setup_kw, kw):
    probs, ws, W0, a0 = _setup(**setup_kw)
    batched = train_batched(probs, W0, a0, **kw)
    for p, (w, a), rb in zip(probs, ws, batched):
        rs = train(p, w, a, **kw)
        assert rb.steps == rs.steps and rb.stop_reason == rs.stop_reason
        assert _rel(rb.W, rs.W) < REL and _rel(rb.a, rs.a) < REL
        assert np.allclose(rb.times, rs.times, rtol=REL, atol=0)
        assert np.allclose(rb.loss, rs.loss, rtol=REL, atol=0)
        if np.isfinite(rs.escape_time):
            assert abs(rb.escape_time - rs.escape_time) < REL * rs.escape_time
        if rs.W_traj is not None:
            assert np.array_equal(rb.traj_steps, rs.traj_steps)
    # the comparison can fail: a different problem in slot 0 gives different weights
    other = train(probs[1], ws[0][0], ws[0][1], **kw)
    assert _rel(batched[0].W, other.W) > 1e-3


def test_one_step_parameter_per_problem_equals_separate_runs():
    """``eta`` as one value per problem (the probes train all their step levels in one call):
    each problem runs as with its own scalar η, also after the working set shrinks (the time
    limits differ, so the problems stop at different steps)."""
    probs, ws, W0, a0 = _setup()
    etas = np.array([0.2, 0.1, 0.05, 0.025])
    kw = dict(adaptive=True, lr_max=1e300, t_max=[5.0, 9.0, 13.0, 17.0], record="every:3")
    batched = train_batched(probs, W0, a0, eta=etas, **kw)
    assert len({rb.steps for rb in batched}) == 4
    for b, (p, rb) in enumerate(zip(probs, batched)):
        one = train_batched([p], W0[b:b + 1], a0[b:b + 1], eta=float(etas[b]),
                            **dict(kw, t_max=kw["t_max"][b]))[0]
        assert rb.steps == one.steps and rb.config["eta"] == etas[b]
        assert _rel(rb.W, one.W) < REL and np.allclose(rb.times, one.times, rtol=REL, atol=0)
        assert np.array_equal(rb.traj_steps, one.traj_steps)
        assert _rel(rb.W_traj, one.W_traj) < REL
    with pytest.raises(InputError, match="eta must be one number or 4"):
        train_batched(probs, W0, a0, eta=[0.1, 0.2], adaptive=True)


def test_stop_reasons_differ_and_working_set_shrinks_exactly():
    """Problems leave the batch at different steps for different reasons; each run is its
    sequential twin (so compacting the working set moved no problem's rows)."""
    probs, ws, W0, a0 = _setup(eps=(1e-2, 1e-6, 1e-3, 1e-9))
    kw = dict(lr=0.5, until_escape=True, loss_below=0.6, steps=150)
    runs = train_batched(probs, W0, a0, **kw)
    assert len({r.steps for r in runs}) == 4
    assert sorted(r.stop_reason for r in runs) == ["escape"] * 3 + ["steps"]
    for p, (w, a), rb in zip(probs, ws, runs):
        rs = train(p, w, a, **kw)
        assert (rb.steps, rb.stop_reason) == (rs.steps, rs.stop_reason)
        assert _rel(rb.W, rs.W) < REL and _rel(rb.a, rs.a) < REL
        assert np.allclose(rb.loss, rs.loss, rtol=REL, atol=0)


def test_diverged_problem_keeps_last_good_state_and_others_go_on():
    """A problem whose loss overflows stops with "diverged" and the engine's last good state
    (``TrainingDiverged.run``); the others are untouched by it."""
    probs, ws, W0, a0 = _setup(loss="square", eps=(1e-3, 5.0, 1e-2, 1.0))
    kw = dict(lr=0.5, steps=100)
    runs = train_batched(probs, W0, a0, **kw)
    assert [r.stop_reason for r in runs] == ["steps", "diverged", "steps", "diverged"]
    for p, (w, a), rb in zip(probs, ws, runs):
        try:
            rs = train(p, w, a, **kw)
        except TrainingDiverged as exc:
            rs = exc.run
            assert rb.stop_reason == "diverged"
            assert np.all(np.isfinite(rb.W)) and np.all(np.isfinite(rb.loss))
        assert rb.steps == rs.steps and len(rb.times) == len(rs.times)
        assert _rel(rb.W, rs.W) < REL and _rel(rb.a, rs.a) < REL
        # loss values of a blowing-up run: relative 1e-12 still holds (measured ~3e-14)
        assert np.allclose(rb.loss, rs.loss, rtol=REL, atol=0)
    # the check can fail: the state one step earlier is far from the last good one (and the
    # state one step later, the diverging one, is not finite: checked above)
    earlier = train(probs[1], ws[1][0], ws[1][1], lr=0.5, steps=runs[1].steps - 1)
    assert _rel(runs[1].W, earlier.W) > 1e-3


def test_padding_is_exact_and_problems_stop_independently():
    probs, ws, W0, a0 = _setup(B=2)
    runs = train_batched(probs, W0, a0, adaptive=True, eta=0.1, lr_max=1.0, until_escape=True)
    assert runs[0].steps != runs[1].steps  # different eps: each stopped at its own escape
    solo = train_batched(probs[:1], W0[:1], a0[:1], adaptive=True, eta=0.1, lr_max=1.0,
                         until_escape=True)[0]
    # problem 0 (n=8) is padded to n=13 in the pair; the padding contributes exactly nothing
    assert _rel(runs[0].W, solo.W) < REL


def test_batched_bad_input():
    probs, ws, W0, a0 = _setup(B=2)
    mixed = [probs[0], probs[1].with_(loss="exponential")]
    with pytest.raises(InputError, match="share"):
        train_batched(mixed, W0, a0, lr=0.1, steps=1)
    with pytest.raises(InputError, match="weights"):
        train_batched(probs, W0[:, :, :2], a0, lr=0.1, steps=1)
    with pytest.raises(InputError, match="stop rule"):
        train_batched(probs, W0, a0, lr=0.1)
