"""The training engine: hand-written gradients against autograd, the clock, stop rules,
escape, divergence, schedules, snapshots, determinism, SGD, and the adaptive step."""

import math

import numpy as np
import pytest
import torch

from numerics.datasets import make_dataset
from numerics.engine import TrainingDiverged, figure1_schedule, train
from numerics.init import init_weights
from numerics.measure import conservation_drift, escape_time, output_rms
from numerics.run_io import Run
from theory.errors import InputError
from theory.problem import Problem

torch.set_num_threads(1)  # tests only: 2 shared cores, small tensors


def _autograd_step(P, W0, a0, h):
    """One GD step by torch autograd on an nn-free expression of the same loss."""
    X = torch.tensor(P.X)
    y = torch.tensor(P.y)
    W = W0.clone().requires_grad_(True)
    a = a0.clone().requires_grad_(True)
    act = P.activation
    Z = X @ W.T
    if act.piecewise_linear:
        g = float(act.gamma)
        H = torch.relu(Z) if g == 0 else torch.nn.functional.leaky_relu(Z, g) if g > 0 \
            else torch.abs(Z) if g == -1 else Z
    else:
        H = torch.tanh(Z) if act.name == "tanh" else torch.nn.functional.gelu(Z)
    f = H @ a
    if P.loss.name == "logistic":
        L = torch.nn.functional.softplus(-y * f).mean()
    elif P.loss.name == "exponential":
        L = torch.exp(-y * f).mean()
    else:
        L = 0.5 * ((f - y) ** 2).mean()
    L.backward()
    return (W - h * W.grad).detach(), (a - h * a.grad).detach()


@pytest.mark.parametrize("act,loss,target", [
    ("relu", "logistic", "sign"), ("leaky_relu:0.1", "exponential", "sign"),
    ("abs", "square", "real"), ("tanh", "logistic", "sign"), ("gelu", "square", "real"),
    ("linear", "logistic", "sign"),
])
def test_one_step_matches_autograd(act, loss, target):
    P = Problem.from_arrays(*make_dataset(f"generic:n=20,d=3,target={target}"), act, loss)
    W0, a0 = init_weights("gaussian", 7, 3, 0.7, seed=1)
    h = 0.3
    run = train(P, W0, a0, lr=h, steps=1)
    Wg, ag = _autograd_step(P, W0, a0, h)
    # float64 rounding of O(1) sums: 1e-13 relative leaves a factor ~100 over eps_machine·n
    assert np.allclose(run.W, Wg.numpy(), rtol=1e-13, atol=1e-14)
    assert np.allclose(run.a, ag.numpy(), rtol=1e-13, atol=1e-14)
    # the check can fail: a step up the gradient is far from it
    Wup, _ = _autograd_step(P, W0, a0, -h)
    assert not np.allclose(run.W, Wup.numpy(), rtol=1e-6, atol=1e-8)


def test_clock_is_sum_of_lr_and_schedule():
    P = Problem.from_arrays(*make_dataset("generic"))
    W0, a0 = init_weights("small_a", 8, 2, 1e-3, seed=0)
    run = train(P, W0, a0, schedule=figure1_schedule, steps=20)
    expected = np.concatenate([[0.0], np.cumsum([figure1_schedule(k) for k in range(20)])])
    assert np.allclose(run.times, expected, rtol=1e-15) and len(run.loss) == 21
    assert figure1_schedule(0) == 2.0 ** 2 and figure1_schedule(100) == 2.0 ** -7
    assert figure1_schedule(12288) == pytest.approx(2.0 ** -7 * 17)
    assert figure1_schedule(16384 + 512) == pytest.approx(2.0 ** -7 * 65)
    run = train(P, W0, a0, lr=0.3, t_max=1.0)  # the last step is shortened to land on t_max
    assert run.time == pytest.approx(1.0, abs=1e-15) and run.stop_reason == "time"


def test_conservation_drift_is_first_order_in_lr():
    """GD drifts a^2 - |w|^2 by O(lr) per unit time (the flow conserves it exactly)."""
    P = Problem.from_arrays(*make_dataset("generic:n=12"))
    W0, a0 = init_weights("gaussian", 6, 2, 0.5, seed=2)
    drift = []
    for lr in (0.04, 0.02):
        run = train(P, W0, a0, lr=lr, t_max=4.0, record="every:1000000")
        drift.append(conservation_drift(run.W_traj, run.a_traj)[-1])
    assert 1.7 < drift[0] / drift[1] < 2.3  # first order: ratio 2 up to O(lr) corrections


def test_escape_definition_matches_recomputation_and_stops():
    P = Problem.from_arrays(*make_dataset("xor:n=32"))
    W0, a0 = init_weights("small_a", 16, 2, 1e-4, seed=0)
    run = train(P, W0, a0, lr=0.2, until_escape=True, escape_level=0.1, record="every:1")
    rms = output_rms(P, run.W_traj, run.a_traj)
    assert run.stop_reason == "escape" and rms[-1] >= 0.1 > rms[-2]
    assert run.escape_time == pytest.approx(escape_time(run.traj_times, rms, 0.1), rel=1e-12)
    assert not run.escape_time == pytest.approx(run.time - 0.5, rel=1e-6)


def test_snapshots_grids_and_save_load(tmp_path):
    P = Problem.from_arrays(*make_dataset("generic"))
    W0, a0 = init_weights("small_a", 5, 2, 1e-2, seed=0)
    run = train(P, W0, a0, lr=0.1, steps=23, record="every:5")
    assert run.traj_steps.tolist() == [0, 5, 10, 15, 20, 23]
    assert run.W_traj.shape == (6, 5, 2) and run.a_traj.shape == (6, 5)
    assert np.array_equal(run.W_traj[-1], run.W)
    log = train(P, W0, a0, lr=0.1, steps=100, record="log")
    assert log.traj_steps[:5].tolist() == [0, 1, 2, 3, 4] and 30 < len(log.traj_steps) < 60
    run.save(tmp_path / "r.npz")
    back = Run.load(tmp_path / "r.npz")
    for k in ("W", "a", "times", "loss", "W_traj", "a_traj", "traj_times"):
        assert np.array_equal(getattr(back, k), getattr(run, k))
    assert back.steps == 23 and back.config["lr"] == 0.1
    with np.load(tmp_path / "r.npz") as z:
        assert {"W", "a", "times", "loss", "W_traj", "a_traj"} <= set(z.files)


def test_same_seed_same_result_and_sgd():
    P = Problem.from_arrays(*make_dataset("generic:n=24"))
    W0, a0 = init_weights("gaussian", 6, 2, 0.1, seed=0)
    r1 = train(P, W0, a0, lr=0.1, steps=30, batch_size=8, momentum=0.9, seed=5)
    r2 = train(P, W0, a0, lr=0.1, steps=30, batch_size=8, momentum=0.9, seed=5)
    r3 = train(P, W0, a0, lr=0.1, steps=30, batch_size=8, momentum=0.9, seed=6)
    assert np.array_equal(r1.W, r2.W) and not np.array_equal(r1.W, r3.W)
    full = train(P, W0, a0, lr=0.1, steps=30)
    same = train(P, W0, a0, lr=0.1, steps=30, batch_size=24, momentum=0.0)
    assert np.array_equal(full.W, same.W)  # batch = all data, no momentum: plain GD


def test_divergence_raises_with_step_and_last_good_state():
    P = Problem.from_arrays(*make_dataset("generic:target=real"), "relu", "square")
    W0, a0 = init_weights("gaussian", 8, 2, 3.0, seed=0)
    with pytest.raises(TrainingDiverged) as info:
        train(P, W0, a0, lr=50.0, steps=1000)
    exc = info.value
    assert exc.step > 0 and f"step {exc.step}" in str(exc)
    assert np.all(np.isfinite(exc.run.W)) and np.all(np.isfinite(exc.run.loss))


def test_adaptive_steps_grow_like_log_inverse_eps():
    P = Problem.from_arrays(*make_dataset("generic:n=16"))
    steps = {}
    for eps in (1e-4, 1e-8, 1e-12):
        W0, a0 = init_weights("small_a", 32, 2, eps, seed=0)
        steps[eps] = train(P, W0, a0, adaptive=True, eta=0.1, lr_max=1.0,
                           until_escape=True).steps
    # steps ≈ (log(1/eps) + O(1))/eta: equal increments per decade, up to the O(1) transient
    inc1, inc2 = steps[1e-8] - steps[1e-4], steps[1e-12] - steps[1e-8]
    assert abs(inc1 - inc2) <= 0.1 * inc2, steps
    W0, a0 = init_weights("small_a", 32, 2, 1e-4, seed=0)
    const = train(P, W0, a0, lr=0.01, until_escape=True)  # a constant step needs far more
    assert const.steps > 5 * steps[1e-4]


def test_float32_and_bad_input():
    P = Problem.from_arrays(*make_dataset("generic"))
    W0, a0 = init_weights("small_a", 4, 2, 1e-3, seed=0, dtype=torch.float32)
    run = train(P, W0, a0, lr=0.1, steps=3)
    assert run.config["dtype"] == "float32"
    for kw in (dict(lr=float("nan"), steps=1), dict(lr=0.1), dict(lr=-1.0, steps=1),
               dict(lr=0.1, steps=1, record="every:0"), dict(lr=0.1, steps=1, momentum=1.5)):
        with pytest.raises(InputError):
            train(P, W0, a0, **kw)
    with pytest.raises(InputError, match="W"):
        train(P, W0[:, :1], a0, lr=0.1, steps=1)


def test_init_schemes():
    W, a = init_weights("small_a", 100, 3, 1e-6, seed=0)
    assert torch.all(a.abs() < 1e-2 * W.norm(dim=1).max())
    W, a = init_weights("balanced", 10, 3, 1e-6, seed=0)
    assert torch.allclose(a.abs(), W.norm(dim=1), rtol=1e-15)
    torch.manual_seed(4)
    net = torch.nn.Sequential(torch.nn.Linear(3, 9, bias=False, dtype=torch.float64),
                              torch.nn.ReLU(), torch.nn.Linear(9, 1, bias=False,
                                                               dtype=torch.float64))
    W, a = init_weights("torch_default", 9, 3, 1.0, seed=4)
    assert torch.equal(W, net[0].weight.detach()) and torch.equal(a, net[2].weight[0].detach())
    with pytest.raises(InputError):
        init_weights("nope", 3, 2, 1.0)
    with pytest.raises(InputError):
        init_weights("gaussian", 0, 2, 1.0)
    with pytest.raises(InputError):
        init_weights("gaussian", 3, 2, math.inf)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    P = Problem.from_arrays(*make_dataset("generic:n=64,d=3"))
    W0, a0 = init_weights("small_a", 128, 3, 1e-6, seed=0)
    cpu = train(P, W0, a0, lr=0.1, steps=200)
    gpu = train(P, W0, a0, lr=0.1, steps=200, device="cuda")
    assert np.allclose(cpu.W, gpu.W, rtol=1e-10, atol=0)  # float64 on both, reduction order
