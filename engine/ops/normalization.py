"""Batch normalization and local response normalization.
"""

from __future__ import annotations

import numpy as np

from engine.ops._checks import (
    array_arg,
    channel_axis,
    int_arg,
    real_arg,
    vector_arg,
)

__all__ = ['batch_norm', 'local_response_norm']

_F32 = np.float32


def batch_norm(x, running_mean, running_var, weight=None, bias=None, eps=1e-5) -> np.ndarray:
    """Inference batch norm: (x - mean) / sqrt(var + eps) * weight + bias, per channel.

    The channel axis is 0 for 1-D and 3-D (unbatched) inputs, 1 for 2-D and 4-D (batched) ones.

    Examples
    --------
    >>> x = np.full((2, 1, 1), 3.0, np.float32)
    >>> batch_norm(x, np.array([1.0, 3.0]), np.array([4.0, 1.0]), eps=0.0).ravel().tolist()
    [1.0, 0.0]
    """
    arr = array_arg("batch_norm", x)
    axis = channel_axis("batch_norm", arr)
    c = arr.shape[axis]
    mean = vector_arg("batch_norm", "running_mean", running_mean, c, "channel").astype(np.float64)
    var = vector_arg("batch_norm", "running_var", running_var, c, "channel").astype(np.float64)
    gamma = (
        np.ones(c) if weight is None else vector_arg("batch_norm", "weight", weight, c, "channel")
    )
    beta = np.zeros(c) if bias is None else vector_arg("batch_norm", "bias", bias, c, "channel")
    eps = real_arg("batch_norm", "eps", eps)
    if np.any(var + eps <= 0):
        raise ValueError(
            f"batch_norm: running_var + eps must be positive, the smallest is {np.min(var) + eps:g}"
        )
    scale = gamma / np.sqrt(var + eps)
    shift = beta - mean * scale
    shape = [1] * arr.ndim
    shape[axis] = c
    y = np.multiply(arr, scale.astype(_F32).reshape(shape))
    y += shift.astype(_F32).reshape(shape)  # in place: no second temporary map
    return y


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0) -> np.ndarray:
    """x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels) ** beta.

    Like ``torch.nn.functional.local_response_norm`` (AlexNet's LRN): the window runs from
    ``size // 2`` channels before to ``(size - 1) // 2`` after, zeros beyond the ends. The channel
    axis is 0 for 1-D and 3-D inputs, 1 for 2-D and 4-D inputs.

    Examples
    --------
    >>> local_response_norm(np.ones((1, 1, 1), np.float32), 1, alpha=1.0, beta=1.0).item()
    0.5
    """
    arr = array_arg("local_response_norm", x)
    axis = channel_axis("local_response_norm", arr)
    size = int_arg("local_response_norm", "size", size, 1)
    alpha, beta, k = (
        real_arg("local_response_norm", n, v)
        for n, v in (("alpha", alpha), ("beta", beta), ("k", k))
    )
    sq = np.moveaxis(arr * arr, axis, 0)  # channels first
    c = sq.shape[0]
    padded = np.zeros((c + size - 1, *sq.shape[1:]), _F32)
    padded[size // 2 : size // 2 + c] = sq
    total = padded[:c].copy()
    for t in range(1, size):
        total += padded[t : t + c]
    div = np.power(_F32(k) + _F32(alpha / size) * total, _F32(beta))
    return arr / np.moveaxis(div, 0, axis)
