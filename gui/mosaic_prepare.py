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

from engine.io.mosaic import mosaic_shape
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
    mask = nonfinite_mask(shown)  # None unless a value is NaN or infinite
    nonfinite = 0 if mask is None else int(np.count_nonzero(mask))
    # (C, H, W) float32 indices + 0.5, so that the truncating cast rounds
    indices = to_indices(shown, levels, nonfinite=False if mask is None else mask)
    return _tile(indices, columns, gap, out), nonfinite


def _tile(indices: np.ndarray, columns: int, gap: int, out: np.ndarray | None) -> np.ndarray:
    """``indices`` ``(C, H, W)`` cast to uint8 into the tiles of a mosaic (``out`` reused when
    it has the shape), 0 in the gaps: one strided copy for all the full rows of tiles."""
    c, h, w = indices.shape
    shape = mosaic_shape((c, h, w), columns, gap)  # (rows*H + gaps, cols*W + gaps)
    if out is None or out.shape != shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        out = np.empty(shape, dtype=np.uint8)
    out.fill(0)
    cols = min(max(1, int(columns)), c)
    rows = -(-c // cols)
    tiles = np.lib.stride_tricks.as_strided(  # (rows, cols, H, W) views into ``out``
        out, shape=(rows, cols, h, w), strides=((h + gap) * shape[1], w + gap, shape[1], 1))
    full = c // cols
    np.copyto(tiles[:full], indices[:full * cols].reshape(full, cols, h, w), casting="unsafe")
    if c > full * cols:
        np.copyto(tiles[full, :c - full * cols], indices[full * cols:], casting="unsafe")
    return out


def own_range_indices(maps: np.ndarray, diverging: bool) -> np.ndarray | None:
    """What ``to_indices(*scale_maps(maps, "map", diverging))`` gives (within rounding), in
    three passes over the values instead of six; None when a value is NaN or infinite (the
    caller then takes that slower way, which colours them).

    Every map is scaled to its own range: ``a - lo`` lies in ``0..span`` exactly as rounded,
    so the indices stay in 1..254 with no clipping pass.
    """
    a = np.ascontiguousarray(maps, dtype=np.float32)
    if a.size == 0:
        return None
    if diverging:
        top = np.abs(a).max(axis=(1, 2), keepdims=True)  # (C, 1, 1)
        lo, span = -top, top + top
    else:
        lo = a.min(axis=(1, 2), keepdims=True)
        span = a.max(axis=(1, 2), keepdims=True) - lo
    if not np.isfinite(span).all():
        return None
    scale = (np.float32(253.0) / np.where(span > 0, span, np.float32(1.0))).astype(np.float32)
    out = np.subtract(a, lo, dtype=np.float32)
    out *= scale
    out += np.float32(1.5)
    if diverging:  # a flat map sits in the middle of a diverging scale, as scale_maps has it
        out[(top == 0).reshape(-1)] = np.float32(127.5 + 1.0)
    return out


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
        diverging = colormap in DIVERGING
        indices = own_range_indices(activation, diverging) if self.normalization == "map" else None
        if indices is not None:  # the usual case, every value finite
            image, nonfinite = _tile(indices, self.columns, self.gap, None), 0
            levels = (-1.0, 1.0) if diverging else (0.0, 1.0)
        else:
            shown, levels = scale_maps(activation, self.normalization, diverging, global_range)
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
