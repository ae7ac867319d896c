"""Depthwise convolution (one input channel a group: MobileNet, EfficientNet, MnasNet,
ShuffleNet, ConvNeXt) as one matrix product per channel against a banded ("Toeplitz") matrix.

Along a row, a tile of ``T`` outputs of one channel reads ``Wt = (T - 1) s + (kw - 1) d + 1``
input columns of each of the ``kh`` rows its windows cover. Those ``kh Wt`` values, copied as
one row of a matrix A (one row per tile of the band: rows x tiles), times a fixed
``(kh Wt, T)`` matrix B that holds the channel's weights on its diagonals (B[a Wt + u s + t d,
u] = w[a, t], zero elsewhere), give the tile's ``T`` outputs. Every tile of every row is then
one product per channel, (rows tiles, kh Wt) by (kh Wt, T), all channels of a piece in one
batched ``matmul``.

The product does ``Wt / kw`` times the multiply-adds of the convolution (most of them by zeros),
but BLAS runs them far faster than numpy can copy taps: the routine this replaced copied every
tap of every output (``kh kw`` values an output) before a per-channel product, where A holds
``kh Wt / T`` values an output (3.4 instead of 9 for 3x3 at T = 16, 6.3 instead of 25 for 5x5
at T = 14). The tile ``T`` divides the output width when it can (112 = 7 x 16, 56 = 4 x 14,
7 = 1 x 7): columns past the width are computed and dropped, so a tile that fits badly wastes
work. Measured on 2 cores (Intel Xeon, other jobs running; ms, best of 11, the tap copies /
this): 32x112x112 3x3 1.42 / 1.33; 144x56x56 1.91 / 1.19; 144x56x56 5x5 stride 2 2.44 / 0.95;
240x28x28 5x5 1.57 / 0.94; 672x14x14 5x5 1.34 / 0.81; 96x56x56 7x7 4.03 / 1.76; 768x7x7 7x7
1.09 / 0.55; 18 layers of the mobile networks 24.3 / 15.1.

The zeros of B meet every input value of the tile's rows, so an infinite or NaN input would
spread beyond its windows (``0 * inf`` is NaN): such an input takes the tap-copying route.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from engine.ops._parallel import run, thread_count

__all__ = ["conv_depthwise", "finite", "tile_width"]

# Values of one piece's padded input, and of one band's A and product (see _grouped.py for the
# same budgets there); a band of 2 MiB won over 1 and 0.5 MiB on the mobile layers measured
# (18 layers: 14.1 / 15.1 / 15.6 ms).
_PLANE_VALUES = 1 << 19
_BAND_VALUES = 1 << 19
_local = threading.local()

# Multiply-accumulates (outputs x taps) from which the threads share a layer. Below, one
# thread was faster on the 2-core Intel Xeon (ms, best of 30, three rounds, two threads / one:
# 3x3 of 480 channels at 14x14, 0.85 M, 0.48 / 0.41; 3x3 of 1152 at 7x7, 0.51 M, 0.42 / 0.35);
# above, two won (5x5 of 240 at 28x28 stride 2, 1.18 M, 0.56 / 0.70; 3x3 of 672 at 14x14,
# 1.19 M, 0.54 / 0.69; 5x5 of 480 at 14x14, 2.35 M, 0.63 / 0.85).
_PARALLEL_MACS = 1_000_000

def _scratch(role: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 array of ``shape`` for ``role``, on a block of this thread's that only grows.

    The engine's keyed workspaces hold 24 shapes a thread: a mobile network's dozen depthwise
    shapes, four buffers each, pushed each other and the other ops' buffers out every frame,
    and came back as fresh zero-filled blocks (MobileNetV3-Small: 19 ``np.full`` a frame, 4 ms
    of its 16).
    """
    store = _local.__dict__.setdefault("blocks", {})
    size = math.prod(shape)
    block = store.get(role)
    if block is None or block.size < size:
        block = store[role] = np.empty(size, np.float32)
    return block[:size].reshape(shape)


def _banded(layout: tuple, channels: int, k: int, m_t: int) -> np.ndarray:
    """This thread's (channels, k, m_t) B for a layout (kernel, tile, stride, dilation and
    multiplier): zero but for the diagonals, which each call rewrites at the same places.

    One per layout, kept (a network has a handful: MobileNetV3-Large's 15 depthwise layers
    have 6), so the zeros are written once rather than on every call (the whole of B: 0.85 MB
    for 168 channels 5x5 at T = 14).
    """
    store = _local.__dict__.setdefault("banded", {})
    block = store.pop(layout, None)
    if block is None or block.shape[0] < channels:
        block = np.zeros((channels, k, m_t), np.float32)
        if len(store) >= 16:  # forget the least recently used layout
            del store[next(iter(store))]
    store[layout] = block  # re-inserted: most recently used last
    return block


def finite(x: np.ndarray) -> bool:
    """Whether ``x`` holds no NaN or infinity: its sum of squares is then finite (one pass of
    BLAS; a finite input whose squares overflow only loses this route)."""
    flat = x.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.dot(flat, flat)))


def tile_width(wo: int) -> int:
    """The tile: of 7..16 outputs, the one that covers the row with the fewest extra columns
    (the widest on a tie); a row narrower than 7 is one tile."""
    if wo < 7:
        return wo
    return min(range(16, 6, -1), key=lambda t: -(-wo // t) * t)


def conv_depthwise(x4, w, b, stride, pads, dil, out_hw) -> np.ndarray:
    """(N, C, H, W) -> (N, C m, H_out, W_out) for weight (C m, 1, kh, kw): ``m`` filters on
    each input channel (the channel multiplier). ``x4`` must be finite."""
    n, c, h, wd = x4.shape
    c_out, _, kh, kw = w.shape
    mult = c_out // c
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    top, bottom, left, right = pads
    t_out = tile_width(wo)
    tiles = -(-wo // t_out)
    wt = (t_out - 1) * sw + (kw - 1) * dw + 1  # input columns a tile reads
    hp = h + top + bottom
    wx = max(wd + left + right, (tiles - 1) * t_out * sw + wt)  # the last tile may read past
    k = kh * wt
    macs = n * c_out * ho * wo * kh * kw * 8
    # pieces: two a thread to even out a large layer; a small one runs on the calling thread
    # in one piece an image (each piece costs a dozen numpy calls)
    share = 2 * thread_count() if n * c_out * ho * wo * kh * kw >= _PARALLEL_MACS else 1
    most = -(-c // share) if n < share else c
    chunk = max(1, min(most, _PLANE_VALUES // (hp * wx)))
    band = max(1, min(ho, _BAND_VALUES // (chunk * tiles * (k + mult * t_out))))
    # B's diagonals: (channel, kernel row, tap, output of the tile, filter) in its flat layout
    # (channel, kernel row a, column j of the tile's input, filter, output u): j = u s + t d
    w5 = w.reshape(c, mult, kh, kw).transpose(0, 2, 3, 1)[..., None]  # (C, kh, kw, m, 1)
    y = np.empty((n, c_out, ho, wo), np.float32)

    def work(item):
        i, c0 = item
        c1 = min(c0 + chunk, c)
        kc = c1 - c0
        m_t = mult * t_out
        planes = _scratch("planes", (chunk, hp, wx))
        # the zero border (and the columns past the last tile): the block held other layouts
        planes[:kc, :top] = 0.0
        planes[:kc, top + h :] = 0.0
        planes[:kc, top : top + h, :left] = 0.0
        planes[:kc, top : top + h, left + wd :] = 0.0
        planes[:kc, top : top + h, left : left + wd] = x4[i, c0:c1]
        bm = _banded((kh, kw, wt, sw, dw, mult, t_out), chunk, k, m_t)
        diag = np.ndarray((kc, kh, kw, mult, t_out), np.float32, bm, 0,
                          (bm.strides[0], wt * m_t * 4, dw * m_t * 4, t_out * 4,
                           (sw * m_t + 1) * 4))  # fmt: skip
        diag[...] = w5[c0:c1]
        a_buf = _scratch("a", (chunk, band * tiles, k))
        o_buf = _scratch("out", (chunk, band, tiles, mult, t_out))
        s_c = planes.strides[0]
        for r0 in range(0, ho, band):
            rows = min(band, ho - r0)
            # (channels, rows, tiles, kh, Wt): each tile's windows, read in place
            view = np.ndarray((kc, rows, tiles, kh, wt), np.float32, planes, r0 * sh * wx * 4,
                              (s_c, sh * wx * 4, sw * t_out * 4, dh * wx * 4, 4))  # fmt: skip
            a = a_buf[:kc, : rows * tiles]
            np.copyto(a.reshape(kc, rows, tiles, kh, wt, copy=False), view)
            out = o_buf[:kc, :rows]
            np.matmul(a, bm[:kc], out=out.reshape(kc, rows * tiles, m_t, copy=False))
            # (channel, filter, rows, tiles * T): the first W_out columns are the outputs
            result = out.transpose(0, 3, 1, 2, 4).reshape(kc, mult, rows, tiles * t_out)
            dst = y[i, c0 * mult : c1 * mult, r0 : r0 + rows]
            dst = dst.reshape(kc, mult, rows, wo, copy=False)
            if b is None:
                np.copyto(dst, result[..., :wo])
            else:
                np.add(result[..., :wo], b[c0 * mult : c1 * mult].reshape(kc, mult, 1, 1),
                       out=dst)

    items = [(i, c0) for i in range(n) for c0 in range(0, c, chunk)]
    with np.errstate(invalid="ignore", over="ignore"):  # an infinite weight: NaN, as in PyTorch
        run(items, work, macs if share > 1 or n > 1 else 0)
    return y
