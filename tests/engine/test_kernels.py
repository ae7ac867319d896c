"""Kernel presets, their expansion to multi-channel filters, initializers, weight sources."""

import math

import numpy as np
import pytest

from engine import ops as F
from engine.layers.kernels import (
    PRESET_DESCRIPTIONS,
    PRESETS,
    build_weight,
    describe_expansion,
    expand_kernel,
    get_preset,
    glorot_init,
    he_init,
    initialize,
)

NAMES = ["identity", "box_blur", "gaussian_3", "gaussian_5", "gaussian_7", "sharpen", "emboss",
         "outline", "sobel_x", "sobel_y", "scharr_x", "scharr_y", "prewitt_x", "prewitt_y"]


def correlate(image, kernel):
    """Plain-loop valid cross-correlation of a 2-D image with a 2-D kernel."""
    kh, kw = kernel.shape
    h, w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            total = 0.0
            for s in range(kh):
                for t in range(kw):
                    total += kernel[s, t] * image[y + s, x + t]
            out[y, x] = total
    return out


def test_every_preset_exists_with_a_description():
    assert list(PRESETS) == NAMES
    assert set(PRESET_DESCRIPTIONS) == set(NAMES)
    for name, kernel in PRESETS.items():
        assert kernel.dtype == np.float32 and kernel.ndim == 2, name
        assert kernel.shape[0] == kernel.shape[1] and kernel.shape[0] % 2 == 1, name
        assert PRESET_DESCRIPTIONS[name] and "\n" not in PRESET_DESCRIPTIONS[name]


def test_preset_values():
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
    np.testing.assert_array_equal(PRESETS["sobel_x"], sobel)
    np.testing.assert_array_equal(PRESETS["sobel_y"], sobel.T)
    np.testing.assert_array_equal(PRESETS["scharr_x"][:, 0], [-3, -10, -3])
    np.testing.assert_array_equal(PRESETS["prewitt_y"][0], [-1, -1, -1])
    np.testing.assert_array_equal(PRESETS["outline"][1], [-1, 8, -1])
    assert PRESETS["gaussian_3"][1, 1] == pytest.approx(4 / 16)
    assert PRESETS["gaussian_5"][2, 2] == pytest.approx(36 / 256)
    assert PRESETS["gaussian_7"][3, 3] == pytest.approx(400 / 4096)
    for name in ("box_blur", "gaussian_3", "gaussian_5", "gaussian_7", "identity", "sharpen"):
        assert PRESETS[name].sum() == pytest.approx(1.0, abs=1e-6), name
    for name in ("outline", "sobel_x", "sobel_y", "scharr_x", "scharr_y", "prewitt_x",
                 "prewitt_y"):
        assert PRESETS[name].sum() == 0, name
    assert PRESETS["emboss"].sum() == 1


def test_sobel_x_responds_to_brightness_increasing_to_the_right():
    ramp = np.tile(np.arange(6, dtype=np.float32), (5, 1))
    assert (correlate(ramp, PRESETS["sobel_x"]) == 8).all()
    assert (correlate(ramp, PRESETS["sobel_y"]) == 0).all()


def test_presets_are_read_only_and_get_preset_copies():
    with pytest.raises(ValueError):
        PRESETS["sobel_x"][0, 0] = 5
    copy = get_preset("sobel_x")
    copy[0, 0] = 5
    assert PRESETS["sobel_x"][0, 0] == -1
    with pytest.raises(ValueError, match="unknown kernel preset 'sobl_x'; known presets: identity"):
        get_preset("sobl_x")


def test_luma_expansion_equals_the_kernel_on_the_gray_image():
    rng = np.random.default_rng(3)
    rgb = rng.random((3, 9, 11)).astype(np.float32)
    gray = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    weight = expand_kernel(PRESETS["sobel_x"], 3)[None]  # (1, 3, 3, 3)
    got = F.conv2d(rgb, weight)[0]
    np.testing.assert_allclose(got, correlate(gray, PRESETS["sobel_x"]), atol=1e-5)


def test_expand_modes():
    k = PRESETS["outline"]
    luma = expand_kernel(k, 3)
    np.testing.assert_allclose(luma[1], 0.587 * k, rtol=1e-6)
    assert luma.shape == (3, 3, 3) and luma.dtype == np.float32
    np.testing.assert_allclose(expand_kernel(k, 4), np.stack([k / 4] * 4), rtol=1e-6)
    np.testing.assert_array_equal(expand_kernel(k, 1), k[None])
    np.testing.assert_array_equal(expand_kernel(k, 2, "each"), np.stack([k, k]))
    green = expand_kernel(k, 3, "green")
    np.testing.assert_array_equal(green[1], k)
    assert not green[0].any() and not green[2].any()
    np.testing.assert_array_equal(expand_kernel(k, 5, "channel:4")[4], k)
    assert not expand_kernel(k, 5, "channel:4")[:4].any()


@pytest.mark.parametrize(
    ("channels", "mode", "message"),
    [
        (1, "red", "expand mode 'red' needs an RGB input (3 channels), not 1"),
        (3, "channel:3", "expand mode 'channel:3': the input has 3 channels (0 to 2)"),
        (3, "channel:x", "write the channel as a number, e.g. channel:0"),
        (3, "gray", "unknown expand mode 'gray'; use luma, each, red, green, blue or channel:<i>"),
    ],
)
def test_expand_errors(channels, mode, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        expand_kernel(PRESETS["sobel_x"], channels, mode)


def test_expand_needs_a_2d_kernel():
    with pytest.raises(ValueError, match=r"must be 2-D, not of shape \(3,\)"):
        expand_kernel([1, 2, 3], 3)


def test_describe_expansion():
    assert describe_expansion("luma", 3) == "on luma (0.299 R + 0.587 G + 0.114 B)"
    assert describe_expansion("luma", 1) == "on the single channel"
    assert describe_expansion("luma", 8) == "on the mean of the 8 channels"
    assert describe_expansion("each", 3) == "on each of the 3 channels, summed"
    assert describe_expansion("blue", 3) == "on the blue channel only"
    assert describe_expansion("channel:2", 4) == "on channel 2 only"


def test_he_init():
    w = he_init((64, 32, 3, 3), seed=7)
    assert w.dtype == np.float32 and w.shape == (64, 32, 3, 3)
    expected = np.random.default_rng(7).standard_normal((64, 32, 3, 3)) * math.sqrt(2 / 288)
    np.testing.assert_allclose(w, expected.astype(np.float32))
    assert w.std() == pytest.approx(math.sqrt(2 / 288), rel=0.05)
    np.testing.assert_array_equal(w, he_init((64, 32, 3, 3), seed=7))
    assert not np.array_equal(w, he_init((64, 32, 3, 3), seed=8))


def test_glorot_init():
    w = glorot_init((16, 8, 3, 3), seed=1)
    limit = math.sqrt(6 / (8 * 9 + 16 * 9))
    assert w.dtype == np.float32 and np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.9 * limit
    np.testing.assert_array_equal(initialize("glorot", (16, 8, 3, 3), 1), w)
    with pytest.raises(ValueError, match="unknown initializer 'xavier'; use he or glorot"):
        initialize("xavier", (2, 2))
    with pytest.raises(ValueError, match="at least 2 positive sizes"):
        he_init((4,))


def test_build_weight_sources():
    w, text = build_weight({"preset": "sobel_y", "expand": "each"}, 2, 3, (3, 3))
    assert w.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(w[1, 2], PRESETS["sobel_y"])
    assert text == "preset sobel_y on each of the 3 channels, summed"
    w, text = build_weight({"init": "he", "seed": 4}, 2, 3, (3, 3))
    np.testing.assert_array_equal(w, he_init((2, 3, 3, 3), 4))
    assert text == "he seed 4"
    values = np.arange(9.0).reshape(1, 3, 3).tolist()
    source = {"presets": ["sobel_x", {"preset": "sobel_y", "expand": "channel:0"},
                          {"values": values}]}
    w, text = build_weight(source, 3, 1, (3, 3))
    np.testing.assert_array_equal(w[2, 0], np.arange(9.0).reshape(3, 3))
    assert text == ("presets sobel_x, sobel_y (on channel 0 only) on the single channel;"
                    " explicit values for filter 3")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"preset": "sobel_x"}, "preset sobel_x is 3x3 but the layer's kernel is 5x5"),
        ({"presets": ["sobel_x"]}, r"presets needs one entry per filter \(2\), got 1"),
        ({"presets": [{"values": [[1]]}, "sobel_x"]}, r"explicit filter values have shape"),
        ({"presets": [3, 4]}, "a presets entry must be a preset name"),
        ({"seed": 1}, r"unknown weight source keys \['seed'\]"),
        ({"preset": "gaussian_9"}, "unknown kernel preset 'gaussian_9'"),
    ],
)
def test_build_weight_errors(source, message):
    kernel = (5, 5) if source == {"preset": "sobel_x"} else (3, 3)
    with pytest.raises(ValueError, match=message):
        build_weight(source, 2, 3, kernel)
