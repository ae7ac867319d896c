"""Occlusion sensitivity (Zeiler & Fergus 2014): hide a patch, watch the class probability.

A grey patch slides over the input; at each position the network runs on the occluded copy and
the drop in the class's probability (softmax of the logits) is credited to every pixel the
patch covered. Where patches overlap, a pixel gets the mean drop of the patches that covered it.
No gradients: it works on any network, also where a layer cannot be differentiated.

Patch positions: the top-left corners ``0, stride, 2*stride, ...`` while the patch fits, plus
one patch flush with the bottom (right) border when the strides stop short of it, so that
every pixel is covered.

>>> import numpy as np, engine
>>> from engine.explain import occlusion
>>> e = occlusion(engine.resolve_pipeline("shapes"), np.zeros((3, 64, 64), np.float32),
...               patch=16, stride=16)
>>> e.map.shape, e.settings["positions"]
((64, 64), 16)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.explain.core import (
    Cancelled,
    ExplainError,
    Explanation,
    as_batch,
    check_targets,
    class_scores,
    grey_value,
    pair,
    unbatch,
)
from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.ops import softmax

__all__ = ["occlusion", "patch_positions"]


def patch_positions(size: int, patch: int, stride: int) -> list[int]:
    """Start offsets of the patches along one side of ``size`` pixels (see the module text).

    >>> patch_positions(10, 4, 4)
    [0, 4, 6]
    """
    patch = min(patch, size)
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] + patch < size:
        starts.append(size - patch)
    return starts


def occlusion(pipeline: Pipeline, x, target=None, patch=8, stride=4, fill=None,
              batch: int = 32, progress: Callable[[int, int], None] | None = None,
              stop: Callable[[], bool] | None = None) -> Explanation:
    """The drop in class probability when a patch hides each part of the input.

    Parameters
    ----------
    patch, stride : int or (h, w)
        The patch's size and step in input pixels (a patch larger than the input is clipped).
    fill : None, a number, or one number per channel
        The patch's value in the network's input scale; None: mid-grey
        (:func:`engine.explain.core.grey_value`).
    batch : int
        Occluded copies run through the network this many at a time.
    progress : callable(done, total), optional
        Called after each batch with the number of occluded copies run so far.
    stop : callable() -> bool, optional
        Checked before each batch; True raises :class:`engine.explain.core.Cancelled`.

    Returns
    -------
    Explanation
        ``map`` ``(H, W)`` (``(N, H, W)`` for a batch): positive where hiding the pixels lowers
        the class probability; ``signed`` (hiding can also raise it).
    """
    x4, batched = as_batch(pipeline, x)
    ph, pw = pair(patch, _("patch size"))
    sy, sx = pair(stride, _("stride"))
    if int(batch) < 1:
        raise ExplainError(_("the batch must be at least 1, got {batch}").format(batch=batch))
    output, k = check_targets(pipeline, x4, target)
    c, h, w = x4.shape[1:]
    value = grey_value(pipeline) if fill is None else np.asarray(fill, np.float32)
    try:
        value = np.broadcast_to(np.asarray(value, np.float32).reshape(-1, 1, 1), (c, 1, 1))
    except ValueError:
        raise ExplainError(_("the fill must be one number or one per channel ({c}), not"
                             " {fill!r}").format(c=c, fill=fill)) from None
    ph, pw = min(ph, h), min(pw, w)
    boxes = [(y, x0) for y in patch_positions(h, ph, sy) for x0 in patch_positions(w, pw, sx)]
    logits = pipeline.forward(x4)[output]
    k, score, prob = class_scores(logits, k)
    total, done = len(x4) * len(boxes), 0
    maps = np.zeros((len(x4), h, w), np.float32)
    for i, xi in enumerate(x4):
        drops = np.empty(len(boxes), np.float64)
        for start in range(0, len(boxes), int(batch)):
            if stop is not None and stop():
                raise Cancelled(_("occlusion was stopped"))
            chunk = boxes[start:start + int(batch)]
            copies = np.repeat(xi[None], len(chunk), axis=0)  # (b, C, H, W)
            for j, (y, x0) in enumerate(chunk):
                copies[j, :, y:y + ph, x0:x0 + pw] = value
            scores = pipeline.forward(copies)[output]
            probs = softmax(scores.astype(np.float32), -1)[:, k[i]]
            drops[start:start + len(chunk)] = prob[i] - probs
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        heat = np.zeros((h, w), np.float64)
        count = np.zeros((h, w), np.float64)
        for (y, x0), d in zip(boxes, drops, strict=True):
            heat[y:y + ph, x0:x0 + pw] += d
            count[y:y + ph, x0:x0 + pw] += 1
        maps[i] = heat / count
    return Explanation(
        map=maps if batched else maps[0], target=unbatch(k, batched, int),
        score=unbatch(score, batched), probability=unbatch(prob, batched), method="occlusion",
        settings={"patch": [ph, pw], "stride": [sy, sx], "positions": len(boxes),
                  "fill": [float(v) for v in value.ravel()]},
        signed=True)
