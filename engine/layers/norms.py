"""Normalizations by each sample's own statistics: LayerNorm (ConvNeXt, transformers) and
InstanceNorm2d (style transfer, some segmentation networks), with their backward passes.

Both normalize ``x`` over some axes of each sample, ``(x - mean) / sqrt(var + eps)``, then scale
and shift: LayerNorm over the axes from ``axis`` to the last (its weight and bias shaped like
them), InstanceNorm2d over height and width of each channel (one weight and bias per channel).
The statistics are the sample's own in training and in inference alike, so there is no running
state.
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import N_, _
from engine.layers.base import Field, Layer, LayerError
from engine.layers.binary import frozen
from engine.ops._layer_norm import layer_norm_last
from engine.ops.pointwise import unbroadcast
from engine.ops.shapes import ShapeError

__all__ = ["InstanceNorm2d", "LayerNorm"]

_F32 = np.float32


class _Normalize(Layer):
    trainable = ("weight", "bias")
    differentiable = True

    def _axes(self, x) -> tuple[int, ...]:
        raise TypeError(f"{self.type_name} does not define _axes")  # each subclass does

    def _shaped(self, p: np.ndarray) -> np.ndarray:
        return p

    def _normalized(self, x, axes):
        x64 = x.astype(np.float64)
        mean = x64.mean(axis=axes, keepdims=True)
        centered = x64 - mean
        inv = 1.0 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + self.eps)
        return centered * inv, inv

    def forward(self, x):
        return self._run(x, self.weight, self.bias)[0]

    def _run(self, x, weight, bias):
        xhat, inv = self._normalized(x, self._axes(x))
        y = xhat * self._shaped(weight) + self._shaped(bias)
        return y.astype(_F32), (xhat, inv, weight)

    def forward_train(self, xs, params, train, rng):
        y, saved = self._run(xs[0], params["weight"], params["bias"])
        return y, saved, {}

    def backward(self, grad, saved, params, need_input=True):
        xhat, inv, weight = saved
        axes = self._axes(grad)
        g = grad.astype(np.float64)
        gw = unbroadcast(g * xhat, self._shaped(weight).shape).reshape(weight.shape)
        gb = unbroadcast(g, self._shaped(weight).shape).reshape(weight.shape)
        gx = None
        if need_input:
            d = g * self._shaped(weight)
            gx = inv * (d - d.mean(axis=axes, keepdims=True)
                        - xhat * (d * xhat).mean(axis=axes, keepdims=True))
            gx = gx.astype(_F32)
        return (gx,), {"weight": gw.astype(_F32), "bias": gb.astype(_F32)}

    def parameters(self):
        return {"weight": self.weight, "bias": self.bias}

    def macs(self, *in_shapes):
        return 4 * math.prod(in_shapes[0])

    def _kwargs(self):
        return {**super()._kwargs(), "weight": self.weight, "bias": self.bias}


class LayerNorm(_Normalize):
    """Normalize each sample over the axes from ``axis`` (unbatched) to the last.

    ``weight`` and ``bias`` have the normalized axes' shape (or one that broadcasts to it).

    Examples
    --------
    >>> LayerNorm(2, np.ones(4), np.zeros(4), in_rank=3).out_shape((3, 5, 4))
    (3, 5, 4)
    """

    type_name = "LayerNorm"
    name_prefix = "ln"
    FIELDS = (Field("axis", "int", -1, -8, 8, N_("first normalized axis")),
              Field("eps", "float", 1e-5, 0.0, 1.0, N_("added to the variance")))

    def __init__(self, axis=-1, weight=None, bias=None, eps=1e-5, in_rank: int = 3):
        self.in_rank = int(in_rank)
        self._store(axis=int(axis) % self.in_rank, eps=eps)
        self.weight = frozen(1.0 if weight is None else weight, "weight", "LayerNorm")
        self.bias = frozen(np.zeros_like(self.weight) if bias is None else bias, "bias",
                           "LayerNorm")
        if self.bias.shape != self.weight.shape:
            raise LayerError(_("LayerNorm: bias of shape {shape} and weight of shape"
                               " {shape2} differ").format(
                shape=self.bias.shape, shape2=self.weight.shape), "bias")

    def _axes(self, x):
        lead = x.ndim - self.in_rank
        return tuple(range(self.axis + lead, x.ndim))

    def forward(self, x):
        if self.axis == self.in_rank - 1:  # ConvNeXt's: float32, threaded (3-6x faster)
            return layer_norm_last(x, self.weight, self.bias, self.eps)
        return super().forward(x)

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank:
            raise ShapeError(_("LayerNorm: input has {count} dimensions, the layer was"
                               " built for {in_rank}").format(
                count=len(in_shape), in_rank=self.in_rank))
        normalized = in_shape[self.axis:]
        if np.broadcast_shapes(normalized, self.weight.shape) != normalized:
            raise ShapeError(_("LayerNorm: weight of shape {shape} does not fit the"
                               " normalized shape {normalized}").format(
                shape=self.weight.shape, normalized=normalized), "weight")
        return in_shape

    def size_formula(self, *in_shapes):
        return f"statistics over {' x '.join(map(str, in_shapes[0][self.axis:]))}"

    def _kwargs(self):
        return {**super()._kwargs(), "in_rank": self.in_rank}

    def __repr__(self):
        return f"LayerNorm(axis={self.axis}, normalized_shape={self.weight.shape})"


class InstanceNorm2d(_Normalize):
    """Normalize each channel of each sample over its height and width, then scale and shift.

    Examples
    --------
    >>> x = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    >>> InstanceNorm2d(2)(x).mean(axis=(1, 2)).round(6).tolist()
    [0.0, 0.0]
    """

    type_name = "InstanceNorm2d"
    name_prefix = "in"
    FIELDS = (Field("num_features", "int", 1, 1, 1 << 16, N_("channels")),
              Field("eps", "float", 1e-5, 0.0, 1.0, N_("added to the variance")))

    def __init__(self, num_features, weight=None, bias=None, eps=1e-5):
        self._store(num_features=num_features, eps=eps)
        n = self.num_features
        self.weight = frozen(np.ones(n) if weight is None else weight, "weight", "InstanceNorm2d")
        self.bias = frozen(np.zeros(n) if bias is None else bias, "bias", "InstanceNorm2d")
        if self.weight.shape != (n,) or self.bias.shape != (n,):
            raise LayerError(_("InstanceNorm2d: weight and bias need shape ({n},), got"
                               " {shape} and {shape2}").format(
                n=str(n), shape=self.weight.shape, shape2=self.bias.shape), "weight")

    def _axes(self, x):
        return (x.ndim - 2, x.ndim - 1)

    def _shaped(self, p):
        return p.reshape(-1, 1, 1)

    def _out_shape(self, in_shape, strict):
        self._need_map(in_shape)
        if in_shape[0] != self.num_features:
            raise ShapeError(_("InstanceNorm2d: input has {in_shape} channels, the layer"
                               " expects {num_features}").format(
                in_shape=in_shape[0], num_features=self.num_features), "num_features")
        return in_shape

    def params_formula(self, *in_shapes):
        return f"2 x {self.num_features} = {self.num_params:,}"
