"""Max, average and global average pooling, like ``torch.nn.functional``'s, and their backward.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import _
from engine.ops._checks import (
    batched_out,
    grad_arg,
    image_arg,
    pool_args,
    recall,
    remember,
    shape_arg,
)
from engine.ops._pool import avg_pool, max_pool
from engine.ops._pool_backward import avg_pool_backward, max_pool_backward

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
]

_F32 = np.float32


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> np.ndarray:
    """Max over k x k windows, like ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : array (C, H, W) or (N, C, H, W)
    kernel_size, stride, dilation : int or (h, w); stride defaults to kernel_size
    padding : int or (h, w), at most half the kernel; padded cells never win
    ceil_mode : round the output size up (a last, partial window), as long as that window
        starts inside the input or the left/top padding

    Examples
    --------
    >>> x = np.array([[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]], np.float32)
    >>> max_pool2d(x, 2)[0].tolist()
    [[6.0, 8.0], [3.0, 4.0]]
    """
    key, known = recall(
        x, None, None, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode
    )
    if known is None:
        x4, batched, k, s, p, d, out_hw = pool_args(
            "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode
        )
        remember(key, (batched, k, s, p, d, out_hw))
    else:  # the same shape and settings passed the checks before
        batched, k, s, p, d, out_hw = known
        x4 = x if batched else x[None]
    return batched_out(max_pool(x4, k, s, p, d, out_hw), batched)


def max_pool2d_backward(
    grad_out, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False
) -> np.ndarray:
    """Gradient of :func:`max_pool2d` with respect to its input, as PyTorch's autograd gives it.

    Each window's gradient goes to the cell that won it: the first maximum in the window's
    row-major order (a tie goes to the earlier cell); a NaN beats any number and a later NaN
    an earlier one. Where windows overlap, a cell collects the gradients of every window it
    won. Padding never wins (a window on padding only passes no gradient).

    Parameters
    ----------
    grad_out : array shaped like ``max_pool2d(x, ...)``'s result
    x : array (C, H, W) or (N, C, H, W), the forward's input
    kernel_size, stride, padding, dilation, ceil_mode : as for :func:`max_pool2d`

    Returns
    -------
    array shaped like ``x``, float32

    Examples
    --------
    >>> x = np.array([[[1, 3, 3, 0], [2, 0, 1, 5]]], np.float32)
    >>> max_pool2d_backward(np.array([[[10, 20]]], np.float32), x, 2)[0].tolist()
    [[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 0.0, 20.0]]
    """
    op = "max_pool2d_backward"
    x4, batched, k, s, p, d, out_hw = pool_args(
        op, x, kernel_size, stride, padding, dilation, ceil_mode
    )
    g4 = grad_arg(op, grad_out, (*x4.shape[:2], *out_hw), batched, "max_pool2d")
    return batched_out(max_pool_backward(g4, x4, k, s, p, d, out_hw), batched)


def avg_pool2d(
    x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
) -> np.ndarray:
    """Mean over k x k windows, like ``torch.nn.functional.avg_pool2d``.

    With ``count_include_pad`` (the default) a window is divided by its size counting the zero
    padding (but not the part beyond it that ``ceil_mode`` adds); without, by the number of real
    input cells it covers.

    Examples
    --------
    >>> avg_pool2d(np.arange(16, dtype=np.float32).reshape(1, 4, 4), 2)[0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    x4, batched, k, s, p, _dilation, out_hw = pool_args(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    if not isinstance(count_include_pad, bool | np.bool_):
        raise ValueError(
            _("avg_pool2d: count_include_pad must be True or False, got "
              "{count_include_pad!r}").format(count_include_pad=count_include_pad)
        )
    return batched_out(avg_pool(x4, k, s, p, out_hw, count_include_pad), batched)


def avg_pool2d_backward(
    grad_out, x_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True,
) -> np.ndarray:
    """Gradient of :func:`avg_pool2d` with respect to its input (which it needs only the shape of).

    Each window's gradient, divided by the window's divisor (the same rule as the forward's),
    goes to every real cell of the window; where windows overlap, a cell collects the shares of
    all of them.

    Parameters
    ----------
    grad_out : array shaped like ``avg_pool2d(x, ...)``'s result
    x_shape : the forward input's shape, (C, H, W) or (N, C, H, W)
    kernel_size, stride, padding, ceil_mode, count_include_pad : as for :func:`avg_pool2d`

    Returns
    -------
    array of shape ``x_shape``, float32

    Examples
    --------
    >>> avg_pool2d_backward(np.array([[[4, 8]]], np.float32), (1, 2, 4), 2)[0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]
    """
    op = "avg_pool2d_backward"
    x4, batched, k, s, p, _dilation, out_hw = pool_args(
        op, shape_arg(op, x_shape), kernel_size, stride, padding, 1, ceil_mode
    )
    if not isinstance(count_include_pad, bool | np.bool_):
        raise ValueError(
            _("{op}: count_include_pad must be True or False, got {count_include_pad!r}").format(
                op=op, count_include_pad=count_include_pad)
        )
    g4 = grad_arg(op, grad_out, (*x4.shape[:2], *out_hw), batched, "avg_pool2d")
    gx = avg_pool_backward(g4, x4.shape, k, s, p, out_hw, bool(count_include_pad))
    return batched_out(gx, batched)


def global_avg_pool2d(x) -> np.ndarray:
    """Mean of each map: (C, H, W) -> (C, 1, 1), (N, C, H, W) -> (N, C, 1, 1).

    Examples
    --------
    >>> global_avg_pool2d(np.ones((2, 3, 3), np.float32)).shape
    (2, 1, 1)
    """
    x4, batched = image_arg("global_avg_pool2d", x)
    n, c, h, w = x4.shape
    # Each map's sum as a product with a vector of ones (BLAS, in float32 with its blocked
    # sums: relative error about 4e-7 here): 3-8x faster than a float64 mean, which
    # EfficientNet's sixteen squeeze-and-excitation blocks felt (144x56x56: 0.22 -> 0.06 ms;
    # 1152x7x7: 0.048 -> 0.006).
    sums = np.ascontiguousarray(x4, _F32).reshape(n * c, h * w) @ np.ones(h * w, _F32)
    sums /= _F32(h * w)
    return batched_out(sums.reshape(n, c, 1, 1), batched)


def global_avg_pool2d_backward(grad_out, x_shape) -> np.ndarray:
    """Gradient of :func:`global_avg_pool2d`: each map's gradient over H*W, spread over the map.

    Parameters
    ----------
    grad_out : array (N, C, 1, 1), or (C, 1, 1) for an unbatched input
    x_shape : the forward input's shape, (C, H, W) or (N, C, H, W)

    Returns
    -------
    array of shape ``x_shape``, float32

    Examples
    --------
    >>> global_avg_pool2d_backward(np.full((1, 1, 1), 6, np.float32), (1, 2, 3))[0].tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    op = "global_avg_pool2d_backward"
    x4, batched = image_arg(op, shape_arg(op, x_shape))
    n, c, h, w = x4.shape
    g4 = grad_arg(op, grad_out, (n, c, 1, 1), batched, "global_avg_pool2d")
    gx = np.empty((n, c, h, w), _F32)
    # divided, not multiplied by 1 / (H W): PyTorch's mean backward, to the last bit
    np.copyto(gx, g4 / _F32(h * w))
    return batched_out(gx, batched)
