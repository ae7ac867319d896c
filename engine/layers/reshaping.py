"""ONNX-only layers that move or copy values: Identity, Reshape, Transpose and Pad.

Like every layer in :mod:`engine.layers.imported` they may see tensors of any rank, so those that
care are told the rank of their unbatched input (``in_rank``) and treat one dimension more as
batched.
"""

from __future__ import annotations

import math

import numpy as np

from engine.i18n import N_, _
from engine.layers import Field, Layer, LayerError
from engine.ops.shapes import ShapeError

__all__ = ["Identity", "Pad", "Reshape", "Transpose"]


class Identity(Layer):
    """Passes its input through unchanged (ONNX Identity)."""

    type_name = "Identity"
    name_prefix = "identity"

    def forward(self, x):
        return x

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        return (grad,), {}


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
            raise LayerError(_("Reshape: shape {shape} may hold one -1 and no other negative"
                               " number").format(shape=self.shape), "shape")

    def _target(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        out = []
        for i, s in enumerate(self.shape):
            if s == 0 and i >= len(in_shape):
                raise ShapeError(_("Reshape: 0 at position {i} copies a dimension that the input"
                                   " {in_shape} does not have").format(
                    i=i, in_shape=in_shape), "shape")
            out.append(in_shape[i] if s == 0 else s)
        total, known = math.prod(in_shape), math.prod(s for s in out if s != -1)
        if -1 in out:
            if known == 0 or total % known:
                raise ShapeError(_("Reshape: {total} values do not split into {out}").format(
                    total=total, out=tuple(out)),
                                 "shape")
            out[out.index(-1)] = total // known
        elif known != total:
            raise ShapeError(_("Reshape: {total} values of shape {in_shape} do not fill shape"
                               " {out} ({known} values)").format(
                total=total, in_shape=in_shape, out=tuple(out), known=known), "shape")
        return tuple(out)

    def forward(self, x):
        lead = x.shape[: x.ndim - self.in_rank]  # (N,) when batched, () when not
        return x.reshape(*lead, *self._target(x.shape[len(lead):]))

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        (x,), _ = saved
        return (grad.reshape(x.shape),), {}

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != self.in_rank:
            raise ShapeError(_("Reshape: input has {count} dimensions, the layer was built"
                               " for {in_rank}").format(count=len(in_shape), in_rank=self.in_rank))
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
            raise LayerError(_("Transpose: perm {perm} is not an order of the axes 0 to"
                               " {last}").format(perm=self.perm, last=len(self.perm) - 1), "perm")

    def forward(self, x):
        lead = x.ndim - len(self.perm)  # 1 when batched
        return np.ascontiguousarray(x.transpose(*range(lead), *(p + lead for p in self.perm)))

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        lead = grad.ndim - len(self.perm)
        inverse = np.argsort(self.perm)
        return (np.ascontiguousarray(grad.transpose(*range(lead),
                                                    *(int(p) + lead for p in inverse))),), {}

    def _out_shape(self, in_shape, strict):
        if len(in_shape) != len(self.perm):
            raise ShapeError(_("Transpose: input has {count} dimensions, perm"
                               " {perm} has {perm_count}").format(
                count=len(in_shape), perm=self.perm, perm_count=len(self.perm)))
        return tuple(in_shape[p] for p in self.perm)

    def config(self):
        return {"perm": list(self.perm)}

    def _kwargs(self):
        return {"perm": self.perm}

    def __repr__(self):
        return f"Transpose({self.perm})"


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
        Field("mode", "choice", "constant", help=N_("how the border is filled"),
              choices=("constant", "reflect", "edge")),
        Field("value", "float", 0.0, -1e30, 1e30, N_("fill value in constant mode")),
    )

    def __init__(self, padding, mode="constant", value=0.0):
        self.padding = tuple(int(p) for p in padding)
        if len(self.padding) != 4 or min(self.padding) < 0:
            raise LayerError(_("Pad: padding must be 4 amounts (left, right, top, bottom) of zero"
                               " or more, got {padding!r}").format(padding=padding), "padding")
        self._store(mode=mode, value=value)

    def forward(self, x):
        left, right, top, bottom = self.padding
        widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        if self.mode == "constant":
            return np.pad(x, widths, constant_values=np.float32(self.value))
        return np.pad(x, widths, mode=self.mode)

    differentiable = True

    def backward(self, grad, saved, params, need_input=True):
        """Each output pixel's gradient back to the input pixel it copies (none: the fill)."""
        (x,), _ = saved
        left, right, top, bottom = self.padding
        h, w = x.shape[-2:]
        if self.mode == "constant":
            return (np.ascontiguousarray(grad[..., top : top + h, left : left + w]),), {}
        rows = np.eye(h, dtype=np.float32)[np.pad(np.arange(h), (top, bottom), self.mode)]
        cols = np.eye(w, dtype=np.float32)[np.pad(np.arange(w), (left, right), self.mode)]
        return ((rows.T @ grad @ cols).astype(np.float32, copy=False),), {}

    def _out_shape(self, in_shape, strict):
        if len(in_shape) < 2:
            raise ShapeError(_("Pad: input {in_shape} has fewer than 2 dimensions").format(
                in_shape=in_shape))
        left, right, top, bottom = self.padding
        h, w = in_shape[-2:]
        if self.mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
            raise ShapeError(_("Pad: reflect padding {padding} needs more than {h}x{w}"
                               " pixels (each amount must be smaller than the side)").format(
                padding=self.padding, h=h, w=w), "padding")
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
