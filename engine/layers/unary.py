"""Element-wise layers of imported networks: hard sigmoid and swish, SiLU, ELU, SELU, GELU, erf,
PReLU, log-softmax and the plain maths (sqrt, reciprocal, exp, log, abs, neg, softplus).

The output shape is the input shape, whatever its rank, so these layers need no ``in_rank``
(LogSoftmax, like Softmax, counts ``dim`` in unbatched shapes and is told the rank). Each has a
backward pass; the maths live in :mod:`engine.ops.pointwise`.
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import N_, _
from engine.layers.base import Field, Layer, LayerError
from engine.ops import pointwise as E
from engine.ops.shapes import ShapeError

__all__ = ["ELU", "GELU", "SELU", "Abs", "Erf", "Exp", "HardSigmoid", "HardSwish", "Log",
           "LogSoftmax", "Neg", "PReLU", "Reciprocal", "SiLU", "Softplus", "Sqrt"]

_F32 = np.float32


class _Elementwise(Layer):
    """One value in, one value out; ``_backward(grad, x, y)`` is the input's gradient."""

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        (x,), y = saved
        return (self._backward(grad, x, y),), {}

    def _backward(self, grad, x, y):
        raise TypeError(f"{self.type_name} does not define _backward")  # each subclass does

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0])


def _unary(type_name: str, prefix: str, doc: str, forward, backward) -> type[_Elementwise]:
    """A parameterless element-wise layer type from its two functions."""
    cls = type(type_name, (_Elementwise,), {
        "__doc__": doc, "type_name": type_name, "name_prefix": prefix,
        "forward": lambda self, x: forward(x), "_backward": lambda self, g, x, y: backward(g, x, y),
        "__module__": __name__})
    return cls


def _quiet(f):
    """numpy's own result (NaN, inf) for values outside the domain, as onnxruntime gives."""
    def wrapped(*args):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return f(*args).astype(_F32, copy=False)
    return wrapped


HardSwish = _unary("HardSwish", "hswish", "``x * relu6(x + 3) / 6`` (MobileNetV3).",
                   E.hardswish, lambda g, x, y: E.hardswish_backward(g, x))
SiLU = _unary("SiLU", "silu", "``x * sigmoid(x)``, also called swish (EfficientNet). An ONNX"
              " file holds it as Sigmoid then Mul, which the importer reads as this one layer.",
              E.silu, lambda g, x, y: E.silu_backward(g, x))
SELU = _unary("SELU", "selu", "Scaled ELU with the self-normalizing constants.",
              E.selu, lambda g, x, y: E.selu_backward(g, x))
Erf = _unary("Erf", "erf", "The error function (GELU's exact form uses it).",
             E.erf, lambda g, x, y: E.erf_backward(g, x))
Softplus = _unary("Softplus", "softplus", "``log(1 + exp(x))``.",
                  E.softplus, lambda g, x, y: E.softplus_backward(g, x))
Sqrt = _unary("Sqrt", "sqrt", "Square root (NaN below zero).", _quiet(np.sqrt),
              _quiet(lambda g, x, y: g * 0.5 / y))
Reciprocal = _unary("Reciprocal", "recip", "``1 / x``.", _quiet(np.reciprocal),
                    _quiet(lambda g, x, y: -g * y * y))
Exp = _unary("Exp", "exp", "``e ** x``.", _quiet(np.exp), _quiet(lambda g, x, y: g * y))
Log = _unary("Log", "log", "Natural logarithm (NaN below zero).", _quiet(np.log),
             _quiet(lambda g, x, y: g / x))
Abs = _unary("Abs", "abs", "Absolute value.", np.abs, lambda g, x, y: g * np.sign(x))
Neg = _unary("Neg", "neg", "``-x``.", np.negative, lambda g, x, y: -g)


class HardSigmoid(_Elementwise):
    """``clip(alpha * x + beta, 0, 1)``: ONNX's defaults 0.2 and 0.5; PyTorch's 1/6 and 0.5."""

    type_name = "HardSigmoid"
    name_prefix = "hsigmoid"
    FIELDS = (Field("alpha", "float", 0.2, -1e6, 1e6, N_("slope")),
              Field("beta", "float", 0.5, -1e6, 1e6, N_("offset")))

    def __init__(self, alpha=0.2, beta=0.5):
        self._store(alpha=alpha, beta=beta)

    def forward(self, x):
        return E.hardsigmoid(x, self.alpha, self.beta)

    def _backward(self, grad, x, y):
        return E.hardsigmoid_backward(grad, x, self.alpha, self.beta)


class ELU(_Elementwise):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``."""

    type_name = "ELU"
    name_prefix = "elu"
    FIELDS = (Field("alpha", "float", 1.0, -1e6, 1e6, N_("scale of the negative part")),)

    def __init__(self, alpha=1.0):
        self._store(alpha=alpha)

    def forward(self, x):
        return E.elu(x, self.alpha)

    def _backward(self, grad, x, y):
        return E.elu_backward(grad, x, self.alpha)


class GELU(_Elementwise):
    """``x * Phi(x)``; ``approximate="tanh"`` uses the tanh fit, as PyTorch does."""

    type_name = "GELU"
    name_prefix = "gelu"
    FIELDS = (Field("approximate", "choice", "none", help=N_("exact or the tanh fit"),
                    choices=("none", "tanh")),)

    def __init__(self, approximate="none"):
        self._store(approximate=approximate)

    def forward(self, x):
        return E.gelu(x, self.approximate)

    def _backward(self, grad, x, y):
        return E.gelu_backward(grad, x, self.approximate)


class PReLU(_Elementwise):
    """``x`` where positive, else ``weight * x``: a learned slope, one per channel or shared.

    ``weight`` is unbatched and broadcasts against the input from the right, e.g. ``(C, 1, 1)``
    for a map or ``(1,)`` for one shared slope.
    """

    type_name = "PReLU"
    name_prefix = "prelu"
    trainable = ("weight",)

    def __init__(self, weight=(0.25,)):
        self.weight = np.array(weight, dtype=_F32)
        if self.weight.ndim == 0:
            self.weight = self.weight.reshape(1)
        if not np.isfinite(self.weight).all():
            raise LayerError(_("PReLU: weight holds values that are not finite"), "weight")
        self.weight.setflags(write=False)

    def forward(self, x):
        return E.prelu(x, self.weight)

    def forward_train(self, xs, params, train, rng):
        (x,) = xs
        return E.prelu(x, params["weight"]), (x, params["weight"]), {}

    def backward(self, grad, saved, params, need_input=True):
        x, weight = saved
        gx, gw = E.prelu_backward(grad, x, weight)
        return (gx,), {"weight": gw.reshape(weight.shape)}

    def _out_shape(self, in_shape, strict):
        try:
            out = np.broadcast_shapes(in_shape, self.weight.shape)
        except ValueError:
            out = None
        if out != in_shape:
            raise ShapeError(_("PReLU: slopes of shape {shape} do not fit an input"
                               " of shape {in_shape}").format(
                shape=self.weight.shape, in_shape=in_shape), "weight")
        return in_shape

    def parameters(self):
        return {"weight": self.weight}

    def params_formula(self, *in_shapes):
        return f"{self.num_params:,} slope{'s' if self.num_params > 1 else ''}"

    def _kwargs(self):
        return {"weight": self.weight}

    def __repr__(self):
        return f"PReLU(num_parameters={self.weight.size})"


class LogSoftmax(_Elementwise):
    """``log(softmax(x))`` along ``dim`` (counted in unbatched shapes, like Softmax)."""

    type_name = "LogSoftmax"
    name_prefix = "logsoftmax"
    FIELDS = (Field("dim", "int", -1, -8, 8, N_("dimension whose exponentials sum to 1")),)

    def __init__(self, dim=-1, in_rank: int = 1):
        self._store(dim=dim)
        self.in_rank = int(in_rank)

    def _axis(self, x):
        return self.dim + (x.ndim - self.in_rank) if self.dim >= 0 else self.dim

    def forward(self, x):
        return E.log_softmax_dim(x, self._axis(x))

    def _backward(self, grad, x, y):
        return E.log_softmax_dim_backward(grad, y, self._axis(x))

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank or not -len(in_shape) <= self.dim < len(in_shape):
            raise ShapeError(_("LogSoftmax: dim {dim} does not fit shape {in_shape}").format(
                dim=self.dim, in_shape=in_shape), "dim")
        return in_shape

    def _kwargs(self):
        return {**super()._kwargs(), "in_rank": self.in_rank}
