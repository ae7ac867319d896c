"""What a network's output is: class scores, a map (segmentation, reconstruction) or other values.

The window, the ledger and the command line ask this before showing an output: a classifier's
scores get top-5 bars, a map of C x H x W (a U-Net's per-pixel class scores, an autoencoder's
reconstruction, a ConvTranspose decoder's image) gets pictures. The answer comes from shape
arithmetic alone, so it is known before the first frame.

Examples
--------
>>> kind_of_shape((10,)), kind_of_shape((10, 1, 1)), kind_of_shape((2, 64, 64))
('classes', 'classes', 'map')
>>> describe_output((2, 64, 64))
'a map of 2 x 64 x 64'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.i18n import _, ngettext

__all__ = ["CLASSES", "MAP", "OTHER", "OutputInfo", "describe_output", "kind_of_shape",
           "network_input_shape", "output_info", "output_kind"]

CLASSES, MAP, OTHER = "classes", "map", "other"


def kind_of_shape(shape) -> str:
    """``"classes"``, ``"map"`` or ``"other"`` for an unbatched output shape.

    A vector of 2 or more values counts as class scores, whatever axis holds it (``(K,)``,
    ``(K, 1, 1)`` after global pooling); ``(C, H, W)`` with more than one pixel is a map;
    anything else (one value, a matrix) is "other".
    """
    shape = tuple(int(n) for n in shape)
    if math.prod(shape) >= 2 and sum(n > 1 for n in shape) == 1:
        return CLASSES
    if len(shape) == 3 and shape[1] * shape[2] > 1:
        return MAP
    return OTHER


def describe_output(shape) -> str:
    """The output in words: "a map of 2 x 64 x 64", "scores for 10 classes", "1 value"."""
    shape = tuple(int(n) for n in shape)
    kind = kind_of_shape(shape)
    if kind == MAP:
        c, h, w = shape
        return _("a map of {c} x {h} x {w}").format(c=c, h=h, w=w)
    n = math.prod(shape)
    if kind == CLASSES:
        return ngettext("scores for {n} class", "scores for {n} classes", n).format(n=n)
    return ngettext("{n} value", "{n} values", n).format(n=n)


@dataclass(frozen=True)
class OutputInfo:
    """The last node's output for one input size: its shape, kind and the input's shape."""

    shape: tuple[int, ...]
    input_shape: tuple[int, int, int]

    @property
    def kind(self) -> str:
        return kind_of_shape(self.shape)

    @property
    def dense(self) -> bool:
        """A map as large as the input: a segmentation or a reconstruction, pixel for pixel."""
        return self.kind == MAP and tuple(self.shape[1:]) == tuple(self.input_shape[1:])

    def describe(self) -> str:
        return describe_output(self.shape)


def network_input_shape(pipeline) -> tuple[int, int, int] | None:
    """The (C, H, W) the network is run at: its preprocessing's size, its declared size, or
    None when it takes any size."""
    spec = pipeline.input_spec
    recipe = spec.preprocess
    if recipe is not None and recipe.size is not None and recipe.resize != "none":
        return (spec.channels, *(int(n) for n in recipe.size))
    return spec.shape


def output_info(pipeline, input_shape=None) -> OutputInfo | None:
    """The last node's output for ``input_shape`` (C, H, W) (default: the network's own size).

    None when the network has no node, takes any size and none is given, or does not fit.
    """
    shape = network_input_shape(pipeline) if input_shape is None else tuple(input_shape)
    if not pipeline.nodes or shape is None:
        return None
    try:
        out = pipeline.shapes(shape)[pipeline.nodes[-1].name]
    except ValueError:  # ShapeError: the layers do not fit this input
        return None
    return OutputInfo(tuple(out), tuple(int(n) for n in shape))


def output_kind(pipeline, input_shape=None) -> str | None:
    """``"classes"`` | ``"map"`` | ``"other"`` for the network's output; None when unknown.

    >>> from engine.graph.pipeline import InputSpec, Pipeline
    >>> from engine.layers import Conv2d
    >>> spec = InputSpec(3, height=32, width=32)
    >>> net = Pipeline.chain([Conv2d(3, 2, 3, padding=1)], input_spec=spec)
    >>> output_kind(net)
    'map'
    """
    info = output_info(pipeline, input_shape)
    return None if info is None else info.kind
