"""docs/real_data.md, short version: the breast-cancer prediction and a training run on it."""

import json

import numpy as np
import pytest

from theory.extrema import predict
from theory.problem import Problem


def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    X = (d.data - d.data.mean(0)) / d.data.std(0)
    return X, np.where(d.target == 1, 1, -1)


def test_prediction_in_the_doc():
    X, y = _breast_cancer()
    pred = predict(Problem.from_arrays(X, y), basins=False)
    assert pred.method == "search" and not pred.complete
    assert [(e.sign, e.kind, e.established) for e in pred.extrema] == \
        [(1, "kink", "certified"), (-1, "smooth", "certified")]
    # the doc's numbers (6 significant digits as printed)
    assert [round(e.growth_rate, 6) for e in pred.extrema] == [0.718292, 0.699726]
    cov = pred.to_json()["coverage"]
    assert cov["unassigned_basin_share"] == 0 and cov["missing_mass_bound"] < 0.2


@pytest.mark.slow
def test_training_lands_on_the_prediction(tmp_path):
    from numerics.measure import match
    from verify.cli import main

    X, y = _breast_cancer()
    data = tmp_path / "bc.npz"
    np.savez(data, X=X, y=y)
    pred = predict(Problem.from_arrays(X, y), basins=False).to_json()
    run = tmp_path / "run.npz"
    assert main(["train", "--data", str(data), "--width", "64", "--init-scale", "1e-8",
                 "--until", "escape", "--adaptive", "--seed", "0", "--out", str(run),
                 "--no-progress"]) == 0
    r = np.load(run)
    m = match(r["W"], r["a"], json.loads(json.dumps(pred)))
    assert m.matched_mass > 0.99 and m.worst_angle_deg < 2.0
