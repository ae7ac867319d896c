"""conv2d against the plain-loop reference: every option, kernels, threads, bands."""

import contextlib
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import ops as F
from engine.ops import _conv, _parallel
from tests.engine.ops.reference import (
    SETTINGS,
    arrays,
    assert_close,
    batch,
    both_ways,
    pairs,
    ref_avg_pool,
    ref_conv2d,
    ref_max_pool,
    tiny_bands,
)


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["general", "depthwise", "single", "1x1"]))
    if kind == "depthwise":
        groups, c_out = c, c
    if kind == "single":
        groups, c, c_out = 1, 1, 1
    kh, kw = (1, 1) if kind == "1x1" else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(pairs)
    dilation = draw(st.sampled_from([1, 1, 2, (1, 2)]))
    padding = draw(st.sampled_from([0, 0, 1, 2, (0, 1), "valid", "same"]))
    if kind == "1x1" and draw(st.booleans()):
        padding = 0
    if padding == "same":
        stride = 1
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    s = (stride, stride) if isinstance(stride, int) else stride
    if padding == "same":
        th, tw = d[0] * (kh - 1), d[1] * (kw - 1)
        pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    elif padding == "valid":
        pads = (0, 0, 0, 0)
    else:
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        pads = (ph, ph, pw, pw)
    min_h = max(1, d[0] * (kh - 1) + 1 - pads[0] - pads[1])
    min_w = max(1, d[1] * (kw - 1) + 1 - pads[2] - pads[3])
    h = draw(st.integers(min_h, min_h + 7))
    w = draw(st.integers(min_w, min_w + 7))
    n = draw(st.integers(1, 2))
    return dict(
        n=n,
        c=c,
        h=h,
        w=w,
        c_out=c_out,
        groups=groups,
        k=(kh, kw),
        stride=stride,
        s=s,
        padding=padding,
        pads=pads,
        dilation=dilation,
        d=d,
        bias=draw(st.booleans()),
        batched=draw(st.booleans()),
        seed=draw(st.integers(0, 99)),
    )


@SETTINGS
@given(conv_cases())
def test_conv2d_matches_loop_reference(case):
    rng = np.random.default_rng(case["seed"])
    n = case["n"] if case["batched"] else 1
    x = arrays(rng, (n, case["c"], case["h"], case["w"]))
    w = arrays(rng, (case["c_out"], case["c"] // case["groups"], *case["k"]))
    b = arrays(rng, (case["c_out"],)) if case["bias"] else None
    expected = ref_conv2d(x, w, b, case["s"], case["pads"], case["d"], case["groups"])
    out = both_ways(
        lambda: F.conv2d(
            batch(x, case["batched"]),
            w,
            b,
            case["stride"],
            case["padding"],
            case["dilation"],
            case["groups"],
        )
    )
    assert_close(out, batch(expected, case["batched"]))


def _same_pads(k, d):
    th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
    return (th // 2, th - th // 2, tw // 2, tw - tw // 2)


@pytest.mark.parametrize(
    ("c", "c_out", "groups"),
    [(3, 4, 1), (4, 6, 2), (3, 3, 3), (1, 1, 1)],
    ids=["general", "grouped", "depthwise", "single"],
)
def test_conv2d_grid_of_kernels_strides_paddings_dilations(c, c_out, groups):
    rng = np.random.default_rng(c * 10 + c_out)
    x = arrays(rng, (2, c, 9, 10))
    b = arrays(rng, (c_out,))
    for k in [(3, 3), (2, 4), (1, 3), (1, 1)]:
        w = arrays(rng, (c_out, c // groups, *k))
        for stride in [1, (2, 1), 3]:
            for padding in [0, (1, 2), "same"]:
                for dilation in [1, (2, 1), (1, 2)]:
                    if padding == "same" and stride != 1:
                        continue
                    s = (stride, stride) if isinstance(stride, int) else stride
                    d = (dilation, dilation) if isinstance(dilation, int) else dilation
                    if padding == "same":
                        pads = _same_pads(k, d)
                    else:
                        ph, pw = (padding, padding) if isinstance(padding, int) else padding
                        pads = (ph, ph, pw, pw)
                    expected = ref_conv2d(x, w, b, s, pads, d, groups)
                    args = (x, w, b, stride, padding, dilation, groups)
                    got = both_ways(lambda args=args: F.conv2d(*args))
                    assert_close(got, expected)
                    assert_close(
                        F.conv2d(x[1], w, b, stride, padding, dilation, groups), expected[1]
                    )


def test_conv2d_separable_and_sparse_single_filters():
    rng = np.random.default_rng(1)
    x = arrays(rng, (1, 9, 11))
    gauss = np.outer([1, 2, 1], [1, 2, 1]).astype(np.float32)[None, None] / 16
    sparse = np.zeros((1, 1, 3, 3), np.float32)
    sparse[0, 0, 2, 0] = 2.0
    zeros = np.zeros((1, 1, 3, 3), np.float32)
    for w in (gauss, sparse, zeros):
        for stride, padding, dilation in ((1, 1, 1), (2, 0, 1), (1, 2, 2)):
            expected = ref_conv2d(
                x[None], w, None, (stride,) * 2, (padding,) * 4, (dilation,) * 2, 1
            )
            assert_close(F.conv2d(x, w, None, stride, padding, dilation), expected[0])


SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)


def quiet_ref_conv2d(x, w, stride=1, padding=0, dilation=1, groups=1):
    """The loop reference with inf * 0 and inf - inf giving NaN quietly, as the sum does."""
    pair = (stride, stride), (padding,) * 4, (dilation, dilation)
    with np.errstate(invalid="ignore", over="ignore"):
        return ref_conv2d(x, w, None, pair[0], pair[1], pair[2], groups).astype(np.float32)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_conv2d_single_filter_with_a_non_finite_weight(bad):
    # such a kernel is never split in two passes (the check for that must not warn: warnings
    # are errors here) and gives the plain sum: NaN stays NaN, inf * 0 (the padding) is NaN
    x = np.arange(1, 36, dtype=np.float32).reshape(1, 1, 5, 7)
    for where in [(1, 1), (0, 0), (2, 1)]:
        for w in (np.ones((1, 1, 3, 3), np.float32), SOBEL_X[None, None].copy()):
            w[0, 0][where] = bad
            for stride, padding, dilation in ((1, 0, 1), (1, 1, 1), (2, 2, 2)):
                expected = quiet_ref_conv2d(x, w, stride, padding, dilation)
                got = both_ways(lambda w=w, s=stride, p=padding, d=dilation:
                                F.conv2d(x[0], w, None, s, p, d)[None])  # fmt: skip
                np.testing.assert_array_equal(got, expected)
    all_nan = np.full((1, 1, 3, 3), np.nan, np.float32)
    np.testing.assert_array_equal(F.conv2d(x[0], all_nan), np.full((1, 3, 5), np.nan))


def test_conv2d_zero_taps_still_propagate_nan_and_inf_like_the_sum():
    # g = sum w * f: a NaN pixel under a zero weight still gives NaN (0 * NaN), as in PyTorch
    x = np.ones((1, 5, 5), np.float32)
    x[0, 2, 2] = np.nan  # inside every 3x3 window of the 5x5 input
    sparse = np.zeros((1, 1, 3, 3), np.float32)
    sparse[0, 0, 0, 0] = 1.0
    for w in (sparse, np.zeros((1, 1, 3, 3), np.float32), SOBEL_X[None, None]):
        assert np.isnan(F.conv2d(x, w)).all()
    rng = np.random.default_rng(7)
    img = arrays(rng, (2, 9, 11))
    img[0, 4, 5], img[1, 0, 3], img[1, 6, 0] = np.nan, np.inf, -np.inf
    depthwise = np.stack([SOBEL_X, SOBEL_X.T])[:, None]  # (2, 1, 3, 3): column 1 zero in both
    cases = [(img[:1], SOBEL_X[None, None]), (img[1:], SOBEL_X.T[None, None]),
             (img[:1], sparse), (img, depthwise)]  # fmt: skip
    for x, w in cases:
        for stride, padding, dilation in ((1, 1, 1), (2, 0, 1), (1, 2, 2)):
            expected = quiet_ref_conv2d(x[None], w, stride, padding, dilation, len(x))[0]
            finite = np.isfinite(expected)
            assert not finite.all()
            for bands in (contextlib.nullcontext, tiny_bands):
                with bands():
                    got = F.conv2d(x, w, None, stride, padding, dilation, len(x))
                np.testing.assert_array_equal(got[~finite], expected[~finite])  # NaN, +-inf
                assert_close(np.where(finite, got, 0), np.where(finite, expected, 0))
    # the same finite image still takes the shortcut and agrees
    clean = np.nan_to_num(img[:1], posinf=0, neginf=0, nan=0)
    assert_close(F.conv2d(clean, SOBEL_X[None, None], padding=1),
                 quiet_ref_conv2d(clean[None], SOBEL_X[None, None], 1, 1)[0])  # fmt: skip


@pytest.mark.parametrize("c", [4, 5, 8])
def test_conv2d_small_map_split_by_input_channels(monkeypatch, c):
    # A map that fits one band is split by input channels between the threads, whose partial
    # outputs are summed: that path runs only when the work is big enough for threads.
    monkeypatch.setattr(_parallel, "_THREAD_MIN_WORK", 0)
    before = F.get_num_threads()
    F.set_num_threads(2)  # a one-core machine would otherwise never split
    try:
        assert len(_conv._in_parts(1, c, 1.0)) == 2  # the split this test is about
        rng = np.random.default_rng(c)
        x = arrays(rng, (1, c, 5, 5))
        for k, stride, padding, dilation, groups, with_bias in [
            ((3, 3), 1, 0, 1, 1, False),
            ((3, 3), 1, 1, 1, 1, True),
            ((3, 2), (2, 1), (1, 2), 1, 1, True),
            ((2, 3), 1, 2, (2, 1), 1, False),
            ((3, 3), 2, 1, 1, 1, True),
            ((3, 3), 1, 1, 1, 2 if c % 2 == 0 else 1, True),
        ]:
            w = arrays(rng, (3 * groups if groups > 1 else 3, c // groups, *k))
            b = arrays(rng, (w.shape[0],)) if with_bias else None
            s = (stride,) * 2 if isinstance(stride, int) else stride
            p = (padding,) * 4 if isinstance(padding, int) else (*padding[:1] * 2, *padding[1:] * 2)
            d = (dilation,) * 2 if isinstance(dilation, int) else dilation
            expected = ref_conv2d(x, w, b, s, p, d, groups)
            assert_close(F.conv2d(x, w, b, stride, padding, dilation, groups), expected)
            assert_close(F.conv2d(x[0], w, b, stride, padding, dilation, groups), expected[0])
    finally:
        F.set_num_threads(before)


def test_conv2d_lecture_sizes():
    x = np.arange(49, dtype=np.float32).reshape(1, 7, 7)
    w = np.ones((1, 1, 3, 3), np.float32)
    assert F.conv2d(x, w).shape == (1, 5, 5)
    assert F.conv2d(x, w, stride=2).shape == (1, 3, 3)
    assert F.conv2d(x, w, padding=1).shape == (1, 7, 7)
    assert F.conv2d(x, w, padding="same").shape == (1, 7, 7)
    # stride 3 does not fit: (7 - 3)/3 + 1 = 2.33, floored to 2 like PyTorch
    assert F.conv2d(x, w, stride=3).shape == (1, 2, 2)
    # 32x32x3 with ten 5x5 filters, pad 2 -> 32x32x10
    assert F.conv2d(np.zeros((3, 32, 32)), np.zeros((10, 3, 5, 5)), padding=2).shape == (10, 32, 32)


def test_conv2d_sobel_x_on_a_ramp():
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)[None, None]
    ramp = np.tile(np.arange(7, dtype=np.float32), (7, 1))[None]  # brightness grows to the right
    np.testing.assert_allclose(F.conv2d(ramp, sobel_x), np.full((1, 5, 5), 8.0), atol=1e-5)
    # the same ramp turned on its side has no horizontal change
    np.testing.assert_allclose(F.conv2d(ramp.transpose(0, 2, 1), sobel_x), 0.0, atol=1e-5)
    padded = F.conv2d(ramp, sobel_x, padding=1)[0]
    assert padded[3, 0] == pytest.approx(4.0)  # zero padding: 1 - 0 on the left edge, times 4
    assert padded[3, 6] == pytest.approx(-4 * 5.0)  # right edge: 0 - 5, times 4
    big = np.tile(np.arange(640, dtype=np.float32), (480, 1))[None]  # a 480x640 gray ramp
    np.testing.assert_allclose(F.conv2d(big, sobel_x), 8.0, rtol=1e-5)


def test_conv2d_large_threaded_matches_reference_at_sampled_points():
    rng = np.random.default_rng(2)
    cases = [
        ((2, 6, 70, 90), (8, 6, 3, 3), 1, 1, 1, 1),  # im2col, several bands, two images
        ((6, 60, 64), (12, 3, 3, 3), 2, 1, 1, 2),  # grouped and strided
        ((8, 80, 96), (8, 1, 5, 5), 1, 2, 2, 8),  # depthwise, dilated
        ((1, 200, 260), (1, 1, 3, 3), 1, 1, 1, 1),  # single filter
        ((16, 100, 120), (8, 16, 1, 1), 1, 0, 1, 1),  # 1x1
    ]
    for xs, ws, stride, padding, dilation, groups in cases:
        x, w, b = arrays(rng, xs), arrays(rng, ws), arrays(rng, ws[:1])
        out = F.conv2d(x, w, b, stride, padding, dilation, groups)
        x4 = x if x.ndim == 4 else x[None]
        out4 = out if out.ndim == 4 else out[None]
        n, _, ho, wo = out4.shape
        positions = [(0, 0, 0), (n - 1, ho - 1, wo - 1)] + [
            (rng.integers(n), rng.integers(ho), rng.integers(wo)) for _ in range(30)
        ]
        expected = ref_conv2d(
            x4, w, b, (stride,) * 2, (padding,) * 4, (dilation,) * 2, groups, positions
        )
        for i, oy, ox in positions:
            assert_close(out4[i, :, oy, ox], expected[i, :, oy, ox])
        before = F.get_num_threads()
        F.set_num_threads(1)
        try:
            single = F.conv2d(x, w, b, stride, padding, dilation, groups)
        finally:
            F.set_num_threads(before)
        np.testing.assert_allclose(out, single, rtol=0, atol=1e-5 * np.abs(single).max())


def test_conv2d_reused_buffers_do_not_leak_between_calls():
    rng = np.random.default_rng(3)
    w = arrays(rng, (4, 3, 3, 3))
    x1, x2 = arrays(rng, (3, 9, 9)), arrays(rng, (3, 9, 9)) + 5
    y1 = F.conv2d(x1, w, padding=1)
    y2 = F.conv2d(x2, w, padding=1)
    pooled = F.max_pool2d(-np.abs(x1) - 1, 3, 1, 1)  # padded with -inf in a buffer of its own
    averaged = F.avg_pool2d(x1, 3, 1, 1)  # padded with zeros
    assert_close(y1, ref_conv2d(x1[None], w, None, (1, 1), (1,) * 4, (1, 1), 1)[0])
    assert_close(y2, ref_conv2d(x2[None], w, None, (1, 1), (1,) * 4, (1, 1), 1)[0])
    assert_close(
        pooled, ref_max_pool((-np.abs(x1) - 1)[None], (3, 3), (1, 1), (1, 1), (1, 1), False)[0]
    )
    assert_close(averaged, ref_avg_pool(x1[None], (3, 3), (1, 1), (1, 1), False, True)[0])
    assert not np.shares_memory(y1, y2)


def test_conv2d_from_two_threads_at_once():
    rng = np.random.default_rng(4)
    w = arrays(rng, (8, 3, 3, 3))
    inputs = [arrays(rng, (3, 64, 80)) for _ in range(2)]
    expected = [F.conv2d(x, w, padding=1) for x in inputs]
    failures = []

    def worker(k):
        for _ in range(15):
            got = F.conv2d(inputs[k], w, padding=1)
            if not np.allclose(got, expected[k], rtol=1e-5, atol=1e-5):
                failures.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_ops_accept_strided_and_transposed_views():
    rng = np.random.default_rng(11)
    base = arrays(rng, (4, 14, 18))
    views = [base[:, ::2, 1::2], base.transpose(0, 2, 1), base[::-1]]
    for x in views:
        dense = np.ascontiguousarray(x)
        for w, kw in [
            (arrays(rng, (5, 4, 3, 3)), {"padding": 1}),
            (arrays(rng, (3, 4, 1, 1)), {}),
            (arrays(rng, (3, 4, 1, 1)), {"stride": 2}),
            (arrays(rng, (4, 1, 3, 3)), {"groups": 4}),
        ]:
            expected = ref_conv2d(
                dense[None],
                w,
                None,
                (kw.get("stride", 1),) * 2,
                (kw.get("padding", 0),) * 4,
                (1, 1),
                kw.get("groups", 1),
            )
            assert_close(F.conv2d(x, w, **kw), expected[0])
        assert_close(
            F.max_pool2d(x, 2), ref_max_pool(dense[None], (2, 2), (2, 2), (0, 0), (1, 1), False)[0]
        )
        assert_close(F.relu(x), np.maximum(dense, 0).astype(float))


def test_conv2d_accepts_other_dtypes_and_leaves_input_alone():
    x = np.arange(2 * 5 * 5).reshape(2, 5, 5)  # int64
    before = x.copy()
    y = F.conv2d(x, np.ones((1, 2, 3, 3)), [0.5])
    assert y.dtype == np.float32
    assert_close(
        y,
        ref_conv2d(
            x[None].astype(float), np.ones((1, 2, 3, 3)), [0.5], (1, 1), (0,) * 4, (1, 1), 1
        )[0],
    )
    np.testing.assert_array_equal(x, before)
