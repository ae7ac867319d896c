"""The classifier head: Flatten joins dimensions, Linear is the fully connected layer."""

from __future__ import annotations

import math

import numpy as np

from engine import ops as F
from engine.i18n import N_, _
from engine.layers.base import REQUIRED, Field, Layer, LayerError, _batched, _vector_arg
from engine.layers.kernels import initialize
from engine.layers.weighted import _Weighted
from engine.ops.shapes import ShapeError


class Flatten(Layer):
    """Join the dimensions ``start_dim..end_dim`` into one (torch.flatten on unbatched shapes)."""

    type_name = "Flatten"
    name_prefix = "flatten"
    FIELDS = (
        Field("start_dim", "int", 0, -8, 8, N_("first dimension to join")),
        Field("end_dim", "int", -1, -8, 8, N_("last dimension to join")),
    )

    def __init__(self, start_dim=0, end_dim=-1):
        self._store(start_dim=start_dim, end_dim=end_dim)

    def _dims(self, ndim: int) -> tuple[int, int]:
        start, end = (d + ndim if d < 0 else d for d in (self.start_dim, self.end_dim))
        if not (0 <= start <= end < ndim):
            raise ShapeError(_("Flatten: dims {start_dim}..{end_dim} do not fit a"
                               " shape of {ndim} dimensions").format(
                start_dim=self.start_dim, end_dim=self.end_dim, ndim=ndim), "start_dim")
        return start, end

    def forward(self, x):
        shift = int(_batched(x))
        start, end = self._dims(x.ndim - shift)
        return x.reshape(*x.shape[:start + shift], -1, *x.shape[end + shift + 1:])

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        return (grad.reshape(x.shape),), {}

    def _out_shape(self, in_shape, strict):
        start, end = self._dims(len(in_shape))
        return (*in_shape[:start], math.prod(in_shape[start:end + 1]), *in_shape[end + 1:])

    def size_formula(self, *in_shapes):
        start, end = self._dims(len(in_shapes[0]))
        joined = in_shapes[0][start:end + 1]
        return f"{' x '.join(map(str, joined))} = {math.prod(joined):,}"


class Linear(_Weighted, Layer):
    """Fully connected layer on the last dimension: ``x @ weight.T + bias``.

    Examples
    --------
    >>> Linear(512, 10).params_formula((512,))
    '(512 + 1) x 10 = 5,130'
    """

    type_name = "Linear"
    name_prefix = "fc"
    FIELDS = (
        Field("in_features", "int", REQUIRED, 1, 2**24, N_("length of the input vector")),
        Field("out_features", "int", REQUIRED, 1, 2**24, N_("length of the output vector")),
        Field("bias", "bool", True, help=N_("add one learned offset per output")),
        Field("init", "choice", "glorot", help=N_("random initializer for new weights"),
              choices=("he", "glorot"), in_repr=False),
        Field("seed", "int", 0, 0, 2**31 - 1, N_("seed of the random initializer"), in_repr=False),
    )

    def __init__(self, in_features, out_features, bias=True, weight=None, bias_values=None,
                 init="glorot", seed=0):
        self._store(in_features=in_features, out_features=out_features, init=init, seed=seed)
        use_bias = Field("bias", "bool").check(bias, self.type_name)
        shape = (self.out_features, self.in_features)
        self.weight_source = None if weight is not None else {"init": init, "seed": seed}
        if weight is None:
            weight = initialize(init, shape, seed)
        self.weight = np.array(weight, dtype=np.float32)
        if self.weight.shape != shape:
            raise LayerError(_("Linear: weight has shape {shape}, expected {expected}"
                               " (out_features, in_features)").format(
                shape=self.weight.shape, expected=shape), "weights")
        self.weight.setflags(write=False)
        self.bias = None
        if use_bias:
            self.bias = _vector_arg("Linear", "bias_values", bias_values, 0.0, out_features)
        elif bias_values is not None:
            raise LayerError(_("Linear: bias values were given but bias is false"), "bias_values")

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def forward_train(self, xs, params, train, rng):
        (x,) = xs
        return F.linear(x, params["weight"], params.get("bias")), x, {}

    def backward(self, grad, saved, params, need_input=True):
        gx, gw, gb = F.linear_backward(grad, saved, params["weight"], need_input=need_input,
                                       need_bias=self.bias is not None)
        grads = {"weight": gw}
        if self.bias is not None:
            grads["bias"] = gb
        return (gx,), grads

    def _out_shape(self, in_shape, strict):
        if not in_shape or in_shape[-1] != self.in_features:
            raise ShapeError(_("Linear: input has shape {in_shape}, the layer expects"
                               " {in_features} features in the last dimension"
                               " (add a Flatten before it)").format(
                in_shape=in_shape, in_features=self.in_features), "in_features")
        return (*in_shape[:-1], self.out_features)

    def replace(self, **changes):
        if "weight" not in changes and {"in_features", "out_features", "init", "seed"} & set(
                changes):
            changes = {"weight": None, **changes}
        if "bias_values" not in changes and ("out_features" in changes or "bias" in changes):
            changes = {"bias_values": None, **changes}
        return super().replace(**changes)

    def params_formula(self, *in_shapes):
        plus = " + 1" if self.bias is not None else ""
        return f"({self.in_features}{plus}) x {self.out_features} = {self.num_params:,}"

    def macs(self, *in_shapes):
        return math.prod(self.out_shape(*in_shapes)) * self.in_features
