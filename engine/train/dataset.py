"""Labelled images in memory: the dataset protocol, :class:`ArrayDataset` and a seeded split.

Every source (the drawn shapes and digits, an image folder, MNIST files) becomes an
:class:`ArrayDataset`: uint8 images already at the network's input size, one int64 label each,
and the class names. Everything that can go wrong with a source raises :class:`DatasetError`
with one line a user can act on.

Examples
--------
>>> import numpy as np
>>> data = ArrayDataset(np.zeros((6, 4, 4, 1), np.uint8), np.array([0, 1] * 3), ("a", "b"))
>>> data
ArrayDataset(6 images of 4x4x1, 2 classes: a, b)
>>> train, val = split(data, val_fraction=0.34, seed=0)
>>> len(train), len(val), val.counts().tolist()
(4, 2, [1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from engine.i18n import _
from engine.io.color import LUMA

__all__ = [
    "MAX_DATASET_BYTES",
    "ArrayDataset",
    "Dataset",
    "DatasetError",
    "check_fits_in_memory",
    "check_input",
    "fit_image",
    "split",
    "stratified_pick",
    "to_channels",
]

MAX_DATASET_BYTES = 3 << 30
"""A data set is held in memory as uint8; more than 3 GiB of pixels is refused before reading."""


class DatasetError(ValueError):
    """A data source that cannot be used, with the reason in one line."""


@runtime_checkable
class Dataset(Protocol):
    """What the trainer needs of a data set: a length, ``(image, label)`` items, class names."""

    class_names: tuple[str, ...]

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]: ...


@dataclass(frozen=True, eq=False, repr=False)
class ArrayDataset:
    """Images and labels held in two arrays.

    Parameters
    ----------
    images : numpy.ndarray
        (N, H, W, C) uint8 with C = 1 (gray) or 3 (RGB), at the network's input size. Kept as a
        read-only view, so augmentation cannot change the data set by accident.
    labels : numpy.ndarray
        (N,) class indices into ``class_names``; stored as int64.
    class_names : tuple of str
    skipped : int
        Files that could not be read when the source was loaded (subsets keep the count).
    source : str
        Where the images came from, for messages and reports.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    skipped: int = 0
    source: str = ""

    def __post_init__(self):
        images = np.asarray(self.images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
            raise DatasetError(_("Images must be an (N, H, W, C) uint8 array with 1 or 3"
                                 " channels, not shape {shape} of {dtype}")
                               .format(shape=images.shape, dtype=images.dtype))
        labels = np.asarray(self.labels)
        if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
            raise DatasetError(_("There must be one whole-number label per image: {n} images,"
                                 " labels of shape {shape}").format(n=len(images),
                                                                     shape=labels.shape))
        names = tuple(str(name) for name in self.class_names)
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise DatasetError(_("Labels must lie between 0 and {top} (one per class name), but"
                                 " they span {low} to {high}")
                               .format(top=len(names) - 1, low=labels.min(), high=labels.max()))
        images = images.view()
        images.flags.writeable = False
        labels = labels.astype(np.int64)  # a copy, so read-only never reaches the caller's array
        labels.flags.writeable = False
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "skipped", int(self.skipped))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        """``(image (H, W, C) uint8, label)``."""
        return self.images[index], int(self.labels[index])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of every image."""
        return tuple(self.images.shape[1:])

    def counts(self) -> np.ndarray:
        """The number of images of each class, in ``class_names`` order."""
        return np.bincount(self.labels, minlength=len(self.class_names))

    def subset(self, indices) -> ArrayDataset:
        """A data set of the images at ``indices`` (a copy), with the same class names."""
        indices = np.asarray(indices, dtype=np.int64)
        return ArrayDataset(self.images[indices], self.labels[indices], self.class_names,
                            self.skipped, self.source)

    def __repr__(self) -> str:
        h, w, c = self.image_shape
        names = ", ".join(self.class_names[:10]) + (", ..." if len(self.class_names) > 10 else "")
        text = (f"ArrayDataset({len(self)} images of {h}x{w}x{c}, {len(self.class_names)}"
                f" classes: {names}")
        if self.skipped:
            text += f", {self.skipped} unreadable files skipped"
        return text + ")"


def split(dataset: ArrayDataset, val_fraction: float = 0.1,
          seed: int = 0) -> tuple[ArrayDataset, ArrayDataset]:
    """Split into training and validation sets, the same way for the same seed.

    Each class gives ``round(val_fraction * its count)`` images to validation (stratified),
    but always keeps at least one for training. Both parts keep the original order.

    Examples
    --------
    >>> data = ArrayDataset(np.zeros((10, 2, 2, 1), np.uint8), np.arange(10) % 2, ("a", "b"))
    >>> [len(part) for part in split(data, 0.2, seed=1)]
    [8, 2]
    """
    try:
        fraction = float(val_fraction)
    except (TypeError, ValueError):
        fraction = -1.0
    if not 0.0 <= fraction < 1.0:
        raise DatasetError(_("The validation fraction must be at least 0 and below 1, not"
                             " {value!r}").format(value=val_fraction))
    rng = np.random.default_rng(seed)
    val = []
    for label in range(len(dataset.class_names)):
        members = np.flatnonzero(dataset.labels == label)
        k = min(int(np.floor(fraction * len(members) + 0.5)), max(len(members) - 1, 0))
        val.append(rng.permutation(members)[:k])
    in_val = np.zeros(len(dataset), bool)
    in_val[np.concatenate(val)] = True
    return dataset.subset(np.flatnonzero(~in_val)), dataset.subset(np.flatnonzero(in_val))


def stratified_pick(labels: np.ndarray, n: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``n`` items, each class in its share, chosen by ``seed``.

    ``n=None`` (or ``n >= len(labels)``) takes everything. Every class present keeps at least
    one item when ``n`` allows it.

    Examples
    --------
    >>> stratified_pick(np.array([0, 0, 0, 0, 1, 1]), 3).tolist()
    [0, 2, 5]
    """
    labels = np.asarray(labels)
    if n is None or n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n / len(labels)
    share = np.floor(exact).astype(np.int64)
    # Largest remainders first, so the shares add up to n exactly.
    share[np.argsort(share - exact, kind="stable")[: n - int(share.sum())]] += 1
    while n >= len(classes) and (share == 0).any():  # every class keeps one when it can
        share[np.argmax(share)] -= 1
        share[np.argmax(share == 0)] = 1
    picked = [rng.permutation(np.flatnonzero(labels == c))[:k]
              for c, k in zip(classes, share, strict=True)]
    return np.sort(np.concatenate(picked))


def check_input(size, channels) -> tuple[tuple[int, int], int]:
    """``(size, channels)`` checked: two positive whole numbers (height, width), and 1 or 3."""
    ok = isinstance(size, list | tuple) and len(size) == 2 and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1 for v in size)
    if not ok:
        raise DatasetError(_("The input size must be two positive whole numbers (height, width),"
                             " not {size!r}").format(size=size))
    if isinstance(channels, bool) or channels not in (1, 3):
        raise DatasetError(_("Images have 1 (gray) or 3 (RGB) channels, not {channels!r}")
                           .format(channels=channels))
    return (int(size[0]), int(size[1])), int(channels)


def check_fits_in_memory(count: int, size: tuple[int, int], channels: int) -> None:
    """Raise :class:`DatasetError` when ``count`` images would exceed MAX_DATASET_BYTES."""
    need = count * size[0] * size[1] * channels
    if need > MAX_DATASET_BYTES:
        raise DatasetError(_("{count} images of {h}x{w}x{c} would need {need:.1f} GiB of memory"
                             " (the limit is {limit:.0f} GiB): use fewer images or a smaller"
                             " input size")
                           .format(count=count, h=size[0], w=size[1], c=channels,
                                   need=need / 2**30, limit=MAX_DATASET_BYTES / 2**30))


def to_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """(..., H, W, 3 or 1) uint8 -> (..., H, W, channels): luma for gray, repeat for RGB.

    Gray is the BT.601 luma that :data:`engine.io.color.LUMA` defines, rounded to uint8.

    Examples
    --------
    >>> to_channels(np.array([[[255, 0, 0]]], np.uint8), 1).tolist()
    [[[76]]]
    """
    have = images.shape[-1]
    if have == channels:
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=-1)
    gray = np.matmul(images.astype(np.float32), LUMA)  # (..., H, W)
    return np.clip(np.rint(gray), 0, 255).astype(np.uint8)[..., None]


def fit_image(image: np.ndarray, size: tuple[int, int], channels: int) -> np.ndarray:
    """One (H, W, 3) RGB image -> (size[0], size[1], channels) uint8.

    The image is center-cropped to the aspect ratio of ``size`` and resized (area averaging
    when shrinking), as :func:`engine.io.media.resize_to` does for the live input.

    Examples
    --------
    >>> fit_image(np.zeros((30, 60, 3), np.uint8), (16, 16), channels=1).shape
    (16, 16, 1)
    """
    from engine.io.media import resize_to  # OpenCV loads on first use, not with the engine

    return to_channels(resize_to(image, size[0], size[1]), channels)
