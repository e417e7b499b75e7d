"""Dataset generators: shapes, seeds, the geometry each docstring states, spec parsing."""

import math

import numpy as np
import pytest

from numerics.datasets import DATASETS, make_dataset, parse_dataset_spec
from theory.errors import InputError
from theory.problem import Problem


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_shapes_dtype_and_seed(name):
    X, y = make_dataset(name, seed=3)
    assert X.dtype == np.float64 and X.ndim == 2 and y.shape == (X.shape[0],)
    X2, y2 = make_dataset(name, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)  # same seed, same data
    if name != "xor3d":  # xor3d defaults to noise-free points: nothing random
        X3, _ = make_dataset(name, seed=4)
        assert not np.array_equal(X, X3)


def _is_point_symmetric(X, y):
    """x -> -x maps the labelled data set onto itself (exactly)."""
    key = {tuple(r) + (l,) for r, l in zip(X.tolist(), y.tolist())}
    return all(tuple(-v for v in r) + (l,) in key for r, l in zip(X.tolist(), y.tolist()))


def test_xor_figure1_geometry_and_shift_reflect():
    X, y = make_dataset("xor")  # Figure 1: n=256, sigma=.005, delta=.01
    assert X.shape == (256, 2) and set(y.tolist()) == {-1.0, 1.0}
    centres = np.where((y == -1)[:, None], np.sign(X[:, [0]]) * [1, 0], np.sign(X[:, [1]]) * [0, 1])
    assert np.max(np.linalg.norm(X - centres, axis=1)) <= 0.01  # kept inside the delta ball
    assert _is_point_symmetric(X, y)
    Xa, ya = make_dataset("xor:symmetric=0")
    assert not _is_point_symmetric(Xa, ya)  # the check can fail


def test_figure2_setting_and_padding():
    X, y = make_dataset(f"skewed_xor:n=512,delta=0.2,sigma={0.1 / math.sqrt(2)},alpha=1.0471975")
    v = np.array([math.cos(1.0471975), math.sin(1.0471975)])
    pos = X[y == 1]
    # each +1 point lies within delta of +-v
    assert np.all(np.minimum(np.linalg.norm(pos - v, axis=1), np.linalg.norm(pos + v, axis=1))
                  <= 0.2)
    X4, _ = make_dataset("xor:d=4")
    assert X4.shape == (256, 4) and np.all(X4[:, 2:] == 0)  # zero-padded beyond the xor plane
    assert np.array_equal(X4[:, :2], make_dataset("xor")[0])


def test_xor3d_labels_and_linear_separable_symmetry():
    X, y = make_dataset("xor3d")
    lab = {tuple(np.round(r).astype(int)): l for r, l in zip(X, y)}
    assert lab[(1, 0, 0)] == lab[(0, 0, 1)] == lab[(0, 0, -1)] == 1 and lab[(0, 1, 0)] == -1
    X, y = make_dataset("linear_separable:n=40,d=3")
    assert np.all(y * X[:, 0] >= 0)  # separated by e1
    P = Problem.from_arrays(X, y)
    W = np.random.default_rng(0).normal(size=(5, 3))
    # mirrored pairs with flipped labels make G linear, so G is odd
    assert np.allclose(P.G(-W), -P.G(W), atol=1e-15)
    Pn = Problem.from_arrays(*make_dataset("generic:n=40,d=3"))
    assert not np.allclose(Pn.G(-W), -Pn.G(W), atol=1e-3)  # generic data: not odd


def test_generic_real_targets_and_clusters():
    X, y = make_dataset("generic:n=10,d=3,target=real")
    assert X.shape == (10, 3) and len(set(y.tolist())) == 10
    X, y = make_dataset("gaussian_clusters:n=40,k=5,d=3")
    assert X.shape == (40, 3) and len(np.unique(np.round(X, 0), axis=0)) <= 40


def test_xor_ood_rotated_clusters():
    X, y = make_dataset("xor_ood")
    ang = np.degrees(np.arctan2(X[:, 1], X[:, 0])) % 180
    assert np.all(np.abs(ang[y == -1] - 45) < 1) and np.all(np.abs(ang[y == 1] - 135) < 1)


@pytest.mark.parametrize("spec,word", [
    ("nope", "unknown dataset"), ("xor:foo=1", "unknown parameter"), ("xor:n=abc", "n="),
    ("xor:n=10", "multiple"), ("skewed_xor:alpha=3", "alpha"), ("xor:n", "key=value"),
    ("generic:target=blah", "target"), ("xor:sigma=-1", "sigma"), ("", "empty"),
    ("xor:delta=nan", "finite"),
])
def test_bad_specs_raise_input_error(spec, word):
    with pytest.raises(InputError, match=word):
        make_dataset(spec)


def test_parse_spec_types():
    name, kw = parse_dataset_spec("skewed_xor:alpha=1.047,n=512")
    assert name == "skewed_xor" and kw == {"alpha": 1.047, "n": 512}
    assert isinstance(kw["n"], int)
