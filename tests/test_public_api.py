"""Each layer's ``__init__`` exports its public API: every name of ``__all__`` resolves, the
names are lazy (importing a layer imports none of its submodules), and an unknown name is an
AttributeError, not a silent None."""

import importlib
import subprocess
import sys

import pytest

LAYERS = ("theory", "numerics", "verify")


@pytest.mark.parametrize("layer", LAYERS)
def test_every_exported_name_resolves(layer):
    mod = importlib.import_module(layer)
    assert len(set(mod.__all__)) == len(mod.__all__)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name
    assert set(mod.__all__) <= set(dir(mod))


@pytest.mark.parametrize("layer", LAYERS)
def test_unknown_name_is_an_attribute_error(layer):
    mod = importlib.import_module(layer)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        mod.not_a_name  # noqa: B018


def test_importing_a_layer_is_cheap():
    """``import theory, numerics, verify`` loads neither torch nor sympy nor a submodule."""
    code = ("import sys, theory, numerics, verify; "
            "bad = [m for m in ('torch', 'sympy', 'theory.problem', 'numerics.engine', "
            "'verify.runner') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_headline_names():
    from numerics import clusters, match, train, train_batched
    from theory import Problem, certify, predict
    from verify import check_claim, run_suite

    assert predict.__module__ == "theory.extrema" and certify.__module__ == "theory.certificate"
    assert Problem.__module__ == "theory.problem"
    assert train.__module__ == "numerics.engine" and train_batched.__module__ == "numerics.batched"
    assert match.__module__ == clusters.__module__ == "numerics.measure"
    assert check_claim.__module__ == "verify.claim" and run_suite.__module__ == "verify.runner"
