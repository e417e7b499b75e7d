"""Helpers shared by several test modules."""

import pytest
import torch


def cli_status(argv: list[str]) -> int:
    """The ``sbias`` exit status for ``argv``, whether returned or raised by argparse (usage
    errors exit through ``SystemExit``)."""
    from verify.cli import main

    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny networks on one torch thread for the module, then the previous count back.

    Measured on the shared 2-core machine under load: a tiny 4-epoch run took 9-10 s with two
    threads (each small operation's barrier spins while the partner thread is descheduled) and
    0.25 s with one.  Import it into a test module to use it (``# noqa: F401``)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
