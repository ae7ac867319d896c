"""ONNX-only reductions over some axes of each sample: ReduceMean, ReduceMax, ReduceMin and
ReduceSum, with their backward passes.

Converters write a global average pool as a mean over the last two axes (Keras'
GlobalAveragePooling2D, PyTorch's ``x.mean((2, 3))``); over the last two axes of a map with
keepdims the importer uses :class:`engine.layers.GlobalAvgPool2d` instead. Axes count in
unbatched shapes; ``in_rank`` is the rank of an unbatched input (one more is batched).
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import _
from engine.layers.base import Layer, LayerError
from engine.ops.shapes import ShapeError

__all__ = ["ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum"]


class _Reduce(Layer):
    """A reduction of each sample over ``axes`` (``keepdims``: leave them as size 1)."""

    differentiable = True

    def __init__(self, axes, keepdims: bool = True, in_rank: int = 3):
        self.in_rank = int(in_rank)
        self.axes = tuple(sorted({int(a) % self.in_rank for a in axes}))
        self.keepdims = bool(keepdims)
        if not self.axes:
            raise LayerError(_("{type_name}: give at least one axis to reduce over").format(
                type_name=self.type_name), "axes")

    def _batch_axes(self, x) -> tuple[int, ...]:
        lead = x.ndim - self.in_rank  # 1 when batched
        return tuple(a + lead for a in self.axes)

    def forward(self, x):
        return self._reduce(x, self._batch_axes(x)).astype(np.float32, copy=False)

    def backward(self, grad, saved, params, need_input=True):
        (x,), y = saved
        axes = self._batch_axes(x)
        if not self.keepdims:  # put the reduced axes back as size 1, to broadcast
            grad, y = np.expand_dims(grad, axes), np.expand_dims(y, axes)
        return (self._spread(grad, x, y, axes).astype(np.float32, copy=False),), {}

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank:
            raise ShapeError(_("{type_name}: input has {count} dimensions, the layer"
                               " was built for {in_rank}").format(
                type_name=self.type_name, count=len(in_shape), in_rank=self.in_rank))
        if self.keepdims:
            return tuple(1 if i in self.axes else n for i, n in enumerate(in_shape))
        return tuple(n for i, n in enumerate(in_shape) if i not in self.axes)

    def size_formula(self, *in_shapes):
        sizes = [str(in_shapes[0][a]) for a in self.axes]
        return f"{self.word} over {' x '.join(sizes)}"

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0])

    def config(self):
        return {"axes": list(self.axes), "keepdims": self.keepdims, "in_rank": self.in_rank}

    def _kwargs(self):
        return {"axes": self.axes, "keepdims": self.keepdims, "in_rank": self.in_rank}

    def __repr__(self):
        return f"{self.type_name}(axes={self.axes}{'' if self.keepdims else ', keepdims=False'})"


class ReduceMean(_Reduce):
    """Mean over some unbatched ``axes``.

    Examples
    --------
    >>> ReduceMean((1, 2), keepdims=False, in_rank=3).out_shape((8, 7, 7))
    (8,)
    """

    type_name = "ReduceMean"
    name_prefix = "mean"
    word = "mean"

    def _reduce(self, x, axes):
        return x.mean(axis=axes, keepdims=self.keepdims, dtype=np.float64)

    def _spread(self, grad, x, y, axes):
        count = math.prod(x.shape[a] for a in axes)
        return np.broadcast_to(grad / np.float32(count), x.shape)


class ReduceSum(_Reduce):
    """Sum over some unbatched ``axes``."""

    type_name = "ReduceSum"
    name_prefix = "rsum"
    word = "sum"

    def _reduce(self, x, axes):
        return x.sum(axis=axes, keepdims=self.keepdims, dtype=np.float64)

    def _spread(self, grad, x, y, axes):
        return np.broadcast_to(grad, x.shape)


class _Extreme(_Reduce):
    def _spread(self, grad, x, y, axes):
        hits = (x == y).astype(np.float32)  # ties share the gradient, as PyTorch's amax
        return hits * (grad / hits.sum(axis=axes, keepdims=True))


class ReduceMax(_Extreme):
    """Maximum over some unbatched ``axes`` (a global max pool over the last two)."""

    type_name = "ReduceMax"
    name_prefix = "rmax"
    word = "max"

    def _reduce(self, x, axes):
        return x.max(axis=axes, keepdims=self.keepdims)


class ReduceMin(_Extreme):
    """Minimum over some unbatched ``axes``."""

    type_name = "ReduceMin"
    name_prefix = "rmin"
    word = "min"

    def _reduce(self, x, axes):
        return x.min(axis=axes, keepdims=self.keepdims)
