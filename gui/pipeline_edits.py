"""What the Pipeline dock does to a pipeline, without Qt: the edits it offers and their checks.

Every edit builds a candidate pipeline, lets the channel counts of the following layers follow
(a conv after a changed layer gets the new in_channels and redrawn weights), and computes every
output shape for the live input size (:func:`fit_and_check`). A candidate that cannot run is
refused with :class:`EditRefused`, whose message gives the numbers.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import N_, _
from engine.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    GlobalAvgPool2d,
    LeakyReLU,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
)
from engine.layers.kernels import initialize
from engine.ops.shapes import pair

#: Layers the Add menu offers: (label, tooltip, factory taking the channel count there).
ADDABLE = (
    (N_("Conv 3x3"), N_("A 3x3 convolution with padding 1, as many filters as input channels."),
     lambda c: Conv2d(c, c, 3, padding=1)),
    (N_("Conv 1x1"), N_("A 1x1 convolution: mixes the channels at each pixel, keeps the size."),
     lambda c: Conv2d(c, c, 1)),
    ("ReLU", N_("max(0, x): keeps positive values."), lambda c: ReLU()),
    (N_("Leaky ReLU"), N_("Like ReLU, but negative values keep a small slope."),
     lambda c: LeakyReLU()),
    ("Sigmoid", N_("Squashes values into (0, 1)."), lambda c: Sigmoid()),
    ("Tanh", N_("Squashes values into (-1, 1)."), lambda c: Tanh()),
    (N_("Max pool 2x2"),
     N_("Keeps the largest value of each 2x2 window: halves height and width."),
     lambda c: MaxPool2d(2)),
    (N_("Avg pool 2x2"), N_("Averages each 2x2 window: halves height and width."),
     lambda c: AvgPool2d(2)),
    (N_("Global avg pool"), N_("Turns every map into its mean: C x 1 x 1."),
     lambda c: GlobalAvgPool2d()),
    (N_("Batch norm"), N_("Normalizes each channel with stored mean and variance."),
     lambda c: BatchNorm2d(c)),
)

DEFAULT_SIDE = 480  # longest side assumed for the input before any frame arrived


class EditRefused(ValueError):
    """A candidate pipeline that cannot run: ``index`` is the failing layer, ``field`` its field."""

    def __init__(self, message: str, index: int | None = None, field: str | None = None):
        super().__init__(message)
        self.index = index
        self.field = field


def short_params(layer) -> str:
    """A few words with a layer's main hyperparameters, e.g. ``3→16, 3x3, s1 p1``."""
    def size(value) -> str:
        h, w = pair(value)
        return f"{h}x{w}"
    kind = layer.type_name
    if kind == "Conv2d":
        text = f"{layer.in_channels}→{layer.out_channels}, {size(layer.kernel_size)}"
        text += f", s{pair(layer.stride)[0]} p{pair(layer.padding)[0]}"
        return text + (", flipped" if layer.flip else "")
    if kind in ("MaxPool2d", "AvgPool2d"):
        stride = layer.stride if layer.stride is not None else layer.kernel_size
        return f"{size(layer.kernel_size)}, s{pair(stride)[0]}"
    if kind == "LeakyReLU":
        return _("slope {negative_slope:g}").format(negative_slope=layer.negative_slope)
    if kind == "BatchNorm2d":
        return _("{num_features} ch").format(num_features=layer.num_features)
    return ""


def short_name(name: str, limit: int = 16) -> str:
    """A node name cut to at most ``limit`` characters, for narrow places (full in a tooltip).

    Exporters add noise: ``/layer1/layer1.0/relu/Relu_output_0`` loses its leading slash and
    ``_output_0`` first. A path keeps its end (``…1.0/relu/Relu``), where the layer is named;
    another name keeps both ends (``batchno…ation_23``): the number tells layers apart.
    """
    text = name.lstrip("/")
    for suffix in ("_output_0", ":0"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    if len(text) <= limit:
        return text
    if "/" in text:
        return "…" + text[-(limit - 1):]
    head = (limit - 1) // 2
    return text[:head] + "…" + text[-(limit - 1 - head):]


def is_join(node) -> bool:
    """A node that joins branches: it takes more than one input (Add, Concat)."""
    return len(node.inputs) > 1


def shape_text(shape) -> str:
    """``(16, 240, 320)`` -> ``16 × 240 × 320``."""
    return " × ".join(str(s) for s in shape)


def fit_and_check(pipeline, input_shape, strict: bool):
    """Let channel counts follow and compute every output shape.

    Returns ``(pipeline, shapes, notes)``: the pipeline with adjusted in_channels, the output
    shape of every node by name, and sentences telling which layers were adjusted.
    Raises :class:`EditRefused` naming the first layer that cannot run.
    """
    notes = []
    shapes = {pipeline.input_name: tuple(input_shape)}
    for index, node in enumerate(pipeline.nodes):
        layer = node.layer
        in_shapes = [shapes[name] for name in node.inputs]
        channels = in_shapes[0][0] if in_shapes and len(in_shapes[0]) == 3 else None
        # Only a chain is adjusted: in a graph a layer's channels may come from several places.
        if pipeline.is_chain and channels is not None:
            try:
                if layer.type_name == "Conv2d" and layer.in_channels != channels:
                    layer = layer.replace(in_channels=channels)
                    notes.append(_(
                        "{name} now takes {channels} input channels; its weights were "
                        "redrawn ({kernel_source})."
                    ).format(name=node.name, channels=channels, kernel_source=layer.kernel_source))
                elif layer.type_name == "BatchNorm2d" and layer.num_features != channels:
                    layer = layer.replace(num_features=channels)
                    notes.append(_("{name} now normalizes {channels} channels (statistics reset).")
                                   .format(name=node.name, channels=channels))
            except ValueError as exc:
                raise EditRefused(f"{node.name}: {exc}", index, getattr(exc, "field", None)) \
                    from None
            if layer is not node.layer:
                pipeline = pipeline.replace_layer(index, layer)
        try:
            shapes[node.name] = layer.out_shape(*in_shapes, strict=strict)
        except ValueError as exc:
            raise EditRefused(f"{node.name}: {exc}", index, getattr(exc, "field", None)) from None
    return pipeline, shapes, notes


def declared_input_shape(session, live, last_frame_hw=None) -> tuple[tuple[int, int, int], str]:
    """The input shape to compute with, and where it comes from (for the caption).

    The channel count is always the pipeline's own: a frame still in flight may come from the
    pipeline before a switch (say RGB while the new one reads gray). ``last_frame_hw`` is the
    size of the last live frame seen: right after an edit ``live.latest`` is None until the
    new pipeline has run, and the shapes must not jump to the declared size meanwhile.
    """
    spec = session.pipeline.input_spec
    latest = getattr(live, "latest", None) if live is not None else None
    if latest is not None and getattr(latest, "input", None) is not None:
        return (spec.channels, *latest.input.shape[-2:]), _("the live frame")
    if last_frame_hw is not None:
        return (spec.channels, *last_frame_hw), _("the live frame")
    if spec.height and spec.width:
        return (spec.channels, spec.height, spec.width), _("the pipeline's declared input")
    side = session.display.resolution or DEFAULT_SIDE
    return (spec.channels, side * 3 // 4, side), _("an assumed 4:3 frame until one arrives")


def shapes_until_failure(pipeline, input_shape) -> dict:
    """Every node's output shape by name; layers after one that cannot run are left out."""
    shapes = {pipeline.input_name: tuple(input_shape)}
    for node in pipeline.nodes:
        try:
            shapes[node.name] = node.layer.out_shape(*[shapes[n] for n in node.inputs])
        except (KeyError, ValueError):
            break
    return shapes


def edited_layer(layer, name: str, value):
    """``layer`` with the field ``name`` set to ``value``.

    Hand-edited filters survive a change of the filter count: the kept filters stay, new
    ones are drawn with the layer's initializer and seed (the engine would redraw all).
    Raises the layer's ``ValueError`` when the value does not fit.
    """
    if (name == "out_channels" and layer.type_name == "Conv2d"
            and layer.weight_source is None and isinstance(value, int) and value >= 1
            and value % layer.groups == 0):
        old = layer.weight.shape[0]
        fresh = initialize(layer.init, (value, *layer.weight.shape[1:]), layer.seed)
        weight = np.concatenate([layer.weight[:value], fresh[old:]])  # (value, C_in/g, kh, kw)
        bias = None
        if layer.bias is not None:
            bias = np.concatenate([layer.bias[:value], np.zeros(max(value - old, 0))])
        return layer.replace(out_channels=value, weight=weight, bias_values=bias)
    return layer.replace(**{name: value})
