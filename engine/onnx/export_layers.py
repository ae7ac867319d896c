"""How each layer type is written as ONNX nodes (opset 17): one emitter per type.

An emitter takes a :class:`Writer`, the layer, its input names, its output name and the
unbatched shapes of its inputs, and adds nodes and initializers. Axes move by one (ONNX counts
the batch axis). Each layer is written as the node the importer reads back into the same
layer, so that export then import gives the same pipeline; GELU is the exception (ONNX has a
Gelu operator only from opset 20), written out with Erf or Tanh. SiLU is written as Sigmoid then
Mul, which the importer fuses back into one SiLU.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.i18n import _
from engine.ops.shapes import pair

__all__ = ["EMITTERS", "ExportError"]


class ExportError(ValueError):
    """A pipeline (or a layer setting) that the export format cannot hold."""


def _ints(v) -> list[int]:
    return list(pair(v))


def _axis(dim: int, rank: int) -> int:
    """An unbatched axis (may be negative) as a non-negative batched ONNX axis."""
    return dim % rank + 1


def _conv(w, layer, xs, out, shapes):
    inputs = [xs[0], w.init(f"{out}.weight", layer._kernel)]
    if layer.bias is not None:
        inputs.append(w.init(f"{out}.bias", layer.bias))
    p = _ints(layer.padding)
    w.node("Conv", inputs, out, kernel_shape=_ints(layer.kernel_size),
           strides=_ints(layer.stride), pads=p + p, dilations=_ints(layer.dilation),
           group=layer.groups)


def _conv_transpose(w, layer, xs, out, shapes):
    inputs = [xs[0], w.init(f"{out}.weight", layer.weight)]
    if layer.bias is not None:
        inputs.append(w.init(f"{out}.bias", layer.bias))
    p = _ints(layer.padding)
    w.node("ConvTranspose", inputs, out, kernel_shape=_ints(layer.kernel_size),
           strides=_ints(layer.stride), pads=p + p, dilations=_ints(layer.dilation),
           output_padding=_ints(layer.output_padding), group=layer.groups)


def _pool(op):
    def emit(w, layer, xs, out, shapes):
        p = _ints(layer.padding)
        stride = layer.kernel_size if layer.stride is None else layer.stride
        attrs = {"kernel_shape": _ints(layer.kernel_size), "strides": _ints(stride),
                 "pads": p + p, "ceil_mode": int(layer.ceil_mode)}
        if op == "MaxPool":
            attrs["dilations"] = _ints(layer.dilation)
        elif op == "AveragePool":
            attrs["count_include_pad"] = int(layer.count_include_pad)
        else:
            norm = layer.norm_type
            if norm != int(norm):
                raise ExportError(_("LpPool2d with p = {p} cannot be written: ONNX's p is a whole"
                                    " number").format(p=norm))
            attrs["p"] = int(norm)
            if attrs.pop("ceil_mode"):
                raise ExportError(_("LpPool2d with ceil_mode needs ONNX opset 18; the export"
                                    " writes opset 17"))
        w.node(op, xs, out, **attrs)
    return emit


def _batch_norm(w, layer, xs, out, shapes):
    inputs = [xs[0], *(w.init(f"{out}.{k}", getattr(layer, k)) for k in
                       ("weight", "bias", "running_mean", "running_var"))]
    w.node("BatchNormalization", inputs, out, epsilon=layer.eps)


def _linear(w, layer, xs, out, shapes):
    inputs = [xs[0], w.init(f"{out}.weight", layer.weight)]
    if layer.bias is not None:
        inputs.append(w.init(f"{out}.bias", layer.bias))
    w.node("Gemm", inputs, out, transB=1)


def _flatten(w, layer, xs, out, shapes):
    rank = len(shapes[0])
    start, end = (d % rank for d in (layer.start_dim, layer.end_dim))
    if (start, end) == (0, rank - 1):
        w.node("Flatten", xs, out, axis=1)
    else:
        _reshape_to(w, xs, out, layer.out_shape(shapes[0]))


def _reshape_to(w, xs, out, target):
    w.node("Reshape", [xs[0], w.init(f"{out}.shape", np.array([0, *target], np.int64))], out)


def _clip(w, layer, xs, out, shapes):
    lo, hi = layer.min_val, layer.max_val
    bounds = ["" if v is None else w.init(f"{out}.{k}", np.float32(v))
              for k, v in (("min", lo), ("max", hi))]
    while bounds and not bounds[-1]:
        bounds.pop()
    w.node("Clip", [xs[0], *bounds], out)


def _simple(op, **fixed):
    def emit(w, layer, xs, out, shapes):
        attrs = {k: (getattr(layer, v) if isinstance(v, str) else v) for k, v in fixed.items()}
        w.node(op, xs, out, **attrs)
    return emit


def _silu(w, layer, xs, out, shapes):
    """Sigmoid then Mul (ONNX has no SiLU before opset 24); the importer reads the pair back as
    one SiLU layer."""
    w.node("Mul", [xs[0], w.node("Sigmoid", xs, f"{out}:sigmoid")], out)


def _softmax(op):
    def emit(w, layer, xs, out, shapes):
        w.node(op, xs, out, axis=_axis(layer.dim, len(shapes[0])))
    return emit


def _add(w, layer, xs, out, shapes):
    w.node("Add" if len(xs) == 2 else "Sum", xs, out)


def _concat(w, layer, xs, out, shapes):
    w.node("Concat", xs, out, axis=_axis(layer.dim, len(shapes[0])))


def _dropout(w, layer, xs, out, shapes):
    w.node("Dropout", [xs[0], w.init(f"{out}.ratio", np.float32(layer.p))], out)


def _transpose(w, layer, xs, out, shapes):
    w.node("Transpose", xs, out, perm=[0, *(p + 1 for p in layer.perm)])


def _pad(w, layer, xs, out, shapes):
    rank = len(shapes[0]) + 1
    left, right, top, bottom = layer.padding
    pads = [0] * (2 * rank)
    pads[rank - 2], pads[rank - 1], pads[-2], pads[-1] = top, left, bottom, right
    inputs = [xs[0], w.init(f"{out}.pads", np.array(pads, np.int64))]
    if layer.mode == "constant":
        inputs.append(w.init(f"{out}.value", np.float32(layer.value)))
    w.node("Pad", inputs, out, mode=layer.mode)


def _matmul(w, layer, xs, out, shapes):
    w.node("MatMul", [xs[0], w.init(f"{out}.weight", layer.weight)], out)


_BINARY_OPS = {"AddConstant": "Add", "Sum": "Sum", "Mul": "Mul", "Sub": "Sub", "Div": "Div",
               "Pow": "Pow", "Max": "Max", "Min": "Min"}


def _binary(w, layer, xs, out, shapes):
    op = _BINARY_OPS[layer.type_name]
    if layer.constant is None:
        w.node("Add" if op == "Sum" and len(xs) == 2 else op, xs, out)
        return
    c = w.init(f"{out}.constant", layer.constant)
    w.node(op, [c, xs[0]] if layer.constant_first else [xs[0], c], out)


def _reduce(w, layer, xs, out, shapes):
    axes = [a + 1 for a in layer.axes]
    if layer.type_name == "ReduceSum":  # axes an input since opset 13
        w.node("ReduceSum", [xs[0], w.init(f"{out}.axes", np.array(axes, np.int64))], out,
               keepdims=int(layer.keepdims))
    else:
        w.node(layer.type_name, xs, out, axes=axes, keepdims=int(layer.keepdims))


def _slice(w, layer, xs, out, shapes):
    columns = list(zip(*layer.slices, strict=True))
    starts, ends, axes, steps = (np.array(v, np.int64) for v in
                                 (columns[1], columns[2], [a + 1 for a in columns[0]],
                                  columns[3]))
    names = [w.init(f"{out}.{k}", v) for k, v in
             (("starts", starts), ("ends", ends), ("axes", axes), ("steps", steps))]
    w.node("Slice", [xs[0], *names], out)


def _gather(w, layer, xs, out, shapes):
    w.node("Gather", [xs[0], w.init(f"{out}.indices", layer.indices)], out, axis=layer.axis + 1)


def _prelu(w, layer, xs, out, shapes):
    w.node("PRelu", [xs[0], w.init(f"{out}.weight", layer.weight)], out)


def _gelu(w, layer, xs, out, shapes):
    x = xs[0]
    half, one = w.init(f"{out}.half", np.float32(0.5)), w.init(f"{out}.one", np.float32(1.0))
    if layer.approximate == "tanh":
        cube = w.node("Pow", [x, w.init(f"{out}.three", np.float32(3.0))], f"{out}:cube")
        inner = w.node("Add", [x, w.node("Mul", [cube, w.init(f"{out}.c", np.float32(
            0.044715))], f"{out}:scaled")], f"{out}:inner")
        inner = w.node("Mul", [inner, w.init(f"{out}.k", np.float32(math.sqrt(2 / math.pi)))],
                       f"{out}:arg")
        cdf = w.node("Tanh", [inner], f"{out}:tanh")
    else:
        scaled = w.node("Div", [x, w.init(f"{out}.root2", np.float32(math.sqrt(2)))],
                        f"{out}:scaled")
        cdf = w.node("Erf", [scaled], f"{out}:erf")
    cdf = w.node("Add", [cdf, one], f"{out}:plus1")
    w.node("Mul", [w.node("Mul", [x, cdf], f"{out}:times"), half], out)


def _layer_norm(w, layer, xs, out, shapes):
    w.node("LayerNormalization", [xs[0], w.init(f"{out}.weight", layer.weight),
                                  w.init(f"{out}.bias", layer.bias)], out,
           axis=layer.axis + 1, epsilon=layer.eps)


def _instance_norm(w, layer, xs, out, shapes):
    w.node("InstanceNormalization", [xs[0], w.init(f"{out}.weight", layer.weight),
                                     w.init(f"{out}.bias", layer.bias)], out, epsilon=layer.eps)


def _resize(w, layer, xs, out, shapes):
    nearest = layer.nearest_mode
    if nearest == "simple":  # old Upsample: floor while growing, ceil while shrinking
        scales = layer.scale_factor or tuple(o / n for o, n in zip(layer.size, shapes[0][-2:],
                                                                   strict=True))
        nearest = "floor" if min(scales) >= 1 else "ceil" if max(scales) < 1 else None
        if nearest is None:
            raise ExportError(_("a Resize that grows one axis and shrinks the other in the old"
                                " Upsample rounding cannot be written in opset 17"))
    attrs = {"mode": layer.mode, "coordinate_transformation_mode": layer.coordinate_mode,
             "nearest_mode": nearest}
    if layer.size is None:
        scales = np.array([1, 1, *layer.scale_factor], np.float32)
        w.node("Resize", [xs[0], "", w.init(f"{out}.scales", scales)], out, **attrs)
        return
    # the batch size is open: sizes = Shape(x)[:2] joined with the fixed height and width
    lead = w.node("Shape", [xs[0]], f"{out}:shape", end=2)
    sizes = w.node("Concat", [lead, w.init(f"{out}.size", np.array(layer.size, np.int64))],
                   f"{out}:sizes", axis=0)
    w.node("Resize", [xs[0], "", "", sizes], out, **attrs)


EMITTERS: dict[str, Callable] = {
    "Conv2d": _conv, "ConvTranspose2d": _conv_transpose, "MaxPool2d": _pool("MaxPool"),
    "AvgPool2d": _pool("AveragePool"), "LpPool2d": _pool("LpPool"),
    "GlobalAvgPool2d": _simple("GlobalAveragePool"), "BatchNorm2d": _batch_norm,
    "Linear": _linear, "Flatten": _flatten, "ReLU": _simple("Relu"),
    "LeakyReLU": _simple("LeakyRelu", alpha="negative_slope"), "Sigmoid": _simple("Sigmoid"),
    "Tanh": _simple("Tanh"), "Hardtanh": _clip, "Clip": _clip, "Softmax": _softmax("Softmax"),
    "LogSoftmax": _softmax("LogSoftmax"), "Dropout": _dropout, "Add": _add, "Concat": _concat,
    "Identity": _simple("Identity"),
    "Reshape": lambda w, layer, xs, out, shapes: _reshape_to(w, xs, out, layer.shape),
    "Transpose": _transpose, "Pad": _pad, "MatMul": _matmul,
    "LocalResponseNorm": _simple("LRN", size="size", alpha="alpha", beta="beta", bias="k"),
    **{name: _binary for name in _BINARY_OPS},
    **{name: _reduce for name in ("ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum")},
    "Slice": _slice, "Gather": _gather, "PReLU": _prelu, "GELU": _gelu,
    "HardSigmoid": _simple("HardSigmoid", alpha="alpha", beta="beta"),
    "HardSwish": _simple("HardSwish"), "SiLU": _silu, "ELU": _simple("Elu", alpha="alpha"),
    "SELU": _simple("Selu"), "Erf": _simple("Erf"), "Sqrt": _simple("Sqrt"),
    "Reciprocal": _simple("Reciprocal"), "Exp": _simple("Exp"), "Log": _simple("Log"),
    "Abs": _simple("Abs"), "Neg": _simple("Neg"), "Softplus": _simple("Softplus"),
    "LayerNorm": _layer_norm, "InstanceNorm2d": _instance_norm, "Resize": _resize,
}
