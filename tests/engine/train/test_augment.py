"""Augmentation: identity when off, seeded, shape and dtype kept, and each change what it says."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.train import Augment, augment
from engine.train.augment import _sample

ALL = Augment(shift=0.2, crop=0.3, mirror=True, rotate_degrees=20, brightness=0.3, contrast=0.3)


def pictures(n=6, h=9, w=11, c=3, seed=0, dtype=np.uint8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
    return images if dtype == np.uint8 else (images / 255).astype(dtype)


def ramp(n=8, h=15, w=15) -> np.ndarray:
    """Every image is I(x, y) = x, as float64 (values stay exact)."""
    return np.broadcast_to(np.arange(w, dtype=np.float64)[None, None, :, None],
                           (n, h, w, 1)).copy()


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_identity_when_everything_is_off(dtype):
    images = pictures(dtype=dtype)
    rng = np.random.default_rng(0)
    out = augment(images, rng)
    assert out is not images and out.dtype == dtype
    np.testing.assert_array_equal(out, images)
    np.testing.assert_array_equal(Augment()(images, rng), images)
    assert Augment().is_identity and not ALL.is_identity
    assert rng.random() == np.random.default_rng(0).random()  # nothing drawn


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 4), h=st.integers(1, 12), w=st.integers(1, 12), c=st.sampled_from([1, 3]),
       dtype=st.sampled_from([np.uint8, np.float32]), seed=st.integers(0, 1000),
       shift=st.sampled_from([0.0, 0.25]), crop=st.sampled_from([0.0, 0.4]),
       mirror=st.booleans(), rotate=st.sampled_from([0.0, 30.0]),
       brightness=st.sampled_from([0.0, 0.5]), contrast=st.sampled_from([0.0, 0.5]))
def test_shape_dtype_range_and_seed(n, h, w, c, dtype, seed, shift, crop, mirror, rotate,
                                    brightness, contrast):
    images = pictures(n, h, w, c, seed, dtype)
    before = images.copy()
    settings_ = Augment(shift, crop, mirror, rotate, brightness, contrast)
    out = settings_(images, np.random.default_rng(seed))
    assert out.shape == images.shape and out.dtype == images.dtype
    np.testing.assert_array_equal(images, before)  # the input is not touched
    top = 255 if dtype == np.uint8 else 1.0
    assert out.size == 0 or (out.min() >= 0 and out.max() <= top + 1e-6)
    np.testing.assert_array_equal(out, settings_(images, np.random.default_rng(seed)))


def test_different_seeds_differ():
    images = pictures(n=8, h=16, w=16)
    a = ALL(images, np.random.default_rng(1))
    b = ALL(images, np.random.default_rng(2))
    assert not np.array_equal(a, b)


def test_mirror_flips_some_pictures_exactly():
    images = pictures(n=40)
    out = augment(images, np.random.default_rng(3), mirror=True)
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images, strict=True)]
    kept = [np.array_equal(o, i) for o, i in zip(out, images, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 5 < sum(flipped) < 35


def shifted(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """out(x, y) = image(x + dx, y + dy), the edge repeated outside: a plain loop."""
    h, w = image.shape[:2]
    out = np.empty_like(image)
    for y in range(h):
        for x in range(w):
            out[y, x] = image[min(max(y + dy, 0), h - 1), min(max(x + dx, 0), w - 1)]
    return out


def test_shift_moves_by_whole_pixels_with_edges_repeated():
    images = pictures(n=12, h=10, w=10)
    out = augment(images, np.random.default_rng(5), shift=0.3)
    moves = set()
    for o, i in zip(out, images, strict=True):
        match = [(dx, dy) for dx in range(-3, 4) for dy in range(-3, 4)
                 if np.array_equal(o, shifted(i, dx, dy))]
        assert match, "not a whole-pixel shift of the picture"
        moves.add(match[0])
    assert len(moves) > 3


def test_crop_zooms_into_a_window_inside_the_picture():
    crop = 0.4
    out = augment(ramp(), np.random.default_rng(2), crop=crop)
    slopes = np.diff(out[..., 0], axis=2)  # (N, H, W - 1)
    for image, slope in zip(out[..., 0], slopes, strict=True):
        s = slope[0, 0]
        assert 1 - crop - 1e-5 <= s <= 1 + 1e-5
        np.testing.assert_allclose(slope, s, atol=1e-5)  # a ramp stays a ramp: no clipping
        np.testing.assert_allclose(np.diff(image, axis=0), 0, atol=1e-5)
        assert image.min() >= 0 and image.max() <= 14
    assert len({round(float(s), 6) for s in slopes[:, 0, 0]}) > 4


def test_rotation_turns_the_ramp_by_at_most_the_angle():
    limit = 25
    out = augment(ramp(n=10, h=31, w=31), np.random.default_rng(4), rotate_degrees=limit,
                  mirror=True)
    inner = out[:, 12:19, 12:19, 0]  # near the center every source point is inside the picture
    angles = []
    for image in inner:
        ddx = np.diff(image, axis=1)  # (7, 6): d out / dx = +-cos(angle)
        ddy = np.diff(image, axis=0)  # d out / dy = -sin(angle)
        np.testing.assert_allclose(ddx, ddx[0, 0], atol=1e-5)
        np.testing.assert_allclose(ddy, ddy[0, 0], atol=1e-5)
        assert math.hypot(ddx[0, 0], ddy[0, 0]) == pytest.approx(1, abs=1e-5)
        angles.append(math.degrees(math.asin(-ddy[0, 0])))
        assert image[3, 3] == pytest.approx(15, abs=1e-4)  # the center stays in place
    assert max(abs(a) for a in angles) <= limit + 1e-3
    assert len({round(a, 3) for a in angles}) > 5


def test_constant_pictures_stay_constant_under_geometry_and_contrast():
    images = np.full((5, 8, 8, 3), 77, np.uint8)
    out = augment(images, np.random.default_rng(0), shift=0.3, crop=0.3, mirror=True,
                  rotate_degrees=45, contrast=0.8)
    np.testing.assert_array_equal(out, images)


def test_brightness_multiplies_each_picture_by_one_factor():
    images = pictures(n=10, dtype=np.float64) * 0.5
    out = augment(images, np.random.default_rng(1), brightness=0.4)
    factors = (out / np.where(images == 0, 1, images)).reshape(10, -1)
    for f, image in zip(factors, images.reshape(10, -1), strict=True):
        f = f[image > 0.01]
        np.testing.assert_allclose(f, f[0], rtol=1e-5)
        assert 0.6 - 1e-6 <= f[0] <= 1.4 + 1e-6


def test_contrast_blends_with_the_mean_gray():
    images = pictures(n=6, dtype=np.float64) * 0.8 + 0.1
    out = augment(images, np.random.default_rng(2), contrast=0.5)
    luma = np.array([0.299, 0.587, 0.114])
    for o, i in zip(out, images, strict=True):
        mean = (i @ luma).mean()
        factor = (o - mean)[0, 0, 0] / (i - mean)[0, 0, 0]
        np.testing.assert_allclose(o, np.clip((i - mean) * factor + mean, 0, 1), atol=1e-5)
        assert 0.5 - 1e-4 <= factor <= 1.5 + 1e-4


def bilinear_loop(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The textbook bilinear sample, one pixel at a time, edges repeated."""
    h, w, c = image.shape
    out = np.empty((*xs.shape, c))
    for idx in np.ndindex(xs.shape):
        x = min(max(float(xs[idx]), 0.0), w - 1.0)
        y = min(max(float(ys[idx]), 0.0), h - 1.0)
        x0, y0 = math.floor(x), math.floor(y)
        x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
        fx, fy = x - x0, y - y0
        out[idx] = ((1 - fy) * ((1 - fx) * image[y0, x0] + fx * image[y0, x1])
                    + fy * ((1 - fx) * image[y1, x0] + fx * image[y1, x1]))
    return out


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 7), w=st.integers(1, 7), c=st.sampled_from([1, 3]),
       seed=st.integers(0, 1000))
def test_bilinear_sampling_matches_a_plain_loop(h, w, c, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (3, h, w, c), dtype=np.uint8)
    xs = rng.uniform(-2, w + 1, (3, 4, 5)).astype(np.float32)
    ys = rng.uniform(-2, h + 1, (3, 4, 5)).astype(np.float32)
    out = _sample(images, xs, ys)
    for k in range(3):
        np.testing.assert_allclose(out[k], bilinear_loop(images[k].astype(np.float64), xs[k],
                                                         ys[k]), atol=1e-3)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(shift=0.6), "shift"),
    (dict(crop=-0.1), "crop"),
    (dict(rotate_degrees=200), "rotation"),
    (dict(brightness=1.5), "brightness"),
    (dict(contrast="lots"), "contrast"),
    (dict(mirror="yes"), "mirror"),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Augment(**kwargs)


def test_bad_pictures():
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        augment(np.zeros((2, 3, 3, 3), np.int32), np.random.default_rng(0), mirror=True)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        augment(np.zeros((3, 3, 3), np.uint8), np.random.default_rng(0))


def test_repr():
    assert repr(Augment()) == "Augment(off)"
    assert repr(ALL) == ("Augment(shift 20%, crop 30%, mirror, rotate ±20°, brightness ±30%,"
                         " contrast ±30%)")
