"""Tiny synthetic image pools for the OOD tests: every image of class k is constant with value
``OFFSET + 20 k``, so a domino's halves can be read back to their classes exactly."""

import numpy as np
import pytest
import torch

from numerics.ood.dominoes import ImagePool

TOP_OFFSET, BOTTOM_OFFSET = 10, 15


def constant_pool(n: int, channels: int, size: int, offset: int, seed: int) -> ImagePool:
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    images = np.broadcast_to((offset + 20 * labels).astype(np.uint8)[:, None, None, None],
                             (n, channels, size, size)).copy()
    return ImagePool(images, labels)


def tiny_pools(n_top=60, n_bottom=200, n_test=120):
    """(top_train, bottom_train, top_test, bottom_test): 28x28 grey digits, 32x32 RGB bottoms."""
    return (constant_pool(n_top, 1, 28, TOP_OFFSET, 1), constant_pool(n_bottom, 3, 32,
                                                                      BOTTOM_OFFSET, 2),
            constant_pool(n_top, 1, 28, TOP_OFFSET, 3), constant_pool(n_test, 3, 32,
                                                                      BOTTOM_OFFSET, 4))


def read_classes(dominoes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(top class, bottom class) of dominoes built from constant pools."""
    top = (dominoes[:, 0, 16, 16].astype(int) - TOP_OFFSET) // 20
    bottom = (dominoes[:, 0, 48, 16].astype(int) - BOTTOM_OFFSET) // 20
    return top, bottom


# lbfgs iteration cap of the probes in the tiny training/CLI/figure tests: those check the
# plumbing (records, resume, files), not the probe's optimum, and the tiny constant-image features
# are separable, so the default cap (2000) would be reached by every unpenalised fit.  The
# probe's own accuracy is tested at the default cap in test_ood_probe.py.
TEST_PROBE_MAX_ITER = 30


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
