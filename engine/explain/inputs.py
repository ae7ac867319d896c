"""Pictures, folders and videos as network inputs, for the explanations that read many.

:func:`prepare` is how one picture becomes the network's input (the command line's rule: a
network that declares its size without a preprocessing recipe gets the picture center-cropped
and scaled to it); :func:`folder_inputs` and :func:`video_inputs` feed
:func:`engine.explain.top_patches` lazily, one picture at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine.graph.pipeline import Pipeline
from engine.i18n import _
from engine.io.media import MediaError, VideoReader, read_image, resize_to
from engine.io.preprocess import frame_to_input

__all__ = ["IMAGE_SUFFIXES", "folder_inputs", "image_files", "prepare", "video_inputs"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def prepare(picture: np.ndarray, pipeline: Pipeline) -> np.ndarray:
    """The (C, H, W) float32 input for an (H, W, 3) uint8 RGB picture."""
    spec = pipeline.input_spec
    if spec.height and spec.width and spec.preprocess is None:
        picture = resize_to(picture, int(spec.height), int(spec.width))
    return frame_to_input(picture, pipeline)


def image_files(folder) -> list[Path]:
    """The pictures in ``folder`` and its subfolders, sorted by path."""
    root = Path(folder)
    if not root.is_dir():
        raise MediaError(_("'{folder}' is not a folder").format(folder=root))
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                   and p.is_file())
    if not files:
        raise MediaError(_("'{folder}' holds no pictures ({suffixes})").format(
            folder=root, suffixes=", ".join(IMAGE_SUFFIXES)))
    return files


def folder_inputs(files, pipeline: Pipeline) -> Iterator[np.ndarray]:
    """Each picture of ``files`` (a list of paths, e.g. :func:`image_files`) as an input."""
    for path in files:
        yield prepare(read_image(path), pipeline)


def video_inputs(path, pipeline: Pipeline, every: int = 1, limit: int | None = None
                 ) -> Iterator[np.ndarray]:
    """Every ``every``-th frame of a video file as an input, at most ``limit`` of them."""
    every = max(1, int(every))
    with VideoReader(path, loop=False) as video:
        count = index = 0
        while limit is None or count < limit:
            frame = video.read()
            if frame is None:
                return
            if index % every == 0:
                count += 1
                yield prepare(frame, pipeline)
            index += 1
