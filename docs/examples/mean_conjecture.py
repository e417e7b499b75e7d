"""A plausible but wrong conjecture, for ``sbias verify --theory``.

"Neurons with a > 0 align with the mean of the positive points, neurons with a < 0 with the mean
of the negative points, each growing at |G| there."  It is exact for some data (two antipodal
clusters), and wrong in general: run

    sbias verify --theory docs/examples/mean_conjecture.py:class_means

and the suite falsifies it with a shrunk counterexample of a few points.
"""

import numpy as np
from scipy.special import erf

#: c_i = −∂ℓ/∂f at f = 0 is this factor times y_i (logistic ℓ = log(1 + e^{−yf}): 1/2).
WEIGHT = {"logistic": 0.5, "exponential": 1.0, "square": 1.0}


def sigma(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation.startswith("leaky_relu"):
        g = float(activation.partition(":")[2] or 0.01)
        return np.where(z >= 0, z, g * z)
    if activation == "abs":
        return np.abs(z)
    if activation == "linear":
        return z
    if activation == "tanh":
        return np.tanh(z)
    if activation == "gelu":
        return 0.5 * z * (1 + erf(z / np.sqrt(2)))
    raise ValueError(activation)


def class_means(X, y, activation, loss):
    """The conjecture: one extremum per sign, at the mean of that class (predict's schema)."""
    c = WEIGHT[loss] * np.asarray(y, dtype=float)
    out = []
    for sign in (1, -1):
        pts = X[sign * np.asarray(y) > 0]
        if len(pts) == 0:
            continue
        u = pts.mean(axis=0)
        if np.linalg.norm(u) == 0:
            continue
        u = u / np.linalg.norm(u)
        G = float(np.mean(c * sigma(X @ u, activation)))
        if sign * G > 0:  # a maximum needs G > 0, a minimum G < 0
            out.append({"direction": u.tolist(), "sign": sign, "G": G, "growth_rate": abs(G)})
    return out
