"""Layer normalization over the last axis in float32, in row chunks shared by the threads.

ConvNeXt normalizes each pixel's channels (3136 rows of 96 values at its first stage, 18 times
a network). Each chunk of rows takes its means and variances as (rows, C) by (C,) products
(BLAS, without the GIL) and the rest as four in-place passes; the statistics of a row of at
most a few thousand values lose nothing that matters in float32 (ONNX's LayerNormalization
computes in float32 too). The float64 route it replaces made nine passes over twice the bytes.
"""

from __future__ import annotations

import numpy as np

from engine.ops._parallel import run, thread_count

# Most values a chunk: its rows stay in L2 between the passes.
_CHUNK = 1 << 16


def layer_norm_last(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the last axis of a float32 ``x``.

    ``weight`` and ``bias`` broadcast to the last axis (shape (C,) or (1,) or ()).
    """
    c = x.shape[-1]
    rows = np.ascontiguousarray(x, np.float32).reshape(-1, c)
    out = np.empty(rows.shape, np.float32)
    w = np.broadcast_to(np.asarray(weight, np.float32).reshape(-1), (c,))
    b = np.broadcast_to(np.asarray(bias, np.float32).reshape(-1), (c,))
    ones = np.full(c, 1.0 / c, np.float32)
    step = max(1, min(_CHUNK // c, -(-rows.shape[0] // thread_count())))
    eps32 = np.float32(eps)

    def work(r0):
        src, dst = rows[r0 : r0 + step], out[r0 : r0 + step]
        mean = src @ ones  # (rows,)
        np.subtract(src, mean[:, None], out=dst)  # centered
        var = np.square(dst) @ ones
        var += eps32
        np.sqrt(var, out=var)
        np.divide(np.float32(1.0), var, out=var)
        dst *= var[:, None]
        dst *= w
        dst += b

    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # NaN in, NaN out
        run(range(0, rows.shape[0], step), work, rows.size * 8)
    return out.reshape(x.shape)
