"""The backward passes of max and average pooling (see :mod:`engine.ops._pool` for the forward).

Both work on the same padded source as the forward and add into a zeroed gradient of that
padded shape, cropped at the end. Each piece of work is one image's range of channels, whose
gradient no other piece touches: the threads need no locks even where windows overlap.
"""

from __future__ import annotations

import numpy as np

from engine.ops._conv import _all_finite
from engine.ops._parallel import quietly, run, workspace
from engine.ops._pool import _pool_source, avg_divisors

# A piece: about this many output values (256 KiB of float32), so its temporaries stay in L2.
_PIECE = 1 << 16


def _tap(a: np.ndarray, ij, s, d, out_hw) -> np.ndarray:
    """The (i, j)-th tap of every window of ``a`` (..., H_pad, W_pad): (..., H_out, W_out)."""
    (i, j), (ho, wo), (sh, sw), (dh, dw) = ij, out_hw, s, d
    rows = slice(i * dh, i * dh + (ho - 1) * sh + 1, sh)
    return a[..., rows, j * dw : j * dw + (wo - 1) * sw + 1 : sw]


def _crop(gxp, p, hw) -> np.ndarray:
    """The input's part of a gradient over the padded source (a copy, unless it is all)."""
    (h, w), (ph, pw) = hw, p
    if gxp.shape[2:] == (h, w):
        return gxp
    return np.ascontiguousarray(gxp[:, :, ph : ph + h, pw : pw + w])


def _first_real(n, o, k, s, p, d) -> np.ndarray:
    """Along one axis: each window's first tap on a real (not padded) cell, or -1 if none."""
    start = np.arange(o) * s - p  # the window's first cell, in input coordinates
    first = np.where(start < 0, -(start // d), 0)  # ceil(-start / d) taps to reach cell 0
    ok = (first < k) & (start + first * d < n)
    return np.where(ok, first, -1)


def max_pool_backward(g4, x4, k, s, p, d, out_hw) -> np.ndarray:
    """Each window's gradient to the cell that won it, as in PyTorch.

    The winner is the first maximum in the window's row-major order, except that a NaN wins
    over everything and a later NaN over an earlier one (PyTorch's test is ``v > best or
    isnan(v)``). A window whose real cells are all ``-inf`` gives its gradient to its first
    real cell; padding never wins. Where windows overlap, a cell's gradients add up.

    Vectorized over the taps: a running maximum and the tap that set it (``idx``) over every
    window at once, then one masked add per tap. NaN costs an extra pass per tap, so a piece
    is first done without that test and redone with it only if its maximum came out NaN.
    """
    (kh, kw), (ho, wo) = k, out_hw
    n, c, h, w = x4.shape
    xp = _pool_source(x4, k, s, p, d, out_hw, -np.inf)
    gxp = np.zeros(xp.shape, np.float32)
    taps = [(a, b) for a in range(kh) for b in range(kw)]
    index_type = np.int16 if len(taps) < 1 << 15 else np.int32
    first = None
    if any(p):  # a window's first tap may be padding: start from its first real one instead
        fa, fb = (_first_real(*args) for args in zip((h, w), out_hw, k, s, p, d, strict=True))
        first = np.where((fa[:, None] >= 0) & (fb[None, :] >= 0), fa[:, None] * kw + fb, -1)
    step = max(1, _PIECE // (ho * wo))

    def winners(src, best, idx, upd, nan_wins):
        if first is None:
            np.copyto(best, _tap(src, taps[0], s, d, out_hw))
            idx.fill(0)
        else:
            best.fill(-np.inf)
            np.copyto(idx, first)
        for t in range(0 if first is not None else 1, len(taps)):
            v = _tap(src, taps[t], s, d, out_hw)
            np.greater(v, best, out=upd)
            if nan_wins:
                upd |= np.isnan(v)
            np.copyto(idx, t, where=upd)
            np.maximum(best, v, out=best)  # NaN stays NaN: the check below sees it

    def work(item):
        i, c0 = item
        c1 = min(c0 + step, c)
        src, dst, grad = xp[i, c0:c1], gxp[i, c0:c1], g4[i, c0:c1]  # (channels, rows, cols)
        best = workspace(("maxpool-best", step, ho, wo), (step, ho, wo))[: c1 - c0]
        idx = np.empty((c1 - c0, ho, wo), index_type)
        upd = np.empty((c1 - c0, ho, wo), bool)
        winners(src, best, idx, upd, False)
        if not _all_finite(best):  # a NaN (or inf): redo with NaN's rule
            winners(src, best, idx, upd, True)
        for t, ij in enumerate(taps):
            np.equal(idx, t, out=upd)
            cells = _tap(dst, ij, s, d, out_hw)
            np.add(cells, grad, out=cells, where=upd)

    items = [(i, c0) for i in range(n) for c0 in range(0, c, step)]
    run(items, quietly(work), n * c * ho * wo * len(taps) * 8)
    return _crop(gxp, p, (h, w))


def avg_pool_backward(g4, x_shape, k, s, p, out_hw, count_include_pad) -> np.ndarray:
    """Each window's gradient divided by its divisor and spread over its cells.

    The adjoint of the forward's separable sum: spread across the columns of each window row
    (kw strided adds into a (rows, width) buffer), then down its rows (kh strided adds).
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ho, wo) = k, s, out_hw
    div = avg_divisors((h, w), k, s, p, out_hw, count_include_pad).astype(np.float32)
    width = (wo - 1) * sw + kw  # the columns the windows touch
    rows = (ho - 1) * sh + kh
    # the padded source's shape, with ceil_mode's room for a last window (as _pool_source)
    gxp = np.zeros((n, c, max(h + 2 * p[0], rows), max(w + 2 * p[1], width)), np.float32)
    step = max(1, _PIECE // (ho * width))

    def work(item):
        i, c0 = item
        c1 = min(c0 + step, c)
        # PyTorch divides each gradient by its divisor (no reciprocal): the same float32 values
        spread = workspace(("avgpool-g", step, ho, wo), (step, ho, wo))[: c1 - c0]
        np.divide(g4[i, c0:c1], div, out=spread)
        across = workspace(("avgpool-across", step, ho, width), (step, ho, width))[: c1 - c0]
        across.fill(0.0)
        for b in range(kw):  # (channels, H_out, width)
            cells = across[..., b : b + (wo - 1) * sw + 1 : sw]
            cells += spread
        for a in range(kh):
            cells = gxp[i, c0:c1, a : a + (ho - 1) * sh + 1 : sh, :width]
            cells += across

    items = [(i, c0) for i in range(n) for c0 in range(0, c, step)]
    run(items, quietly(work), n * c * ho * width * (kh + kw) * 4)
    return _crop(gxp, p, (h, w))
