"""The ONNX importer's converters for windows: Conv, the pools, and how their padding is read.

Each converter takes the :class:`~engine.onnx.node.NodeContext` of one node and returns one
pipeline node, or two when the padding is asymmetric or larger than the layer takes and becomes a
separate Pad node first. :data:`engine.onnx.converters.CONVERTERS` lists them with the other
operators.
"""

from __future__ import annotations

import math

import numpy as np

from engine import layers as L
from engine.i18n import _
from engine.layers.binary import Mul
from engine.layers.reshaping import Pad
from engine.onnx.node import NodeContext, Unsupported

__all__ = ["avg_pool", "check_pads", "conv", "explicit_pads", "global_avg_pool", "global_max_pool",
           "max_pool", "padded_input", "short", "window_settings"]


def window_settings(ctx: NodeContext, in_shape,
                    kernel) -> tuple[tuple, tuple, tuple[int, int, int, int]]:
    """(strides, dilations, pads (top, left, bottom, right)) with auto_pad resolved."""
    if len(in_shape) != 3:
        raise Unsupported(_("its input has {n} axes; the engine runs 2-D windows on (N, C, H,"
                            " W) maps only").format(n=len(in_shape) + 1))
    strides = tuple(ctx.attr("strides", [1, 1]))
    dilations = tuple(ctx.attr("dilations", [1, 1]))
    pads = tuple(ctx.attr("pads", [0, 0, 0, 0]))
    auto = ctx.attr("auto_pad", "NOTSET")
    if len(kernel) != 2 or len(strides) != 2 or len(dilations) != 2 or len(pads) != 4:
        raise Unsupported(_("a kernel of {n} dimensions is not supported; the engine runs"
                            " 2-D kernels only").format(n=len(kernel)))
    if auto == "VALID":
        pads = (0, 0, 0, 0)
    elif auto in ("SAME_UPPER", "SAME_LOWER"):
        before, after = [], []
        for n, k, s, d in zip(in_shape[1:], kernel, strides, dilations, strict=True):
            total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
            small = total // 2
            before.append(small if auto == "SAME_UPPER" else total - small)
            after.append(total - before[-1])
        pads = (*before, *after)
    elif auto != "NOTSET":
        raise Unsupported(_("auto_pad {value!r} is not an ONNX value").format(value=auto))
    pads = tuple(int(p) for p in pads)
    check_pads(pads)
    return strides, dilations, pads


# The layers' own limit on padding (engine.layers.base._size_field). Uneven pads become a
# separate Pad node, which has no limit of its own: without this check a pool's pads of 10**9
# loaded and the first run asked for tens of GiB.
_MOST_PAD = 256


def check_pads(pads) -> None:
    """Refuse pads above the layers' limit (ONNX's shape inference already refuses negative
    ones, and Pad's cropping is refused before)."""
    if max(pads) > _MOST_PAD:
        raise Unsupported(_("pads {pads} may be at most {most} each").format(
            pads=[int(p) for p in pads], most=_MOST_PAD))


def short(pair) -> int | tuple[int, int]:
    """(3, 3) -> 3 so the layer's repr reads like PyTorch's."""
    return int(pair[0]) if pair[0] == pair[1] else (int(pair[0]), int(pair[1]))


def padded_input(ctx: NodeContext, pads, mode: str = "constant",
                  explicit: bool = False) -> tuple[list, str, tuple]:
    """An explicit Pad node when asked or when pads are asymmetric; returns (nodes, the layer's
    input, the layer's own padding)."""
    top, left, bottom, right = pads
    if (top, left) == (bottom, right) and not explicit:
        return [], ctx.act(0), (top, left)
    name = ctx.extra("pad")
    return [(name, Pad((left, right, top, bottom), mode), [ctx.act(0)])], name, (0, 0)


def conv(ctx: NodeContext):
    """A Conv node as a Conv2d layer (weight and bias from the file), after a Pad if needed."""
    weight = ctx.const(1, "weight")
    bias = ctx.const(2, "bias", required=False)
    if weight.ndim != 4:
        raise Unsupported(_("a kernel of {n} dimensions is not supported; the engine runs"
                            " 2-D kernels only").format(n=weight.ndim - 2))
    kernel = tuple(ctx.attr("kernel_shape", weight.shape[2:]))
    if kernel != weight.shape[2:]:
        raise Unsupported(_("kernel_shape {kernel} differs from the weight's {weight}")
                          .format(kernel=kernel, weight=weight.shape[2:]))
    strides, dilations, pads = window_settings(ctx, ctx.shape(0), kernel)
    groups = ctx.attr("group", 1)
    nodes, source, padding = padded_input(ctx, pads)
    layer = L.Conv2d(weight.shape[1] * groups, weight.shape[0], short(kernel), short(strides),
                     short(padding), short(dilations), groups, bias=bias is not None,
                     weight=weight, bias_values=bias)
    # shown in the ledger's notes
    layer.kernel_source = _("from the ONNX file ({name})").format(name=ctx.input(1))
    return [*nodes, (ctx.out, layer, [source])]


def explicit_pads(pads, kernel) -> bool:
    """Pads a pool layer cannot take itself: asymmetric, or over half the window (PyTorch's
    limit, which ONNX does not have)."""
    return pads[:2] != pads[2:] or any(2 * p > k for p, k in zip(pads, kernel * 2, strict=True))


def max_pool(ctx: NodeContext):
    """A MaxPool node as a MaxPool2d layer, after an edge Pad if the pads need one."""
    kernel = tuple(ctx.attr("kernel_shape"))
    strides, dilations, pads = window_settings(ctx, ctx.shape(0), kernel)
    ceil = bool(ctx.attr("ceil_mode", 0))
    if explicit_pads(pads, kernel):
        if ceil or max(dilations) > 1:
            raise Unsupported(_("uneven or large pads with ceil_mode or dilation are not"
                                " supported; the engine needs equal pads"))
        # Repeating the edge pixel never changes a maximum: each window that reaches into the
        # border also covers the edge pixel it repeats.
        nodes, source, padding = padded_input(ctx, pads, mode="edge", explicit=True)
    else:
        nodes, source, padding = [], ctx.act(0), pads[:2]
    layer = L.MaxPool2d(short(kernel), short(strides), short(padding), short(dilations), ceil)
    return [*nodes, (ctx.out, layer, [source])]


def avg_pool(ctx: NodeContext):
    """An AveragePool node as an AvgPool2d layer, after a zero Pad if the pads need one."""
    kernel = tuple(ctx.attr("kernel_shape"))
    strides, dilations, pads = window_settings(ctx, ctx.shape(0), kernel)
    if max(dilations) > 1:
        raise Unsupported(_("dilations are not supported; the engine's average pool has"
                            " dense windows"))
    ceil = bool(ctx.attr("ceil_mode", 0))
    include = bool(ctx.attr("count_include_pad", 0))
    if explicit_pads(pads, kernel):
        if ceil:
            raise Unsupported(_("uneven pads with ceil_mode are not supported"))
        nodes, source, _none = padded_input(ctx, pads, explicit=True)
        layer = L.AvgPool2d(short(kernel), short(strides), 0, False, True)
        if include:
            return [*nodes, (ctx.out, layer, [source])]
        # the zeros must not count: scale each window's mean by (window size / real pixels)
        pooled = ctx.extra("mean")
        return [*nodes, (pooled, layer, [source]),
                (ctx.out, Mul(_pad_correction(ctx.shape(0), layer, nodes[0][1])), [pooled])]
    layer = L.AvgPool2d(short(kernel), short(strides), short(pads[:2]), ceil, include)
    return [(ctx.out, layer, [ctx.act(0)])]


def _pad_correction(shape, pool, pad) -> np.ndarray:
    """(1, H_out, W_out): each window's size over the input pixels it covers."""
    ones = np.ones((1, *shape[1:]), np.float32)
    covered = pool(pad(ones))  # the mean of 1s and padding zeros: the covered fraction
    return (1.0 / covered).astype(np.float32)


def global_avg_pool(ctx: NodeContext):
    """A GlobalAveragePool node as a GlobalAvgPool2d layer."""
    if len(ctx.shape(0)) != 3:
        raise Unsupported(_("its input must be an (N, C, H, W) map"))
    return [(ctx.out, L.GlobalAvgPool2d(), [ctx.act(0)])]


def global_max_pool(ctx: NodeContext):
    """A GlobalMaxPool node as a MaxPool2d layer whose window is the whole map."""
    shape = ctx.shape(0)
    if len(shape) != 3:
        raise Unsupported(_("its input must be an (N, C, H, W) map"))
    # one window as large as the map: exactly a global maximum, and it reads like PyTorch
    return [(ctx.out, L.MaxPool2d(short(shape[1:])), [ctx.act(0)])]
