"""Max, average and global average pooling, like ``torch.nn.functional``"s.
"""

from __future__ import annotations

import numpy as np

from engine.ops._checks import (
    batched_out,
    image_arg,
    pool_args,
    recall,
    remember,
)
from engine.ops._pool import avg_pool, max_pool

__all__ = ["avg_pool2d", "global_avg_pool2d", "max_pool2d"]

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
    x4, batched, k, s, p, _, out_hw = pool_args(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    if not isinstance(count_include_pad, bool | np.bool_):
        raise ValueError(
            f"avg_pool2d: count_include_pad must be True or False, got {count_include_pad!r}"
        )
    return batched_out(avg_pool(x4, k, s, p, out_hw, count_include_pad), batched)


def global_avg_pool2d(x) -> np.ndarray:
    """Mean of each map: (C, H, W) -> (C, 1, 1), (N, C, H, W) -> (N, C, 1, 1).

    Examples
    --------
    >>> global_avg_pool2d(np.ones((2, 3, 3), np.float32)).shape
    (2, 1, 1)
    """
    x4, batched = image_arg("global_avg_pool2d", x)
    y = x4.mean(axis=(2, 3), keepdims=True, dtype=np.float64).astype(_F32)
    return batched_out(y, batched)
