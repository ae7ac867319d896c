"""Layers with two or more inputs: Add (residual connections) and Concat."""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import N_, _
from engine.layers.base import Field, Layer, _batched
from engine.ops.shapes import ShapeError


class Add(Layer):
    """Element-wise sum of two or more inputs of the same shape (a residual connection)."""

    type_name = "Add"
    name_prefix = "add"
    n_inputs = None

    def forward(self, *xs):
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        return out

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        xs, _ = saved
        return (grad,) * len(xs), {}  # the graph copies before it accumulates into one

    def _out_shape(self, *in_shapes, strict):
        if any(shape != in_shapes[0] for shape in in_shapes):
            raise ShapeError(_("Add: inputs must have the same shape, got"
                               " {values}").format(values=', '.join(map(str, in_shapes))))
        return in_shapes[0]

    def macs(self, *in_shapes):
        return math.prod(in_shapes[0]) * (len(in_shapes) - 1)


class Concat(Layer):
    """Join two or more inputs along ``dim`` (counted in unbatched shapes; 0 = channels)."""

    type_name = "Concat"
    name_prefix = "concat"
    n_inputs = None
    FIELDS = (Field("dim", "int", 0, -8, 8, N_("dimension to join along (0: channels)")),)

    def __init__(self, dim=0):
        self._store(dim=dim)

    def forward(self, *xs):
        dim = self.dim + int(_batched(xs[0])) if self.dim >= 0 else self.dim
        return np.concatenate(xs, axis=dim)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        xs, _ = saved
        dim = self.dim + int(_batched(xs[0])) if self.dim >= 0 else self.dim
        edges = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return tuple(np.split(grad, edges, axis=dim)), {}

    def _out_shape(self, *in_shapes, strict):
        ndim = len(in_shapes[0])
        if not -ndim <= self.dim < ndim:
            raise ShapeError(_("Concat: dim {dim} does not exist in shape {in_shapes}").format(
                dim=self.dim, in_shapes=in_shapes[0]),
                             "dim")
        dim = self.dim % ndim
        rest = [shape[:dim] + shape[dim + 1:] for shape in in_shapes]
        if any(len(shape) != ndim for shape in in_shapes) or any(r != rest[0] for r in rest):
            raise ShapeError(_("Concat: inputs must match except in dim {dim}, got"
                               " {values}").format(
                dim=self.dim, values=', '.join(map(str, in_shapes))), "dim")
        joined = sum(shape[dim] for shape in in_shapes)
        return (*in_shapes[0][:dim], joined, *in_shapes[0][dim + 1:])

    def size_formula(self, *in_shapes):
        dim = self.dim % len(in_shapes[0])
        sizes = [shape[dim] for shape in in_shapes]
        return f"{' + '.join(map(str, sizes))} = {sum(sizes)}"
