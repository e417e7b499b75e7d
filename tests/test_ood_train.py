"""Training runs: checkpoints, exact resume, probes recorded; and the experiment driver."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from numerics.ood.dominoes import build_dominoes
from numerics.ood.experiment import ExperimentConfig, collect, parse_scale, run_experiment
from numerics.ood.train import RunConfig, train_run
from tests.ood_helpers import (
    TEST_PROBE_MAX_ITER,
    one_torch_thread,  # noqa: F401
    tiny_pools,
)
from theory.errors import InputError

TINY = dict(epochs=4, probe_every=2, batch_size=16, model_kwargs={"widths": (4, 8)},
            probe_max_iter=TEST_PROBE_MAX_ITER)


@pytest.fixture(scope="module")
def data():
    return build_dominoes(*tiny_pools(n_bottom=96, n_test=80), correlation=1.0, seed=0)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, data):
    """One uninterrupted tiny run (standard init, so 4 epochs visibly learn), shared by the
    resume and history tests: (config, history, run folder)."""
    cfg = RunConfig(init_scale=1.0, seed=7, **TINY)
    run_dir = tmp_path_factory.mktemp("ood_full_run")
    return cfg, train_run(cfg, data, run_dir), run_dir


def state(run_dir):
    return torch.load(run_dir / "checkpoint.pt", weights_only=False)


def test_interrupted_run_resumes_bitwise(tmp_path, data, full_run):
    cfg, full, full_dir = full_run
    part = train_run(cfg, data, tmp_path / "b", stop_after_epoch=2)
    assert [h["epoch"] for h in part] == [0, 2] and state(tmp_path / "b")["epoch"] == 2
    resumed = train_run(cfg, data, tmp_path / "b")
    assert resumed == full  # every probe record identical
    a, b = state(full_dir), state(tmp_path / "b")
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert torch.equal(a["generator"], b["generator"])
    # the comparison can fail: another seed trains differently (its first 2 epochs suffice)
    other = replace(cfg, seed=8)
    c = train_run(other, data, tmp_path / "c", stop_after_epoch=2)
    assert c[1]["epoch"] == full[1]["epoch"] == 2 and c[1] != full[1]
    assert c[1]["train_loss"] != full[1]["train_loss"]
    with pytest.raises(InputError, match="different configuration"):
        train_run(other, data, full_dir)


def test_history_records_probes_and_training_learns(full_run):
    _, hist, run_dir = full_run
    assert [h["epoch"] for h in hist] == [0, 2, 4]
    for h in hist:
        assert 0 <= h["uncorrelated/C1000"] <= 1 and h["feature_scale"] >= 0
    assert hist[-1]["train_loss"] < np.log(10)  # below the loss of uniform guessing
    m = json.loads((run_dir / "metrics.json").read_text())
    assert m["history"] == json.loads(json.dumps(hist))


def test_experiment_writes_results_and_ttest(tmp_path, monkeypatch, data):
    import numerics.ood.experiment as ex
    monkeypatch.setattr(ex, "load_pools", lambda cfg: tiny_pools(n_bottom=96, n_test=80))
    cfg = ExperimentConfig(source="offline", settings=[[2.0 ** -5, 1.0], [1.0, 1.0]],
                           seeds=[0, 1], base=RunConfig(**TINY), mid_epoch=2)
    res = run_experiment(cfg, tmp_path, progress=False)
    assert len(res["runs"]) == 4 and (res["mid_epoch"], res["final_epoch"]) == (2, 4)
    assert {r["setting"] for r in res["ttest"]} == {"init2^-5_corr100", "init2^0_corr100"}
    for f in ("results.json", "results.csv", "ttest.json", "ttest.csv"):
        assert (tmp_path / f).exists()
    assert collect(tmp_path)["ttest"] == res["ttest"]
    with pytest.raises(InputError, match="different configuration"):
        run_experiment(ExperimentConfig(seeds=[5], base=RunConfig(**TINY), mid_epoch=2),
                       tmp_path)


def test_parse_scale():
    assert parse_scale("2^-5") == 2.0 ** -5 == parse_scale("2**-5") == parse_scale("0.03125")
    for bad in ("abc", "-1", "0", "nan"):
        with pytest.raises(InputError):
            parse_scale(bad)
