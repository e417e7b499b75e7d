"""Domino construction: halves, correlations, OOD labels, splits, determinism, offline data."""

import numpy as np
import pytest

from numerics.ood.dominoes import build_dominoes, correlated_top_classes, to_rgb32
from numerics.ood.offline import offline_pools, textures
from tests.ood_helpers import read_classes, tiny_pools
from theory.errors import InputError


def test_perfectly_correlated_training_set():
    d = build_dominoes(*tiny_pools(), correlation=1.0, seed=0)
    for x, y in (d.train, d.val):
        top, bottom = read_classes(x)
        np.testing.assert_array_equal(bottom, y)  # label = bottom (CIFAR) class
        np.testing.assert_array_equal(top, y)     # and the digit always agrees


def test_partial_correlation_rate_and_mismatches():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 20000)
    top = correlated_top_classes(y, 0.95, rng)
    # binomial: std of the agreement rate is sqrt(.95*.05/20000) = 0.0015; 5 std allowed
    assert abs(np.mean(top == y) - 0.95) < 5 * 0.0015
    # a mismatch is uniform over the other nine classes (each about 1/9 of mismatches)
    shift = ((top - y) % 10)[top != y]
    counts = np.bincount(shift, minlength=10)
    assert counts[0] == 0 and np.all(np.abs(counts[1:] / counts.sum() - 1 / 9) < 0.03)
    d = build_dominoes(*tiny_pools(n_bottom=400), correlation=0.5, seed=1)
    t, b = read_classes(np.concatenate([d.train[0], d.val[0]]))
    assert 0.3 < np.mean(t == b) < 0.7 and np.all(b == np.concatenate([d.train[1], d.val[1]]))


def test_ood_sets_and_splits():
    d = build_dominoes(*tiny_pools(), correlation=1.0, seed=0)
    assert (d.meta["n_train"], d.meta["n_val"]) == (150, 50)  # 25 % held out
    assert (d.meta["n_ood_fit"], d.meta["n_ood_score"]) == (90, 30)
    for part, k in ((d.ood_fit, 0), (d.ood_score, 1)):
        top, bottom = read_classes(part)
        np.testing.assert_array_equal(d.ood_labels["uncorrelated"][k], bottom)
        np.testing.assert_array_equal(d.ood_labels["reversed"][k], top)
    top, bottom = read_classes(np.concatenate([d.ood_fit, d.ood_score]))
    assert np.mean(top == bottom) < 0.35  # independent halves: about 1/10 agree


def test_deterministic_in_seed():
    a = build_dominoes(*tiny_pools(), correlation=0.9, seed=5)
    b = build_dominoes(*tiny_pools(), correlation=0.9, seed=5)
    c = build_dominoes(*tiny_pools(), correlation=0.9, seed=6)
    np.testing.assert_array_equal(a.train[0], b.train[0])
    np.testing.assert_array_equal(a.ood_labels["reversed"][0], b.ood_labels["reversed"][0])
    assert not np.array_equal(a.train[1], c.train[1])


def test_resize_and_normalisation():
    x = to_rgb32(np.full((2, 28, 28), 77, np.uint8))
    assert x.shape == (2, 3, 32, 32) and np.all(x == 77)
    d = build_dominoes(*tiny_pools(), correlation=1.0, seed=0)
    t = d.tensor(d.train[0]).numpy()
    # each half, each channel standardised on the training set (float64 rounding only)
    for half in (t[:, :, :32], t[:, :, 32:]):
        np.testing.assert_allclose(half.mean(axis=(0, 2, 3)), 0, atol=1e-9)
        np.testing.assert_allclose(half.std(axis=(0, 2, 3)), 1, atol=1e-9)


def test_bad_input():
    with pytest.raises(InputError, match="correlation"):
        build_dominoes(*tiny_pools(), correlation=1.5, seed=0)
    p = tiny_pools()
    with pytest.raises(InputError, match="too few"):
        build_dominoes(*p, correlation=1.0, seed=0, n_train=4)


def test_offline_pools_are_class_coded_and_seeded():
    a, b = offline_pools(0, 200, 100), offline_pools(0, 200, 100)
    np.testing.assert_array_equal(a[1].images, b[1].images)
    assert a[0].images.shape[1:] == (1, 8, 8) and a[1].images.shape[1:] == (3, 32, 32)
    # the textures carry their class: a nearest-class-mean classifier on the 2-D spectrum
    # magnitude (phase-free; the lowest frequencies, where the occluding disc lives, masked)
    # beats chance clearly on fresh samples.
    rng = np.random.default_rng(1)
    y = np.arange(1000) % 10

    def spec(im):
        f = np.abs(np.fft.fft2(im.astype(float).mean(1)))
        for i in (0, 1, -1):
            f[:, i, [0, 1, -1]] = 0
        return f.reshape(len(im), -1)

    f_tr, f_te = spec(textures(y, rng)), spec(textures(y, rng))
    means = np.stack([f_tr[y == k].mean(0) for k in range(10)])
    pred = np.argmin(((f_te[:, None] - means[None]) ** 2).sum(-1), 1)
    assert np.mean(pred == y) > 0.6   # chance is 0.1 (measured 0.94)
    assert np.mean(pred == np.roll(y, 1)) < 0.3  # a wrong labelling is rejected
