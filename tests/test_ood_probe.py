"""Probes, the paired t-test and the learning-rate schedule."""

import numpy as np
import pytest
import torch
from scipy import stats as sps

from numerics.ood.probe import PROBES, feature_scale, probe_accuracy, probe_all, rescale
from numerics.ood.schedule import LR_PER_SAMPLE, lr_factor, make_optimizer
from numerics.ood.stats import paired_test, ttest_table


def separable(n, rng, d=16, k=10):
    means = 6.0 * np.eye(k, d)  # class means 6*sqrt(2) apart, unit Gaussian noise
    y = rng.integers(0, k, n)
    return means[y] + rng.normal(size=(n, d)), y


@pytest.mark.parametrize("C", list(PROBES.values()))
def test_probe_separable_features_reach_100_percent(C):
    rng = np.random.default_rng(0)
    (xf, yf), (xs, ys) = separable(600, rng), separable(400, rng)
    # margin 3*sqrt(2) ≈ 4.2 noise std: a misclassified point has chance < 1e-4 of 400 · 10
    assert probe_accuracy(xf, yf, xs, ys, C) == 1.0
    # a wrong labelling of the score part is rejected
    assert probe_accuracy(xf, yf, xs, (ys + 1) % 10, C) == 0.0


def test_probe_random_labels_give_chance():
    rng = np.random.default_rng(1)
    xf, xs = rng.normal(size=(1000, 16)), rng.normal(size=(2000, 16))
    yf, ys = rng.integers(0, 10, 1000), rng.integers(0, 10, 2000)
    res = probe_all(xf, xs, {"random": (yf, ys)})
    for name in PROBES:
        # chance 0.1; binomial std over 2000 points is 0.0067 -> 5 std band
        assert abs(res[f"random/{name}"] - 0.1) < 5 * 0.0067


def test_rescale_to_unit_mean_square():
    rng = np.random.default_rng(2)
    f, s = 1e-4 * rng.normal(size=(50, 8)), 1e-4 * rng.normal(size=(20, 8))
    f2, s2, scale = rescale(f, s)
    assert np.mean(f2 ** 2) == pytest.approx(1.0, rel=1e-12)  # float64 rounding
    assert scale == pytest.approx(feature_scale(f)) and np.allclose(s2 * scale, s)


def test_paired_t_test_direction_and_formula():
    mid = np.array([0.60, 0.62, 0.58, 0.65, 0.61, 0.63])
    final = mid - np.array([0.05, 0.03, 0.04, 0.06, 0.02, 0.05])
    up, down = paired_test(mid, final), paired_test(final, mid)
    assert up["significant"] and up["p"] < 0.01 and up["mid_beats_final"]
    assert not down["significant"] and down["p"] > 0.99 and not down["mid_beats_final"]
    # the replication's own computation: t = mean(diff) sqrt(n) / std(diff), p = t.sf(t, n-1)
    diff = mid - final
    t = diff.mean() * np.sqrt(6) / diff.std(ddof=1)
    assert up["t"] == pytest.approx(t, rel=1e-12)
    assert up["p"] == pytest.approx(sps.t.sf(t, 5), rel=1e-9)
    assert paired_test([0.5], [0.4])["p"] is None  # one seed: no test
    runs = [{"setting": "a", "seed": s, "history": [{"epoch": 2, "m": mid[s]},
                                                    {"epoch": 8, "m": final[s]}]}
            for s in range(6)]
    (row,) = ttest_table(runs, 2, 8, ["m"])
    assert row["p"] == pytest.approx(up["p"])


def test_schedule_warmup_then_linear_decay():
    total, batch = 80, 128
    model = torch.nn.Linear(2, 1)
    opt, sched = make_optimizer(model, batch, total)
    lrs = []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    peak = batch * LR_PER_SAMPLE
    assert lrs[0] == 0.0 and int(np.argmax(lrs)) == total // 8  # warm-up over 1/8 of steps
    assert max(lrs) == pytest.approx(peak)
    np.testing.assert_allclose(np.diff(lrs[:10]), peak / 10)      # linear up
    np.testing.assert_allclose(np.diff(lrs[10:]), -peak / 70)     # linear down to 0 at T
    assert lr_factor(total, total, 10) == 0.0
    g = opt.param_groups[0]
    assert g["nesterov"] and g["momentum"] == 0.9 and g["weight_decay"] == 5e-4


def test_probe_iteration_cap_is_checked():
    from numerics.ood.train import RunConfig
    from theory.errors import InputError

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 4)), np.arange(40) % 4
    with pytest.raises(InputError, match="max_iter"):
        probe_accuracy(x, y, x, y, 1000.0, max_iter=0)
    with pytest.raises(InputError, match="probe iterations"):
        RunConfig(probe_max_iter=0).check()
