"""The ONNX importer's converters for element-wise activations and maths, LogSoftmax and the
per-sample normalizations (LayerNormalization, InstanceNormalization).

Each converter takes the :class:`~engine.onnx.node.NodeContext` of one node and returns its
pipeline nodes as ``(name, layer, input names)``; :data:`engine.onnx.converters.CONVERTERS`
lists them with the other operators.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.i18n import _
from engine.layers import imported as O
from engine.onnx.node import NodeContext, Unsupported
from engine.ops.pointwise import SELU_ALPHA, SELU_GAMMA

__all__ = ["ACTIVATIONS", "softmax_axis"]


def _plain(layer_type) -> Callable:
    return lambda ctx: [(ctx.out, layer_type(), [ctx.act(0)])]


def _hard_sigmoid(ctx: NodeContext):
    layer = O.HardSigmoid(ctx.attr("alpha", 0.2), ctx.attr("beta", 0.5))
    return [(ctx.out, layer, [ctx.act(0)])]


def _elu(ctx: NodeContext):
    return [(ctx.out, O.ELU(ctx.attr("alpha", 1.0)), [ctx.act(0)])]


def _selu(ctx: NodeContext):
    alpha, gamma = ctx.attr("alpha"), ctx.attr("gamma")
    if not (alpha is None or math.isclose(alpha, SELU_ALPHA, rel_tol=1e-6)) or not (
            gamma is None or math.isclose(gamma, SELU_GAMMA, rel_tol=1e-6)):
        raise Unsupported(_("constants other than the standard alpha and gamma are not"
                            " supported"))
    return [(ctx.out, O.SELU(), [ctx.act(0)])]


def _gelu(ctx: NodeContext):
    return [(ctx.out, O.GELU(ctx.attr("approximate", "none")), [ctx.act(0)])]


def _prelu(ctx: NodeContext):
    slope = ctx.const(1, "slope").astype(np.float32)
    full = len(ctx.shape(0)) + 1
    if slope.ndim == full:  # (1, C, 1, 1): drop the batch axis, as the arithmetic does
        if slope.shape[0] != 1:
            raise Unsupported(_("slopes along the batch axis are not supported"))
        slope = slope[0]
    if slope.ndim == 1 and slope.size > 1 and full == 4:
        slope = slope.reshape(-1, 1, 1)  # (C,) slopes as PyTorch's exporter writes them
    return [(ctx.out, O.PReLU(slope), [ctx.act(0)])]


def softmax_axis(ctx: NodeContext) -> tuple[int, int]:
    """(rank, axis) of a Softmax or LogSoftmax, without the batch axis. Before opset 13 the
    axes from ``axis`` on count as one; the engine runs that only when they are one axis."""
    rank = len(ctx.shape(0))
    axis = ctx.axis(ctx.attr("axis", -1 if ctx.opset >= 13 else 1), rank, "axis")
    if ctx.opset < 13 and math.prod(ctx.shape(0)[axis + 1:]) != 1:
        raise Unsupported(_("a softmax over axes {axis}.. together (opset {opset}) is not"
                            " supported; the engine needs one axis").format(axis=axis + 1,
                                                                            opset=ctx.opset))
    return rank, axis


def _log_softmax(ctx: NodeContext):
    rank, axis = softmax_axis(ctx)
    return [(ctx.out, O.LogSoftmax(axis - rank, in_rank=rank), [ctx.act(0)])]


def _layer_norm(ctx: NodeContext):
    rank = len(ctx.shape(0))
    axis = ctx.axis(ctx.attr("axis", -1), rank, "axis")
    if ctx.attr("stash_type", 1) != 1:
        raise Unsupported(_("stash_type other than 1 is not supported"))
    scale = ctx.const(1, "scale").astype(np.float32)
    bias = ctx.const(2, "bias", required=False)
    bias = np.zeros_like(scale) if bias is None else np.broadcast_to(bias, scale.shape)
    layer = O.LayerNorm(axis, scale, bias, eps=ctx.attr("epsilon", 1e-5), in_rank=rank)
    return [(ctx.out, layer, [ctx.act(0)])]


def _instance_norm(ctx: NodeContext):
    if len(ctx.shape(0)) != 3:
        raise Unsupported(_("its input must be an (N, C, H, W) map"))
    scale, bias = ctx.const(1, "scale"), ctx.const(2, "bias")
    layer = O.InstanceNorm2d(len(scale), scale, bias, eps=ctx.attr("epsilon", 1e-5))
    return [(ctx.out, layer, [ctx.act(0)])]


ACTIVATIONS: dict[str, Callable[[NodeContext], list]] = {
    "Abs": _plain(O.Abs), "Elu": _elu, "Erf": _plain(O.Erf), "Exp": _plain(O.Exp),
    "Gelu": _gelu, "HardSigmoid": _hard_sigmoid, "HardSwish": _plain(O.HardSwish),
    "InstanceNormalization": _instance_norm, "LayerNormalization": _layer_norm,
    "Log": _plain(O.Log), "LogSoftmax": _log_softmax, "Neg": _plain(O.Neg), "PRelu": _prelu,
    "Reciprocal": _plain(O.Reciprocal), "Selu": _selu, "Softplus": _plain(O.Softplus),
    "Sqrt": _plain(O.Sqrt),
}
