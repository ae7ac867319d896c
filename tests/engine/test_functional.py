"""engine.ops against plain-loop references written here, independent of the engine.

The references loop over output positions in float64 and know nothing of im2col, bands,
threads or cached buffers. PyTorch comparisons live in benchmarks/engine.py (torch is a
benchmark extra only).
"""

import contextlib
import math
import threading

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine import ops as F
from engine.ops import _conv, _parallel, _pool

SETTINGS = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------- references


def ref_conv2d(x, w, b, stride, pads, dilation, groups, positions=None):
    """x (N, C, H, W); pads (top, bottom, left, right); loops over every output value.

    With ``positions`` (a list of (image, row, column)) only those outputs are computed; the
    others stay NaN.
    """
    n, c, h, wd = x.shape
    c_out, c_in_g, kh, kw = w.shape
    top, bottom, left, right = pads
    xp = np.zeros((n, c, h + top + bottom, wd + left + right))
    xp[:, :, top : top + h, left : left + wd] = x
    (sh, sw), (dh, dw) = stride, dilation
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.full((n, c_out, ho, wo), np.nan)
    if positions is None:
        positions = [(i, oy, ox) for i in range(n) for oy in range(ho) for ox in range(wo)]
    per_group = c_out // groups
    for i, oy, ox in positions:
        for f in range(c_out):
            g = f // per_group
            total = 0.0 if b is None else float(b[f])
            for ci in range(c_in_g):
                for s in range(kh):
                    for t in range(kw):
                        total += (
                            w[f, ci, s, t]
                            * xp[i, g * c_in_g + ci, oy * sh + s * dh, ox * sw + t * dw]
                        )
            y[i, f, oy, ox] = total
    return y


def ref_pool_windows(n, k, s, p, d, ceil_mode):
    """Start (in input coordinates, may be negative) of every pooling window along one axis."""
    span = n + 2 * p - (d * (k - 1) + 1)  # room left for the window to slide
    count = span // s + 1  # windows that fit whole
    # ceil_mode adds one more, partial window, unless it would start in the right padding
    if ceil_mode and span % s and count * s < n + p:
        count += 1
    return [j * s - p for j in range(count)]


def ref_max_pool(x, k, s, p, d, ceil_mode):
    rows = ref_pool_windows(x.shape[2], k[0], s[0], p[0], d[0], ceil_mode)
    cols = ref_pool_windows(x.shape[3], k[1], s[1], p[1], d[1], ceil_mode)
    y = np.full((*x.shape[:2], len(rows), len(cols)), -np.inf)
    for a, r in enumerate(rows):
        for bb, c in enumerate(cols):
            for s_ in range(k[0]):
                for t in range(k[1]):
                    yy, xx = r + s_ * d[0], c + t * d[1]
                    if 0 <= yy < x.shape[2] and 0 <= xx < x.shape[3]:
                        y[:, :, a, bb] = np.maximum(y[:, :, a, bb], x[:, :, yy, xx])
    return y


def ref_avg_pool(x, k, s, p, ceil_mode, count_include_pad):
    h, w = x.shape[2:]
    rows = ref_pool_windows(h, k[0], s[0], p[0], 1, ceil_mode)
    cols = ref_pool_windows(w, k[1], s[1], p[1], 1, ceil_mode)
    y = np.zeros((*x.shape[:2], len(rows), len(cols)))
    for a, r in enumerate(rows):
        for bb, c in enumerate(cols):
            total, real, padded = 0.0, 0, 0
            for yy in range(r, r + k[0]):
                for xx in range(c, c + k[1]):
                    if 0 <= yy < h and 0 <= xx < w:
                        total = total + x[:, :, yy, xx]
                        real += 1
                    if -p[0] <= yy < h + p[0] and -p[1] <= xx < w + p[1]:
                        padded += 1  # cells of the zero padding count, cells beyond it do not
            divisor = padded if count_include_pad else real
            y[:, :, a, bb] = total / divisor if real else 0.0
    return y


def batch(x, batched):
    return x if batched else x[0]


def assert_close(actual, expected, tol=1e-4):
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol * scale)


def arrays(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


@contextlib.contextmanager
def tiny_bands():
    """Make every op split its output into one-row bands shared by the threads.

    Small test inputs otherwise fit in one band and never reach the band edges or the thread
    pool; this white-box switch runs them through both.
    """
    knobs = [
        (module, name)
        for module in (_conv, _pool)
        for name in vars(module)
        if name.endswith(("_BAND", "_BAND_BYTES"))
    ]
    assert len(knobs) >= 4, knobs  # the band knobs this switch relies on still exist
    knobs.append((_parallel, "_THREAD_MIN_WORK"))
    saved = [getattr(module, name) for module, name in knobs]
    for module, name in knobs:
        setattr(module, name, 0 if name == "_THREAD_MIN_WORK" else 1)
    try:
        yield
    finally:
        for (module, name), value in zip(knobs, saved, strict=True):
            setattr(module, name, value)


def both_ways(call):
    """The op's result with the normal bands, after checking the one-row bands agree."""
    normal = call()
    with tiny_bands():
        banded = call()
    np.testing.assert_allclose(
        banded, normal, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(normal).max())
    )
    return normal


pairs = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))


# ---------------------------------------------------------------- conv2d


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


# ---------------------------------------------------------------- pooling


@st.composite
def pool_cases(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), pairs))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = draw(st.sampled_from([(1, 1), (2, 2), (1, 2)]))
    ceil_mode = draw(st.booleans())
    h = draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 11))
    w = draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 11))
    return dict(
        k=k,
        stride=stride,
        s=k if stride is None else (stride, stride) if isinstance(stride, int) else stride,
        p=p,
        d=d,
        ceil_mode=ceil_mode,
        shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w),
        batched=draw(st.booleans()),
        include=draw(st.booleans()),
        seed=draw(st.integers(0, 99)),
    )


@SETTINGS
@given(pool_cases())
def test_max_pool2d_matches_loop_reference(case):
    x = arrays(np.random.default_rng(case["seed"]), case["shape"])
    if not case["batched"]:
        x = x[:1]
    expected = ref_max_pool(x, case["k"], case["s"], case["p"], case["d"], case["ceil_mode"])
    xb = batch(x, case["batched"])
    out = both_ways(
        lambda: F.max_pool2d(xb, case["k"], case["stride"], case["p"], case["d"], case["ceil_mode"])
    )
    assert_close(out, batch(expected, case["batched"]))


@SETTINGS
@given(pool_cases())
def test_avg_pool2d_matches_loop_reference(case):
    x = arrays(np.random.default_rng(case["seed"]), case["shape"])
    if not case["batched"]:
        x = x[:1]
    h, w = case["shape"][2:]
    if case["k"][0] > h + 2 * case["p"][0] or case["k"][1] > w + 2 * case["p"][1]:
        return  # the drawn size was for a dilated kernel; avg_pool2d has no dilation
    expected = ref_avg_pool(x, case["k"], case["s"], case["p"], case["ceil_mode"], case["include"])
    xb = batch(x, case["batched"])
    out = both_ways(
        lambda: F.avg_pool2d(
            xb, case["k"], case["stride"], case["p"], case["ceil_mode"], case["include"]
        )
    )
    assert_close(out, batch(expected, case["batched"]))


def test_max_pool2d_lecture_example():
    x = np.array([[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]], np.float32)
    out = F.max_pool2d(x, 2, 2)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[[6, 8], [3, 4]]])


def test_pools_large_threaded():
    rng = np.random.default_rng(5)
    x = arrays(rng, (16, 120, 160))
    np.testing.assert_array_equal(F.max_pool2d(x, 2), x.reshape(16, 60, 2, 80, 2).max(axis=(2, 4)))
    assert_close(F.avg_pool2d(x, 2), x.reshape(16, 60, 2, 80, 2).astype(float).mean(axis=(2, 4)))
    got = F.max_pool2d(x, 3, 2, 1, ceil_mode=True)
    assert_close(got, ref_max_pool(x[None], (3, 3), (2, 2), (1, 1), (1, 1), True)[0])


def test_avg_pool2d_ceil_mode_divisors_like_pytorch():
    x = np.ones((1, 5, 5), np.float32)
    # windows of 2 at stride 2 over 5: the last one covers one real cell and nothing else
    np.testing.assert_allclose(F.avg_pool2d(x, 2, ceil_mode=True)[0, -1], [1, 1, 1])
    # with padding counted, a border window of 3 with pad 1 covers 4 real cells of 9
    assert F.avg_pool2d(x, 3, 2, 1)[0, 0, 0] == pytest.approx(4 / 9)
    assert F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)[0, 0, 0] == pytest.approx(1.0)


@SETTINGS
@given(
    st.integers(1, 2),
    st.integers(1, 4),
    st.integers(1, 7),
    st.integers(1, 7),
    st.booleans(),
    st.integers(0, 99),
)
def test_global_avg_pool2d_matches_loop(n, c, h, w, batched, seed):
    x = arrays(np.random.default_rng(seed), (n, c, h, w)) * 10
    expected = np.zeros((n, c, 1, 1))
    for i in range(n):
        for ch in range(c):
            total = 0.0
            for yy in range(h):
                for xx in range(w):
                    total += float(x[i, ch, yy, xx])
            expected[i, ch, 0, 0] = total / (h * w)
    assert_close(F.global_avg_pool2d(batch(x, batched)), batch(expected, batched))


# ---------------------------------------------------------------- element-wise and the rest


@SETTINGS
@given(
    st.lists(st.floats(-200, 200, width=32), min_size=1, max_size=20),
    st.floats(-1, 1),
    st.floats(-3, 0),
    st.floats(0, 3),
)
def test_elementwise_ops_match_math(values, slope, lo, hi):
    x = np.array(values, np.float32)
    assert_close(F.relu(x), np.array([max(v, 0.0) for v in values]))
    assert_close(
        F.leaky_relu(x, slope), np.array([v if v > 0 else v * np.float32(slope) for v in values])
    )
    assert_close(
        F.sigmoid(x),
        np.array([1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in x.astype(float)]),
        tol=1e-6,
    )
    assert_close(F.tanh(x), np.array([math.tanh(v) for v in x.astype(float)]), tol=1e-6)
    assert_close(F.hardtanh(x, lo, hi), np.array([min(max(v, lo), hi) for v in x.astype(float)]))


def each(x, fn):
    """``fn`` applied to every value of ``x`` in a plain loop, in float64."""
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = fn(float(x[idx]))
    return out


@SETTINGS
@given(
    st.one_of(
        st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6)),  # (C, H, W)
        st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 6), st.integers(1, 6)),
    ),
    st.sampled_from([1.0, 10.0, 100.0]),
    st.integers(0, 99),
    st.floats(-3, 3),
    st.floats(-3, 0),
    st.floats(0, 3),
)
def test_elementwise_ops_on_image_shapes(shape, spread, seed, slope, lo, hi):
    x = arrays(np.random.default_rng(seed), shape) * np.float32(spread)
    s32 = float(np.float32(slope))
    assert_close(F.relu(x), each(x, lambda v: max(v, 0.0)))
    assert_close(F.leaky_relu(x, slope), each(x, lambda v: v if v > 0 else v * s32))
    assert_close(
        F.sigmoid(x), each(x, lambda v: 1 / (1 + math.exp(-v)) if v > -700 else 0.0), tol=1e-6
    )
    assert_close(F.tanh(x), each(x, math.tanh), tol=1e-6)
    assert_close(F.hardtanh(x, lo, hi), each(x, lambda v: min(max(v, lo), hi)))


def test_clamping_ops_on_arrays_longer_than_their_constant_vectors():
    x = arrays(np.random.default_rng(12), (3, 211, 173))  # 109,509 values: chunks and a tail
    expected_relu = np.where(x > 0, x, 0).astype(float)
    assert_close(F.relu(x), expected_relu)
    assert_close(F.relu(x.transpose(2, 0, 1)), expected_relu.transpose(2, 0, 1))
    assert_close(F.hardtanh(x, -0.5, 0.25), np.where(x < -0.5, -0.5, np.where(x > 0.25, 0.25, x)))
    assert_close(F.leaky_relu(x, 0.2), np.where(x > 0, x, 0.2 * x).astype(float))
    assert_close(F.leaky_relu(x, -2.0), np.where(x > 0, x, -2.0 * x).astype(float))


def test_sigmoid_extremes_do_not_overflow():
    out = F.sigmoid(np.array([-1e4, -90, 0, 90, 1e4], np.float32))  # warnings are errors
    np.testing.assert_allclose(out, [0, 0, 0.5, 1, 1], atol=1e-30)
    assert out.dtype == np.float32


@SETTINGS
@given(st.integers(1, 4), st.integers(0, 99), st.data())
def test_softmax_matches_loop(ndim, seed, data):
    shape = tuple(np.random.default_rng(seed).integers(1, 5, ndim))
    x = arrays(np.random.default_rng(seed), shape) * 30
    dim = data.draw(st.integers(-ndim, ndim - 1))
    expected = np.zeros(shape)
    moved = np.moveaxis(x.astype(float), dim, -1)
    out_moved = np.moveaxis(expected, dim, -1)  # a view: writing it fills `expected`
    for idx in np.ndindex(moved.shape[:-1]):
        top = max(moved[idx])
        exps = [math.exp(v - top) for v in moved[idx]]
        out_moved[idx] = [e / sum(exps) for e in exps]
    assert_close(F.softmax(x, dim), expected, tol=1e-6)


def channel_of(ndim):
    """The channel axis of a 1-D to 4-D input: 0 unbatched ((C,) and (C, H, W)), else 1."""
    return 0 if ndim in (1, 3) else 1


@SETTINGS
@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=4),
    st.booleans(),
    st.booleans(),
    st.sampled_from([1e-5, 1e-3, 0.1]),
    st.integers(0, 99),
)
def test_batch_norm_matches_loop(dims, with_weight, with_bias, eps, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(dims)  # (C,), (N, C), (C, H, W) or (N, C, H, W)
    axis = channel_of(len(shape))
    c = shape[axis]
    x = arrays(rng, shape) * 3
    mean, var = arrays(rng, c), np.abs(arrays(rng, c)) + 0.1
    gamma = arrays(rng, c) if with_weight else None
    beta = arrays(rng, c) if with_bias else None
    expected = np.zeros(shape)
    for idx in np.ndindex(shape):
        ch = idx[axis]
        v = (float(x[idx]) - float(mean[ch])) / math.sqrt(float(var[ch]) + eps)
        if gamma is not None:
            v *= float(gamma[ch])
        if beta is not None:
            v += float(beta[ch])
        expected[idx] = v
    assert_close(F.batch_norm(x, mean, var, gamma, beta, eps), expected)


@SETTINGS
@given(
    st.lists(st.integers(1, 3), max_size=3),
    st.integers(1, 6),
    st.integers(1, 5),
    st.booleans(),
    st.integers(0, 99),
)
def test_linear_matches_loop(lead, n_in, n_out, with_bias, seed):
    rng = np.random.default_rng(seed)
    x, w = arrays(rng, (*lead, n_in)), arrays(rng, (n_out, n_in))  # no lead dims: one vector
    b = arrays(rng, n_out) if with_bias else None
    expected = np.zeros((*lead, n_out))
    for idx in np.ndindex(*lead):
        for o in range(n_out):
            total = 0.0 if b is None else float(b[o])
            for i in range(n_in):
                total += float(x[(*idx, i)]) * float(w[o, i])
            expected[(*idx, o)] = total
    assert_close(both_ways(lambda: F.linear(x, w, b)), expected)


@SETTINGS
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(0, 99), st.data())
def test_flatten_matches_index_arithmetic(dims, seed, data):
    ndim = len(dims)
    start = data.draw(st.integers(-ndim, ndim - 1), label="start_dim")
    end = data.draw(st.integers(-ndim, ndim - 1), label="end_dim")
    s, e = start % ndim, end % ndim
    x = arrays(np.random.default_rng(seed), tuple(dims))
    if s > e:
        message = rf"^flatten: start_dim {start} comes after end_dim {end}$"
        with pytest.raises(ValueError, match=message):
            F.flatten(x, start, end)
        return
    merged = 1
    for d in dims[s : e + 1]:
        merged *= d
    out = F.flatten(x, start, end)
    assert out.dtype == np.float32
    assert out.shape == (*dims[:s], merged, *dims[e + 1 :])
    for idx in np.ndindex(*dims):
        flat = 0
        for d in range(s, e + 1):  # row-major position inside the merged dims
            flat = flat * dims[d] + idx[d]
        assert out[(*idx[:s], flat, *idx[e + 1 :])] == x[idx]


def test_flatten_defaults_and_edges():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert F.flatten(x).shape == (24,)
    assert F.flatten(x, 1).shape == (2, 12)
    assert F.flatten(x, 1, 1).shape == (2, 3, 4)
    assert F.flatten(np.float32(3)).shape == (1,)
    np.testing.assert_array_equal(F.flatten(x, 1)[1], np.arange(12, 24))


amount = st.integers(-2, 3)


@SETTINGS
@given(
    st.lists(st.integers(1, 3), max_size=2),
    st.integers(1, 5),
    st.integers(1, 5),
    st.one_of(amount, st.tuples(amount, amount), st.tuples(amount, amount, amount, amount)),
    st.floats(-5, 5, width=32),
    st.integers(0, 99),
)
def test_pad_matches_loop(lead, h, w, amounts, value, seed):
    if isinstance(amounts, int):
        left = right = top = bottom = amounts
    else:
        left, right, top, bottom = (*amounts, 0, 0)[:4]
    # crops must leave part of the input: cropping more than there is is a separate case
    assume(h + min(top, 0) + min(bottom, 0) >= 1 and w + min(left, 0) + min(right, 0) >= 1)
    x = arrays(np.random.default_rng(seed), (*lead, h, w))
    new_h, new_w = h + top + bottom, w + left + right
    expected = np.full((*lead, new_h, new_w), float(value))
    for yy in range(new_h):
        for xx in range(new_w):
            sy, sx = yy - top, xx - left
            if 0 <= sy < h and 0 <= sx < w:
                expected[..., yy, xx] = x[..., sy, sx]
    assert_close(F.pad(x, amounts, value), expected)


@SETTINGS
@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=4),
    st.integers(1, 6),
    st.sampled_from([1e-4, 1e-2, 0.5, 1.0]),
    st.sampled_from([0.5, 0.75, 1.0]),
    st.sampled_from([1.0, 2.0]),
    st.integers(0, 99),
)
def test_local_response_norm_matches_loop(dims, size, alpha, beta, k, seed):
    shape = tuple(dims)  # (C,), (N, C), (C, H, W) or (N, C, H, W)
    axis = channel_of(len(shape))
    x = arrays(np.random.default_rng(seed), shape) * 4
    expected = np.zeros(shape)
    for idx in np.ndindex(shape):
        c = idx[axis]
        sq = 0.0
        for cc in range(c - size // 2, c + (size - 1) // 2 + 1):  # zeros beyond the ends
            if 0 <= cc < shape[axis]:
                sq += float(x[(*idx[:axis], cc, *idx[axis + 1 :])]) ** 2
        expected[idx] = float(x[idx]) / (k + alpha / size * sq) ** beta
    assert_close(F.local_response_norm(x, size, alpha, beta, k), expected)


# ---------------------------------------------------------------- bad arguments

x3 = np.zeros((3, 8, 8), np.float32)
w3 = np.zeros((2, 3, 3, 3), np.float32)

BAD = [
    (
        lambda: F.conv2d(np.zeros((3, 3, 3)), np.zeros((1, 3, 5, 5))),
        "conv2d: kernel 5x5 is larger than the padded input 3x3",
    ),
    (lambda: F.conv2d(np.zeros((4, 8, 8)), w3), "conv2d: input has 4 channels, weight expects 3"),
    (
        lambda: F.conv2d(np.zeros((4, 8, 8)), np.zeros((3, 1, 3, 3)), groups=3),
        "conv2d: groups 3 does not divide the 4 input channels",
    ),
    (
        lambda: F.conv2d(np.zeros((4, 8, 8)), np.zeros((3, 2, 3, 3)), groups=2),
        "conv2d: groups 2 does not divide the 3 output channels",
    ),
    (
        lambda: F.conv2d(np.zeros((4, 8, 8)), np.zeros((4, 1, 3, 3)), groups=2),
        r"conv2d: input has 4 channels, weight expects 2 \(1 per group x 2 groups\)",
    ),
    (
        lambda: F.conv2d(np.zeros((8, 8)), w3),
        r"conv2d: input must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got 2-D",
    ),
    (lambda: F.conv2d(x3, np.zeros((3, 3, 3))), "conv2d: weight must be 4-D"),
    (lambda: F.conv2d(x3, w3, stride=0), "conv2d: stride must be positive, got 0"),
    (lambda: F.conv2d(x3, w3, stride=(1, -2)), "conv2d: stride must be positive, got 1x-2"),
    (lambda: F.conv2d(x3, w3, stride=1.5), r"conv2d: stride must be an int or a pair \(h, w\)"),
    (lambda: F.conv2d(x3, w3, dilation=0), "conv2d: dilation must be positive, got 0"),
    (lambda: F.conv2d(x3, w3, padding=-1), "conv2d: padding must be zero or more, got -1"),
    (
        lambda: F.conv2d(x3, w3, padding="full"),
        "conv2d: padding 'full' is not 'valid', 'same' or a number",
    ),
    (
        lambda: F.conv2d(x3, w3, stride=2, padding="same"),
        "conv2d: padding 'same' needs stride 1, got 2",
    ),
    (
        lambda: F.conv2d(x3, w3, np.zeros(3)),
        r"conv2d: bias has shape \(3,\), expected 2 values \(one per filter\)",
    ),
    (lambda: F.conv2d(x3, w3, groups=0), "conv2d: groups must be a positive int, got 0"),
    (
        lambda: F.conv2d(np.zeros((3, 5, 5)), w3, dilation=3),
        "conv2d: kernel 3x3 with dilation 3 spans 7x7, so it is larger than the padded input 5x5",
    ),
    (lambda: F.conv2d("image", w3), "conv2d: input must be an array of real numbers, got str"),
    (lambda: F.conv2d(x3 + 1j, w3), "conv2d: input must be an array of real numbers"),
    (lambda: F.conv2d(np.zeros((3, 0, 8)), w3), r"conv2d: input shape \(3, 0, 8\) has an empty"),
    (
        lambda: F.max_pool2d(x3, 3, padding=2),
        "max_pool2d: padding 2 is more than half the kernel 3",
    ),
    (
        lambda: F.max_pool2d(np.zeros((1, 2, 2)), 3),
        "max_pool2d: kernel 3x3 is larger than the padded input 2x2",
    ),
    (
        lambda: F.max_pool2d(np.zeros((1, 4, 4)), 3, dilation=2),
        "max_pool2d: kernel 3x3 with dilation 2 spans 5x5, so it is larger than the padded input",
    ),
    (lambda: F.max_pool2d(x3, 0), "max_pool2d: kernel_size must be positive, got 0"),
    (lambda: F.max_pool2d(x3, 2, stride=0), "max_pool2d: stride must be positive, got 0"),
    (lambda: F.max_pool2d(x3, 2, ceil_mode="yes"), "max_pool2d: ceil_mode must be True or False"),
    (lambda: F.max_pool2d(np.zeros(5), 2), "max_pool2d: input must be 3-D"),
    (
        lambda: F.avg_pool2d(x3, 2, padding=(0, 2)),
        "avg_pool2d: padding 2 is more than half the kernel 2",
    ),
    (lambda: F.avg_pool2d(x3, 9), "avg_pool2d: kernel 9x9 is larger than the padded input 8x8"),
    (
        lambda: F.avg_pool2d(x3, 2, count_include_pad=None),
        "avg_pool2d: count_include_pad must be True or False",
    ),
    (lambda: F.global_avg_pool2d(np.zeros((3, 3))), "global_avg_pool2d: input must be 3-D"),
    (
        lambda: F.softmax(np.zeros((2, 3)), dim=2),
        r"softmax: dim 2 is out of range for a 2-D input \(allowed: -2 to 1\)",
    ),
    (lambda: F.softmax(np.float32(1)), "softmax: input must have at least 1 dimension"),
    (lambda: F.hardtanh(x3, 2, 1), "hardtanh: min_val 2 is greater than max_val 1"),
    (lambda: F.leaky_relu(x3, "0.1"), "leaky_relu: negative_slope must be a real number"),
    (lambda: F.relu([1, "a"]), "relu: input must be an array of real numbers"),
    (
        lambda: F.batch_norm(x3, np.zeros(4), np.ones(3)),
        r"batch_norm: running_mean has shape \(4,\), expected 3 values \(one per channel\)",
    ),
    (
        lambda: F.batch_norm(x3, np.zeros(3), -np.ones(3)),
        "batch_norm: running_var \\+ eps must be positive",
    ),
    (
        lambda: F.batch_norm(np.zeros((1, 1, 1, 1, 1)), np.zeros(1), np.ones(1)),
        "batch_norm: input must be 1-D to 4-D, got 5-D",
    ),
    (
        lambda: F.linear(np.zeros(5), np.zeros((2, 4))),
        "linear: input has 5 features, weight expects 4",
    ),
    (lambda: F.linear(np.zeros(5), np.zeros(5)), "linear: weight must be 2-D"),
    (
        lambda: F.linear(np.zeros(4), np.zeros((2, 4)), np.zeros(3)),
        r"linear: bias has shape \(3,\), expected 2 values",
    ),
    (lambda: F.flatten(x3, 2, 1), "flatten: start_dim 2 comes after end_dim 1"),
    (lambda: F.flatten(x3, 3), "flatten: start_dim 3 is out of range for a 3-D input"),
    (lambda: F.pad(x3, (1, 2, 3)), "pad: padding must be an int or"),
    (lambda: F.pad(x3, (-4, -4, 0, 0)), "pad: padding .* leaves nothing of the 8x8 input"),
    (lambda: F.pad(np.zeros(3), 1), "pad: input must have at least 2 dimensions"),
    # cropping more than the input has (PyTorch: "narrow(): length must be non-negative")
    (
        lambda: F.pad(np.ones((1, 2)), (0, 0, -2, 3), 7.0),
        r"pad: padding \(0, 0, -2, 3\) crops 2 of the 1 rows, which leaves nothing of the 1x2",
    ),
    (
        lambda: F.pad(np.ones((1, 2)), (-3, 4, 0, 0)),
        r"pad: padding \(-3, 4, 0, 0\) crops 3 of the 2 columns, which leaves nothing",
    ),
    # all of it: PyTorch returns only the fill here, the engine refuses an input cropped away
    (lambda: F.pad(np.ones((2, 2)), (0, 0, -2, 3)), "pad: padding .* crops 2 of the 2 rows"),
    (lambda: F.pad(x3, (0, 0, -5, -3)), "pad: padding .* crops 8 of the 8 rows"),
    # sizes no op should allocate: a message instead of numpy's "array is too big"
    (
        lambda: F.pad(np.zeros((1, 4, 4)), 10**9),
        r"pad: padding \(1000000000, 1000000000, 1000000000, 1000000000\) makes the output "
        r"1x2000000004x2000000004, 4,000,000,016,000,000,016 values; the engine allows at most "
        r"2,147,483,648",
    ),
    (
        lambda: F.pad(np.zeros((2, 4, 4)), (0, 0, 0, 2**30)),
        "pad: padding .* makes the output 2x1073741828x4, 8,589,934,624 values",
    ),
    (
        lambda: F.conv2d(np.zeros((1, 4, 4)), np.ones((1, 1, 3, 3)), padding=10**9),
        "conv2d: padding 1000000000 makes the padded input 1x1x2000000004x2000000004, "
        "4,000,000,016,000,000,016 values; the engine allows at most 2,147,483,648",
    ),
    (
        lambda: F.conv2d(np.zeros((1, 4, 4)), np.ones((1, 1, 3, 3)), padding=(0, 10**9)),
        "conv2d: padding 0x1000000000 makes the padded input 1x1x4x2000000004",
    ),
    (
        lambda: F.conv2d(np.zeros((1, 4, 4)), np.ones((1, 1, 1, 2)), padding="same",
                         dilation=(1, 10**9 + 1)),
        r"conv2d: padding \(0, 0, 500000000, 500000001\) \(top, bottom, left, right\) makes the"
        " padded input 1x1x4x1000000005",
    ),
    (
        lambda: F.conv2d(np.zeros((1, 4, 4)), np.ones((2**20, 1, 1, 1)), padding=(0, 2**9)),
        "conv2d: the output would be 1x1048576x4x1028, 4,311,744,512 values",
    ),
    (
        lambda: F.max_pool2d(np.ones((1, 5, 5)), 10**9, padding=5 * 10**8),
        "max_pool2d: padding 500000000 makes the padded input 1x1x1000000005x1000000005, "
        "1,000,000,010,000,000,025 values; the engine allows at most 2,147,483,648",
    ),
    (
        lambda: F.avg_pool2d(np.ones((1, 5, 5)), (1, 10**9), padding=(0, 5 * 10**8)),
        "avg_pool2d: padding 0x500000000 makes the padded input 1x1x5x1000000005",
    ),
    (lambda: F.local_response_norm(x3, 0), "local_response_norm: size must be a positive int"),
    (lambda: F.set_num_threads(0), "set_num_threads: the thread count must be a positive int"),
]


@pytest.mark.parametrize(("call", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_arguments_raise_value_error_with_the_numbers(call, message):
    with pytest.raises(ValueError, match="^" + message):
        call()


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 4),
    st.floats(-2, 2),
    st.just(float("nan")),
    st.text(max_size=3),
    st.tuples(st.integers(-1, 3)),
    st.tuples(st.integers(-1, 3), st.integers(-1, 3)),
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
    st.sampled_from(["same", "valid", [1, 1], (1.5, 1), np.int64(2), np.float32(0.5)]),
)
OPS = {
    "conv2d": lambda x, a, b, c: F.conv2d(x, np.ones((2, 3, 3, 3)), None, a, b, c),
    "conv2d ": lambda x, a, b, c: F.conv2d(x, np.ones((3, 1, 2, 2)), a, 1, 0, 1, b),
    "max_pool2d": lambda x, a, b, c: F.max_pool2d(x, a, b, c),
    "max_pool2d ": lambda x, a, b, c: F.max_pool2d(x, 2, None, 0, a, b),
    "avg_pool2d": lambda x, a, b, c: F.avg_pool2d(x, a, b, c),
    "avg_pool2d ": lambda x, a, b, c: F.avg_pool2d(x, 2, None, 0, a, b),
    "softmax": lambda x, a, b, c: F.softmax(x, a),
    "flatten": lambda x, a, b, c: F.flatten(x, a, b),
    "pad": lambda x, a, b, c: F.pad(x, a, b),
    "hardtanh": lambda x, a, b, c: F.hardtanh(x, a, b),
    "leaky_relu": lambda x, a, b, c: F.leaky_relu(x, a),
    "batch_norm": lambda x, a, b, c: F.batch_norm(x, np.zeros(3), np.ones(3), a, b, c),
    "linear": lambda x, a, b, c: F.linear(x, np.ones((2, 5)), a),
    "local_response_norm": lambda x, a, b, c: F.local_response_norm(x, a, b, c),
}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(OPS)), junk, junk, junk, st.sampled_from([(3, 5, 5), (1, 3, 4, 5)]))
def test_junk_arguments_give_a_value_error_naming_the_op(op, a, b, c, shape):
    x = np.ones(shape, np.float32)
    try:
        out = OPS[op](x, a, b, c)
    except ValueError as exc:
        assert str(exc).startswith(op.strip() + ": "), str(exc)
    else:
        assert isinstance(out, np.ndarray)
        assert out.dtype == np.float32


def test_reused_workspaces_do_not_leak_between_biased_and_unbiased_layers():
    # Small convolutions share workspaces keyed by shape; a biased layer keeps a row of ones in
    # its columns. An unbiased layer of matching size must not overwrite it for the next call.
    rng = np.random.default_rng(5)
    x1 = rng.standard_normal((1, 20, 20)).astype(np.float32)
    w1 = rng.standard_normal((3, 1, 5, 3)).astype(np.float32)
    b1 = rng.standard_normal(3).astype(np.float32)
    x2 = rng.standard_normal((4, 21, 22)).astype(np.float32)
    w2 = rng.standard_normal((3, 4, 2, 2)).astype(np.float32)
    first = F.conv2d(x1, w1, b1, padding=(2, 1))
    F.conv2d(x2, w2, None)
    again = F.conv2d(x1, w1, b1, padding=(2, 1))
    np.testing.assert_array_equal(first, again)
    expected = ref_conv2d(x1[None].astype(np.float64), w1, b1, (1, 1), (2, 2, 1, 1), (1, 1), 1)[0]
    np.testing.assert_allclose(again, expected, rtol=1e-5, atol=1e-5)
