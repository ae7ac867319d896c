"""The engine thread's mosaic (gui/mosaic_prepare.py) against the plain way of making it:
scale_maps, to_indices, then one tile at a time (written out here)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.io.mosaic import mosaic_shape, tile_origin
from gui.colormaps import scale_maps, to_indices
from gui.mosaic_prepare import MosaicRequest, indexed_mosaic, own_range_indices


def plain_mosaic(maps: np.ndarray, mode: str, diverging: bool, columns: int, gap: int):
    shown, levels = scale_maps(maps, mode, diverging)
    indices = to_indices(shown, levels)
    c, h, w = maps.shape
    out = np.zeros(mosaic_shape(maps.shape, columns, gap), np.uint8)
    for i in range(c):
        y, x = tile_origin(i, maps.shape, columns, gap)
        out[y:y + h, x:x + w] = indices[i].astype(np.uint8)
    return out, levels


def stack(seed: int, c: int, h: int, w: int, signed: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    maps = rng.normal(size=(c, h, w)).astype(np.float32) * rng.uniform(0.01, 100.0)
    maps += 0.0 if signed else -maps.min() + 5000.0  # far from zero: a cancellation test too
    maps[0] = 3.0  # a flat map
    return maps


@pytest.mark.parametrize("diverging", [False, True])
@pytest.mark.parametrize(("c", "h", "w", "columns", "gap"),
                         [(1, 3, 4, 1, 1), (5, 7, 3, 2, 1), (32, 12, 16, 6, 1), (7, 2, 9, 7, 0),
                          (10, 5, 5, 3, 2), (3, 1, 4, 2, 1)])
def test_the_prepared_mosaic_is_the_plain_one(c, h, w, columns, gap, diverging):
    for seed in range(3):
        maps = stack(seed, c, h, w, signed=diverging)
        expected, levels = plain_mosaic(maps, "map", diverging, columns, gap)
        indices = own_range_indices(maps, diverging)
        assert indices is not None
        image, bad = indexed_mosaic(*scale_maps(maps, "map", diverging), columns, gap)
        assert bad == 0 and np.array_equal(image, expected)  # the tiling, exactly
        result = type("R", (), {"pipeline": None, "input": None, "activations": {"l": maps}})
        colormap = "coolwarm" if diverging else "viridis"
        prepared = MosaicRequest("l", "map", colormap, columns, gap)(result)
        # The same indices but for rounding at the half-way points: one step at most.
        diff = np.abs(prepared.image.astype(int) - expected.astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01
        assert prepared.image.min() >= 0 and prepared.image.max() <= 254
        assert (prepared.image[expected == 0] == 0).all()  # the gaps stay transparent
        assert prepared.levels == levels and prepared.nonfinite == 0


def test_nonfinite_values_take_the_slower_way_that_colours_them():
    maps = stack(1, 4, 5, 6, signed=False)
    maps[2, 1, 1] = np.nan
    assert own_range_indices(maps, False) is None
    result = type("R", (), {"pipeline": None, "input": None, "activations": {"l": maps}})
    prepared = MosaicRequest("l", "map", "viridis", 2)(result)
    assert prepared.nonfinite == 1 and (prepared.image == 255).sum() == 1
