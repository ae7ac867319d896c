"""The engine thread of the live loop: a one-slot frame mailbox in, a one-slot result out.

The capture thread overwrites a :class:`FrameSlot`; the :class:`EngineWorker` takes the newest
frame, runs the current pipeline on it and overwrites its latest :class:`Result`. After the
forward pass it also runs the *preparers* the visible docks registered (a maps mosaic already
coloured and tiled, say), so that the GUI thread only hands finished uint8 images to Qt.
A frame or a result nobody had time for is simply replaced: the display never lags behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.config import background_thread
from engine.i18n import _
from gui.guards import ForwardMemoryCheck

# How many steps nicer than the GUI thread the capture and engine threads (and the engine's
# pool threads, which follow them) run. Two busy engine threads, capture and the GUI thread
# share two cores: without it the GUI thread sometimes waited 100-350 ms for a core in a soak.
WORKER_NICENESS = 5

__all__ = ["EngineWorker", "Frame", "FrameSlot", "Preparer", "Result"]

#: ``preparer(result) -> product``, run in the engine thread after the forward pass; the
#: product lands in ``Result.prepared[key]``. It must not touch Qt.
Preparer = Callable[["Result"], object]


@dataclass(frozen=True)
class Frame:
    """One working frame, resized, with the time it was captured."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    captured_at: float  # time.perf_counter()
    index: int
    capture_ms: float = 0.0  # reading the source and resizing to the working size


class FrameSlot:
    """A one-slot mailbox: ``put`` overwrites, ``take`` empties; counts frames lost unread."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self._frame: Frame | None = None
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self.changed:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.changed.notify_all()

    def take(self) -> Frame | None:
        with self.changed:
            frame, self._frame = self._frame, None
            return frame


@dataclass(frozen=True)
class Result:
    """One engine run: the frame, what entered the pipeline and every node's output."""

    seq: int  # increases with every engine run
    frame: np.ndarray  # (H, W, 3) uint8 RGB working frame
    input: np.ndarray  # (C, H, W) float32, what entered the pipeline
    pipeline: object  # the Pipeline that produced it
    activations: dict[str, np.ndarray]  # node name -> unbatched output
    timings_ms: dict[str, float]
    total_ms: float
    captured_at: float  # time.perf_counter() when the frame was captured
    error: str | None = None  # the pipeline could not run on this frame: why
    capture_ms: float = 0.0  # reading and resizing the frame (capture thread)
    preprocess_ms: float = 0.0  # frame -> pipeline input
    prepared: dict[str, object] = field(default_factory=dict)  # preparer key -> product
    prepare_ms: dict[str, float] = field(default_factory=dict)  # preparer key -> ms
    depth: int | None = None  # layers run (a prefix of the pipeline); None: all of them


class EngineWorker(threading.Thread):
    """Runs the current pipeline on the newest frame and overwrites a one-slot latest Result.

    A new pipeline re-runs the last frame at once, so edits show even while paused.
    """

    def __init__(self, slot: FrameSlot, pipeline) -> None:
        super().__init__(name="cnn-explorer-engine", daemon=True)
        self.slot = slot
        self._pipeline = pipeline
        self._dirty = False  # the pipeline (or what to run of it) changed since the last run
        self._stopping = False
        self._last: Frame | None = None
        self._seq = 0
        self._lock = threading.Lock()
        self._result: Result | None = None
        self._check_memory = ForwardMemoryCheck()  # a run too large for memory: a message
        self._preparers: dict[str, Preparer] = {}  # replaced whole, never mutated
        self._depth: int | None = None
        self._prefix: tuple = (None, None, None)  # (pipeline, depth, prefix pipeline)

    @property
    def latest(self) -> Result | None:
        """The newest Result (good or with an error); read from any thread."""
        with self._lock:
            return self._result

    @property
    def depth(self) -> int | None:
        """Layers run per frame (the first ``depth``), None for the whole pipeline."""
        return self._depth

    def set_pipeline(self, pipeline) -> None:
        with self.slot.changed:
            self._pipeline, self._dirty = pipeline, True
            self.slot.changed.notify_all()

    def set_depth(self, depth: int | None) -> None:
        """Run only the first ``depth`` layers (None: all); the last frame runs again."""
        with self.slot.changed:
            if depth != self._depth:
                self._depth, self._dirty = depth, True
                self.slot.changed.notify_all()

    def set_preparer(self, key: str, preparer: Preparer | None, rerun: bool = False) -> None:
        """Register (or with None remove) a preparer; ``rerun``: run the last frame again so
        that its product arrives even while paused."""
        with self.slot.changed:
            preparers = dict(self._preparers)
            if preparer is None:
                preparers.pop(key, None)
            else:
                preparers[key] = preparer
            self._preparers = preparers
            if rerun and preparer is not None:
                self._dirty = True
                self.slot.changed.notify_all()

    def has_preparer(self, key: str) -> bool:
        return key in self._preparers

    def stop(self) -> None:
        with self.slot.changed:
            self._stopping = True
            self.slot.changed.notify_all()

    def run(self) -> None:
        background_thread(WORKER_NICENESS)  # the GUI thread first when both cores are busy
        while True:
            with self.slot.changed:
                while not self._stopping:
                    frame = self.slot.take()
                    if frame is not None or (self._dirty and self._last is not None):
                        break
                    self.slot.changed.wait()
                if self._stopping:
                    return
                pipeline, self._dirty = self._pipeline, False
                depth, preparers = self._depth, self._preparers
            frame = frame or self._last
            self._last = frame
            self._seq += 1
            result = self._run(frame, pipeline, depth)
            if result.error is None and preparers:
                result = self._prepare(result, preparers)
            with self._lock:
                self._result = result

    def _run(self, frame: Frame, pipeline, depth: int | None) -> Result:
        from engine.io.preprocess import frame_to_input

        timings: dict[str, float] = {}
        activations: dict[str, np.ndarray] = {}
        error = None
        x = np.zeros((0, 0, 0), np.float32)
        start = time.perf_counter()
        preprocess_ms = 0.0
        try:
            x = frame_to_input(frame.image, pipeline)
            preprocess_ms = (time.perf_counter() - start) * 1000.0
            runner = self._runner(pipeline, depth)
            self._check_memory(runner, x.shape)
            activations = runner.forward(x, timings)
        except Exception as exc:
            # Any failure becomes a message, never a dead thread.
            h, w = frame.image.shape[:2]
            error = _("The pipeline cannot run on this {w} x {h} frame: {exc}").format(
                w=w, h=h, exc=exc)
            activations, timings = {}, {}
        total = (time.perf_counter() - start) * 1000.0
        ran = None if depth is None or depth >= len(pipeline.nodes) else depth
        return Result(self._seq, frame.image, x, pipeline, activations, timings, total,
                      frame.captured_at, error, frame.capture_ms, preprocess_ms, depth=ran)

    def _runner(self, pipeline, depth: int | None):
        """The pipeline, or its first ``depth`` nodes (kept while neither changes)."""
        if depth is None or depth >= len(pipeline.nodes):
            return pipeline
        if self._prefix[0] is not pipeline or self._prefix[1] != depth:
            # Nodes are in topological order: a prefix holds every input its nodes need.
            prefix = pipeline._with_nodes(pipeline.nodes[:max(depth, 1)])
            self._prefix = (pipeline, depth, prefix)
        return self._prefix[2]

    def _prepare(self, result: Result, preparers: dict[str, Preparer]) -> Result:
        prepared: dict[str, object] = {}
        spent: dict[str, float] = {}
        for key, preparer in preparers.items():
            start = time.perf_counter()
            try:
                prepared[key] = preparer(result)
            except Exception:  # the dock falls back to drawing it itself
                continue
            spent[key] = (time.perf_counter() - start) * 1000.0
        result.prepared.update(prepared)
        result.prepare_ms.update(spent)
        return result
