"""The convolution routines behind :func:`engine.ops.conv2d`, one per kind of layer.

All take checked arguments (see :func:`engine.ops._checks.conv_args`) and return a new float32
array (N, C_out, H_out, W_out). The ways, measured on a 2-core AVX-512 machine against
PyTorch's CPU kernels (see docs/benchmarks.md, "Engine"):

- a general convolution copies the k x k taps of a band of output rows into an im2col
  workspace with one ``np.copyto`` from a strided window view (0.5-2 MiB a band, so it stays in
  cache) and runs one ``np.matmul(..., out=...)`` per band straight into the output, the bias
  riding in the matmul when the map is large; a small map (ResNet's 14x14 and 7x7) that fits
  one band is split by input channels between the threads instead, and the partial outputs
  summed;
- a 1x1 convolution is a matmul with no copy, one per image or per thread
  (:mod:`engine.ops._pointwise_conv`);
- a single-filter convolution (Sobel) is a sum of shifted slices, separable kernels in two
  1-D passes;
- a grouped or depthwise layer copies its taps' flat shifted blocks and runs one batched
  product over its groups per band (:mod:`engine.ops._grouped`).

Why a shallow product runs in column pieces (:func:`engine.ops._gemm.matmul_into`): numpy's
OpenBLAS, on its AVX-512 cores, skips copying ("packing") B only while M * N * K <= 1e6; an
im2col B is a few rows by tens of thousands of columns, and packing it cost as much as the
product (8 -> 16 3x3 at 240x320: 1.7 ms of matmul a frame in pieces, 2.2 whole). Elsewhere
(AVX2 kernels) every piece is packed anyway, so products stay whole.
"""

from __future__ import annotations

import numpy as np

from engine.ops import _parallel
from engine.ops._gemm import matmul_into, piece_columns
from engine.ops._grouped import conv_grouped
from engine.ops._parallel import bands, padded, run, thread_count, workspace
from engine.ops._pointwise_conv import conv_1x1

# im2col band size (workspace + output band). A matmul as shallow as 3 x 3 taps of 3 channels
# is memory-bound and wants its band in L2; deeper ones run best at 2 MiB, or at 1 MiB in pieces,
# which read B unpacked from the band (8 -> 16 3x3 at 240x320: 3.5 ms a call, 4.0 at 2 MiB).
_BAND_BYTES = 1 << 21
_SHALLOW_BAND_BYTES = 1 << 19
# Depthwise and single filters spend more on Python per band than on memory: 1 MiB, in values.
_DEPTHWISE_BAND = 1 << 18
# Below this many multiply-accumulates an im2col convolution runs on the calling thread: handing
# bands to the pool cost more than it saved up to about 6 million (a 64x64 network's layers,
# 35-90 us each, were 20-40% slower on two threads). Its bands then keep the im2col columns in
# L2 between the copy and the matmul: 3 -> 8 5x5 at 64x64 took 88 us in one 1.2 MiB band, 67 in 3.
_SERIAL_WORK = 3 << 21
_SERIAL_BAND_BYTES = 1 << 19


def convolve(x4, w, b, stride, pads, dil, groups, out_hw) -> np.ndarray:
    """Choose the fastest of the equivalent ways for this shape; (N, C_out, H_out, W_out)."""
    c_out, c_in_g, kh, kw = w.shape
    c = x4.shape[1]
    if kh == kw == 1 and groups == 1 and not any(pads):
        return conv_1x1(x4, w, b, stride, out_hw)
    if groups > 1:  # grouped and depthwise: copied taps, one batched product over the groups
        return conv_grouped(x4, w, b, stride, pads, dil, groups, out_hw)
    if c_in_g == 1 and c_out == c:  # one filter on one channel (Sobel)
        return _conv_depthwise(x4, w, b, stride, pads, dil, out_hw)
    small = x4.shape[0] * c_out * out_hw[0] * out_hw[1] * c_in_g * kh * kw < _SERIAL_WORK
    if small and groups == 1 and stride == (1, 1):
        return _conv_flat(x4, w, b, pads, dil, out_hw)
    return _conv_im2col(x4, w, b, stride, pads, dil, out_hw)


def _conv_flat(x4, w, b, pads, dil, out_hw) -> np.ndarray:
    """A small stride-1 convolution on the calling thread, im2col by "flat shifted slices".

    Each im2col row of a band is one block of the flattened padded map, shifted by its tap's
    offset, so the copy is one contiguous run per tap instead of one per output row. The
    matmul then also computes the ``W_pad - W_out`` columns where a window wraps into the next
    row; a pass drops them. On large layers that extra work lost (see
    :func:`_conv_im2col`); on a 64x64 network's layers, where the copy's per-row cost counted,
    16 -> 32 3x3 at 16x16 took 29 us instead of 36, 8 -> 16 at 32x32 35 instead of 40 and
    3 -> 8 5x5 at 64x64 (three bands) 56 instead of 88.
    """
    n, c = x4.shape[:2]
    c_out, _, kh, kw = w.shape
    (ho, wo), (dh, dw) = out_hw, dil
    xp = padded(x4, pads, 0.0)
    if not xp.flags.c_contiguous:  # unpadded and strided: the blocks need back-to-back rows
        xp = np.ascontiguousarray(xp)
    wp = xp.shape[3]
    k = c * kh * kw
    fold = b is not None
    w2 = w.reshape(c_out, k)  # (C_out, C_in*kh*kw)
    if fold:  # the bias rides in the matmul: a column of W against a row of ones in cols
        w2 = np.concatenate([w2, b[:, None]], axis=1)  # (C_out, K + 1)
    most = max(1, _SERIAL_BAND_BYTES // (4 * (k + c_out) * wp))
    band = -(-ho // -(-ho // most))
    lead = band * wp + (16 if band * wp % 256 == 0 else 0)  # see _conv_im2col on aliasing
    # created full of ones and only rows :k ever written, so a folded bias row stays ones
    cols_buf = workspace(("flat", k, fold, lead), (k + fold, lead), 1.0)
    out_buf = workspace(("flat-out", c_out, lead), (c_out, lead))
    y = np.empty((n, c_out, ho, wo), np.float32)
    s_n, s_c, s_h, s_w = xp.strides
    for i, r0, r1 in bands(n, ho, band):
        rows = r1 - r0
        span = (rows - 1) * wp + wo  # from the band's first output to its last, flattened
        # every tap's shifted block, read-only: (C_in, kh, kw, span)
        taps = np.ndarray((c, kh, kw, span), np.float32, xp, i * s_n + r0 * s_h,
                          (s_c, s_h * dh, s_w * dw, s_w))
        cols = cols_buf[:, :span]
        np.copyto(cols[:k].reshape(c, kh, kw, span, copy=False), taps)
        matmul_into(w2, cols, out_buf[:, :span])
        # (C_out, rows, W_pad): the first W_out columns of each row are the outputs
        np.copyto(y[i, :, r0:r1], out_buf[:, : rows * wp].reshape(c_out, rows, wp)[:, :, :wo])
    return y


def _strided(a: np.ndarray, shape: tuple, strides: tuple) -> np.ndarray:
    """A view of ``a`` with the given shape and strides (only ever read).

    ``np.ndarray`` over a contiguous buffer costs 0.4 us; ``as_strided`` 2.4 us, which counts
    on a small network.
    """
    if a.flags.c_contiguous:
        return np.ndarray(shape, a.dtype, a, 0, strides)
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)


def _even_band(rows: int, most: int, n: int) -> int:
    """About ``most`` rows a band, in a number of bands that the threads share evenly.

    28 rows in bands of 13 would be 13 + 13 + 2, one thread doing two bands while the other
    waits: two bands of 14 are faster. A map that fits one band stays whole (the threads then
    split its input channels, see :func:`_in_parts`).
    """
    threads = thread_count()
    count = -(-rows // most)
    if 1 < count < 4 * threads and n == 1:
        count = max(threads, round(count / threads) * threads)
    return -(-rows // count)


def _in_parts(n_bands: int, c: int, work: float) -> list[tuple[int, int]]:
    """Ranges of input channels: all of them, or one per thread when there are too few bands.

    A small map (7x7 at 512 channels) fits one band. Each thread then takes a share of the
    input channels, copies only their columns and multiplies them by its slice of W; the
    partial outputs are summed afterwards (a pass over a small output). Splitting the filters
    instead made each thread copy all the columns.
    """
    threads = thread_count()
    if n_bands >= threads or work < _parallel._THREAD_MIN_WORK or c < 2 * threads:
        return [(0, c)]
    step = -(-c // threads)
    return [(c0, min(c0 + step, c)) for c0 in range(0, c, step)]


def _conv_im2col(x4, w, b, stride, pads, dil, out_hw) -> np.ndarray:
    """im2col band by band (or, on a small map, by input channels), one matmul per piece.

    (Tried and dropped: "flat shifted slices", where a stride-1 layer's im2col rows are block
    copies of the flattened padded map and the matmul computes kw - 1 extra columns per row
    that are dropped afterwards. The copy got 2-3x faster, but the extra columns and the pass
    that drops them cost more: 5-60% slower on every ResNet/VGG shape measured.)
    """
    n, c = x4.shape[:2]
    c_out, _, kh, kw = w.shape
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    xp = padded(x4, pads, 0.0)
    k = c * kh * kw
    w2 = w.reshape(c_out, k)  # (C_out, C_in*kh*kw)
    macs = n * c_out * ho * wo * k
    parts = [(0, c)]
    if macs < _SERIAL_WORK:  # one thread: as many bands as keep the columns in L2
        most = max(1, _SERIAL_BAND_BYTES // (4 * (k + c_out) * wo))
        band = -(-ho // -(-ho // most))
    else:
        budget = _SHALLOW_BAND_BYTES if k <= 32 else _BAND_BYTES >> (piece_columns(c_out, k) > 0)
        band = _even_band(ho, max(1, budget // (4 * (k + c_out) * wo)), n)
        parts = _in_parts(n * -(-ho // band), c, macs)
    # The bias rides in the matmul (a column of W against a row of ones in cols) when the
    # output is large next to the weights: adding it afterwards is another pass over the output
    # (+35% on a shallow layer), while the column means a copy of W on every call (0.17 ms or
    # more for ResNet's 512 x 4608, whose 7x7 layer now takes 1 ms in all).
    fold = b is not None and len(parts) == 1 and k * 4 < n * ho * wo
    if fold:
        w2 = np.concatenate([w2, b[:, None]], axis=1)  # (C_out, K + 1)
    k_rows = k + fold  # rows of the im2col matrix
    items = [(i, r0, r1, p) for i, r0, r1 in bands(n, ho, band) for p in range(len(parts))]
    # Rows of cols a multiple of 1 KiB apart hit the same cache sets when BLAS packs them:
    # an 8 x 76 by 76 x 4096 matmul took 100 us instead of 46. A little slack avoids it.
    lead = band * wo + (16 if band * wo % 256 == 0 else 0)
    # every window of every output position as a read-only view, no copy:
    # (N, C_in, kh, kw, H_out, W_out); one copyto per band then fills the im2col workspace
    s_n, s_c, s_h, s_w = xp.strides
    windows = _strided(xp, (n, c, kh, kw, ho, wo),
                       (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw))  # fmt: skip
    y = np.empty((n, c_out, ho, wo), np.float32)
    # the other channel ranges' partial sums, added into y at the end: (C_out, H_out*W_out)
    partial = [np.empty((n, c_out, ho * wo), np.float32) for _ in parts[1:]]

    def work(item):
        i, r0, r1, p = item
        c0, c1 = parts[p]
        rows, taps = r1 - r0, kh * kw
        # created full of ones and only rows :K ever written, so a folded bias row stays ones
        buf = workspace(("cols", k_rows, band, wo, fold), (k_rows, lead), 1.0)
        k_part = (c1 - c0) * taps + fold
        cols = buf[:k_part, : rows * wo]  # (K [+ 1], rows*W_out), rows `lead` apart
        src = windows[i, c0:c1, :, :, r0:r1]
        np.copyto(cols[: (c1 - c0) * taps].reshape(c1 - c0, kh, kw, rows, wo, copy=False), src)
        w_p = w2 if len(parts) == 1 else w2[:, c0 * taps : c1 * taps]
        if p:  # a later channel range: into its own partial output
            dst = partial[p - 1][i, :, r0 * wo : r1 * wo]
        else:  # (C_out, rows*W_out): a view into y, the matmul writes the output in place
            dst = y[i, :, r0:r1].reshape(c_out, rows * wo, copy=False)
        matmul_into(w_p, cols, dst)  # in pieces where that pays (see the module's docstring)
        if b is not None and not fold and len(parts) == 1:
            dst += b[:, None]

    run(items, work, macs if macs >= _SERIAL_WORK else 0)
    if partial:
        flat = y.reshape(n, c_out, ho * wo)
        for extra in partial:
            flat += extra
        if b is not None:
            flat += b[:, None]
    return y


def _separable(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(column, row) factors when the 2-D kernel is an outer product, like Sobel or Gaussian.

    The factors are a column and a scaled row of the kernel itself (not an SVD), so integer
    kernels such as Sobel keep integer factors and give exact results. A kernel with a NaN or
    infinite weight is never split: its plain sum is what PyTorch gives.
    """
    if min(kernel.shape) < 2:
        return None
    k = kernel.astype(np.float64)
    if not np.isfinite(k).all():
        return None
    i, j = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    if k[i, j] == 0:
        return None
    col, row = k[:, j], k[i, :] / k[i, j]
    if not np.allclose(np.outer(col, row), k, rtol=0, atol=1e-7 * abs(k[i, j])):
        return None
    lead = col[np.flatnonzero(col)[0]]  # move the column's scale into the row: [1, 2, 1]
    return col / lead, row * lead


def _all_finite(a: np.ndarray) -> bool:
    """Whether ``a`` holds no NaN or infinity, in one BLAS pass (a third of ``isfinite().all()``).

    The dot product of ``a`` with itself is NaN or infinite when any value is; a finite one
    that overflows only costs the caller its shortcut. It is taken as a (1, n) by (n,) product
    because numpy lets other threads (the GUI's) run meanwhile; with two vectors it holds the GIL.
    """
    flat = a.reshape(-1)  # (H * W,): a view when the rows are back to back
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.dot(flat[None], flat)[0]))


def _weighted_sum(dst: np.ndarray, terms: list, skip_zeros: bool = True) -> None:
    """dst = sum of weight * source over (source, weight) terms.

    Zero weights are skipped (when ``skip_zeros``: only for sources known to be finite, since
    0 * NaN is NaN) and weights of +-1 become plain additions and subtractions: a Sobel pass is
    then one ``np.subtract`` instead of two multiplies and an add.
    """
    if skip_zeros:
        terms = [(src, wt) for src, wt in terms if np.any(wt)]
    unit = [(src, float(wt)) for src, wt in terms if np.ndim(wt) == 0 and abs(wt) == 1]
    other = [(src, wt) for src, wt in terms if np.ndim(wt) != 0 or abs(wt) != 1]
    if not terms:
        dst[...] = 0.0
        return
    if len(unit) >= 2:
        (first, w1), (second, w2) = unit[:2]
        if w1 == w2:
            np.add(first, second, out=dst)
            if w1 < 0:
                np.negative(dst, out=dst)
        else:
            np.subtract(first, second, out=dst) if w1 > 0 else np.subtract(second, first, out=dst)
        unit = unit[2:]
    elif other:
        src, wt = other.pop(0)
        np.multiply(src, np.asarray(wt, np.float32), out=dst)
    else:
        src, wt = unit.pop(0)
        np.copyto(dst, src) if wt > 0 else np.negative(src, out=dst)
    for src, wt in unit:
        np.add(dst, src, out=dst) if wt > 0 else np.subtract(dst, src, out=dst)
    tmp = None
    for src, wt in other:
        tmp = np.multiply(src, np.asarray(wt, np.float32), out=tmp)
        dst += tmp


def _conv_depthwise(x4, w, b, stride, pads, dil, out_hw) -> np.ndarray:
    """Each channel with its own k x k filter: a sum of shifted slices, no im2col.

    A single separable filter (Sobel, Gaussian) runs as a horizontal then a vertical 1-D pass.
    Zero taps are skipped only when the input is all finite: a NaN under a zero weight still
    makes the sum NaN, as in PyTorch.
    """
    n, c = x4.shape[:2]
    kh, kw = w.shape[2:]
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    xp = padded(x4, pads, 0.0)
    y = np.empty((n, c, ho, wo), np.float32)
    factors = _separable(w[0, 0]) if c == 1 else None
    wk = w[:, 0].astype(np.float64)  # (C, kh, kw)
    # a zero weight (in every channel) that the sums could skip: Sobel's middle column
    zero_taps = (
        not (np.all(factors[0]) and np.all(factors[1]))
        if factors is not None
        else not np.any(wk, axis=0).all()
    )
    # Skipping them is right only for a finite input (0 * NaN is NaN). One check of the whole
    # input before the threads start: in the bands it cost 3-4x more (60 us on a 480x640
    # image, the two threads competing), here 15 us.
    skip = not zero_taps or _all_finite(xp)
    # known finite input and weights: no inf * 0 or inf - inf, so no need to silence them
    finite = zero_taps and skip and bool(np.isfinite(wk).all())
    band = max(1, min(ho, _DEPTHWISE_BAND // (c * wo)))

    def cols(a, t):  # the t-th horizontal tap of every row of a
        return a[..., t * dw : t * dw + (wo - 1) * sw + 1 : sw]

    def work(item):
        if finite:
            _band(*item)
            return
        # an infinite weight or value gives NaN (inf * 0, inf - inf) quietly, as in PyTorch
        with np.errstate(invalid="ignore", over="ignore"):
            _band(*item)

    def _band(i, r0, r1):
        rows = r1 - r0
        dst = y[i, :, r0:r1]
        top = r0 * sh
        if factors is not None:
            col, row = factors
            h_rows = (rows - 1) * sh + (kh - 1) * dh + 1  # input rows the band needs
            most = (band - 1) * sh + (kh - 1) * dh + 1
            mid = workspace(("sep", c, most, wo), (c, most, wo))[:, :h_rows]
            _weighted_sum(
                mid, [(cols(xp[i, :, top : top + h_rows], t), row[t]) for t in range(kw)], skip
            )
            _weighted_sum(
                dst,
                [(mid[:, t * dh : t * dh + (rows - 1) * sh + 1 : sh], col[t]) for t in range(kh)],
                skip,
            )
        else:
            terms = []
            for a in range(kh):
                src = xp[i, :, top + a * dh : top + a * dh + (rows - 1) * sh + 1 : sh]
                terms += [(cols(src, t), wk[:, a, t, None, None] if c > 1 else wk[0, a, t])
                          for t in range(kw)]  # fmt: skip
            _weighted_sum(dst, terms, skip)
        if b is not None:
            dst += b[:, None, None]

    run(bands(n, ho, band), work, n * c * ho * wo * kh * kw * 8)
    return y
