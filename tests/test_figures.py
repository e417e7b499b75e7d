"""paper_figures: the full-size configs are the paper's settings (docs/theory.md, "The paper's
experiments"), the quick path runs end to end, ``sbias figures`` resumes and rejects unknown
names, and the figures' own numerical helpers (Figure 1's scale map and saturation epochs,
weighted quantile, angle deviation, the later-phase figure) are right."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics.engine import figure1_schedule
from paper_figures import figure1, figure2, landscape, later_phase, mass_concentration, registry
from paper_figures.common import data_is_current, weighted_quantile
from theory.errors import InputError
from theory.extrema import predict
from theory.problem import Problem
from verify.cli import main

# ----------------------------------------------------------------------------- the paper's schedule
# The Figure 1 learning rate, transcribed independently from the paper's replication files: the
# base lr 2^-7 times a factor that is piecewise in the epoch e.  This table is the reference
# that numerics.stepping.figure1_schedule is checked against, so it is written out here and
# not imported from the code under test.
#   (first epoch of the piece, the factor on it)
PAPER_FACTORS = (
    (0, lambda e: 2.0 ** 9),                                # warm-up, epochs 0..11
    (12, lambda e: 1.0),                                    # until epoch 8192
    (8192, lambda e: 1 + 32 * (e / 8192 - 1)),              # linear ramp until 16384
    (16384, lambda e: 1 + 32 * 2 ** ((e - 16384) / 512)),  # exponential ramp to the end
)


def paper_schedule(e: float) -> float:
    """The paper's Figure 1 learning rate at epoch ``e`` (:data:`PAPER_FACTORS`)."""
    factor = [f for first, f in PAPER_FACTORS if e >= first][-1]
    return 2.0 ** -7 * factor(e)


EPOCHS = [0, 11, 12, 100, 8191, 8192, 10000, 16383, 16384, 20000, 2 ** 15 - 1]


def schedule_matches_paper(schedule) -> bool:
    # rel 1e-12: both sides are a few float64 operations on the same numbers
    return all(math.isclose(schedule(e), paper_schedule(e), rel_tol=1e-12) for e in EPOCHS)


def test_figure1_config_is_the_papers():
    c = figure1.CONFIG
    assert (c["n"], c["mu"], c["sigma"], c["delta"], c["symmetric"]) == (256, 1.0, 0.005, 0.01, 1)
    assert c["epochs"] == 2 ** 15 and c["dtype"] == "float64" and c["loss"] == "logistic"
    assert c["orderings"] == [[1, 0.1, 0.001, 0.01], [1, 0.1, 0.01, 0.001], [1, 0.01, 0.1, 0.001]]
    assert c["scale_unit"] == 1e-4 and c["output_signs"] == [-1, 1, -1, 1]
    assert c["windows"] == [[0, None], [0, 3584], [3584, 15872], [15872, None]]
    # the figure trains with the engine's schedule, which is the paper's
    assert c["schedule"] == "figure1" and schedule_matches_paper(figure1_schedule)
    np.testing.assert_array_equal(figure1.step_sizes(figure1.quick_config()),
                                  [figure1_schedule(e) for e in range(2 ** 10)])


@pytest.mark.parametrize("wrong", [
    lambda e: paper_schedule(e) * (1 + 1e-9),                        # base lr off by 1e-9
    lambda e: paper_schedule(e + 1 if e == 11 else e),               # warm-up one epoch short
    lambda e: paper_schedule(16384) if e > 16384 else paper_schedule(e),  # no final ramp
])
def test_schedule_check_rejects_a_wrong_schedule(wrong):
    assert not schedule_matches_paper(wrong)


def test_figure1_initial_weights_are_the_papers():
    W, a = figure1.initial_weights(figure1.CONFIG["orderings"][0], figure1.CONFIG)
    s = np.array([1, 0.1, 0.001, 0.01]) * 1e-4
    np.testing.assert_array_equal(W.numpy(), [[s[0], 0], [0, s[1]], [-s[2], 0], [0, -s[3]]])
    np.testing.assert_array_equal(a.numpy(), [-s[0], s[1], -s[2], s[3]])


def test_figure2_config_is_the_papers():
    c = figure2.CONFIG
    assert (c["n"], c["m"], c["d"], c["mu"], c["delta"]) == (512, 4096, 2, 1.0, 0.2)
    assert c["sigma"] == 0.1 / math.sqrt(2)
    assert c["alphas"] == [math.pi / 2, math.pi / 3]
    assert c["init"] == "torch_default" and c["init_scale"] == 2.0 ** -7
    assert c["lr"] == 2.0 ** -4 and c["epochs"] == 2 ** 13 and c["dtype"] == "float64"
    assert c["quantile"] == 0.95


def test_quick_configs_shrink_only_sizes():
    size_keys = {"n", "m", "epochs", "windows", "record_every", "widths", "n_eps",
                 "eps_exp_lo", "eta", "t_max", "seeds", "probe_every", "n_train", "n_ood"}
    for fig in registry.figures():
        q = fig.quick()
        changed = {k for k in fig.config if q.get(k) != fig.config[k]}
        assert set(q) == set(fig.config), fig.name
        assert changed <= size_keys, (fig.name, changed - size_keys)


# ----------------------------------------------------------------------------- helpers
def test_weighted_quantile():
    v = np.array([0.1, 0.2, 5.0, 40.0])
    # 95 % of the weight lies at angles ≤ 5 (the 40° value carries 1 %)
    assert weighted_quantile(v, np.array([0.5, 0.3, 0.19, 0.01]), 0.95) == 5.0
    # unweighted: the 40° neuron is a quarter of the neurons
    assert weighted_quantile(v, np.ones(4), 0.95) == 40.0


def xor_problem(alpha=math.pi / 3):
    X = np.array([[1, 0], [-1, 0], [math.cos(alpha), math.sin(alpha)],
                  [-math.cos(alpha), -math.sin(alpha)]])
    return Problem.from_arrays(X, [-1, -1, 1, 1])


def test_angle_deviation_sees_a_rotated_prediction():
    p = xor_problem()
    pred = predict(p, basins=False)
    U = np.array([e.direction for e in pred.extrema])
    a = np.array([e.sign for e in pred.extrema], dtype=float)
    dev = figure2.angle_deviation(U * 3, a * 3, pred)
    assert np.max(dev) < 1e-9  # float64 rounding of unit vectors
    rot = np.array([[math.cos(0.1), -math.sin(0.1)], [math.sin(0.1), math.cos(0.1)]])
    dev_rot = figure2.angle_deviation(U @ rot.T, a, pred)
    np.testing.assert_allclose(dev_rot, math.degrees(0.1), rtol=1e-9)
    # flipped signs: each neuron is measured against the other sign's extrema (≥ 30° away)
    assert np.min(figure2.angle_deviation(U, -a, pred)) > 29.0


def test_figure1_scale_map_is_gradient_descent_on_ideal_clusters():
    """On the four noiseless cluster points the scale map of theory.figure1_scales, stepped
    with the paper's schedule, reproduces training to rounding (relative 1e-12: float64 sums
    of four terms per step over 3000 steps), for every neuron."""
    import torch

    from numerics.engine import train
    from theory.figure1_scales import scale_path_steps

    c = figure1.CONFIG
    X = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    p = Problem.from_arrays(X, [-1, -1, 1, 1])
    W0, a0 = figure1.initial_weights(c["orderings"][0], c)
    dts = figure1.step_sizes(c)[:3000]
    torch.set_num_threads(1)
    run = train(p, W0, a0, lr=float(dts[0]), schedule=figure1_schedule, steps=3000,
                record="every:100", progress=False)
    s0 = np.asarray(c["orderings"][0]) * c["scale_unit"]
    for j in range(4):
        want = scale_path_steps(s0[j], dts)[run.traj_steps]
        np.testing.assert_allclose(np.linalg.norm(run.W_traj[:, j], axis=1), want, rtol=1e-12)


def test_trained_saturation_epoch_interpolates_in_log_scale():
    ep = np.array([0, 4, 8])
    s = np.sqrt(np.array([0.25, 0.5, 2.0]))  # μ s² crosses 1 half-way (in log) from 4 to 8
    assert figure1.trained_saturation_epoch(ep, s, 1.0) == pytest.approx(6.0)
    assert figure1.trained_saturation_epoch(ep, s / 10, 1.0) is None


@pytest.mark.slow
def test_later_phase_quick_path(tmp_path):
    """A tiny later-phase figure end to end: data, PNG, summary; the unequal start's negative
    clusters see their persistence margin go negative, the equal start's never does.  (Slow:
    ~35 s of it is sympy deriving the XOR closed forms the persistence conditions start from.)"""
    cfg = later_phase.quick_config()
    cfg.update(n=32, m=16, epochs=2 ** 11, record_every=128)
    path = later_phase.compute(cfg, tmp_path, progress=False)
    pngs = later_phase.plot(path, tmp_path)
    assert pngs[0].stat().st_size > 10_000
    summ = later_phase.summary(path)
    assert set(summ) == {"equal", "unequal"}
    assert not any(summ["equal"]["negative_margin_intervals"].values())
    failed = [k for k, v in summ["unequal"]["negative_margin_intervals"].items() if v]
    assert sorted(failed) == ["min at theta = alpha + pi/2", "min at theta = alpha - pi/2"]
    assert summ["unequal"]["directions_at_escape"] == 2


# ----------------------------------------------------------------------------- landscape
def test_draw_landscape_accepts_predictions_and_dicts(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = xor_problem()
    pred = predict(p, basins=False)
    fig, axs = plt.subplots(1, 3)
    rng = np.random.default_rng(0)
    twin = landscape.draw_landscape(axs[0], p, pred, rng.normal(size=(20, 2)),
                                    rng.normal(size=20), title="t")
    assert twin is not None
    # the markers sit at the extrema's angles
    marks = [ln for ln in axs[0].lines if ln.get_marker() in ("^", "v")]
    angles = sorted(float(ln.get_xdata()[0]) for ln in marks)
    want = sorted(landscape.angle_of(np.array([e.direction for e in pred.extrema])))
    np.testing.assert_allclose(angles, want, atol=1e-9)
    dicts = {"extrema": [{"direction": list(e.direction), "sign": e.sign}
                         for e in pred.extrema]}
    assert landscape.draw_landscape(axs[1], p, dicts) is None
    X3 = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    p3 = Problem.from_arrays(X3, [1, 1, -1, -1, 1, 1])
    landscape.draw_landscape(axs[2], p3, predict(p3, basins=False),
                             rng.normal(size=(8, 3)), rng.normal(size=8))
    fig.savefig(tmp_path / "l.png")
    plt.close(fig)


# ----------------------------------------------------------------------------- CLI, quick path
_QUICK_MASS = mass_concentration.quick_config


def tiny_mass_config():
    c = _QUICK_MASS()
    c.update(m=8, n_eps=2, eps_exp_lo=-6.0, eta=0.1)
    return c


def test_quick_figure_end_to_end_and_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mass_concentration, "quick_config", tiny_mass_config)
    out = tmp_path / "figs"
    rc = main(["figures", "--only", "mass_concentration", "--quick", "--out", str(out),
               "--device", "cpu"])
    assert rc == 0
    for ext in ("png", "pdf"):
        assert (out / f"mass_concentration.{ext}").stat().st_size > 1000
    data = out / "mass_concentration.npz"
    assert data_is_current(data, tiny_mass_config())
    assert not data_is_current(data, mass_concentration.CONFIG)
    assert "computed in" in capsys.readouterr().out
    mtime = data.stat().st_mtime_ns
    assert main(["figures", "--only", "mass_concentration", "--quick", "--out", str(out)]) == 0
    assert "data up to date" in capsys.readouterr().out
    assert data.stat().st_mtime_ns == mtime


def test_unknown_figure_is_exit_2(tmp_path, capsys):
    rc = main(["figures", "--only", "figure1,nosuch", "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "unknown figure 'nosuch'" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(InputError):
        registry.select("figure9")


def test_only_selects_in_registry_order():
    assert [f.name for f in registry.select("figure2,figure1")] == ["figure1", "figure2"]
    assert [f.name for f in registry.select(None)] == registry.names()
    assert registry.names() == list(registry.MODULES)


def test_list(capsys):
    assert main(["figures", "--list"]) == 0
    assert capsys.readouterr().out.split() == registry.names()
