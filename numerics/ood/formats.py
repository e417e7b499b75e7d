"""Readers for the standard file formats of MNIST (IDX) and CIFAR-10 (binary version).

* IDX (LeCun's MNIST format): a big-endian header ``0x00 0x00 <type code> <ndim>``, then ``ndim``
  big-endian uint32 sizes, then the array in C order.  Files may be gzip-compressed (``.gz``).
* CIFAR-10 binary (``data_batch_1.bin`` .. ``data_batch_5.bin``, ``test_batch.bin``): records of
  3073 bytes, one label byte (0..9) then 3x32x32 uint8 pixels (red, green, blue planes, rows).

Only numpy is used; no download is attempted (these machines have no network).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from theory.errors import InputError

# IDX type codes -> numpy big-endian dtypes (the IDX specification).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
CIFAR_RECORD = 1 + 3 * 32 * 32


def _read_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            return fh.read()
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzip or not) into a numpy array of its declared type and shape."""
    p = Path(path)
    raw = _read_bytes(p)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise InputError(f"{p} is not an IDX file (bad magic number)")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(s) for s in np.frombuffer(raw[4:header], dtype=">u4"))
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) != header + count * dtype.itemsize:
        raise InputError(f"{p}: IDX size mismatch (header says shape {shape})")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def read_cifar_binary(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch: images (N, 3, 32, 32) uint8 and labels (N,) int64."""
    p = Path(path)
    raw = np.frombuffer(_read_bytes(p), dtype=np.uint8)
    if raw.size == 0 or raw.size % CIFAR_RECORD:
        raise InputError(f"{p}: not a CIFAR-10 binary batch (size {raw.size} is not a multiple "
                         f"of {CIFAR_RECORD})")
    rec = raw.reshape(-1, CIFAR_RECORD)
    labels = rec[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise InputError(f"{p}: CIFAR-10 label {labels.max()} outside 0..9")
    return rec[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


def _find(directory: Path, names: list[str]) -> Path:
    for name in names:
        for cand in (directory / name, directory / (name + ".gz")):
            if cand.exists():
                return cand
    raise InputError(f"{directory}: none of {names} (or .gz) found")


def load_mnist(directory: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images (N, 28, 28) uint8 and labels (N,) int64 from the four standard IDX files.

    ``split`` is ``"train"`` (``train-images-idx3-ubyte``) or ``"test"`` (``t10k-...``); both the
    ``-idx3-ubyte`` and the ``.idx3-ubyte`` spellings, gzip or not, are accepted.
    """
    d = Path(directory)
    pre = {"train": "train", "test": "t10k"}.get(split)
    if pre is None:
        raise InputError(f"MNIST split must be train or test, got {split!r}")
    images = read_idx(_find(d, [f"{pre}-images-idx3-ubyte", f"{pre}-images.idx3-ubyte"]))
    labels = read_idx(_find(d, [f"{pre}-labels-idx1-ubyte", f"{pre}-labels.idx1-ubyte"]))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise InputError(f"{d}: MNIST {split} images {images.shape} and labels {labels.shape} "
                         "do not match")
    return images.astype(np.uint8), labels.astype(np.int64)


def load_cifar10(directory: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 images (N, 3, 32, 32) uint8 and labels (N,) int64 from the binary batches.

    ``split="train"`` concatenates every ``data_batch_*.bin`` present (sorted), ``"test"`` reads
    ``test_batch.bin``.  A ``cifar-10-batches-bin`` subfolder is looked into as well.
    """
    d = Path(directory)
    if (d / "cifar-10-batches-bin").is_dir():
        d = d / "cifar-10-batches-bin"
    if split == "train":
        files = sorted(d.glob("data_batch_*.bin")) + sorted(d.glob("data_batch_*.bin.gz"))
    elif split == "test":
        files = [_find(d, ["test_batch.bin"])]
    else:
        raise InputError(f"CIFAR-10 split must be train or test, got {split!r}")
    if not files:
        raise InputError(f"{d}: no CIFAR-10 data_batch_*.bin files found")
    parts = [read_cifar_binary(f) for f in files]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def real_pools(directory: str | Path):
    """(top_train, bottom_train, top_test, bottom_test) image pools from MNIST and CIFAR-10 files
    in ``directory`` (MNIST IDX files and CIFAR-10 binary batches side by side, or in ``mnist/``
    and ``cifar-10-batches-bin/`` subfolders)."""
    from .dominoes import ImagePool

    d = Path(directory)
    if not d.is_dir():
        raise InputError(f"data directory {d} does not exist")
    md = d / "mnist" if (d / "mnist").is_dir() else d
    pools = []
    for split in ("train", "test"):
        images, labels = load_mnist(md, split)
        pools.append(ImagePool(images[:, None], labels))
        pools.append(ImagePool(*load_cifar10(d, split)))
    return tuple(pools)
