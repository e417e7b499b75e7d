"""Linear probes of frozen features (the paper's OOD measurement).

The average-pool features of the OOD split are rescaled by one number so that their mean square
(over samples and coordinates) is 1 on the probe's fit part; the same factor is applied to the
score part.  Then a multinomial logistic regression (scikit-learn, lbfgs) is fitted on the fit
part and its accuracy is measured on the score part.  Two probes: ``C = 1000`` (the paper's main
setting) and no penalty (``penalty=None``; spelled ``C=inf`` from scikit-learn 1.8 on, where
``penalty`` is deprecated — the same estimator).
"""

from __future__ import annotations

import warnings

import numpy as np

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


def _estimator(C: float | None):
    from sklearn.linear_model import LogisticRegression

    legacy = LogisticRegression().get_params().get("penalty") != "deprecated"
    if C is None:
        kw = {"penalty": None} if legacy else {"C": np.inf}
    else:
        kw = {"C": C}
    return LogisticRegression(max_iter=MAX_ITER, **kw)


def probe_accuracy(fit_x: np.ndarray, fit_y: np.ndarray, score_x: np.ndarray,
                   score_y: np.ndarray, C: float | None = 1000.0) -> float:
    """Accuracy on (score_x, score_y) of a logistic regression fitted on (fit_x, fit_y).

    A single class in ``fit_y`` gives the constant predictor (sklearn refuses to fit it).
    """
    if len(fit_x) != len(fit_y) or len(score_x) != len(score_y):
        raise InputError("probe: features and labels differ in length")
    classes = np.unique(fit_y)
    if len(classes) == 1:
        return float(np.mean(score_y == classes[0]))
    est = _estimator(C)
    with warnings.catch_warnings():
        # lbfgs may stop at MAX_ITER on separable features (unpenalised optimum at infinity);
        # the accuracy of the iterate reached is what is measured.
        warnings.simplefilter("ignore")
        est.fit(fit_x, fit_y)
    return float(est.score(score_x, score_y))


def probe_all(fit_feat: np.ndarray, score_feat: np.ndarray,
              labels: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    """Rescale once, then every probe on every labelling: ``{"feature_scale": s,
    "<set>/<probe>": accuracy, ...}``."""
    f, s, scale = rescale(np.asarray(fit_feat, np.float64), np.asarray(score_feat, np.float64))
    out = {"feature_scale": scale}
    for name, (yf, ys) in labels.items():
        for pname, C in PROBES.items():
            out[f"{name}/{pname}"] = probe_accuracy(f, yf, s, ys, C)
    return out
