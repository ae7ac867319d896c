"""Constant folding for the ONNX importer: operators whose inputs are all known while loading.

Exporters compute shapes inside the graph (Shape -> Gather -> Unsqueeze -> Concat -> Reshape);
since every activation's shape is known while loading, such chains fold to constants here and
never become pipeline nodes. Values are numpy arrays; integer division truncates like ONNX.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from onnx import helper, numpy_helper

from engine.i18n import _
from engine.io.budget import BudgetError, check_allocation
from engine.onnx.node import NodeContext, Unsupported

__all__ = ["FOLDERS", "fold", "shape_part"]


def fold(ctx: NodeContext, values: list[np.ndarray]) -> np.ndarray:
    """Compute the node of ``ctx`` on its constant input ``values``.

    Parameters
    ----------
    ctx : NodeContext
        The node; its attributes are read (check them afterwards with ``check_attributes``).
    values : list of ndarray
        The node's inputs, in order, empty inputs left out.

    Returns
    -------
    ndarray
        The node's (first) output.

    Raises
    ------
    Unsupported
        The operator cannot be folded, or numpy refuses the values.
    """
    compute = FOLDERS.get(ctx.op)
    if compute is None:
        raise Unsupported(_("the engine cannot compute this operator on constants while"
                            " loading"))
    try:
        check_allocation(_("folding {op} on constants").format(op=ctx.op),
                         _result_bytes(ctx, values))
        return np.asarray(compute(ctx, values))
    except BudgetError as error:
        raise Unsupported(str(error)) from None
    except (ValueError, IndexError, TypeError) as error:
        raise Unsupported(_("computing it on constants failed ({error})").format(
            error=error)) from None


def _result_bytes(ctx: NodeContext, values: list[np.ndarray]) -> int:
    """An upper bound of the folded result's size, known before computing it: two constants
    of 100,000 values each broadcast to 10^10 (a file of 800 kB asking for 40 GB)."""
    largest = max((v.size for v in values), default=1)
    if ctx.op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "Mod", "Max",
                  "Min", "Where"):
        largest = math.prod(np.broadcast_shapes(*(v.shape for v in values)))
    elif ctx.op == "ConstantOfShape" and values:
        largest = math.prod(max(0, int(n)) for n in values[0].reshape(-1))
    elif ctx.op == "Expand" and len(values) == 2:
        target = tuple(max(0, int(n)) for n in values[1].reshape(-1))
        largest = math.prod(np.broadcast_shapes(values[0].shape, target))
    elif ctx.op == "Range" and len(values) == 3:
        start, limit, delta = (float(v.reshape(-1)[0]) for v in values)
        largest = math.ceil(abs((limit - start) / delta)) if delta else 0
    elif ctx.op == "Gather" and len(values) == 2 and values[0].ndim:
        taken_from = values[0].shape[ctx.attr("axis", 0)]  # replaced by the indices' shape
        largest = values[0].size // max(1, taken_from) * values[1].size
    elif ctx.op == "Concat":
        largest = sum(v.size for v in values)
    return largest * 8  # int64 and float64 at most


def _constant(ctx: NodeContext, values):
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in ctx.attrs:
            value = ctx.attr(key)
            return numpy_helper.to_array(value) if key == "value" else np.array(value)
    raise Unsupported(_("a constant without a numeric value (sparse or text) is not"
                        " supported"))


def _axes(ctx: NodeContext, values) -> list[int] | None:
    if ctx.opset >= 13:
        return None if len(values) < 2 else [int(a) for a in values[1].reshape(-1)]
    axes = ctx.attr("axes")
    return None if axes is None else list(axes)


def _unsqueeze(ctx: NodeContext, values):
    out, axes = values[0], _axes(ctx, values)
    rank = out.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        out = np.expand_dims(out, a)
    return out


def _squeeze(ctx: NodeContext, values):
    axes = _axes(ctx, values)
    return np.squeeze(values[0], None if axes is None else tuple(axes))


def _divide(a, b):
    if np.issubdtype(np.result_type(a, b), np.integer):
        return np.trunc(a / b).astype(np.result_type(a, b))  # ONNX truncates like C
    return a / b


def _fold_reshape(ctx: NodeContext, values):
    data, shape = values
    if ctx.attr("allowzero", 0):
        return data.reshape([int(s) for s in shape.reshape(-1)])
    shape = [data.shape[i] if s == 0 else int(s) for i, s in enumerate(shape.reshape(-1))]
    return data.reshape(shape)


def shape_part(ctx: NodeContext, dims) -> np.ndarray:
    """Shape's output: the dimensions from ``start`` to ``end`` (opset 15), all by default."""
    return np.array(dims, np.int64)[ctx.attr("start", 0) : ctx.attr("end")]


def _cast(ctx: NodeContext, values):
    return values[0].astype(helper.tensor_dtype_to_np_dtype(ctx.attr("to")))


def _fold_slice(ctx: NodeContext, values):
    data = values[0]
    if ctx.opset < 10:
        starts, ends, axes, steps = ctx.attr("starts"), ctx.attr("ends"), ctx.attr("axes"), None
    else:
        starts, ends = values[1], values[2]
        axes, steps = (values[i] if len(values) > i else None for i in (3, 4))
    starts = [int(v) for v in np.reshape(starts, -1)]
    axes = range(len(starts)) if axes is None else [int(a) for a in np.reshape(axes, -1)]
    steps = [1] * len(starts) if steps is None else [int(v) for v in np.reshape(steps, -1)]
    index = [slice(None)] * data.ndim
    for a, s, e, t in zip(axes, starts, np.reshape(ends, -1), steps, strict=True):
        index[a] = slice(s, int(e) if -(2**62) < int(e) < 2**62 else None, t)
    return data[tuple(index)]


def _constant_of_shape(ctx: NodeContext, values):
    fill = ctx.attr("value")
    fill = np.zeros(1, np.float32) if fill is None else numpy_helper.to_array(fill)
    return np.full([int(n) for n in values[0].reshape(-1)], fill.reshape(-1)[0], fill.dtype)


def _range(ctx: NodeContext, values):
    start, limit, delta = (v.item() for v in values)
    return np.arange(start, limit, delta, dtype=values[0].dtype)


_UNARY = {"Neg": np.negative, "Sqrt": np.sqrt, "Abs": np.abs, "Exp": np.exp, "Log": np.log,
          "Reciprocal": np.reciprocal, "Floor": np.floor, "Ceil": np.ceil, "Not": np.logical_not}
_BINARY = {"Pow": np.power, "Equal": np.equal, "Less": np.less, "Greater": np.greater,
           "Mod": np.fmod}


FOLDERS: dict[str, Callable] = {
    **{op: lambda ctx, v, f=f: f(v[0]) for op, f in _UNARY.items()},
    **{op: lambda ctx, v, f=f: f(v[0], v[1]) for op, f in _BINARY.items()},
    "Slice": _fold_slice,
    "ConstantOfShape": _constant_of_shape,
    "Range": _range,
    "Where": lambda ctx, v: np.where(v[0], v[1], v[2]),
    "Expand": lambda ctx, v: v[0] * np.ones([int(n) for n in v[1].reshape(-1)], v[0].dtype),
    "Max": lambda ctx, v: functools.reduce(np.maximum, v),
    "Min": lambda ctx, v: functools.reduce(np.minimum, v),
    "Constant": _constant,
    "Identity": lambda ctx, v: v[0],
    "Cast": _cast,
    "Shape": lambda ctx, v: shape_part(ctx, v[0].shape),
    "Gather": lambda ctx, v: np.take(v[0], v[1], axis=ctx.attr("axis", 0)),
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": lambda ctx, v: np.concatenate([np.atleast_1d(a) for a in v], axis=ctx.attr("axis")),
    "Reshape": _fold_reshape,
    "Transpose": lambda ctx, v: np.transpose(v[0], ctx.attr("perm")),
    "Add": lambda ctx, v: v[0] + v[1],
    "Sub": lambda ctx, v: v[0] - v[1],
    "Mul": lambda ctx, v: v[0] * v[1],
    "Div": lambda ctx, v: _divide(v[0], v[1]),
}
