"""The suite runner, its reports and counterexamples, and the `sbias verify` command."""

import json

import pytest

import verify.runner as runner
from verify.cli import main
from verify.example import Example
from verify.profiles import PROFILES
from verify.properties import PROPERTIES
from verify.report import write_report
from verify.runner import replay, run_suite
from verify.theory_bundle import package_theory, planted

CHEAP = ["symbolic_equals_numeric", "conservation", "extrema_certified_complete",
         "finite_eps_agreement", "clusters_match", "escape_slope"]


@pytest.mark.parametrize("only", [pytest.param(CHEAP, id="cheap"),
                                  pytest.param(None, id="all", marks=pytest.mark.slow)])
def test_ci_profile_suite_passes_and_reports(tmp_path, only):
    """The runner and its reports under the CI profile (derandomised).  The whole suite runs in
    CI as `sbias verify --profile quick`; here the cheap properties (all of them: -m slow)."""
    results = run_suite(PROFILES["ci"], only=only, out_dir=tmp_path, progress=False)
    data = write_report(results, tmp_path, "ci", "package", 0.0, alpha_total=0.01)
    assert len(data["properties"]) == len(only or PROPERTIES)
    failed = [(r.name, r.message) for r in results if not r.passed]
    assert not failed
    on_disk = json.loads((tmp_path / "report.json").read_text())
    for p in on_disk["properties"]:
        assert set(p) >= {"name", "claim", "passed", "examples", "counterexample", "drawn",
                          "not_applicable", "excluded", "false_alarm", "min_examples"}
        assert p["examples"] >= 1 and p["counterexample"] is None
        assert all(set(d) >= {"n", "d", "activation", "loss", "family"} for d in p["drawn"])
    assert on_disk["false_alarm_budget"]["alpha_total"] == 0.01
    md = (tmp_path / "report.md").read_text()
    assert "PASSED" in md and "What was drawn" in md and "False-alarm budget" in md
    assert data["figures"] and (tmp_path / data["figures"][0]).exists()


@pytest.mark.slow  # ~30 s alone (shrinking); the --theory test of the mean conjecture
# (tests/test_theory_plugin.py) shrinks, saves and replays a counterexample in the default suite
def test_planted_wrong_theory_gives_a_shrunk_counterexample_that_reproduces(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(runner, "SHRINK_SECONDS", 20.0)  # enough to shrink a little
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


def test_shrinking_budget_still_saves_a_failing_counterexample(tmp_path, monkeypatch):
    """With the shrink budget exhausted at once, the run ends promptly and still saves a
    counterexample that fails (the last failing example hypothesis reached)."""
    monkeypatch.setattr(runner, "SHRINK_SECONDS", 0.0)
    wrong = planted("rotate", 10.0)
    [res] = run_suite(PROFILES["ci"], wrong, only=["clusters_match"], out_dir=tmp_path,
                      progress=False)
    assert not res.passed
    _, o = replay(tmp_path / "counterexamples" / "clusters_match.npz", wrong)
    assert not o.passed


def test_worker_processes_give_the_same_results_as_one_process(tmp_path):
    """`--workers N` only changes where properties run: each property draws from its own
    seeded hypothesis run after every layer is imported (runner.import_layers), so the drawn
    examples and every measured number agree with a one-process run."""
    only = ["conservation", "finite_eps_agreement", "extrema_certified_complete"]
    one = run_suite(PROFILES["ci"], only=only, progress=False, workers=1)
    two = run_suite(PROFILES["ci"], only=only, progress=False, workers=2)
    assert [r.name for r in two] == only  # the report keeps the suite's order
    for a, b in zip(one, two):
        assert a.passed and b.passed
        assert a.drawn == b.drawn and a.checks == b.checks
        strip = [{k: v for k, v in e.items() if k != "measured"} for e in a.evidence]
        assert strip == [{k: v for k, v in e.items() if k != "measured"} for e in b.evidence]


def test_theories_rebuild_in_a_worker_from_their_recipe(tmp_path):
    from verify.theory_bundle import rebuild
    from verify.theory_plugin import load_theory

    assert rebuild(package_theory().recipe).name == "package"
    assert rebuild(planted("growth", 2.0).recipe).name == "planted:growth"
    assert rebuild(planted("g_t_early_extrema").recipe).name == "planted:g_t_early_extrema"
    f = tmp_path / "mine.py"
    f.write_text("def mine(X, y, activation, loss):\n    return []\n")
    t = load_theory(f"{f}:mine")
    assert rebuild(t.recipe).name == "theory:mine" and t.recipe[1].startswith("/")


def test_workers_must_be_a_positive_integer(capsys):
    assert main(["verify", "--workers", "0", "--only", "conservation"]) == 2
    assert "--workers" in capsys.readouterr().err
