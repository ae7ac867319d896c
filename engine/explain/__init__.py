"""Why did it say that? Explanations of a classifier's decision, as arrays.

Every explanation is a function of ``(pipeline, x, target)``: ``x`` is the network's input as
:func:`engine.frame_to_input` makes it (``(C, H, W)`` or a batch ``(N, C, H, W)``, float32, in
the network's input scale) and ``target`` a class (default: the top class of the logits, the
scores before a final Softmax). The command line (``cnn-explorer explain``), the tests and the
window all call the same functions; a view only overlays what they return
(:mod:`engine.explain.overlay`).

- :func:`saliency`, :func:`gradient_x_input`, :func:`smoothgrad`, :func:`guided_backprop`
  (gradients.py), :func:`grad_cam` (gradcam.py) -> :class:`Explanation`
- :func:`occlusion` (occlusion.py): no gradients, works on every network -> :class:`Explanation`
- :func:`maximize` (maximize.py): activation maximization -> :class:`Maximized`
- :func:`top_patches` (patches.py): the top-k inputs per channel -> :class:`TopPatches`
- :func:`fgsm`, :func:`fgsm_sweep` (adversarial.py) -> :class:`Adversarial`
- :mod:`engine.explain.inputs`: pictures, folders and videos as inputs (imported on use: it
  loads OpenCV); :mod:`engine.explain.overlay`: maps as pictures

A layer without a backward pass on the way to the class scores makes the gradient methods
raise :class:`NotDifferentiableLayer` (an :class:`engine.layers.NotDifferentiable`) naming it;
:func:`non_differentiable` lists such layers beforehand, so a view can offer occlusion instead.
"""

from engine.explain.adversarial import Adversarial, fgsm, fgsm_sweep
from engine.explain.core import (
    Cancelled,
    ExplainError,
    Explanation,
    NotDifferentiableLayer,
    grey_value,
    input_range,
    input_shape,
    map_layers,
    non_differentiable,
)
from engine.explain.gradcam import default_cam_layer, grad_cam
from engine.explain.gradients import (
    class_gradient,
    gradient_x_input,
    guided_backprop,
    saliency,
    smoothgrad,
)
from engine.explain.maximize import Maximized, MaximizeStep, maximize
from engine.explain.occlusion import occlusion
from engine.explain.patches import Patch, TopPatches, crop, top_patches

METHODS = ("saliency", "gradxinput", "smoothgrad", "gradcam", "guided", "occlusion")
"""The methods that return an :class:`Explanation` map, by their command-line names."""


def explain(pipeline, x, method: str = "saliency", target=None, **settings) -> Explanation:
    """Run the map method named ``method`` (one of :data:`METHODS`) with its settings.

    >>> import numpy as np, engine
    >>> e = explain(engine.resolve_pipeline("shapes"), np.zeros((3, 64, 64), np.float32),
    ...             "gradcam", layer="conv2")
    >>> e.method, e.layer, e.map.shape
    ('gradcam', 'conv2', (32, 32))
    """
    functions = {"saliency": saliency, "gradxinput": gradient_x_input, "smoothgrad": smoothgrad,
                 "gradcam": grad_cam, "guided": guided_backprop, "occlusion": occlusion}
    if method not in functions:
        from engine.i18n import _

        raise ExplainError(_("unknown method {method!r}; choose one of {methods}")
                           .format(method=method, methods=", ".join(METHODS)))
    return functions[method](pipeline, x, target, **settings)


__all__ = [
    "METHODS",
    "Adversarial",
    "Cancelled",
    "ExplainError",
    "Explanation",
    "MaximizeStep",
    "Maximized",
    "NotDifferentiableLayer",
    "Patch",
    "TopPatches",
    "class_gradient",
    "crop",
    "default_cam_layer",
    "explain",
    "fgsm",
    "fgsm_sweep",
    "grad_cam",
    "gradient_x_input",
    "grey_value",
    "guided_backprop",
    "input_range",
    "input_shape",
    "map_layers",
    "maximize",
    "non_differentiable",
    "occlusion",
    "saliency",
    "smoothgrad",
    "top_patches",
]
