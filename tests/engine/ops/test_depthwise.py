"""The depthwise convolution by banded matrices (engine/ops/_depthwise.py) against the plain
loop: kernels 1-7, strides 1-3, dilations, uneven padding, channel multipliers, batches, widths
that the tile divides and widths it does not, in one piece or in many shared by two threads;
and the route conv2d takes for a non-finite input."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.ops import _depthwise, conv2d
from engine.ops._depthwise import conv_depthwise, finite, tile_width
from tests.engine.ops.reference import SETTINGS, pieces_of, ref_conv2d

# budgets small enough that a test-sized layer splits into many pieces and bands
SMALL = {"_PLANE_VALUES": 64, "_BAND_VALUES": 64, "_PARALLEL_MACS": 0}  # and shared


def _case(data):
    c, mult, n = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3)), data.draw(
        st.integers(1, 3))
    kh, kw = data.draw(st.integers(1, 7)), data.draw(st.integers(1, 7))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    dil = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    pads = tuple(data.draw(st.integers(0, 3)) for _ in range(4))
    h = data.draw(st.integers(max(1, dil[0] * (kh - 1) + 1 - pads[0] - pads[1]), 16))
    w = data.draw(st.integers(max(1, dil[1] * (kw - 1) + 1 - pads[2] - pads[3]), 45))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    weight = rng.standard_normal((c * mult, 1, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(c * mult).astype(np.float32) if data.draw(st.booleans()) else None
    return x, weight, bias, stride, pads, dil


def _check(x, weight, bias, stride, pads, dil):
    ref = ref_conv2d(x, weight, bias, stride, pads, dil, x.shape[1])
    out = conv_depthwise(x, weight, bias, stride, pads, dil, ref.shape[2:])
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    if pads[0] == pads[1] and pads[2] == pads[3]:  # and through conv2d's dispatch
        y = conv2d(x, weight, bias, stride, (pads[0], pads[2]), dil, x.shape[1])
        np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


@given(data=st.data())
@SETTINGS
def test_matches_the_plain_loop(data):
    _check(*_case(data))


@given(data=st.data())
@SETTINGS
def test_matches_the_plain_loop_in_many_pieces_and_bands_on_two_threads(data):
    with pieces_of(_depthwise, SMALL):
        _check(*_case(data))


@given(st.integers(1, 300))
def test_the_tile_covers_the_row_with_the_least_waste(wo):
    t = tile_width(wo)
    tiles = -(-wo // t)
    assert 1 <= t <= 16 and tiles * t >= wo
    if wo >= 7:  # no other tile of 7..16 covers the row with fewer columns, or as few wider
        assert all(-(-wo // u) * u > tiles * t or u <= t for u in range(7, 17))
    assert tile_width(112) == 16 and tile_width(56) == 14 and tile_width(7) == 7


def test_a_non_finite_input_spreads_only_into_its_windows():
    """The banded matrix's zeros would turn an infinity anywhere in a tile's rows into NaN:
    conv2d then takes the tap-copying route, whose NaNs are PyTorch's."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 6, 20, 40)).astype(np.float32)
    w = rng.standard_normal((6, 1, 5, 5)).astype(np.float32)
    assert finite(x)
    x[0, 1, 9, 20], x[0, 4, 3, 3] = np.inf, np.nan
    assert not finite(x)
    y = conv2d(x, w, None, 1, 2, 1, 6)
    with np.errstate(invalid="ignore"):
        ref = ref_conv2d(x, w, None, (1, 1), (2, 2, 2, 2), (1, 1), 6)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(ref))
    ok = np.isfinite(ref)
    np.testing.assert_allclose(y[ok], ref[ok], rtol=1e-4, atol=1e-4)


def test_layers_that_share_the_buffers_in_turn_keep_their_zeros():
    """Buffers are reused from layer to layer; a layout written before (another padding of the
    same padded size, values where another layer's border was) must not leak into this one."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 4, 10, 16)).astype(np.float32)
    x_wide = rng.standard_normal((1, 4, 12, 18)).astype(np.float32)
    w3, w5 = (rng.standard_normal((4, 1, k, k)).astype(np.float32) for k in (3, 5))
    cases = [(x, w5, (2, 2, 2, 2)), (x_wide, w3, (1, 1, 1, 1)), (x, w5, (2, 2, 2, 2)),
             (x, w3, (0, 2, 0, 2)), (x, w3, (2, 0, 2, 0)), (x, w5, (2, 2, 2, 2))]
    for _ in range(2):
        for xs, w, pads in cases:
            ref = ref_conv2d(xs, w, None, (1, 1), pads, (1, 1), 4)
            out = conv_depthwise(xs, w, None, (1, 1), pads, (1, 1), ref.shape[2:])
            np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_an_infinite_weight_gives_what_the_loop_gives_quietly():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 9, 20)).astype(np.float32)
    x[0, 1, 4, 4] = 0.0  # inf * 0 inside a window: NaN there, as in PyTorch
    w = rng.standard_normal((6, 1, 3, 5)).astype(np.float32)
    w[2, 0, 1, 2], w[5, 0, 0, 0] = np.inf, -np.inf
    with np.errstate(invalid="ignore", over="ignore"):
        ref = ref_conv2d(x, w, None, (1, 2), (1, 1, 2, 2), (1, 1), 3)
    out = conv_depthwise(x, w, None, (1, 2), (1, 1, 2, 2), (1, 1), ref.shape[2:])
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    np.testing.assert_array_equal(np.isposinf(out), np.isposinf(ref))
    np.testing.assert_array_equal(np.isneginf(out), np.isneginf(ref))
    ok = np.isfinite(ref)
    np.testing.assert_allclose(out[ok], ref[ok], rtol=1e-4, atol=1e-4)
