"""Batch normalization at inference, with its running statistics as buffers."""

from __future__ import annotations

import math

from engine import ops as F
from engine.layers.base import REQUIRED, Field, Layer, LayerError, _vector_arg
from engine.ops.shapes import ShapeError


class BatchNorm2d(Layer):
    """Batch normalization at inference: ``(x - mean) / sqrt(var + eps) * weight + bias``.

    The parameter count is PyTorch's (weight and bias); the running statistics are buffers.
    """

    type_name = "BatchNorm2d"
    name_prefix = "bn"
    FIELDS = (
        Field("num_features", "int", REQUIRED, 1, 4096, "channels of the input"),
        Field("eps", "float", 1e-5, 0.0, 1.0, "added to the variance for stability"),
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
            raise LayerError("BatchNorm2d: running_var must not be negative", "running_var")

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.eps)

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != 3 or in_shape[0] != self.num_features:
            raise ShapeError(f"BatchNorm2d: input has shape {in_shape}, the layer expects"
                             f" ({self.num_features}, H, W)", "num_features")
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
