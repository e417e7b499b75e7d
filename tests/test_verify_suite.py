"""The suite runner, its reports and counterexamples, and the `sbias verify` command."""

import json

import numpy as np
import pytest

from theory.extrema import predict
from theory.problem import Problem, save_xy
from verify.cli import main
from verify.example import Example
from verify.profiles import PROFILES
from verify.properties import PROPERTIES
from verify.report import write_report
from verify.runner import replay, run_suite
from verify.theory_bundle import package_theory, planted


def test_ci_profile_suite_passes_and_reports(tmp_path):
    """pytest runs every property under the CI profile (derandomised)."""
    results = run_suite(PROFILES["ci"], out_dir=tmp_path, progress=False)
    data = write_report(results, tmp_path, "ci", "package", 0.0)
    assert len(data["properties"]) == len(PROPERTIES) >= 10
    failed = [(r.name, r.message) for r in results if not r.passed]
    assert not failed
    on_disk = json.loads((tmp_path / "report.json").read_text())
    for p in on_disk["properties"]:
        assert set(p) >= {"name", "claim", "passed", "examples", "counterexample"}
        assert p["examples"] >= 1 and p["counterexample"] is None
    assert "PASSED" in (tmp_path / "report.md").read_text()
    assert data["figures"] and (tmp_path / data["figures"][0]).exists()


def test_planted_wrong_theory_gives_a_shrunk_counterexample_that_reproduces(tmp_path):
    wrong = planted("rotate", 10.0)
    [res] = run_suite(PROFILES["ci"], wrong, only=["clusters_match"], out_dir=tmp_path,
                      progress=False)
    assert not res.passed
    ce = res.counterexample
    path = tmp_path / "counterexamples" / "clusters_match.npz"
    assert ce["file"] == str(path) and path.exists()
    # shrunk: hypothesis minimised the first failing draw; the saved one is no larger
    ex, name = Example.load(path)
    first_n = int(ce["first_failure"].split(",")[0].removeprefix("n="))
    assert name == "clusters_match" and len(ex.X) <= first_n
    # the saved example reproduces the failure with the wrong theory, and the package's
    # theory passes on it
    _, o_wrong = replay(path, wrong)
    assert not o_wrong.passed
    _, o_right = replay(path, package_theory())
    assert o_right.passed
    # and from the command line: the saved claim (the wrong prediction) is rejected
    claim = tmp_path / "counterexamples" / "clusters_match_claim.json"
    rc = main(["verify", "--data", str(path), "--claim", str(claim), "--activation",
               ex.activation, "--loss", ex.loss, "--out", str(tmp_path / "claim")])
    assert rc == 1
    assert main(["verify", "--replay", str(path), "--plant", "rotate:10"]) == 1
    assert main(["verify", "--replay", str(path)]) == 0


def _claim_file(tmp_path, pred, name="claim.json"):
    f = tmp_path / name
    f.write_text(json.dumps(pred.to_json() if hasattr(pred, "to_json") else pred))
    return f


@pytest.mark.parametrize("case", ["generic2d", "xor3d"])
def test_claim_checking_accepts_truth_and_rejects_wrong_claims(tmp_path, case, capsys):
    if case == "generic2d":
        X = np.array([[1.0, 0.25], [-0.5, 1.0], [-1.0, -0.75], [0.75, -1.0], [0.25, 1.25],
                      [-1.25, 0.5]])
        y = np.array([1.0, -1, 1, -1, -1, 1])
    else:
        X = np.array([[1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1], [0, 1, 0], [0, -1, 0]])
        y = np.array([1, 1, 1, 1, -1, -1])
    data = tmp_path / "data.npz"
    save_xy(data, X, y)
    true = predict(Problem.load_npz(data))
    from verify.theory_bundle import _perturb_prediction

    claims = {"true": (true, 0), "rotated": (_perturb_prediction(true, "rotate", 10.0), 1),
              "flipped": (_perturb_prediction(true, "flip_sign", 0), 1),
              "growth": (_perturb_prediction(true, "growth", 1.5), 1)}
    for name, (pred, expected) in claims.items():
        f = _claim_file(tmp_path, pred, f"{name}.json")
        rc = main(["verify", "--data", str(data), "--claim", str(f), "--out",
                   str(tmp_path / name)])
        assert rc == expected, (name, capsys.readouterr().out)
        rep = json.loads((tmp_path / name / "claim_report.json").read_text())
        assert rep["passed"] == (expected == 0)


@pytest.mark.parametrize("args, needle", [
    (["--data", "X.npz"], "go together"),
    (["--profile", "slow"], "unknown profile"),
    (["--only", "nonsense"], "unknown property"),
    (["--plant", "sideways"], "unknown planted"),
    (["--replay", "missing.npz"], "not found"),
])
def test_bad_verify_usage_exits_2(tmp_path, capsys, args, needle):
    assert main(["verify", *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_bad_claim_json_exits_2(tmp_path, capsys):
    data = tmp_path / "d.npz"
    save_xy(data, np.array([[1.0, 0], [0, 1]]), np.array([1, -1]))
    bad = tmp_path / "bad.json"
    for text, needle in [("{not json", "not valid JSON"),
                         ('{"extrema": [{"direction": [1, 0], "sign": 2}]}', "sign"),
                         ('{"extrema": [{"direction": [1, 0, 0], "sign": 1}]}', "entries")]:
        bad.write_text(text)
        assert main(["verify", "--data", str(data), "--claim", str(bad), "--out",
                     str(tmp_path)]) == 2
        assert needle in capsys.readouterr().err


def test_shrinking_budget_still_saves_a_failing_counterexample(tmp_path, monkeypatch):
    """With the shrink budget exhausted at once, the run ends promptly and still saves a
    counterexample that fails (the last failing example hypothesis reached)."""
    import verify.runner as runner

    monkeypatch.setattr(runner, "SHRINK_SECONDS", 0.0)
    wrong = planted("rotate", 10.0)
    [res] = run_suite(PROFILES["ci"], wrong, only=["clusters_match"], out_dir=tmp_path,
                      progress=False)
    assert not res.passed
    _, o = replay(tmp_path / "counterexamples" / "clusters_match.npz", wrong)
    assert not o.passed
