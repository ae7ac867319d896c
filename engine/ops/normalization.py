"""Batch normalization and local response normalization.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import N_, _
from engine.ops._checks import (
    array_arg,
    channel_axis,
    int_arg,
    real_arg,
    vector_arg,
)

__all__ = ["batch_norm", "batch_norm_backward", "batch_norm_train", "local_response_norm"]

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
    per = N_("channel")  # the message's "one per channel"
    mean = vector_arg("batch_norm", "running_mean", running_mean, c, per).astype(np.float64)
    var = vector_arg("batch_norm", "running_var", running_var, c, per).astype(np.float64)
    gamma = np.ones(c) if weight is None else vector_arg("batch_norm", "weight", weight, c, per)
    beta = np.zeros(c) if bias is None else vector_arg("batch_norm", "bias", bias, c, per)
    eps = real_arg("batch_norm", "eps", eps)
    if np.any(var + eps <= 0):
        raise ValueError(
            _("batch_norm: running_var + eps must be positive, the smallest is {value:g}").format(
                value=np.min(var) + eps)
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


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped to broadcast over (N, C, ...)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm_train(x, weight=None, bias=None, eps=1e-5):
    """Training-mode batch norm over a batch (N, C, ...): normalized by the batch's statistics.

    Like ``torch.nn.functional.batch_norm(..., training=True)``: per channel, the mean and the
    biased variance over every axis but the channel axis 1.

    Returns
    -------
    y : array like x
    saved : tuple (xhat, inv_std)
        What :func:`batch_norm_backward` needs.
    mean, var : arrays (C,), float64
        The batch's mean and *unbiased* variance, which update the running statistics.

    Examples
    --------
    >>> y, _, mean, var = batch_norm_train(np.array([[1.0], [3.0]], np.float32), eps=0.0)
    >>> y.ravel().tolist(), mean.tolist(), var.tolist()
    ([-1.0, 1.0], [2.0], [2.0])
    """
    arr = array_arg("batch_norm_train", x)
    if arr.ndim < 2:
        raise ValueError(_("batch_norm_train: input must be batched (N, C, ...), got "
                           "{shape}").format(shape=arr.shape))
    axes = (0, *range(2, arr.ndim))
    count = arr.size // arr.shape[1]
    if count < 2:
        raise ValueError(_("batch_norm_train: training needs more than one value per channel"
                           " (got input of shape {shape})").format(shape=arr.shape))
    mean = arr.mean(axis=axes, dtype=np.float64)
    centered = arr - _per_channel(mean.astype(_F32), arr.ndim)
    var = np.mean(np.square(centered, dtype=np.float64), axis=axes)  # biased, as torch normalizes
    inv_std = (1.0 / np.sqrt(var + eps)).astype(_F32)
    xhat = centered * _per_channel(inv_std, arr.ndim)
    y = xhat if weight is None else xhat * _per_channel(np.asarray(weight, _F32), arr.ndim)
    if bias is not None:
        y = y + _per_channel(np.asarray(bias, _F32), arr.ndim)
    return y.astype(_F32, copy=False), (xhat, inv_std), mean, var * count / (count - 1)


def batch_norm_backward(grad, saved, weight=None, train=True):
    """Gradients of batch norm: ``(grad_x, grad_weight, grad_bias)``.

    ``saved`` is ``(xhat, inv_std)``: from :func:`batch_norm_train` when ``train``, else the
    input normalized by the running statistics and ``1 / sqrt(running_var + eps)`` (then the
    statistics are constants and the input gradient is a per-channel scale).

    Examples
    --------
    >>> x = np.array([[1.0], [3.0]], np.float32)
    >>> _, saved, _, _ = batch_norm_train(x, eps=0.0)
    >>> gx, gw, gb = batch_norm_backward(np.array([[1.0], [0.0]], np.float32), saved)
    >>> gx.ravel().tolist(), gw.tolist(), gb.tolist()
    ([0.0, 0.0], [-1.0], [1.0])
    """
    xhat, inv_std = saved
    g = np.asarray(grad, _F32)
    axes = (0, *range(2, g.ndim))
    grad_bias = g.sum(axis=axes, dtype=np.float64)
    grad_weight = np.sum(g * xhat, axis=axes, dtype=np.float64)
    gamma = np.ones(g.shape[1], _F32) if weight is None else np.asarray(weight, _F32)
    scale = _per_channel(gamma * inv_std, g.ndim)
    if not train:
        grad_x = g * scale
    else:
        count = g.size // g.shape[1]
        mean_g = _per_channel((grad_bias / count).astype(_F32), g.ndim)
        mean_gx = _per_channel((grad_weight / count).astype(_F32), g.ndim)
        grad_x = (g - mean_g - xhat * mean_gx) * scale
    return (grad_x.astype(_F32, copy=False), grad_weight.astype(_F32),
            grad_bias.astype(_F32))
