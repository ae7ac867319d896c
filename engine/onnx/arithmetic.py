"""The ONNX importer's converters for element-wise arithmetic (Add, Sub, Mul, Div, Pow, Sum, Max,
Min, Mean) and the reductions (ReduceMean, ReduceMax, ReduceMin, ReduceSum), under ONNX's
broadcasting rules.

Computed inputs all carry the batch axis, so they must have the same rank and then broadcast
alike with or without it; a constant loses its leading batch axis of 1. Equal shapes added
stay the hand-built :class:`engine.layers.Add` (a residual connection); anything that broadcasts
becomes :class:`engine.layers.binary.Sum`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine import layers as L
from engine.i18n import _
from engine.layers import imported as O
from engine.onnx.node import NodeContext, Unsupported

__all__ = ["ARITHMETIC"]

_BINARY = {"Add": O.Sum, "Sub": O.Sub, "Mul": O.Mul, "Div": O.Div, "Pow": O.Pow, "Max": O.Max,
           "Min": O.Min, "Sum": O.Sum}


def _unbatched_constant(ctx: NodeContext, i: int, full: int) -> np.ndarray:
    value = ctx.const(i, _("constant operand")).astype(np.float32)
    if ctx.attr("broadcast", 0) and ctx.attr("axis") is not None:
        # opset < 7: the constant lines up with the tensor from `axis` on, not from the right
        start = ctx.attr("axis") % full
        value = value.reshape(value.shape + (1,) * (full - start - value.ndim))
    if value.ndim == full:
        if value.shape[0] != 1:
            raise Unsupported(_("a constant with {n} entries along the batch axis is not"
                                " supported").format(n=value.shape[0]))
        value = value[0]  # (1, C, 1, 1) -> (C, 1, 1): broadcasts the same with or without N
    elif value.ndim > full:
        raise Unsupported(_("a constant with {n} axes on a tensor with {full} axes is not"
                            " supported").format(n=value.ndim, full=full))
    return value


def _computed(ctx: NodeContext, names: list[str]):
    shapes = [ctx.imp.shapes[n] for n in names]
    if len({len(s) for s in shapes}) != 1:
        raise Unsupported(_("tensors of different ranks are not supported"))
    if ctx.op in ("Add", "Sum") and all(s == shapes[0] for s in shapes):
        return [(ctx.out, L.Add(), names)]
    if ctx.op == "Mean":
        name = ctx.extra("sum")
        return [(name, O.Sum(), names), (ctx.out, O.Mul(np.float32(1 / len(names))), [name])]
    return [(ctx.out, _BINARY[ctx.op](), names)]


def binary(ctx: NodeContext):
    """Add, Sub, Mul, Div, Pow (and the variadic Sum, Max, Min, Mean)."""
    names = [ctx.input(i) for i in range(len(ctx.proto.input))]
    if any(n is None for n in names):
        raise Unsupported(_("an empty input name is not supported"))
    const_at = [i for i, n in enumerate(names) if n in ctx.imp.consts]
    if len(names) == 1:
        return [(ctx.out, O.Identity(), [ctx.act(0)])]
    if not const_at:
        return _computed(ctx, names)
    if len(names) != 2 or len(const_at) != 1 or ctx.op == "Mean":
        raise Unsupported(_("mixing several constants and tensors is not supported"))
    i = const_at[0]
    value = _unbatched_constant(ctx, i, len(ctx.shape(1 - i)) + 1)
    source = [names[1 - i]]
    if ctx.op == "Add":
        return [(ctx.out, O.AddConstant(value), source)]
    return [(ctx.out, _BINARY[ctx.op](value, constant_first=i == 0), source)]


_REDUCTIONS = {"ReduceMean": O.ReduceMean, "ReduceMax": O.ReduceMax, "ReduceMin": O.ReduceMin,
               "ReduceSum": O.ReduceSum}


def reduce(ctx: NodeContext):
    """ReduceMean, ReduceMax, ReduceMin, ReduceSum over axes other than the batch axis."""
    rank = len(ctx.shape(0))
    axes_as_input = ctx.opset >= 18 or (ctx.op == "ReduceSum" and ctx.opset >= 13)
    axes = ctx.const(1, "axes", required=False) if axes_as_input else ctx.attr("axes")
    if ctx.attr("noop_with_empty_axes", 0) and (axes is None or not np.size(axes)):
        return [(ctx.out, O.Identity(), [ctx.act(0)])]
    if axes is None or not np.size(axes):
        raise Unsupported(_("reducing every axis would mix the images of a batch; leave the"
                            " batch axis out"))
    dims = sorted({ctx.axis(int(a), rank, "axis") for a in np.asarray(axes).reshape(-1)})
    keep = bool(ctx.attr("keepdims", 1))
    if ctx.op == "ReduceMean" and rank == 3 and dims == [1, 2] and keep:
        return [(ctx.out, L.GlobalAvgPool2d(), [ctx.act(0)])]
    return [(ctx.out, _REDUCTIONS[ctx.op](dims, keep, rank), [ctx.act(0)])]


ARITHMETIC: dict[str, Callable[[NodeContext], list]] = {
    **{op: binary for op in ("Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Mean")},
    **{op: reduce for op in _REDUCTIONS},
}
