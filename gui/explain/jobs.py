"""What the Explain panel runs off the GUI thread: engine calls, then display-ready arrays.

Every function here is Qt-free and takes what it needs as arguments (an immutable Pipeline, the
frame and the input it became), so a worker thread can run it while the window carries on.
A live :class:`Request` becomes an outcome (:class:`HeatOutcome`, :class:`FgsmOutcome`,
:class:`AlphaOutcome`) or a :class:`Failure` whose text says why; never an exception.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.explain import (
    Adversarial,
    Explanation,
    class_gradient,
    explain,
    fgsm,
    occlusion,
    smoothgrad,
)
from engine.explain.overlay import magnify, to_image
from engine.i18n import _
from gui.explain.render import display_size, heat_indices, heat_levels, input_region

__all__ = [
    "AlphaOutcome",
    "Failure",
    "FgsmOutcome",
    "HeatOutcome",
    "Request",
    "occlusion_job",
    "run_live",
    "smoothgrad_job",
]


@dataclass(frozen=True, eq=False)
class Request:
    """One explanation to compute: a method (or ``"alpha"``) on one frame of one pipeline."""

    kind: str  # a method key of gui.explain.methods, or "alpha" (a layer's Grad-CAM weights)
    pipeline: Any
    frame: np.ndarray  # (H, W, 3) uint8, the working frame
    x: np.ndarray  # (C, H, W) float32, what entered the network
    target: int | None = None  # None: the top class
    settings: dict = field(default_factory=dict)  # layer, epsilon, patch, ...
    seq: int = 0  # the live result it came from
    captured_at: float = 0.0  # time.perf_counter() when its frame was captured


@dataclass(frozen=True, eq=False)
class HeatOutcome:
    """A map ready to draw over the frame."""

    request: Request
    explanation: Explanation
    picture: np.ndarray  # (h, w, 3) uint8: the input as the network sees it
    region: np.ndarray  # (H, W, 3) uint8: the part of the frame the input shows
    indices: np.ndarray  # (H', W') uint8 heat, 1..255, at display size
    levels: tuple[float, float]
    ms: float


@dataclass(frozen=True, eq=False)
class FgsmOutcome:
    """An adversarial input and its three pictures: original, perturbation, adversarial."""

    request: Request
    adversarial: Adversarial
    original: np.ndarray
    perturbation: np.ndarray  # magnified: mid-grey is no change
    image: np.ndarray
    ms: float


@dataclass(frozen=True, eq=False)
class AlphaOutcome:
    """Grad-CAM's weights of one layer for the top class: alpha_c = mean of d score / d A_c."""

    request: Request
    layer: str
    alpha: np.ndarray  # (C,) float64
    target: int
    ms: float


@dataclass(frozen=True, eq=False)
class Failure:
    """Why a request could not be served, in one sentence."""

    request: Request
    text: str


def sentence(exc: BaseException) -> str:
    """An exception's message as a sentence: first letter capital, one full stop."""
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return f"{text[:1].upper()}{text[1:]}."


def run_live(request: Request):
    """Serve a live request; any failure comes back as a :class:`Failure`."""
    start = time.perf_counter()
    try:
        if request.kind == "alpha":
            return _alpha(request, start)
        if request.kind == "fgsm":
            return _fgsm(request, start)
        settings = {k: v for k, v in request.settings.items() if k == "layer"}
        if request.kind != "gradcam":
            settings = {}
        e = explain(request.pipeline, request.x, request.kind, request.target, **settings)
        return heat_outcome(request, e, start)
    except Exception as exc:  # a message, never a dead thread
        return Failure(request, sentence(exc))


def heat_outcome(request: Request, e: Explanation, start: float) -> HeatOutcome:
    """The explanation's map upsampled and coloured for the frame it explains."""
    region = np.ascontiguousarray(input_region(request.frame, request.pipeline))
    size = display_size(*region.shape[:2])
    levels = heat_levels(e.map, e.signed)
    return HeatOutcome(request, e, to_image(request.x, request.pipeline), region,
                       heat_indices(e.map, size, levels), levels,
                       (time.perf_counter() - start) * 1000.0)


def _fgsm(request: Request, start: float) -> FgsmOutcome:
    p, x = request.pipeline, request.x
    a = fgsm(p, x, float(request.settings.get("epsilon", 0.0)), request.target)
    return FgsmOutcome(request, a, to_image(x, p), magnify(a.perturbation, p),
                       to_image(a.image, p), (time.perf_counter() - start) * 1000.0)


def _alpha(request: Request, start: float) -> AlphaOutcome:
    layer = request.settings["layer"]
    result, k = class_gradient(request.pipeline, request.x[None], request.target, keep=(layer,),
                               need_input=False)
    if layer not in result.activation_grads:
        raise ValueError(_("the class scores do not depend on {layer}, so its channels have no"
                           " weight for a class").format(layer=layer))
    grad = result.activation_grads[layer][0]  # (C, h, w) or (F,)
    alpha = grad.reshape(grad.shape[0], -1).mean(axis=1, dtype=np.float64)  # (C,)
    return AlphaOutcome(request, layer, alpha, int(k[0]), (time.perf_counter() - start) * 1000.0)


# -- long methods: progress(done, total) and stop() -> bool -----------------------------------
def occlusion_job(request: Request, progress, stop) -> HeatOutcome:
    """Occlusion with the request's patch and stride; raises Cancelled when stopped."""
    start = time.perf_counter()
    s = request.settings
    e = occlusion(request.pipeline, request.x, request.target, patch=int(s.get("patch", 8)),
                  stride=int(s.get("stride", 4)), progress=progress, stop=stop)
    return heat_outcome(request, e, start)


SMOOTHGRAD_CHUNK = 8  # noisy copies per engine call: progress and Cancel between calls


def smoothgrad_job(request: Request, progress, stop) -> HeatOutcome | None:
    """SmoothGrad over ``n`` copies, run a chunk of copies at a time; None when stopped.

    The mean of the chunks' means (weighted by their sizes) is the mean over every copy; chunk
    ``j`` draws its noise from seed ``j``, so a run is repeatable.
    """
    start = time.perf_counter()
    s = request.settings
    n, sigma = int(s.get("n", 25)), float(s.get("sigma", 0.15))
    parts: list[tuple[int, Explanation]] = []
    done = 0
    target = request.target
    while done < n:
        if stop():
            return None
        size = min(SMOOTHGRAD_CHUNK, n - done)
        e = smoothgrad(request.pipeline, request.x, target, n=size, sigma=sigma,
                       seed=len(parts), batch=size)
        target = e.target  # the clean input's top class, the same for every chunk
        parts.append((size, e))
        done += size
        progress(done, n)
    heat = sum(size * e.map for size, e in parts) / n
    grads = sum(size * e.attribution for size, e in parts) / n
    e = dataclasses.replace(parts[0][1], map=heat.astype(np.float32),
                            attribution=grads.astype(np.float32),
                            settings={"n": n, "sigma": sigma})
    return heat_outcome(request, e, start)


def count_text(n: int) -> str:
    """How many forward passes a run costs, for the Run button's tooltip and the hint."""
    return _("{n} runs of the network").format(n=f"{n:,}")
