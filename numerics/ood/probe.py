"""Linear probes of frozen features (the paper's OOD measurement).

The average-pool features of the OOD split are rescaled by one number so that their mean square
(over samples and coordinates) is 1 on the probe's fit part; the same factor is applied to the
score part.  Then a multinomial logistic regression (scikit-learn, lbfgs) is fitted on the fit
part and its accuracy is measured on the score part.  Two probes: ``C = 1000`` (the paper's main
setting) and no penalty (``penalty=None``; spelled ``C=inf`` from scikit-learn 1.8 on, where
``penalty`` is deprecated — the same estimator).

**Threads.** The fits run with BLAS and OpenMP limited to one thread (``threadpoolctl``, a
scikit-learn dependency).  The problems are small (fit part x features: 1536 x 32 offline, at
most 37,500 x 512 with the real data), so a second thread gains little, and on a shared or
oversubscribed CPU a multi-threaded OpenBLAS spin-waits on tiny matrix products: measured on the
2-core development machine with two other busy processes, one ``C = 1000`` fit of 1061 lbfgs
iterations took 1.4-8.3 s with two BLAS threads and 0.7-0.8 s with one (0.33 s unloaded).  One
thread also makes the probe's rounding independent of the machine's core count.

**Iterations.** lbfgs stops at scikit-learn's tolerance (``tol = 1e-4``) or after ``max_iter``
iterations (default :data:`MAX_ITER`); on separable features the unpenalised optimum is at
infinity and the probe measures the iterate reached.
"""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from theory.errors import InputError

PROBES = {"C1000": 1000.0, "nopenalty": None}
MAX_ITER = 2000


def feature_scale(features: np.ndarray) -> float:
    """Root mean square of the features (the paper's "feature scale")."""
    return float(np.sqrt(np.mean(np.square(features))))


def rescale(fit: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Divide both parts by the fit part's root mean square -> unit mean square on ``fit``."""
    s = feature_scale(fit)
    if not np.isfinite(s):
        raise InputError("features contain NaN or infinity")
    if s == 0.0:
        return fit, score, 0.0
    return fit / s, score / s, s


def _estimator(C: float | None, max_iter: int = MAX_ITER):
    from sklearn.linear_model import LogisticRegression

    legacy = LogisticRegression().get_params().get("penalty") != "deprecated"
    if C is None:
        kw = {"penalty": None} if legacy else {"C": np.inf}
    else:
        kw = {"C": C}
    return LogisticRegression(max_iter=max_iter, **kw)


def probe_accuracy(fit_x: np.ndarray, fit_y: np.ndarray, score_x: np.ndarray,
                   score_y: np.ndarray, C: float | None = 1000.0,
                   max_iter: int = MAX_ITER) -> float:
    """Accuracy on (score_x, score_y) of a logistic regression fitted on (fit_x, fit_y).

    A single class in ``fit_y`` gives the constant predictor (sklearn refuses to fit it).
    """
    if len(fit_x) != len(fit_y) or len(score_x) != len(score_y):
        raise InputError("probe: features and labels differ in length")
    classes = np.unique(fit_y)
    if len(classes) == 1:
        return float(np.mean(score_y == classes[0]))
    if max_iter < 1:
        raise InputError(f"probe: max_iter must be a positive integer, got {max_iter}")
    est = _estimator(C, max_iter)
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        # lbfgs may stop at max_iter on separable features (unpenalised optimum at infinity);
        # the accuracy of the iterate reached is what is measured.
        warnings.simplefilter("ignore")
        est.fit(fit_x, fit_y)
        return float(est.score(score_x, score_y))


def probe_all(fit_feat: np.ndarray, score_feat: np.ndarray,
              labels: dict[str, tuple[np.ndarray, np.ndarray]],
              max_iter: int = MAX_ITER) -> dict:
    """Rescale once, then every probe on every labelling: ``{"feature_scale": s,
    "<set>/<probe>": accuracy, ...}``."""
    f, s, scale = rescale(np.asarray(fit_feat, np.float64), np.asarray(score_feat, np.float64))
    out = {"feature_scale": scale}
    for name, (yf, ys) in labels.items():
        for pname, C in PROBES.items():
            out[f"{name}/{pname}"] = probe_accuracy(f, yf, s, ys, C, max_iter)
    return out
