"""Losses with their gradients, and the log-softmax they rest on.

Each loss returns ``(value, grad)``: the loss as a Python float and its gradient with respect to
the prediction, so that a training step needs no second pass. Values are accumulated in float64,
gradients returned in float32.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import _
from engine.ops._checks import array_arg, dim_arg

__all__ = ["cross_entropy", "dot_loss", "log_softmax", "mse_loss"]

_F32 = np.float32


def log_softmax(x, dim=-1) -> np.ndarray:
    """log(softmax(x)) along ``dim``, computed without overflow (like torch's log_softmax).

    Examples
    --------
    >>> np.exp(log_softmax(np.array([0.0, 0.0], np.float32))).tolist()
    [0.5, 0.5]
    """
    arr = array_arg("log_softmax", x)
    if arr.ndim == 0:
        raise ValueError(_("log_softmax: input must have at least 1 dimension, got a scalar"))
    axis = dim_arg("log_softmax", "dim", dim, arr.ndim)
    shifted = arr - arr.max(axis=axis, keepdims=True)
    lse = np.log(np.sum(np.exp(shifted, dtype=np.float64), axis=axis, keepdims=True))
    return (shifted - lse).astype(_F32)


def _labels(labels, n: int, classes: int) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(_("cross_entropy: labels must be {n} whole numbers (one per example),"
                           " got shape {shape} of {dtype}").format(
            n=n, shape=arr.shape, dtype=arr.dtype))
    if n and (arr.min() < 0 or arr.max() >= classes):
        raise ValueError(_("cross_entropy: labels must be 0 to {last} for {classes} classes"
                           " (the network's last output), got {min} to"
                           " {max}").format(
            last=classes - 1, classes=classes, min=int(arr.min()), max=int(arr.max())))
    return arr.astype(np.intp)


def cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of logits (N, K) against integer labels (N,), and its gradient.

    Like ``torch.nn.functional.cross_entropy`` with ``reduction="mean"``: the gradient is
    ``(softmax(logits) - one_hot(labels)) / N``.

    Examples
    --------
    >>> loss, grad = cross_entropy(np.zeros((1, 2), np.float32), np.array([0]))
    >>> round(loss, 4), grad.tolist()
    (0.6931, [[-0.5, 0.5]])
    """
    z = array_arg("cross_entropy", logits)
    if z.ndim != 2:
        raise ValueError(_("cross_entropy: logits must be (N, classes), got shape {shape}").format(
            shape=z.shape))
    n, k = z.shape
    y = _labels(labels, n, k)
    logp = log_softmax(z, dim=1)  # (N, K)
    rows = np.arange(n)
    loss = -float(np.mean(logp[rows, y], dtype=np.float64)) if n else 0.0
    grad = np.exp(logp)
    grad[rows, y] -= 1
    grad /= max(n, 1)
    return loss, grad


def mse_loss(prediction, target) -> tuple[float, np.ndarray]:
    """Mean squared error over every element, and its gradient ``2 (prediction - target) / n``.

    Examples
    --------
    >>> mse_loss(np.array([1.0, 3.0], np.float32), np.array([1.0, 1.0], np.float32))
    (2.0, array([0., 2.], dtype=float32))
    """
    p = array_arg("mse_loss", prediction)
    t = np.asarray(target, dtype=_F32)
    if t.shape != p.shape:
        raise ValueError(_("mse_loss: target has shape {shape}, the output has {shape2}").format(
            shape=t.shape, shape2=p.shape))
    diff = p - t
    loss = float(np.mean(np.square(diff, dtype=np.float64))) if diff.size else 0.0
    return loss, (diff * _F32(2 / max(diff.size, 1))).astype(_F32)


def dot_loss(output, cotangent) -> tuple[float, np.ndarray]:
    """``sum(output * cotangent)`` and its gradient, the cotangent itself.

    Back-propagating it gives the vector-Jacobian product of the network with ``cotangent``
    (the gradient of one class score: a one-hot cotangent).

    Examples
    --------
    >>> dot_loss(np.array([2.0, 3.0], np.float32), np.array([1.0, 0.0], np.float32))[0]
    2.0
    """
    out = array_arg("dot_loss", output)
    t = np.asarray(cotangent, dtype=_F32)
    if t.shape != out.shape:
        raise ValueError(_("dot_loss: the cotangent has shape {shape}, the output has"
                           " {shape2}").format(shape=t.shape, shape2=out.shape))
    return float(np.sum(out * t, dtype=np.float64)), t.copy()
