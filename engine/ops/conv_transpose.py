"""Transposed convolution, like ``torch.nn.functional.conv_transpose2d``, and its backward.

A transposed convolution is the input gradient of a convolution: every input value scatters a
copy of the kernel, scaled by it, into the output at ``stride`` steps. It runs through the
convolution's own backward routine (:func:`engine.ops._conv_backward.input_grad`) on the whole
uncropped output, which is then cropped by ``padding`` and grown by ``output_padding``; its
backward is a forward convolution (input gradient) and a convolution's weight gradient.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import _
from engine.ops._checks import array_arg, batched_out, image_arg, pair_arg
from engine.ops._conv_backward import input_grad
from engine.ops._parallel import quietly
from engine.ops.conv import conv2d, conv2d_backward

__all__ = ["conv_transpose2d", "conv_transpose2d_backward", "conv_transpose_size"]

_F32 = np.float32


def conv_transpose_size(n, kernel, stride=1, padding=0, output_padding=0, dilation=1) -> int:
    """``(n - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1``.

    Examples
    --------
    >>> conv_transpose_size(7, 3, stride=2, padding=1, output_padding=1)
    14
    """
    return (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _args(x, weight, stride, padding, output_padding, dilation, groups):
    op = "conv_transpose2d"
    x4, batched = image_arg(op, x)
    w = array_arg(op, weight, "weight")
    if w.ndim != 4 or w.shape[0] != x4.shape[1] or w.shape[0] % groups:
        raise ValueError(_("{op}: weight of shape {shape} does not fit an input of"
                           " {channels} channels in {groups} groups (C_in, C_out/groups, kh, "
                           "kw)").format(
            op=op, shape=tuple(w.shape), channels=x4.shape[1], groups=groups))
    s, p = pair_arg(op, "stride", stride, 1), pair_arg(op, "padding", padding, 0)
    op_, d = pair_arg(op, "output_padding", output_padding, 0), pair_arg(op, "dilation",
                                                                         dilation, 1)
    full = tuple((n - 1) * si + di * (k - 1) + 1 for n, si, di, k in
                 zip(x4.shape[2:], s, d, w.shape[2:], strict=True))
    out = tuple(f + o - 2 * pi for f, o, pi in zip(full, op_, p, strict=True))
    if min(out) < 1 or max(op_[0] - max(s[0], d[0]), op_[1] - max(s[1], d[1])) >= 0:
        raise ValueError(_("{op}: padding {p} and output_padding {op_} leave an output of"
                           " {out}; output_padding must be below the stride or the "
                           "dilation").format(op=op, p=p, op_=op_, out=out))
    return x4, batched, w, s, p, op_, d, full, out


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> np.ndarray:
    """Transposed convolution (PyTorch's argument order).

    Parameters
    ----------
    x : array (C_in, H, W) or (N, C_in, H, W)
    weight : array (C_in, C_out / groups, kh, kw)
    bias : array (C_out,) or None

    Examples
    --------
    >>> y = conv_transpose2d(np.ones((1, 2, 2), np.float32), np.ones((1, 1, 2, 2), np.float32),
    ...                      stride=2)
    >>> y.shape, float(y.sum())
    ((1, 4, 4), 16.0)
    """
    x4, batched, w, s, p, _, d, full, out = _args(x, weight, stride, padding, output_padding,
                                                    dilation, groups)
    n, _, h, wd = x4.shape
    c_out = w.shape[1] * groups
    y_full = quietly(input_grad)(np.ascontiguousarray(x4), w, (n, c_out, *full), s,
                                 (0, 0, 0, 0), d, groups, (h, wd))
    y = np.zeros((n, c_out, *out), _F32)
    rows, cols = min(out[0], full[0] - p[0]), min(out[1], full[1] - p[1])
    y[:, :, :rows, :cols] = y_full[:, :, p[0] : p[0] + rows, p[1] : p[1] + cols]
    if bias is not None:
        y += np.asarray(bias, _F32).reshape(-1, 1, 1)
    return batched_out(y, batched)


def conv_transpose2d_backward(grad, x, weight, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1, need_input=True, need_bias=True):
    """Gradients of :func:`conv_transpose2d`: ``(grad_x, grad_weight, grad_bias)``."""
    x4, batched, w, s, p, _, d, full, out = _args(x, weight, stride, padding, output_padding,
                                                    dilation, groups)
    g = np.asarray(grad, _F32)
    g4 = g if g.ndim == 4 else g[None]
    # the gradient of the uncropped output: G where it was kept, zero where cropped
    g_full = np.zeros((g4.shape[0], g4.shape[1], *full), _F32)
    rows, cols = min(out[0], full[0] - p[0]), min(out[1], full[1] - p[1])
    g_full[:, :, p[0] : p[0] + rows, p[1] : p[1] + cols] = g4[:, :, :rows, :cols]
    gx = conv2d(g_full, w, None, s, 0, d, groups) if need_input else None
    _, gw, _ = conv2d_backward(x4, g_full, w, s, 0, d, groups, need_input=False,
                               need_bias=False)
    gb = g4.sum(axis=(0, 2, 3)) if need_bias else None
    return (None if gx is None else batched_out(gx, batched)), gw, gb
