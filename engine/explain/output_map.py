"""A network's map output as pictures: an image (a reconstruction) or a class map over the input.

A network whose output is a map of C x H x W (:mod:`engine.graph.output`) is shown, by the
window and by ``cnn-explorer run``, as:

- C = 1 or 3: the output as an image (an autoencoder's reconstruction, a mask), beside the input,
  unless the network ends in a Softmax or LogSoftmax over the channels (3 class probabilities);
- any other C: the per-pixel argmax over the channels, one colour per class, laid over the input
  (a segmentation network's answer), with each class's share of the pixels for the legend.

>>> import numpy as np
>>> logits = np.zeros((2, 2, 2), np.float32); logits[1, 0, 0] = 1.0
>>> class_map(logits).tolist()
[[1, 0], [0, 0]]
>>> class_shares(class_map(logits), 2).tolist()
[0.75, 0.25]
"""

from __future__ import annotations

import colorsys

import numpy as np

from engine.explain.overlay import blend, to_image

__all__ = ["CLASS_HEADS", "IMAGE_CHANNELS", "class_colors", "class_map", "class_overlay",
           "class_picture", "class_shares", "is_image_output", "output_picture", "reconstruction"]

IMAGE_CHANNELS = (1, 3)
"""Outputs with this many channels are shown as an image; others as a class map."""

CLASS_HEADS = ("Softmax", "LogSoftmax")
"""Last layers whose output are class probabilities, whatever the number of channels."""

# Tableau's 10 colours then their light partners (tab20's order): easy to tell apart and named.
_PALETTE = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    (174, 199, 232), (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213),
    (196, 156, 148), (247, 182, 210), (199, 199, 199), (219, 219, 141), (158, 218, 229),
], np.uint8)


def is_image_output(output: np.ndarray, last_layer=None) -> bool:
    """A (C, H, W) output shown as a picture, not as classes: 1 or 3 channels, and not from a
    ``last_layer`` that is a softmax (class probabilities per pixel)."""
    head = getattr(last_layer, "type_name", "")
    return output.shape[0] in IMAGE_CHANNELS and head not in CLASS_HEADS


def class_colors(n: int) -> np.ndarray:
    """``(n, 3)`` uint8 RGB colours, one per class: tab20's, then hues a golden angle apart."""
    if n <= len(_PALETTE):
        return _PALETTE[:n].copy()
    extra = [colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.65, 0.95)
             for i in range(n - len(_PALETTE))]
    return np.concatenate([_PALETTE, np.rint(np.array(extra) * 255).astype(np.uint8)])


def class_map(output: np.ndarray) -> np.ndarray:
    """The class of every pixel: the argmax over the channels of a (C, H, W) output, (H, W).

    The first of equal values wins, and NaN never wins (it counts as minus infinity).
    """
    values = np.asarray(output, np.float32)
    if np.isnan(values).any():
        values = np.where(np.isnan(values), -np.inf, values)
    return values.argmax(axis=0)


def class_shares(labels: np.ndarray, n: int) -> np.ndarray:
    """The fraction of pixels of each of ``n`` classes, (n,) float64."""
    counts = np.bincount(labels.reshape(-1), minlength=n)[:n]
    return counts / max(labels.size, 1)


def _nearest(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """An (h, w) map resized to (height, width) by nearest neighbour (classes do not blend)."""
    h, w = labels.shape
    if (h, w) == (height, width):
        return labels
    rows = (np.arange(height) * h) // height
    cols = (np.arange(width) * w) // width
    return labels[rows[:, None], cols[None, :]]


def class_picture(labels: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """An (H, W) class map in its colours, (H, W, 3) uint8."""
    return np.take(colors, labels, axis=0)  # (H, W, 3), contiguous


def class_overlay(labels: np.ndarray, picture: np.ndarray, colors: np.ndarray,
                  alpha: float = 0.55) -> np.ndarray:
    """The class colours laid over an (H, W, 3) uint8 picture, the map resized to its size."""
    h, w = picture.shape[:2]
    return blend(picture, class_picture(_nearest(labels, h, w), colors), alpha)


def reconstruction(output: np.ndarray) -> tuple[np.ndarray, bool]:
    """A 1- or 3-channel output as an (H, W, 3) uint8 picture, and whether it was stretched.

    Values in [0, 1] (a Sigmoid's) are shown as they are; other ranges are stretched from their
    minimum to their maximum, one scale for all channels so that colours keep their balance.
    """
    values = np.asarray(output, np.float32)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    stretched = lo < 0.0 or hi > 1.0
    if stretched:
        values = (values - lo) / (hi - lo if hi > lo else 1.0)
    pixels = np.rint(np.clip(np.nan_to_num(values), 0.0, 1.0) * 255).astype(np.uint8)
    if pixels.shape[0] == 1:
        pixels = np.repeat(pixels, 3, axis=0)
    return np.ascontiguousarray(pixels.transpose(1, 2, 0)), stretched


def output_picture(output: np.ndarray, x: np.ndarray, pipeline) -> np.ndarray:
    """The map output as one picture: the image beside the input (1 or 3 channels), else the
    class map over the input. ``x`` is the (C, H, W) input that entered ``pipeline``."""
    picture = to_image(x, pipeline)
    if is_image_output(output, pipeline.nodes[-1].layer):
        image, _stretched = reconstruction(output)
        h = max(picture.shape[0], image.shape[0])
        pad = [np.zeros((h, 4, 3), np.uint8)]
        parts = [np.pad(p, ((0, h - p.shape[0]), (0, 0), (0, 0))) for p in (picture, image)]
        return np.ascontiguousarray(np.concatenate([parts[0], *pad, parts[1]], axis=1))
    return class_overlay(class_map(output), picture, class_colors(output.shape[0]))
