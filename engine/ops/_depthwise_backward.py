"""The backward pass of a depthwise convolution (each channel its own k x k filter).

No matmul has more than one channel in it, so both gradients run as kh*kw calls batched over
images and channels, never a Python loop over channels:

- weight: for every tap, a dot product of each channel's G with the channel's shifted input:
  one batched matmul of (1, span) rows (each tap's block, read in place) by (span, 1) columns
  per piece, BLAS dot products in one call;
- input, stride 1: the transposed convolution is a depthwise convolution of G (re-padded) with
  the flipped filters; its kh*kw taps are blocks of the flat G map ("flat shifted slices",
  see :func:`engine.ops._pieces.flat_source`), all copied by one ``copyto`` from an
  overlapping window view, then one batched (1, kh kw) by (kh kw, span) product per channel;
- input, larger strides (or a non-finite filter): each tap's ``G * w`` added into place.

Measured at 32 channels, 112x112, batch 4 (ms): weight 2.3 on one core and 1.6 on two as dot
products (a call per tap: 2.7 and 2.4, see _DEPTHWISE_WGRAD_BYTES), about twice that as einsum
or as multiply-and-sum slices, and 3.5 on two as copies and products; input 3.4 on one core
and 1.9 on two as one copy and a product per piece (4.5 and 4.3 with a copy per tap; 6.4 on
one core through the forward's depthwise convolution of G).
"""

from __future__ import annotations

import numpy as np

from engine.ops._conv import _all_finite
from engine.ops._parallel import padded, quietly, run, workspace
from engine.ops._pieces import accumulate, extent, flat_source, pieces, slack

# Depthwise pieces are bigger than the others': fewer, longer calls won. The input's, 32
# channels at 112x112, batch 4, on two cores (ms at 1 / 2 / 4 MiB): 2.4 / 2.6 / 1.9.
_DEPTHWISE_PIECE_BYTES = 1 << 22
# The weight's: numpy runs a batched matmul without the GIL only when it makes some 500
# values or more, and a piece makes C kh kw per image; at 8 MiB the layer above takes two
# images a piece (576 values) and ran in 1.6 ms on two cores against 2.5 at 4 MiB (one image,
# 288 values, the threads taking turns).
_DEPTHWISE_WGRAD_BYTES = 1 << 23


def depthwise_weight_grad(g4, x4, w_shape, stride, pads, dil, out_hw, need_b):
    """((C, 1, kh, kw), (C,) or None): each channel's G dotted with each tap's shifted input;
    G summed for the bias."""
    n, c = x4.shape[:2]
    kh, kw = w_shape[2:]
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    xp = flat_source(x4, pads) if stride == (1, 1) else padded(x4, pads, 0.0)
    # Flat blocks also multiply the zeros in G's extra columns by real x values: only for a
    # finite x is that always 0.
    flat = stride == (1, 1) and _all_finite(xp)
    wp = xp.shape[3]
    s_n, s_c, s_h, s_w = xp.strides
    row = wp if flat else wo  # G's row length in a piece's layout
    parts = pieces(n, ho, 4 * c * (row + sh * wp), _DEPTHWISE_WGRAD_BYTES)
    nb_most, band_most = extent(parts)

    def piece(p, acc):
        i0, i1, r0, r1 = p
        nb, rows = i1 - i0, r1 - r0
        if flat:
            # G with the padded rows' length, zeros past W_out: (nb, C, rows*W_pad)
            # keyed by every size that places the zeros: another layer must not see old values
            gp = workspace(("dw-wgrad-g", nb_most, c, band_most, wp, wo),
                           (nb_most, c, band_most * wp), 0.0)[:nb, :, : rows * wp]  # fmt: skip
            # (nb, C, rows, W_pad): G in its first W_out columns
            np.copyto(gp.reshape(nb, c, rows, wp, copy=False)[..., :wo], g4[i0:i1, :, r0:r1])
            span = (rows - 1) * wp + wo  # from the piece's first output to its last
            rhs = gp[:, :, :span, None]  # (nb, C, span, 1)
        else:
            rhs = g4[i0:i1, :, r0:r1].reshape(nb, c, rows * wo, 1)  # (nb, C, pos, 1), a view
            tap = workspace(("dw-wgrad-x", nb_most, c, band_most * wo),
                            (nb_most, c, band_most * wo))[:nb, :, : rows * wo]  # fmt: skip
        part = workspace(("dw-wgrad", nb_most, c, kh * kw), (nb_most, c, kh, kw, 1, 1))[:nb]
        if flat:
            # every tap's block of the flattened padded map, as (1, span) rows: one batched
            # call for all taps (nb, C, kh, kw, 1, span), read-only and overlapping
            lhs = np.ndarray((nb, c, kh, kw, 1, span), np.float32, xp, i0 * s_n + r0 * s_h,
                             (s_n, s_c, dh * s_h, dw * s_w, 4, 4))  # fmt: skip
            np.matmul(lhs, rhs[:, :, None, None], out=part)  # (nb, C, kh, kw, 1, 1)
        else:
            for a in range(kh):
                y0 = r0 * sh + a * dh
                for b in range(kw):  # a strided tap, copied to G's layout: BLAS wants unit steps
                    np.copyto(tap.reshape(nb, c, rows, wo, copy=False),  # (nb, C, rows, W_out)
                              xp[i0:i1, :, y0 : y0 + (rows - 1) * sh + 1 : sh,
                                 b * dw : b * dw + (wo - 1) * sw + 1 : sw])  # fmt: skip
                    np.matmul(tap[:, :, None], rhs, out=part[:, :, a, b])  # (nb, C, 1, 1)
        acc[:, : kh * kw] += part.reshape(nb, c, kh * kw).sum(axis=0)
        if need_b:  # (in the flat layout, G's extra columns are zeros)
            acc[:, -1] += rhs[..., 0].sum(axis=2).sum(axis=0)

    # (C, kh*kw [+ 1]): each channel's taps, and its bias
    acc = accumulate(parts, piece, (c, kh * kw + need_b), n * c * ho * wo * kh * kw * 8)
    grad_w = np.ascontiguousarray(acc[:, : kh * kw]).reshape(c, 1, kh, kw)  # (C, 1, kh, kw)
    return grad_w, (acc[:, -1].copy() if need_b else None)


def depthwise_input_grad(g4, w, x_shape, stride, pads, dil, out_hw, g_pads) -> np.ndarray:
    """(N, C, H, W). ``g_pads``: G's (crop, pad) for the stride-1 form, or None for scatter."""
    if g_pads is None:
        return _scatter(g4, w, x_shape, stride, pads, dil, out_hw)
    n, c, h, wd = x_shape
    kh, kw = w.shape[2:]
    dh, dw = dil
    taps = kh * kw
    crop, gpad = g_pads
    src = g4[:, :, crop[0] : g4.shape[2] - crop[1], crop[2] : g4.shape[3] - crop[3]]
    gp = flat_source(src, gpad)  # (N, C, H + reach, W + reach)
    wg = gp.shape[3]
    s_n, s_c = gp.strides[:2]
    w_f = np.ascontiguousarray(w[:, 0, ::-1, ::-1]).reshape(c, 1, taps)  # flipped: (C, 1, taps)
    gx = np.empty((n, c, h, wd), np.float32)
    parts = pieces(n, h, 4 * c * wg * (taps + 1), _DEPTHWISE_PIECE_BYTES)
    nb_most, band_most = extent(parts)
    lead = slack(band_most * wg)

    def work(p):
        i0, i1, r0, r1 = p
        nb, rows = i1 - i0, r1 - r0
        span = (rows - 1) * wg + wd  # from the piece's first output to its last, flattened
        cols = workspace(("dw-xgrad", nb_most, c, taps, lead),
                         (nb_most, c, taps, lead))[:nb, :, :, :span]  # fmt: skip
        # every tap's block at once, read-only and overlapping: (nb, C, kh, kw, span)
        blocks = np.ndarray((nb, c, kh, kw, span), np.float32, gp, i0 * s_n + r0 * wg * 4,
                            (s_n, s_c, dh * wg * 4, dw * 4, 4))  # fmt: skip
        np.copyto(cols.reshape(nb, c, kh, kw, span, copy=False), blocks)
        # (nb, C, 1, rows*W_g): one (1, kh*kw) by (kh*kw, span) product per image and channel
        out = workspace(("dw-xgrad-out", nb_most, c, band_most * wg),
                        (nb_most, c, 1, band_most * wg))[:nb, :, :, : rows * wg]  # fmt: skip
        np.matmul(w_f, cols, out=out[..., :span])  # (nb, C, 1, span)
        # (nb, C, rows, W_g): the first W columns of each row are the gradient
        np.copyto(gx[i0:i1, :, r0:r1], out.reshape(nb, c, rows, wg)[..., :wd])

    run(parts, quietly(work), n * c * h * wd * taps * 4)  # pieces write disjoint rows
    return gx


def _scatter(g4, w, x_shape, stride, pads, dil, out_hw) -> np.ndarray:
    """Any stride: each tap's G * w added into a zeroed, padded gradient, then cropped.

    The maps of all images are one axis (N*C), each with its channel's weights; a piece is a
    run of maps, so no two pieces touch the same cells however the windows overlap.
    """
    n, c, h, wd = x_shape
    kh, kw = w.shape[2:]
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    top, bottom, left, right = pads
    gxp = np.zeros((n * c, h + top + bottom, wd + left + right), np.float32)
    grads = g4.reshape(n * c, ho, wo)  # (N*C, H_out, W_out), a view
    # each map's own k x k weights: (N*C, kh, kw, 1, 1), broadcast over rows and columns
    wk = np.ascontiguousarray(np.broadcast_to(w[None, :, 0], (n, c, kh, kw)))
    wk = wk.reshape(n * c, kh, kw, 1, 1)  # (N*C, kh, kw, 1, 1)
    step = max(1, (1 << 16) // (ho * wo))  # maps a piece: its products in L2

    def work(m0):
        m1 = min(m0 + step, n * c)
        tmp = workspace(("dw-scatter", step, ho, wo), (step, ho, wo))[: m1 - m0]
        for a in range(kh):
            for b in range(kw):
                np.multiply(grads[m0:m1], wk[m0:m1, a, b], out=tmp)
                dst = gxp[m0:m1, a * dh : a * dh + (ho - 1) * sh + 1 : sh,
                          b * dw : b * dw + (wo - 1) * sw + 1 : sw]  # fmt: skip
                dst += tmp

    run(range(0, n * c, step), quietly(work), n * c * ho * wo * kh * kw * 8)
    gxp = gxp.reshape(n, c, *gxp.shape[1:])  # (N, C, H_pad, W_pad)
    if not any(pads):
        return gxp
    return np.ascontiguousarray(gxp[:, :, top : top + h, left : left + wd])
