"""``sbias verify --theory FILE.py:NAME``: a researcher's own theory, property-tested.

The shipped wrong conjecture (neurons align with the class means) is falsified with a saved,
replayable counterexample; the package's theory passes through the same door; a theory that
raises or returns garbage fails on that dataset instead of crashing; bad specs exit 2.
"""

from pathlib import Path

import numpy as np
import pytest

import verify.runner as runner
from tests.helpers import one_torch_thread  # noqa: F401  (autouse: small networks)
from verify.cli import main
from verify.example import Example
from verify.profiles import PROFILES
from verify.properties import BY_NAME
from verify.runner import run_property
from verify.theory_plugin import TheoryFailure, load_theory, theory_from_callable

DOCS = Path(__file__).resolve().parents[1] / "docs" / "examples"




def test_mean_conjecture_is_falsified_with_a_replayable_counterexample(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.setattr(runner, "SHRINK_SECONDS", 5.0)  # the note measures the full shrink
    spec = f"{DOCS / 'mean_conjecture.py'}:class_means"
    rc = main(["verify", "--theory", spec, "--profile", "ci", "--only", "clusters_match",
               "--out", str(tmp_path), "--no-progress"])
    assert rc == 1, capsys.readouterr().out
    ce = tmp_path / "counterexamples" / "clusters_match.npz"
    claim = tmp_path / "counterexamples" / "clusters_match_claim.json"
    assert ce.exists() and claim.exists()
    out = capsys.readouterr().out
    assert f"--replay {ce} --theory {spec}" in out
    assert main(["verify", "--replay", str(ce), "--theory", spec]) == 1
    assert main(["verify", "--replay", str(ce)]) == 0  # the package's theory holds there


def test_package_theory_passes_through_the_theory_door(tmp_path, capsys):
    spec = f"{DOCS / 'package_theory.py'}:package"
    rc = main(["verify", "--theory", spec, "--profile", "ci", "--only",
               "extrema_certified_complete,clusters_match", "--out", str(tmp_path),
               "--no-progress"])
    assert rc == 0, capsys.readouterr().out


def _ex():
    X = np.array([[1.0, 0.25], [-0.5, 1.0], [-1.0, -0.75], [0.75, -1.0]])
    return Example(X, np.array([1.0, -1, 1, -1]), "relu", "logistic", 3)


@pytest.mark.parametrize("fn, needle", [
    (lambda X, y, a, l: 1 / 0, "raised ZeroDivisionError"),
    (lambda X, y, a, l: [{"direction": [1, 0], "sign": 3, "G": 1, "growth_rate": 1}], "sign"),
    (lambda X, y, a, l: "nothing", "malformed"),
])
def test_a_theory_that_fails_on_a_dataset_is_a_reported_failure(fn, needle):
    theory = theory_from_callable(fn, "bad")
    with pytest.raises(TheoryFailure, match=needle):
        theory.predict(_ex().problem())
    prof = PROFILES["ci"]
    res = run_property(BY_NAME["clusters_match"], theory, type(prof)(**{
        **prof.__dict__, "examples": 0, "shrink": False}))
    assert not res.passed and needle.split()[0] in res.message


@pytest.mark.parametrize("text, spec, needle", [
    (None, "nope.py:f", "not found"),
    ("x = 1\n", "{f}:missing", "has no 'missing'"),
    ("x = 1\n", "{f}:x", "not callable"),
    ("raise RuntimeError('boom')\n", "{f}:f", "failed to import"),
    ("def f(X, y, a, l):\n    return []\n", "{f}", "FILE.py:NAME"),
])
def test_bad_theory_specs_exit_2(tmp_path, capsys, text, spec, needle):
    f = tmp_path / "t.py"
    if text is not None:
        f.write_text(text)
    spec = spec.format(f=f)
    with pytest.raises(Exception) as exc:
        load_theory(spec)
    assert needle in str(exc.value)
    assert main(["verify", "--theory", spec, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
