"""1x1 convolutions: a matmul over channels, straight into the output (see
:mod:`engine.ops._conv` for the other kinds)."""

from __future__ import annotations

import numpy as np

from engine.ops._gemm import matmul_into
from engine.ops._parallel import bands, run, thread_count, workspace

# Strided 1x1 convolutions read each input value once: small bands, so both threads get several.
_POINTWISE_BAND_BYTES = 1 << 18
# A stride-1 1x1 convolution shares its columns between the threads from this many outputs, or
# when it is deep and heavy. Measured on the 2-core Intel Xeon, best of 40, one thread / two:
# 64 -> 256 at 56x56 (803 k outputs) 0.89 / 0.77 ms; 24 -> 144 at 56x56 (452 k) 0.27 / 0.34;
# 128 -> 512 at 28x28 (51 M multiply-accumulates, 401 k outputs) 0.71 / 0.78; 256 -> 64 at
# 56x56 (51 M, 256 deep) 0.86 / 0.63; 512 -> 2048 at 7x7 0.94 / 0.83; 320 -> 1280 at 7x7 (20 M)
# 0.35 / 0.40. Below these the pool's hand-off and the shared caches cost more than a thread.
_POINTWISE_PARALLEL_VALUES = 3 << 18
_DEEP_CHANNELS = 256
_DEEP_WORK = 32_000_000


def conv_1x1(x4, w, b, stride, out_hw) -> np.ndarray:
    """A 1x1 convolution is a matmul over channels, straight into the output.

    Stride 1 reads each image as it is: (C_in, H*W) by W, one product per image, or, for a
    large output, one piece of columns per thread. A stride takes the strided rows band by
    band into a small copy first (:func:`_conv_1x1_strided`).
    """
    n, c = x4.shape[:2]
    c_out = w.shape[0]
    (ho, wo), (sh, sw) = out_hw, stride
    if (sh, sw) != (1, 1) or not x4.flags.c_contiguous:
        return _conv_1x1_strided(x4, w, b, stride, out_hw)
    w2 = w.reshape(c_out, c)  # (C_out, C_in)
    cols = ho * wo
    y = np.empty((n, c_out, ho, wo), np.float32)
    src, dst = x4.reshape(n, c, cols), y.reshape(n, c_out, cols)
    # On the 2-core Intel Xeon (docs/benchmarks.md, "1x1 convolutions") a second thread paid
    # for outputs of about 800 thousand values or more (32 -> 16 at 240x320: 1.31 -> 0.60 ms in
    # two pieces), or deep heavy layers; below, the pool's hand-off and the two threads' shared
    # caches cost more than they saved (24 -> 144 at 56x56: 0.23 ms on one thread, 0.31 on two;
    # the banded products this replaced took 0.42). The bias: numpy 2.4 broadcasts a column
    # faster than it adds a band of copies once rows hold 256 values (16 x 38400: 0.09 ms
    # against 0.17), slower below (576 x 196: 0.025 against 0.010).
    macs = n * c_out * cols * c
    deep = c >= _DEEP_CHANNELS and macs >= _DEEP_WORK  # ResNet-50's 256 -> 64 at 56x56
    wide = (c_out * cols >= _POINTWISE_PARALLEL_VALUES or deep) and n < thread_count()
    parts = thread_count() if wide else 1
    step = -(-cols // parts)
    step = min(cols, -(-step // 16) * 16)  # whole 64-byte lines
    items = [(i, s0, min(s0 + step, cols)) for i in range(n) for s0 in range(0, cols, step)]
    bias_band = None
    if b is not None and step < 256:  # narrow rows: adding a band of copies is the faster loop
        bias_band = np.empty((c_out, step), np.float32)
        bias_band[...] = b[:, None]

    def work(item):
        i, s0, s1 = item
        out = dst[i, :, s0:s1]
        matmul_into(w2, src[i, :, s0:s1], out)
        if bias_band is not None:
            np.add(out, bias_band[:, : s1 - s0], out=out)
        elif b is not None:
            np.add(out, b[:, None], out=out)

    run(items, work, macs if wide or n > 1 else 0)
    return y


def _conv_1x1_strided(x4, w, b, stride, out_hw) -> np.ndarray:
    """A strided 1x1 convolution, band by band: the strided rows copied, then a matmul.

    The bias is added from a whole band of copies of it: ``dst += b[:, None]`` broadcasts a
    column, a loop with a scalar operand per row that ran at half the speed (32 -> 16 at
    240x320: 0.5 ms of 2.3).
    """
    n, c = x4.shape[:2]
    c_out = w.shape[0]
    (ho, wo), (sh, sw) = out_hw, stride
    w2 = w.reshape(c_out, c)  # (C_out, C_in)
    y = np.empty((n, c_out, ho, wo), np.float32)
    band = max(1, min(ho, _POINTWISE_BAND_BYTES // (4 * max(c, c_out) * wo)))
    key = ("1x1", c, band, wo)
    if b is not None:  # (C_out, band * W_out), read by every thread
        bias_band = np.empty((c_out, band * wo), np.float32)
        bias_band[...] = b[:, None]

    def work(item):
        i, r0, r1 = item
        rows = r1 - r0
        src = x4[i, :, r0 * sh : (r1 - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]
        if src.strides[2] != 4 or src.strides[1] != 4 * wo:  # rows not back to back: copy
            buf = workspace(key, (c * band * wo,))[: c * rows * wo].reshape(c, rows, wo)
            buf[...] = src
            src = buf
        dst = y[i, :, r0:r1].reshape(c_out, rows * wo, copy=False)
        matmul_into(w2, src.reshape(c, rows * wo, copy=False), dst)
        if b is not None:
            np.add(dst, bias_band[:, : rows * wo], out=dst)

    run(bands(n, ho, band), work, n * c_out * ho * wo * c)
    return y
