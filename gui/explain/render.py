"""Explanation maps as display-ready arrays, in numpy alone (run in the workers, not per paint).

A heat map becomes 8-bit indices into a 256-entry lookup table (index 0 left transparent), at
the size it is drawn, so the GUI thread only calls ``setImage`` and Qt draws an indexed image.
The lookup tables fade in with the map's strength: where the map is weak the frame shows
through, as :func:`engine.explain.overlay.overlay` does for the command line.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from engine.explain.overlay import heat_levels, upsample
from engine.io.resample import center_crop
from gui.colormaps import lookup_table, to_indices

__all__ = ["DISPLAY_SIDE", "display_size", "heat_indices", "heat_levels", "heat_lut",
           "input_region", "thumbnail"]

DISPLAY_SIDE = 480  # heat maps are upsampled to at most this many pixels a side


def input_region(frame: np.ndarray, pipeline) -> np.ndarray:
    """The part of the ``(H, W, 3)`` frame that the network's input shows (a view, no copy).

    A recipe that crops to a fixed size sees the largest centred part of that aspect ratio;
    every other recipe (stretch, none, the app's own) sees the whole frame.
    """
    recipe = getattr(pipeline.input_spec, "preprocess", None)
    if recipe is not None and recipe.size is not None and recipe.resize == "crop":
        return center_crop(frame, *recipe.size)
    return frame


def display_size(height: int, width: int, side: int = DISPLAY_SIDE) -> tuple[int, int]:
    """``(height, width)`` shrunk so that the longer side is at most ``side`` (never enlarged)."""
    scale = min(1.0, side / max(height, width, 1))
    return max(1, round(height * scale)), max(1, round(width * scale))


def heat_indices(heat: np.ndarray, size: tuple[int, int],
                 levels: tuple[float, float]) -> np.ndarray:
    """The ``(h, w)`` map bilinearly upsampled to ``size`` as uint8 indices 1..255."""
    up = upsample(np.nan_to_num(heat, nan=levels[0]), *size)  # (H, W) float32
    return to_indices(up, levels, out=up).astype(np.uint8)  # truncation rounds (+0.5)


@cache
def heat_lut(colormap: str, signed: bool) -> np.ndarray:
    """A colormap's table for :func:`heat_indices`, its opacity growing with the map's strength.

    Index 0 is transparent; indices 1..255 span the colormap. Opacity rises from 0 at the low
    end (for a signed map: at zero, in the middle) to full at the ends, a little faster than
    linearly so that medium values are seen.
    """
    lut = np.zeros((256, 4), np.uint8)
    lut[1:] = lookup_table(colormap)[np.linspace(0, 255, 255).round().astype(int)]
    t = np.linspace(0.0, 1.0, 255)
    strength = np.abs(2 * t - 1) if signed else t
    lut[1:, 3] = np.round(255 * np.sqrt(strength)).astype(np.uint8)
    lut.flags.writeable = False
    return lut


def thumbnail(picture: np.ndarray, side: int) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 picture shrunk (never enlarged) to at most ``side`` a side."""
    h, w = picture.shape[:2]
    if max(h, w) <= side:
        return np.ascontiguousarray(picture)
    from engine.io.media import resize_longest

    return np.ascontiguousarray(resize_longest(picture, side))
