"""Pure CNN ops in numpy, with PyTorch's names, arguments and results.

Image ops take float32 arrays shaped ``(C, H, W)`` or ``(N, C, H, W)`` and return float32 arrays
of the same batchedness. Convolution is cross-correlation, as in PyTorch and the lecture:
``g(x, y) = sum_s sum_t w(s, t) f(x + s, y + t)``. Every bad argument raises ``ValueError`` whose
message starts with the op's name and gives the numbers, e.g.
``"conv2d: input has 4 channels, weight expects 3"``.

This module holds the public ops; the machinery behind them lives next door:

- :mod:`engine.ops._checks`: argument checks and their messages;
- :mod:`engine.ops._conv`: the convolution routines (im2col bands, 1x1, depthwise and separable);
- :mod:`engine.ops._pool`: the pooling routines (separable max and sum);
- :mod:`engine.ops._parallel`: the thread pool, per-thread workspaces and reused padded buffers,
  and the one-time process set-up (OpenBLAS on one thread, glibc keeping freed memory).

Speed matters because the GUI runs these ops on live video; each module's docstring gives the
measured choices (see docs/benchmarks.md, "Engine"). Here: ReLU and hardtanh compare with a
vector of constants, not a scalar (numpy's loop for that is 3x slower), and large ``linear``
layers split their output features over the threads.
"""

from __future__ import annotations

import math

import numpy as np

from engine.ops import _parallel
from engine.ops._checks import (
    array_arg,
    channel_axis,
    conv_args,
    dim_arg,
    image_arg,
    int_arg,
    pad_args,
    pool_args,
    real_arg,
    recall,
    remember,
    vector_arg,
)
from engine.ops._conv import convolve
from engine.ops._parallel import run
from engine.ops._pool import avg_pool, max_pool

__all__ = [
    "avg_pool2d",
    "batch_norm",
    "conv2d",
    "flatten",
    "get_num_threads",
    "global_avg_pool2d",
    "hardtanh",
    "leaky_relu",
    "linear",
    "local_response_norm",
    "max_pool2d",
    "pad",
    "relu",
    "set_num_threads",
    "sigmoid",
    "softmax",
    "tanh",
]

_F32 = np.float32


# ---------------------------------------------------------------- threads


def get_num_threads() -> int:
    """Return how many threads the ops use for large convolutions and pools."""
    return _parallel.thread_count()


def set_num_threads(n: int) -> None:
    """Set how many threads the ops use (1 = everything on the calling thread).

    Each thread runs numpy's BLAS on one thread of its own.

    Examples
    --------
    >>> before = get_num_threads()
    >>> set_num_threads(1); get_num_threads()
    1
    >>> set_num_threads(before)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"set_num_threads: the thread count must be a positive int, got {n!r}")
    _parallel.set_thread_count(int(n))


def _out(y: np.ndarray, batched: bool) -> np.ndarray:
    return y if batched else y[0]


# ---------------------------------------------------------------- convolution and pooling


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
    return _out(convolve(x4, w, b, stride2, pads, dil, groups, out_hw), batched)


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
    return _out(max_pool(x4, k, s, p, d, out_hw), batched)


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
    return _out(avg_pool(x4, k, s, p, out_hw, count_include_pad), batched)


def global_avg_pool2d(x) -> np.ndarray:
    """Mean of each map: (C, H, W) -> (C, 1, 1), (N, C, H, W) -> (N, C, 1, 1).

    Examples
    --------
    >>> global_avg_pool2d(np.ones((2, 3, 3), np.float32)).shape
    (2, 1, 1)
    """
    x4, batched = image_arg("global_avg_pool2d", x)
    y = x4.mean(axis=(2, 3), keepdims=True, dtype=np.float64).astype(_F32)
    return _out(y, batched)


# ---------------------------------------------------------------- element-wise


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


# ---------------------------------------------------------------- normalization and dense


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
        raise ValueError(f"linear: weight must be 2-D (out, in), got shape {tuple(w.shape)}")
    if arr.ndim == 0:
        raise ValueError("linear: input must have at least 1 dimension, got a scalar")
    if arr.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input has {arr.shape[-1]} features, weight expects {w.shape[1]}")
    b = None if bias is None else vector_arg("linear", "bias", bias, w.shape[0], "output feature")
    rows = arr.reshape(-1, w.shape[1])  # (M, in)
    y = np.empty((rows.shape[0], w.shape[0]), _F32)  # (M, out)
    if y.size * w.shape[1] < _parallel._THREAD_MIN_WORK:  # small: one matmul, no hand-off
        np.matmul(rows, w.T, out=y)
        if b is not None:
            y += b
        return y.reshape(*arr.shape[:-1], w.shape[0])
    # large layers (AlexNet's and VGG's classifiers) split their output features over the threads
    step = max(1, -(-w.shape[0] // get_num_threads()))
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
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return arr.reshape((*arr.shape[:s], math.prod(arr.shape[s : e + 1]), *arr.shape[e + 1 :]))


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
