"""ONNX-only layers that compute: Clip, MatMul and LRN (the element-wise arithmetic is in
:mod:`engine.layers.binary`, the reductions in :mod:`engine.layers.reductions`).

Like every layer in :mod:`engine.layers.imported` they may see tensors of any rank, so those that
care are told the rank of their unbatched input (``in_rank``) and treat one dimension more as
batched.
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import N_, _
from engine.layers import Field, Layer, LayerError
from engine.layers.binary import frozen
from engine.ops.linear import linear
from engine.ops.shapes import ShapeError

__all__ = ["Clip", "LocalResponseNorm", "MatMul"]

_frozen = frozen


class Clip(Layer):
    """Clip to ``[min_val, max_val]`` where either bound may be absent (``None``).

    The importer uses :class:`engine.layers.Hardtanh` when both bounds exist and ``ReLU`` for
    ``[0, inf)``; this covers the rest, e.g. ``Clip(max_val=6.0)``. As in ONNX, a ``min_val``
    above ``max_val`` sets every value to ``max_val``, and NaN stays NaN.

    Examples
    --------
    >>> Clip(2.0, 1.0)(np.array([0.0, 5.0], np.float32)).tolist()
    [1.0, 1.0]
    """

    type_name = "Clip"
    name_prefix = "clip"
    FIELDS = (
        Field("min_val", "float", None, -1e30, 1e30, N_("values below are raised to this"),
              optional=True),
        Field("max_val", "float", None, -1e30, 1e30, N_("values above are lowered to this"),
              optional=True),
    )

    def __init__(self, min_val=None, max_val=None):
        self._store(min_val=min_val, max_val=max_val)

    def forward(self, x):
        y = x if self.min_val is None else np.maximum(x, np.float32(self.min_val))
        y = y if self.max_val is None else np.minimum(y, np.float32(self.max_val))
        return np.array(y, dtype=np.float32, copy=y is x)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        inside = np.ones(x.shape, bool)
        if self.min_val is not None:
            inside &= x >= np.float32(self.min_val)
        if self.max_val is not None:
            inside &= x <= np.float32(self.max_val)
        return (np.multiply(grad, inside, dtype=np.float32),), {}


class MatMul(Layer):
    """Multiply the last dimension by a constant matrix: ``x @ weight``, weight ``(K, M)``.

    Unlike :class:`engine.layers.Linear` the weight is stored as ONNX has it (not transposed).
    """

    type_name = "MatMul"
    name_prefix = "matmul"
    trainable = ("weight",)
    differentiable = True

    def __init__(self, weight):
        self.weight = _frozen(weight, "weight", "MatMul")
        if self.weight.ndim != 2:
            raise LayerError(_("MatMul: weight must be 2-D (K, M), got shape {shape}").format(
                shape=self.weight.shape),
                             "weight")

    def forward(self, x):
        # as rows of one 2-D product shared by the threads: np.matmul of a 4-D x loops over
        # its leading axes (ConvNeXt's 7x7x768 by 768x3072 took 11 ms instead of 3.4)
        return linear(x, self.weight.T)

    def forward_train(self, xs, params, train, rng):
        (x,) = xs
        return linear(x, params["weight"].T), (x, params["weight"]), {}

    def backward(self, grad, saved, params, need_input=True):
        x, w = saved
        k, m = w.shape
        gw = x.reshape(-1, k).T @ grad.reshape(-1, m)  # (K, M): every row of every sample
        return (grad @ w.T if need_input else None,), {"weight": gw.astype(np.float32)}

    def _out_shape(self, in_shape, strict):
        k, m = self.weight.shape
        if not in_shape or in_shape[-1] != k:
            raise ShapeError(_("MatMul: input has shape {in_shape}, the weight expects {k} values"
                               " in the last dimension").format(in_shape=in_shape, k=k))
        return (*in_shape[:-1], m)

    def parameters(self):
        return {"weight": self.weight}

    def params_formula(self, *in_shapes):
        k, m = self.weight.shape
        return f"{k} x {m} = {self.num_params:,}"

    def macs(self, *in_shapes):
        return math.prod(self.out_shape(*in_shapes)) * self.weight.shape[0]

    def config(self):
        return {}

    def _kwargs(self):
        return {"weight": self.weight}

    def __repr__(self):
        return f"MatMul({self.weight.shape[0]}, {self.weight.shape[1]})"


class LocalResponseNorm(Layer):
    """AlexNet's local response normalization across channels, with ONNX's window.

    ``y = x / (k + alpha / size * sum of x^2 over the window) ** beta``; the window runs from
    ``(size - 1) // 2`` channels before to ``size // 2`` after (the same as PyTorch for odd
    sizes). ``in_rank``: dimensions of an unbatched input (channels first).
    """

    type_name = "LocalResponseNorm"
    name_prefix = "lrn"
    FIELDS = (
        Field("size", "int", 5, 1, 1024, N_("channels in the window")),
        Field("alpha", "float", 1e-4, 0.0, 1e6, N_("scale of the sum of squares")),
        Field("beta", "float", 0.75, 0.0, 1e6, N_("exponent")),
        Field("k", "float", 1.0, 0.0, 1e6, N_("added before the power")),
    )

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=1.0, in_rank: int = 3):
        self._store(size=size, alpha=alpha, beta=beta, k=k)
        self.in_rank = int(in_rank)

    def forward(self, x):
        axis = x.ndim - self.in_rank  # the channel axis
        c = x.shape[axis]
        before = (self.size - 1) // 2
        sq = np.moveaxis(x * x, axis, 0)  # (C, ...)
        # a running sum over channels: window sum = csum[c + after + 1] - csum[c - before]
        csum = np.zeros((c + self.size, *sq.shape[1:]), np.float64)
        np.cumsum(sq, axis=0, out=csum[before + 1 : before + 1 + c])
        csum[before + 1 + c :] = csum[before + c]
        window = csum[self.size :] - csum[: c]  # (C, ...)
        div = (self.k + self.alpha / self.size * window) ** self.beta
        return (x / np.moveaxis(div, 0, axis)).astype(np.float32)

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank:
            raise ShapeError(_("LocalResponseNorm: input has {count} dimensions, the"
                               " layer was built for {in_rank}").format(
                count=len(in_shape), in_rank=self.in_rank))
        return in_shape

    def macs(self, *in_shapes):
        return 3 * math.prod(in_shapes[0])

    def _kwargs(self):
        return {**super()._kwargs(), "in_rank": self.in_rank}
