"""The backward pass of :func:`engine.ops.conv2d`: gradients of its input, weight and bias.

For ``y = conv2d(x, W) + b`` and the gradient ``G`` of a loss with respect to ``y``:

- ``grad_b`` sums ``G`` over images and positions;
- ``grad_W`` is ``G`` (C_out, positions) times the transposed im2col matrix of ``x``
  (positions, C_in kh kw): the adjoint of the forward's ``W @ cols``;
- ``grad_x`` is the col2im of ``W^T @ G``; at stride 1 that equals a forward convolution of
  ``G``, re-padded, with the flipped, channel-transposed weights, which runs through the
  forward's own fast :func:`~engine.ops._conv.convolve`.

The machinery behind the weight gradient is in :mod:`engine.ops._conv_wgrad`. The routines take
checked arguments (see :func:`engine.ops._checks.conv_args`) and a C-contiguous ``g4``.
"""

from __future__ import annotations

import numpy as np

from engine.ops._conv import convolve
from engine.ops._conv_wgrad import weight_grad
from engine.ops._parallel import run, workspace

# col2im band: the W^T @ G columns of a band of output rows, in L2 while they are scattered.
_COL2IM_BAND_BYTES = 1 << 20


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


def input_grad(g4, w, x_shape, stride, pads, dil, groups, out_hw) -> np.ndarray:
    """dL/dx (N, C_in, H, W): a convolution of G at stride 1, a col2im at larger strides.

    At stride 1 the transposed convolution is itself a convolution, so the forward's routines
    run it, each at the speed measured for it (im2col bands, 1x1 matmuls, depthwise slices).
    At stride s it would be a convolution of G with s - 1 zeros between its values, s*s
    times the work; there W^T @ G is computed band by band and its taps added into place.
    """
    c_out, c_in_g = w.shape[:2]
    if stride == (1, 1):
        return _input_grad_conv(g4, w, x_shape, pads, dil, groups)
    if c_in_g == 1 and c_out == x_shape[1]:  # depthwise: k x k multiply-adds, no matmul
        return _input_grad_depthwise(g4, w, x_shape, stride, pads, dil, out_hw)
    return _input_grad_col2im(g4, w, x_shape, stride, pads, dil, groups, out_hw)


def _input_grad_conv(g4, w, x_shape, pads, dil, groups) -> np.ndarray:
    """Stride 1: G padded by the kernel's reach minus the forward's padding, convolved.

    ``grad_x[i] = sum_s G[i + top - s dh] W[s]``; with ``s' = kh - 1 - s`` that is a
    cross-correlation of G, padded by ``(kh - 1) dh - top`` on top, with the kernel flipped.
    A forward padding larger than the kernel's reach makes that negative: G's rows there only
    ever met zero padding, and are cropped.
    """
    c_out, c_in_g, kh, kw = w.shape
    h, wd = x_shape[2:]
    reach = ((kh - 1) * dil[0],) * 2 + ((kw - 1) * dil[1],) * 2
    need = [r - p for r, p in zip(reach, pads, strict=True)]  # top, bottom, left, right
    ho, wo = g4.shape[2:]
    crop = [max(0, -v) for v in need]
    src = g4[:, :, crop[0] : ho - crop[1], crop[2] : wo - crop[3]]
    # each group's filters become its input channels: (C_in, C_out/G, kh, kw), flipped
    w_t = w.reshape(groups, c_out // groups, c_in_g, kh, kw).transpose(0, 2, 1, 3, 4)
    w_t = w_t.reshape(groups * c_in_g, c_out // groups, kh, kw)[:, :, ::-1, ::-1]
    w_t = np.ascontiguousarray(w_t)
    return convolve(src, w_t, None, (1, 1), tuple(max(0, v) for v in need), dil, groups, (h, wd))


def _bands(n, rows, band) -> list[list[tuple[int, int, int]]]:
    """Bands of output rows as two waves (even bands, then odd) whose input rows never meet.

    Neighbouring bands of a col2im add into shared input rows where windows overlap; the
    bands of one wave are at least a band apart, so the threads can share a wave.
    """
    waves: list[list[tuple[int, int, int]]] = [[], []]
    for i in range(n):
        for j, r0 in enumerate(range(0, rows, band)):
            waves[j % 2].append((i, r0, min(r0 + band, rows)))
    return waves


def _input_grad_col2im(g4, w, x_shape, stride, pads, dil, groups, out_hw) -> np.ndarray:
    """``W^T @ G`` band by band, each of its kh x kw taps added into a zeroed, padded grad_x."""
    n, c, h, wd = x_shape
    c_out, c_in_g, kh, kw = w.shape
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    top, bottom, left, right = pads
    k_g = c_in_g * kh * kw
    w_t = np.ascontiguousarray(w.reshape(groups, c_out // groups, k_g).transpose(0, 2, 1))
    # (G, C_in/G*kh*kw, C_out/G): W^T for each group
    # a band must span more input rows than its windows reach, so waves never overlap
    band = max(1, min(ho, _COL2IM_BAND_BYTES // (4 * c * kh * kw * wo)))
    band = max(band, (kh - 1) * dh // sh + 1)
    gxp = np.zeros((n, c, h + top + bottom, wd + left + right), np.float32)
    lead = band * wo + (16 if band * wo % 256 == 0 else 0)  # see _conv._conv_im2col on aliasing

    def work(item):
        i, r0, r1 = item
        rows = r1 - r0
        cols = workspace(("col2im", groups, k_g, lead), (groups, k_g, lead))[:, :, : rows * wo]
        np.matmul(w_t, g4[i, :, r0:r1].reshape(groups, c_out // groups, rows * wo), out=cols)
        taps = cols.reshape(c, kh, kw, rows, wo)  # (C_in, kh, kw, rows, W_out)
        for a in range(kh):
            y0 = r0 * sh + a * dh
            for b in range(kw):
                dst = gxp[i, :, y0 : y0 + (rows - 1) * sh + 1 : sh,
                          b * dw : b * dw + (wo - 1) * sw + 1 : sw]  # fmt: skip
                dst += taps[:, a, b]

    for wave in _bands(n, ho, band):
        run(wave, work, n * c * ho * wo * kh * kw * c_out // groups)
    return _crop(gxp, pads, h, wd)


def _crop(gxp, pads, h, wd) -> np.ndarray:
    """The input's part of a padded gradient (a copy, so the padding's memory goes)."""
    if not any(pads):
        return gxp
    top, left = pads[0], pads[2]
    return np.ascontiguousarray(gxp[:, :, top : top + h, left : left + wd])


def _input_grad_depthwise(g4, w, x_shape, stride, pads, dil, out_hw) -> np.ndarray:
    """A strided depthwise convolution's input gradient: each tap's G * w added into place."""
    n, c, h, wd = x_shape
    kh, kw = w.shape[2:]
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dil
    top, bottom, left, right = pads
    gxp = np.zeros((n, c, h + top + bottom, wd + left + right), np.float32)
    wk = w[:, 0, :, :, None, None]  # (C, kh, kw, 1, 1): broadcast over rows and columns
    step = max(1, (1 << 16) // (ho * wo))  # channels a piece: its product in L2

    def work(item):
        i, c0 = item
        c1 = min(c0 + step, c)
        tmp = workspace(("dw-col2im", step, ho, wo), (step, ho, wo))[: c1 - c0]
        for a in range(kh):
            for b in range(kw):
                np.multiply(g4[i, c0:c1], wk[c0:c1, a, b], out=tmp)
                dst = gxp[i, c0:c1, a * dh : a * dh + (ho - 1) * sh + 1 : sh,
                          b * dw : b * dw + (wo - 1) * sw + 1 : sw]  # fmt: skip
                dst += tmp

    items = [(i, c0) for i in range(n) for c0 in range(0, c, step)]
    run(items, work, n * c * ho * wo * kh * kw * 8)
    return _crop(gxp, pads, h, wd)
