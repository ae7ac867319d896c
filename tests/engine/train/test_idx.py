"""MNIST / Fashion-MNIST IDX files: round trips, and damaged files refused before allocating."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from engine.train import (
    FASHION_CLASSES,
    DatasetError,
    find_mnist_files,
    load_mnist,
    open_dataset,
    read_idx,
    write_idx,
)
from engine.train import idx as idx_module


def digits_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), (np.arange(n) % 10).astype(
        np.uint8)


def write_mnist(folder, n=30, gz=True, part="train", sep="-"):
    prefix = "train" if part == "train" else "t10k"
    suffix = ".gz" if gz else ""
    images, labels = digits_like(n)
    write_idx(folder / f"{prefix}-images{sep}idx3-ubyte{suffix}", images)
    write_idx(folder / f"{prefix}-labels{sep}idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (1, 1, 1, 1)])
def test_round_trip(tmp_path, gz, shape):
    array = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    back = read_idx(path, ndim=len(shape))
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, array)


def test_header_is_the_idx_layout(tmp_path):
    write_idx(tmp_path / "x", np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert (tmp_path / "x").read_bytes() == b"\0\0\x08\x02" + struct.pack(">II", 2, 3) + bytes(
        range(6))


@pytest.fixture
def no_allocation(monkeypatch):
    """Fail the test if the reader gets as far as allocating the values."""
    def refuse(*args):
        raise AssertionError("the reader allocated before checking the sizes")

    monkeypatch.setattr(idx_module, "_read_exactly", refuse)


@pytest.mark.parametrize("gz", [False, True])
def test_a_truncated_file_is_refused_before_allocation(tmp_path, gz, no_allocation):
    data = b"\0\0\x08\x03" + struct.pack(">III", 60000, 28, 28) + bytes(1000)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte is damaged or truncated: "
                       r"its header declares 60000 x 28 x 28 = 47040000 values"):
        read_idx(path, ndim=3)


def test_a_huge_declared_size_is_refused_before_allocation(tmp_path, no_allocation):
    data = b"\0\0\x08\x03" + struct.pack(">III", 2**31 - 1, 2**31 - 1, 2**31 - 1)
    (tmp_path / "huge").write_bytes(data)
    with pytest.raises(DatasetError, match="declares"):
        read_idx(tmp_path / "huge")


def test_a_gzip_cut_short_is_refused(tmp_path):
    write_idx(tmp_path / "a.gz", np.random.default_rng(0).integers(0, 256, (50, 28, 28),
                                                                    dtype=np.uint8))
    whole = (tmp_path / "a.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetError, match=r"cut\.gz"):
        read_idx(tmp_path / "cut.gz")
    (tmp_path / "tiny.gz").write_bytes(whole[:10])
    with pytest.raises(DatasetError, match="too short to be a gzip file"):
        read_idx(tmp_path / "tiny.gz")


def test_a_gzip_with_a_wrong_trailer_size_is_refused(tmp_path, no_allocation):
    compressed = bytearray(gzip.compress(b"\0\0\x08\x01" + struct.pack(">I", 10) + bytes(10)))
    compressed[-4:] = struct.pack("<I", 7)  # the stored size no longer matches the header
    (tmp_path / "l.gz").write_bytes(bytes(compressed))
    with pytest.raises(DatasetError, match="damaged or truncated"):
        read_idx(tmp_path / "l.gz", ndim=1)


def test_gzip_with_extra_data_after_the_values_is_refused(tmp_path):
    data = b"\0\0\x08\x01" + struct.pack(">I", 10) + bytes(10)
    compressed = bytearray(gzip.compress(data + b"xy"))
    compressed[-4:] = struct.pack("<I", len(data))  # a trailer that hides the extra bytes
    (tmp_path / "e.gz").write_bytes(bytes(compressed))
    with pytest.raises(DatasetError, match=r"e\.gz"):
        read_idx(tmp_path / "e.gz", ndim=1)


@pytest.mark.parametrize(("data", "match"), [
    (b"", "not an IDX file"),
    (b"PK\x03\x04 a zip file", "not an IDX file"),
    (b"\0\0\x0d\x01" + struct.pack(">I", 1) + bytes(4), "type 0x0d"),
    (b"\0\0\x08\x02" + struct.pack(">II", 2, 2) + bytes(4), "2 dimensions where 3"),
    (b"\0\0\x08\x03\0\0", "truncated inside its header"),
    (b"\x1f\x8b" + bytes(30), "cannot be read or decompressed"),
])
def test_not_idx_files_get_a_message(tmp_path, data, match):
    (tmp_path / "f").write_bytes(data)
    with pytest.raises(DatasetError, match=match):
        read_idx(tmp_path / "f", ndim=3)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_keeps_28_by_28_gray(tmp_path, gz):
    images, labels = write_mnist(tmp_path, gz=gz)
    data = load_mnist(tmp_path)
    assert data.class_names == tuple("0123456789")
    np.testing.assert_array_equal(data.images[..., 0], images)
    np.testing.assert_array_equal(data.labels, labels)
    assert data.images.shape == (30, 28, 28, 1) and data.labels.dtype == np.int64


def test_resized_to_the_network_input_and_rgb(tmp_path):
    images, _labels = write_mnist(tmp_path, n=300)  # more than one 128-image resize chunk
    data = load_mnist(tmp_path, size=(20, 36), channels=3)
    assert data.images.shape == (300, 20, 36, 3)
    assert np.array_equal(data.images[..., 0], data.images[..., 2])
    one = load_mnist(tmp_path, size=(20, 36), channels=1)
    np.testing.assert_array_equal(one.images[..., 0], data.images[..., 0])
    # Cropping and area-averaging keep the overall brightness.
    assert abs(float(data.images[..., 0].mean()) - float(images.mean())) < 3


def test_fashion_mnist_names_the_classes_and_test_part_reads_t10k(tmp_path):
    write_mnist(tmp_path, n=20, part="test", sep=".")  # the t10k-images.idx3-ubyte spelling
    data = open_dataset(f"fashion-mnist:{tmp_path}", size=(28, 28), channels=1, part="test")
    assert data.class_names == FASHION_CLASSES and len(data) == 20
    assert "Fashion-MNIST" in data.source
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte"):
        open_dataset(f"mnist:{tmp_path}")


def test_plain_files_are_preferred_and_torchvision_raw_folder_found(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_mnist(raw, gz=True)
    write_mnist(raw, gz=False)
    images, labels = find_mnist_files(tmp_path)
    assert images.name == "train-images-idx3-ubyte" and labels.parent == raw


def test_n_takes_a_stratified_subset(tmp_path):
    write_mnist(tmp_path, n=100)
    data = load_mnist(tmp_path, n=20, seed=3)
    assert len(data) == 20 and data.counts().tolist() == [2] * 10
    again = load_mnist(tmp_path, n=20, seed=3)
    np.testing.assert_array_equal(data.images, again.images)


def test_mismatched_or_bad_labels(tmp_path):
    images, labels = digits_like(10)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:9])
    with pytest.raises(DatasetError, match=r"10 images but .* 9 labels"):
        load_mnist(tmp_path)
    labels[3] = 12
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    with pytest.raises(DatasetError, match="label 12"):
        load_mnist(tmp_path)


def test_folder_problems(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_mnist(tmp_path / "missing")
    with pytest.raises(DatasetError, match="no MNIST-style files"):
        load_mnist(tmp_path)
    with pytest.raises(DatasetError, match="train or test"):
        find_mnist_files(tmp_path, part="validation")
    with pytest.raises(DatasetError, match="uint8"):
        write_idx(tmp_path / "f", np.zeros(3, np.float32))
