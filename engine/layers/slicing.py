"""ONNX-only layers that select part of each sample: Slice (ShuffleNet's channel split, a
crop) and Gather (channels or positions by index), with their backward passes.

Axes count in unbatched shapes; ``in_rank`` is the rank of an unbatched input (one more is
batched). ONNX's Split becomes one Slice per output.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import _
from engine.layers.base import Layer, LayerError
from engine.ops.shapes import ShapeError

__all__ = ["Gather", "Slice"]


def _python_slice(n: int, start: int, end: int, step: int) -> slice:
    """ONNX's clamping rules as a Python slice of a dimension of size ``n``."""
    start, end = (v + n if v < 0 else v for v in (start, end))
    if step > 0:
        return slice(min(max(start, 0), n), min(max(end, 0), n), step)
    start, end = min(max(start, 0), n - 1), min(max(end, -1), n - 1)
    return slice(start, None if end < 0 else end, step)


class Slice(Layer):
    """Take ``start:end:step`` along some unbatched axes; ``slices`` holds one
    ``(axis, start, end, step)`` per axis, with ONNX's meaning of negative and huge values.

    Examples
    --------
    >>> Slice([(0, 0, 2, 1)], in_rank=3).out_shape((4, 5, 5))
    (2, 5, 5)
    """

    type_name = "Slice"
    name_prefix = "slice"
    differentiable = True

    def __init__(self, slices, in_rank: int = 3):
        self.in_rank = int(in_rank)
        self.slices = tuple((int(a) % self.in_rank, int(s), int(e), int(t))
                            for a, s, e, t in slices)
        if any(t == 0 for *_, t in self.slices):
            raise LayerError(_("Slice: a step of 0 never moves"), "slices")
        if len({a for a, *_ in self.slices}) != len(self.slices):
            raise LayerError(_("Slice: each axis may be sliced once"), "slices")

    def _index(self, shape) -> tuple:
        lead = len(shape) - self.in_rank
        index = [slice(None)] * len(shape)
        for a, s, e, t in self.slices:
            index[a + lead] = _python_slice(shape[a + lead], s, e, t)
        return tuple(index)

    def forward(self, x):
        return np.ascontiguousarray(x[self._index(x.shape)])

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        gx = np.zeros(x.shape, np.float32)
        gx[self._index(x.shape)] = grad
        return (gx,), {}

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank:
            raise ShapeError(_("Slice: input has {count} dimensions, the layer was built"
                               " for {in_rank}").format(count=len(in_shape), in_rank=self.in_rank))
        out = tuple(len(range(n)[s]) for n, s in zip(in_shape, self._index(in_shape),
                                                     strict=True))
        if 0 in out:
            raise ShapeError(_("Slice: {slice} leaves nothing of shape {in_shape}").format(
                slice=self._text(), in_shape=in_shape))
        return out

    def _text(self) -> str:
        return ", ".join(f"axis {a}: {s}:{e}" + (f":{t}" if t != 1 else "")
                         for a, s, e, t in self.slices)

    def size_formula(self, *in_shapes):
        return self._text().replace("9223372036854775807", "end")

    def config(self):
        return {"slices": [list(s) for s in self.slices], "in_rank": self.in_rank}

    def _kwargs(self):
        return {"slices": self.slices, "in_rank": self.in_rank}

    def __repr__(self):
        return f"Slice({self.size_formula()})"


class Gather(Layer):
    """Pick entries by ``indices`` along one unbatched ``axis`` (``np.take``); a single index
    (0-D ``indices``) drops the axis.

    Examples
    --------
    >>> Gather([2, 0], axis=0, in_rank=3).out_shape((4, 5, 5))
    (2, 5, 5)
    """

    type_name = "Gather"
    name_prefix = "gather"
    differentiable = True

    def __init__(self, indices, axis: int = 0, in_rank: int = 3):
        self.in_rank = int(in_rank)
        self.axis = int(axis) % self.in_rank
        self.indices = np.array(indices, dtype=np.int64)
        self.indices.setflags(write=False)

    def forward(self, x):
        return np.take(x, self.indices, axis=self.axis + x.ndim - self.in_rank)

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        axis = self.axis + x.ndim - self.in_rank
        gx = np.zeros(x.shape, np.float32)
        moved = np.moveaxis(gx, axis, 0)  # a view: adding into it fills gx
        g = np.moveaxis(grad, list(range(axis, axis + self.indices.ndim)),
                        list(range(self.indices.ndim)))
        np.add.at(moved, self.indices % x.shape[axis], g)
        return (gx,), {}

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank:
            raise ShapeError(_("Gather: input has {count} dimensions, the layer was built"
                               " for {in_rank}").format(count=len(in_shape), in_rank=self.in_rank))
        n = in_shape[self.axis]
        if self.indices.size and not (-n <= self.indices.min() and self.indices.max() < n):
            raise ShapeError(_("Gather: indices {indices} do not all exist in an"
                               " axis of {n}").format(indices=self.indices.tolist(), n=n))
        return (*in_shape[:self.axis], *self.indices.shape, *in_shape[self.axis + 1:])

    def size_formula(self, *in_shapes):
        return f"{self.indices.size} of {in_shapes[0][self.axis]} along axis {self.axis}"

    def config(self):
        return {"indices": self.indices.tolist(), "axis": self.axis, "in_rank": self.in_rank}

    def _kwargs(self):
        return {"indices": self.indices, "axis": self.axis, "in_rank": self.in_rank}

    def __repr__(self):
        shown = self.indices.tolist() if self.indices.size <= 8 else f"{self.indices.size} indices"
        return f"Gather({shown}, axis={self.axis})"
