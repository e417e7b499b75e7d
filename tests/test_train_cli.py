"""`sbias train`: the docs/cli.md contract (RUN.npz keys, --json summary, exit 2 on bad input)."""

import json

import numpy as np
import pytest
import torch

from tests.helpers import cli_status as main
from theory.problem import save_xy

torch.set_num_threads(1)  # tests only


def test_train_dataset_json_and_run_file(tmp_path, capsys):
    out = tmp_path / "run.npz"
    rc = main(["train", "--dataset", "xor:n=64", "--width", "32", "--init-scale", "1e-6",
               "--until", "escape", "--adaptive", "--lr", "1", "--record", "log",
               "--out", str(out), "--json", "--no-progress"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["stop_reason"] == "escape" and summary["escape_time"] > 0
    assert summary["mass_within_2deg"] is None or summary["mass_within_2deg"] >= 0.99
    with np.load(out) as z:
        assert {"W", "a", "times", "loss", "W_traj", "a_traj"} <= set(z.files)
        assert z["W"].shape == (32, 2) and z["W_traj"].shape[1:] == (32, 2)
        assert len(z["times"]) == summary["steps"] + 1


def test_train_data_file_steps(tmp_path):
    data = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    save_xy(data, rng.normal(size=(10, 3)), rng.normal(size=10))
    out = tmp_path / "r.npz"
    rc = main(["train", "--data", str(data), "--loss", "square", "--width", "8",
               "--init-scale", "0.01", "--steps", "5", "--out", str(out), "--device", "cpu"])
    assert rc == 0
    with np.load(out) as z:
        assert len(z["loss"]) == 6 and "W_traj" not in z.files


@pytest.mark.parametrize("args,word", [
    (["--width", "0"], "width"), (["--width", "-3"], "width"),
    (["--init-scale", "0"], "init-scale"), (["--init-scale", "-1e-3"], "init-scale"),
    (["--init-scale", "nan"], "init-scale"), (["--lr", "inf"], "lr"), (["--lr", "nan"], "lr"),
    (["--dataset", "nosuch"], "unknown dataset"), (["--dataset", "xor:zz=1"], "unknown param"),
    (["--activation", "swish"], "activation"), (["--loss", "hinge"], "loss"),
    (["--record", "every:x"], "record"), (["--dtype", "float16"], "dtype"),
    (["--init", "ones"], "init"), (["--device", "tpu"], "device"),
    (["--dataset", "generic:target=real"], "labels"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, word):
    base = {"--dataset": "xor:n=16", "--width": "4", "--init-scale": "1e-3", "--lr": "0.1"}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v
    argv = ["train", "--steps", "2", "--out", str(tmp_path / "r.npz")]
    argv += [f"{k}={v}" for k, v in base.items()]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and word in err.lower(), err
    assert "Traceback" not in err


def test_missing_data_file_and_no_stop_rule(tmp_path, capsys):
    rc = main(["train", "--data", str(tmp_path / "none.npz"), "--width", "4",
               "--init-scale", "1e-3", "--steps", "1", "--out", str(tmp_path / "r.npz")])
    assert rc == 2 and "not found" in capsys.readouterr().err
    rc = main(["train", "--dataset", "xor:n=16", "--width", "4", "--init-scale", "1e-3",
               "--out", str(tmp_path / "r.npz")])
    assert rc == 2 and "stop rule" in capsys.readouterr().err


def test_divergence_exits_2_and_keeps_last_good_state(tmp_path, capsys):
    out = tmp_path / "r.npz"
    rc = main(["train", "--dataset", "generic:target=real", "--loss", "square", "--width", "8",
               "--init", "gaussian", "--init-scale", "3", "--lr", "50", "--steps", "1000",
               "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "diverged" in err and err.count("\n") == 1
    with np.load(out) as z:
        assert np.all(np.isfinite(z["W"]))
