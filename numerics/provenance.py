"""Provenance: what produced a result, recorded next to it.

:func:`collect` gathers, in one JSON-able dict, everything needed to say where a number came
from: the package version, the git commit of the source tree when it is a git checkout (with
a flag for uncommitted changes), the Python, numpy and torch versions, the device and dtype the
computation used, its seeds, torch's intra-op thread count, the host, the time and the command
line.  Every ``RUN.npz`` (:meth:`numerics.run_io.Run.save`), every sweep cell and the verify
report carry it.

The git lookup runs ``git`` once per process (cached); outside a checkout, or without ``git``,
``git_commit`` is ``None``.  Nothing here changes global state.
"""

from __future__ import annotations

import functools
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

PACKAGE = "simplicity-bias"
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def package_version() -> str:
    """The installed distribution's version, or ``"unknown"`` when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=1)
def git_state(root: str = str(SOURCE_ROOT)) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git checkout holding the source, or ``(None, None)``."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                                 timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, (bool(status) if status is not None else None)


def collect(*, device=None, dtype=None, seeds: dict | None = None, argv=None,
            threads: int | None = None, extra: dict | None = None) -> dict:
    """The provenance record (module doc).

    ``device``/``dtype``: what the computation used (torch objects or their names; ``None``
    when not applicable).  ``seeds``: e.g. ``{"data": 0, "init": 0}``.  ``argv``: the command
    line (default ``sys.argv``; a list is shell-quoted into one string).  ``threads``: torch's
    intra-op thread count the computation ran with (default: the current one).  ``extra`` is
    merged in last."""
    import numpy as np
    import torch

    commit, dirty = git_state()
    args = sys.argv if argv is None else argv
    command = args if isinstance(args, str) else " ".join(shlex.quote(str(a)) for a in args)
    rec = {
        "package": PACKAGE,
        "version": package_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "device": None if device is None else str(device),
        "dtype": None if dtype is None else str(dtype).replace("torch.", ""),
        "seeds": dict(seeds) if seeds else {},
        "threads": int(torch.get_num_threads() if threads is None else threads),
        "host": platform.node(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command,
    }
    if extra:
        rec.update(extra)
    return rec
