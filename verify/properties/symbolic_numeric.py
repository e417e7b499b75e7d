"""Property: the sympy early-phase right-hand side is the ε → 0 limit of autograd's gradient."""

from __future__ import annotations

import numpy as np
import torch

from numerics.engine import torch_activation

from ..example import Example
from ..strategies import ALL_ACTIVATIONS, examples
from .base import Outcome, Property, r

CLAIM = ("At w = ε w̄, a = ε ā the full-loss gradient flow −∇L equals the symbolic early-phase "
         "system (a∇G(w), G(w)) up to terms bounded by sup|ℓ''|·|f|, which are O(ε²) relative "
         "(checked against torch autograd at ε = 1e-2, 1e-4, 1e-6).")

EPSS = (1e-2, 1e-4, 1e-6)
# sup |σ'|: 1 for the piecewise-linear σ drawn here (slopes 1 and γ, |γ| ≤ 1) and tanh;
# GELU's derivative peaks at 1.1289 (at z ≈ 1.32), rounded up.
SIGMA1 = 1.13


def _torch_loss(name: str, y, f):
    if name == "logistic":
        return torch.nn.functional.softplus(-y * f)
    if name == "exponential":
        return torch.exp(-y * f)
    return 0.5 * (f - y) ** 2


def _ell2_sup(name: str, fmax: float) -> float:
    """sup |ℓ''(y, f)| over |f| ≤ fmax, |y| = 1 (logistic 1/4; square 1; exponential e^{fmax})."""
    return {"logistic": 0.25, "square": 1.0}.get(name, float(np.exp(fmax)))


def check(ex: Example, theory, profile) -> Outcome:
    p = ex.problem()
    rng = np.random.default_rng(ex.seed)
    m = 8
    Wb, ab = rng.normal(size=(m, p.d)), rng.normal(size=m)
    rhs = theory.early_rhs(p)
    X = torch.tensor(p.X)
    y = torch.tensor(p.y)
    sig, _ = torch_activation(p.activation)
    errs, bounds = [], []
    for eps in EPSS:
        W = torch.tensor(eps * Wb, requires_grad=True)
        a = torch.tensor(eps * ab, requires_grad=True)
        Z = X @ W.T
        f = sig(Z) @ a
        L = _torch_loss(ex.loss, y, f).mean()
        gW, ga = torch.autograd.grad(L, (W, a))
        dW, da = rhs(eps * Wb, eps * ab)
        err = np.concatenate([np.abs(-gW.numpy() - dW).ravel(), np.abs(-ga.numpy() - da)])
        # Rigorous bound on the neglected terms: |r_i − c_i| ≤ sup|ℓ''| |f_i| (mean value
        # theorem), so per neuron |Δa'_j| ≤ K/n Σ_i |f_i||σ(z_ij)| and
        # |Δw'_j| ≤ K|a_j|/n Σ_i |f_i||σ'(z_ij)||x_i|  (|σ'| ≤ SIGMA1, below).
        fa = np.abs(f.detach().numpy())
        K = _ell2_sup(ex.loss, float(fa.max()))
        Zn = Z.detach().numpy()
        Sg = np.abs(sig(torch.tensor(Zn)).numpy())
        bda = K * (fa @ Sg) / p.n
        bdW = (K * SIGMA1 * np.abs(eps * ab)[:, None]
               * ((fa[:, None] * np.abs(p.X)).sum(0)[None, :]) / p.n)
        # float64 rounding of the two computations: a few hundred ulps of the terms' size
        scale = np.concatenate([np.abs(dW).ravel(), np.abs(da)]).max()
        bound = np.concatenate([bdW.ravel(), bda]) + 1e-13 * scale
        errs.append(float((err / np.maximum(scale, 1e-300)).max()))
        bounds.append(bool(np.all(err <= bound)))
    ok = all(bounds)
    ev = {"relative_error": [r(e) for e in errs], "eps": list(EPSS), "within_bound": bounds}
    msg = ("autograd gradient = symbolic early-phase system within the O(ε²) bound at every ε"
           if ok else f"symbolic right-hand side differs from autograd beyond the O(ε²) bound "
           f"(relative errors {ev['relative_error']} at ε = {list(EPSS)})")
    return Outcome(ok, msg, ev)


def _strategy(profile):
    return examples(activations=ALL_ACTIVATIONS)


def _builtins():
    X = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    return [Example(X, np.array([-1.0, -1, 1, 1]), "relu", "logistic", 0)]


PROPERTY = Property("symbolic_equals_numeric", CLAIM, _strategy, check, _builtins)
