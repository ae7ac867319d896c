"""What every explanation shares: the result type, targets, the input's range, layer checks.

An explanation is a function of ``(pipeline, x, target)``: ``x`` is the network's input as
:func:`engine.frame_to_input` makes it, ``(C, H, W)`` or a batch ``(N, C, H, W)`` of float32 in
the network's own input scale; ``target`` is a class index (default: the top class of the
logits, the scores before a final Softmax, :func:`engine.graph.autograd.logits_node`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.graph.autograd import ancestors, logits_node
from engine.graph.output import describe_output
from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.layers import LayerError, NotDifferentiable
from engine.ops import softmax
from engine.ops.shapes import ShapeError

__all__ = [
    "Cancelled",
    "ExplainError",
    "Explanation",
    "NotDifferentiableLayer",
    "as_batch",
    "class_scores",
    "grey_value",
    "input_range",
    "input_shape",
    "map_layers",
    "non_differentiable",
    "require_differentiable",
]


class ExplainError(ValueError):
    """A request an explanation cannot serve (unknown layer, channel out of range, ...)."""


class Cancelled(Exception):
    """A long explanation stopped because its ``stop()`` callback said so."""


def pair(value, what: str) -> tuple[int, int]:
    """An int or an (h, w) pair of ints >= 1, as a pair; :class:`ExplainError` otherwise."""
    items = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(items) != 2 or not all(float(v).is_integer() and v >= 1 for v in items):
        raise ExplainError(_("the {what} must be a whole number >= 1 or a pair of them, not"
                             " {value!r}").format(what=what, value=value))
    return int(items[0]), int(items[1])


class NotDifferentiableLayer(NotDifferentiable):
    """A layer on the path to the explained output has no backward pass; names it."""

    def __init__(self, index: int, name: str, type_name: str):
        LayerError.__init__(self, _(
            "layer {index} ({name}, {type}) cannot be differentiated, so gradient methods"
            " cannot explain this network; occlusion needs no gradients").format(
                index=index, name=name, type=type_name))
        self.type_name, self.node_name, self.node_index = type_name, name, index


@dataclass(frozen=True, eq=False)
class Explanation:
    """One explanation map and what it explains.

    ``map`` is float32, ``(H, W)`` for one input and ``(N, H, W)`` for a batch: at the
    network input's resolution, except Grad-CAM's, which is at its layer's (see
    :func:`engine.explain.overlay.upsample`). ``target``, ``score`` (the class's logit) and
    ``probability`` (its softmax) are numbers for one input, tuples for a batch.
    ``attribution`` holds the signed per-channel array the map was reduced from, shaped like
    ``x``, for the gradient methods (None for the others); ``signed`` says the map has a
    meaningful sign (show it with a diverging colormap).
    """

    map: np.ndarray
    target: int | tuple[int, ...]
    score: float | tuple[float, ...]
    probability: float | tuple[float, ...]
    method: str
    layer: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    attribution: np.ndarray | None = field(default=None, repr=False)
    signed: bool = False

    def to_dict(self, class_names: Sequence[str] | None = None) -> dict:
        """The JSON-able summary (no arrays): method, class index and name, score, layer..."""
        def name(k):
            return class_names[k] if class_names is not None and k < len(class_names) else None

        batched = isinstance(self.target, tuple)
        return {
            "method": self.method,
            "class": list(self.target) if batched else self.target,
            "class_name": [name(k) for k in self.target] if batched else name(self.target),
            "score": list(self.score) if batched else self.score,
            "probability": list(self.probability) if batched else self.probability,
            "layer": self.layer,
            "map_shape": list(self.map.shape),
            "signed": self.signed,
            "settings": dict(self.settings),
        }


def as_batch(pipeline: Pipeline, x) -> tuple[np.ndarray, bool]:
    """``(x as a float32 (N, C, H, W) batch, whether it came batched)``; shapes checked."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim not in (3, 4):
        raise ShapeError(_("the input must be (C, H, W) or (N, C, H, W), got shape {shape}")
                         .format(shape=x.shape))
    batched = x.ndim == 4
    x4 = x if batched else x[None]
    pipeline.shapes(x4.shape[1:])  # a clear message naming the layer that does not fit
    return np.ascontiguousarray(x4), batched


def input_shape(pipeline: Pipeline, default: tuple[int, int] = (64, 64)) -> tuple[int, int, int]:
    """The network's (C, H, W): its preprocessing's size, its declared size, else ``default``."""
    spec = pipeline.input_spec
    recipe = spec.preprocess
    if recipe is not None and recipe.size is not None and recipe.resize != "none":
        h, w = recipe.size
    elif spec.height and spec.width:
        h, w = spec.height, spec.width
    else:
        h, w = default
    return spec.channels, int(h), int(w)


def _pixel_value(pipeline: Pipeline, pixel: float) -> np.ndarray:
    """What a grey level ``pixel`` (0-255) in every colour channel becomes, per channel."""
    spec = pipeline.input_spec
    recipe = spec.preprocess
    c = spec.channels
    if recipe is None:
        return np.full(c, pixel / 255.0, np.float64)
    p = 255.0 - pixel if recipe.invert else pixel
    mean = np.broadcast_to(np.asarray(recipe.mean, np.float64), (c,))
    std = np.broadcast_to(np.asarray(recipe.std, np.float64), (c,))
    return (p * recipe.scale - mean) / std


def input_range(pipeline: Pipeline) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest input value per channel, ``(C, 1, 1)`` float32 each.

    What black and white pixels become through the network's preprocessing ([0, 1] for the
    app's own convention). SmoothGrad's noise and FGSM's epsilon are fractions of this range;
    FGSM clips to it, so an adversarial input is still a picture.
    """
    black, white = _pixel_value(pipeline, 0.0), _pixel_value(pipeline, 255.0)
    lo, hi = np.minimum(black, white), np.maximum(black, white)
    return (lo.astype(np.float32)[:, None, None], hi.astype(np.float32)[:, None, None])


def grey_value(pipeline: Pipeline) -> np.ndarray:
    """Mid-grey in the network's input scale, ``(C, 1, 1)``: the middle of :func:`input_range`."""
    lo, hi = input_range(pipeline)
    return (lo + hi) / 2


def _logits_shape(pipeline: Pipeline, shape) -> tuple[str, int]:
    name = logits_node(pipeline)
    out = pipeline.shapes(shape)[name]
    if len(out) != 1:
        raise ExplainError(_(
            "explanations need a classifier: the last layer ({name}) gives {description}, not a"
            " vector of class scores").format(name=name, description=describe_output(out)))
    return name, out[0]


def check_targets(pipeline: Pipeline, x4: np.ndarray, target) -> tuple[str, np.ndarray | None]:
    """The logits node, and ``target`` as N class indices (None: the top class, found later)."""
    name, classes = _logits_shape(pipeline, x4.shape[1:])
    if target is None:
        return name, None
    k = np.asarray(target)
    if k.ndim == 0:
        k = np.full(len(x4), k)
    if k.shape != (len(x4),) or not (np.issubdtype(k.dtype, np.integer) or np.all(k % 1 == 0)):
        raise ExplainError(_("the class must be one whole number per input, got {target!r}")
                           .format(target=target))
    k = k.astype(np.int64)
    bad = k[(k < 0) | (k >= classes)]
    if bad.size:
        raise ExplainError(_("class {k} does not exist: this network has {n} classes (0 to"
                             " {top})").format(k=int(bad[0]), n=classes, top=classes - 1))
    return name, k


def class_scores(logits: np.ndarray, target: np.ndarray | None):
    """``(targets, scores, probabilities)`` per input from logits ``(N, K)``."""
    k = np.argmax(logits, axis=1) if target is None else target
    rows = np.arange(len(logits))
    probs = softmax(logits.astype(np.float32), -1)
    return k.astype(np.int64), logits[rows, k].astype(np.float64), probs[rows, k].astype(
        np.float64)


def unbatch(values, batched: bool, kind=float):
    """A tuple for a batch, the single value for one input."""
    values = tuple(kind(v) for v in values)
    return values if batched else values[0]


def non_differentiable(pipeline: Pipeline, output: str | None = None,
                       exempt: Sequence[type] = ()) -> list[str]:
    """Names of the nodes ``output`` (default: the logits) depends on that have no backward.

    A view can call this before offering the gradient methods (and offer occlusion instead).
    """
    needed = ancestors(pipeline, output or logits_node(pipeline))
    return [node.name for node in pipeline if node.name in needed
            and not node.layer.differentiable and not isinstance(node.layer, tuple(exempt))]


def require_differentiable(pipeline: Pipeline, output: str | None = None,
                           exempt: Sequence[type] = ()) -> None:
    """Raise :class:`NotDifferentiableLayer` naming the first layer without a backward."""
    bad = non_differentiable(pipeline, output, exempt)
    if bad:
        node = pipeline[bad[0]]
        raise NotDifferentiableLayer(pipeline.index(node.name), node.name, node.layer.type_name)


def check_layer(pipeline: Pipeline, layer: str) -> str:
    """``layer`` if the pipeline has a node of that name, else :class:`ExplainError`."""
    names = [node.name for node in pipeline]
    if layer in names:
        return layer
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    raise ExplainError(_("there is no layer called {name!r}; the layers are: {names}")
                       .format(name=layer, names=shown))


def map_layers(pipeline: Pipeline, shape) -> list[str]:
    """Nodes the logits depend on whose output is maps ``(C, H, W)``: Grad-CAM's choices."""
    shapes = pipeline.shapes(tuple(shape))
    needed = ancestors(pipeline, logits_node(pipeline))
    return [node.name for node in pipeline if node.name in needed
            and len(shapes[node.name]) == 3]
