"""The ONNX importer's converters: one function per operator, and the table that picks them.

A converter takes the :class:`~engine.onnx.node.NodeContext` of one node whose input comes from
the image and returns the pipeline nodes it becomes, as ``(name, layer, input names)``: usually
one, two when a Conv or pool needs its asymmetric padding as a separate Pad node (those live in
:mod:`engine.onnx.windows`). Converters see shapes without the batch axis and refuse what would
mix the images of a batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine import layers as L
from engine.graph.spec_arrays import short_float
from engine.i18n import _
from engine.layers import imported as O
from engine.onnx.activations import ACTIVATIONS, softmax_axis
from engine.onnx.arithmetic import ARITHMETIC
from engine.onnx.node import BATCH, NodeContext, Unsupported
from engine.onnx.shaping import SHAPING
from engine.onnx.upsampling import UPSAMPLING
from engine.onnx.windows import (
    avg_pool,
    check_pads,
    conv,
    global_avg_pool,
    global_max_pool,
    max_pool,
)

__all__ = ["CONVERTERS", "SUPPORTED_OPERATORS"]


# ---------------------------------------------------------------- per-value and normalization


def _batch_norm(ctx: NodeContext):
    if ctx.attr("training_mode", 0) or not ctx.attr("spatial", 1):
        raise Unsupported(_("training mode and spatial=0 are not supported; the engine runs"
                            " inference with running statistics"))
    if len(ctx.shape(0)) != 3:
        raise Unsupported(_("normalizing vectors is not supported; the engine needs (N, C, H,"
                            " W) maps"))
    scale, bias, mean, var = (ctx.const(i, what) for i, what in
                              enumerate(("scale", "bias", "mean", "variance"), start=1))
    layer = L.BatchNorm2d(len(scale), mean, var, scale, bias, eps=ctx.attr("epsilon", 1e-5))
    return [(ctx.out, layer, [ctx.act(0)])]


def _short(value) -> float:
    """A float32 constant as the shortest decimal that reads back the same (0.3, not
    0.30000001192092896), so that layers read from a file print and compare as written."""
    return short_float(np.float32(np.asarray(value).reshape(-1)[0]))


def _simple(layer_type: type[L.Layer]) -> Callable:
    return lambda ctx: [(ctx.out, layer_type(), [ctx.act(0)])]


def _leaky_relu(ctx: NodeContext):
    return [(ctx.out, L.LeakyReLU(ctx.attr("alpha", 0.01)), [ctx.act(0)])]


def _clip(ctx: NodeContext):
    if ctx.opset < 11:
        lo, hi = ctx.attr("min"), ctx.attr("max")
    else:
        lo, hi = (ctx.const(i, what, required=False) for i, what in ((1, "min"), (2, "max")))
    # ONNX's default bounds are the float32 limits: treat them as absent.
    lo, hi = (None if v is None or abs(float(v)) >= 3e38 else _short(v) for v in (lo, hi))
    if lo == 0.0 and hi is None:
        layer = L.ReLU()

    elif lo is not None and hi is not None and max(abs(lo), abs(hi)) <= 1e6 and lo < hi:
        layer = L.Hardtanh(lo, hi)  # ReLU6 reads as Hardtanh(0, 6), like PyTorch
    else:
        layer = O.Clip(lo, hi)
    return [(ctx.out, layer, [ctx.act(0)])]


def _lrn(ctx: NodeContext):
    layer = O.LocalResponseNorm(ctx.attr("size"), ctx.attr("alpha", 1e-4),
                                ctx.attr("beta", 0.75), ctx.attr("bias", 1.0),
                                in_rank=len(ctx.shape(0)))
    return [(ctx.out, layer, [ctx.act(0)])]


def _softmax(ctx: NodeContext):
    rank, axis = softmax_axis(ctx)
    return [(ctx.out, L.Softmax(axis - rank), [ctx.act(0)])]


def _dropout(ctx: NodeContext):
    ratio = ctx.attr("ratio", 0.5)
    ctx.attr("is_test")  # opset < 7: inference either way
    if ctx.opset >= 12:
        given = ctx.const(1, "ratio", required=False)
        ratio = 0.5 if given is None else _short(given)
        training = ctx.const(2, "training_mode", required=False)
        if training is not None and bool(training):
            raise Unsupported(_("training mode is not supported; the engine runs inference"))
    return [(ctx.out, L.Dropout(float(ratio)), [ctx.act(0)])]


# ---------------------------------------------------------------- dense and shapes


def _gemm(ctx: NodeContext):
    if ctx.attr("transA", 0):
        raise Unsupported(_("transA=1 would mix the images of a batch; the engine needs"
                            " transA=0"))
    ctx.attr("broadcast")
    if len(ctx.shape(0)) != 1:
        raise Unsupported(_("its input must be (N, features) vectors, not a tensor with {n}"
                            " axes").format(n=len(ctx.shape(0)) + 1))
    b = ctx.const(1, "B").astype(np.float32)
    weight = ctx.attr("alpha", 1.0) * (b if ctx.attr("transB", 0) else b.T)  # (out, in)
    c = ctx.const(2, "C", required=False)
    bias = None
    if c is not None:
        if c.size not in (1, weight.shape[0]) or (c.ndim == 2 and c.shape[0] != 1):
            raise Unsupported(_("its C of shape {shape} is not one value per output")
                              .format(shape=c.shape))
        bias = np.broadcast_to(ctx.attr("beta", 1.0) * c.reshape(-1), (weight.shape[0],))
    else:
        ctx.attr("beta")
    layer = L.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, weight=weight,
                     bias_values=bias)
    return [(ctx.out, layer, [ctx.act(0)])]


def _matmul(ctx: NodeContext):
    b = ctx.const(1, "second factor (B)")
    if b.ndim != 2:
        raise Unsupported(_("a constant factor with {n} axes is not supported; the engine"
                            " needs a 2-D matrix").format(n=b.ndim))
    return [(ctx.out, O.MatMul(b), [ctx.act(0)])]


def _transpose(ctx: NodeContext):
    if ctx.imp.nhwc and ctx.input(0) == ctx.imp.input_name:
        ctx.attr("perm")
        return [(ctx.out, O.Identity(), [ctx.act(0)])]  # the image already enters as (C, H, W)
    rank = len(ctx.shape(0))
    perm = ctx.attr("perm", list(range(rank, -1, -1)))
    if perm[0] != 0:
        raise Unsupported(_("perm {perm} would move the batch axis; the engine needs perm to"
                            " start with 0").format(perm=list(perm)))
    return [(ctx.out, O.Transpose([p - 1 for p in perm[1:]]), [ctx.act(0)])]


def _concat(ctx: NodeContext):
    sources = [ctx.act(i) for i in range(len(ctx.proto.input))]
    rank = len(ctx.shape(0))
    dim = ctx.axis(ctx.attr("axis"), rank, "axis")
    if len(sources) == 1:  # DenseNet's first block joins one tensor: a copy
        return [(ctx.out, O.Identity(), sources)]
    if rank not in (1, 3):
        raise Unsupported(_("joining tensors with {n} axes is not supported; the engine joins"
                            " (N, C, H, W) maps or (N, F) vectors").format(n=rank + 1))
    return [(ctx.out, L.Concat(dim), sources)]


def _flatten(ctx: NodeContext):
    rank = len(ctx.shape(0))
    axis = ctx.attr("axis", 1)
    if (axis + rank + 1 if axis < 0 else axis) != 1:
        raise Unsupported(_("axis {axis} would merge the batch axis with others; the engine"
                            " needs axis=1").format(axis=axis))
    layer = L.Flatten() if rank in (1, 3) else O.Reshape((-1,), rank)
    return [(ctx.out, layer, [ctx.act(0)])]


def _reshape(ctx: NodeContext):
    in_shape = ctx.shape(0)
    if ctx.opset < 5:  # the shape was an attribute then
        target = [int(s) for s in ctx.attr("shape")]
    else:
        target = [int(s) for s in ctx.const(1, "shape").reshape(-1)]
    if ctx.attr("allowzero", 0) and 0 in target:
        raise Unsupported(_("allowzero=1 with a 0 in the shape is not supported"))
    if not target:
        raise Unsupported(_("a reshape to a scalar would drop the batch axis"))
    first, rest = target[0], target[1:]
    batch = ctx.imp.batch
    keeps_batch = first in (0, BATCH) or (batch is not None and first == batch)
    if first == -1 and -1 not in rest:
        per_sample = math.prod(in_shape[i] if s == 0 else s for i, s in enumerate(rest))
        keeps_batch = per_sample == math.prod(in_shape)
    if not keeps_batch or any(s < -1 for s in rest):
        shown = ["N" if s == BATCH else s for s in target]
        raise Unsupported(_("the shape {shape} would change the batch axis; the engine needs"
                            " 0, -1 or the batch size first").format(shape=shown))
    return [(ctx.out, O.Reshape(rest, len(in_shape)), [ctx.act(0)])]


def _pad(ctx: NodeContext):
    mode = ctx.attr("mode", "constant")
    if ctx.opset < 11:
        pads, value = ctx.attr("pads"), ctx.attr("value", 0.0)
    else:
        pads = ctx.const(1, "pads")
        fill = ctx.const(2, "constant_value", required=False)
        value = 0.0 if fill is None else _short(fill.reshape(-1)[0]) if fill.size else 0.0
        axes = ctx.const(3, "axes", required=False)
    rank = len(ctx.shape(0)) + 1
    pads = [int(p) for p in np.asarray(pads).reshape(-1)]
    if ctx.opset >= 11 and axes is not None:  # pads given for some axes only
        full = [0] * (2 * rank)
        for j, a in enumerate(int(a) % rank for a in axes.reshape(-1)):
            full[a], full[rank + a] = pads[j], pads[len(pads) // 2 + j]
        pads = full
    if len(pads) != 2 * rank or rank < 3:
        raise Unsupported(_("pads must give 2 amounts per axis of a tensor with 3 or more"
                            " axes, not {n} for {rank} axes").format(n=len(pads), rank=rank))
    if any(pads[: rank - 2]) or any(pads[rank : 2 * rank - 2]):
        raise Unsupported(_("padding axes other than the last two (height and width) is not"
                            " supported"))
    if min(pads) < 0:
        raise Unsupported(_("negative pads (cropping) are not supported"))
    check_pads(pads)
    if mode not in ("constant", "reflect", "edge"):
        raise Unsupported(_("mode {mode!r} is not supported; the engine pads with constant,"
                            " reflect or edge").format(mode=mode))
    top, left, bottom, right = pads[rank - 2], pads[rank - 1], pads[-2], pads[-1]
    return [(ctx.out, O.Pad((left, right, top, bottom), mode, value), [ctx.act(0)])]


CONVERTERS: dict[str, Callable[[NodeContext], list]] = {
    "AveragePool": avg_pool, "BatchNormalization": _batch_norm, "Clip": _clip,
    "Concat": _concat, "Conv": conv, "Dropout": _dropout, "Flatten": _flatten,
    "Gemm": _gemm, "GlobalAveragePool": global_avg_pool, "GlobalMaxPool": global_max_pool,
    "Identity": _simple(O.Identity), "LeakyRelu": _leaky_relu, "LRN": _lrn, "MatMul": _matmul,
    "MaxPool": max_pool, "Pad": _pad, "Relu": _simple(L.ReLU), "Reshape": _reshape,
    "Sigmoid": _simple(L.Sigmoid), "Softmax": _softmax, "Tanh": _simple(L.Tanh),
    "Transpose": _transpose, **ACTIVATIONS, **ARITHMETIC, **SHAPING, **UPSAMPLING,
}
SUPPORTED_OPERATORS: tuple[str, ...] = tuple(sorted(CONVERTERS))
