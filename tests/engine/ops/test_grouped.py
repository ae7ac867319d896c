"""The grouped and depthwise convolution (engine/ops/_grouped.py) against the plain loop, over
groups, channels per group, strides (its phases), dilations, uneven padding, odd sizes, batches,
row bands and non-finite values."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.ops import _grouped, conv2d
from engine.ops._grouped import conv_grouped
from tests.engine.ops.reference import SETTINGS, pieces_of, ref_conv2d

# budgets small enough that a test-sized layer splits into many pieces and bands
SMALL = {"_PHASE_VALUES": 64, "_BAND_VALUES": 256, "_PARALLEL_MACS": 0}  # and shared


def _case(data, depthwise):
    groups = data.draw(st.integers(1, 4))
    c_in_g = 1 if depthwise else data.draw(st.integers(1, 3))
    c_out_g = 1 if depthwise else data.draw(st.integers(1, 3))
    n = data.draw(st.integers(1, 3))
    kh, kw = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    dil = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)))
    pads = tuple(data.draw(st.integers(0, 3)) for _ in range(4))
    h = data.draw(st.integers(max(1, dil[0] * (kh - 1) + 1 - pads[0] - pads[1]), 13))
    w = data.draw(st.integers(max(1, dil[1] * (kw - 1) + 1 - pads[2] - pads[3]), 13))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    x = rng.standard_normal((n, groups * c_in_g, h, w)).astype(np.float32)
    weight = rng.standard_normal((groups * c_out_g, c_in_g, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(groups * c_out_g).astype(np.float32) if data.draw(
        st.booleans()) else None
    return x, weight, bias, stride, pads, dil, groups


def _check(x, weight, bias, stride, pads, dil, groups):
    ref = ref_conv2d(x, weight, bias, stride, pads, dil, groups)
    out = conv_grouped(x, weight, bias, stride, pads, dil, groups, ref.shape[2:])
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    # and through conv2d's dispatch, with PyTorch's (left, right) padding pairs where even
    if pads[0] == pads[1] and pads[2] == pads[3]:
        y = conv2d(x, weight, bias, stride, (pads[0], pads[2]), dil, groups)
        np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


@given(data=st.data(), depthwise=st.booleans())
@SETTINGS
def test_matches_the_plain_loop(data, depthwise):
    _check(*_case(data, depthwise))


@given(data=st.data(), depthwise=st.booleans())
@SETTINGS
def test_matches_the_plain_loop_in_many_pieces_and_bands(data, depthwise):
    with pieces_of(_grouped, SMALL):
        _check(*_case(data, depthwise))


@given(data=st.data())
@SETTINGS
def test_depthwise_by_tap_copies_matches_the_plain_loop(data):
    """The route of a depthwise layer whose input is not finite, here for finite ones too
    (engine/ops/_depthwise.py takes those otherwise; tests/engine/ops/test_depthwise.py)."""
    with pieces_of(_grouped, SMALL), mock.patch.object(_grouped, "finite", lambda x: False):
        _check(*_case(data, True))


@pytest.mark.parametrize("groups_per_channel", [1, 4])
def test_many_pieces_on_two_threads(groups_per_channel):
    """Many pieces shared by the pool's threads write disjoint parts of the output."""
    rng = np.random.default_rng(3)
    c = 8
    groups = c // groups_per_channel
    x = rng.standard_normal((2, c, 30, 29)).astype(np.float32)
    w = rng.standard_normal((c, c // groups, 3, 3)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    ref = ref_conv2d(x, w, b, (2, 1), (1, 1, 1, 1), (1, 1), groups)
    with pieces_of(_grouped, SMALL):
        out = conv_grouped(x, w, b, (2, 1), (1, 1, 1, 1), (1, 1), groups, ref.shape[2:])
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_large_maps_take_this_route_and_nan_spreads_like_pytorch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 8, 30, 33)).astype(np.float32)
    w = rng.standard_normal((8, 1, 3, 3)).astype(np.float32)
    w[:, :, 0, 0] = 0.0
    x[0, 2, 5, 6] = np.nan
    x[0, 3, 7, 7] = np.inf
    y = conv2d(x, w, None, 2, 1, 1, 8)
    with np.errstate(invalid="ignore"):  # inf * 0 in the reference too
        ref = ref_conv2d(x, w, None, (2, 2), (1, 1, 1, 1), (1, 1), 8)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ref))
    finite = np.isfinite(ref)
    np.testing.assert_allclose(y[finite], ref[finite], rtol=1e-4, atol=1e-4)
