"""Frame sources (still image, video file, camera) and the capture thread.

The capture thread overwrites a one-slot "latest frame"; it never queues. A frame the engine
had no time to take is simply replaced, and counted as dropped.
"""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from engine.config import background_thread
from engine.i18n import _
from engine.io.media import MediaError, VideoReader, read_image, resize_longest
from gui.live_engine import WORKER_NICENESS, EngineWorker, Frame, FrameSlot, Result
from gui.session import SourceSpec, sample_path
from gui.session_state import SourceInfo

__all__ = ["CaptureWorker", "EngineWorker", "Frame", "FrameSlot", "FrameSource", "Result",
           "SourceInfo", "classify_path", "open_source"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
PIPELINE_SUFFIXES = (".json",)


def classify_path(path: str | Path) -> str | None:
    """Return "image", "video", "pipeline" or "model" by file extension, or None when unknown."""
    suffix = Path(path).suffix.lower()
    for kind, suffixes in (
        ("image", IMAGE_SUFFIXES),
        ("video", VIDEO_SUFFIXES),
        ("pipeline", PIPELINE_SUFFIXES),
        ("model", (".onnx",)),
    ):
        if suffix in suffixes:
            return kind
    return None


class FrameSource(ABC):
    """Base class: ``read()`` returns the next (H, W, 3) uint8 RGB frame or None at an end."""

    still = False  # a still image: one frame, nothing more to read

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.fps: float | None = None

    @abstractmethod
    def read(self) -> np.ndarray | None:
        """Return the next frame, or None when the source has ended."""

    def close(self) -> None:  # noqa: B027 - a still image holds nothing to release
        """Release the file or device."""


class ImageSource(FrameSource):
    """A still image file or bundled sample: every read returns the same frame."""

    still = True

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        path = sample_path(spec.sample) if spec.kind == "sample" else Path(spec.path or "")
        if spec.kind == "sample" and not path.is_file():
            raise MediaError(_("there is no bundled sample {name!r}").format(name=spec.sample))
        self.image = read_image(path)

    def read(self) -> np.ndarray:
        return self.image


class VideoSource(FrameSource):
    """A video file (looping at its end) or a camera by index."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        target = spec.camera_index if spec.kind == "camera" else str(spec.path)
        self.reader = VideoReader(target, loop=spec.kind == "video")
        self.fps = self.reader.fps or None

    def read(self) -> np.ndarray | None:
        return self.reader.read()

    def close(self) -> None:
        self.reader.close()


def open_source(spec: SourceSpec) -> FrameSource:
    """Open the source ``spec`` describes; raises MediaError with a readable message."""
    if spec.kind == "canvas":
        from gui.docks.canvas import CanvasSource

        return CanvasSource(spec)
    if spec.kind in ("sample", "image"):
        return ImageSource(spec)
    return VideoSource(spec)


class CaptureWorker(threading.Thread):
    """Reads the current source into a :class:`FrameSlot`, paced to the source's frame rate.

    ``post`` is called with (level, text) for messages; it must be thread-safe.
    """

    def __init__(self, slot: FrameSlot, post, resolution: int | None = 480) -> None:
        super().__init__(name="cnn-explorer-capture", daemon=True)
        self.slot, self.post = slot, post
        self._wake = threading.Condition()
        self._stopping = False
        self._pending: SourceSpec | None = None
        self._source: FrameSource | None = None
        self._resolution = resolution
        self._paused = False
        self._steps = 0
        self._redeliver = False  # send the last raw frame again (resolution changed)
        self._raw: np.ndarray | None = None
        self._index = 0
        self.info: SourceInfo | None = None
        self.capture_times: list[float] = []  # recent capture times, for the fps readout
        self.failed: queue.SimpleQueue[SourceSpec] = queue.SimpleQueue()  # could not open

    # -- called from the GUI thread -------------------------------------------------------
    @property
    def current_spec(self) -> SourceSpec | None:
        """The spec of the source open now (None before the first one opened)."""
        source = self._source
        return source.spec if source is not None else None

    @property
    def still(self) -> bool:
        """True while the open source is a still image (no frame rate to speak of)."""
        source = self._source
        return source is not None and source.still

    def set_source(self, spec: SourceSpec, force: bool = False) -> None:
        """Open ``spec`` (in the thread); ``force`` re-opens it even when it is open already."""
        with self._wake:
            current = self._source is not None and self._source.spec == spec
            if current and self._pending is None and not force:
                return
            self._pending = spec
            self._wake.notify_all()

    def set_resolution(self, resolution: int | None) -> None:
        with self._wake:
            self._resolution = resolution
            self._redeliver = True
            self._wake.notify_all()

    def set_paused(self, paused: bool) -> None:
        with self._wake:
            self._paused = paused
            self._wake.notify_all()

    def step(self) -> None:
        """Capture exactly one more frame while paused."""
        with self._wake:
            self._steps += 1
            self._wake.notify_all()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()

    # -- the thread -----------------------------------------------------------------------
    def run(self) -> None:
        background_thread(WORKER_NICENESS)  # the GUI thread first when both cores are busy
        try:
            self._loop()
        finally:
            if self._source is not None:
                self._source.close()

    def _loop(self) -> None:
        next_due = 0.0
        while True:
            with self._wake:
                while not self._stopping and not self._has_work(next_due):
                    self._wake.wait(self._wait_time(next_due))
                if self._stopping:
                    return
                pending, self._pending = self._pending, None
                redeliver, self._redeliver = self._redeliver, False
                resolution = self._resolution
                stepping = self._paused and self._steps > 0
                if stepping:
                    self._steps -= 1
            if pending is not None:
                self._open(pending)
                redeliver = False
            elif redeliver and self._raw is not None:
                self._deliver(self._raw, resolution)
            elif self._source is not None and (stepping or self._live_due(next_due)):
                next_due = time.perf_counter() + 1.0 / (self._source.fps or 30.0)
                self._read_next(resolution)

    def _has_work(self, next_due: float) -> bool:
        if self._pending is not None or (self._redeliver and self._raw is not None):
            return True
        if self._source is None or self._source.still:
            return False
        return (self._paused and self._steps > 0) or self._live_due(next_due)

    def _live_due(self, next_due: float) -> bool:
        return (
            self._source is not None
            and not self._source.still
            and not self._paused
            and time.perf_counter() >= next_due
        )

    def _wait_time(self, next_due: float) -> float | None:
        if self._source is None or self._source.still or self._paused:
            return None
        return max(0.0, next_due - time.perf_counter())

    def _open(self, spec: SourceSpec) -> None:
        try:
            source = open_source(spec)
            first = source.read()
            if first is None:
                source.close()
                raise MediaError(_("{describe} gave no frames").format(describe=spec.describe()))
        except Exception as exc:  # OpenCV may raise its own errors too: all become a message
            # Keep the old source and its last frame; the GUI reverts the session's source.
            self.failed.put(spec)
            text = str(exc).rstrip(".")
            self.post("error", _("{problem}. Keeping the previous source.").format(
                problem=text[:1].upper() + text[1:]))
            return
        if self._source is not None:
            self._source.close()
        self._source = source
        h, w = first.shape[:2]
        label = spec.sample if spec.kind == "sample" else spec.describe().split(" ", 1)[1]
        self.info = SourceInfo(spec.kind, label, w, h, source.fps)
        self._deliver(first, self._resolution)

    def _read_next(self, resolution: int | None) -> None:
        start = time.perf_counter()
        try:
            raw = self._source.read()
        except Exception as exc:  # a file deleted or a device unplugged while reading
            raw, reason = None, str(exc)
        else:
            reason = _("it stopped sending frames")
            if raw is self._raw:  # a canvas with no new stroke: nothing new to run
                return
        if raw is None:
            # A camera unplugged mid-stream: keep showing the last good frame.
            self.post("error", _("{source} was lost: {reason}.").format(
                source=self._source.spec.describe().capitalize(), reason=reason))
            self._source.close()
            self._source = None
            return
        self._deliver(raw, resolution, start)

    def _deliver(self, raw: np.ndarray, resolution: int | None,
                 start: float | None = None) -> None:
        """Resize ``raw`` to the working size and put it in the slot; ``start``: when its
        read began (the capture stage's time runs from there)."""
        start = time.perf_counter() if start is None else start
        self._raw = raw
        if resolution is not None and resolution >= max(raw.shape[:2]):
            resolution = None  # the working size is a limit: enlarging would only cost time
        image = np.ascontiguousarray(resize_longest(raw, resolution))
        now = time.perf_counter()
        self._index += 1
        self.slot.put(Frame(image, now, self._index, (now - start) * 1000.0))
        self.capture_times = [*self.capture_times[-29:], now]
