"""Fully connected layers and flattening; large ``linear`` layers split their output
features over the engine's threads.
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import N_, _
from engine.ops import _parallel
from engine.ops._checks import (
    array_arg,
    dim_arg,
    vector_arg,
)
from engine.ops._parallel import run

__all__ = ["flatten", "linear", "linear_backward"]

_F32 = np.float32


def linear(x, weight, bias=None) -> np.ndarray:
    """x @ weight.T + bias over the last axis of x: (..., in) -> (..., out).

    Examples
    --------
    >>> linear(np.ones(3, np.float32), np.ones((2, 3), np.float32), np.array([0.0, 1.0])).tolist()
    [3.0, 4.0]
    """
    arr = array_arg("linear", x)
    w = array_arg("linear", weight, "weight")
    if w.ndim != 2:
        raise ValueError(_("linear: weight must be 2-D (out, in), got shape {shape}").format(
            shape=tuple(w.shape)))
    if arr.ndim == 0:
        raise ValueError(_("linear: input must have at least 1 dimension, got a scalar"))
    if arr.shape[-1] != w.shape[1]:
        raise ValueError(_("linear: input has {features} features, weight expects "
                           "{expected}").format(features=arr.shape[-1], expected=w.shape[1]))
    b = None if bias is None else vector_arg("linear", "bias", bias, w.shape[0],
                                             N_("output feature"))
    rows = arr.reshape(-1, w.shape[1])  # (M, in)
    y = np.empty((rows.shape[0], w.shape[0]), _F32)  # (M, out)
    if y.size * w.shape[1] < _parallel._THREAD_MIN_WORK:  # small: one matmul, no hand-off
        np.matmul(rows, w.T, out=y)
        if b is not None:
            y += b
        return y.reshape(*arr.shape[:-1], w.shape[0])
    # large layers (AlexNet's and VGG's classifiers) split their output features over the threads
    step = max(1, -(-w.shape[0] // _parallel.thread_count()))
    parts = [(o, min(o + step, w.shape[0])) for o in range(0, w.shape[0], step)]

    def work(part):
        o0, o1 = part
        np.matmul(rows, w[o0:o1].T, out=y[:, o0:o1])
        if b is not None:
            y[:, o0:o1] += b[o0:o1]

    run(parts, work, y.size * w.shape[1])
    return y.reshape(*arr.shape[:-1], w.shape[0])


def flatten(x, start_dim=0, end_dim=-1) -> np.ndarray:
    """Merge dims start_dim..end_dim into one, like ``torch.flatten``.

    Examples
    --------
    >>> flatten(np.zeros((2, 3, 4), np.float32), 1).shape
    (2, 12)
    """
    arr = array_arg("flatten", x)
    if arr.ndim == 0:
        return arr.reshape(1)
    s = dim_arg("flatten", "start_dim", start_dim, arr.ndim)
    e = dim_arg("flatten", "end_dim", end_dim, arr.ndim)
    if s > e:
        raise ValueError(_("flatten: start_dim {start_dim} comes after end_dim {end_dim}").format(
            start_dim=start_dim, end_dim=end_dim))
    return arr.reshape((*arr.shape[:s], math.prod(arr.shape[s : e + 1]), *arr.shape[e + 1 :]))


def linear_backward(grad, x, weight, need_input=True, need_bias=True):
    """Gradients of :func:`linear`: ``(grad_x, grad_weight, grad_bias)``.

    ``grad`` has the output's shape (..., out); ``grad_weight = grad^T @ x`` summed over every
    leading axis, ``grad_x = grad @ weight``.

    Examples
    --------
    >>> gx, gw, gb = linear_backward(np.ones((1, 2), np.float32), np.ones((1, 3), np.float32),
    ...                              np.ones((2, 3), np.float32))
    >>> gx.tolist(), gw.shape, gb.tolist()
    ([[2.0, 2.0, 2.0]], (2, 3), [1.0, 1.0])
    """
    w = np.asarray(weight, _F32)
    g2 = np.asarray(grad, _F32).reshape(-1, w.shape[0])  # (M, out)
    x2 = np.asarray(x, _F32).reshape(-1, w.shape[1])  # (M, in)
    grad_w = g2.T @ x2  # (out, in)
    grad_b = g2.sum(axis=0, dtype=np.float64).astype(_F32) if need_bias else None
    grad_x = (g2 @ w).reshape(np.shape(x)) if need_input else None
    return grad_x, grad_w, grad_b
