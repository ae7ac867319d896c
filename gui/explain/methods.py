"""The Explain panel's methods as data, and the Qt-free checks that decide which ones apply.

A method is one line of :data:`METHODS`: its engine name, its label and tooltip (marked for
translation, translated where shown), whether it follows the live frame or runs on request
with progress and Cancel, and whether it needs gradients (a network with a layer that cannot
be differentiated gets occlusion instead).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.explain import input_shape, map_layers, non_differentiable
from engine.graph.autograd import logits_node
from engine.i18n import N_, _

__all__ = ["METHODS", "Method", "class_count", "gradcam_layers", "method",
           "not_differentiable_text", "percent"]


@dataclass(frozen=True)
class Method:
    """One explanation method of the "Why this class?" tab."""

    key: str  # engine.explain's name for it ("saliency", "gradcam", ...)
    label: str  # N_-marked
    tooltip: str  # N_-marked
    live: bool  # follows every new frame; else runs on request (Run, progress, Cancel)
    gradient: bool  # needs a backward pass through every layer
    signed: bool = False  # the map has a meaningful sign: a diverging colormap


METHODS: tuple[Method, ...] = (
    Method("saliency", N_("Saliency"),
           N_("How strongly each pixel changes the class score: the largest |d score / d pixel|"
              " over the colour channels. Follows the live frame."), True, True),
    Method("gradxinput", N_("Gradient × input"),
           N_("Each pixel's value times the gradient, summed over the channels: red where the"
              " pixel raises the class score, blue where it lowers it. Follows the live"
              " frame."), True, True, signed=True),
    Method("smoothgrad", N_("SmoothGrad"),
           N_("Saliency averaged over noisy copies of the frame: less speckle. Runs on request"
              " on the frame shown."), False, True),
    Method("gradcam", N_("Grad-CAM"),
           N_("Where a layer's maps point the class score: each map weighted by the mean"
              " gradient of the score, summed, negative parts cut. Follows the live frame."),
           True, True),
    Method("guided", N_("Guided backprop"),
           N_("The gradient with only positive paths kept at every ReLU: the edges and details"
              " that excite the class. Follows the live frame."), True, True),
    Method("occlusion", N_("Occlusion"),
           N_("Hide a grey patch at every position and watch the class probability drop. Needs"
              " no gradients, so it works on every network. Runs on request."), False, False,
           signed=True),
    Method("fgsm", N_("FGSM (adversarial)"),
           N_("The fast gradient sign method: move every pixel by epsilon against the class and"
              " see whether the answer changes. Follows the live frame."), True, True),
)


def method(key: str) -> Method:
    """The method called ``key``."""
    for m in METHODS:
        if m.key == key:
            return m
    raise KeyError(key)


def class_count(pipeline, shape=None) -> int | None:
    """The number of classes the network scores, or None when it does not end in class scores.

    ``shape`` is the input's (C, H, W); the network's own size (or 64 x 64) when omitted.
    """
    if not pipeline.nodes:
        return None
    shape = tuple(shape) if shape is not None else input_shape(pipeline)
    try:
        out = pipeline.shapes(shape)[logits_node(pipeline)]
    except (ValueError, KeyError):
        return None
    return int(out[0]) if len(out) == 1 and out[0] >= 2 else None


def gradcam_layers(pipeline, shape) -> list[str]:
    """The layers Grad-CAM can use: maps (C, h, w) larger than 1 x 1 the scores depend on."""
    try:
        shapes = pipeline.shapes(tuple(shape))
        return [name for name in map_layers(pipeline, shape)
                if shapes[name][1] * shapes[name][2] > 1]
    except (ValueError, KeyError):
        return []


def not_differentiable_text(pipeline) -> str:
    """"" when gradients reach the input, else a sentence naming the layers that stop them."""
    try:
        names = non_differentiable(pipeline)
    except (ValueError, KeyError):
        return ""
    if not names:
        return ""
    described = ", ".join(
        _("{name} ({type})").format(name=n, type=pipeline[n].layer.type_name) for n in names)
    return _("This network has a layer that cannot be differentiated: {layers}. The gradient"
             " methods are off; occlusion needs no gradients.").format(layers=described)


def percent(p: float) -> str:
    """A probability for a caption: whole percents, a decimal below 10%, never a bare 0%.

    >>> percent(0.836), percent(0.0123), percent(0.00001)
    ('84%', '1.2%', '< 0.1%')
    """
    if p >= 0.0995:
        return f"{p:.0%}"
    return f"{p:.1%}" if p >= 0.0005 else "< 0.1%"
