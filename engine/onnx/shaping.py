"""The ONNX importer's converters for selecting and reshaping: Slice, Split, Gather, Squeeze and
Unsqueeze.

Split becomes one Slice node per output, each named by its ONNX output; Squeeze and Unsqueeze
become a Reshape to the shape they give. None of them may touch the batch axis.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.i18n import _
from engine.layers import imported as O
from engine.onnx.node import NodeContext, Unsupported

__all__ = ["SHAPING"]

_END = 2**63 - 1


def _ints(values) -> list[int]:
    return [int(v) for v in np.asarray(values).reshape(-1)]


def _slice(ctx: NodeContext):
    rank = len(ctx.shape(0))
    if ctx.opset < 10:
        starts, ends = ctx.attr("starts"), ctx.attr("ends")
        axes, steps = ctx.attr("axes"), None
    else:
        starts, ends = ctx.const(1, "starts"), ctx.const(2, "ends")
        axes = ctx.const(3, "axes", required=False)
        steps = ctx.const(4, "steps", required=False)
    starts, ends = _ints(starts), _ints(ends)
    axes = list(range(len(starts))) if axes is None else _ints(axes)
    steps = [1] * len(starts) if steps is None else _ints(steps)
    slices = []
    for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        if axis % (rank + 1) == 0:
            if (start, step) == (0, 1) and end >= 2**31 - 1:
                continue  # the whole batch axis: nothing to do
            raise Unsupported(_("slicing the batch axis would drop images of a batch"))
        slices.append((ctx.axis(axis, rank, "axis"), start, end, step))
    if not slices:
        return [(ctx.out, O.Identity(), [ctx.act(0)])]
    return [(ctx.out, O.Slice(slices, rank), [ctx.act(0)])]


def _split(ctx: NodeContext):
    shape = ctx.shape(0)
    rank = len(shape)
    axis = ctx.axis(ctx.attr("axis", 0), rank, "axis")
    outputs = list(ctx.proto.output)
    sizes = ctx.attr("split") if ctx.opset < 13 else ctx.const(1, "split", required=False)
    ctx.attr("num_outputs")  # opset 18: the number of outputs, which the outputs give anyway
    n = shape[axis]
    if sizes is None:
        part = -(-n // len(outputs))  # the last part may be smaller (opset 18)
        sizes = [min(part, n - i * part) for i in range(len(outputs))]
    sizes = _ints(sizes)
    if sum(sizes) != n or len(sizes) != len(outputs) or min(sizes) < 1:
        raise Unsupported(_("parts of {sizes} do not fit an axis of {n}")
                          .format(sizes=sizes, n=n))
    nodes, start = [], 0
    for name, size in zip(outputs, sizes, strict=True):
        if name:
            nodes.append((name, O.Slice([(axis, start, start + size, 1)], rank), [ctx.act(0)]))
        start += size
    return nodes


def _gather(ctx: NodeContext):
    rank = len(ctx.shape(0))
    axis = ctx.axis(ctx.attr("axis", 0), rank, "axis")
    indices = ctx.const(1, "indices")
    return [(ctx.out, O.Gather(indices, axis, rank), [ctx.act(0)])]


def _axes(ctx: NodeContext) -> list[int] | None:
    if ctx.opset >= 13:
        given = ctx.const(1, "axes", required=False)
        return None if given is None else _ints(given)
    given = ctx.attr("axes")
    return None if given is None else list(given)


def _squeeze(ctx: NodeContext):
    shape = ctx.shape(0)
    axes = _axes(ctx)
    if axes is None:
        dims = [i for i, n in enumerate(shape) if n == 1]
    else:
        dims = [ctx.axis(a, len(shape), "axis") for a in axes]
        if any(shape[d] != 1 for d in dims):
            raise Unsupported(_("axes {axes} of shape {shape} are not all 1")
                              .format(axes=axes, shape=shape))
    target = [n for i, n in enumerate(shape) if i not in dims]
    return [(ctx.out, O.Reshape(target, len(shape)), [ctx.act(0)])]


def _unsqueeze(ctx: NodeContext):
    shape = ctx.shape(0)
    axes = _axes(ctx)
    if not axes:
        raise Unsupported(_("its axes are missing"))
    full = len(shape) + 1 + len(axes)  # the output's rank, with the batch axis
    dims = sorted(a % full for a in axes)
    if dims[0] == 0:
        raise Unsupported(_("a new axis before the batch axis would move it"))
    target = list(shape)
    for d in dims:
        target.insert(d - 1, 1)
    return [(ctx.out, O.Reshape(target, len(shape)), [ctx.act(0)])]


SHAPING: dict[str, Callable[[NodeContext], list]] = {
    "Gather": _gather, "Slice": _slice, "Split": _split, "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
}
