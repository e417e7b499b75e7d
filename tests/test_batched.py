"""Batched training: B problems in one tensor program equal B sequential runs (float64)."""

import numpy as np
import pytest
import torch

from numerics.batched import train_batched
from numerics.datasets import make_dataset
from numerics.engine import train
from numerics.init import init_weights
from theory.errors import InputError
from theory.problem import Problem

torch.set_num_threads(1)  # tests only: 2 shared cores, small tensors

REL = 1e-12  # float64: bmm vs mm summation order differs by rounding (~1e-16) per step


def _setup(B=4, m=24, d=3):
    probs = [Problem.from_arrays(*make_dataset(f"generic:n={8 + 5 * b},d={d}", seed=b))
             for b in range(B)]
    eps = [1e-3, 1e-6, 1e-9, 1e-4][:B]
    ws = [init_weights("small_a", m, d, eps[b], seed=b) for b in range(B)]
    return probs, ws, torch.stack([w for w, _ in ws]), torch.stack([a for _, a in ws])


def _rel(x, y):
    return np.max(np.abs(x - y)) / np.max(np.abs(y))


@pytest.mark.parametrize("kw", [
    dict(adaptive=True, eta=0.1, lr_max=1.0, until_escape=True, record="log"),
    dict(lr=0.2, steps=150),
])
def test_batched_equals_sequential(kw):
    probs, ws, W0, a0 = _setup()
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
