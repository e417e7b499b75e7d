"""Each activation and loss is one definition with numpy, sympy and torch views: the views agree
with each other, with sympy's derivative and with torch autograd, and σ'(0) = γ everywhere."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
import torch

from numerics.engine import DenseNet
from theory import parse_activation, parse_loss
from theory.problem import Problem

ACTS = ["relu", "leaky_relu:0.1", "leaky_relu:1/3", "abs", "linear", "tanh", "gelu"]
LOSSES = ["logistic", "exponential", "square"]
# a grid through the kink, with exact zeros of both signs
Z = np.array([-3.0, -1.0, -0.25, -1e-300, -0.0, 0.0, 1e-300, 1e-8, 0.5, 2.0, 7.0])
ZS = [sp.Rational(-3), sp.Rational(-1, 4), sp.Integer(0), sp.Rational(1, 2), sp.Integer(2)]


@pytest.mark.parametrize("name", ACTS)
def test_activation_views_agree(name):
    act = parse_activation(name)
    zt = torch.tensor(Z, dtype=torch.float64)
    # numpy and torch: the same float64 operations (or erf/gelu from two libraries: 1e-15)
    np.testing.assert_allclose(act.torch(zt).numpy(), act.numpy(Z), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(act.torch_deriv(zt).numpy(), act.numpy_deriv(Z), rtol=1e-15,
                               atol=0)
    # sympy at exact points, its derivative view, and sympy's own derivative off the kink
    zs = sp.Symbol("z", real=True)
    for z in ZS:
        assert float(act.sympy(z)) == pytest.approx(float(act.numpy(float(z))), abs=1e-15)
        assert float(act.sympy_deriv(z)) == pytest.approx(float(act.numpy_deriv(float(z))),
                                                          abs=1e-15)
        if z != 0:
            dz = sp.diff(act.sympy(zs), zs).subs(zs, z)
            assert float(dz) == pytest.approx(float(act.sympy_deriv(z)), abs=1e-15)
    # σ'(0) is deriv0, in every view (γ at a kink)
    zero = torch.zeros(1, dtype=torch.float64)
    assert act.numpy_deriv(0.0) == act.deriv0 == float(act.torch_deriv(zero)[0])
    assert float(act.sympy_deriv(sp.Integer(0))) == act.deriv0
    if act.piecewise_linear:
        assert act.deriv0 == float(act.gamma)


@pytest.mark.parametrize("name", ACTS)
def test_torch_derivative_is_autograd_of_torch_view(name):
    """Autograd of the torch view gives the hand-written σ' everywhere, the kink included."""
    act = parse_activation(name)
    z = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(act.torch(z).sum(), z)
    # tanh/gelu: autograd's own formula for the same derivative, rounding only; 1 − tanh² is
    # accurate to eps absolutely, not relatively, where tanh ≈ ±1 (z = 7: σ' = 3e-6)
    np.testing.assert_allclose(g.numpy(), act.torch_deriv(z.detach()).numpy(), rtol=1e-14,
                               atol=4e-16)


def test_kink_convention_against_torch_builtins():
    """σ'(0) = γ is what torch's autograd gives for relu and leaky_relu; torch.abs uses the
    subgradient 0 at 0, which the package does not (|z| has σ'(0) = γ = −1)."""
    z = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    builtins = {"relu": torch.relu, "leaky_relu:0.1": lambda t: torch.nn.functional.leaky_relu(
        t, 0.1), "linear": lambda t: t}
    for name, fn in builtins.items():
        (g,) = torch.autograd.grad(fn(z).sum(), z)
        assert g.tolist() == [parse_activation(name).deriv0] * 3
    (g,) = torch.autograd.grad(torch.abs(z).sum(), z)
    assert g.tolist() == [0.0] * 3 and parse_activation("abs").deriv0 == -1.0
    # the right derivative (1 at the kink) would be a different convention: rejected here
    assert parse_activation("relu").numpy_deriv(0.0) == 0.0 != 1.0


@pytest.mark.parametrize("name", ["relu", "leaky_relu:1/4", "abs"])
def test_grad_G_at_exact_kinks_is_the_engine_gradient(name):
    """Problem.grad_G (theory) and the training engine's gradient (numerics) use the same σ'
    at points exactly on a kink: a·∇G_r(w) with the residual weights r is −∂L/∂w."""
    X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [-1.0, 1.0], [3.0, -1.0]])
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    P = Problem.from_arrays(X, y, name)
    W = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, -1.0], [1.0, 1.0], [1.0, 3.0], [0.3, 0.7]])
    a = np.array([0.5, -1.0, 2.0, 0.25, -0.5, 1.0])
    assert (W @ X.T == 0).sum() == 5  # five exact kinks
    net = DenseNet(P, torch.tensor(X))
    f = net.forward(torch.tensor(W), torch.tensor(a))
    r = P.loss.torch_neg_derivative(torch.tensor(y), f)
    gW, ga = net.backward(r / P.n)
    expect = a[:, None] * P.grad_G(W, weights=r.numpy())
    np.testing.assert_allclose(gW.numpy(), expect, rtol=0, atol=1e-15)  # the same few terms
    np.testing.assert_allclose(ga.numpy(), P.G(W, weights=r.numpy()), rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_views_agree_with_each_other_sympy_and_autograd(name):
    lo = parse_loss(name)
    y = np.array([-1.0, 1.0, -1.0, 1.0, 1.0, -1.0]) if lo.classification else \
        np.array([-2.0, 0.5, 0.0, 3.0, -0.1, 1.0])
    f = np.array([-30.0, -2.0, -0.1, 0.0, 1.5, 20.0])
    yt, ft = torch.tensor(y), torch.tensor(f, requires_grad=True)
    np.testing.assert_allclose(lo.torch_value(yt, ft).detach().numpy(), lo.value(y, f),
                               rtol=1e-14, atol=0)
    # numpy writes r for the logistic loss with tanh, torch with the sigmoid: rounding only
    np.testing.assert_allclose(lo.torch_neg_derivative(yt, ft.detach()).numpy(),
                               lo.neg_derivative(y, f), rtol=1e-14, atol=1e-300)
    (g,) = torch.autograd.grad(lo.torch_value(yt, ft).sum(), ft)
    np.testing.assert_allclose(-g.numpy(), lo.neg_derivative(y, f), rtol=1e-14, atol=1e-300)
    ys, fs = sp.symbols("y f", real=True)
    r_sym = -sp.diff(lo.sympy(ys, fs), fs)
    for yi, fi in zip(y[:5], f[1:]):
        args = {ys: sp.nsimplify(yi), fs: sp.nsimplify(fi)}
        assert float(lo.sympy(ys, fs).subs(args)) == pytest.approx(
            float(lo.value(yi, fi)), rel=1e-14)
        assert float(r_sym.subs(args)) == pytest.approx(float(lo.neg_derivative(yi, fi)),
                                                        rel=1e-14, abs=1e-300)
    # c_i = r at f = 0
    assert np.array_equal(lo.neg_derivative(y, 0 * f), lo.weights(y))


def test_logistic_views_are_accurate_at_large_margins():
    """Finite at |y f| = 800 and relatively accurate in the tail: r = y/(1 + e^{y f}) at
    y f = 30 is 9.4e-14; the form y(1 − tanh(y f/2))/2 loses 4 digits there."""
    lo = parse_loss("logistic")
    y = np.array([1.0, -1.0, 1.0])
    f = np.array([800.0, 800.0, 30.0])
    for v in (lo.value(y, f), lo.neg_derivative(y, f),
              lo.torch_value(torch.tensor(y), torch.tensor(f)).numpy(),
              lo.torch_neg_derivative(torch.tensor(y), torch.tensor(f)).numpy()):
        assert np.all(np.isfinite(v))
    exact = float(1 / (1 + sp.exp(30)))
    assert lo.neg_derivative(y, f)[2] == pytest.approx(exact, rel=1e-14)
    assert float(lo.torch_neg_derivative(torch.tensor(y), torch.tensor(f))[2]) == \
        pytest.approx(exact, rel=1e-14)
    assert abs(0.5 * (1 - np.tanh(15.0)) / exact - 1) > 1e-6  # the old form: rejected


def test_theory_views_do_not_import_torch():
    code = ("import sys, numpy as np, theory.activations as A, theory.losses as L; "
            "A.parse_activation('gelu').numpy(np.zeros(2)); "
            "L.parse_loss('logistic').value(np.ones(2), np.zeros(2)); "
            "assert 'torch' not in sys.modules, 'theory imported torch'")
    subprocess.run([sys.executable, "-c", code], check=True)
