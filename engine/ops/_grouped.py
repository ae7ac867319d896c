"""Grouped and depthwise convolution (each group of channels its own filters: ResNeXt, RegNet;
one channel a group: MobileNet, EfficientNet, MnasNet, ShuffleNet, ConvNeXt) as one copy and
one batched product per band.

A tap's window over a band of output rows is one block of the flattened padded map shifted by
the tap's offset ("flat shifted slices"): ``x_flat[c, a * W_pad + b : ... + span]`` holds the tap
(a, b) of every output position of the band, plus the ``W_pad - W_out`` values between rows
that wrap around (computed, then dropped). A strided layer first splits the padded map into its
``s x s`` phases (every s-th row and column), where every tap is again a stride-1 block.

A piece (a few groups of one image) fills its phases once; then, band by band, it copies every
tap's block into a (channels, kh kw, span) workspace (one ``copyto`` from an overlapping window
view at stride 1) and runs one batched (C_out/G, C_in/G kh kw) by (C_in/G kh kw, span) product
per group: two numpy calls per band, both without the GIL, where a multiply and an add per tap
(the previous depthwise routine) took 2 kh kw calls that the threads took turns at.

Measured on 2 cores (AVX-512, other jobs running: load average 2-6; ms, best of 11, the
previous flat multiply-adds / now): 32x112x112 3x3 1.8 / 0.9; 96x112x112 stride 2 1.8 / 1.0;
192x28x28 1.7 / 0.4; 960x7x7 0.8 / 0.3; 240x28x28 5x5 13 / 1.1; 96x56x56 7x7 9.1 / 3.2;
768x7x7 7x7 8.2 / 1.2. Grouped layers (RegNet's, ResNeXt's), one thread, against the im2col
path (whose one batched product over the groups is the same; its copy is strided, not flat):
faster on 16 of 19 layers measured, 13.7 -> 12.0 ms in all (ResNeXt's 128 channels in 32
groups at 56x56: 2.2 -> 1.1 ms).

A depthwise layer (one input channel a group) with a finite input now goes to
:mod:`engine.ops._depthwise` (products by banded matrices, 1.3-2x faster on 5x5 and 7x7); it
comes here only when its input holds NaN or infinity, whose spread only the tap copies keep
to the windows that hold it.
"""

from __future__ import annotations

import numpy as np

from engine.ops._depthwise import conv_depthwise, finite
from engine.ops._parallel import run, thread_count, workspace

__all__ = ["conv_grouped"]

# Values of one piece's phases (the padded input of its channels) and of one band's copied taps.
# Measured over MobileNet's, EfficientNet's and ConvNeXt's layers on two threads (sum of 14
# layers, ms, phases / band at 64k / 64k: 100; 256k / 256k: 82; 512k / 512k: 17-22; 512k / 2M:
# 22-49): with small pieces the threads wait on each other for the GIL between numpy's calls;
# with bands much larger than L2 the copy and the product meet in memory (96x56x56 7x7: 3.2 ms
# in bands of 512k values, 6.7 in bands of 2M).
_PHASE_VALUES = 1 << 19
_BAND_VALUES = 1 << 19
# Multiply-accumulates from which the threads share a grouped layer. Below, one thread was about
# twice as fast on the 2-core Intel Xeon (ms, best of 30, two threads / one: RegNet's 160
# channels in 10 groups at 28x28 stride 2, 4.5 M, 0.49 / 0.25; 400 in 25 at 7x7, 2.8 M, 0.31 /
# 0.17; 64 in 4 at 28x28, 7.2 M, 0.34 / 0.31); above, two won (ResNeXt's 128 in 32 at 56x56,
# 14.5 M, 1.02 / 1.60; 1024 in 32 at 7x7, 0.49 / 0.59).
_PARALLEL_MACS = 10_000_000


def conv_grouped(x4, w, b, stride, pads, dil, groups, out_hw) -> np.ndarray:
    """(N, C, H, W) -> (N, C_out, H_out, W_out) for weight (C_out, C / groups, kh, kw)."""
    n, c, h, wd = x4.shape
    c_out, c_in_g, kh, kw = w.shape
    if c_in_g == 1 and finite(x4):  # depthwise: products by banded matrices
        return conv_depthwise(x4, w, b, stride, pads, dil, out_hw)
    c_out_g = c_out // groups
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    top, bottom, left, right = pads
    hq, wq = -(-(h + top + bottom) // sh), -(-(wd + left + right) // sw)  # a phase's size
    taps = kh * kw
    # (phase, flat offset) of every tap, in the weights' order
    offsets = [((a * dh % sh) * sw + t * dw % sw, (a * dh // sh) * wq + t * dw // sw)
               for a in range(kh) for t in range(kw)]  # fmt: skip
    w_g = w.reshape(groups, c_out_g, c_in_g * taps)  # (G, C_out/G, C_in/G*kh*kw)
    # where each phase's real pixels go: (phase, rows of x, columns of x, first row, first col)
    places = []
    for p in range(sh):
        for q in range(sw):
            r0, c0 = (p - top) % sh, (q - left) % sw
            places.append((p * sw + q, slice(r0, None, sh), slice(c0, None, sw),
                           (r0 + top) // sh, (c0 + left) // sw))
    # a piece's groups: their phases within budget, and at least two pieces for each thread
    # when the threads share the layer
    macs = n * c_out * ho * wo * c_in_g * taps
    shared = macs >= _PARALLEL_MACS and thread_count() > 1
    most = -(-groups // (2 * thread_count())) if shared and n < 2 * thread_count() else groups
    chunk = max(1, min(most, _PHASE_VALUES // (sh * sw * hq * wq * c_in_g)))
    band_values = _BAND_VALUES // (chunk * (c_in_g * taps + c_out_g))
    band = max(1, min(ho, (band_values - wo) // wq + 1))
    span_most = (band - 1) * wq + wo
    y = np.empty((n, c_out, ho, wo), np.float32)

    def work(item):
        i, g0 = item
        g1 = min(g0 + chunk, groups)
        k, ch0, ch1 = g1 - g0, g0 * c_in_g, g1 * c_in_g  # groups, their input channels
        kc = ch1 - ch0
        # zero borders written once, when the workspace is made; only the interior changes
        planes = workspace(("grp-phases", c, h, wd, pads, stride, chunk * c_in_g),
                           (sh * sw, chunk * c_in_g, hq, wq), 0.0)
        for phase, rows, cols, r_first, c_first in places:
            src = x4[i, ch0:ch1, rows, cols]
            planes[phase, :kc, r_first : r_first + src.shape[1],
                   c_first : c_first + src.shape[2]] = src
        flat = planes.reshape(sh * sw, chunk * c_in_g, hq * wq)
        s_c = flat.strides[1]
        cols_buf = workspace(("grp-cols", chunk * c_in_g, taps, span_most),
                             (chunk * c_in_g, taps, span_most))
        out_buf = workspace(("grp-out", chunk * c_out_g, band, wq),
                            (chunk, c_out_g, band * wq))
        for r0 in range(0, ho, band):
            rows = min(band, ho - r0)
            span = (rows - 1) * wq + wo  # from the band's first output to its last, flattened
            cols = cols_buf[:kc, :, :span]  # (channels, kh*kw, span)
            if sh == sw == 1:  # every tap's block at once: (channels, kh, kw, span), overlapping
                view = np.ndarray((kc, kh, kw, span), np.float32, flat, r0 * wq * 4,
                                  (s_c, dh * wq * 4, dw * 4, 4))  # fmt: skip
                np.copyto(cols.reshape(kc, kh, kw, span, copy=False), view)
            else:
                for j, (phase, offset) in enumerate(offsets):
                    start = r0 * wq + offset
                    np.copyto(cols[:, j], flat[phase, :kc, start : start + span])
            out = out_buf[:k, :, :span]
            # (k, C_out/G, K_g) by (k, K_g, span): one product per group
            np.matmul(w_g[g0:g1], cols.reshape(k, c_in_g * taps, span, copy=False), out=out)
            # (k*C_out/G, rows, W_pad): the first W_out columns of each row are the outputs
            result = out_buf[:k, :, : rows * wq].reshape(k * c_out_g, rows, wq)[:, :, :wo]
            dst = y[i, g0 * c_out_g : g1 * c_out_g, r0 : r0 + rows]
            if b is None:
                np.copyto(dst, result)
            else:
                np.add(result, b[g0 * c_out_g : g1 * c_out_g, None, None], out=dst)

    items = [(i, g0) for i in range(n) for g0 in range(0, groups, chunk)]
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 gives NaN, as in PyTorch
        run(items, work, macs * 8 if shared else 0)
    return y
