"""MNIST and Fashion-MNIST from their IDX files, plain or gzipped, in a folder the user names.

The IDX format is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian 32-bit size per dimension, then the values. The header's sizes are
checked against the file size (for ``.gz`` files against the uncompressed size that gzip stores
in its last four bytes) before anything of that size is allocated, so a damaged or hostile file
costs nothing.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((20, 28, 28), np.uint8))
>>> write_idx(folder / "train-labels-idx1-ubyte", np.arange(20, dtype=np.uint8) % 10)
>>> load_mnist(folder, size=(32, 32))
ArrayDataset(20 images of 32x32x1, 10 classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
"""

from __future__ import annotations

import gzip
import math
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np

from engine.i18n import _
from engine.io.files import FileProblem, check_regular, open_regular
from engine.train.dataset import (
    ArrayDataset,
    DatasetError,
    check_fits_in_memory,
    check_input,
    fit_image,
    stratified_pick,
)

__all__ = ["FASHION_CLASSES", "MNIST_CLASSES", "find_mnist_files", "load_mnist", "read_idx",
           "write_idx"]

MNIST_CLASSES = tuple("0123456789")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
MAX_IDX_BYTES = 1 << 31
"""Refuse IDX files that declare more than 2 GiB of values (MNIST's largest is 47 MB)."""

_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


def _read_exactly(stream, count: int, name: str) -> np.ndarray:
    data = np.empty(count, np.uint8)
    view, done = memoryview(data), 0
    while done < count:
        got = stream.readinto(view[done:])
        if not got:
            raise DatasetError(_("{name} is truncated: it ends after {done} of its {count}"
                                 " bytes of values").format(name=name, done=done, count=count))
        done += got
    return data


def _read(stream, name: str, ndim: int | None, available: int, gz: bool) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0":
        raise DatasetError(_("{name} is not an IDX file (MNIST's format): it does not start with"
                             " two zero bytes").format(name=name))
    if magic[2] != _UBYTE:
        raise DatasetError(_("{name} holds values of IDX type {code:#04x}; only unsigned bytes"
                             " (0x08, as in MNIST) are supported").format(name=name,
                                                                          code=magic[2]))
    if ndim is not None and magic[3] != ndim:
        raise DatasetError(_("{name} has {found} dimensions where {expected} were expected"
                             " (images have 3, labels 1)")
                           .format(name=name, found=magic[3], expected=ndim))
    raw_dims = stream.read(4 * magic[3])
    if len(raw_dims) < 4 * magic[3]:
        raise DatasetError(_("{name} is truncated inside its header").format(name=name))
    dims = struct.unpack(f">{magic[3]}I", raw_dims)
    declared = math.prod(dims)
    header = 4 + 4 * magic[3]
    # gzip keeps the uncompressed size modulo 2^32 in its last four bytes.
    stored = (header + declared) % 2**32 if gz else header + declared
    if stored != available:
        raise DatasetError(_("{name} is damaged or truncated: its header declares"
                             " {shape} = {declared} values but the file holds {actual} bytes"
                             " after the header")
                           .format(name=name, shape=" x ".join(map(str, dims)),
                                   declared=declared, actual=available - header))
    if declared > MAX_IDX_BYTES:
        raise DatasetError(_("{name} declares {declared} values, more than this app reads from"
                             " one IDX file").format(name=name, declared=declared))
    data = _read_exactly(stream, declared, name)
    if gz and stream.read(1):
        raise DatasetError(_("{name} has more data than its header declares").format(name=name))
    return data.reshape(dims)


def read_idx(path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped or not) as a uint8 array.

    Parameters
    ----------
    path : str or path-like
    ndim : int, optional
        The number of dimensions the file must have (3 for images, 1 for labels).

    Raises
    ------
    DatasetError
        The file is missing, not IDX, of another value type, truncated or damaged; the
        message names the file and what is wrong.
    """
    path = Path(path)
    name = path.name
    try:
        size = check_regular(path).st_size  # a FIFO would block the open below forever
        with open_regular(path) as raw:
            if raw.read(2) != _GZIP_MAGIC:
                raw.seek(0)
                return _read(raw, name, ndim, size, gz=False)
            if size < 18:  # a gzip header and trailer alone take 18 bytes
                raise DatasetError(_("{name} is truncated: it is too short to be a gzip file")
                                   .format(name=name))
            raw.seek(-4, os.SEEK_END)
            uncompressed = int.from_bytes(raw.read(4), "little")
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read(stream, name, ndim, uncompressed, gz=True)
    except FileNotFoundError:
        raise DatasetError(_("{path} does not exist").format(path=path)) from None
    except FileProblem as problem:
        raise DatasetError(_("{name} cannot be read: {reason}").format(
            name=name, reason=problem.reason)) from None
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise DatasetError(_("{name} cannot be read or decompressed: {error}")
                           .format(name=name, error=error)) from None


def write_idx(path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file; gzipped when the name ends in ``.gz``."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 255:
        raise DatasetError(_("Only uint8 arrays can be written as IDX files, not {dtype}")
                           .format(dtype=array.dtype))
    data = bytes([0, 0, _UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data += array.tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def _matching(folder: Path, prefix: str, kind: str, dims: int) -> Path | None:
    pattern = re.compile(rf"{prefix}-{kind}[-.]idx{dims}-ubyte(\.gz)?", re.IGNORECASE)
    found = sorted((p for p in folder.iterdir() if pattern.fullmatch(p.name) and p.is_file()),
                   key=lambda p: (p.suffix == ".gz", p.name))  # plain before gzipped
    return found[0] if found else None


def find_mnist_files(folder, part: str = "train") -> tuple[Path, Path]:
    """The images and labels files of ``part`` ("train" or "test") in ``folder``.

    Looks in the folder itself and in ``raw/``, ``MNIST/raw/`` and ``FashionMNIST/raw/`` below
    it (torchvision's layout). Accepts ``train-images-idx3-ubyte``, ``train-images.idx3-ubyte``
    and either with ``.gz``; the test part is ``t10k-...``.
    """
    if part not in ("train", "test"):
        raise DatasetError(_("The part must be train or test, not {part!r}").format(part=part))
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetError(_("The folder {folder} does not exist").format(folder=folder))
    prefix = "train" if part == "train" else "t10k"
    for place in (folder, folder / "raw", folder / "MNIST" / "raw", folder / "FashionMNIST" /
                  "raw"):
        if place.is_dir():
            images = _matching(place, prefix, "images", 3)
            labels = _matching(place, prefix, "labels", 1)
            if images and labels:
                return images, labels
    raise DatasetError(_("{folder} has no MNIST-style files for the {part} part: it needs"
                         " {prefix}-images-idx3-ubyte and {prefix}-labels-idx1-ubyte (or the"
                         " same with .gz)").format(folder=folder, part=part, prefix=prefix))


def load_mnist(folder, *, fashion: bool = False, part: str = "train",
               size: tuple[int, int] = (28, 28), channels: int = 1, n: int | None = None,
               seed: int = 0) -> ArrayDataset:
    """MNIST or Fashion-MNIST from the IDX files in ``folder``, resized to ``size``.

    Parameters
    ----------
    folder : str or path-like
    fashion : bool
        Name the classes as Fashion-MNIST does (T-shirt/top, Trouser, ...) instead of 0-9.
    part : "train" or "test"
        The 60,000 training images or the 10,000 test images.
    size, channels
        The network's input: images are resized (28 x 28 is kept as it is) and gray is
        repeated into three channels for an RGB network.
    n : int, optional
        At most this many images, every class in its share, chosen by ``seed``.
    """
    size, channels = check_input(size, channels)
    images_path, labels_path = find_mnist_files(folder, part)
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise DatasetError(_("{images} has {n_images} images but {labels} has {n_labels} labels")
                           .format(images=images_path.name, n_images=len(images),
                                   labels=labels_path.name, n_labels=len(labels)))
    if labels.size and labels.max() > 9:
        raise DatasetError(_("{labels} has the label {label}; MNIST labels go from 0 to 9")
                           .format(labels=labels_path.name, label=int(labels.max())))
    keep = stratified_pick(labels, n, seed)
    check_fits_in_memory(len(keep), size, channels)
    images, labels = images[keep], labels[keep]  # (N, 28, 28)
    if images.shape[1:] != size:
        out = np.empty((len(images), *size), np.uint8)
        for start in range(0, len(images), 128):  # OpenCV resizes up to 128 channels at once
            chunk = images[start : start + 128].transpose(1, 2, 0)  # (28, 28, k)
            out[start : start + 128] = fit_image(chunk, size, chunk.shape[2]).reshape(
                *size, -1).transpose(2, 0, 1)
        images = out
    images = np.repeat(images[..., None], channels, axis=3)  # (N, H, W, C)
    source = _("Fashion-MNIST in {folder}") if fashion else _("MNIST in {folder}")
    return ArrayDataset(images, labels.astype(np.int64),
                        FASHION_CLASSES if fashion else MNIST_CLASSES,
                        source=source.format(folder=folder))
