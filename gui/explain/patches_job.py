"""Top-9 patches over a folder of pictures or a video, and activation maximization, as jobs.

Both run in the :class:`~gui.explain.workers.TaskRunner`'s thread with ``progress`` and
``stop`` callbacks, and return what the panel shows: small uint8 pictures, never the inputs.
A folder run keeps, for every channel of its layer, the crops of its nine best inputs under
the unit's receptive field (a second pass reads just those inputs again).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.explain import crop, maximize, top_patches
from engine.explain.overlay import to_image
from engine.i18n import _
from gui.explain.render import thumbnail

__all__ = ["VIDEO_LIMIT", "MaximizeResult", "PatchesRun", "maximize_job", "patches_job"]

K = 9
PATCH_SIDE = 64  # patches are kept at most this large: a deep layer's can cover the input
VIDEO_LIMIT = 1000  # frames read from a video, spread evenly over it


@dataclass(frozen=True, eq=False)
class PatchesRun:
    """The last top-patches run: for every channel of ``layer``, its best patches."""

    pipeline: Any
    layer: str
    source: str  # the folder or video, as the user named it
    count: int  # inputs seen
    stopped: bool
    patches: tuple[tuple[tuple[np.ndarray, float], ...], ...]  # [channel] -> (picture, value)

    def for_channel(self, channel: int) -> list[tuple[np.ndarray, float]]:
        return list(self.patches[channel]) if 0 <= channel < len(self.patches) else []


def _inputs(kind: str, path: str, pipeline):
    """(a function giving a fresh iterator over the inputs, their number or 0 if unknown)."""
    from engine.explain.inputs import folder_inputs, image_files, video_inputs

    if kind == "folder":
        files = image_files(path)
        return (lambda: folder_inputs(files, pipeline)), len(files)
    from engine.io.media import VideoReader

    with VideoReader(path, loop=False) as video:
        frames = video.frame_count
    every = max(1, -(-frames // VIDEO_LIMIT)) if frames else 1
    total = min(-(-frames // every), VIDEO_LIMIT) if frames else 0
    return (lambda: video_inputs(path, pipeline, every=every, limit=VIDEO_LIMIT)), total


def patches_job(pipeline, layer: str, kind: str, path: str, progress, stop) -> PatchesRun:
    """The top-9 patches of every channel of ``layer`` over a folder or a video.

    ``progress(seen, total)`` after each batch (total 0 when a video does not say its length).
    """
    make, total = _inputs(kind, path, pipeline)
    top = top_patches(pipeline, make(), layer, k=K, progress=lambda seen: progress(seen, total),
                      stop=stop)
    wanted = {p.index for channel in top.patches for p in channel}
    pictures: dict[int, np.ndarray] = {}
    for i, x in enumerate(make()):  # again, keeping only the inputs some channel needs
        if i > max(wanted, default=-1):
            break
        if i in wanted:
            pictures[i] = to_image(x, pipeline)
    patches = tuple(
        tuple((thumbnail(crop(pictures[p.index], p.region, channels_first=False), PATCH_SIDE),
               p.value) for p in channel if p.region is not None and p.index in pictures)
        for channel in top.patches)
    return PatchesRun(pipeline, layer, str(Path(path)), top.count, top.stopped, patches)


@dataclass(frozen=True, eq=False)
class MaximizeResult:
    """A channel's activation-maximizing input as a picture, and how far the ascent got."""

    picture: np.ndarray  # (H, W, 3) uint8
    initial: float
    objective: float
    steps: int
    stopped: bool


def maximize_job(pipeline, layer: str, channel: int, steps: int, progress, stop
                 ) -> MaximizeResult:
    """Gradient ascent on the channel's mean; ``progress((step, steps, objective, picture))``."""
    def report(step) -> None:
        progress((step.step, step.steps, step.objective, to_image(step.image, pipeline)))

    r = maximize(pipeline, layer, channel, steps=steps, progress=report, stop=stop)
    return MaximizeResult(to_image(r.image, pipeline), r.initial, r.objective, len(r.history),
                          r.stopped)


def run_text(run: PatchesRun) -> str:
    """Where a run's patches came from, in one sentence."""
    if run.stopped:
        return _("Stopped after {n} inputs of {source} ({layer}).").format(
            n=run.count, source=Path(run.source).name, layer=run.layer)
    return _("The best of {n} inputs of {source} ({layer}).").format(
        n=run.count, source=Path(run.source).name, layer=run.layer)
