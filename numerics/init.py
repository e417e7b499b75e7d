"""Initial weights ``w_j(0) = ε w̄_j``, ``a_j(0) = ε ā_j`` for the two-layer network.

Schemes (all drawn on the CPU from a ``torch.Generator`` seeded with ``seed``, in float64 or
the requested dtype, then moved to the device, so the same seed gives the same numbers on every
device):

``torch_default``  PyTorch's default ``nn.Linear`` init without bias, for both layers, times ε:
                   ``kaiming_uniform_(a=√5)``, i.e. U(−1/√fan_in, 1/√fan_in), first ``W``
                   (fan_in = d) then ``a`` (fan_in = m); the same numbers as
                   ``torch.manual_seed(seed); nn.Sequential(Linear(d, m), ReLU(), Linear(m, 1))``
                   built in that dtype.
``gaussian``       ``w̄_j ~ N(0, I_d)``, ``ā_j ~ N(0, 1)``.
``small_a``        ``w̄_j ~ N(0, I_d)``, ``ā_j ~ 10⁻³ N(0, 1)``: ``|a| ≪ |w|`` so ``a_j`` first
                   takes the sign of ``G(u_j(0))`` — the theory layer's basin model.
``balanced``       ``w̄_j ~ N(0, I_d)``, ``|ā_j| = |w̄_j|`` with a random sign (so the conserved
                   ``a_j² − |w_j|²`` is 0).
``explicit``       the given ``W`` (m×d) and ``a`` (m) times ε (pass ε = 1 to use them as is).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from theory.errors import InputError

SCHEMES = ("torch_default", "gaussian", "small_a", "balanced", "explicit")
SMALL_A_FACTOR = 1e-3


def init_weights(scheme: str, m: int, d: int, eps: float, seed: int = 0, *,
                 dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu",
                 W=None, a=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(W, a)``: tensors of shape (m, d) and (m,) on ``device`` (see module doc)."""
    if scheme not in SCHEMES:
        raise InputError(f"unknown init scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    if not isinstance(m, (int, np.integer)) or m <= 0:
        raise InputError(f"width m must be a positive integer, got {m!r}")
    if not isinstance(d, (int, np.integer)) or d <= 0:
        raise InputError(f"input dimension d must be a positive integer, got {d!r}")
    if not (isinstance(eps, (int, float, np.floating)) and math.isfinite(eps) and eps > 0):
        raise InputError(f"init scale eps must be a positive finite number, got {eps!r}")
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    if scheme == "explicit":
        if W is None or a is None:
            raise InputError("init scheme 'explicit' needs W (m×d) and a (m)")
        Wt = torch.as_tensor(np.asarray(W, dtype=float), dtype=dtype).clone()
        at = torch.as_tensor(np.asarray(a, dtype=float), dtype=dtype).clone()
        if tuple(Wt.shape) != (m, d) or tuple(at.shape) != (m,):
            raise InputError(f"explicit init: W must be ({m}, {d}) and a ({m},); got "
                             f"{tuple(Wt.shape)} and {tuple(at.shape)}")
    elif scheme == "torch_default":
        Wt = torch.empty(m, d, dtype=dtype)
        torch.nn.init.kaiming_uniform_(Wt, a=math.sqrt(5), generator=gen)
        a2 = torch.empty(1, m, dtype=dtype)
        torch.nn.init.kaiming_uniform_(a2, a=math.sqrt(5), generator=gen)
        at = a2[0].clone()
    else:
        Wt = torch.randn(m, d, generator=gen, dtype=dtype)
        if scheme == "gaussian":
            at = torch.randn(m, generator=gen, dtype=dtype)
        elif scheme == "small_a":
            at = SMALL_A_FACTOR * torch.randn(m, generator=gen, dtype=dtype)
        else:  # balanced
            sign = torch.randint(0, 2, (m,), generator=gen).to(dtype) * 2 - 1
            at = sign * Wt.norm(dim=1)
    dev = torch.device(device) if not isinstance(device, torch.device) else device
    return (eps * Wt).to(dev), (eps * at).to(dev)
