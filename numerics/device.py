"""Device and dtype selection for the numerics layer.

``"auto"`` picks CUDA when a CUDA device is present, else the CPU.  Asking for ``"cuda"`` on a
machine without one is bad input (:class:`theory.errors.InputError`), not a crash.  The
default dtype is float64 (verification needs it: tolerances are stated for float64 rounding);
float32 only on request.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from theory.errors import InputError

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def select_device(spec: str | torch.device = "auto") -> torch.device:
    """``"auto" | "cpu" | "cuda" | "cuda:K"`` (or a :class:`torch.device`) -> a torch device."""
    if isinstance(spec, torch.device):
        return spec
    s = str(spec).strip().lower()
    if s == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if s == "cpu":
        return torch.device("cpu")
    if s == "cuda" or s.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(f"device {spec!r} requested but no CUDA device is available "
                             "(use --device auto or cpu)")
        return torch.device(s)
    raise InputError(f"unknown device {spec!r}; use auto, cpu or cuda")


def select_dtype(spec: str | torch.dtype = "float64") -> torch.dtype:
    """``"float64" | "float32"`` (or a torch dtype) -> the torch dtype."""
    if isinstance(spec, torch.dtype):
        if spec not in DTYPES.values():
            raise InputError(f"unsupported dtype {spec}; use float64 or float32")
        return spec
    s = str(spec).strip().lower()
    if s not in DTYPES:
        raise InputError(f"unknown dtype {spec!r}; use float64 or float32")
    return DTYPES[s]


@contextmanager
def torch_threads(n: int):
    """Run the block with ``n`` torch intra-op threads, then restore the process's count.
    Small networks (the suite, a claim check, a sweep cell): per-op overhead dominates and a
    second thread only adds synchronisation and oversubscription, so callers pass 1."""
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
