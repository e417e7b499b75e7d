"""Provenance: RUN.npz, sweep cells and the verify report say what produced them."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import torch

from numerics.provenance import collect, git_state
from numerics.run_io import Run
from verify.cli import main

torch.set_num_threads(1)  # tests only

ROOT = Path(__file__).resolve().parent.parent
FIELDS = {"package", "version", "git_commit", "git_dirty", "python", "numpy", "torch", "device",
          "dtype", "seeds", "threads", "host", "created", "command"}


def test_collect_fields_and_values():
    rec = collect(device=torch.device("cpu"), dtype=torch.float64, seeds={"data": 3, "init": 3},
                  argv=["sbias", "train", "--out", "a b.npz"])
    assert FIELDS <= set(rec)
    assert rec["torch"] == torch.__version__ and rec["numpy"] == np.__version__
    assert rec["device"] == "cpu" and rec["dtype"] == "float64"
    assert rec["seeds"] == {"data": 3, "init": 3}
    assert rec["threads"] == torch.get_num_threads()
    assert rec["command"] == "sbias train --out 'a b.npz'"  # shell-quoted, replayable
    json.dumps(rec)  # JSON-able


def test_git_commit_is_the_checkout_head():
    commit, dirty = git_state()
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        assert commit is None
        return
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert commit == head and isinstance(dirty, bool)


def test_outside_a_checkout_there_is_no_commit(tmp_path):
    git_state.cache_clear()
    try:
        assert git_state(str(tmp_path)) == (None, None)
    finally:
        git_state.cache_clear()


def test_train_run_file_records_provenance_and_data(tmp_path):
    out = tmp_path / "run.npz"
    argv = ["train", "--dataset", "xor:n=16", "--width", "8", "--init-scale", "1e-3",
            "--steps", "3", "--seed", "5", "--device", "cpu", "--out", str(out)]
    assert main(argv) == 0
    run = Run.load(out)
    prov = run.provenance
    assert FIELDS <= set(prov)
    assert prov["seeds"] == {"data": 5, "init": 5}
    assert prov["device"] == "cpu" and prov["dtype"] == "float64"
    # the data travel with the run: the same problem is rebuilt from the file alone
    p = run.problem()
    assert p is not None and p.n == 16 and str(p.activation) == "relu"
    assert str(p.loss) == "logistic"
    from numerics.datasets import make_dataset

    X, y = make_dataset("xor:n=16", seed=5)
    assert np.array_equal(p.X, X) and np.array_equal(p.y, y)


def test_old_run_files_stay_readable(tmp_path):
    """A RUN.npz from before data and provenance were stored loads; it has no problem."""
    path = tmp_path / "old.npz"
    np.savez(path, W=np.ones((3, 2)), a=np.ones(3), times=np.zeros(1), loss=np.ones(1),
             config=np.str_(json.dumps({"activation": "relu", "loss": "logistic"})))
    run = Run.load(path)
    assert run.problem() is None and run.provenance == {}
    run.save(tmp_path / "resaved.npz")  # saving fills the provenance in
    assert FIELDS <= set(Run.load(tmp_path / "resaved.npz").provenance)


def test_verify_report_records_provenance():
    from verify.report import suite_json

    data = suite_json([], "quick", "package", 1.0)
    assert FIELDS <= set(data["provenance"])
