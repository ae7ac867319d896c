"""Getting a network ready to train: fresh weights, a head sized to the classes, fit checks."""

from __future__ import annotations

import dataclasses

from engine.graph.autograd import logits_node
from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.layers import BatchNorm2d, Conv2d, Linear
from engine.train.dataset import ArrayDataset, DatasetError

__all__ = ["NetworkMismatch", "check_fits", "fit_head", "input_size", "reinitialize"]


class NetworkMismatch(DatasetError):
    """The network cannot be trained on this data as it is (channels, size or classes)."""


def input_size(pipeline: Pipeline, default: tuple[int, int] = (64, 64)) -> tuple[int, int]:
    """The (height, width) training pictures are made at: the network's own, else ``default``."""
    spec = pipeline.input_spec
    if spec.preprocess is not None and spec.preprocess.size is not None:
        return tuple(spec.preprocess.size)
    if spec.height and spec.width:
        return spec.height, spec.width
    return default


def _head(pipeline: Pipeline):
    """The node whose output is the class scores, and its layer."""
    name = logits_node(pipeline)
    return pipeline[name], pipeline.index(name)


def check_fits(pipeline: Pipeline, data: ArrayDataset) -> None:
    """Raise :class:`NetworkMismatch` naming what to change when ``pipeline`` cannot learn
    ``data``: its input channels or size, or an output that is not one score per class."""
    h, w, c = data.images.shape[1:]
    if c != pipeline.input_spec.channels:
        raise NetworkMismatch(_("The network takes {net} input channel(s) but the pictures have"
                                " {data}").format(net=pipeline.input_spec.channels, data=c))
    try:
        shape = pipeline.shapes((c, h, w))[logits_node(pipeline)]
    except ValueError as error:
        raise NetworkMismatch(_("The network does not fit {h}x{w} pictures: {reason}")
                              .format(h=h, w=w, reason=error)) from None
    classes = len(data.class_names)
    node, index = _head(pipeline)
    if shape != (classes,):
        raise NetworkMismatch(_("The network's output layer {index} ({name}, {type}) gives"
                                " {shape} but the data has {classes} classes; change it to"
                                " give {classes} scores, or train with fresh weights (--init),"
                                " which sizes it").format(index=index, name=node.name,
                                                          type=node.layer.type_name,
                                                          shape=shape, classes=classes))


def fit_head(pipeline: Pipeline, classes: int, seed: int = 0) -> Pipeline:
    """``pipeline`` with its last Linear layer giving ``classes`` scores (fresh weights there).

    Unchanged when it already does; :class:`NetworkMismatch` when the output is not a Linear.
    """
    node, index = _head(pipeline)
    layer = node.layer
    if not isinstance(layer, Linear):
        raise NetworkMismatch(_("The network's output layer {index} ({name}, {type}) is not a"
                                " Linear layer, so it cannot be sized to {classes} classes")
                              .format(index=index, name=node.name, type=layer.type_name,
                                      classes=classes))
    if layer.out_features == classes:
        return pipeline
    new = layer.replace(out_features=classes, seed=seed, bias_values=None)
    return pipeline.replace_layer(index, new)


def reinitialize(pipeline: Pipeline, seed: int = 0) -> Pipeline:
    """Fresh weights everywhere, drawn from ``seed`` (each layer its own stream): conv and
    linear layers from their initializers with zero biases, batch norms back to the start."""
    nodes = []
    for i, node in enumerate(pipeline):
        layer = node.layer
        if isinstance(layer, Conv2d | Linear):
            extra = {"bias_values": None} if layer.bias is not None else {}
            layer = layer.replace(seed=(seed * 1000 + i) % 2**31, **extra)
        elif isinstance(layer, BatchNorm2d):
            layer = BatchNorm2d(layer.num_features, eps=layer.eps)
        nodes.append(dataclasses.replace(node, layer=layer))
    return pipeline._with_nodes(nodes)
