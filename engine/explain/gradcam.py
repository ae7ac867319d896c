"""Grad-CAM (Selvaraju et al. 2017): where a layer's maps point the class score.

For a layer with maps ``A`` of shape ``(C, h, w)``: ``alpha_c`` is the mean over positions of
d logit_k / d A_c, and the map is ``ReLU(sum_c alpha_c A_c)`` at the layer's resolution
(:func:`engine.explain.overlay.upsample` enlarges it over the frame, bilinearly).

>>> import numpy as np, engine
>>> from engine.explain import grad_cam
>>> e = grad_cam(engine.resolve_pipeline("shapes"), np.full((3, 64, 64), 0.5, np.float32))
>>> e.layer, e.map.shape
('relu3', (16, 16))
"""

from __future__ import annotations

import numpy as np

from engine.explain.core import (
    ExplainError,
    Explanation,
    as_batch,
    check_layer,
    class_scores,
    map_layers,
    unbatch,
)
from engine.explain.gradients import class_gradient
from engine.graph.pipeline import Pipeline
from engine.i18n import _

__all__ = ["default_cam_layer", "grad_cam"]


def default_cam_layer(pipeline: Pipeline, shape) -> str:
    """The last layer before the classifier's head that still has maps larger than 1 x 1.

    ``shape`` is the input's (C, H, W). Prefers the output of an activation that follows a
    conv (as the paper uses the last conv layer's rectified maps); raises
    :class:`ExplainError` for a network without maps.
    """
    shapes = pipeline.shapes(tuple(shape))
    spatial = [name for name in map_layers(pipeline, shape)
               if shapes[name][1] * shapes[name][2] > 1]
    if not spatial:
        raise ExplainError(_("Grad-CAM needs a layer with maps (C, H, W) larger than 1 x 1;"
                             " this network has none"))
    # The last such layer, but skip a pool that merely halves the last conv's maps: Grad-CAM
    # is usually read at the last conv block's full resolution.
    last = spatial[-1]
    node = pipeline[last]
    if node.layer.type_name in ("MaxPool2d", "AvgPool2d") and node.inputs[0] in spatial:
        return node.inputs[0]
    return last


def grad_cam(pipeline: Pipeline, x, target=None, layer: str | None = None) -> Explanation:
    """Grad-CAM of ``layer`` (default :func:`default_cam_layer`) for class ``target``.

    Returns
    -------
    Explanation
        ``map`` is ``(h, w)`` (``(N, h, w)`` for a batch), non-negative, at the layer's own
        resolution; ``layer`` names it.
    """
    x4, batched = as_batch(pipeline, x)
    if layer is None:
        layer = default_cam_layer(pipeline, x4.shape[1:])
    check_layer(pipeline, layer)
    shape = pipeline.shapes(x4.shape[1:])[layer]
    if len(shape) != 3:
        raise ExplainError(_("Grad-CAM needs a layer with maps (C, H, W); {name} gives shape"
                             " {shape}").format(name=layer, shape=shape))
    if layer not in map_layers(pipeline, x4.shape[1:]):
        raise ExplainError(_("the class scores do not depend on {name}, so Grad-CAM cannot"
                             " use it").format(name=layer))
    result, k = class_gradient(pipeline, x4, target, keep=(layer,), need_input=False)
    maps = result.outputs[layer]  # (N, C, h, w)
    grads = result.activation_grads[layer]  # (N, C, h, w)
    alpha = grads.mean(axis=(2, 3), dtype=np.float64)  # (N, C)
    cam = np.einsum("nc,nchw->nhw", alpha, maps.astype(np.float64))
    cam = np.maximum(cam, 0.0).astype(np.float32)  # (N, h, w)
    k, score, prob = class_scores(result.output, k)
    return Explanation(
        map=cam if batched else cam[0], target=unbatch(k, batched, int),
        score=unbatch(score, batched), probability=unbatch(prob, batched), method="gradcam",
        layer=layer)
