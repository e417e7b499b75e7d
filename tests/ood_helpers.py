"""Tiny synthetic image pools for the OOD tests: every image of class k is constant with value
``OFFSET + 20 k``, so a domino's halves can be read back to their classes exactly."""

import numpy as np

from numerics.ood.dominoes import ImagePool
from tests.helpers import one_torch_thread  # noqa: F401  (re-exported for the OOD tests)

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
