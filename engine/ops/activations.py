"""Element-wise activations and softmax, like ``torch.nn.functional``'s.

ReLU and hardtanh compare with a vector of constants, not a scalar (numpy's loop for that
is 3x slower here). A large ReLU or hardtanh (a 480x640 layer's) shares its chunks between the
engine's threads.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import _
from engine.ops._checks import (
    array_arg,
    dim_arg,
    real_arg,
)
from engine.ops._parallel import run, thread_count

__all__ = [
    "dropout",
    "dropout_backward",
    "hardtanh",
    "hardtanh_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
    "tanh",
    "tanh_backward",
]

_F32 = np.float32


_CHUNK = 1 << 15
# A large clamp goes in two pieces a thread, its values counted as this many multiply-accumulates
# each against the threads' threshold (2 M): from a million values. Below, one thread was faster
# on the 2-core Intel Xeon (ms, best of 40, two threads / one: ReLU of 64x56x56 0.094 / 0.037,
# of 144x56x56 0.139 / 0.115, of 64x112x112 0.230 / 0.216; of 96x112x112 0.319 / 0.335).
_CLAMP_WORK = 2


_constants: dict[bytes, np.ndarray] = {}


def _constant(value: float) -> np.ndarray:
    """A read-only vector of _CHUNK copies of ``value``."""
    key = _F32(value).tobytes()  # by bits: -0.0 == 0.0, but a -0.0 bound must not become 0.0's
    vec = _constants.get(key)
    if vec is None:
        vec = np.full(_CHUNK, value, _F32)
        vec.flags.writeable = False
        if len(_constants) > 16:
            _constants.clear()
        _constants[key] = vec
    return vec


def _clamp(arr: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """min(max(arr, lo), hi) into a new array.

    numpy's maximum of an array and a scalar runs 3x slower than of two arrays (no SIMD loop for
    the scalar case here), so the bounds are read from constant vectors, chunk by chunk. The
    chunks of a large array are shared between the threads: a 480x640 ReLU of 8 channels took
    0.8 ms on one thread.
    """
    src = np.ascontiguousarray(arr).reshape(-1)
    out = np.empty(arr.shape, _F32)
    dst = out.reshape(-1)
    if lo is not None and hi is None and src.size <= _CHUNK:  # a small ReLU: one call
        np.maximum(src, _constant(lo)[: src.size], out=dst)
        return out
    whole = src.size // _CHUNK * _CHUNK
    rows = whole // _CHUNK
    step = max(1, -(-rows // (2 * thread_count())))  # rows of _CHUNK values a piece
    parts = [(src[r * _CHUNK : min(r + step, rows) * _CHUNK].reshape(-1, _CHUNK),
              dst[r * _CHUNK : min(r + step, rows) * _CHUNK].reshape(-1, _CHUNK))
             for r in range(0, rows, step)]  # fmt: skip
    parts.append((src[whole:], dst[whole:]))

    def work(part):
        a, d = part
        n = a.shape[-1]
        if lo is not None:
            np.maximum(a, _constant(lo)[:n], out=d)
            a = d
        if hi is not None:
            np.minimum(a, _constant(hi)[:n], out=d)
        if lo is None and hi is None:
            np.copyto(d, a)

    run(parts, work, src.size * _CLAMP_WORK)
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
    # Four in-place SIMD passes (13x faster than an overflow-free np.where of two branches,
    # which EfficientNet's SiLU gates felt): exp(-x) overflows to inf below -88, where
    # 1 / (1 + inf) = 0 is the float32 answer anyway (the exact one is subnormal).
    y = np.negative(arr, dtype=_F32)
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += _F32(1)
    return np.reciprocal(y, out=y)


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
        raise ValueError(_("hardtanh: min_val {lo:g} is greater than max_val {hi:g}").format(
            lo=lo, hi=hi))
    # One np.clip of the whole map on the calling thread (a SIMD loop with both bounds in
    # numpy 2) beat the two chunked passes of _clamp shared by the threads on MobileNetV2's
    # ReLU6 (ms, best of 30, cold maps, 2 cores with other jobs running: 96x112x112
    # 0.91 -> 0.56; 192x28x28 0.14 -> 0.04; 576x14x14 0.063 -> 0.025).
    return np.clip(arr, _F32(lo), _F32(hi))


def softmax(x, dim=-1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the maximum so it never overflows.

    Examples
    --------
    >>> softmax(np.array([0.0, 0.0], np.float32)).tolist()
    [0.5, 0.5]
    """
    arr = array_arg("softmax", x)
    if arr.ndim == 0:
        raise ValueError(_("softmax: input must have at least 1 dimension, got a scalar"))
    axis = dim_arg("softmax", "dim", dim, arr.ndim)
    e = np.exp(arr - arr.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- backward passes
# Each takes the gradient of the loss with respect to the op's output and what the forward saw
# (its input ``x`` or its output ``y``, whichever is cheaper to keep) and returns the gradient
# with respect to the input, with PyTorch's choices at the kinks.


def relu_backward(grad, y) -> np.ndarray:
    """Gradient of :func:`relu`: ``grad`` where the output was positive, else 0 (0 at x = 0).

    Examples
    --------
    >>> relu_backward(np.ones(3, np.float32), np.array([0.0, 2.0, 0.0], np.float32)).tolist()
    [0.0, 1.0, 0.0]
    """
    return np.multiply(grad, y > 0, dtype=_F32)


def leaky_relu_backward(grad, x, negative_slope=0.01) -> np.ndarray:
    """Gradient of :func:`leaky_relu`: 1 where x > 0, else ``negative_slope``.

    Examples
    --------
    >>> leaky_relu_backward(np.ones(2, np.float32), np.array([-1.0, 1.0], np.float32), 0.5)
    array([0.5, 1. ], dtype=float32)
    """
    factor = np.where(x > 0, _F32(1), _F32(negative_slope))
    return np.multiply(grad, factor, dtype=_F32)


def sigmoid_backward(grad, y) -> np.ndarray:
    """Gradient of :func:`sigmoid` from its output: ``grad * y * (1 - y)``.

    Examples
    --------
    >>> sigmoid_backward(np.ones(1, np.float32), np.array([0.5], np.float32)).tolist()
    [0.25]
    """
    return (grad * (y * (1 - y))).astype(_F32, copy=False)


def tanh_backward(grad, y) -> np.ndarray:
    """Gradient of :func:`tanh` from its output: ``grad * (1 - y**2)``.

    Examples
    --------
    >>> tanh_backward(np.ones(1, np.float32), np.array([0.0], np.float32)).tolist()
    [1.0]
    """
    return (grad * (1 - y * y)).astype(_F32, copy=False)


def hardtanh_backward(grad, x, min_val=-1.0, max_val=1.0) -> np.ndarray:
    """Gradient of :func:`hardtanh`: ``grad`` strictly inside (min_val, max_val), else 0.

    Examples
    --------
    >>> hardtanh_backward(np.ones(3, np.float32), np.array([-2.0, 0.0, 1.0], np.float32)).tolist()
    [0.0, 1.0, 0.0]
    """
    inside = (x > _F32(min_val)) & (x < _F32(max_val))
    return np.multiply(grad, inside, dtype=_F32)


def softmax_backward(grad, y, dim=-1) -> np.ndarray:
    """Gradient of :func:`softmax` from its output: ``y * (grad - sum(grad * y, dim))``.

    Examples
    --------
    >>> softmax_backward(np.array([1.0, 0.0], np.float32), np.array([0.5, 0.5], np.float32))
    array([ 0.25, -0.25], dtype=float32)
    """
    dot = np.sum(grad * y, axis=dim, keepdims=True)
    return (y * (grad - dot)).astype(_F32, copy=False)


def dropout(x, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Zero each value with probability ``p`` and scale the rest by 1 / (1 - p), as in training.

    Returns the output and the mask (0 or 1 / (1 - p) per value) that :func:`dropout_backward`
    needs. ``p`` = 0 keeps everything; ``p`` = 1 drops everything.

    Examples
    --------
    >>> y, mask = dropout(np.ones(4, np.float32), 0.5, np.random.default_rng(0))
    >>> sorted(set(y.tolist()) | {0.0, 2.0})
    [0.0, 2.0]
    """
    arr = array_arg("dropout", x)
    p = real_arg("dropout", "p", p)
    if not 0 <= p <= 1:
        raise ValueError(_("dropout: p must be between 0 and 1, got {p:g}").format(p=p))
    keep = _F32(0) if p == 1 else _F32(1 / (1 - p))
    mask = (rng.random(arr.shape, dtype=_F32) >= _F32(p)).astype(_F32)
    mask *= keep
    return arr * mask, mask


def dropout_backward(grad, mask) -> np.ndarray:
    """Gradient of :func:`dropout`: the output gradient through the same mask.

    Examples
    --------
    >>> dropout_backward(np.ones(2, np.float32), np.array([0.0, 2.0], np.float32)).tolist()
    [0.0, 2.0]
    """
    return np.multiply(grad, mask, dtype=_F32)
