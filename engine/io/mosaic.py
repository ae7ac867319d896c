"""Tile a stack of feature maps into one 2-D image, and find which map a pixel belongs to.

A conv layer with 32 filters gives 32 maps; showing them as one image is 3-5x faster in the GUI
than 32 separate image items, and it is what a PNG export needs anyway. Tiles are laid out row by
row, map 0 at the top left, separated by ``gap`` pixels of ``fill``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from engine.i18n import _


def grid_shape(n_maps: int, aspect: float = 1.0, target: float = 1.0) -> tuple[int, int]:
    """Choose (rows, cols) for ``n_maps`` tiles so that the mosaic is close to ``target``.

    Parameters
    ----------
    n_maps : int
        Number of tiles, at least 1.
    aspect : float
        Width / height of one tile (640x480 maps: 4/3).
    target : float
        Width / height wanted for the whole mosaic (1.0: near-square).

    Returns
    -------
    tuple of int
        (rows, cols) with rows * cols >= n_maps and no empty row.

    Examples
    --------
    >>> grid_shape(32, 1.0)
    (6, 6)
    >>> grid_shape(10, 4 / 3)  # 3 columns of 4:3 tiles over 4 rows: 12 x 12 units
    (4, 3)
    """
    if n_maps < 1:
        raise ValueError(_("grid_shape: need at least 1 map, got {n_maps}").format(n_maps=n_maps))
    if not (aspect > 0 and target > 0):
        raise ValueError(_("grid_shape: aspect and target must be positive, got {aspect}, "
                           "{target}").format(aspect=aspect, target=target))
    cols = np.arange(1, n_maps + 1)
    rows = -(-n_maps // cols)  # ceil division
    # Distance from the target ratio on a log scale (2x too wide = 2x too tall); break ties by
    # fewer empty cells, then by fewer columns.
    ratio = np.abs(np.log(cols * aspect / (rows * target)))
    empty = rows * cols - n_maps
    best = np.lexsort((cols, empty, np.round(ratio, 9)))[0]
    return int(rows[best]), int(cols[best])


def _layout(maps_shape, columns, gap) -> tuple[int, int, int, int, int]:
    """Return (n, h, w, rows, cols) for a (C, H, W) or (H, W) stack."""
    if len(maps_shape) == 2:
        maps_shape = (1, *maps_shape)
    if len(maps_shape) != 3:
        raise ValueError(_("tile_maps: expected (C, H, W) maps, got shape {maps_shape}").format(
            maps_shape=tuple(maps_shape)))
    n, h, w = (int(v) for v in maps_shape)
    if n < 1 or h < 1 or w < 1:
        raise ValueError(_("tile_maps: nothing to tile in shape {maps_shape}").format(
            maps_shape=tuple(maps_shape)))
    if gap < 0:
        raise ValueError(_("tile_maps: gap must be 0 or more, got {gap}").format(gap=gap))
    cols = grid_shape(n, w / h)[1] if columns is None else min(max(1, int(columns)), n)
    return n, h, w, math.ceil(n / cols), cols


def mosaic_shape(maps_shape, columns: int | None = None, gap: int = 1) -> tuple[int, int]:
    """Return the (height, width) of the image :func:`tile_maps` makes for this stack."""
    _, h, w, rows, cols = _layout(maps_shape, columns, gap)
    return rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap


def tile_maps(
    maps: np.ndarray,
    columns: int | None = None,
    gap: int = 1,
    fill: float = np.nan,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Tile (C, H, W) maps into one C-contiguous float32 image, row by row.

    Parameters
    ----------
    maps : numpy.ndarray
        (C, H, W) stack (a single (H, W) map is one tile).
    columns : int, optional
        Tiles per row; None picks a near-square layout with :func:`grid_shape`.
    gap : int
        Pixels between tiles.
    fill : float
        Value of the gaps and of the empty cells of the last row (NaN: transparent in the GUI).
    out : numpy.ndarray, optional
        A float32 array of the mosaic's shape to write into (saves an allocation per frame).

    Returns
    -------
    numpy.ndarray
        (rows*H + (rows-1)*gap, cols*W + (cols-1)*gap) float32.

    Examples
    --------
    >>> tile_maps(np.zeros((4, 2, 3)), gap=1).shape
    (5, 7)
    """
    maps = np.asarray(maps)
    if maps.ndim == 2:
        maps = maps[None]
    n, h, w, rows, cols = _layout(maps.shape, columns, gap)
    shape = (rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"tile_maps: out must be a C-contiguous float32 array of shape {shape}")
    out.fill(fill)
    # A writable 4-D view of `out` addressing every tile: (rows, cols, H, W). Tiles never
    # overlap, so writing through it is safe; one assignment copies all full rows at once.
    item, row_bytes = out.itemsize, out.strides[0]
    tiles = as_strided(
        out,
        shape=(rows, cols, h, w),
        strides=((h + gap) * row_bytes, (w + gap) * item, row_bytes, item),
    )
    full = n // cols
    tiles[:full] = maps[: full * cols].reshape(full, cols, h, w)  # (full rows, cols, H, W)
    if n > full * cols:
        tiles[full, : n - full * cols] = maps[full * cols :]
    return out


def tile_origin(
    index: int, maps_shape, columns: int | None = None, gap: int = 1
) -> tuple[int, int]:
    """Return the (y, x) of the top-left pixel of map ``index`` in the mosaic of ``tile_maps``.

    Takes the same ``maps_shape`` (the (C, H, W) of the stack), ``columns`` and ``gap``.
    """
    n, h, w, _rows, cols = _layout(maps_shape, columns, gap)
    if not 0 <= index < n:
        raise ValueError(_("tile_origin: map {index} does not exist; the stack has {n} "
                           "maps").format(index=index, n=n))
    row, col = divmod(index, cols)
    return row * (h + gap), col * (w + gap)


def map_at(
    y: float, x: float, maps_shape, columns: int | None = None, gap: int = 1
) -> tuple[int, int, int] | None:
    """Return (index, my, mx): which map and which pixel of it lies under mosaic pixel (y, x).

    Returns None over a gap, an empty cell or outside the mosaic. Fractional coordinates (from
    a mouse position) are floored.
    """
    n, h, w, rows, cols = _layout(maps_shape, columns, gap)
    y, x = math.floor(y), math.floor(x)
    if y < 0 or x < 0:
        return None
    row, my = divmod(y, h + gap)
    col, mx = divmod(x, w + gap)
    if row >= rows or col >= cols or my >= h or mx >= w:
        return None
    index = row * cols + col
    return (index, my, mx) if index < n else None


def to_uint8(
    image: np.ndarray, lo: float | None = None, hi: float | None = None, nan_value: int = 255
) -> np.ndarray:
    """Map ``lo``..``hi`` to 0..255 as uint8 (for PNG export); NaN pixels become ``nan_value``.

    ``lo`` and ``hi`` default to the image's finite minimum and maximum. A constant image
    (hi == lo) becomes 0 everywhere except its NaN pixels.

    Examples
    --------
    >>> to_uint8(np.array([[0.0, 0.5, 1.0]])).tolist()
    [[0, 128, 255]]
    """
    image = np.asarray(image, dtype=np.float32)
    if lo is None or hi is None:
        values = image[np.isfinite(image)]
        if lo is None:
            lo = float(values.min()) if values.size else 0.0
        if hi is None:
            hi = float(values.max()) if values.size else 0.0
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    with np.errstate(invalid="ignore"):  # inf * 0 for a constant image: handled just below
        scaled = np.clip((image - np.float32(lo)) * np.float32(scale), 0, 255)
    out = np.rint(np.nan_to_num(scaled, nan=0.0)).astype(np.uint8)
    out[np.isnan(image)] = nan_value
    return out
