"""paper_figures.ood_transfer: data file from a finished tiny experiment, then PNG and PDF;
its config maps onto the experiment's."""

from numerics.ood.experiment import ExperimentConfig, run_experiment
from numerics.ood.train import RunConfig
from paper_figures import ood_transfer
from tests.ood_helpers import (
    TEST_PROBE_MAX_ITER,
    one_torch_thread,  # noqa: F401
    tiny_pools,
)


def test_compute_and_plot_from_results(tmp_path, monkeypatch):
    import numerics.ood.experiment as ex
    monkeypatch.setattr(ex, "load_pools", lambda cfg: tiny_pools(n_bottom=96, n_test=80))
    cfg = ExperimentConfig(settings=[[2.0 ** -5, 1.0], [1.0, 1.0]], seeds=[0, 1], mid_epoch=2,
                           base=RunConfig(epochs=4, probe_every=2, batch_size=16,
                                          model_kwargs={"widths": (4, 8)},
                                          probe_max_iter=TEST_PROBE_MAX_ITER))
    res = run_experiment(cfg, tmp_path / "exp", progress=False)
    path = ood_transfer.compute(ood_transfer.quick_config(), tmp_path / "fig",
                                results_dir=tmp_path / "exp")
    assert path.name == "ood_transfer.npz"
    data = ood_transfer.read_summary(path)
    c = data["curves"]["init2^0_corr100"]
    assert c["epochs"] == [0, 2, 4] and c["n_seeds"] == 2
    # the curve is the mean over seeds of the recorded values
    vals = [r["history"][-1]["uncorrelated/C1000"] for r in res["runs"]
            if r["setting"] == "init2^0_corr100"]
    assert abs(c["uncorrelated/C1000"]["mean"][-1] - sum(vals) / 2) < 1e-12
    for p in ood_transfer.plot(path, tmp_path / "fig"):
        assert p.stat().st_size > 1000


def test_figure_config_is_the_offline_default():
    full = ood_transfer.experiment_config(ood_transfer.CONFIG)
    assert full.to_json() == ExperimentConfig(
        seeds=[0, 1, 2], base=RunConfig(epochs=128, probe_every=16, dtype="float32")).to_json()
    quick = ood_transfer.experiment_config(ood_transfer.quick_config())
    assert (quick.seeds, quick.base.epochs, quick.n_train) == ([0, 1], 8, 256)
