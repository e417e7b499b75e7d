"""`sbias predict` (docs/cli.md): JSON schema, table, degenerate data, and bad input → exit 2."""

import json

import numpy as np
import pytest

from verify.cli import main


def save(tmp_path, name="d.npz", **arrays):
    p = tmp_path / name
    np.savez(p, **arrays)
    return str(p)


@pytest.fixture
def xor2(tmp_path):
    X = np.array([[1.0, 0], [-1, 0], [0, 1], [0, -1]])
    return save(tmp_path, X=X, y=np.array([0, 0, 1, 1]))


def test_json_schema(xor2, capsys):
    assert main(["predict", "--data", xor2, "--json", "--basin-samples", "400"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert set(obj) >= {"extrema", "lambda_max", "degenerate"}
    assert obj["degenerate"] is False and obj["lambda_max"] == pytest.approx(1 / 8, rel=1e-15)
    assert len(obj["extrema"]) == 4
    for e in obj["extrema"]:
        assert set(e) == {"direction", "sign", "G", "growth_rate", "kind", "basin_fraction",
                          "exact", "established", "evidence"}
        assert e["established"] == "certified"
        assert e["sign"] in (1, -1) and e["sign"] * e["G"] > 0
        assert abs(np.linalg.norm(e["direction"]) - 1) < 1e-12
        # symmetric XOR: each basin is a quarter of the circle; 4 binomial sd at K = 400
        assert abs(e["basin_fraction"] - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 400)


def test_exact_and_table(tmp_path, capsys):
    X = np.array([[1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1], [0, 1, 0], [0, -1, 0]])
    f = save(tmp_path, X=X, y=np.array([1, 1, 1, 1, -1, -1]))
    assert main(["predict", "--data", f, "--exact", "--json", "--no-basins"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert sum(e["exact"].startswith("[sqrt(2)/2, 0, sqrt(2)/2]") for e in obj["extrema"]) == 1
    assert all(e["basin_fraction"] is None for e in obj["extrema"])
    assert main(["predict", "--data", f, "--exact", "--no-basins"]) == 0
    out = capsys.readouterr().out
    assert "sqrt(2)/12" in out and "lambda_max" in out


def test_degenerate_exit_0(tmp_path, capsys):
    X = np.array([[1.0, 2.0], [1.0, 2.0], [0.5, -1.0], [0.5, -1.0]])
    f = save(tmp_path, X=X, y=np.array([1, -1, 1, -1]))
    for act in ("relu", "tanh"):
        assert main(["predict", "--data", f, "--json", "--activation", act]) == 0
        obj = json.loads(capsys.readouterr().out)
        assert obj["degenerate"] is True and obj["extrema"] == [] and obj["lambda_max"] is None


def test_help_states_convention(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["predict", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "sign +1" in out and "c_i = y_i/2" in out and "G(w) = (1/n)" in out


def _bad_files(tmp_path):
    X = np.array([[1.0, 0], [0, 1]])
    y = np.array([1, -1])
    obj = np.empty(2, dtype=object)
    obj[:] = [1, -1]
    np.save(tmp_path / "o.npy", obj, allow_pickle=True)
    pick = tmp_path / "pickled.npz"
    np.savez(pick, X=X, y=obj)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    return {
        "nan": save(tmp_path, "nan.npz", X=np.array([[np.nan, 0], [0, 1]]), y=y),
        "inf": save(tmp_path, "inf.npz", X=X, y=np.array([np.inf, 1])),
        "shape": save(tmp_path, "shape.npz", X=X, y=np.array([1, -1, 1])),
        "empty": save(tmp_path, "empty.npz", X=np.zeros((0, 2)), y=np.zeros(0)),
        "1d": save(tmp_path, "1d.npz", X=np.array([1.0, 2.0]), y=y),
        "missing": save(tmp_path, "missing.npz", X=X),
        "pickled": str(pick),
        "labels": save(tmp_path, "labels.npz", X=X, y=np.array([2, 3])),
        "garbage": str(tmp_path / "garbage.npz"),
        "nofile": str(tmp_path / "nope.npz"),
    }


@pytest.mark.parametrize("case", ["nan", "inf", "shape", "empty", "1d", "missing", "pickled",
                                  "labels", "garbage", "nofile"])
def test_bad_data_exit_2(tmp_path, capsys, case):
    f = _bad_files(tmp_path)[case]
    assert main(["predict", "--data", f]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err and "Traceback" not in err


@pytest.mark.parametrize("extra", [["--activation", "sigmoidal"], ["--loss", "hinge"],
                                   ["--activation", "leaky_relu:2"], ["--basin-samples", "0"],
                                   ["--time-budget", "0"], ["--time-budget", "inf"],
                                   ["--search-starts", "0"]])
def test_bad_options_exit_2(xor2, capsys, extra):
    assert main(["predict", "--data", xor2] + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_usage_error_exit_2(xor2, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["predict", "--data", xor2, "--init", "huge"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_search_options_json_and_progress(tmp_path, capsys):
    rng = np.random.default_rng(2)
    f = save(tmp_path, X=rng.standard_normal((12, 4)), y=rng.choice([-1.0, 1.0], 12))
    assert main(["predict", "--data", f, "--json", "--no-basins", "--search-starts", "64",
                 "--time-budget", "60", "--progress"]) == 0
    out = capsys.readouterr()
    obj = json.loads(out.out)
    assert obj["method"] == "search" and obj["complete"] is False
    assert obj["search"]["starts"] == 64 and obj["search"]["time_budget"] == 60
    assert set(obj["coverage"]) >= {"unassigned_basin_share", "missing_mass_bound",
                                    "confidence"}
    assert "search starts" in out.err  # the progress bar, on stderr only
    assert main(["predict", "--data", f, "--no-basins", "--search-starts", "64"]) == 0
    table = capsys.readouterr().out
    assert "established" in table and "random starts" in table and "missing basin share" in table
