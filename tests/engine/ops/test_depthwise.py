"""The flat-shifted-block depthwise convolution (engine/ops/_depthwise.py) against the plain
loop, over strides (its phases), dilations, uneven padding, batches and non-finite values."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.ops import conv2d
from engine.ops._depthwise import conv_depthwise
from tests.engine.ops.reference import SETTINGS, ref_conv2d


@given(data=st.data())
@SETTINGS
def test_matches_the_plain_loop(data):
    n, c = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 6))
    kh, kw = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    dil = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    pads = tuple(data.draw(st.integers(0, 3)) for _ in range(4))
    h = data.draw(st.integers(max(1, dil[0] * (kh - 1) + 1 - pads[0] - pads[1]), 12))
    w = data.draw(st.integers(max(1, dil[1] * (kw - 1) + 1 - pads[2] - pads[3]), 12))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    weight = rng.standard_normal((c, 1, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(c).astype(np.float32) if data.draw(st.booleans()) else None
    ref = ref_conv2d(x, weight, bias, stride, pads, dil, c)
    out = conv_depthwise(x, weight, bias, stride, pads, dil, ref.shape[2:])
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
