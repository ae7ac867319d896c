"""Batch normalization at inference, with its running statistics as buffers."""

from __future__ import annotations

import math

import numpy as np

from engine import ops as F
from engine.i18n import N_, _
from engine.layers.base import REQUIRED, Field, Layer, LayerError, _vector_arg
from engine.ops.shapes import ShapeError


class BatchNorm2d(Layer):
    """Batch normalization at inference: ``(x - mean) / sqrt(var + eps) * weight + bias``.

    The parameter count is PyTorch's (weight and bias); the running statistics are buffers.
    """

    type_name = "BatchNorm2d"
    name_prefix = "bn"
    FIELDS = (
        Field("num_features", "int", REQUIRED, 1, 4096, N_("channels of the input")),
        Field("eps", "float", 1e-5, 0.0, 1.0, N_("added to the variance for stability")),
    )

    def __init__(self, num_features, running_mean=None, running_var=None, weight=None,
                 bias=None, eps=1e-5):
        self._store(num_features=num_features, eps=eps)
        n = self.num_features
        self.running_mean = _vector_arg("BatchNorm2d", "running_mean", running_mean, 0.0, n)
        self.running_var = _vector_arg("BatchNorm2d", "running_var", running_var, 1.0, n)
        self.weight = _vector_arg("BatchNorm2d", "weight", weight, 1.0, n)
        self.bias = _vector_arg("BatchNorm2d", "bias", bias, 0.0, n)
        if (self.running_var < 0).any():
            raise LayerError(_("BatchNorm2d: running_var must not be negative"), "running_var")

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.eps)

    trainable = ("weight", "bias")
    differentiable = True
    momentum = 0.1  # PyTorch's: running = (1 - momentum) * running + momentum * batch

    def forward_train(self, xs, params, train, rng):
        (x,) = xs
        weight, bias = params["weight"], params["bias"]
        running_mean, running_var = params["running_mean"], params["running_var"]
        if not train:  # the running statistics are constants: a per-channel affine map
            y = F.batch_norm(x, running_mean, running_var, weight, bias, self.eps)
            inv_std = (1 / np.sqrt(running_var.astype(np.float64) + self.eps))
            shape = (1, -1) + (1,) * (x.ndim - 2)
            xhat = (x - running_mean.reshape(shape)) * inv_std.astype(np.float32).reshape(shape)
            return y, ((xhat, inv_std.astype(np.float32)), False), {}
        y, saved, mean, var = F.batch_norm_train(x, weight, bias, self.eps)
        m = self.momentum
        buffers = {"running_mean": ((1 - m) * running_mean + m * mean).astype(np.float32),
                   "running_var": ((1 - m) * running_var + m * var).astype(np.float32)}
        return y, (saved, True), buffers

    def backward(self, grad, saved, params, need_input=True):
        stats, train = saved
        gx, gw, gb = F.batch_norm_backward(grad, stats, params["weight"], train=train)
        return (gx,), {"weight": gw, "bias": gb}

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != 3 or in_shape[0] != self.num_features:
            raise ShapeError(_("BatchNorm2d: input has shape {in_shape}, the layer expects"
                               " ({num_features}, H, W)").format(
                in_shape=in_shape, num_features=str(self.num_features)), "num_features")
        return in_shape

    @property
    def num_params(self):
        return 2 * self.num_features

    def params_formula(self, *in_shapes):
        return f"2 x {self.num_features} = {self.num_params:,}"

    def parameters(self):
        return {"weight": self.weight, "bias": self.bias, "running_mean": self.running_mean,
                "running_var": self.running_var}

    def _kwargs(self):
        return {**super()._kwargs(), **self.parameters()}

    def replace(self, **changes):
        if "num_features" in changes and changes["num_features"] != self.num_features:
            kept = {k: v for k, v in changes.items() if k not in self.parameters()}
            changes = {**kept, **{k: changes.get(k) for k in self.parameters()}}
        return super().replace(**changes)

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0])
