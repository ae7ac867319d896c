"""Element-wise activation layers and Softmax: the output shape is the input shape."""

from __future__ import annotations

from engine import ops as F
from engine.i18n import N_, _
from engine.layers.base import Field, Layer, LayerError, _batched
from engine.ops.shapes import ShapeError


class ReLU(Layer):
    """``max(0, x)``."""

    type_name = "ReLU"
    name_prefix = "relu"

    def forward(self, x):
        return F.relu(x)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        return (F.relu_backward(grad, saved[1]),), {}


class LeakyReLU(Layer):
    """``x`` where positive, else ``negative_slope * x``."""

    type_name = "LeakyReLU"
    name_prefix = "lrelu"
    FIELDS = (Field("negative_slope", "float", 0.01, 0.0, 1.0, N_("slope for negative inputs")),)

    def __init__(self, negative_slope=0.01):
        self._store(negative_slope=negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        return (F.leaky_relu_backward(grad, saved[0][0], self.negative_slope),), {}


class Sigmoid(Layer):
    """``1 / (1 + exp(-x))``: squashes to (0, 1)."""

    type_name = "Sigmoid"
    name_prefix = "sigmoid"

    def forward(self, x):
        return F.sigmoid(x)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        return (F.sigmoid_backward(grad, saved[1]),), {}


class Tanh(Layer):
    """Hyperbolic tangent: squashes to (-1, 1)."""

    type_name = "Tanh"
    name_prefix = "tanh"

    def forward(self, x):
        return F.tanh(x)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        return (F.tanh_backward(grad, saved[1]),), {}


class Hardtanh(Layer):
    """Clip to ``[min_val, max_val]`` (ReLU6 is ``Hardtanh(0, 6)``)."""

    type_name = "Hardtanh"
    name_prefix = "hardtanh"
    FIELDS = (
        Field("min_val", "float", -1.0, -1e6, 1e6, N_("values below are raised to this")),
        Field("max_val", "float", 1.0, -1e6, 1e6, N_("values above are lowered to this")),
    )

    def __init__(self, min_val=-1.0, max_val=1.0):
        self._store(min_val=min_val, max_val=max_val)
        if self.min_val >= self.max_val:
            raise LayerError(_("Hardtanh: min_val {min_val} must be below max_val"
                               " {max_val}").format(
                min_val=self.min_val, max_val=self.max_val), "max_val")

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        return (F.hardtanh_backward(grad, saved[0][0], self.min_val, self.max_val),), {}


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` along ``dim`` (counted in unbatched shapes)."""

    type_name = "Softmax"
    name_prefix = "softmax"
    FIELDS = (Field("dim", "int", -1, -8, 8, N_("dimension that sums to 1")),)

    def __init__(self, dim=-1):
        self._store(dim=dim)

    def forward(self, x):
        dim = self.dim + int(_batched(x)) if self.dim >= 0 else self.dim
        return F.softmax(x, dim)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        (x,), y = saved
        dim = self.dim + int(_batched(x)) if self.dim >= 0 else self.dim
        return (F.softmax_backward(grad, y, dim),), {}

    def _out_shape(self, in_shape, strict):
        if not -len(in_shape) <= self.dim < len(in_shape):
            raise ShapeError(_("Softmax: dim {dim} does not exist in shape {in_shape}").format(
                dim=self.dim, in_shape=in_shape), "dim")
        return in_shape
