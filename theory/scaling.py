"""Scale-safe float work: a twin of the problem with rows and weights of size about 1.

Directions are scale-free and G scales linearly: with x_i = 2^{e_i} x'_i and σ positively
homogeneous, G(w) = (1/n) Σ c_i σ(⟨w, x_i⟩) = 2^E (1/n) Σ c'_i σ(⟨w, x'_i⟩) with
c'_i = c_i 2^{e_i − E}.  Choosing e_i from the size of row i and E from the size of the weights
puts every float64 number of the search, the screening and the basins near 1, so no finite input
overflows (data scaled by 1e300 give the same directions as unscaled data), and the twin's G
times 2^E is the problem's G.  Powers of two are exact in float64, so where no rescaling is
needed nothing changes at all; the exact certificate always works on the original data.

A value that float64 cannot hold after scaling back (|G| beyond ~1.8e308) is an
:class:`InputError`: the data cannot be described in the JSON's numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError

#: Rows and weights with sizes inside [2^-LIMIT, 2^LIMIT] are left alone.
LIMIT = 64


@dataclass(frozen=True)
class Rescaled:
    """``problem``: the float twin (or the problem itself when no rescaling was needed);
    G(original) = 2^``exponent`` · G(twin)."""

    problem: object
    exponent: int

    def G_back(self, G: float) -> float:
        """A value of the twin's G (or a growth rate) in the original units."""
        try:
            out = math.ldexp(float(G), self.exponent)
        except OverflowError:
            out = math.inf
        if not math.isfinite(out):
            raise InputError(f"a growth rate of these data (about 2^{self.exponent} times "
                             f"{abs(G):.3g}) is outside the float64 range; rescale the data")
        return out


def rescaled(problem) -> Rescaled:
    """The problem's float twin (module docstring)."""
    from .problem import Problem

    X = problem.X
    c = problem.c
    norms = np.max(np.abs(X), axis=1)
    nzr = norms > 0
    cabs = np.abs(c)
    big = 2.0 ** LIMIT
    if (np.all(norms[nzr] <= big) and np.all(norms[nzr] >= 1 / big)
            and np.all(cabs[cabs > 0] <= big) and np.all(cabs[cabs > 0] >= 1 / big)
            and np.all(np.isfinite(c))):
        return Rescaled(problem, 0)
    e = np.zeros(len(X), dtype=int)
    e[nzr] = np.frexp(norms[nzr])[1]
    Xs = np.ldexp(X, -e[:, None])
    cm = np.frexp(np.where(cabs > 0, cabs, 1.0))[1]
    ce = cm + e  # c_i 2^{e_i} has exponent ce_i
    live = (cabs > 0) & nzr
    E = int(ce[live].max()) if live.any() else 0
    cs = np.where(live, np.ldexp(c, e - E), 0.0)
    k = float(problem.loss.weight_factor())
    ys = cs / k
    Xs.setflags(write=False)
    ys.setflags(write=False)
    twin = Problem(Xs, ys, problem.activation, problem.loss)
    return Rescaled(twin, E)
