"""The package's own theory in ``--theory`` form: it passes its own property tests.

    sbias verify --theory docs/examples/package_theory.py:package
"""

from theory.extrema import predict
from theory.problem import Problem


def package(X, y, activation, loss):
    """Every certified extremum of G (``sbias predict``), in predict's schema."""
    return predict(Problem.from_arrays(X, y, activation, loss)).to_json()["extrema"]
