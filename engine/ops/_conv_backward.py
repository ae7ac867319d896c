"""The backward pass of :func:`engine.ops.conv2d`: gradients of its input, weight and bias.

For ``y = conv2d(x, W) + b`` and the gradient ``G`` of a loss with respect to ``y``:

- ``grad_b`` sums ``G`` over images and positions;
- ``grad_W`` is the im2col matrix of ``x`` times ``G``'s transpose: the adjoint of the
  forward's ``W @ cols`` (the ways are in :mod:`engine.ops._conv_wgrad`);
- ``grad_x`` is the col2im of ``W^T @ G``: each tap's rows of that product added into place.
  At stride 1 that equals a convolution of ``G``, re-padded, with the flipped,
  channel-transposed weights.

This module picks the way per layer, from timings on one core of a 2-core AVX-512 machine
(ms; im2col/convolution first, the alternative second):

- input, stride 1: the forward's :func:`~engine.ops._conv.convolve` of ``G`` for most layers
  (64 -> 64 3x3 at 56x56, batch 8: 21.9 against 28.9 as a flat col2im; 32 -> 64 at 28x28,
  batch 16: 7.5 against 8.4); a "flat" col2im (:func:`_input_grad_flat`) where the input has
  few channels, fewer than the output (3 -> 8 5x5 at 64x64, batch 64: 22.6 against 15.7;
  8 -> 16 at 32x32: 5.4 against 4.0; 16 -> 32 at 16x16: 4.4 against 3.0), as there the im2col
  of ``G`` copies C_out kh kw rows for the few C_in the matmul makes;
- input, larger strides: col2im (a convolution would see ``G`` with s - 1 zeros between its
  values, s*s times the work);
- depthwise layers: :mod:`engine.ops._depthwise_backward`.

The routines take checked arguments (see :func:`engine.ops._checks.conv_args`) and a
C-contiguous ``g4``.
"""

from __future__ import annotations

import numpy as np

from engine.ops._conv import _all_finite, convolve
from engine.ops._conv_wgrad import flat_weight_grad, im2col_weight_grad, pointwise_weight_grad
from engine.ops._depthwise_backward import depthwise_input_grad, depthwise_weight_grad
from engine.ops._parallel import workspace
from engine.ops._pieces import extent, flat_source, pieces, run_waves, slack

# "flat" weight gradients for layers of at most this many C_in x C_out, and C_in <= 16
_FLAT_CHANNELS = 512
# "flat" col2im input gradients for C_in at most this, or at most _FLAT_MAX_CHANNELS with
# C_in < C_out
_FLAT_FEW_CHANNELS = 4
_FLAT_MAX_CHANNELS = 16


def conv_backward(g4, x4, w, stride, pads, dil, groups, out_hw, need):
    """(grad_x, grad_w, grad_b), each None unless ``need`` (three booleans) asks for it."""
    need_x, need_w, need_b = need
    grad_w = grad_b = grad_x = None
    # The weight gradient goes first: it reads x through the reused padded buffer of
    # engine.ops._parallel.padded, which the input gradient's convolution of G may take over
    # when G has the shape and padding x had.
    if need_w:
        grad_w, grad_b = weight_grad(g4, x4, w.shape, stride, pads, dil, groups, out_hw, need_b)
    if need_b and grad_b is None:
        grad_b = bias_grad(g4)
    if need_x:
        grad_x = input_grad(g4, w, x4.shape, stride, pads, dil, groups, out_hw)
    return grad_x, grad_w, grad_b


def bias_grad(g4) -> np.ndarray:
    """G summed over images and positions: (C_out,).

    Summing along the contiguous last axis uses numpy's pairwise summation, so a million
    positions in float32 lose no more than a few ulps.
    """
    n, c_out = g4.shape[:2]
    return g4.reshape(n, c_out, -1).sum(axis=2).sum(axis=0)  # (N, C_out, H_out*W_out)


def weight_grad(g4, x4, w_shape, stride, pads, dil, groups, out_hw, need_b):
    """(grad_W, grad_b or None): each way sums G for the bias in its pieces, while G is in
    cache and on every thread (a pass of its own on the calling thread cost more)."""
    c_out, c_in_g, kh, kw = w_shape
    c = x4.shape[1]
    if c_in_g == 1 and c_out == c:
        return depthwise_weight_grad(g4, x4, w_shape, stride, pads, dil, out_hw, need_b)
    if kh == kw == 1 and stride == (1, 1) and not any(pads) and groups == 1:
        return pointwise_weight_grad(g4, x4, w_shape, need_b)
    if groups == 1 and stride == (1, 1) and c <= 16 and c * c_out <= _FLAT_CHANNELS:
        xp = flat_source(x4, pads)
        # A NaN or infinity in x would meet the zeros in G's extra columns (0 * inf = NaN)
        # and spoil taps that the sum never takes there: im2col keeps to the windows.
        if _all_finite(xp):
            return flat_weight_grad(g4, xp, w_shape, dil, out_hw, need_b)
    return im2col_weight_grad(g4, x4, w_shape, stride, pads, dil, groups, out_hw, need_b)


def input_grad(g4, w, x_shape, stride, pads, dil, groups, out_hw) -> np.ndarray:
    """dL/dx (N, C_in, H, W), the way chosen as the module docstring says.

    The stride-1 forms that work on a re-padded G also multiply its padding (zeros) by the
    weights; for a weight that is infinite or NaN that would be NaN where the sum has no such
    term, so such weights take the col2im forms, which multiply real values only.
    """
    c_out, c_in_g = w.shape[:2]
    c = x_shape[1]
    finite = bool(np.isfinite(w).all())
    g_pads = _grad_pads(w.shape, pads, dil)
    if c_in_g == 1 and c_out == c:
        flat = stride == (1, 1) and finite
        return depthwise_input_grad(g4, w, x_shape, stride, pads, dil, out_hw,
                                    g_pads if flat else None)  # fmt: skip
    if stride != (1, 1) or not finite:
        return _input_grad_col2im(g4, w, x_shape, stride, pads, dil, groups, out_hw)
    few = c <= _FLAT_FEW_CHANNELS or (c <= _FLAT_MAX_CHANNELS and c < c_out)
    if groups == 1 and few:
        return _input_grad_flat(g4, w, x_shape, pads, dil, out_hw)
    return _input_grad_conv(g4, w, x_shape, groups, dil, g_pads)


def _grad_pads(w_shape, pads, dil):
    """Stride 1: (crop, pad) of G, each (top, bottom, left, right), for the convolution form.

    ``grad_x[i] = sum_s G[i + top - s dh] W[s]``; with ``s' = kh - 1 - s`` that is a
    cross-correlation of G, padded by ``(kh - 1) dh - top`` on top, with the kernel flipped.
    A forward padding larger than the kernel's reach makes that negative: G's rows there only
    ever met zero padding, and are cropped.
    """
    kh, kw = w_shape[2:]
    reach = ((kh - 1) * dil[0],) * 2 + ((kw - 1) * dil[1],) * 2
    need = [r - p for r, p in zip(reach, pads, strict=True)]  # top, bottom, left, right
    return tuple(max(0, -v) for v in need), tuple(max(0, v) for v in need)


def _input_grad_conv(g4, w, x_shape, groups, dil, g_pads) -> np.ndarray:
    """Stride 1: the forward's convolution of G, re-padded, with the flipped W^T."""
    c_out, c_in_g, kh, kw = w.shape
    crop, gpad = g_pads
    ho, wo = g4.shape[2:]
    src = g4[:, :, crop[0] : ho - crop[1], crop[2] : wo - crop[3]]
    # each group's filters become its input channels: (C_in, C_out/G, kh, kw), flipped
    # (G, C_out/G, C_in/G, kh, kw) -> (G, C_in/G, C_out/G, kh, kw)
    w_t = w.reshape(groups, c_out // groups, c_in_g, kh, kw).transpose(0, 2, 1, 3, 4)
    w_t = w_t.reshape(groups * c_in_g, c_out // groups, kh, kw)[..., ::-1, ::-1]
    w_t = np.ascontiguousarray(w_t)
    return convolve(src, w_t, None, (1, 1), gpad, dil, groups, tuple(x_shape[2:]))


def _input_grad_flat(g4, w, x_shape, pads, dil, out_hw) -> np.ndarray:
    """Stride 1: ``W^T @ G`` over G laid out in the padded map's row length, each tap's rows
    then added into the flat padded gradient as blocks (one ``+=`` per tap and piece).

    G's extra columns are zeros, and so are their products: the blocks add nothing outside
    the windows (for finite weights; see :func:`input_grad`). When a piece holds whole images
    (small maps), the product is laid out tap by tap with each channel as long as a padded map,
    so that a tap's block for all channels of an image is one contiguous run: numpy adds a
    view with rows of a few hundred values about 4x slower than a contiguous one
    (16 -> 32 at 16x16, batch 64: 1.7 ms of adds, 0.5 in long runs).
    """
    n, c, h, wd = x_shape
    c_out, _, kh, kw = w.shape
    (ho, wo), (dh, dw) = out_hw, dil
    top, bottom, left, right = pads
    hp, wp = h + top + bottom, wd + left + right
    taps = kh * kw
    # W^T with its rows in (tap, C_in) order: (kh*kw*C_in, C_out)
    w_t = np.ascontiguousarray(w.reshape(c_out, c, taps).transpose(2, 1, 0).reshape(-1, c_out))
    parts = pieces(n, ho, 4 * wp * (taps * c + c_out), min_band=(kh - 1) * dh + 1)
    nb_most, band_most = extent(parts)
    whole = band_most == ho  # every piece whole images: each channel a whole padded map long
    lead = hp * wp if whole else slack(band_most * wp)
    # (N, C_in*H_pad*W_pad), flattened; whole images are zeroed and cropped by their piece's
    # thread (on the calling thread, that was a fifth of a small layer's time on two threads)
    gxp = (np.empty if whole else np.zeros)((n, c * hp * wp), np.float32)
    gx = np.empty((n, c, h, wd), np.float32) if whole and any(pads) else None

    def work(p):
        i0, i1, r0, r1 = p
        nb, rows = i1 - i0, r1 - r0
        if whole:
            gxp[i0:i1].fill(0.0)
        # created full of zeros and only the first W_out columns of each row ever written
        # keyed by every size that places the zeros: another layer must not see old values
        gp = workspace(("xgrad-flat-g", nb_most, c_out, band_most, wp, wo),
                       (nb_most, c_out, band_most * wp), 0.0)[:nb, :, : rows * wp]  # fmt: skip
        # (nb, C_out, rows, W_pad): G in its first W_out columns
        np.copyto(gp.reshape(nb, c_out, rows, wp, copy=False)[..., :wo], g4[i0:i1, :, r0:r1])
        span = (rows - 1) * wp + wo  # from the piece's first output to its last, flattened
        # (nb, kh*kw, C_in, lead): created zero, and past `span` only ever zero when whole
        buf = workspace(("xgrad-flat", nb_most, taps, c, lead, whole and span),
                        (nb_most, taps, c, lead), 0.0)  # fmt: skip
        cols = buf[:nb, :, :, :span]
        # (kh*kw*C_in, C_out) @ (nb, C_out, span) -> (nb, kh*kw*C_in, span)
        np.matmul(w_t, gp[:, :, :span], out=cols.reshape(nb, taps * c, span, copy=False))
        length = (c - 1) * lead + span if whole else span
        # (nb, C_in*H_pad*W_pad) or (nb, C_in, H_pad*W_pad)
        flat = gxp[i0:i1] if whole else gxp[i0:i1].reshape(nb, c, hp * wp)
        for a in range(kh):
            for b in range(kw):
                start = (r0 + a * dh) * wp + b * dw
                src = buf[:nb, a * kw + b]  # (nb, C_in, lead)
                if whole:  # (nb, C_in*H_pad*W_pad): all channels in one run, zeros between
                    src = src.reshape(nb, c * lead)
                dst = flat[..., start : start + length]
                dst += src[..., :length]
        if gx is not None:  # (nb, C_in, H_pad, W_pad) cropped to (nb, C_in, H, W)
            np.copyto(gx[i0:i1], gxp[i0:i1].reshape(nb, c, hp, wp)[:, :, top : top + h,
                                                                   left : left + wd])  # fmt: skip

    run_waves(parts, work, n * c * ho * wo * c_out * taps)
    if whole:
        return gxp.reshape(n, c, hp, wp) if gx is None else gx  # (N, C_in, H, W)
    return _crop(gxp.reshape(n, c, hp, wp), pads, h, wd)  # (N, C_in, H_pad, W_pad), cropped


def _input_grad_col2im(g4, w, x_shape, stride, pads, dil, groups, out_hw) -> np.ndarray:
    """``W^T @ G`` per piece, each of its kh x kw taps added into a zeroed, padded grad_x."""
    n, c, h, wd = x_shape
    c_out, c_in_g, kh, kw = w.shape
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    top, bottom, left, right = pads
    k_g, c_out_g = c_in_g * kh * kw, c_out // groups
    w_t = np.ascontiguousarray(w.reshape(groups, c_out_g, k_g).transpose(0, 2, 1))
    # (G, C_in/G*kh*kw, C_out/G): W^T for each group
    gxp = np.zeros((n, c, h + top + bottom, wd + left + right), np.float32)
    # bands must span more input rows than the windows reach, so that waves never meet
    parts = pieces(n, ho, 4 * wo * (groups * k_g + c_out), min_band=(kh - 1) * dh // sh + 1)
    nb_most, band_most = extent(parts)
    lead = slack(band_most * wo)

    def work(p):
        i0, i1, r0, r1 = p
        nb, rows = i1 - i0, r1 - r0
        cols = workspace(("col2im", nb_most, groups, k_g, lead),
                         (nb_most, groups, k_g, lead))[:nb, :, :, : rows * wo]  # fmt: skip
        grad = g4[i0:i1, :, r0:r1].reshape(nb, groups, c_out_g, rows * wo)  # (nb, G, C_out/G, pos)
        np.matmul(w_t, grad, out=cols)  # (nb, G, C_in/G*kh*kw, rows*W_out)
        taps = cols.reshape(nb, c, kh, kw, rows, wo)  # groups' channels in order: C_in
        for a in range(kh):
            y0 = r0 * sh + a * dh
            for b in range(kw):
                dst = gxp[i0:i1, :, y0 : y0 + (rows - 1) * sh + 1 : sh,
                          b * dw : b * dw + (wo - 1) * sw + 1 : sw]  # fmt: skip
                dst += taps[:, :, a, b]

    run_waves(parts, work, n * c * ho * wo * kh * kw * c_out_g)
    return _crop(gxp, pads, h, wd)


def _crop(gxp, pads, h, wd) -> np.ndarray:
    """The input's part of a padded gradient (a copy, so the padding's memory goes)."""
    if not any(pads):
        return gxp
    top, left = pads[0], pads[2]
    return np.ascontiguousarray(gxp[:, :, top : top + h, left : left + wd])
