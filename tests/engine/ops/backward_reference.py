"""Plain-loop backward references, finite differences and helpers for the backward tests.

The backward passes of convolution and pooling against references written here.

Two references, both float64 and blind to the engine's machinery:

1. central finite differences of the engine's own forward ops (``F.conv2d``, ``F.max_pool2d``,
   ...): a gradient is what the forward's changes say it is;
2. plain loops over every output position, scattering each output's gradient into grad_x and
   accumulating grad_w (the vector-Jacobian product written out, as torch.nn.grad defines it).

Every internal way of computing a gradient (flat, im2col, col2im, convolution, depthwise) is
checked, not only the one the engine picks for a shape; each op also runs with one-row pieces
shared by two threads (``tiny_pieces``), to reach band edges, waves and per-thread sums.
PyTorch itself is compared in benchmarks/backward.py (torch is a benchmark extra only).
"""

import contextlib

import numpy as np

from engine import ops as F
from engine.ops import (
    _conv,
    _depthwise_backward,
    _parallel,
    _pieces,
    _pool_backward,
)

# ---------------------------------------------------------------- references


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv_pads(padding, k, d):
    """(top, bottom, left, right) for an int, a pair, "valid" or "same" (PyTorch's rules)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = pair(padding)
    return (ph, ph, pw, pw)


def ref_conv_backward(g, x, w, stride, pads, dil, groups):
    """(grad_x, grad_w, grad_b) in float64: a loop over every output position.

    Each output (i, f, oy, ox) met the window xp[i, group's channels, oy*sh + s*dh,
    ox*sw + t*dw] (xp zero-padded): its gradient goes to that window through the weights, and
    the window through the gradient to the weights.
    """
    g, x, w = (a.astype(np.float64) for a in (g, x, w))
    n, c, h, wd = x.shape
    c_out, c_in_g, kh, kw = w.shape
    top, bottom, left, right = pads
    xp = np.zeros((n, c, h + top + bottom, wd + left + right))
    xp[:, :, top : top + h, left : left + wd] = x
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w)
    (sh, sw), (dh, dw) = stride, dil
    per = c_out // groups
    for i in range(n):
        for oy in range(g.shape[2]):
            for ox in range(g.shape[3]):
                rows = (oy * sh + np.arange(kh) * dh)[:, None]
                cols = (ox * sw + np.arange(kw) * dw)[None, :]
                for grp in range(groups):
                    fs = slice(grp * per, (grp + 1) * per)  # the group's filters
                    cs = slice(grp * c_in_g, (grp + 1) * c_in_g)  # and its channels
                    gv = g[i, fs, oy, ox]  # (C_out/G,)
                    window = xp[i, cs][:, rows, cols]  # (C_in/G, kh, kw)
                    gw[fs] += gv[:, None, None, None] * window[None]
                    gxp[i, cs][:, rows, cols] += np.tensordot(gv, w[fs], axes=1)
    gx = gxp[:, :, top : top + h, left : left + wd]
    return gx, gw, g.sum(axis=(0, 2, 3))


def pool_starts(n, k, s, p, d, ceil_mode):
    """Where each window starts along one axis (input coordinates, may be negative)."""
    span = n + 2 * p - d * (k - 1) - 1
    count = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (count - 1) * s >= n + p:  # PyTorch: the last window starts inside
        count -= 1
    return [j * s - p for j in range(count)]


def pool_windows(shape, k, s, p, d, ceil_mode):
    """(output row, output column, cells in row-major order) of every window."""
    h, w = shape[2:]
    rows = pool_starts(h, k[0], s[0], p[0], d[0], ceil_mode)
    cols = pool_starts(w, k[1], s[1], p[1], d[1], ceil_mode)
    for a, r in enumerate(rows):
        for b, c in enumerate(cols):
            yield a, b, [(r + u * d[0], c + v * d[1]) for u in range(k[0]) for v in range(k[1])]


def ref_max_pool_backward(g, x, k, s, p, d, ceil_mode):
    """PyTorch's rule cell by cell: the first real cell unless a later one is greater or NaN."""
    gx = np.zeros(x.shape)
    for a, b, cells in pool_windows(x.shape, k, s, p, d, ceil_mode):
        real = [(y, z) for y, z in cells if 0 <= y < x.shape[2] and 0 <= z < x.shape[3]]
        if not real:  # dilation can leave a window on padding only: -inf, no gradient
            continue
        for i in range(x.shape[0]):
            for ch in range(x.shape[1]):
                best, won = -np.inf, real[0]
                for y, z in real:
                    v = x[i, ch, y, z]
                    if v > best or np.isnan(v):
                        best, won = v, (y, z)
                gx[i, ch][won] += g[i, ch, a, b]
    return gx


def ref_avg_pool_backward(g, shape, k, s, p, ceil_mode, count_include_pad):
    """Each window's gradient over its divisor, to each of its real cells."""
    h, w = shape[2:]
    gx = np.zeros(shape)
    for a, b, cells in pool_windows(shape, k, s, p, (1, 1), ceil_mode):
        real = [(y, z) for y, z in cells if 0 <= y < h and 0 <= z < w]
        # cells of the zero padding count, cells beyond it (ceil_mode's last window) do not
        padded = [(y, z) for y, z in cells if -p[0] <= y < h + p[0] and -p[1] <= z < w + p[1]]
        divisor = len(padded) if count_include_pad else len(real)
        for y, z in real:
            gx[:, :, y, z] += g[:, :, a, b] / divisor
    return gx


def directional_fd(loss, arrays, directions, step):
    """(L(a + step d) - L(a - step d)) / (2 step) for the arrays perturbed together."""
    up = loss(*(a + step * d for a, d in zip(arrays, directions, strict=True)))
    down = loss(*(a - step * d for a, d in zip(arrays, directions, strict=True)))
    return (up - down) / (2 * step)


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def tiny_pieces():
    """Every op in one-row (or one-map) pieces, shared by two threads.

    Small test inputs otherwise fit in one piece and never reach band edges, the waves of a
    col2im, the per-thread accumulators or the thread pool; this white-box switch runs them.
    """
    knobs = [(_pieces, "_PIECE_BYTES"), (_depthwise_backward, "_DEPTHWISE_PIECE_BYTES"),
             (_pool_backward, "_PIECE"), (_parallel, "_THREAD_MIN_WORK")]  # fmt: skip
    knobs += [(_conv, name) for name in vars(_conv) if name.endswith(("_BAND", "_BAND_BYTES"))]
    saved = [getattr(module, name) for module, name in knobs]
    threads = F.get_num_threads()
    for module, name in knobs:
        setattr(module, name, 0 if name == "_THREAD_MIN_WORK" else 1)
    F.set_num_threads(2)
    try:
        yield
    finally:
        F.set_num_threads(threads)
        for (module, name), value in zip(knobs, saved, strict=True):
            setattr(module, name, value)


def assert_close(actual, expected, tol=2e-5):
    """float32, same shape, and close to the float64 reference relative to its scale."""
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol * scale)


def assert_same_nonfinite(actual, expected):
    """NaN and +-inf where the reference has them; close elsewhere."""
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(actual), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected))
    finite = np.isfinite(expected)
    assert_close(np.where(finite, actual, 0).astype(np.float32), np.where(finite, expected, 0))


def dyadic(rng, shape, scale=16):
    """float32 values k / scale: sums and perturbations of them stay exact in float32."""
    return (rng.integers(-3 * scale, 3 * scale, shape) / scale).astype(np.float32)
