"""The weight and bias gradients of a convolution: G times the transposed im2col of x.

``grad_W[f, c, s, t] = sum over images and positions of G[f, pos] * x_padded[c, pos + tap]``.
Each way below splits the images and positions into pieces of about 1 MiB, so a piece's
columns stay in L2 between being copied and being multiplied; each thread sums its own run of
pieces into an accumulator of its own, and the accumulators are added at the end (in a fixed
order: the same result on every run). The ways, chosen per layer in :func:`weight_grad`:

- im2col: the piece's im2col columns (as the forward copies them) times G's transpose, one
  matmul, with a row of ones in the columns so that the same matmul also sums G (the bias);
- 1x1 at stride 1: x itself is the im2col matrix, no copy;
- depthwise: per tap, a dot product of each channel's G with its shifted input, batched over
  the channels (numpy runs them as one call), "flat" as below at stride 1.

"Flat shifted slices" (as :func:`engine.ops._conv._conv_flat`): at stride 1 a tap's columns are
one contiguous block of the flattened, padded map, so ``G @ block.T`` needs no copy at all if G
is laid out with the padded map's row length (zeros in the ``W_pad - W_out`` extra columns).
"""

from __future__ import annotations

import numpy as np

from engine.ops import _parallel
from engine.ops._conv import _strided
from engine.ops._parallel import padded, quietly, run, thread_count, workspace

# A piece of a weight gradient: its columns (and G's rows) in bytes, about L2's size.
_WGRAD_BAND_BYTES = 1 << 20


def weight_grad(g4, x4, w_shape, stride, pads, dil, groups, out_hw, need_b):
    """(grad_W, grad_b or None): grad_b comes along when the way computes it for free."""
    c_out, c_in_g, kh, kw = w_shape
    if c_in_g == 1 and c_out == x4.shape[1]:
        return _depthwise(g4, x4, w_shape, stride, pads, dil, out_hw), None
    if kh == kw == 1 and stride == (1, 1) and not any(pads) and groups == 1:
        return _pointwise(g4, x4, w_shape), None
    return _im2col(g4, x4, w_shape, stride, pads, dil, groups, out_hw, need_b)


def _pieces(n, ho, row_bytes, budget=None) -> list[tuple[int, int, int, int]]:
    """(first image, end image, first row, end row): whole images together when they are
    small, bands of rows of one image when they are large; at least one piece per thread."""
    budget = _WGRAD_BAND_BYTES if budget is None else budget
    threads = thread_count()
    if row_bytes * ho <= budget:
        nb = max(1, min(budget // (row_bytes * ho), -(-n // threads)))
        return [(i, min(i + nb, n), 0, ho) for i in range(0, n, nb)]
    band = max(1, budget // row_bytes)
    if n < threads:  # one image: share its rows
        band = min(band, -(-ho // threads))
    return [(i, i + 1, r, min(r + band, ho)) for i in range(n) for r in range(0, ho, band)]


def _accumulate(pieces, fn, shape, work) -> np.ndarray:
    """The sum of ``fn(piece, acc)`` over the pieces, each thread on a run of them."""
    threads = thread_count() if work >= _parallel._THREAD_MIN_WORK else 1
    t = max(1, min(threads, len(pieces)))
    runs = [pieces[j * len(pieces) // t : (j + 1) * len(pieces) // t] for j in range(t)]
    accs = [np.zeros(shape, np.float32) for _ in runs]

    def work_on(j):
        for piece in runs[j]:
            fn(piece, accs[j])

    run(range(t), quietly(work_on), work)
    total = accs[0]
    for acc in accs[1:]:
        total += acc
    return total


def _slack(values: int) -> int:
    """``values`` plus a little, so rows of a workspace are not a multiple of 1 KiB apart
    (see :func:`engine.ops._conv._conv_im2col`: BLAS's packing then hits the same cache sets)."""
    return values + (16 if values % 256 == 0 else 0)


def _im2col(g4, x4, w_shape, stride, pads, dil, groups, out_hw, need_b):
    """``cols @ G.T`` per piece: (G, C_in/G*kh*kw [+ 1], C_out/G), the transposed gradient.

    Computing the transpose is the faster order for BLAS here (the long positions axis is
    then the contiguous one of both operands): 64 x 576 by 3136 positions took 2.9 ms against
    4.5 ms for ``G @ cols.T`` on one core.
    """
    n = x4.shape[0]
    c_out, c_in_g, kh, kw = w_shape
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    k_g, c_out_g = c_in_g * kh * kw, c_out // groups
    rows_k = k_g + need_b  # the bias rides as a last row of ones in each group's columns
    xp = padded(x4, pads, 0.0)
    s_n, s_c, s_h, s_w = xp.strides
    # every window of every output position, read-only: (N, G, C_in/G, kh, kw, H_out, W_out)
    strides = (s_n, c_in_g * s_c, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw)
    windows = _strided(xp, (n, groups, c_in_g, kh, kw, ho, wo), strides)
    pieces = _pieces(n, ho, 4 * wo * (groups * rows_k + c_out))
    nb_most = max(i1 - i0 for i0, i1, _, _ in pieces)
    lead = _slack(max(r1 - r0 for _, _, r0, r1 in pieces) * wo)

    def piece(p, acc):
        i0, i1, r0, r1 = p
        nb, size = i1 - i0, (r1 - r0) * wo
        # created full of ones and only rows :k_g ever written, so the bias row stays ones
        buf = workspace(("wgrad-cols", nb_most, groups, rows_k, lead),
                        (nb_most, groups, rows_k, lead), 1.0)  # fmt: skip
        cols = buf[:nb, :, :, :size]  # (nb, G, K/G [+ 1], rows*W_out)
        np.copyto(cols[:, :, :k_g].reshape(nb, groups, c_in_g, kh, kw, r1 - r0, wo, copy=False),
                  windows[i0:i1, :, :, :, :, r0:r1])  # fmt: skip
        grad = g4[i0:i1, :, r0:r1].reshape(nb, groups, c_out_g, size)  # (nb, G, C_out/G, pos)
        part = workspace(("wgrad-part", nb_most, groups, rows_k, c_out_g),
                         (nb_most, groups, rows_k, c_out_g))[:nb]  # fmt: skip
        np.matmul(cols, grad.transpose(0, 1, 3, 2), out=part)
        acc += part.sum(axis=0) if nb > 1 else part[0]

    acc = _accumulate(pieces, piece, (groups, rows_k, c_out_g), n * c_out * ho * wo * k_g)
    grad_w = acc[:, :k_g].transpose(0, 2, 1).reshape(c_out, c_in_g, kh, kw)
    return np.ascontiguousarray(grad_w), (acc[:, k_g].reshape(c_out) if need_b else None)


def _pointwise(g4, x4, w_shape) -> np.ndarray:
    """1x1 at stride 1 without padding: ``x @ G.T`` straight from the input, no im2col."""
    n, c, h, wd = x4.shape
    c_out = w_shape[0]
    x4 = np.ascontiguousarray(x4)
    pieces = _pieces(n, h, 4 * wd * (c + c_out))

    def piece(p, acc):
        i0, i1, r0, r1 = p
        nb, size = i1 - i0, (r1 - r0) * wd
        src = x4[i0:i1, :, r0:r1].reshape(nb, c, size)  # (nb, C_in, pos), a view
        grad = g4[i0:i1, :, r0:r1].reshape(nb, c_out, size)
        part = np.matmul(src, grad.transpose(0, 2, 1))  # (nb, C_in, C_out)
        acc += part.sum(axis=0)

    acc = _accumulate(pieces, piece, (c, c_out), n * c_out * h * wd * c)
    return np.ascontiguousarray(acc.T).reshape(c_out, c, 1, 1)


def _depthwise(g4, x4, w_shape, stride, pads, dil, out_hw) -> np.ndarray:
    """Each channel's k x k weights: one dot product a tap, batched over images and channels."""
    n, c = x4.shape[:2]
    kh, kw = w_shape[2:]
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    xp = padded(x4, pads, 0.0)
    flat = stride == (1, 1)
    if flat and not xp.flags.c_contiguous:
        xp = np.ascontiguousarray(xp)
    wp = xp.shape[3]
    s_n, s_c, s_h, s_w = xp.strides
    row = wp if flat else wo  # G's row length in the piece's layout
    pieces = _pieces(n, ho, 4 * c * (row + sh * wp), 1 << 19)
    nb_most = max(i1 - i0 for i0, i1, _, _ in pieces)
    band_most = max(r1 - r0 for _, _, r0, r1 in pieces)

    def piece(p, acc):
        i0, i1, r0, r1 = p
        nb, rows = i1 - i0, r1 - r0
        part = workspace(("dw-wgrad", nb_most, c), (nb_most, c, 1, 1))[:nb]
        if flat:
            # G with the padded rows' length, zeros past W_out: (nb, C, rows*W_pad)
            gp = workspace(("dw-wgrad-g", nb_most, c, band_most * wp),
                           (nb_most, c, band_most * wp), 0.0)[:nb, :, : rows * wp]  # fmt: skip
            np.copyto(gp.reshape(nb, c, rows, wp)[..., :wo], g4[i0:i1, :, r0:r1])
            span = (rows - 1) * wp + wo  # from the piece's first output to its last
            lhs = gp[:, :, None, :span]  # (nb, C, 1, span)
        else:
            lhs = g4[i0:i1, :, r0:r1].reshape(nb, c, 1, rows * wo)  # (nb, C, 1, pos), a view
            tap = workspace(("dw-wgrad-x", nb_most, c, band_most * wo),
                            (nb_most, c, band_most * wo))[:nb, :, : rows * wo]  # fmt: skip
        for a in range(kh):
            for b in range(kw):
                y0 = r0 * sh + a * dh
                if flat:  # the tap's block of the flattened padded map: (nb, C, span, 1)
                    start = i0 * s_n + y0 * s_h + b * dw * s_w
                    rhs = np.ndarray((nb, c, span, 1), np.float32, xp, start, (s_n, s_c, 4, 4))
                else:  # a strided tap, copied to G's layout first: BLAS wants unit steps
                    np.copyto(tap.reshape(nb, c, rows, wo),
                              xp[i0:i1, :, y0 : y0 + (rows - 1) * sh + 1 : sh,
                                 b * dw : b * dw + (wo - 1) * sw + 1 : sw])  # fmt: skip
                    rhs = tap[..., None]
                np.matmul(lhs, rhs, out=part)  # (nb, C, 1, 1): one dot product a channel
                acc[:, a * kw + b] += part.sum(axis=0).reshape(c) if nb > 1 else part[0, :, 0, 0]

    acc = _accumulate(pieces, piece, (c, kh * kw), n * c * ho * wo * kh * kw * 8)
    return acc.reshape(c, 1, kh, kw)
