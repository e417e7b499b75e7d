"""Scale-safe predictions: directions are scale-free and G scales linearly with the data."""

import json
import warnings

import numpy as np
import pytest

from theory.errors import InputError
from theory.extrema import predict
from theory.problem import Problem
from theory.scaling import rescaled
from verify.cli import main


def _data(n=14, d=3, seed=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.choice([-1.0, 1.0], n)


def _key(pred):
    return [(e.sign, e.direction) for e in pred.extrema]


@pytest.mark.parametrize("act", ["relu", "leaky_relu:0.1", "abs", "linear", "tanh"])
def test_huge_and_tiny_data_give_the_same_directions(act):
    X, y = _data()
    base = predict(Problem.from_arrays(X, y, act), basins=True, basin_samples=300)
    assert base.extrema
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning may leak
        for factor in (1e300, 2.0**1000, 1e-300, 2.0**-1000):
            p = Problem.from_arrays(X * factor, y, act)
            pred = predict(p, basins=True, basin_samples=300)
            assert len(pred.extrema) == len(base.extrema) and not pred.degenerate
            exact_copy = factor in (2.0**1000, 2.0**-1000)  # powers of two scale exactly
            for e, b in zip(pred.extrema, base.extrema):
                assert e.sign == b.sign and e.kind == b.kind
                # 1e300·x rounds each entry (relative 1e-16): directions move by ~1e-16
                assert np.allclose(e.direction, b.direction, rtol=0, atol=0 if exact_copy
                                   else 1e-12)
                assert e.G == pytest.approx(b.G * factor, rel=0 if exact_copy else 1e-12)
                assert e.basin_fraction == b.basin_fraction
            assert pred.lambda_max == pytest.approx(base.lambda_max * factor, rel=1e-12)


def test_rows_of_very_different_sizes():
    X, y = _data(10, 3, 9)
    X2 = X.copy()
    X2[0] *= 1e300
    X2[1] *= 1e-300
    pred = predict(Problem.from_arrays(X2, y), basins=False)
    assert pred.extrema and all(np.isfinite(e.G) for e in pred.extrema)
    assert all(e.established == "certified" for e in pred.extrema)


def test_twin_is_untouched_for_ordinary_data_and_exact_for_huge_data():
    X, y = _data()
    p = Problem.from_arrays(X, y)
    assert rescaled(p).problem is p and rescaled(p).exponent == 0
    q = Problem.from_arrays(X * 2.0**900, y)
    tw = rescaled(q)
    assert np.max(np.abs(tw.problem.X)) <= 1 and tw.exponent > 800
    U = np.random.default_rng(0).standard_normal((5, 3))
    assert np.allclose(np.ldexp(tw.problem.G(U), tw.exponent), p.G(U) * 2.0**900, rtol=1e-14)


def test_unrepresentable_growth_rates_are_bad_input(tmp_path, capsys):
    X, y = _data()
    p = Problem.from_arrays(X * 1e300, y * 1e300, "relu", "square")  # G ~ 1e600
    with pytest.raises(InputError):
        predict(p, basins=False)
    f = tmp_path / "huge.npz"
    np.savez(f, X=X * 1e300, y=y * 1e300)
    assert main(["predict", "--data", str(f), "--loss", "square", "--no-basins"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "float64 range" in err and "Traceback" not in err
    # the same data at 1e300 with ±1 labels are fine: JSON with G ~ 1e300
    np.savez(f, X=X * 1e300, y=y)
    assert main(["predict", "--data", str(f), "--json", "--no-basins"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["lambda_max"] > 1e298 and obj["extrema"]
