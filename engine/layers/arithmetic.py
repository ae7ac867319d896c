"""ONNX-only layers that compute: Clip, MatMul, the element-wise arithmetic, LRN and ReduceMean.

Like every layer in :mod:`engine.layers.imported` they may see tensors of any rank, so those that
care are told the rank of their unbatched input (``in_rank``) and treat one dimension more as
batched.
"""

from __future__ import annotations

import math

import numpy as np

from engine.layers import Field, Layer, LayerError
from engine.ops.shapes import ShapeError

__all__ = [
    "AddConstant",
    "Clip",
    "Div",
    "LocalResponseNorm",
    "MatMul",
    "Mul",
    "ReduceMean",
    "Sub",
]


def _frozen(values, name: str, owner: str) -> np.ndarray:
    array = np.array(values, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        raise LayerError(f"{owner}: {name} holds values that are not finite", name)
    array.setflags(write=False)
    return array


class Clip(Layer):
    """Clip to ``[min_val, max_val]`` where either bound may be absent (``None``).

    The importer uses :class:`engine.layers.Hardtanh` when both bounds exist and ``ReLU`` for
    ``[0, inf)``; this covers the rest, e.g. ``Clip(max_val=6.0)``.
    """

    type_name = "Clip"
    name_prefix = "clip"
    FIELDS = (
        Field("min_val", "float", None, -1e30, 1e30, "values below are raised to this",
              optional=True),
        Field("max_val", "float", None, -1e30, 1e30, "values above are lowered to this",
              optional=True),
    )

    def __init__(self, min_val=None, max_val=None):
        self._store(min_val=min_val, max_val=max_val)
        if None not in (self.min_val, self.max_val) and self.min_val > self.max_val:
            raise LayerError(f"Clip: min_val {self.min_val} is above max_val {self.max_val}",
                             "max_val")

    def forward(self, x):
        return np.clip(x, self.min_val, self.max_val).astype(np.float32, copy=False)


class MatMul(Layer):
    """Multiply the last dimension by a constant matrix: ``x @ weight``, weight ``(K, M)``.

    Unlike :class:`engine.layers.Linear` the weight is stored as ONNX has it (not transposed).
    """

    type_name = "MatMul"
    name_prefix = "matmul"

    def __init__(self, weight):
        self.weight = _frozen(weight, "weight", "MatMul")
        if self.weight.ndim != 2:
            raise LayerError(f"MatMul: weight must be 2-D (K, M), got shape {self.weight.shape}",
                             "weight")

    def forward(self, x):
        return np.matmul(x, self.weight)

    def _out_shape(self, in_shape, strict):
        k, m = self.weight.shape
        if not in_shape or in_shape[-1] != k:
            raise ShapeError(f"MatMul: input has shape {in_shape}, the weight expects {k} values"
                             " in the last dimension")
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


class _Binary(Layer):
    """An element-wise op with numpy broadcasting: of two inputs, or of one input and a constant.

    ``constant`` is unbatched (the importer drops ONNX's leading batch axis of 1), so that
    broadcasting from the right gives the same result for batched and unbatched inputs.
    ``constant_first``: the constant is the left operand (``c - x``, ``c / x``).
    """

    _ufunc = staticmethod(np.add)

    def __init__(self, constant=None, constant_first: bool = False):
        self.constant = None if constant is None else _frozen(constant, "constant",
                                                               self.type_name)
        self.constant_first = bool(constant_first)
        self.n_inputs = 2 if self.constant is None else 1  # shadows the class default

    def forward(self, *xs):
        a, b = xs if self.constant is None else (xs[0], self.constant)
        if self.constant_first:
            a, b = b, a
        return self._ufunc(a, b).astype(np.float32, copy=False)

    def _out_shape(self, *in_shapes, strict):
        shapes = list(in_shapes) if self.constant is None else [in_shapes[0],
                                                                self.constant.shape]
        try:
            out = np.broadcast_shapes(*shapes)
        except ValueError:
            raise ShapeError(f"{self.type_name}: shapes {' and '.join(map(str, shapes))} do not"
                             " broadcast together") from None
        if self.constant is not None and out != in_shapes[0]:
            raise ShapeError(f"{self.type_name}: the constant of shape {self.constant.shape}"
                             f" would grow the input {in_shapes[0]} to {out}")
        return tuple(out)

    def parameters(self):
        return {} if self.constant is None else {"constant": self.constant}

    def macs(self, *in_shapes):
        return math.prod(self.out_shape(*in_shapes))

    def config(self):
        return {"constant_first": self.constant_first}

    def _kwargs(self):
        return {"constant": self.constant, "constant_first": self.constant_first}

    def __repr__(self):
        if self.constant is None:
            return f"{self.type_name}()"
        c = self.constant
        text = f"{c.item():g}" if c.size == 1 else f"constant{c.shape}"
        return f"{self.type_name}({text}{', constant_first=True' if self.constant_first else ''})"


class AddConstant(_Binary):
    """``x + c`` for a constant ``c`` (a bias after MatMul, a mean to add back)."""

    type_name = "AddConstant"
    name_prefix = "addc"
    _ufunc = staticmethod(np.add)

    def __init__(self, constant):
        super().__init__(constant, False)

    def config(self):
        return {}

    def _kwargs(self):
        return {"constant": self.constant}


class Mul(_Binary):
    """``x * y`` (a gate, as in squeeze-and-excite) or ``x * c`` (a scale)."""

    type_name = "Mul"
    name_prefix = "mul"
    _ufunc = staticmethod(np.multiply)


class Sub(_Binary):
    """``x - y``, ``x - c`` or ``c - x`` (e.g. subtracting a mean image)."""

    type_name = "Sub"
    name_prefix = "sub"
    _ufunc = staticmethod(np.subtract)


class Div(_Binary):
    """``x / y``, ``x / c`` or ``c / x`` (e.g. dividing by a standard deviation)."""

    type_name = "Div"
    name_prefix = "div"
    _ufunc = staticmethod(np.divide)


class LocalResponseNorm(Layer):
    """AlexNet's local response normalization across channels, with ONNX's window.

    ``y = x / (k + alpha / size * sum of x^2 over the window) ** beta``; the window runs from
    ``(size - 1) // 2`` channels before to ``size // 2`` after (the same as PyTorch for odd
    sizes). ``in_rank``: dimensions of an unbatched input (channels first).
    """

    type_name = "LocalResponseNorm"
    name_prefix = "lrn"
    FIELDS = (
        Field("size", "int", 5, 1, 1024, "channels in the window"),
        Field("alpha", "float", 1e-4, 0.0, 1e6, "scale of the sum of squares"),
        Field("beta", "float", 0.75, 0.0, 1e6, "exponent"),
        Field("k", "float", 1.0, 0.0, 1e6, "added before the power"),
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
            raise ShapeError(f"LocalResponseNorm: input has {len(in_shape)} dimensions, the"
                             f" layer was built for {self.in_rank}")
        return in_shape

    def macs(self, *in_shapes):
        return 3 * math.prod(in_shapes[0])

    def _kwargs(self):
        return {**super()._kwargs(), "in_rank": self.in_rank}


class ReduceMean(Layer):
    """Mean over some unbatched ``axes`` (``keepdims``: leave them as size 1).

    Converters write a global average pool this way (Keras' GlobalAveragePooling2D, PyTorch's
    ``x.mean((2, 3))``); over the last two axes of a map with keepdims the importer uses
    :class:`engine.layers.GlobalAvgPool2d` instead.

    Examples
    --------
    >>> ReduceMean((1, 2), keepdims=False, in_rank=3).out_shape((8, 7, 7))
    (8,)
    """

    type_name = "ReduceMean"
    name_prefix = "mean"

    def __init__(self, axes, keepdims: bool = True, in_rank: int = 3):
        self.in_rank = int(in_rank)
        self.axes = tuple(sorted({int(a) % self.in_rank for a in axes}))
        self.keepdims = bool(keepdims)
        if not self.axes:
            raise LayerError("ReduceMean: give at least one axis to average over", "axes")

    def forward(self, x):
        lead = x.ndim - self.in_rank  # 1 when batched
        axes = tuple(a + lead for a in self.axes)
        return x.mean(axis=axes, keepdims=self.keepdims, dtype=np.float64).astype(np.float32)

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank:
            raise ShapeError(f"ReduceMean: input has {len(in_shape)} dimensions, the layer was"
                             f" built for {self.in_rank}")
        if self.keepdims:
            return tuple(1 if i in self.axes else n for i, n in enumerate(in_shape))
        return tuple(n for i, n in enumerate(in_shape) if i not in self.axes)

    def size_formula(self, *in_shapes):
        sizes = [str(in_shapes[0][a]) for a in self.axes]
        return f"mean over {' x '.join(sizes)}"

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0])

    def config(self):
        return {"axes": list(self.axes), "keepdims": self.keepdims, "in_rank": self.in_rank}

    def _kwargs(self):
        return {"axes": self.axes, "keepdims": self.keepdims, "in_rank": self.in_rank}

    def __repr__(self):
        return f"ReduceMean(axes={self.axes}{'' if self.keepdims else ', keepdims=False'})"
