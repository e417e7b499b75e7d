"""The offline default domino source: runs anywhere, no download.

* **top half (simple feature)**: scikit-learn's bundled 8x8 handwritten digits
  (``sklearn.datasets.load_digits``, 1797 images, shipped inside the package), pixel values 0..16
  rescaled to 0..255; :func:`~numerics.ood.dominoes.to_rgb32` resizes them to 32x32 RGB.  The
  digits are split, per class, 70 % into a train pool and 30 % into a test pool, so OOD dominoes
  show unseen digits.
* **bottom half (complex feature)**: procedurally generated noisy colour textures, class-coded
  but harder than the digit.  Class ``k`` is a sinusoidal grating with orientation
  ``(k mod 5)·36°`` and period ``7`` px (``k < 5``) or ``4.5`` px (``k ≥ 5``), with orientation
  jitter ±14° (classes 36° apart, so neighbours nearly touch), period jitter ±15 %, random
  phase, random low contrast (0.06..0.25), a random colour tint (each channel 0.4..1), a random dark
  occluding disc and independent pixel noise of standard deviation 0.25 (pixel range [0, 1]).
  Every image is a deterministic function of the seed.
"""

from __future__ import annotations

import numpy as np

from .dominoes import ImagePool

PERIODS = (7.0, 4.5)
JITTER_DEG = 14.0
PERIOD_JITTER = 0.15
CONTRAST = (0.06, 0.25)
NOISE_STD = 0.25


def digit_pools(seed: int, test_frac: float = 0.3) -> tuple[ImagePool, ImagePool]:
    """(train, test) pools of sklearn's 8x8 digits as (N, 1, 8, 8) uint8, split per class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    images = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    labels = d.target.astype(np.int64)
    itr, ite = train_test_split(np.arange(len(labels)), test_size=test_frac, stratify=labels,
                                random_state=seed)
    return ImagePool(images[itr], labels[itr]), ImagePool(images[ite], labels[ite])


def textures(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noisy class-coded gratings (N, 3, 32, 32) uint8 for the given labels (see module doc)."""
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    theta = np.deg2rad((labels % 5) * 36.0 + rng.uniform(-JITTER_DEG, JITTER_DEG, n))
    period = np.where(labels < 5, PERIODS[0], PERIODS[1]) * rng.uniform(
        1 - PERIOD_JITTER, 1 + PERIOD_JITTER, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    contrast = rng.uniform(*CONTRAST, n)
    yy, xx = np.meshgrid(np.arange(32.0), np.arange(32.0), indexing="ij")
    proj = (np.cos(theta)[:, None, None] * xx + np.sin(theta)[:, None, None] * yy)
    wave = 0.5 + contrast[:, None, None] * np.sin(2 * np.pi * proj / period[:, None, None]
                                                  + phase[:, None, None])  # (N, 32, 32)
    tint = rng.uniform(0.4, 1.0, (n, 3))
    img = tint[:, :, None, None] * wave[:, None]
    cy, cx = rng.uniform(0, 32, (2, n))
    rad = rng.uniform(3, 9, n)
    disc = ((yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2) < rad[:, None, None] ** 2
    img = np.where(disc[:, None], img * 0.3, img)
    img = img + rng.normal(0.0, NOISE_STD, img.shape)
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)


def texture_pool(n: int, rng: np.random.Generator) -> ImagePool:
    """``n`` textures with balanced labels in random order."""
    labels = rng.permutation(np.arange(n) % 10)
    return ImagePool(textures(labels, rng), labels)


def offline_pools(seed: int = 0, n_train: int = 2048, n_ood: int = 2048):
    """(top_train, bottom_train, top_test, bottom_test) for the offline default."""
    rng = np.random.default_rng(seed)
    top_train, top_test = digit_pools(seed)
    return top_train, texture_pool(n_train, rng), top_test, texture_pool(n_ood, rng)
