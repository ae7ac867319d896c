"""Layers only imported ONNX models need: reshapes, MatMul, Pad, LRN, means, arithmetic.

They subclass :class:`engine.layers.Layer`, so the pipeline, the ledger and the GUI treat them like
any other layer: shapes given to and returned by ``out_shape`` are unbatched. Unlike the hand-built
layers, whose ``__call__`` tells a batched array by an even number of dimensions, these layers may
see tensors of any rank (``(4, 16)`` after a Reshape is unbatched), so each one that cares is told
the rank of its unbatched input when the importer builds it (``in_rank``), and an array with one
dimension more is batched.

Call :func:`register_onnx_layers` to add the types to :data:`engine.layers.LAYER_TYPES`.
"""

from __future__ import annotations

import math

import numpy as np

from engine.layers import LAYER_TYPES, Field, Layer, LayerError
from engine.shapes import ShapeError

__all__ = [
    "ONNX_LAYER_TYPES",
    "AddConstant",
    "Clip",
    "Div",
    "Dropout",
    "Identity",
    "LocalResponseNorm",
    "MatMul",
    "Mul",
    "Pad",
    "ReduceMean",
    "Reshape",
    "Sub",
    "Transpose",
    "register_onnx_layers",
]


def _frozen(values, name: str, owner: str) -> np.ndarray:
    array = np.array(values, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        raise LayerError(f"{owner}: {name} holds values that are not finite", name)
    array.setflags(write=False)
    return array


class Identity(Layer):
    """Passes its input through unchanged (ONNX Identity)."""

    type_name = "Identity"
    name_prefix = "identity"

    def forward(self, x):
        return x


class Dropout(Identity):
    """Dropout at inference: the identity (it only drops values while training)."""

    type_name = "Dropout"
    name_prefix = "dropout"


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


class Reshape(Layer):
    """Reshape each sample to ``shape`` (unbatched; 0 copies that input dimension, -1 infers one).

    Examples
    --------
    >>> Reshape((0, -1), in_rank=3).out_shape((4, 4, 4))
    (4, 16)
    """

    type_name = "Reshape"
    name_prefix = "reshape"

    def __init__(self, shape, in_rank: int):
        self.shape = tuple(int(s) for s in shape)
        self.in_rank = int(in_rank)
        if any(s < -1 for s in self.shape) or self.shape.count(-1) > 1:
            raise LayerError(f"Reshape: shape {self.shape} may hold one -1 and no other negative"
                             " number", "shape")

    def _target(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        out = []
        for i, s in enumerate(self.shape):
            if s == 0 and i >= len(in_shape):
                raise ShapeError(f"Reshape: 0 at position {i} copies a dimension that the input"
                                 f" {in_shape} does not have", "shape")
            out.append(in_shape[i] if s == 0 else s)
        total, known = math.prod(in_shape), math.prod(s for s in out if s != -1)
        if -1 in out:
            if known == 0 or total % known:
                raise ShapeError(f"Reshape: {total} values do not split into {tuple(out)}",
                                 "shape")
            out[out.index(-1)] = total // known
        elif known != total:
            raise ShapeError(f"Reshape: {total} values of shape {in_shape} do not fill shape"
                             f" {tuple(out)} ({known} values)", "shape")
        return tuple(out)

    def forward(self, x):
        lead = x.shape[: x.ndim - self.in_rank]  # (N,) when batched, () when not
        return x.reshape(*lead, *self._target(x.shape[len(lead):]))

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank:
            raise ShapeError(f"Reshape: input has {len(in_shape)} dimensions, the layer was built"
                             f" for {self.in_rank}")
        return self._target(in_shape)

    def size_formula(self, *in_shapes):
        shape = in_shapes[0]
        return f"{' x '.join(map(str, shape))} = {math.prod(shape):,} values"

    def config(self):
        return {"shape": list(self.shape), "in_rank": self.in_rank}

    def _kwargs(self):
        return {"shape": self.shape, "in_rank": self.in_rank}

    def __repr__(self):
        return f"Reshape({self.shape})"


class Transpose(Layer):
    """Reorder the (unbatched) axes: ``perm[i]`` is the input axis that becomes axis ``i``.

    Keras exports use it before a Flatten, to flatten in (H, W, C) order.

    Examples
    --------
    >>> Transpose((1, 2, 0)).out_shape((8, 4, 5))
    (4, 5, 8)
    """

    type_name = "Transpose"
    name_prefix = "transpose"

    def __init__(self, perm):
        self.perm = tuple(int(p) for p in perm)
        if sorted(self.perm) != list(range(len(self.perm))):
            raise LayerError(f"Transpose: perm {self.perm} is not an order of the axes 0 to"
                             f" {len(self.perm) - 1}", "perm")

    def forward(self, x):
        lead = x.ndim - len(self.perm)  # 1 when batched
        return np.ascontiguousarray(x.transpose(*range(lead), *(p + lead for p in self.perm)))

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != len(self.perm):
            raise ShapeError(f"Transpose: input has {len(in_shape)} dimensions, perm"
                             f" {self.perm} has {len(self.perm)}")
        return tuple(in_shape[p] for p in self.perm)

    def config(self):
        return {"perm": list(self.perm)}

    def _kwargs(self):
        return {"perm": self.perm}

    def __repr__(self):
        return f"Transpose({self.perm})"


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


class Pad(Layer):
    """Pad the last two dimensions: ``padding = (left, right, top, bottom)``.

    ``mode``: "constant" (fill with ``value``), "reflect" (mirror without repeating the edge)
    or "edge" (repeat the edge pixel).

    Examples
    --------
    >>> Pad((1, 1, 2, 0)).out_shape((3, 5, 5))
    (3, 7, 7)
    """

    type_name = "Pad"
    name_prefix = "pad"
    FIELDS = (
        Field("mode", "choice", "constant", help="how the border is filled",
              choices=("constant", "reflect", "edge")),
        Field("value", "float", 0.0, -1e30, 1e30, "fill value in constant mode"),
    )

    def __init__(self, padding, mode="constant", value=0.0):
        self.padding = tuple(int(p) for p in padding)
        if len(self.padding) != 4 or min(self.padding) < 0:
            raise LayerError(f"Pad: padding must be 4 amounts (left, right, top, bottom) of zero"
                             f" or more, got {padding!r}", "padding")
        self._store(mode=mode, value=value)

    def forward(self, x):
        left, right, top, bottom = self.padding
        widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        if self.mode == "constant":
            return np.pad(x, widths, constant_values=np.float32(self.value))
        return np.pad(x, widths, mode=self.mode)

    def _out_shape(self, in_shape, strict):
        if len(in_shape) < 2:
            raise ShapeError(f"Pad: input {in_shape} has fewer than 2 dimensions")
        left, right, top, bottom = self.padding
        h, w = in_shape[-2:]
        if self.mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
            raise ShapeError(f"Pad: reflect padding {self.padding} needs more than {h}x{w}"
                             " pixels (each amount must be smaller than the side)", "padding")
        return (*in_shape[:-2], h + top + bottom, w + left + right)

    def size_formula(self, *in_shapes):
        left, right, top, bottom = self.padding
        h, w = in_shapes[0][-2:]
        return f"H: {h} + {top} + {bottom} = {h + top + bottom}; W: {w} + {left} + {right}" \
               f" = {w + left + right}"

    def config(self):
        return {"padding": list(self.padding), **super().config()}

    def _kwargs(self):
        return {"padding": self.padding, **super()._kwargs()}

    def __repr__(self):
        extra = "" if self.mode == "constant" else f", mode={self.mode!r}"
        extra += f", value={self.value:g}" if self.value else ""
        return f"Pad({self.padding}{extra})"


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


ONNX_LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Identity, Dropout, Clip, Reshape, MatMul, AddConstant, Mul, Sub, Div, Pad,
                LocalResponseNorm, ReduceMean, Transpose)
}


def register_onnx_layers() -> None:
    """Add the ONNX-only layer types to :data:`engine.layers.LAYER_TYPES` (idempotent)."""
    for name, cls in ONNX_LAYER_TYPES.items():
        LAYER_TYPES.setdefault(name, cls)
