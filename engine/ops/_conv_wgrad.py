"""The weight and bias gradients of a convolution: G times the transposed im2col of x.

``grad_W[f, c, s, t] = sum over images and positions of G[f, pos] * x_padded[c, pos + tap]``.
Each way below splits the images and positions into pieces of about 1 MiB, so a piece's
columns stay in L2 between being copied and being multiplied; each thread sums its own run of
pieces into an accumulator of its own, and the accumulators are added at the end (in a fixed
order: the same result on every run). The ways, chosen per layer by
:func:`engine.ops._conv_backward.weight_grad`:

- im2col: the piece's im2col columns (as the forward copies them) times G's transpose, one
  matmul, with a row of ones in the columns so that the same matmul also sums G (the bias);
- 1x1 at stride 1: x itself is the im2col matrix, no copy;
- "flat shifted slices" (as :func:`engine.ops._conv._conv_flat`), at stride 1 with few
  channels: a tap's columns are one contiguous block of the flattened, padded map, so
  ``block @ G.T`` needs no copy at all if G is laid out with the padded map's row length
  (zeros in the ``W_pad - W_out`` extra columns). The copy that im2col saves counts most when
  the matmuls are thin; with more channels one deep matmul beats kh*kw shallow ones;
- depthwise: see :mod:`engine.ops._depthwise_backward`.

Measured on one core (ms, im2col / flat), batch 64 unless given: 3 -> 8 5x5 at 64x64 11.3 /
9.6; 8 -> 16 3x3 at 32x32 4.2 / 2.4; 16 -> 32 at 16x16 3.3 / 2.4; 3 -> 32 at 112x112, batch 8,
4.6 / 5.1; 32 -> 16 at 56x56, batch 8, 5.3 / 5.8; 64 -> 64 at 56x56, batch 8, 23.5 / 29.3.
"""

from __future__ import annotations

import numpy as np

from engine.ops._conv import _strided
from engine.ops._parallel import padded, workspace
from engine.ops._pieces import accumulate, extent, pieces, slack


def im2col_weight_grad(g4, x4, w_shape, stride, pads, dil, groups, out_hw, need_b):
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
    parts = pieces(n, ho, 4 * wo * (groups * rows_k + c_out))
    nb_most, band_most = extent(parts)
    lead = slack(band_most * wo)

    def piece(p, acc):
        i0, i1, r0, r1 = p
        nb, size = i1 - i0, (r1 - r0) * wo
        # created full of ones and only rows :k_g ever written, so the bias row stays ones
        buf = workspace(("wgrad-cols", nb_most, groups, k_g, rows_k, lead),
                        (nb_most, groups, rows_k, lead), 1.0)  # fmt: skip
        cols = buf[:nb, :, :, :size]  # (nb, G, K/G [+ 1], rows*W_out)
        np.copyto(cols[:, :, :k_g].reshape(nb, groups, c_in_g, kh, kw, r1 - r0, wo, copy=False),
                  windows[i0:i1, :, :, :, :, r0:r1])  # fmt: skip
        grad = g4[i0:i1, :, r0:r1].reshape(nb, groups, c_out_g, size)  # (nb, G, C_out/G, pos)
        part = workspace(("wgrad-part", nb_most, groups, rows_k, c_out_g),
                         (nb_most, groups, rows_k, c_out_g))[:nb]  # fmt: skip
        np.matmul(cols, grad.transpose(0, 1, 3, 2), out=part)
        acc += part.sum(axis=0) if nb > 1 else part[0]

    acc = accumulate(parts, piece, (groups, rows_k, c_out_g), n * c_out * ho * wo * k_g)
    # (G, C_in/G*kh*kw, C_out/G) -> (G, C_out/G, C_in/G*kh*kw) -> (C_out, C_in/G, kh, kw)
    grad_w = acc[:, :k_g].transpose(0, 2, 1).reshape(c_out, c_in_g, kh, kw)
    return np.ascontiguousarray(grad_w), (acc[:, k_g].reshape(c_out) if need_b else None)


def pointwise_weight_grad(g4, x4, w_shape, need_b):
    """1x1 at stride 1 without padding: ``x @ G.T`` straight from the input, no im2col."""
    n, c, h, wd = x4.shape
    c_out = w_shape[0]
    x4 = np.ascontiguousarray(x4)
    parts = pieces(n, h, 4 * wd * (c + c_out))

    def piece(p, acc):
        i0, i1, r0, r1 = p
        nb, size = i1 - i0, (r1 - r0) * wd
        src = x4[i0:i1, :, r0:r1].reshape(nb, c, size)  # (nb, C_in, pos), a view
        grad = g4[i0:i1, :, r0:r1].reshape(nb, c_out, size)  # (nb, C_out, pos)
        part = np.matmul(src, grad.transpose(0, 2, 1))  # (nb, C_in, C_out)
        acc[:c] += part.sum(axis=0)
        if need_b:
            acc[c] += grad.sum(axis=2).sum(axis=0)

    # (C_in + 1, C_out): the transposed gradient, and the bias in the last row
    acc = accumulate(parts, piece, (c + 1, c_out), n * c_out * h * wd * c)
    grad_w = np.ascontiguousarray(acc[:c].T).reshape(c_out, c, 1, 1)  # (C_out, C_in, 1, 1)
    return grad_w, (acc[c] if need_b else None)


def flat_weight_grad(g4, xp, w_shape, dil, out_hw, need_b):
    """Stride 1, ``xp`` padded and contiguous: per tap, ``block @ G.T`` with no im2col copy.

    (C_in, span) by (span, C_out) for each image of a piece, G copied once per piece into the
    padded map's row length. ``x`` must be finite (see
    :func:`engine.ops._conv_backward.weight_grad`).
    """
    n, c, _, wp = xp.shape
    c_out, _, kh, kw = w_shape
    (ho, wo), (dh, dw) = out_hw, dil
    s_n, s_c = xp.strides[:2]
    parts = pieces(n, ho, 4 * wp * (c + c_out))
    nb_most, band_most = extent(parts)

    def piece(p, acc):
        i0, i1, r0, r1 = p
        nb, rows = i1 - i0, r1 - r0
        # created full of zeros and only the first W_out columns of each row ever written (the
        # key holds every size that places the zeros: another layer must not see old values)
        gp = workspace(("wgrad-flat", nb_most, c_out, band_most, wp, wo),
                       (nb_most, c_out, band_most * wp), 0.0)[:nb, :, : rows * wp]  # fmt: skip
        # (nb, C_out, rows, W_pad): G in its first W_out columns
        np.copyto(gp.reshape(nb, c_out, rows, wp, copy=False)[..., :wo], g4[i0:i1, :, r0:r1])
        span = (rows - 1) * wp + wo  # from the piece's first output to its last, flattened
        g_t = gp[:, :, :span].transpose(0, 2, 1)  # (nb, span, C_out)
        # every tap's products, summed over the piece's images at the end: a call per tap
        # instead of three (on two threads the Python between numpy calls takes turns)
        part = workspace(("wgrad-flat-part", nb_most, kh * kw, c, c_out),
                         (kh * kw, nb_most, c, c_out))[:, :nb]  # fmt: skip
        for a in range(kh):
            for b in range(kw):
                start = i0 * s_n + ((r0 + a * dh) * wp + b * dw) * 4
                block = np.ndarray((nb, c, span), np.float32, xp, start, (s_n, s_c, 4))
                np.matmul(block, g_t, out=part[a * kw + b])  # (nb, C_in, C_out)
        acc[: kh * kw] += part.sum(axis=1)  # (kh*kw, C_in, C_out)
        if need_b:  # G's extra columns are zeros: its sum is the bias's gradient
            acc[-1, 0] += gp.sum(axis=2).sum(axis=0)

    # (kh*kw [+ 1], C_in, C_out): the transposed gradient per tap, and the bias
    acc = accumulate(parts, piece, (kh * kw + need_b, c, c_out), n * c_out * ho * wo * c * kh * kw)
    grad_w = np.ascontiguousarray(acc[: kh * kw].transpose(2, 1, 0)).reshape(c_out, c, kh, kw)
    return grad_w, (acc[-1, 0].copy() if need_b else None)
