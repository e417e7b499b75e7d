"""Domino images: a class-coded "simple" image on top of a class-coded "complex" image below.

Conventions (the paper's replication files; docs/OOD.md):

* a domino is a ``(3, 64, 32)`` uint8 image (channels, height, width): rows 0..31 hold the top
  image (an MNIST digit resized to 32x32, grey copied to RGB), rows 32..63 the bottom image (a
  CIFAR-10 image);
* **correlated training set** with correlation ``p``: every bottom image of class ``k`` gets a
  top digit of class ``k`` with probability ``p`` and a digit of a uniformly drawn *other* class
  otherwise; the label is the bottom class ``k`` (so ``p = 1`` means both halves predict it);
* **OOD sets** pair each bottom image with an independently drawn top digit; the
  *uncorrelated* set labels it with the bottom (CIFAR) class, the *reversed* set with the top
  (MNIST) digit.  Both share the same images, so one forward pass serves both;
* **splits**: 25 % of the training dominoes are held out for validation; 25 % of the OOD dominoes
  form the probe's score part, the other 75 % its fit part.

Everything is a deterministic function of the ``seed`` (``numpy.random.default_rng``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from theory.errors import InputError

OOD_SETS = ("uncorrelated", "reversed")
N_CLASSES = 10


@dataclass(frozen=True)
class ImagePool:
    """Class-coded images ``(N, C, H, W)`` uint8 (C = 1 or 3) with labels ``(N,)`` in 0..9."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        if self.images.ndim != 4 or len(self.images) != len(self.labels):
            raise InputError(f"image pool: images {self.images.shape} and labels "
                             f"{self.labels.shape} do not match (want (N, C, H, W) and (N,))")
        missing = set(range(N_CLASSES)) - set(np.unique(self.labels).tolist())
        if missing:
            raise InputError(f"image pool lacks classes {sorted(missing)}")


def to_rgb32(images: np.ndarray) -> np.ndarray:
    """(N, H, W) or (N, C, H, W) uint8 -> (N, 3, 32, 32) uint8: bilinear resize, grey to RGB."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[:, None]
    t = torch.from_numpy(x.astype(np.float64))
    if t.shape[-2:] != (32, 32):
        t = torch.nn.functional.interpolate(t, size=(32, 32), mode="bilinear", align_corners=False,
                                            antialias=True)
    if t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1)
    return t.round().clamp(0, 255).to(torch.uint8).numpy().copy()


def compose(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Stack top (N, 3, 32, 32) above bottom (N, 3, 32, 32) -> dominoes (N, 3, 64, 32)."""
    return np.concatenate([top, bottom], axis=2)


def _draw_by_class(labels: np.ndarray, wanted: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices into ``labels`` with ``labels[idx] == wanted``: each class's images are used in a
    random order, cycling only when a class runs out (few repeats, as in the replication)."""
    out = np.empty(len(wanted), dtype=np.int64)
    for k in range(N_CLASSES):
        slots = np.flatnonzero(wanted == k)
        pool = rng.permutation(np.flatnonzero(labels == k))
        out[slots] = pool[np.arange(len(slots)) % len(pool)]
    return out


def correlated_top_classes(bottom_labels: np.ndarray, correlation: float,
                           rng: np.random.Generator) -> np.ndarray:
    """Top-digit class per domino: the bottom class with probability ``correlation``, otherwise
    one of the other nine classes uniformly."""
    if not 0.0 <= correlation <= 1.0:
        raise InputError(f"correlation must be in [0, 1], got {correlation}")
    agree = rng.random(len(bottom_labels)) < correlation
    other = (bottom_labels + rng.integers(1, N_CLASSES, len(bottom_labels))) % N_CLASSES
    return np.where(agree, bottom_labels, other)


def split_indices(n: int, held_frac: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A random split of ``range(n)`` into (kept, held out) with ``round(held_frac * n)`` held."""
    perm = rng.permutation(n)
    n_held = int(round(held_frac * n))
    return np.sort(perm[n_held:]), np.sort(perm[:n_held])


@dataclass
class DominoData:
    """Everything one OOD-transfer run needs.

    ``train``/``val``: correlated dominoes and labels (the bottom class).  ``ood_fit`` and
    ``ood_score``: OOD dominoes; ``ood_labels[name] = (fit labels, score labels)`` for each name in
    :data:`OOD_SETS`.  ``mean``/``std``: per-half, per-channel pixel statistics (shape
    ``(2, 3)``, top then bottom) of the training dominoes, used by :meth:`tensor`.
    """

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    ood_fit: np.ndarray
    ood_score: np.ndarray
    ood_labels: dict[str, tuple[np.ndarray, np.ndarray]]
    correlation: float
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        x = self.train[0].astype(np.float64) / 255.0
        halves = np.stack([x[:, :, :32], x[:, :, 32:]])  # (2, N, 3, 32, 32)
        self.mean = halves.mean(axis=(1, 3, 4))
        self.std = halves.std(axis=(1, 3, 4)) + 1e-12  # guards a constant half (synthetic tests)

    def tensor(self, images: np.ndarray, dtype=torch.float64) -> torch.Tensor:
        """uint8 dominoes -> float tensor, each half normalised by its own channel statistics
        (the replication's two-part ``Normalize``)."""
        x = torch.from_numpy(images).to(dtype) / 255.0
        mean = torch.from_numpy(np.repeat(self.mean, 32, axis=0).T.copy()).to(dtype)  # (3, 64)
        std = torch.from_numpy(np.repeat(self.std, 32, axis=0).T.copy()).to(dtype)
        return (x - mean[None, :, :, None]) / std[None, :, :, None]


def build_dominoes(top_train: ImagePool, bottom_train: ImagePool, top_test: ImagePool,
                   bottom_test: ImagePool, correlation: float, seed: int,
                   held_frac: float = 0.25, n_train: int | None = None,
                   n_ood: int | None = None) -> DominoData:
    """Correlated training dominoes from the *train* pools, OOD dominoes from the *test* pools.

    ``n_train``/``n_ood`` take the first that many bottom images (all when None).  Top images are
    resized to 32x32 RGB with :func:`to_rgb32`; bottom images must already be (3, 32, 32).
    """
    rng = np.random.default_rng(seed)
    for name, pool in (("bottom_train", bottom_train), ("bottom_test", bottom_test)):
        if pool.images.shape[1:] != (3, 32, 32):
            raise InputError(f"{name} images must be (N, 3, 32, 32), got {pool.images.shape}")
    nb = len(bottom_train.labels) if n_train is None else min(n_train, len(bottom_train.labels))
    no = len(bottom_test.labels) if n_ood is None else min(n_ood, len(bottom_test.labels))
    if nb < 8 or no < 8:
        raise InputError(f"too few dominoes (train {nb}, OOD {no}); need at least 8 each")
    yb = bottom_train.labels[:nb]
    top_idx = _draw_by_class(top_train.labels, correlated_top_classes(yb, correlation, rng), rng)
    train_x = compose(to_rgb32(top_train.images[top_idx]), bottom_train.images[:nb])
    keep, held = split_indices(nb, held_frac, rng)

    yo = bottom_test.labels[:no]
    t_idx = rng.permutation(len(top_test.labels))[np.arange(no) % len(top_test.labels)]
    ood_x = compose(to_rgb32(top_test.images[t_idx]), bottom_test.images[:no])
    labels = {"uncorrelated": yo, "reversed": top_test.labels[t_idx]}
    fit, score = split_indices(no, held_frac, rng)
    return DominoData(
        train=(train_x[keep], yb[keep]), val=(train_x[held], yb[held]),
        ood_fit=ood_x[fit], ood_score=ood_x[score],
        ood_labels={k: (v[fit], v[score]) for k, v in labels.items()},
        correlation=float(correlation),
        meta={"seed": seed, "n_train": int(len(keep)), "n_val": int(len(held)),
              "n_ood_fit": int(len(fit)), "n_ood_score": int(len(score)),
              "realised_correlation": float(np.mean(top_train.labels[top_idx] == yb))})
