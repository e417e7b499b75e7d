"""The d = 2 arc step (numerics.fast2d) equals the dense step, ties and kinks included.

The reference is the engine's dense path (``numerics.engine.DenseNet``: the n×m pre-activations,
σ'(0) = γ at a kink), itself checked against torch autograd in ``tests/test_engine.py``.
Agreement is measured as ``max |fast − dense| / max |dense|`` per output (f, −∂L/∂W, −∂L/∂a).

Tolerance 1e-12: both paths add the same O(n + m) float64 terms in different orders (prefix
sums vs blocked dot products); each result carries an error of order eps·(sum of absolute
terms) ≤ ~1e-14 relative for the O(1)-conditioned sums drawn here (measured below ~4e-15).
A wrong arc end (one point or neuron on the wrong side of a kink) changes a gradient by about
1/n relative, far above the tolerance; each test also checks that such an error is caught.
"""

import math

import numpy as np
import pytest
import torch

from numerics import fast2d
from numerics.batched import train_batched
from numerics.datasets import make_dataset
from numerics.engine import DenseNet, Fast2DNet, train
from numerics.init import init_weights
from theory.errors import InputError
from theory.problem import Problem

torch.set_num_threads(1)  # tests only: 2 shared cores, small tensors

TOL = 1e-12
ACTS = ["relu", "leaky_relu:0.1", "abs", "linear"]


def _rel(x, ref):
    x, ref = np.asarray(x), np.asarray(ref)
    return float(np.max(np.abs(x - ref)) / max(np.max(np.abs(ref)), 1e-300))


def _step(net, P, W, a):
    """f and the ascent directions of one full-batch step, as the sequential engine runs it."""
    X = torch.tensor(P.X)
    y = torch.tensor(P.y)
    W = torch.as_tensor(W, dtype=torch.float64).clone()
    a = torch.as_tensor(a, dtype=torch.float64).clone()
    s = torch.full((P.n,), 1.0 / P.n, dtype=torch.float64)
    nn = net(P, X)
    order = nn.data_order if nn.data_order is not None else torch.arange(P.n)
    f = nn.forward(nn.held(W), a)
    gW, ga = nn.backward(s * P.loss.torch_neg_derivative(y[order], f))
    f_given = torch.empty_like(f).index_copy_(0, order, f)  # back to the given order of points
    return f_given.numpy().copy(), nn.md(gW).numpy().copy(), ga.numpy().copy()


def _compare(P, W, a):
    """Largest relative difference between the two paths over f, gW, ga."""
    fast = _step(Fast2DNet, P, W, a)
    dense = _step(DenseNet, P, W, a)
    return max(_rel(x, r) for x, r in zip(fast, dense)), fast, dense


def _rotate(U, quarter_turns):
    """Exact rotation by multiples of 90° (a swap and a sign: no rounding)."""
    for _ in range(quarter_turns % 4):
        U = np.stack([-U[..., 1], U[..., 0]], -1)
    return U


def random_problem(rng, act, loss):
    """n points and m neurons at random scales; |f| stays below ~30 (so the exponential
    loss's r = e^{−y f} does not amplify rounding by more than that)."""
    n, m = int(rng.integers(3, 200)), int(rng.integers(1, 300))
    X = rng.normal(size=(n, 2)) * rng.uniform(0.1, 3.0)
    y = rng.choice([-1.0, 1.0], size=n) if loss != "square" else rng.normal(size=n)
    W = rng.normal(size=(m, 2)) * 10.0 ** rng.uniform(-8, 0.5)
    a = rng.normal(size=m) * 10.0 ** rng.uniform(-8, 0.5) / math.sqrt(m)
    return Problem.from_arrays(X, y, act, loss), W, a


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("loss", ["logistic", "exponential", "square"])
def test_random_problems_match_dense(act, loss):
    rng = np.random.default_rng([ACTS.index(act), len(loss)])
    worst = max(_compare(*random_problem(rng, act, loss))[0] for _ in range(6))
    assert worst < TOL, worst


@pytest.mark.parametrize("act,chunk", [("relu", None), ("leaky_relu:1/4", None), ("abs", 100)])
def test_ties_kinks_and_degenerate_points(act, chunk, monkeypatch):
    """Points at equal angles (repeats, multiples, antipodes), neurons exactly on kinks
    (exactly orthogonal to data points), neurons and points on the ±π cut, w = 0, x = 0.
    (``chunk``: the dense sums of the doubtful neurons in many small chunks.)"""
    if chunk:
        monkeypatch.setattr(fast2d, "DENSE_ROWS_CHUNK", chunk)
    rng = np.random.default_rng(7)
    base = rng.integers(-4, 5, size=(12, 2)).astype(float)
    base = base[np.abs(base).sum(1) > 0]
    X = np.concatenate([base, 2.0 * base[:5], base[:4], -base[:6], 0.5 * base[3:7],
                        [[-1.0, 0.0], [-2.0, -0.0], [0.0, 0.0], [0.0, 1.0], [3.0, 0.0]]])
    y = rng.choice([-1.0, 1.0], size=len(X))
    P = Problem.from_arrays(X, y, act)
    # neurons: exactly orthogonal to data points (dyadic scales keep ⟨w, x⟩ = 0 exact), on the
    # axes, on the cut (−1, ±0), zero, and generic ones
    ortho = np.concatenate([_rotate(base, 1) * 0.25, _rotate(base, 3) * 2.0,
                            _rotate(X[:8], 1)])
    special = np.array([[-1.0, 0.0], [-0.5, -0.0], [0.0, 0.0], [0.0, 3.0], [2.0, 0.0],
                        [0.0, -1.0]])
    W = np.concatenate([ortho, special, rng.normal(size=(20, 2))])
    a = rng.normal(size=len(W))
    Z = W @ X.T
    assert (Z == 0).sum() > 40  # many exact kinks: the ties are really there
    err, fast, dense = _compare(P, W, a)
    assert err < TOL, err
    # the kink convention matters here: σ'(0) = 1 instead of γ moves the gradient a lot
    s_r = P.loss.neg_derivative(P.y, dense[0]) / P.n
    g = float(P.activation.gamma)
    right = np.where(Z >= 0, 1.0, g)
    gW_right = a[:, None] * ((right * s_r) @ X)
    assert _rel(gW_right, dense[1]) > 1e-3


def test_a_misplaced_arc_end_is_detected():
    """The comparison has power: moving one neuron's arc end by one point changes gW by far
    more than the tolerance."""
    P = Problem.from_arrays(*make_dataset("generic:n=40,d=2"), "relu")
    W, a = init_weights("gaussian", 30, 2, 1.0, seed=3)
    fast = _step(Fast2DNet, P, W, a)
    dense = _step(DenseNet, P, W, a)
    assert _rel(fast[1], dense[1]) < TOL
    arcs = fast2d.Arcs2D(torch.tensor(P.X)[None], 0.0)
    arcs.runs[:, 0] += 1  # every neuron's run of points one point longer
    y = torch.tensor(P.y)[arcs.order[0]]
    f = arcs.forward(W.T.contiguous()[None], a[None])[0]
    gWT, _ = arcs.backward((P.loss.torch_neg_derivative(y, f) / P.n)[None])
    assert _rel(gWT[0].T.numpy(), dense[1]) > 1e-3


def test_sorted_gap_sums_equal_scatter():
    """The deterministic gap sums used on CUDA equal the scatter-add used on CPU."""
    rng = np.random.default_rng(0)
    p = torch.tensor(rng.integers(0, 9, size=(3, 50)))
    aw = torch.tensor(rng.normal(size=(3, 2, 50)))
    scat = torch.zeros(3, 2, 9, dtype=torch.float64).scatter_add_(
        2, p[:, None, :].expand(-1, 2, -1), aw).cumsum_(2)
    assert _rel(fast2d._sorted_gap_prefix(p, aw, 9), scat) < 1e-14


def test_training_runs_match_and_path_is_chosen():
    P = Problem.from_arrays(*make_dataset("skewed_xor:n=64"), "relu", "logistic")
    W0, a0 = init_weights("small_a", 64, 2, 1e-6, seed=0)
    kw = dict(adaptive=True, eta=0.05, lr_max=1.0, until_escape=True, record="every:50")
    fast = train(P, W0, a0, path="fast2d", **kw)
    dense = train(P, W0, a0, **kw)  # auto: small (n·m = 4096), the dense path
    assert fast.config["path"] == "fast2d" and dense.config["path"] == "dense"
    assert fast.steps == dense.steps and fast.stop_reason == dense.stop_reason == "escape"
    # hundreds of steps, each agreeing to rounding; no kink flips on this data (measured
    # ~4e-15 relative at the end)
    assert _rel(fast.W, dense.W) < TOL and _rel(fast.a, dense.a) < TOL
    assert abs(fast.escape_time - dense.escape_time) < TOL * dense.escape_time
    assert np.allclose(fast.W_traj, dense.W_traj, rtol=0, atol=TOL * np.abs(dense.W).max())
    # auto: fast2d for d = 2, piecewise-linear σ, full batches, from 2^17 pre-activations
    big = Problem.from_arrays(*make_dataset("generic:n=256,d=2"), "abs")
    Wb, ab = init_weights("small_a", 512, 2, 1e-3, seed=0)
    assert train(big, Wb, ab, lr=0.1, steps=1).config["path"] == "fast2d"
    assert train(big, Wb[:511], ab[:511], lr=0.1, steps=1).config["path"] == "dense"
    assert train_batched([big] * 2, torch.stack([Wb[:256]] * 2), torch.stack([ab[:256]] * 2),
                         lr=0.1, steps=1)[0].config["path"] == "fast2d"
    assert train(big, Wb, ab, lr=0.1, steps=1, batch_size=8).config["path"] == "dense"
    # d = 3 and smooth σ take the dense path; forcing fast2d there is bad input
    P3 = Problem.from_arrays(*make_dataset("generic:n=10,d=3"))
    W3, a3 = init_weights("small_a", 8, 3, 1e-3, seed=0)
    assert train(P3, W3, a3, lr=0.1, steps=2).config["path"] == "dense"
    for bad in (dict(problem=P3, W0=W3, a0=a3), dict(problem=P.with_(activation="tanh"),
                                                     W0=W0, a0=a0)):
        with pytest.raises(InputError, match="fast2d"):
            train(lr=0.1, steps=1, path="fast2d", **bad)
    with pytest.raises(InputError, match="path"):
        train(P, W0, a0, lr=0.1, steps=1, path="sparse")


@pytest.mark.parametrize("act", ["relu", "abs"])
def test_batched_fast_equals_sequential_fast_and_dense(act):
    """Padding rows (x = 0), problems leaving the working set at different steps."""
    probs = [Problem.from_arrays(*make_dataset(f"generic:n={6 + 7 * b},d=2", seed=b), act)
             for b in range(4)]
    inits = [init_weights("small_a", 40, 2, e, seed=b) for b, e in
             enumerate((1e-2, 1e-5, 1e-8, 1e-3))]
    W0 = torch.stack([w for w, _ in inits])
    a0 = torch.stack([a for _, a in inits])
    kw = dict(adaptive=True, eta=0.1, lr_max=1.0, until_escape=True, record="log")
    runs = train_batched(probs, W0, a0, path="fast2d", **kw)
    dense = train_batched(probs, W0, a0, path="dense", **kw)
    assert len({r.steps for r in runs}) > 1 and runs[0].config["path"] == "fast2d"
    for p, (w, a), rb, rd in zip(probs, inits, runs, dense):
        rs = train(p, w, a, path="fast2d", **kw)
        assert (rb.steps, rb.stop_reason) == (rs.steps, rs.stop_reason) == (rd.steps,
                                                                             rd.stop_reason)
        assert _rel(rb.W, rs.W) < TOL and _rel(rb.a, rs.a) < TOL
        assert _rel(rb.W, rd.W) < TOL and _rel(rb.a, rd.a) < TOL
        assert abs(rb.escape_time - rd.escape_time) < TOL * rd.escape_time


def test_float32_fast_path_agrees_to_float32_rounding():
    P = Problem.from_arrays(*make_dataset("skewed_xor:n=128"), "relu")
    W, a = init_weights("gaussian", 200, 2, 1.0, seed=1)
    X = torch.tensor(P.X, dtype=torch.float32)
    y = torch.tensor(P.y, dtype=torch.float32)
    s = torch.full((P.n,), 1.0 / P.n)
    out = []
    for net in (Fast2DNet, DenseNet):
        nn = net(P, X)
        order = nn.data_order if nn.data_order is not None else torch.arange(P.n)
        f = nn.forward(nn.held(W.float()), a.float())
        gW, ga = nn.backward(s * P.loss.torch_neg_derivative(y[order], f))
        out.append((torch.empty_like(f).index_copy_(0, order, f), nn.md(gW), ga))
    # float32: eps 6e-8 times O(n) accumulated terms; a flipped kink would be ~1/n = 1e-2
    assert max(_rel(x.numpy(), r.numpy()) for x, r in zip(*out)) < 1e-4


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype,tol", [(torch.float64, TOL), (torch.float32, 1e-4)])
def test_cuda_fast_path_matches_cpu_dense(dtype, tol):
    P = Problem.from_arrays(*make_dataset("skewed_xor:n=256"), "relu")
    W0, a0 = init_weights("small_a", 512, 2, 1e-4, seed=0, dtype=dtype)
    kw = dict(adaptive=True, eta=0.05, lr_max=1.0, until_escape=True)
    gpu = train(P, W0, a0, device="cuda", path="fast2d", **kw)
    gpu_dense = train(P, W0, a0, device="cuda", path="dense", **kw)
    cpu = train(P, W0.double(), a0.double(), path="dense", **kw)
    assert gpu.config["path"] == "fast2d" and gpu.steps == gpu_dense.steps
    assert _rel(gpu.W, gpu_dense.W) < tol
    if dtype == torch.float64:
        assert _rel(gpu.W, cpu.W) < tol and gpu.steps == cpu.steps
    again = train(P, W0, a0, device="cuda", path="fast2d", **kw)
    assert np.array_equal(again.W, gpu.W)  # deterministic on the GPU too (sorted gap sums)
    assert math.isfinite(gpu.escape_time)
    # batched on the GPU: each problem equals its sequential GPU run
    probs = [P, Problem.from_arrays(*make_dataset("generic:n=100,d=2"), "relu")]
    inits = [init_weights("small_a", 512, 2, e, seed=b, dtype=dtype)
             for b, e in enumerate((1e-4, 1e-7))]
    runs = train_batched(probs, torch.stack([w for w, _ in inits]),
                         torch.stack([a for _, a in inits]), device="cuda", path="fast2d", **kw)
    for p, (w, a), rb in zip(probs, inits, runs):
        rs = train(p, w, a, device="cuda", path="fast2d", **kw)
        assert rb.steps == rs.steps and _rel(rb.W, rs.W) < tol
