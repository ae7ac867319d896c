"""The pooling routines behind :func:`engine.ops.max_pool2d` and ``avg_pool2d``.

Max and sum are separable, so a k x k window is folded in two passes: a running
``np.maximum`` / ``np.add`` down the rows, then across the columns. Padded cells hold ``-inf``
for max pooling (they never win) and 0 for average pooling. The routines take checked arguments
(see :func:`engine.ops._checks.pool_args`) as (h, w) pairs and return (N, C, H_out, W_out).
"""

from __future__ import annotations

import numpy as np

from engine.ops import _parallel
from engine.ops._parallel import bands, padded, run, workspace

# Bands for pooling, in output values: 256 KiB, so they stay in L2.
_SMALL_BAND = 1 << 16
# Work (outputs x taps x 8) from which a general pool shares its bands between the threads. Below,
# one thread was faster on the 2-core Intel Xeon (ms, best of 40, two threads / one, 3x3 stride 2:
# 64x112x112 0.96 / 0.86, 64x56x56 0.39 / 0.23, 144x56x56 0.67 / 0.50; 96x112x112 1.27 / 1.35).
_POOL_PARALLEL_WORK = 16_000_000


def max_pool(x4, k, s, p, d, out_hw) -> np.ndarray:
    """Max over each window; padded cells never win."""
    if k == s == (2, 2) and p == (0, 0) and d == (1, 1):
        ho, wo = out_hw
        h, w = x4.shape[2:]
        if 2 * ho <= h and 2 * wo <= w:  # (ceil_mode may ask for a last, partial window)
            return _max_pool_2x2(x4, ho, wo)
    xp = _pool_source(x4, k, s, p, d, out_hw, -np.inf)
    return _pool_taps(xp, k, s, d, out_hw, np.maximum)


def _max_pool_2x2(x4, ho, wo) -> np.ndarray:
    """The commonest pool: two ``np.maximum`` calls a piece, the pieces shared by the threads.

    Each piece is a run of whole maps (or of rows of one map) whose row pairs, folded first
    (contiguous, so numpy's SIMD loop runs), fill at most ``_SMALL_BAND`` values of a buffer
    that stays in L2; its column pairs are then folded into the output. Pieces of whole maps
    mean few calls: a 32x480x640 map went in 80 bands of 3 rows of all channels before. A
    small map (a 64x64 network's) is one piece, without the general path's bookkeeping
    (padding, bands, workspaces took a third of its 15 us).
    """
    n, c, h, w = x4.shape
    planes = n * c
    y = np.empty((planes, ho, wo), np.float32)
    src = x4.reshape(planes, h, w, copy=False) if _fuses(x4) else x4.reshape(planes, h, w)
    rows = max(1, min(ho, _SMALL_BAND // (2 * wo)))  # output rows a piece
    per = max(1, _SMALL_BAND // (ho * 2 * wo)) if rows == ho else 1  # maps a piece
    if planes * ho * 2 * wo <= _SMALL_BAND:
        rows, per = ho, planes
    items = [(p0, min(p0 + per, planes), r0, min(r0 + rows, ho))
             for p0 in range(0, planes, per) for r0 in range(0, ho, rows)]  # fmt: skip

    def work(item):
        p0, p1, r0, r1 = item
        tmp = workspace(("max2x2", per, rows, wo), (per, rows, 2 * wo))[: p1 - p0, : r1 - r0]
        np.maximum(src[p0:p1, 2 * r0 : 2 * r1 : 2, : 2 * wo],
                   src[p0:p1, 2 * r0 + 1 : 2 * r1 : 2, : 2 * wo], out=tmp)  # fmt: skip
        np.maximum(tmp[..., 0::2], tmp[..., 1::2], out=y[p0:p1, r0:r1])

    run(items, work, planes * ho * wo * 32)
    return y.reshape(n, c, ho, wo)


def _fuses(x4) -> bool:
    """Whether the images and channels of ``x4`` merge into one axis without a copy."""
    return x4.shape[0] == 1 or x4.strides[0] == x4.shape[1] * x4.strides[1]


def avg_pool(x4, k, s, p, out_hw, count_include_pad: bool) -> np.ndarray:
    """Mean over each window, divided as :func:`engine.ops.avg_pool2d` describes."""
    d = (1, 1)
    xp = _pool_source(x4, k, s, p, d, out_hw, 0.0)
    y = _pool_taps(xp, k, s, d, out_hw, np.add)
    div = avg_divisors(x4.shape[2:], k, s, p, out_hw, count_include_pad)
    y *= (1.0 / div).astype(np.float32)
    return y


def avg_divisors(hw, k, s, p, out_hw, count_include_pad: bool) -> np.ndarray:
    """Each window's divisor, (H_out, W_out) ints of at least 1 (an empty window's sum is 0)."""
    divisors = []
    for n, o, ki, si, pi in zip(hw, out_hw, k, s, p, strict=True):
        start = np.arange(o) * si - pi
        end = np.minimum(start + ki, n + pi)  # windows never count cells past the padding
        inside = np.minimum(end, n) - np.maximum(start, 0)
        divisors.append(end - start if count_include_pad else inside)
    return np.maximum(divisors[0][:, None] * divisors[1][None, :], 1)  # (H_out, W_out)


def _pool_source(x4, k, s, p, d, out_hw, fill) -> np.ndarray:
    """The input padded with ``fill``, plus room on the bottom/right for ceil_mode's last window."""
    need = [(o - 1) * si + di * (ki - 1) + 1 for o, si, di, ki in zip(out_hw, s, d, k, strict=True)]
    extra = [max(0, nd - (n + 2 * pi)) for nd, n, pi in zip(need, x4.shape[2:], p, strict=True)]
    return padded(x4, (p[0], p[0] + extra[0], p[1], p[1] + extra[1]), fill)


def _fold(combine, views: list[np.ndarray], dst: np.ndarray) -> None:
    """dst = combine(combine(views[0], views[1]), views[2]) ..., in place."""
    if len(views) == 1:
        np.copyto(dst, views[0])
        return
    combine(views[0], views[1], out=dst)
    for v in views[2:]:
        combine(dst, v, out=dst)


def _pool_taps(xp, k, s, d, out_hw, combine) -> np.ndarray:
    """Fold ``combine`` over each k x k window of ``xp``; (N, C, H_out, W_out).

    Max and sum are separable: first down the rows, whose slices are contiguous so numpy's SIMD
    loops run, into a small per-thread buffer; then across the columns of that buffer.
    """
    (ho, wo), (sh, sw), (dh, dw) = out_hw, s, d
    n, c = xp.shape[:2]
    width = (wo - 1) * sw + (k[1] - 1) * dw + 1  # input columns the windows touch
    y = np.empty((n, c, ho, wo), np.float32)
    work = n * c * ho * wo * k[0] * k[1] * 8
    if work < _parallel._THREAD_MIN_WORK and n * c * ho * width <= _SMALL_BAND:
        # small (a 64x64 network's pools): every image at once, without bands or hand-offs
        down = [xp[:, :, a * dh : a * dh + (ho - 1) * sh + 1 : sh, :width] for a in range(k[0])]
        tmp = down[0]
        if len(down) > 1:
            tmp = workspace(("pool", n, c, ho, width), (n, c, ho, width))
            _fold(combine, down, tmp)
        _fold(combine, [tmp[..., b * dw : b * dw + (wo - 1) * sw + 1 : sw] for b in range(k[1])], y)
        return y
    band = max(1, min(ho, _SMALL_BAND // (c * width)))
    if work < _POOL_PARALLEL_WORK:
        work = 0  # on the calling thread, band by band

    def work_on(item):
        i, r0, r1 = item
        rows = r1 - r0
        top = r0 * sh
        down = [
            xp[i, :, top + a * dh : top + a * dh + (rows - 1) * sh + 1 : sh, :width]
            for a in range(k[0])
        ]
        if len(down) > 1:
            tmp = workspace(("pool", c, band, width), (c, band, width))[:, :rows]
            _fold(combine, down, tmp)
        else:
            tmp = down[0]
        across = [tmp[:, :, bb * dw : bb * dw + (wo - 1) * sw + 1 : sw] for bb in range(k[1])]
        _fold(combine, across, y[i, :, r0:r1])

    run(bands(n, ho, band), work_on, work)
    return y
