"""Real-format loaders (MNIST IDX, CIFAR-10 binary) on tiny files written here."""

import gzip
import struct

import numpy as np
import pytest

from numerics.ood.dominoes import build_dominoes
from numerics.ood.formats import load_cifar10, load_mnist, read_cifar_binary, read_idx, real_pools
from theory.errors import InputError


def write_idx(path, arr: np.ndarray, gz: bool = False) -> None:
    """IDX writer (ubyte type 0x08) following LeCun's format description."""
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


def write_cifar(path, images: np.ndarray, labels: np.ndarray) -> None:
    rec = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(labels), -1)], 1)
    path.write_bytes(rec.astype(np.uint8).tobytes())


def make_dataset(tmp_path, gz: bool, n: int = 30):
    rng = np.random.default_rng(0)
    out = {}
    for split, pre in (("train", "train"), ("test", "t10k")):
        imgs = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        labs = np.arange(n) % 10
        suffix = ".gz" if gz else ""
        write_idx(tmp_path / f"{pre}-images-idx3-ubyte{suffix}", imgs, gz)
        write_idx(tmp_path / f"{pre}-labels-idx1-ubyte{suffix}", labs, gz)
        out[("mnist", split)] = (imgs, labs)
    for name in ("data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"):
        imgs = rng.integers(0, 256, (n, 3, 32, 32)).astype(np.uint8)
        labs = rng.permutation(np.arange(n) % 10)
        write_cifar(tmp_path / name, imgs, labs)
        out[name] = (imgs, labs)
    return out


@pytest.mark.parametrize("gz", [False, True])
def test_idx_and_cifar_round_trip(tmp_path, gz):
    ref = make_dataset(tmp_path, gz)
    for split in ("train", "test"):
        x, y = load_mnist(tmp_path, split)
        np.testing.assert_array_equal(x, ref[("mnist", split)][0])
        np.testing.assert_array_equal(y, ref[("mnist", split)][1])
    x, y = load_cifar10(tmp_path, "train")  # both data batches, in order
    np.testing.assert_array_equal(x, np.concatenate([ref["data_batch_1.bin"][0],
                                                     ref["data_batch_2.bin"][0]]))
    np.testing.assert_array_equal(y, np.concatenate([ref["data_batch_1.bin"][1],
                                                     ref["data_batch_2.bin"][1]]))
    x, y = load_cifar10(tmp_path, "test")
    np.testing.assert_array_equal(x, ref["test_batch.bin"][0])
    # the channel planes are read in the documented order (a transposed read would differ)
    assert not np.array_equal(x.transpose(0, 1, 3, 2), ref["test_batch.bin"][0])


def test_real_pools_feed_domino_builder(tmp_path):
    make_dataset(tmp_path, gz=True)
    d = build_dominoes(*real_pools(tmp_path), correlation=1.0, seed=0)
    assert d.train[0].shape[1:] == (3, 64, 32)
    assert d.meta["n_train"] + d.meta["n_val"] == 60


def test_bad_files_are_input_errors(tmp_path):
    (tmp_path / "junk").write_bytes(b"\x01\x02\x03\x04junk")
    with pytest.raises(InputError, match="magic"):
        read_idx(tmp_path / "junk")
    write_idx(tmp_path / "short", np.zeros((3, 4)))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-1])
    with pytest.raises(InputError, match="size mismatch"):
        read_idx(tmp_path / "short")
    (tmp_path / "c.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="CIFAR-10"):
        read_cifar_binary(tmp_path / "c.bin")
    with pytest.raises(InputError, match="found"):
        load_mnist(tmp_path, "train")
    with pytest.raises(InputError, match="does not exist"):
        real_pools(tmp_path / "nope")
