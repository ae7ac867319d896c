"""Resampling with numpy alone: a centered crop to an aspect ratio, and a resize of (C, H, W)
float32 maps by two small matrix products (a triangle filter widened when shrinking, like PIL's
antialiased bilinear), so that preprocessing needs no OpenCV.

Examples
--------
>>> resize_maps(np.ones((1, 4, 6), np.float32), 2, 3).shape
(1, 2, 3)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["center_crop", "resize_maps"]


def center_crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The largest centered part of ``image`` with the aspect ratio ``width / height``."""
    h, w = image.shape[:2]
    if w * height > h * width:  # too wide: cut left and right
        cw = max(1, round(h * width / height))
        x0 = (w - cw) // 2
        return image[:, x0 : x0 + cw]
    ch = max(1, round(w * height / width))
    y0 = (h - ch) // 2
    return image[y0 : y0 + ch]


@lru_cache(maxsize=32)
def _weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) interpolation matrix: a triangle filter, widened when shrinking."""
    ratio = n_in / n_out
    support = max(ratio, 1.0)  # the wider filter averages away what would alias
    centers = (np.arange(n_out) + 0.5) * ratio - 0.5  # output pixel centers in input pixels
    distance = np.abs(np.arange(n_in)[None, :] - centers[:, None]) / support
    w = np.clip(1.0 - distance, 0.0, None)  # (n_out, n_in)
    w /= w.sum(axis=1, keepdims=True)
    w = w.astype(np.float32)
    w.flags.writeable = False  # shared through the cache
    return w


def resize_maps(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize (C, H, W) float32 maps to (C, height, width) with two matrix products."""
    h, w = maps.shape[1:]
    rows = np.matmul(_weights(h, height), maps)  # (C, height, W)
    return np.matmul(rows, _weights(w, width).T)  # (C, height, width)
