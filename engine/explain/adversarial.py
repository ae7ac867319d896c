"""Adversarial examples by the fast gradient sign method (Goodfellow et al. 2015).

``x_adv = clip(x + epsilon * range * sign(d loss / d x), low, high)`` where the loss is the
cross-entropy of the class (default: the top class) and ``range``, ``low``, ``high`` are the
input's range per channel (:func:`engine.explain.core.input_range`). So ``epsilon`` is a
fraction of the input range: 1/255 moves every pixel by one grey level, too little to see, and
often enough to change the answer.

>>> import numpy as np, engine
>>> from engine.explain import fgsm
>>> a = fgsm(engine.resolve_pipeline("shapes"), np.full((3, 64, 64), 0.5, np.float32), 2 / 255)
>>> a.image.shape, float(np.abs(a.perturbation).max()) <= 2 / 255 + 1e-6
((3, 64, 64), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.explain.core import (
    ExplainError,
    as_batch,
    check_targets,
    class_scores,
    input_range,
    require_differentiable,
    unbatch,
)
from engine.explain.gradients import INPUT_ONLY_RULES
from engine.graph.autograd import forward_backward
from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.ops import cross_entropy, softmax

__all__ = ["Adversarial", "fgsm", "fgsm_sweep"]


@dataclass(frozen=True, eq=False)
class Adversarial:
    """One adversarial input and what the network makes of it.

    Numbers are tuples for a batch. ``target`` is the class whose loss was raised (the
    original top class unless told); ``predicted`` and ``probability`` the new top class and
    its probability; ``flipped``: the top class changed.
    """

    image: np.ndarray          # (C, H, W) float32, the adversarial input (network scale)
    perturbation: np.ndarray   # image - x
    epsilon: float
    original: int | tuple[int, ...]              # the top class of x
    original_probability: float | tuple[float, ...]
    target: int | tuple[int, ...]
    target_probability: float | tuple[float, ...]   # the target class's, on the new input
    predicted: int | tuple[int, ...]
    probability: float | tuple[float, ...]
    flipped: bool | tuple[bool, ...]

    def to_dict(self, class_names: Sequence[str] | None = None) -> dict:
        """JSON-able summary (no arrays); class names added when given."""
        def name(k):
            if isinstance(k, tuple):
                return [name(i) for i in k]
            return class_names[k] if class_names is not None and k < len(class_names) else None

        def plain(v):
            return list(v) if isinstance(v, tuple) else v

        return {"method": "fgsm", "epsilon": self.epsilon,
                "class": plain(self.original), "class_name": name(self.original),
                "probability": plain(self.original_probability),
                "target": plain(self.target),
                "target_probability": plain(self.target_probability),
                "new_class": plain(self.predicted), "new_class_name": name(self.predicted),
                "new_probability": plain(self.probability), "flipped": plain(self.flipped),
                "image_shape": list(self.image.shape)}


def _direction(pipeline: Pipeline, x4: np.ndarray, target):
    """``(sign of d loss / d x, target classes, original logits)`` for a batch."""
    output, k = check_targets(pipeline, x4, target)
    require_differentiable(pipeline, output)
    chosen = {}

    def loss(out, _unused):
        chosen["k"] = np.argmax(out, axis=1) if k is None else k
        return cross_entropy(out, chosen["k"])

    result = forward_backward(pipeline, x4, None, loss=loss, output=output,
                              backward_rules=INPUT_ONLY_RULES)
    return np.sign(result.grads["input"]), chosen["k"], result.output, output


def _check_epsilon(epsilon) -> float:
    eps = float(epsilon)
    if not np.isfinite(eps) or eps < 0:
        raise ExplainError(_("epsilon must be a number 0 or more (a fraction of the input"
                             " range), not {eps!r}").format(eps=epsilon))
    return eps


def _result(pipeline, output, x4, adv, k, logits, eps, batched) -> Adversarial:
    original, _s, original_p = class_scores(logits, None)
    new_logits = pipeline.forward(adv)[output]
    predicted, _s, new_p = class_scores(new_logits, None)
    target_p = softmax(new_logits.astype(np.float32), -1)[np.arange(len(adv)), k]

    def one(v):
        return v if batched else v[0]
    return Adversarial(
        image=one(adv), perturbation=one(adv - x4), epsilon=eps,
        original=unbatch(original, batched, int), original_probability=unbatch(
            original_p, batched), target=unbatch(k, batched, int),
        target_probability=unbatch(target_p, batched), predicted=unbatch(predicted, batched, int),
        probability=unbatch(new_p, batched),
        flipped=unbatch(predicted != original, batched, bool))


def fgsm(pipeline: Pipeline, x, epsilon: float, target=None) -> Adversarial:
    """The FGSM adversarial input for ``epsilon`` (a fraction of the input range)."""
    eps = _check_epsilon(epsilon)
    x4, batched = as_batch(pipeline, x)
    sign, k, logits, output = _direction(pipeline, x4, target)
    lo, hi = input_range(pipeline)
    adv = np.clip(x4 + (np.float32(eps) * (hi - lo)) * sign, lo, hi).astype(np.float32)
    return _result(pipeline, output, x4, adv, k, logits, eps, batched)


def fgsm_sweep(pipeline: Pipeline, x, epsilons: Sequence[float], target=None
               ) -> list[Adversarial]:
    """FGSM for many epsilons of one input ``(C, H, W)`` from one gradient (a slider's values).

    The adversarial inputs run through the network as one batch.
    """
    eps = [_check_epsilon(e) for e in epsilons]
    x4, batched = as_batch(pipeline, x)
    if batched or not eps:
        raise ExplainError(_("fgsm_sweep takes one input (C, H, W) and at least one epsilon"))
    sign, k, logits, output = _direction(pipeline, x4, target)
    lo, hi = input_range(pipeline)
    advs = np.clip(x4 + (np.asarray(eps, np.float32)[:, None, None, None] * (hi - lo)) * sign,
                   lo, hi).astype(np.float32)  # (E, C, H, W)
    batch = _result(pipeline, output, np.repeat(x4, len(eps), axis=0), advs,
                    np.repeat(k, len(eps)), np.repeat(logits, len(eps), axis=0), 0.0, True)
    return [Adversarial(batch.image[i], batch.perturbation[i], e, batch.original[i],
                        batch.original_probability[i], batch.target[i],
                        batch.target_probability[i], batch.predicted[i], batch.probability[i],
                        batch.flipped[i]) for i, e in enumerate(eps)]
