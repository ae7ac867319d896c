"""Why convolutions: a conv layer's parameter count against fully connected layers.

Two ideas make a conv layer small. Local connectivity: an output unit looks at a k x k x C
window, not at the whole input. Weight sharing: every position of a map uses the same filter,
so the layer stores n x (k x k x C + 1) numbers however large the image is. A
:class:`Comparison` puts those numbers beside two fully connected layers on the same input:
one straight to the conv layer's output volume, and the lecture's count (one same-size fully
connected layer per filter). The counts come from :mod:`engine.ops.shapes`.

Examples
--------
>>> cmp = lecture_comparison((3, 32, 32), 10, 5, padding=2)
>>> cmp.conv, cmp.lecture, cmp.out_shape
(760, 94402560, (10, 32, 32))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.i18n import _, format_number
from engine.layers import Conv2d
from engine.ops.shapes import conv_params, dense_params, fc_equivalent_params, pair

__all__ = ["Comparison", "comparison_for_layer", "lecture_comparison", "nearest_conv_index"]


@dataclass(frozen=True)
class Comparison:
    """The counts for one conv layer on one input volume, and the fully connected ones."""

    title: str
    in_shape: tuple[int, int, int]   # (C, H, W)
    out_shape: tuple[int, int, int]  # (n, H', W')
    kernel: tuple[int, int]
    conv: int                        # n x (kh x kw x C/g + 1)
    conv_formula: str
    dense: int                       # (C*H*W + 1) x (n*H'*W'): straight to the output volume
    lecture: int                     # the lecture's count (C*H*W + 1) x (C*H*W) x n
    lecture_formula: str
    fan_in: int                      # inputs one output unit sees: kh x kw x C/g
    connections: int                 # output units x fan_in

    @property
    def sharing(self) -> float:
        """How many connections each stored weight serves, on average."""
        return self.connections / self.conv


def _compare(title: str, layer: Conv2d, in_shape) -> Comparison:
    """The counts for ``layer`` on an input of ``in_shape`` (C, H, W)."""
    c, h, w = in_shape
    n = layer.out_channels
    out_shape = layer.out_shape((c, h, w))
    kh, kw = pair(layer.kernel_size)
    per_group = c // layer.groups
    conv = conv_params(c, n, (kh, kw), layer.groups, layer.bias is not None)
    lecture = fc_equivalent_params((c, h, w), n)
    fan_in = kh * kw * per_group
    return Comparison(
        title, (c, h, w), out_shape, (kh, kw), conv, layer.params_formula((c, h, w)),
        dense_params(c * h * w, math.prod(out_shape)),
        lecture, f"({h} x {w} x {c} + 1) x ({h} x {w} x {c}) x {n} = {format_number(lecture)}",
        fan_in, math.prod(out_shape) * fan_in)


def lecture_comparison(in_shape, n_filters, kernel_size, stride=1, padding=0,
                       title="") -> Comparison:
    """A conv layer given by its hyperparameters, e.g. the lecture's 32x32x3 with ten 5x5.

    Parameters
    ----------
    in_shape : (C, H, W)
    n_filters, kernel_size, stride, padding : int
        As for :class:`engine.layers.Conv2d` (no dilation, no groups, with a bias).
    title : str
        Carried along for the caller's display.

    Examples
    --------
    >>> cmp = lecture_comparison((3, 200, 200), 3, 5, padding=2)
    >>> cmp.dense
    14400120000
    """
    c, h, w = in_shape
    layer = Conv2d(c, n_filters, kernel_size, stride=stride, padding=padding)
    return _compare(title, layer, (c, h, w))


def nearest_conv_index(pipeline, index: int) -> int | None:
    """The Conv2d node at ``index``, else the nearest one before it, else the first after it.

    Returns None when the pipeline has no Conv2d node.

    Examples
    --------
    >>> from engine.layers import Conv2d, MaxPool2d, ReLU
    >>> from engine.graph.pipeline import Pipeline
    >>> p = Pipeline.chain([MaxPool2d(2), Conv2d(3, 4, 3), ReLU()])
    >>> nearest_conv_index(p, 2), nearest_conv_index(p, 0)
    (1, 1)
    """
    nodes = pipeline.nodes
    if not 0 <= index < len(nodes):
        raise ValueError(_("layer {index} does not exist: the pipeline has {count} layers, "
                           "numbered 0 to {last}").format(
            index=index, count=len(nodes), last=len(nodes) - 1))
    order = [*range(index, -1, -1), *range(index + 1, len(nodes))]
    return next((i for i in order if nodes[i].layer.type_name == "Conv2d"), None)


def comparison_for_layer(pipeline, index: int, input_shape) -> Comparison | None:
    """The comparison for the conv layer at ``index`` or the nearest one (earlier first).

    ``input_shape`` (C, H, W) is the pipeline's input; None if the pipeline has no conv layer.
    A pipeline that does not fit the input raises :class:`engine.ops.shapes.ShapeError`.
    """
    conv_i = nearest_conv_index(pipeline, index)
    if conv_i is None:
        return None
    node = pipeline.nodes[conv_i]
    shapes = {pipeline.input_name: tuple(input_shape), **pipeline.shapes(input_shape)}
    return _compare(f"{node.name}: {node.layer!r}", node.layer, shapes[node.inputs[0]])
