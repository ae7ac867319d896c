"""Mini-batches: shuffled index order, uint8 images gathered, then the network's float input.

:func:`batches` yields ``(images, labels)`` with the images still uint8 ``(B, H, W, C)`` (so
augmentation works on pixels); :func:`to_batch` turns them into the ``(B, C, H, W)`` float32
input with the pipeline's own preprocessing, the same numbers :func:`engine.frame_to_input`
gives for one frame.

Examples
--------
>>> import numpy as np
>>> from engine.train.dataset import ArrayDataset
>>> data = ArrayDataset(np.zeros((5, 2, 2, 3), np.uint8), np.arange(5) % 2, ("a", "b"))
>>> [labels.tolist() for _, labels in batches(data, 2, shuffle=False)]
[[0, 1], [0, 1], [0]]
>>> to_batch(np.full((1, 2, 2, 3), 255, np.uint8)).shape
(1, 3, 2, 2)
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from engine.graph.node import InputSpec
from engine.i18n import _
from engine.io.color import LUMA
from engine.io.preprocess import Preprocess
from engine.train.dataset import DatasetError

__all__ = ["batches", "to_batch"]


def _gather(dataset, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(dataset, "images") and hasattr(dataset, "labels"):
        return dataset.images[indices], dataset.labels[indices]
    items = [dataset[int(i)] for i in indices]  # any object of the Dataset protocol
    return (np.stack([image for image, _label in items]),
            np.array([label for _image, label in items], np.int64))


def batches(dataset, batch_size: int, shuffle: bool = True,
            seed: int | np.random.Generator | None = 0,
            drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of ``(images (B, H, W, C) uint8, labels (B,) int64)`` batches.

    Parameters
    ----------
    dataset : ArrayDataset or any Dataset
    batch_size : int
    shuffle : bool
        Visit the items in a random order (each exactly once per epoch).
    seed : int or numpy.random.Generator
        An int gives the same order every call; pass one Generator for all epochs to get a new
        order each epoch that is still the same from run to run.
    drop_last : bool
        Leave out the last, smaller batch.

    Examples
    --------
    >>> from engine.train.dataset import ArrayDataset
    >>> data = ArrayDataset(np.zeros((4, 1, 1, 1), np.uint8), np.arange(4), tuple("abcd"))
    >>> [labels.tolist() for _, labels in batches(data, 3, seed=2, drop_last=True)]
    [[3, 2, 0]]
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or (
            batch_size < 1):
        raise DatasetError(_("The batch size must be a whole number of at least 1, not"
                             " {size!r}").format(size=batch_size))
    n = len(dataset)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield _gather(dataset, order[start : start + batch_size])


def to_batch(images: np.ndarray, preprocess: Preprocess | InputSpec | None = None,
             channels: int | None = None) -> np.ndarray:
    """(N, H, W, C) uint8 images -> the network's (N, C', H, W) float32 input, all at once.

    Parameters
    ----------
    images : numpy.ndarray
        (N, H, W, 3) RGB or (N, H, W, 1) gray, already at the network's input size.
    preprocess : Preprocess, InputSpec or None
        The pipeline's recipe (``pipeline.input_spec`` carries it and the channel count);
        None is the app's own convention: RGB or BT.601 luma in [0, 1].
    channels : int, optional
        The network's input channels; default: the InputSpec's, else the images' own.

    Returns
    -------
    numpy.ndarray
        Exactly what :func:`engine.frame_to_input` returns for each image, stacked.

    Examples
    --------
    >>> caffe = Preprocess(channel_order="BGR", scale=1.0, mean=(100.0, 0.0, 0.0))
    >>> to_batch(np.array([[[[10, 20, 130]]]], np.uint8), caffe)[0, :, 0, 0].tolist()
    [30.0, 20.0, 10.0]
    """
    if isinstance(preprocess, InputSpec):
        channels = preprocess.channels if channels is None else channels
        preprocess = preprocess.preprocess
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
        raise DatasetError(_("A batch must be (N, H, W, C) uint8 with 1 or 3 channels, not"
                             " shape {shape} of {dtype}").format(shape=images.shape,
                                                                 dtype=images.dtype))
    n, h, w, c = images.shape
    channels = c if channels is None else int(channels)
    if channels not in (1, 3):
        raise DatasetError(_("The network takes 1 (gray) or 3 (RGB) channels, not {channels}")
                           .format(channels=channels))
    if preprocess is None:
        return _app_convention(images, channels)
    preprocess.check_channels(channels)
    if preprocess.output_size(h, w) != (h, w):
        raise DatasetError(_("The images are {h}x{w} but the network takes {size_h}x{size_w};"
                             " load the data at the network's input size")
                           .format(h=h, w=w, size_h=preprocess.size[0],
                                   size_w=preprocess.size[1]))
    # The same steps, in the same order and precision, as Preprocess.apply on each frame.
    if c == 1:
        images = np.repeat(images, 3, axis=3)  # a gray frame is taken as R = G = B
    if preprocess.invert:
        images = 255 - images
    pixels = np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32)  # (N,3,H,W)
    if channels == 1:
        # matmul per image (a stack of matrix-vector products) rounds as tensordot does.
        x = np.matmul(LUMA, pixels.reshape(n, 3, h * w)).reshape(n, 1, h, w)  # (N, 1, H, W)
    elif preprocess.channel_order == "BGR":
        x = np.ascontiguousarray(pixels[:, ::-1])
    else:
        x = pixels
    mean = np.asarray(preprocess.mean, np.float32)[:, None, None]  # (C, 1, 1)
    std = np.asarray(preprocess.std, np.float32)[:, None, None]
    x *= np.float32(preprocess.scale)
    x -= mean
    x /= std
    return x


def _app_convention(images: np.ndarray, channels: int) -> np.ndarray:
    """:func:`engine.io.media.to_input` for a batch: RGB or luma in [0, 1]."""
    n, h, w, c = images.shape
    scale = np.float32(1.0 / 255.0)
    out = np.empty((n, channels, h, w), np.float32)  # (N, C, H, W)
    if channels == 1 or c == 1:
        if c == 3:
            # One matrix-vector product per image, as to_input does for one frame.
            gray = np.matmul(images.reshape(n, h * w, 3).astype(np.float32), LUMA * scale)
        else:
            gray = images.reshape(n, h * w).astype(np.float32) * scale
        out[:] = gray.reshape(n, 1, h, w)
        return out
    np.multiply(images.transpose(0, 3, 1, 2), scale, out=out)
    return out
