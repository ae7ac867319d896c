"""Activation maximization: the input that excites one channel (or one unit) of a layer most.

Gradient ascent on the input, from seeded noise, with the regularizers that make the picture
readable (Yosinski et al. 2015, "Understanding neural networks through deep visualization"):
a random shift (jitter) before every step, a small Gaussian blur every few steps, an L2 decay
towards mid-grey and clipping to the input range. Each step moves the input by ``lr`` times
the input range along the gradient divided by its mean absolute value.

>>> import engine
>>> from engine.explain import maximize
>>> r = maximize(engine.resolve_pipeline("shapes"), "conv2", channel=3, steps=5)
>>> r.image.shape, len(r.history), r.stopped
((3, 64, 64), 5, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.explain.core import (
    ExplainError,
    check_layer,
    grey_value,
    input_range,
    input_shape,
    require_differentiable,
)
from engine.explain.gradients import INPUT_ONLY_RULES
from engine.graph.autograd import forward_backward, logits_node
from engine.graph.pipeline import Pipeline
from engine.i18n import _

__all__ = ["MaximizeStep", "Maximized", "gaussian_blur", "maximize"]


@dataclass(frozen=True, eq=False)
class MaximizeStep:
    """What a progress callback gets after each step."""

    step: int                # 1 .. steps
    steps: int
    objective: float         # the channel's (unit's) activation at this step's jittered input
    image: np.ndarray = field(repr=False)   # (C, H, W), a copy of the input so far


@dataclass(frozen=True, eq=False)
class Maximized:
    """The result of :func:`maximize`."""

    image: np.ndarray        # (C, H, W) float32, in the network's input scale
    layer: str
    channel: int
    unit: tuple[int, int] | None
    initial: float           # the objective at the starting noise
    objective: float         # the objective at ``image``
    history: tuple[float, ...]   # per step, at the jittered input
    stopped: bool
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able summary (no arrays)."""
        return {"method": "maximize", "layer": self.layer, "channel": self.channel,
                "unit": None if self.unit is None else list(self.unit),
                "initial": self.initial, "objective": self.objective,
                "steps_run": len(self.history), "stopped": self.stopped,
                "image_shape": list(self.image.shape), "settings": dict(self.settings)}


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Blur ``(C, H, W)`` maps with a Gaussian of ``sigma`` pixels (separable; edges mirrored)."""
    if sigma <= 0:
        return x
    r = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    h, w = x.shape[1:]
    padded = np.pad(x, ((0, 0), (r, r), (0, 0)), mode="reflect" if h > r else "edge")
    rows = sum(t * padded[:, i:i + h] for i, t in enumerate(taps))  # (C, H, W)
    padded = np.pad(rows, ((0, 0), (0, 0), (r, r)), mode="reflect" if w > r else "edge")
    return sum(t * padded[:, :, i:i + w] for i, t in enumerate(taps)).astype(np.float32)


def _objective(channel: int, unit: tuple[int, int] | None):
    """The loss ``mean of A[:, channel]`` (or ``A[:, channel, y, x]``) and its gradient."""
    def loss(out: np.ndarray, _unused) -> tuple[float, np.ndarray]:
        grad = np.zeros_like(out)
        if out.ndim == 2:  # a vector: one unit per "channel"
            grad[:, channel] = 1.0
        elif unit is None:
            grad[:, channel] = 1.0 / (out.shape[2] * out.shape[3])
        else:
            grad[:, channel, unit[0], unit[1]] = 1.0
        return float(np.sum(out * grad, dtype=np.float64)), grad
    return loss


def _check_unit(pipeline, layer, shape, channel, unit):
    out = pipeline.shapes(shape)[layer]
    if not 0 <= channel < out[0]:
        raise ExplainError(_("{layer} has {n} channels (0 to {top}); channel {c} is outside")
                           .format(layer=layer, n=out[0], top=out[0] - 1, c=channel))
    if unit is not None:
        if len(out) != 3:
            raise ExplainError(_("{layer} gives a vector, so it has no unit (row, column); give"
                                 " only the channel").format(layer=layer))
        y, x = unit
        if not (0 <= y < out[1] and 0 <= x < out[2]):
            raise ExplainError(_("{layer} has maps of {h} x {w}; the unit ({y}, {x}) is outside")
                               .format(layer=layer, h=out[1], w=out[2], y=y, x=x))


def maximize(pipeline: Pipeline, layer: str | None = None, channel: int = 0,
             unit: tuple[int, int] | None = None, shape: tuple[int, int, int] | None = None,
             steps: int = 200, lr: float = 0.05, jitter: int = 4, blur_every: int = 4,
             blur_sigma: float = 0.5, decay: float = 0.01, seed: int = 0,
             progress: Callable[[MaximizeStep], None] | None = None,
             stop: Callable[[], bool] | None = None) -> Maximized:
    """Gradient ascent from noise on the mean of one channel of ``layer`` (or one unit).

    Parameters
    ----------
    layer : str, optional
        Any node; default the logits (then ``channel`` is a class).
    channel : int
        The channel (for a vector output: the element) to excite.
    unit : (row, column), optional
        Excite only this position of the channel, not its mean.
    shape : (C, H, W), optional
        The input's shape; default the network's own (:func:`engine.explain.core.input_shape`).
    steps, lr : the number of steps, and each step's size as a fraction of the input range
    jitter : the largest random shift in pixels before each step (0: none)
    blur_every, blur_sigma : blur the input every this many steps with this sigma (pixels)
    decay : L2 decay: each step pulls the input towards mid-grey by this fraction
    seed : the starting noise and the shifts
    progress : callable(MaximizeStep), optional; called after every step
    stop : callable() -> bool, optional; checked before every step: True ends the ascent
        early and returns what it has (``stopped=True``)
    """
    layer = logits_node(pipeline) if layer is None else check_layer(pipeline, layer)
    shape = tuple(int(s) for s in (shape or input_shape(pipeline)))
    pipeline.shapes(shape)  # a clear message naming the layer that does not fit
    channel = int(channel)
    unit = None if unit is None else (int(unit[0]), int(unit[1]))
    _check_unit(pipeline, layer, shape, channel, unit)
    if int(steps) < 0 or not lr > 0 or int(jitter) < 0 or int(blur_every) < 0 or decay < 0:
        raise ExplainError(_("maximize needs steps >= 0, lr > 0, jitter >= 0, blur_every >= 0"
                             " and decay >= 0"))
    require_differentiable(pipeline, layer)
    lo, hi = input_range(pipeline)
    grey = grey_value(pipeline)
    rng = np.random.default_rng(seed)
    x = (grey + 0.1 * (hi - lo) * rng.standard_normal(shape)).astype(np.float32)
    x = np.clip(x, lo, hi)
    loss = _objective(channel, unit)

    def run(image):
        return forward_backward(pipeline, image[None], None, loss=loss, output=layer,
                                backward_rules=INPUT_ONLY_RULES)

    initial = run(x).loss
    history, stopped = [], False
    for step in range(1, int(steps) + 1):
        if stop is not None and stop():
            stopped = True
            break
        dy, dx = (rng.integers(-jitter, jitter + 1, 2) if jitter else (0, 0))
        result = run(np.roll(x, (dy, dx), axis=(1, 2)))
        g = np.roll(result.grads["input"][0], (-dy, -dx), axis=(1, 2))
        history.append(result.loss)
        x = x + (lr * (hi - lo)) * g / (np.abs(g).mean() + 1e-12)
        x = grey + (x - grey) * np.float32(1.0 - decay)
        if blur_every and step % int(blur_every) == 0:
            x = gaussian_blur(x, blur_sigma)
        x = np.clip(x, lo, hi).astype(np.float32)
        if progress is not None:
            progress(MaximizeStep(step, int(steps), result.loss, x.copy()))
    settings = {"steps": int(steps), "lr": float(lr), "jitter": int(jitter),
                "blur_every": int(blur_every), "blur_sigma": float(blur_sigma),
                "decay": float(decay), "seed": int(seed), "shape": list(shape)}
    return Maximized(x, layer, channel, unit, initial, run(x).loss, tuple(history), stopped,
                     settings)
