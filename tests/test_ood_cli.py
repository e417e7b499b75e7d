"""``sbias ood`` end to end at a tiny size, and its bad-input exits."""

import json

import pytest
import torch

from tests.ood_helpers import TEST_PROBE_MAX_ITER
from verify.cli import main

TINY = ["--offline", "--epochs", "4", "--probe-every", "2", "--seeds", "2", "--n-train", "120",
        "--n-ood", "80", "--no-progress", "--probe-max-iter", str(TEST_PROBE_MAX_ITER)]


def test_run_then_report(tmp_path, capsys):
    out = tmp_path / "exp"
    threads = torch.get_num_threads()
    assert main(["ood", "run", *TINY, "--init-scale", "2^-5", "1", "--json",
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    table = json.loads(captured.out)
    # small_cnn on the CPU trains with one torch thread; the caller's setting is restored
    assert "(1 torch threads)" in captured.err and torch.get_num_threads() == threads
    exp = json.loads((out / "experiment.json").read_text())
    assert exp["base"]["probe_max_iter"] == TEST_PROBE_MAX_ITER
    assert {r["setting"] for r in table} == {"init2^-5_corr100", "init2^0_corr100"}
    assert all(r["mid_epoch"] == 2 and r["final_epoch"] == 4 and r["n_seeds"] == 2
               for r in table)
    res = json.loads((out / "results.json").read_text())
    assert len(res["runs"]) == 4 and len((out / "results.csv").read_text().splitlines()) == 13
    assert main(["ood", "report", "--out", str(out)]) == 0
    assert "one-sided paired t-test" in capsys.readouterr().out
    # rerunning the same command resumes (nothing to train) and gives the same table
    assert main(["ood", "run", *TINY, "--init-scale", "2^-5", "1", "--json",
                 "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out) == table


@pytest.mark.parametrize("argv,msg", [
    (["--init-scale", "abc"], "init scale"),
    (["--data-dir", "/nonexistent/dir"], "does not exist"),
    (["--device", "tpu"], "device"),
    (["--mid-epoch", "3"], "probe epoch"),
    (["--correlation", "1.5"], "correlation"),
    (["--threads", "0"], "--threads"),
    (["--probe-max-iter", "0"], "probe iterations"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, msg):
    rc = main(["ood", "run", "--epochs", "4", "--probe-every", "2", "--no-progress",
               "--out", str(tmp_path / "o"), *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and msg in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o" / "experiment.json").exists()


def test_report_on_empty_folder(tmp_path, capsys):
    assert main(["ood", "report", "--out", str(tmp_path)]) == 2
    assert "not an OOD experiment" in capsys.readouterr().err


def test_help_exits_0():
    with pytest.raises(SystemExit) as e:
        main(["ood", "run", "--help"])
    assert e.value.code == 0
