"""Suite profiles: how many examples each property draws, on which device, and the suite's
false-alarm budget.

``quick``  derandomised (the same examples every run), CPU-sized: the README's first command,
           at most 3 minutes on 2 cores.
``ci``     the profile pytest uses: one drawn example per property, derandomised.
``full``   25 random examples per property (``--seed S`` makes a run reproducible); uses the GPU
           when one is present; at most 20 minutes on 2 cores.

**False-alarm budget.**  ``alpha_total`` is the family-wise probability that a run of the true
theory fails (1 %).  The runner splits it evenly over the properties (Bonferroni) and each
property's share evenly over its planned examples (drawn plus built-in); the property splits
an example's share ``alpha`` over the statistical checks inside it.  Checks whose tolerance is
derived (an ε scaling, a step size, float64 rounding) rather than drawn from a distribution
use no share.  ``min_examples`` is the number of checked (applicable) examples a property needs
to pass at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from theory.errors import InputError


@dataclass(frozen=True)
class Profile:
    name: str
    examples: int  # hypothesis-generated examples per property (built-in cases come on top)
    derandomize: bool
    device: str = "cpu"
    builtins: bool = True  # run each property's built-in cases (XOR, 3-D XOR, ...)
    min_examples: int = 1
    alpha_total: float = 0.01
    seed: int | None = None
    shrink: bool = True  # shrink a failing example (off for calibration runs: only the verdict)
    alpha: float = 1e-3  # this example's share of the budget: set by the runner per property


PROFILES = {
    "quick": Profile("quick", examples=3, derandomize=True, min_examples=3),
    "ci": Profile("ci", examples=1, derandomize=True, min_examples=1),
    "full": Profile("full", examples=25, derandomize=False, device="auto", min_examples=20),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise InputError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
