"""Convolution and padding, like ``torch.nn.functional.conv2d`` and ``pad``; conv2d's backward.
"""

from __future__ import annotations

import numpy as np

from engine.ops._checks import (
    array_arg,
    batched_out,
    conv_args,
    grad_arg,
    pad_args,
    real_arg,
    recall,
    remember,
)
from engine.ops._conv import convolve
from engine.ops._conv_backward import conv_backward
from engine.ops._parallel import quietly

__all__ = ["conv2d", "conv2d_backward", "pad"]

_F32 = np.float32


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """2-D cross-correlation, like ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : array (C_in, H, W) or (N, C_in, H, W)
    weight : array (C_out, C_in / groups, kh, kw)
    bias : array (C_out,) or None
    stride, dilation : int or (h, w), positive
    padding : int or (h, w), zero or more; or ``"valid"`` (none) or ``"same"`` (output size
        equals input size; stride 1 only; an odd total puts the extra pixel at the bottom/right)
    groups : int dividing both C_in and C_out

    Returns
    -------
    array (C_out, H_out, W_out) or (N, C_out, H_out, W_out), float32, with
    ``H_out = floor((H + 2 padding - dilation (kh - 1) - 1) / stride) + 1``.

    Examples
    --------
    >>> x = np.arange(49, dtype=np.float32).reshape(1, 7, 7)
    >>> conv2d(x, np.ones((1, 1, 3, 3), np.float32), stride=2).shape
    (1, 3, 3)
    """
    key, known = recall(x, weight, bias, "conv2d", stride, padding, dilation, groups)
    if known is None:
        x4, batched, w, b, stride2, pads, dil, groups, out_hw = conv_args(
            x, weight, bias, stride, padding, dilation, groups
        )
        remember(key, (batched, stride2, pads, dil, groups, out_hw))
    else:  # the same shapes and settings passed the checks before
        batched, stride2, pads, dil, groups, out_hw = known
        x4, w, b = (x if batched else x[None]), weight, bias
    return batched_out(convolve(x4, w, b, stride2, pads, dil, groups, out_hw), batched)


def conv2d_backward(
    grad_out,
    x,
    weight,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    *,
    need_input=True,
    need_weight=True,
    need_bias=True,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of :func:`conv2d` with respect to its input, weight and bias.

    Given ``grad_out``, the gradient of a loss with respect to ``conv2d(x, weight, bias,
    stride, padding, dilation, groups)``, return the gradients with respect to ``x``,
    ``weight`` and ``bias``: the vector-Jacobian products ``torch.nn.grad.conv2d_input`` and
    ``conv2d_weight`` give, and the sum of ``grad_out`` over images and positions. The bias
    itself is not needed: the result does not depend on it.

    Parameters
    ----------
    grad_out : array (N, C_out, H_out, W_out), or (C_out, H_out, W_out) for an unbatched ``x``
    x : array (N, C_in, H, W) or (C_in, H, W), the forward's input
    weight : array (C_out, C_in / groups, kh, kw)
    stride, padding, dilation, groups : as for :func:`conv2d`
    need_input, need_weight, need_bias : compute that gradient (False gives None in its
        place and saves its work)

    Returns
    -------
    (grad_x, grad_weight, grad_bias) : float32 arrays shaped like ``x``, ``weight`` and
    (C_out,), or None where not needed.

    Examples
    --------
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    >>> w, grad_y = np.ones((1, 1, 2, 2), np.float32), np.ones((1, 3, 3), np.float32)
    >>> gx, gw, gb = conv2d_backward(grad_y, x, w)
    >>> gx[0].tolist()
    [[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]]
    >>> gw[0, 0].tolist(), gb.tolist()
    ([[45.0, 54.0], [81.0, 90.0]], [9.0])
    """
    op = "conv2d_backward"
    x4, batched, w, _, stride2, pads, dil, groups, out_hw = conv_args(
        x, weight, None, stride, padding, dilation, groups, op=op
    )
    g4 = grad_arg(op, grad_out, (x4.shape[0], w.shape[0], *out_hw), batched, "conv2d")
    need = tuple(bool(v) for v in (need_input, need_weight, need_bias))
    grad_x, grad_w, grad_b = quietly(conv_backward)(
        g4, x4, w, stride2, pads, dil, groups, out_hw, need
    )
    return (None if grad_x is None else batched_out(grad_x, batched)), grad_w, grad_b


def pad(x, padding, value=0.0) -> np.ndarray:
    """Pad the last two dims: padding = (left, right, top, bottom), or (left, right), or an int.

    Negative amounts crop, as in ``torch.nn.functional.pad``, but never all of a dimension.

    Examples
    --------
    >>> pad(np.ones((1, 1, 1), np.float32), (1, 0, 0, 1)).tolist()
    [[[0.0, 1.0], [0.0, 0.0]]]
    """
    arr = array_arg("pad", x)
    left, right, top, bottom = pad_args(arr, padding)
    fill = real_arg("pad", "value", value)
    h, w = arr.shape[-2:]
    new_h, new_w = h + top + bottom, w + left + right
    y = np.full((*arr.shape[:-2], new_h, new_w), fill, _F32)
    # crop where an amount is negative, place where it is positive
    src = arr[..., max(0, -top) : h - max(0, -bottom), max(0, -left) : w - max(0, -right)]
    y[..., max(0, top) : new_h - max(0, bottom), max(0, left) : new_w - max(0, right)] = src
    return y
