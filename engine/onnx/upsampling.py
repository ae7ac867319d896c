"""The ONNX importer's converters for decoders and the rarer windows: Resize, Upsample,
ConvTranspose and LpPool.

Each converter takes the :class:`~engine.onnx.node.NodeContext` of one node and returns its
pipeline nodes; :data:`engine.onnx.converters.CONVERTERS` lists them with the other operators.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.graph.spec_arrays import short_float
from engine.i18n import _
from engine.layers import imported as O
from engine.onnx.node import BATCH, NodeContext, Unsupported
from engine.onnx.windows import check_pads, explicit_pads, padded_input, short, window_settings

__all__ = ["UPSAMPLING"]


def _resize_layer(ctx: NodeContext, scales, sizes, mode: str, coord: str, nearest: str):
    shape = ctx.shape(0)
    if len(shape) != 3:
        raise Unsupported(_("its input has {n} axes; the engine resizes (N, C, H, W) maps")
                          .format(n=len(shape) + 1))
    if mode not in ("nearest", "linear"):
        raise Unsupported(_("mode {mode!r} is not supported; the engine resizes with nearest"
                            " or linear").format(mode=mode))
    if sizes is not None:
        sizes = [int(s) for s in np.asarray(sizes).reshape(-1)]
        batch_ok = sizes[0] == BATCH or ctx.imp.batch in (None, sizes[0])
        if len(sizes) != 4 or not batch_ok or (
                sizes[1] != shape[0]):
            raise Unsupported(_("sizes {sizes} would change the batch or the channels")
                              .format(sizes=sizes))
        layer = O.Resize(size=sizes[2:], mode=mode, coordinate_mode=coord, nearest_mode=nearest)
    else:
        scales = [short_float(np.float32(s)) for s in np.asarray(scales).reshape(-1)]
        if nearest == "simple" and min(scales) >= 1:
            nearest = "floor"  # what "simple" means when every axis grows
        if len(scales) != 4 or scales[:2] != [1.0, 1.0]:
            raise Unsupported(_("scales {scales} would resize more than height and width")
                              .format(scales=scales))
        layer = O.Resize(scale_factor=scales[2:], mode=mode, coordinate_mode=coord,
                         nearest_mode=nearest)
    return [(ctx.out, layer, [ctx.act(0)])]


def _resize(ctx: NodeContext):
    mode = ctx.attr("mode", "nearest")
    if ctx.opset < 11:  # opset 10: the Upsample rules
        return _resize_layer(ctx, ctx.const(1, "scales"), None, mode, "asymmetric", "simple")
    scales = ctx.const(2, "scales", required=False)
    sizes = ctx.const(3, "sizes", required=False)
    if scales is not None and not scales.size:
        scales = None
    coord = ctx.attr("coordinate_transformation_mode", "half_pixel")
    if coord == "tf_crop_and_resize" or ctx.attr("antialias", 0) or ctx.attr("axes"):
        raise Unsupported(_("tf_crop_and_resize, antialias and axes are not supported"))
    if ctx.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise Unsupported(_("keeping the aspect ratio is not supported"))
    for name in ("cubic_coeff_a", "exclude_outside", "extrapolation_value"):
        ctx.attr(name)  # they change cubic mode and tf_crop_and_resize only, both refused
    nearest = ctx.attr("nearest_mode", "round_prefer_floor")
    return _resize_layer(ctx, scales, sizes, mode, coord, nearest)


def _upsample(ctx: NodeContext):
    mode = ctx.attr("mode", "nearest")
    scales = ctx.attr("scales") if ctx.opset < 9 else ctx.const(1, "scales")
    mode = "linear" if mode == "bilinear" else mode
    return _resize_layer(ctx, scales, None, mode, "asymmetric", "simple")


def _conv_transpose(ctx: NodeContext):
    weight = ctx.const(1, "weight")
    bias = ctx.const(2, "bias", required=False)
    shape = ctx.shape(0)
    if weight.ndim != 4 or len(shape) != 3:
        raise Unsupported(_("the engine runs it on (N, C, H, W) maps with 2-D kernels only"))
    groups = ctx.attr("group", 1)
    kernel = tuple(ctx.attr("kernel_shape", weight.shape[2:]))
    strides = tuple(ctx.attr("strides", [1, 1]))
    dilations = tuple(ctx.attr("dilations", [1, 1]))
    extra = tuple(ctx.attr("output_padding", [0, 0]))
    pads = list(ctx.attr("pads", [0, 0, 0, 0]))
    auto = ctx.attr("auto_pad", "NOTSET")
    wanted = ctx.attr("output_shape")
    if wanted is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        wanted = list(wanted)[-2:] if wanted is not None else [n * s for n, s in
                                                               zip(shape[1:], strides, strict=True)]
        for i in range(2):
            total = (strides[i] * (shape[1 + i] - 1) + extra[i] + (kernel[i] - 1) * dilations[i]
                     + 1 - wanted[i])
            if total < 0 and auto in ("SAME_UPPER", "SAME_LOWER"):
                total = 0  # onnxruntime's reading: never pad below nothing
            if total < 0:
                raise Unsupported(_("output_shape {shape} is larger than the layer makes")
                                  .format(shape=wanted))
            small = total // 2
            pads[i], pads[i + 2] = (small, total - small) if auto == "SAME_UPPER" else (
                total - small, small)
    elif auto == "VALID":
        pads = [0, 0, 0, 0]
    check_pads(pads)
    symmetric = pads[:2] == pads[2:]
    layer = O.ConvTranspose2d(
        weight.shape[0], weight.shape[1] * groups, short(kernel), short(strides),
        short(pads[:2]) if symmetric else 0, short(extra), short(dilations), groups,
        bias=bias is not None, weight=weight, bias_values=bias)
    if symmetric:
        return [(ctx.out, layer, [ctx.act(0)])]
    name = ctx.extra("full")
    out = layer.out_shape(shape)
    crop = O.Slice([(1, pads[0], out[1] - pads[2], 1), (2, pads[1], out[2] - pads[3], 1)], 3)
    return [(name, layer, [ctx.act(0)]), (ctx.out, crop, [name])]


def _lp_pool(ctx: NodeContext):
    kernel = tuple(ctx.attr("kernel_shape"))
    strides, dilations, pads = window_settings(ctx, ctx.shape(0), kernel)
    if max(dilations) > 1:
        raise Unsupported(_("dilations are not supported"))
    ceil = bool(ctx.attr("ceil_mode", 0))
    if explicit_pads(pads, kernel):
        if ceil:
            raise Unsupported(_("uneven pads with ceil_mode are not supported"))
        nodes, source, padding = padded_input(ctx, pads, explicit=True)  # zeros add nothing
    else:
        nodes, source, padding = [], ctx.act(0), pads[:2]
    layer = O.LpPool2d(float(ctx.attr("p", 2)), short(kernel), short(strides),
                       short(padding), ceil)
    return [*nodes, (ctx.out, layer, [source])]


UPSAMPLING: dict[str, Callable[[NodeContext], list]] = {
    "ConvTranspose": _conv_transpose, "LpPool": _lp_pool, "Resize": _resize,
    "Upsample": _upsample,
}
