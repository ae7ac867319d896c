"""More element-wise activations, as ``torch.nn.functional`` names them, each with its backward.

The activations of networks exported from PyTorch and Keras beyond ReLU and friends: hardsigmoid
and hardswish (MobileNetV3), elu, selu, gelu (ConvNeXt, transformers), erf, prelu, softplus and
log_softmax. Each ``*_backward`` takes the output's gradient and what the forward saw (``x`` or
``y``) and returns the input's gradient, with PyTorch's choices at the kinks.

numpy has no ``erf``: :func:`erf` and :func:`gelu` run a float32 rational fit in chunks shared
by the threads (:mod:`engine.ops._erf`, relative error below 4.3e-7); the backward passes use
Numerical Recipes' Chebyshev fit of ``erfc`` (relative error below 1.2e-7) in float64.
"""

from __future__ import annotations

import numpy as np

from engine.ops._checks import array_arg, dim_arg
from engine.ops._erf import erf32, gelu32
from engine.ops._parallel import map_chunks

__all__ = [
    "elu", "elu_backward", "erf", "erf_backward", "gelu", "gelu_backward", "hardsigmoid",
    "hardsigmoid_backward", "hardswish", "hardswish_backward", "log_softmax_dim",
    "log_softmax_dim_backward", "prelu", "prelu_backward", "selu", "selu_backward", "silu",
    "silu_backward", "softplus", "softplus_backward",
]

_F32 = np.float32
# ONNX's (and PyTorch's) SELU constants.
SELU_ALPHA = 1.67326319217681884765625
SELU_GAMMA = 1.05070102214813232421875
_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
         -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _f32(a) -> np.ndarray:
    return np.asarray(a).astype(_F32, copy=False)


def erf(x) -> np.ndarray:
    """The error function, element-wise.

    Examples
    --------
    >>> [round(float(v), 6) for v in erf(np.array([0.0, 1.0, -2.0], np.float32))]
    [0.0, 0.842701, -0.995322]
    """
    return erf32(array_arg("erf", x))


def _erf64(x: np.ndarray) -> np.ndarray:
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = _ERFC[-1]
    for c in _ERFC[-2::-1]:
        poly = c + t * poly
    return np.copysign(1.0 - t * np.exp(-z * z + poly), x)


def erf_backward(grad, x) -> np.ndarray:
    """Gradient of :func:`erf`: ``grad * 2 / sqrt(pi) * exp(-x**2)``."""
    return _f32(grad * (2 / np.sqrt(np.pi)) * np.exp(-np.square(x, dtype=np.float64)))


def hardsigmoid(x, alpha: float = 1 / 6, beta: float = 0.5) -> np.ndarray:
    """``clip(alpha * x + beta, 0, 1)``; PyTorch's slope 1/6 by default (ONNX's is 0.2).

    Examples
    --------
    >>> hardsigmoid(np.array([-4.0, 0.0, 4.0], np.float32)).tolist()
    [0.0, 0.5, 1.0]
    """
    arr = array_arg("hardsigmoid", x)
    y = np.multiply(arr, _F32(alpha))  # then in place: one new array, not four
    y += _F32(beta)
    return np.clip(y, _F32(0), _F32(1), out=y)


def hardsigmoid_backward(grad, x, alpha: float = 1 / 6, beta: float = 0.5) -> np.ndarray:
    """Gradient of :func:`hardsigmoid`: ``alpha`` strictly inside the ramp, else 0."""
    z = x * _F32(alpha) + _F32(beta)
    return _f32(grad * np.where((z > 0) & (z < 1), _F32(alpha), _F32(0)))


def hardswish(x) -> np.ndarray:
    """``x * hardsigmoid(x)`` (MobileNetV3).

    Examples
    --------
    >>> [round(float(v), 4) for v in hardswish(np.array([-4.0, 1.0, 4.0], np.float32))]
    [-0.0, 0.6667, 4.0]
    """
    arr = array_arg("hardswish", x)
    # in place: one new array instead of four, the same float32 roundings (MobileNetV3's
    # 96x112x112: 2.6 -> 2.1 ms; 672x14x14: 0.106 -> 0.090)
    y = np.divide(arr, _F32(6))
    y += _F32(0.5)
    np.clip(y, _F32(0), _F32(1), out=y)
    with np.errstate(invalid="ignore"):  # -inf * 0: NaN, quietly, as onnxruntime gives
        y *= arr
    return y


def hardswish_backward(grad, x) -> np.ndarray:
    """Gradient of :func:`hardswish`: 0 below -3, 1 above 3, ``(2x + 3) / 6`` between."""
    slope = np.where(x < -3, _F32(0), np.where(x > 3, _F32(1), (2 * x + 3) / _F32(6)))
    return _f32(grad * slope)


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """``x`` where positive, else ``alpha * (exp(x) - 1)``.

    Examples
    --------
    >>> [round(float(v), 4) for v in elu(np.array([-1.0, 2.0], np.float32))]
    [-0.6321, 2.0]
    """
    arr = array_arg("elu", x)
    return _f32(np.where(arr > 0, arr, _F32(alpha) * np.expm1(np.minimum(arr, 0))))


def elu_backward(grad, x, alpha: float = 1.0) -> np.ndarray:
    """Gradient of :func:`elu`: 1 where x > 0, else ``alpha * exp(x)``."""
    return _f32(grad * np.where(x > 0, _F32(1), _F32(alpha) * np.exp(np.minimum(x, 0))))


def selu(x) -> np.ndarray:
    """``gamma * elu(x, alpha)`` with the self-normalizing constants."""
    return _f32(SELU_GAMMA * elu(x, SELU_ALPHA))


def selu_backward(grad, x) -> np.ndarray:
    """Gradient of :func:`selu`."""
    return _f32(SELU_GAMMA * elu_backward(grad, x, SELU_ALPHA))


def gelu(x, approximate: str = "none") -> np.ndarray:
    """``x * Phi(x)`` (the normal distribution's CDF); ``approximate="tanh"``: its tanh fit.

    Examples
    --------
    >>> [round(float(v), 4) for v in gelu(np.array([-1.0, 0.0, 1.0], np.float32))]
    [-0.1587, 0.0, 0.8413]
    """
    if approximate != "tanh":
        return gelu32(array_arg("gelu", x))
    arr = array_arg("gelu", x).astype(np.float64)
    inner = np.sqrt(2 / np.pi) * (arr + 0.044715 * arr**3)
    return _f32(0.5 * arr * (1 + np.tanh(inner)))


def gelu_backward(grad, x, approximate: str = "none") -> np.ndarray:
    """Gradient of :func:`gelu`."""
    arr = np.asarray(x, np.float64)
    if approximate == "tanh":
        k = np.sqrt(2 / np.pi)
        t = np.tanh(k * (arr + 0.044715 * arr**3))
        slope = 0.5 * (1 + t) + 0.5 * arr * (1 - t * t) * k * (1 + 3 * 0.044715 * arr**2)
    else:
        cdf = 0.5 * (1 + _erf64(arr / np.sqrt(2)))
        slope = cdf + arr * np.exp(-0.5 * arr * arr) / np.sqrt(2 * np.pi)
    return _f32(grad * slope)


# Values a piece for SiLU's four passes: 64k-128k ran best on two threads (96x112x112: 1.6 ms
# for Sigmoid then Mul, 0.9 in pieces of 64k); the erf's 128k serves.
_SILU_CHUNK = 1 << 17


def _silu_into(x: np.ndarray, out: np.ndarray, chunk: int) -> None:
    np.negative(x, out=out)
    np.exp(out, out=out)  # inf below x = -88: x / inf is -0.0, SiLU's limit
    out += _F32(1)
    np.divide(x, out, out=out)


def silu(x) -> np.ndarray:
    """``x * sigmoid(x) = x / (1 + exp(-x))``, SiLU (also called swish): EfficientNet's
    activation, which ONNX files hold as a Sigmoid and a Mul.

    Computed in pieces shared by the threads, four in-place passes each while the piece is in
    cache: one pass over memory where Sigmoid then Mul took five and an array between them.

    Examples
    --------
    >>> [round(float(v), 4) for v in silu(np.array([-1.0, 0.0, 2.0], np.float32))]
    [-0.2689, 0.0, 1.7616]
    """
    arr = array_arg("silu", x)
    with np.errstate(over="ignore", invalid="ignore"):  # -inf gives NaN, as -inf * 0 does
        return map_chunks(arr, _silu_into, _SILU_CHUNK, 8)


def silu_backward(grad, x) -> np.ndarray:
    """Gradient of :func:`silu`: ``grad * s * (1 + x * (1 - s))`` with ``s = sigmoid(x)``, as
    PyTorch computes it."""
    x64 = np.asarray(x, np.float64)
    s = 0.5 * (1 + np.tanh(0.5 * x64))
    return _f32(grad * (s * (1 + x64 * (1 - s))))


def softplus(x) -> np.ndarray:
    """``log(1 + exp(x))`` without overflow."""
    arr = array_arg("softplus", x)
    return _f32(np.logaddexp(0, arr))


def softplus_backward(grad, x) -> np.ndarray:
    """Gradient of :func:`softplus`: the sigmoid of x."""
    return _f32(grad * 0.5 * (1 + np.tanh(0.5 * np.asarray(x, np.float64))))


def prelu(x, slope) -> np.ndarray:
    """``x`` where positive, else ``slope * x``; ``slope`` broadcasts against ``x``.

    Examples
    --------
    >>> prelu(np.array([-2.0, 3.0], np.float32), np.array([0.25], np.float32)).tolist()
    [-0.5, 3.0]
    """
    arr = array_arg("prelu", x)
    return _f32(np.where(arr > 0, arr, arr * slope))


def prelu_backward(grad, x, slope) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of :func:`prelu`: ``(d x, d slope)``, the slope's summed to its own shape."""
    negative = x <= 0
    gx = _f32(grad * np.where(negative, slope, _F32(1)))
    gs = np.where(negative, grad * x, 0).astype(np.float64)
    return gx, _f32(unbroadcast(gs, np.shape(slope)))


def log_softmax_dim(x, dim: int = -1) -> np.ndarray:
    """``log(softmax(x))`` along ``dim``, computed without forming the softmax.

    Examples
    --------
    >>> [round(float(v), 4) for v in log_softmax_dim(np.zeros(2, np.float32))]
    [-0.6931, -0.6931]
    """
    arr = array_arg("log_softmax", x)
    axis = dim_arg("log_softmax", "dim", dim, arr.ndim)
    shifted = arr - arr.max(axis=axis, keepdims=True)
    return _f32(shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)))


def log_softmax_dim_backward(grad, y, dim: int = -1) -> np.ndarray:
    """Gradient of :func:`log_softmax_dim` from its output: ``grad - softmax * sum(grad)``."""
    return _f32(grad - np.exp(y) * grad.sum(axis=dim, keepdims=True))


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the gradient of broadcasting an array of ``shape``.

    Examples
    --------
    >>> unbroadcast(np.ones((2, 3, 4)), (3, 1)).tolist()
    [[8.0], [8.0], [8.0]]
    """
    shape = tuple(shape)
    lead = grad.ndim - len(shape)
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad
