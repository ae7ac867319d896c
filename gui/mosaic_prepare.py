"""A layer's maps made ready for display off the GUI thread: scaled, coloured, tiled, uint8.

The maps dock registers a :class:`MosaicRequest` with the live loop while it is visible; the
engine thread calls it after every forward pass (:mod:`gui.live_engine`) and the dock only hands
the finished :class:`PreparedMosaic` to Qt. The request is immutable: when a setting changes
(layer, colormap, normalization, the grid's columns) the dock registers a new one and draws the
frames made for the old one itself, so nothing shown is ever made with stale settings.
No Qt here: this runs in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from engine.io.mosaic import mosaic_shape, tile_origin
from gui.colormaps import (
    DIVERGING,
    indexed_lookup_table,
    is_signed,
    nonfinite_mask,
    scale_maps,
    suggest_colormap,
    to_indices,
    value_range,
)

__all__ = ["MosaicRequest", "PreparedMosaic", "indexed_mosaic"]


def indexed_mosaic(shown: np.ndarray, levels: tuple[float, float], columns: int, gap: int,
                   out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Tile ``shown`` ``(C, H, W)`` into one uint8 image of colour-table indices.

    Index 0 in the gaps and empty cells (transparent), 1..254 for ``levels[0]..levels[1]``,
    255 where a value is NaN or infinite. Returns the image and how many values are not finite.

    Examples
    --------
    >>> image, bad = indexed_mosaic(np.ones((2, 1, 1), np.float32), (0.0, 1.0), 2, 1)
    >>> image.tolist(), bad
    ([[254, 0, 254]], 0)
    """
    c, h, w = shown.shape
    mask = nonfinite_mask(shown)  # None unless a value is NaN or infinite
    nonfinite = 0 if mask is None else int(np.count_nonzero(mask))
    # (C, H, W) float32 indices + 0.5, so that the truncating cast rounds
    indices = to_indices(shown, levels, nonfinite=False if mask is None else mask)
    shape = mosaic_shape((c, h, w), columns, gap)  # (rows*H + gaps, cols*W + gaps)
    if out is None or out.shape != shape:
        out = np.empty(shape, dtype=np.uint8)
    out.fill(0)
    for i in range(c):
        y, x = tile_origin(i, (c, h, w), columns, gap)
        np.copyto(out[y:y + h, x:x + w], indices[i], casting="unsafe")
    return out, nonfinite


@cache
def _packed_table(colormap: str) -> np.ndarray:
    """The indexed colour table with each RGBA entry packed in one uint32 (one take per pixel)."""
    return np.ascontiguousarray(indexed_lookup_table(colormap)).view(np.uint32).ravel()


@dataclass(frozen=True)
class PreparedMosaic:
    """A finished mosaic: what :meth:`MosaicView.set_prepared` shows as it is."""

    request: MosaicRequest
    image: np.ndarray  # (rows*H + gaps, cols*W + gaps) uint8 colour-table indices
    rgba: np.ndarray  # the same coloured: (rows*H + gaps, cols*W + gaps, 4) uint8
    levels: tuple[float, float]  # the values drawn with the first and the last colour
    nonfinite: int  # values that are NaN or infinite
    maps_shape: tuple[int, int, int]  # (C, H, W) of the maps shown
    colormap: str  # the colormap the indices are meant for


@dataclass(frozen=True)
class MosaicRequest:
    """What the maps dock shows, as the engine thread needs it: call with a Result."""

    layer: str  # node name, or the pipeline's input name for the input image
    normalization: str  # "map" | "layer" | "global"
    colormap: str
    columns: int
    gap: int = 1
    max_maps: int = 0  # only the first ones (0: all)
    auto_colormap: bool = False  # a diverging colormap for signed values (suggest_colormap)

    def __call__(self, result) -> PreparedMosaic | None:
        if self.layer == getattr(result.pipeline, "input_name", None):
            activation = result.input
        else:
            activation = result.activations.get(self.layer)
        if activation is None or activation.ndim != 3 or activation.shape[1:] == (1, 1):
            return None  # a vector (drawn as bars) or a layer the run did not reach
        if self.max_maps:
            activation = activation[:self.max_maps]
        colormap = self.colormap
        if self.auto_colormap:
            colormap = suggest_colormap(is_signed(activation), colormap)
        global_range = None
        if self.normalization == "global":
            global_range = value_range(result.activations.values())
        shown, levels = scale_maps(activation, self.normalization, colormap in DIVERGING,
                                   global_range)
        image, nonfinite = indexed_mosaic(shown, levels, self.columns, self.gap)
        levels = (float(levels[0]), float(levels[1]))
        # Coloured here: Qt paints RGBA as it is, where an indexed image is converted to
        # colours at every paint (on the GUI thread: 1.3 against 0.3 ms for 32 maps of conv3).
        rgba = np.take(_packed_table(colormap), image).view(np.uint8).reshape(*image.shape, 4)
        return PreparedMosaic(self, image, rgba, levels, nonfinite, tuple(activation.shape),
                              colormap)


class PreparedFeed:
    """A dock's subscription to prepared products: registered while it wants them.

    ``want(request)`` registers ``request`` with the live loop (only when it differs from the
    one registered); ``stop()`` removes it (a hidden dock makes the engine thread do nothing
    for it); ``take(result, request)`` is the product made for exactly ``request``, or None.
    """

    def __init__(self, live, key: str) -> None:
        self._set = getattr(live, "set_preparer", None)  # a stand-in live loop may lack it
        self.key = key
        self.request = None

    def want(self, request) -> None:
        if request != self.request and self._set is not None:
            self.request = request
            self._set(self.key, request)

    def stop(self) -> None:
        if self.request is not None and self._set is not None:
            self.request = None
            self._set(self.key, None)

    def take(self, result, request):
        product = getattr(result, "prepared", {}).get(self.key)
        return product if product is not None and product.request == request else None
