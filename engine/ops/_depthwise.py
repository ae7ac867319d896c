"""Depthwise convolution (each channel its own k x k filter: MobileNet, EfficientNet, MnasNet,
ShuffleNet, ConvNeXt) as a sum of long, contiguous multiply-adds.

A tap's window over a whole map is one block of the flattened padded map shifted by the tap's
offset ("flat shifted slices"): ``acc[c] += w[c, a, b] * x_flat[c, a * W_pad + b : ...]`` runs
over ``H_out * W_pad`` values at once instead of ``H_out`` short rows, and computes the few
``W_pad - W_out`` columns of each row that wrap around, dropped at the end. A strided layer
first splits the padded map into its ``s x s`` phases (every s-th row and column), where every
tap is again a stride-1 shifted block. Channels are processed in chunks whose planes stay in the
L2 cache, shared among the threads.

Measured on EfficientNet-B0's and MobileNetV2's layers (2 cores, AVX-512): 3-6x faster than
a shifted-slice sum row by row (the engine's previous depthwise routine).
"""

from __future__ import annotations

import numpy as np

from engine.ops._parallel import run, workspace

__all__ = ["conv_depthwise"]

# Values of one channel chunk's phases and accumulators kept in L2 (1 MiB a core).
_CHUNK_VALUES = 1 << 17


def conv_depthwise(x4, w, b, stride, pads, dil, out_hw) -> np.ndarray:
    """(N, C, H, W) -> (N, C, H_out, W_out) for weight (C, 1, kh, kw); arguments checked."""
    n, c, h, wd = x4.shape
    kh, kw = w.shape[2:]
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    top, bottom, left, right = pads
    hq, wq = -(-(h + top + bottom) // sh), -(-(wd + left + right) // sw)  # a phase's size
    span = (ho - 1) * wq + wo  # from the first output to the last, flattened
    taps = []  # (phase, flat offset, weights (C,)) for every tap
    for a in range(kh):
        for t in range(kw):
            row, col = a * dh, t * dw
            phase = (row % sh) * sw + col % sw
            taps.append((phase, (row // sh) * wq + col // sw, np.ascontiguousarray(w[:, 0, a, t])))
    # where each phase's real pixels go: (phase, rows of x, columns of x, first row, first col)
    places = []
    for p in range(sh):
        for q in range(sw):
            r0, c0 = (p - top) % sh, (q - left) % sw
            places.append((p * sw + q, slice(r0, None, sh), slice(c0, None, sw),
                           (r0 + top) // sh, (c0 + left) // sw))
    per_channel = sh * sw * hq * wq + 2 * ho * wq
    chunk = max(1, min(c, _CHUNK_VALUES // per_channel))
    y = np.empty((n, c, ho, wo), np.float32)

    def work(item):
        i, c0 = item
        c1 = min(c0 + chunk, c)
        k = c1 - c0
        # zero borders written once, when the workspace is made; only the interior changes
        planes = workspace(("dw-phases", c, h, wd, pads, stride, chunk),
                           (sh * sw, chunk, hq, wq), 0.0)
        for phase, rows, cols, r_first, c_first in places:
            src = x4[i, c0:c1, rows, cols]
            planes[phase, :k, r_first : r_first + src.shape[1],
                   c_first : c_first + src.shape[2]] = src
        flat = planes.reshape(sh * sw, chunk, hq * wq)
        acc = workspace(("dw-acc", chunk, ho, wq), (chunk, ho * wq))
        tmp = workspace(("dw-tmp", chunk, ho, wq), (chunk, ho * wq))
        out, scratch = acc[:k, :span], tmp[:k, :span]
        for j, (phase, offset, weights) in enumerate(taps):
            src = flat[phase, :k, offset : offset + span]
            if j == 0:
                np.multiply(src, weights[c0:c1, None], out=out)
            else:
                np.multiply(src, weights[c0:c1, None], out=scratch)
                np.add(out, scratch, out=out)
        result = acc[:k].reshape(k, ho, wq)[:, :, :wo]
        if b is None:
            np.copyto(y[i, c0:c1], result)
        else:
            np.add(result, b[c0:c1, None, None], out=y[i, c0:c1])

    items = [(i, c0) for i in range(n) for c0 in range(0, c, chunk)]
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 gives NaN, as in PyTorch
        run(items, work, n * c * ho * wo * kh * kw * 8)
    return y
