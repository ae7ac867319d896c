"""engine.io.mosaic: tiling against a plain-loop reference, and hover lookups as its inverse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.io.mosaic import grid_shape, map_at, mosaic_shape, tile_maps, tile_origin, to_uint8


def _tile_reference(maps, cols, gap, fill):
    """Place each map with two plain loops over tiles, pixel by pixel."""
    n, h, w = maps.shape
    rows = math.ceil(n / cols)
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap), fill, np.float32)
    for i in range(n):
        r, c = i // cols, i % cols
        for y in range(h):
            for x in range(w):
                out[r * (h + gap) + y, c * (w + gap) + x] = maps[i, y, x]
    return out


stacks = st.tuples(st.integers(1, 13), st.integers(1, 6), st.integers(1, 6), st.integers(0, 3))


@settings(max_examples=60, deadline=None)
@given(stacks, st.one_of(st.none(), st.integers(1, 15)), st.sampled_from([np.nan, 0.0, -1.5]))
def test_tile_maps_matches_loop_reference(dims, columns, fill):
    n, h, w, gap = dims
    maps = np.random.default_rng(n * 100 + h * 10 + w).standard_normal((n, h, w))
    out = tile_maps(maps, columns=columns, gap=gap, fill=fill)
    cols = grid_shape(n, w / h)[1] if columns is None else min(columns, n)
    ref = _tile_reference(maps.astype(np.float32), cols, gap, fill)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert out.shape == mosaic_shape(maps.shape, columns, gap)
    np.testing.assert_array_equal(out, ref)  # NaN == NaN for assert_array_equal


def test_tile_maps_small_example_by_hand():
    maps = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    out = tile_maps(maps, columns=2, gap=1, fill=-1)
    expected = [
        [0, 1, -1, 4, 5],
        [2, 3, -1, 6, 7],
        [-1, -1, -1, -1, -1],
        [8, 9, -1, -1, -1],
        [10, 11, -1, -1, -1],
    ]
    assert out.tolist() == expected


def test_tile_maps_single_map_and_out_buffer():
    m = np.ones((4, 5), np.float32)
    np.testing.assert_array_equal(tile_maps(m), m)
    maps = np.random.default_rng(0).random((7, 3, 4)).astype(np.float32)
    buf = np.empty(mosaic_shape(maps.shape, 3, 2), np.float32)
    result = tile_maps(maps, columns=3, gap=2, out=buf)
    assert result is buf
    np.testing.assert_array_equal(buf, _tile_reference(maps, 3, 2, np.nan))
    with pytest.raises(ValueError, match="out must be"):
        tile_maps(maps, columns=3, gap=2, out=np.empty((3, 3), np.float32))


def test_tile_maps_bad_input():
    with pytest.raises(ValueError, match=r"expected \(C, H, W\)"):
        tile_maps(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="nothing to tile"):
        tile_maps(np.zeros((0, 3, 4)))
    with pytest.raises(ValueError, match="gap"):
        tile_maps(np.zeros((2, 3, 4)), gap=-1)


@pytest.mark.parametrize(
    ("n", "aspect", "expected"),
    [
        (1, 1.0, (1, 1)),
        (4, 1.0, (2, 2)),
        (32, 1.0, (6, 6)),
        (64, 1.0, (8, 8)),
        (10, 4 / 3, (4, 3)),
        (8, 1.0, (3, 3)),
        (3, 10.0, (3, 1)),
        (3, 0.1, (1, 3)),
    ],
)
def test_grid_shape(n, aspect, expected):
    assert grid_shape(n, aspect) == expected


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.floats(0.2, 5.0), st.floats(0.5, 2.0))
def test_grid_shape_properties(n, aspect, target):
    rows, cols = grid_shape(n, aspect, target)
    assert rows * cols >= n
    assert (rows - 1) * cols < n  # no empty row
    # Near the target: no other column count gets closer on a log scale (up to rounding).
    best = min(abs(math.log(c * aspect / (math.ceil(n / c) * target))) for c in range(1, n + 1))
    assert abs(math.log(cols * aspect / (rows * target))) <= best + 1e-6


def test_grid_shape_rejects_nonsense():
    with pytest.raises(ValueError, match="at least 1 map"):
        grid_shape(0, 1.0)
    with pytest.raises(ValueError, match="positive"):
        grid_shape(3, 0.0)


@settings(max_examples=60, deadline=None)
@given(stacks, st.one_of(st.none(), st.integers(1, 15)))
def test_map_at_inverts_tile_origin(dims, columns):
    n, h, w, gap = dims
    shape = (n, h, w)
    out = tile_maps(np.arange(n, dtype=np.float32)[:, None, None] * np.ones(shape), columns, gap)
    for i in range(n):
        y0, x0 = tile_origin(i, shape, columns, gap)
        for my, mx in [(0, 0), (h - 1, w - 1), (h // 2, w // 3)]:
            assert map_at(y0 + my, x0 + mx, shape, columns, gap) == (i, my, mx)
            assert out[y0 + my, x0 + mx] == i
    # Every pixel of the mosaic: map_at says "map i" exactly where map i's value is, else None.
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            hit = map_at(y + 0.7, x + 0.2, shape, columns, gap)  # fractions are floored
            if hit is None:
                assert np.isnan(out[y, x])
            else:
                assert out[y, x] == hit[0]


def test_map_at_outside_and_tile_origin_errors():
    shape = (5, 4, 4)
    assert map_at(-1, 0, shape) is None
    assert map_at(0, 10_000, shape) is None
    assert map_at(10_000, 0, shape) is None
    with pytest.raises(ValueError, match="map 5 does not exist"):
        tile_origin(5, shape)


def test_to_uint8():
    img = np.array([[0.0, 0.5, 1.0], [np.nan, 2.0, -1.0]], np.float32)
    assert to_uint8(img, 0.0, 1.0, nan_value=7).tolist() == [[0, 128, 255], [7, 255, 0]]
    assert to_uint8(img).tolist() == [[85, 128, 170], [255, 255, 0]]  # finite min -1, max 2
    flat = to_uint8(np.full((2, 2), 3.0))
    assert flat.dtype == np.uint8 and flat.tolist() == [[0, 0], [0, 0]]
    with_inf = to_uint8(np.array([[np.inf, 0.0, 1.0]]), 0.0, 1.0)
    assert with_inf.tolist() == [[255, 0, 255]]
