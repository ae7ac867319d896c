"""Top patches per channel (Yosinski et al.'s Deep Visualization Toolbox; Zeiler & Fergus 2014).

Run many inputs through the network; for every channel of a layer keep the ``k`` highest
activations and where they happened; each is shown as the crop of its input under the unit's
receptive field (:func:`engine.graph.receptive.receptive_field`).

Ranking, exactly: with ``distinct=True`` (the default) each input offers its single best
position per channel (the first in row-major order on ties), and inputs are ranked by that
value (the earlier input first on ties); with ``distinct=False`` every (input, row, column)
competes, ties again in input then row-major order. A vector layer (Linear) has one position.

>>> import numpy as np, engine
>>> from engine.explain import top_patches
>>> rng = np.random.default_rng(0)
>>> xs = [rng.uniform(0, 1, (3, 64, 64)).astype(np.float32) for _ in range(12)]
>>> top = top_patches(engine.resolve_pipeline("shapes"), xs, "conv2", k=9)
>>> len(top.patches), len(top.patches[0]), top.count
(16, 9, 12)
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from engine.explain.core import ExplainError, check_layer
from engine.graph.pipeline import Pipeline
from engine.graph.receptive import Region, receptive_field
from engine.i18n import _

__all__ = ["Patch", "TopPatches", "crop", "top_patches"]


@dataclass(frozen=True)
class Patch:
    """One of a channel's top activations."""

    channel: int
    value: float
    index: int           # which input (in the order given)
    y: int               # the unit's row and column on the layer's map (0, 0 for a vector)
    x: int
    region: Region | None   # the unit's receptive field on that input, clipped; None: padding only


@dataclass(frozen=True, eq=False)
class TopPatches:
    """The result of :func:`top_patches`: ``patches[c]`` lists channel c's best, best first."""

    layer: str
    k: int
    patches: tuple[tuple[Patch, ...], ...]
    count: int           # inputs seen
    stopped: bool = False

    def to_dict(self) -> dict:
        """JSON-able: per channel the (value, input index, y, x, region) of each patch."""
        def region(r):
            return None if r is None else [r.y0, r.y1, r.x0, r.x1]
        return {"layer": self.layer, "k": self.k, "inputs": self.count, "stopped": self.stopped,
                "channels": [[{"value": p.value, "index": p.index, "y": p.y, "x": p.x,
                               "region": region(p.region)} for p in ps] for ps in self.patches]}


def crop(image: np.ndarray, region: Region | None, channels_first: bool = True) -> np.ndarray:
    """The part of ``image`` under ``region`` (inclusive bounds); empty for None.

    ``image`` is ``(C, H, W)`` (the network input) or, with ``channels_first=False``, an
    ``(H, W, ...)`` picture of the same height and width (the frame it came from).
    """
    if region is None:
        return image[:, :0, :0] if channels_first else image[:0, :0]
    ys, xs = slice(region.y0, region.y1 + 1), slice(region.x0, region.x1 + 1)
    return image[:, ys, xs] if channels_first else image[ys, xs]


def _chunks(inputs: Iterable, batch: int):
    """Consecutive inputs of the same shape, up to ``batch`` at a time, as (N, C, H, W)."""
    group: list[np.ndarray] = []
    for x in inputs:
        x = np.asarray(x, np.float32)
        if x.ndim != 3:
            raise ExplainError(_("each input must be (C, H, W), got shape {shape}")
                               .format(shape=x.shape))
        if group and (len(group) == batch or x.shape != group[0].shape):
            yield np.stack(group)
            group = []
        group.append(x)
    if group:
        yield np.stack(group)


def _offer(heap: list, k: int, entry: tuple) -> None:
    """Keep the k largest entries (value, -index, -position, shape) in a min-heap."""
    if len(heap) < k:
        heapq.heappush(heap, entry)
    elif entry[:3] > heap[0][:3]:
        heapq.heapreplace(heap, entry)


def _best(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest of a 1-D array, largest first, the lower index first on ties."""
    if values.size > k:
        threshold = np.partition(values, values.size - k)[values.size - k]
        candidates = np.flatnonzero(values >= threshold)  # every tie at the threshold too
    else:
        candidates = np.arange(values.size)
    order = np.lexsort((candidates, -values[candidates]))
    return candidates[order[:k]]


def top_patches(pipeline: Pipeline, inputs: Iterable[np.ndarray], layer: str, k: int = 9,
                distinct: bool = True, batch: int = 16,
                progress: Callable[[int], None] | None = None,
                stop: Callable[[], bool] | None = None) -> TopPatches:
    """The ``k`` strongest activations of every channel of ``layer`` over ``inputs``.

    Parameters
    ----------
    inputs : iterable of (C, H, W) float32 arrays in the network's input scale (a generator
        over a folder or a video is fine: it is read once, ``batch`` inputs at a time)
    layer : a node name; its output is maps (C, H, W) or a vector (F,)
    k : patches per channel
    distinct : at most one patch per input and channel (see the module text)
    progress : callable(inputs seen), optional, after each batch
    stop : callable() -> bool, optional; checked before each batch: True returns the patches
        found so far (``stopped=True``)
    """
    check_layer(pipeline, layer)
    k = int(k)
    if k < 1:
        raise ExplainError(_("k must be at least 1, got {k}").format(k=k))
    heaps: list[list] = []  # per channel: a min-heap of (value, -input, -position, shape)
    seen, stopped = 0, False
    for chunk in _chunks(inputs, max(1, int(batch))):
        if stop is not None and stop():
            stopped = True
            break
        out = pipeline.forward(chunk)[layer]
        a = out.reshape(len(chunk), out.shape[1], -1)  # (N, C, positions)
        n_pos, shape = a.shape[2], chunk.shape[1:]
        if not heaps:
            heaps = [[] for _ in range(a.shape[1])]
        if distinct:
            best = a.argmax(axis=2)  # (N, C): the first maximum in row-major order
            values = np.take_along_axis(a, best[:, :, None], axis=2)[:, :, 0]  # (N, C)
            for c, heap in enumerate(heaps):
                for n in _best(values[:, c], k):
                    _offer(heap, k, (float(values[n, c]), -(seen + int(n)), -int(best[n, c]),
                                     shape))
        else:
            for c, heap in enumerate(heaps):
                flat = a[:, c].ravel()  # (N * positions): input-major, then row-major
                for j in _best(flat, k):
                    n, pos = divmod(int(j), n_pos)
                    _offer(heap, k, (float(flat[j]), -(seen + n), -pos, shape))
        seen += len(chunk)
        if progress is not None:
            progress(seen)
    if not heaps:
        raise ExplainError(_("top patches need at least one input"))
    patches = tuple(tuple(_patch(pipeline, layer, c, entry) for entry in sorted(
        heap, key=lambda e: e[:3], reverse=True)) for c, heap in enumerate(heaps))
    return TopPatches(layer, k, patches, seen, stopped)


def _patch(pipeline: Pipeline, layer: str, channel: int, entry: tuple) -> Patch:
    value, neg_index, neg_pos, shape = entry
    out = pipeline.shapes(shape)[layer]
    y, x = divmod(-neg_pos, out[2]) if len(out) == 3 else (0, 0)
    field = receptive_field(pipeline, shape, layer, channel, y, x)
    return Patch(channel, value, -neg_index, y, x, field.input_region)
