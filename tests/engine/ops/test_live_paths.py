"""The fast paths the live pipeline takes: 2x2 max pool pieces, threaded clamps, 1x1 bias bands.

Each runs at the sizes that reach it (whole maps per piece, rows of one map per piece, several
bands with a shorter last one, two threads) against the plain-loop references.
"""

import numpy as np
import pytest

from engine import ops as F
from engine.ops import _parallel, _pool
from tests.engine.ops.reference import arrays, assert_close, ref_conv2d, ref_max_pool


@pytest.fixture
def two_threads():
    before = F.get_num_threads()
    F.set_num_threads(2)
    yield
    F.set_num_threads(before)


def _ref_2x2(x):
    return ref_max_pool(x, (2, 2), (2, 2), (0, 0), (1, 1), False)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "shape, band",
    [
        ((1, 6, 9, 13), 1 << 16),  # one piece, odd sizes: the last row and column are dropped
        ((2, 5, 8, 10), 80),  # pieces of two whole maps (a map's folded rows hold 40 values)
        ((1, 3, 30, 8), 32),  # pieces of 4 rows of one map, the last one of 3 (15 = 3 * 4 + 3)
        ((3, 2, 2, 2), 1),  # one output value a map
    ],
)
def test_max_pool_2x2_pieces_match_the_loop_reference(shape, band, threads, monkeypatch):
    monkeypatch.setattr(_pool, "_SMALL_BAND", band)
    monkeypatch.setattr(_parallel, "_THREAD_MIN_WORK", 0)
    before = F.get_num_threads()
    F.set_num_threads(threads)
    try:
        x = arrays(np.random.default_rng(sum(shape)), shape)
        x[0, 0, 0, 1] = np.nan  # NaN wins its window, -inf never does
        x[-1, -1, -1, 0] = -np.inf
        got = F.max_pool2d(x, 2)
        np.testing.assert_array_equal(got, _ref_2x2(x))
        # channels a step apart: the images and channels no longer merge into one axis
        every_other = x[:, ::2]
        np.testing.assert_array_equal(F.max_pool2d(every_other, 2), _ref_2x2(every_other))
        np.testing.assert_array_equal(F.max_pool2d(x[0], 2), _ref_2x2(x[:1])[0])
    finally:
        F.set_num_threads(before)


def test_threaded_clamps_match_the_reference(two_threads, monkeypatch):
    monkeypatch.setattr(_parallel, "_THREAD_MIN_WORK", 0)  # shared however small
    x = arrays(np.random.default_rng(21), (4, 211, 173))  # 146,092 values: shared, with a tail
    x[1, 2, 3] = np.nan
    flat = x.astype(float).reshape(-1)
    relu = np.array([v if np.isnan(v) else max(v, 0.0) for v in flat]).reshape(x.shape)
    clip = np.array([v if np.isnan(v) else min(max(v, -0.5), 0.25) for v in flat])
    got = F.relu(x)
    assert np.isnan(got[1, 2, 3])
    assert_close(np.nan_to_num(got), np.nan_to_num(relu))
    assert_close(np.nan_to_num(F.hardtanh(x, -0.5, 0.25)), np.nan_to_num(clip.reshape(x.shape)))


@pytest.mark.parametrize("stride", [1, 2])
def test_pointwise_conv_bias_in_several_bands(stride, two_threads):
    # 32 channels of width 64: bands of 32 rows, so 70 rows end on a band of 6 (or 35 on 3)
    rng = np.random.default_rng(3)
    x = arrays(rng, (1, 32, 70, 64 * stride))
    w = arrays(rng, (5, 32, 1, 1))
    b = arrays(rng, (5,))
    got = F.conv2d(x, w, b, stride)
    ho = 70 // stride if stride == 1 else 35
    rows = [0, 31, 32, 63, 64, ho - 1] if stride == 1 else [0, 31, 32, ho - 1]
    positions = [(0, r, col) for r in rows for col in (0, 17, 63)]
    expected = ref_conv2d(x, w, b, (stride, stride), (0, 0, 0, 0), (1, 1), 1, positions)
    for i, r, col in positions:
        np.testing.assert_allclose(got[i, :, r, col], expected[i, :, r, col], rtol=0, atol=1e-4)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("hw", [(7, 9), (24, 30)])  # 63 columns: a band of bias copies; 720
def test_stride_one_pointwise_conv_in_pieces_per_thread(n, bias, hw, two_threads, monkeypatch):
    """Outputs over the threshold go in one piece of columns a thread, the last one narrower
    (63 columns: pieces of 32 and 31; 720: 368 and 352); a batch goes an image a thread."""
    from engine.ops import _pointwise_conv

    monkeypatch.setattr(_pointwise_conv, "_POINTWISE_PARALLEL_VALUES", 1)
    monkeypatch.setattr(_parallel, "_THREAD_MIN_WORK", 0)
    rng = np.random.default_rng(sum(hw) + n)
    x = arrays(rng, (n, 6, *hw))
    w = arrays(rng, (4, 6, 1, 1))
    b = arrays(rng, (4,)) if bias else None
    got = F.conv2d(x, w, b)
    expected = ref_conv2d(x, w, b, (1, 1), (0, 0, 0, 0), (1, 1), 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    # a channel-strided input (not contiguous) takes the banded path and agrees
    np.testing.assert_allclose(F.conv2d(x[:, ::2], w[:, ::2], b),
                               ref_conv2d(x[:, ::2], w[:, ::2], b, (1, 1), (0, 0, 0, 0), (1, 1),
                                          1), rtol=0, atol=1e-4)
