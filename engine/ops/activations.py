"""Element-wise activations and softmax, like ``torch.nn.functional``'s.

ReLU and hardtanh compare with a vector of constants, not a scalar (numpy's loop for that
is 3x slower here).
"""

from __future__ import annotations

import numpy as np

from engine.ops._checks import (
    array_arg,
    dim_arg,
    real_arg,
)

__all__ = ['hardtanh', 'leaky_relu', 'relu', 'sigmoid', 'softmax', 'tanh']

_F32 = np.float32


_CHUNK = 1 << 15


_constants: dict[float, np.ndarray] = {}


def _constant(value: float) -> np.ndarray:
    """A read-only vector of _CHUNK copies of ``value``."""
    vec = _constants.get(value)
    if vec is None:
        vec = np.full(_CHUNK, value, _F32)
        vec.flags.writeable = False
        if len(_constants) > 16:
            _constants.clear()
        _constants[value] = vec
    return vec


def _clamp(arr: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """min(max(arr, lo), hi) into a new array.

    numpy's maximum of an array and a scalar runs 3x slower than of two arrays (no SIMD loop for
    the scalar case here), so the bounds are read from constant vectors, chunk by chunk.
    """
    src = np.ascontiguousarray(arr).reshape(-1)
    out = np.empty(arr.shape, _F32)
    dst = out.reshape(-1)
    if lo is not None and hi is None and src.size <= _CHUNK:  # a small ReLU: one call
        np.maximum(src, _constant(lo)[: src.size], out=dst)
        return out
    whole = src.size // _CHUNK * _CHUNK
    parts = [(src[:whole].reshape(-1, _CHUNK), dst[:whole].reshape(-1, _CHUNK))]
    parts.append((src[whole:], dst[whole:]))
    for a, d in parts:
        n = a.shape[-1]
        if lo is not None:
            np.maximum(a, _constant(lo)[:n], out=d)
            a = d
        if hi is not None:
            np.minimum(a, _constant(hi)[:n], out=d)
        if lo is None and hi is None:
            np.copyto(d, a)
    return out


def relu(x) -> np.ndarray:
    """max(x, 0), element-wise, any shape.

    Examples
    --------
    >>> relu(np.array([-1.0, 2.0], np.float32)).tolist()
    [0.0, 2.0]
    """
    return _clamp(array_arg("relu", x), 0.0, None)


def leaky_relu(x, negative_slope=0.01) -> np.ndarray:
    """x where x > 0, else negative_slope * x.

    Examples
    --------
    >>> leaky_relu(np.array([-2.0, 3.0], np.float32), 0.5).tolist()
    [-1.0, 3.0]
    """
    arr = array_arg("leaky_relu", x)
    slope = _F32(real_arg("leaky_relu", "negative_slope", negative_slope))
    if 0 <= slope <= 1:  # then max(x, slope * x) is the same, in two fast passes
        scaled = arr * slope
        return np.maximum(arr, scaled, out=scaled)
    return np.where(arr > 0, arr, arr * slope)


def sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(-x)), computed without overflow for large |x|.

    Examples
    --------
    >>> sigmoid(np.array([0.0], np.float32)).tolist()
    [0.5]
    """
    arr = array_arg("sigmoid", x)
    e = np.exp(-np.abs(arr))  # in (0, 1]: never overflows
    return np.where(arr >= 0, 1 / (1 + e), e / (1 + e)).astype(_F32, copy=False)


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent, element-wise.

    Examples
    --------
    >>> tanh(np.array([0.0], np.float32)).tolist()
    [0.0]
    """
    return np.tanh(array_arg("tanh", x))


def hardtanh(x, min_val=-1.0, max_val=1.0) -> np.ndarray:
    """Clip to [min_val, max_val]; ``hardtanh(x, 0, 6)`` is ReLU6.

    Examples
    --------
    >>> hardtanh(np.array([-3.0, 0.5, 9.0], np.float32), 0, 6).tolist()
    [0.0, 0.5, 6.0]
    """
    arr = array_arg("hardtanh", x)
    lo, hi = real_arg("hardtanh", "min_val", min_val), real_arg("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val {lo:g} is greater than max_val {hi:g}")
    return _clamp(arr, float(_F32(lo)), float(_F32(hi)))


def softmax(x, dim=-1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the maximum so it never overflows.

    Examples
    --------
    >>> softmax(np.array([0.0, 0.0], np.float32)).tolist()
    [0.5, 0.5]
    """
    arr = array_arg("softmax", x)
    if arr.ndim == 0:
        raise ValueError("softmax: input must have at least 1 dimension, got a scalar")
    axis = dim_arg("softmax", "dim", dim, arr.ndim)
    e = np.exp(arr - arr.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
