"""Suite profiles: how many examples each property draws, and on which device.

``quick``  derandomised (the same examples every run), CPU-sized: the README's first command,
           at most 3 minutes on 2 cores.
``ci``     the profile pytest uses: fewer examples, still derandomised.
``full``   hundreds of random examples in all; uses the GPU when one is present.
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


PROFILES = {
    "quick": Profile("quick", examples=8, derandomize=True),
    "ci": Profile("ci", examples=1, derandomize=True),
    "full": Profile("full", examples=25, derandomize=False, device="auto"),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise InputError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
