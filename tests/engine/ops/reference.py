"""Plain-loop references for the ops and the helpers the op tests share.

The references loop over output positions in float64 and know nothing of im2col, bands,
threads or cached buffers. PyTorch comparisons live in benchmarks/ (torch is a benchmark extra).
"""

import contextlib

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from engine.ops import _conv, _depthwise, _grouped, _parallel, _pointwise_conv, _pool

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
    pool; this white-box switch runs them through both, on two threads.
    """
    knobs = [
        (module, name)
        for module in (_conv, _pool, _pointwise_conv)
        for name in vars(module)
        if name.endswith(("_BAND", "_BAND_BYTES"))
    ]
    assert len(knobs) >= 5, knobs  # the band knobs this switch relies on still exist
    # the sizes from which 1x1, depthwise, grouped and pooling layers share their work
    floors = [(_parallel, "_THREAD_MIN_WORK"), (_pointwise_conv, "_POINTWISE_PARALLEL_VALUES"),
              (_pointwise_conv, "_DEEP_WORK"), (_depthwise, "_PARALLEL_MACS"),
              (_grouped, "_PARALLEL_MACS"), (_pool, "_POOL_PARALLEL_WORK")]
    assert all(hasattr(module, name) for module, name in floors), floors
    knobs += floors
    saved = [getattr(module, name) for module, name in knobs]
    threads = _parallel.thread_count()
    for module, name in knobs:
        setattr(module, name, 0 if (module, name) in floors else 1)
    _parallel.set_thread_count(2)  # the engine runs on one thread until configure() says more
    try:
        yield
    finally:
        _parallel.set_thread_count(threads)
        for (module, name), value in zip(knobs, saved, strict=True):
            setattr(module, name, value)


@contextlib.contextmanager
def pieces_of(module, knobs: dict, threads: int = 2):
    """Set ``module``'s size knobs (e.g. ``{"_CHUNK": 3}``) and run every op on ``threads``
    threads however small, so that a test-sized input reaches the piece edges and the pool."""
    saved = {name: getattr(module, name) for name in knobs}
    min_work, count = _parallel._THREAD_MIN_WORK, _parallel.thread_count()
    for name, value in knobs.items():
        setattr(module, name, value)
    _parallel._THREAD_MIN_WORK = 0
    _parallel.set_thread_count(threads)
    try:
        yield
    finally:
        _parallel.set_thread_count(count)
        _parallel._THREAD_MIN_WORK = min_work
        for name, value in saved.items():
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
