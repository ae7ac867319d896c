"""Gradient maps: saliency, gradient x input, SmoothGrad and guided backpropagation.

All four read d logit_k / d x, the gradient of one class score (the logits, before a final
Softmax) with respect to the input, from one reverse pass of the engine's own autograd
(:func:`engine.graph.autograd.forward_backward` with a one-hot cotangent on the logits).

>>> import numpy as np, engine
>>> from engine.explain import saliency
>>> p = engine.resolve_pipeline("shapes")
>>> e = saliency(p, np.full((3, 64, 64), 0.5, np.float32), target=2)
>>> e.map.shape, e.map.dtype, e.target
((64, 64), dtype('float32'), 2)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engine import ops as F
from engine.explain.core import (
    ExplainError,
    Explanation,
    as_batch,
    check_targets,
    class_scores,
    input_range,
    require_differentiable,
    unbatch,
)
from engine.graph.autograd import BackwardRule, GradResult, forward_backward
from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.layers import Conv2d, Hardtanh, Linear, ReLU

__all__ = ["GUIDED_RULES", "INPUT_ONLY_RULES", "class_gradient", "gradient_x_input",
           "guided_backprop", "saliency", "smoothgrad"]


# An explanation needs d logit / d x, not the weights' gradients that a layer's own backward
# also computes (for a conv, as much work again as its input gradient: ResNet-18's saliency map
# took 240 ms with them and 140 ms without). These rules skip them; tests/engine/explain
# checks that they give the same input gradients as the layers' backward.
def _conv_input_only(layer, grad, saved, params, need_input):
    x, kernel = saved  # what Conv2d.forward_train keeps (the kernel as run: flipped if asked)
    gx, _w, _b = F.conv2d_backward(grad, x, kernel, layer.stride, layer.padding, layer.dilation,
                                   layer.groups, need_input=need_input, need_weight=False,
                                   need_bias=False)
    return (gx,), {}


def _linear_input_only(layer, grad, saved, params, need_input):
    return ((grad @ params["weight"]) if need_input else None,), {}


INPUT_ONLY_RULES: dict[type, BackwardRule] = {Conv2d: _conv_input_only,
                                              Linear: _linear_input_only}


def _one_hot(target: np.ndarray | None):
    """The loss ``logit_k`` summed over the batch; ``k`` the top class when ``target`` is None."""
    def loss(out: np.ndarray, _unused) -> tuple[float, np.ndarray]:
        k = np.argmax(out, axis=1) if target is None else target
        cotangent = np.zeros_like(out)
        cotangent[np.arange(len(out)), k] = 1.0
        return float(np.sum(out[np.arange(len(out)), k], dtype=np.float64)), cotangent
    return loss


def class_gradient(pipeline: Pipeline, x, target=None, *, keep: tuple[str, ...] = (),
                   need_input: bool = True,
                   backward_rules: Mapping[type, BackwardRule] | None = None,
                   ) -> tuple[GradResult, np.ndarray]:
    """One forward and reverse pass for d logit_k / d (input and the nodes in ``keep``).

    Parameters
    ----------
    pipeline : Pipeline
    x : array (N, C, H, W) float32
    target : None (each input's top class), a class index, or one index per input
    keep : node names whose output gradient to return (``result.activation_grads``)
    backward_rules : passed to :func:`engine.graph.autograd.forward_backward`, on top of
        :data:`INPUT_ONLY_RULES` (no weight gradients: ``result.grads`` holds only "input")

    Returns
    -------
    (GradResult, targets)
        ``result.grads["input"]`` is d logit_k / d x; ``result.output`` the logits;
        ``result.outputs`` every node's output; ``targets`` the N class indices used.
    """
    x4 = np.asarray(x, np.float32)
    output, k = check_targets(pipeline, x4, target)
    require_differentiable(pipeline, output, exempt=tuple(backward_rules or ()))
    rules = {**INPUT_ONLY_RULES, **(backward_rules or {})}
    result = forward_backward(pipeline, x4, None, loss=_one_hot(k), output=output, keep=keep,
                              need_input=need_input, backward_rules=rules)
    if k is None:
        k = np.argmax(result.output, axis=1)
    return result, k


def _explained(pipeline, x, target, method: str, reduce, signed=False, rules=None,
               settings=None) -> Explanation:
    x4, batched = as_batch(pipeline, x)
    result, k = class_gradient(pipeline, x4, target, backward_rules=rules)
    grad = result.grads["input"]
    attribution, heat = reduce(grad, x4)
    k, score, prob = class_scores(result.output, k)
    return Explanation(
        map=np.ascontiguousarray(heat if batched else heat[0], dtype=np.float32),
        target=unbatch(k, batched, int), score=unbatch(score, batched),
        probability=unbatch(prob, batched), method=method, settings=settings or {},
        attribution=attribution if batched else attribution[0], signed=signed)


def _saliency_of(grad: np.ndarray) -> np.ndarray:
    return np.abs(grad).max(axis=1)  # (N, H, W)


def saliency(pipeline: Pipeline, x, target=None) -> Explanation:
    """Saliency (Simonyan et al. 2014): ``max over channels of |d logit_k / d x|``.

    ``map`` is ``(H, W)`` (``(N, H, W)`` for a batch); ``attribution`` the signed gradient.
    """
    return _explained(pipeline, x, target, "saliency",
                      lambda g, x4: (g, _saliency_of(g)))


def gradient_x_input(pipeline: Pipeline, x, target=None) -> Explanation:
    """Gradient x input: ``x * d logit_k / d x`` per channel; ``map`` is its sum over channels.

    Signed: positive where the pixel's value raises the class score.
    """
    def reduce(g, x4):
        a = g * x4
        return a, a.sum(axis=1)
    return _explained(pipeline, x, target, "gradxinput", reduce, signed=True)


GUIDED_RULES: dict[type, BackwardRule] = {}


def _guided(layer, grad, saved, params, need_input):
    """Guided backpropagation's rule: only positive gradients pass back through a ReLU."""
    if isinstance(layer, Hardtanh) and layer.min_val != 0:  # a clip, not a ReLU6
        return layer.backward(grad, saved, params, need_input=need_input)
    return layer.backward(np.maximum(grad, 0.0), saved, params, need_input=need_input)


GUIDED_RULES.update({ReLU: _guided, Hardtanh: _guided})  # Hardtanh(0, 6) is ReLU6


def guided_backprop(pipeline: Pipeline, x, target=None) -> Explanation:
    """Guided backpropagation (Springenberg et al. 2015) for ReLU networks.

    The gradient of the class score, except that at every ReLU (and ReLU6) the gradient flowing
    back is zeroed where it is negative, as well as where the input was negative: the pixels
    that excite the class through positive paths. ``attribution`` is that signed gradient
    (shown as an image); ``map`` its maximum absolute value over channels.
    """
    if not any(isinstance(node.layer, tuple(GUIDED_RULES)) for node in pipeline):
        raise ExplainError(_("guided backpropagation needs a network with ReLU layers; this"
                             " one has none (try saliency)"))
    return _explained(pipeline, x, target, "guided", lambda g, x4: (g, _saliency_of(g)),
                      rules=GUIDED_RULES)


def smoothgrad(pipeline: Pipeline, x, target=None, n: int = 25, sigma: float = 0.15,
               seed: int = 0, batch: int = 16) -> Explanation:
    """SmoothGrad (Smilkov et al. 2017): the mean saliency over ``n`` noisy copies of ``x``.

    Parameters
    ----------
    n : int
        Noisy copies per input.
    sigma : float
        The noise's standard deviation as a fraction of the input range
        (:func:`engine.explain.core.input_range`, per channel).
    seed : int
        Copy ``j`` of input ``i`` is ``x_i + sigma * range * z`` with ``z`` the ``j``-th of
        ``numpy.random.default_rng(seed).standard_normal((n, C, H, W))`` drawn for input ``i``
        (inputs in order from one generator).
    batch : int
        Copies run through the network this many at a time.

    The class (by default the top class of the clean input) is the same for every copy;
    ``score`` and ``probability`` are the clean input's. ``attribution`` is the mean gradient.
    """
    if int(n) < 1 or not np.isfinite(sigma) or sigma < 0 or int(batch) < 1:
        raise ExplainError(_("SmoothGrad needs n >= 1 copies, a noise level sigma >= 0 and a"
                             " batch >= 1; got n={n}, sigma={sigma}, batch={batch}")
                           .format(n=n, sigma=sigma, batch=batch))
    n, batch = int(n), int(batch)
    x4, batched = as_batch(pipeline, x)
    output, k = check_targets(pipeline, x4, target)
    logits = pipeline.forward(x4)[output]
    k, score, prob = class_scores(logits, k)
    lo, hi = input_range(pipeline)
    scale = (np.float32(sigma) * (hi - lo)).astype(np.float32)  # (C, 1, 1)
    rng = np.random.default_rng(seed)
    maps = np.zeros((len(x4), *x4.shape[2:]), np.float32)
    grads = np.zeros_like(x4)
    for i, xi in enumerate(x4):
        noise = rng.standard_normal((n, *xi.shape)).astype(np.float32)
        for start in range(0, n, batch):
            copies = xi + scale * noise[start:start + batch]  # (b, C, H, W)
            result, _k = class_gradient(pipeline, copies, int(k[i]))
            g = result.grads["input"]
            maps[i] += _saliency_of(g).sum(axis=0)
            grads[i] += g.sum(axis=0)
    maps /= n
    grads /= n
    return Explanation(
        map=maps if batched else maps[0], target=unbatch(k, batched, int),
        score=unbatch(score, batched), probability=unbatch(prob, batched), method="smoothgrad",
        settings={"n": n, "sigma": float(sigma), "seed": int(seed)},
        attribution=grads if batched else grads[0])
