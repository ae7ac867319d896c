"""LiveResults: the GUI-thread hub between the worker threads and the docks.

The capture and engine threads never touch Qt. A 50 Hz timer in the GUI thread looks at the
engine's one-slot result and emits ``resultUpdated`` only when a new one is there, so the
display can never fall behind: whatever was not shown in time is simply replaced.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from engine.i18n import _
from gui.capture import CaptureWorker
from gui.live_engine import EngineWorker, FrameSlot, Result
from gui.live_pace import PaceMonitor, Slowdown
from gui.session import Session
from gui.session_state import SourceInfo, SourceSpec

__all__ = ["LiveResults", "Result", "Stats"]

# 50 Hz: a 33 ms (30 Hz) poll caps the display just under 30 fps once timer jitter is counted;
# an idle poll costs microseconds, and docks redraw only when a new result arrived.
POLL_MS = 20
STATS_MS = 500
JOIN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Stats:
    """What the status bar shows about the live loop."""

    capture_fps: float
    engine_ms: float
    display_fps: float
    dropped: int
    limit: str = ""  # the stage that keeps the loop from keeping up; "" while it keeps up

    def describe(self) -> str:
        if self.capture_fps:
            capture = _("capture {fps:.0f} fps").format(fps=self.capture_fps)
        else:
            capture = _("capture idle")
        text = _("{capture} · engine {ms:.1f} ms · display {fps:.0f} fps · dropped {n}").format(
            capture=capture, ms=self.engine_ms, fps=self.display_fps, n=self.dropped)
        if self.limit:
            text += " · " + _("limited by {stage}").format(stage=self.limit)
        return text


class LiveResults(QObject):
    """Owns the capture and engine threads and publishes their results in the GUI thread.

    Docks read :attr:`latest` and connect to :attr:`resultUpdated`; they never run the engine
    for the live view themselves.

    Parameters
    ----------
    session : Session
        Followed for source, pipeline, pause and working-resolution changes.
    start : bool
        Start the threads at once (tests may start them later with :meth:`start`).
    """

    resultUpdated = Signal(object)  # Result, only when a new one arrived, for the current pipeline
    statsUpdated = Signal(object)  # Stats, twice a second
    errorChanged = Signal(str)  # why the pipeline cannot run on the frame; "" when it can again
    sourceInfoChanged = Signal(object)  # SourceInfo of the source now open
    slowdownChanged = Signal(object)  # gui.live_pace.Slowdown when it cannot keep up, else None

    def __init__(self, session: Session, parent: QObject | None = None, start: bool = True):
        super().__init__(parent)
        self.session = session
        self._messages: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._slot = FrameSlot()
        self.capture = CaptureWorker(self._slot, self._post, session.display.resolution)
        self.engine = EngineWorker(self._slot, session.pipeline)
        self._latest: Result | None = None
        self._seen_seq = 0
        self.error: str | None = None
        self.source_info: SourceInfo | None = None
        self._shown: list[float] = []  # times results were shown, for display fps
        self.shown_count = 0  # results shown since the start
        self.pace = PaceMonitor()
        self.slowdown: Slowdown | None = None
        self._gui_clock = (time.thread_time(), 0)  # (GUI thread CPU time, results shown)
        self._depth_source = None  # () -> layers the open panels need (None: all)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(STATS_MS)
        self._stats_timer.timeout.connect(self._emit_stats)
        session.pipeline_changed.connect(self._on_session_pipeline)
        session.source_changed.connect(self._on_session_source)
        session.display_changed.connect(self._on_session_display)
        session.paused_changed.connect(self._on_session_paused)
        session.selected_layer_changed.connect(self._on_session_layer)
        self.capture.set_paused(session.paused)
        self.capture.set_source(session.source)
        if start:
            self.start()

    # -- public ---------------------------------------------------------------------------
    @property
    def latest(self) -> Result | None:
        """The newest good Result for the session's current pipeline, or None."""
        r = self._latest
        return r if r is not None and r.pipeline is self.session.pipeline else None

    @property
    def frame_hw(self) -> tuple[int, int] | None:
        """(height, width) of the last frame shown, None before the first."""
        r = self._latest
        return None if r is None else tuple(r.frame.shape[:2])

    @property
    def running(self) -> bool:
        return self.capture.is_alive() or self.engine.is_alive()

    def start(self) -> None:
        """Start the worker threads and the poll timer."""
        if not self.capture.is_alive():
            self.capture.start()
            self.engine.start()
        self._timer.start()
        self._stats_timer.start()

    def stop(self) -> None:
        """Stop and join both threads; safe to call twice."""
        self._timer.stop()
        self._stats_timer.stop()
        for signal, slot in (
            (self.session.pipeline_changed, self._on_session_pipeline),
            (self.session.source_changed, self._on_session_source),
            (self.session.display_changed, self._on_session_display),
            (self.session.paused_changed, self._on_session_paused),
            (self.session.selected_layer_changed, self._on_session_layer),
        ):
            signal.disconnect(slot, missing_ok=True)
        self.capture.stop()
        self.engine.stop()
        for thread in (self.capture, self.engine):
            if thread.is_alive():
                thread.join(JOIN_TIMEOUT_S)

    def reopen(self) -> None:
        """Open the session's source again (a camera plugged back in, a file rewritten)."""
        self.capture.set_source(self.session.source, force=True)

    def step(self) -> None:
        """Pause (if playing) and advance exactly one frame."""
        self.session.set_paused(True)
        self.capture.step()

    def set_preparer(self, key: str, preparer) -> None:
        """Have the engine thread run ``preparer(result)`` after every forward pass and put
        its product in ``result.prepared[key]`` (None: stop). Docks prepare their images
        there, off the GUI thread, while they are visible."""
        self.engine.set_preparer(key, preparer)

    def set_depth_source(self, source) -> None:
        """``source()`` says how many layers the open panels need (None: all); used while the
        session's ``shown_layers_only`` option is on."""
        self._depth_source = source
        self.refresh_depth()

    def refresh_depth(self) -> None:
        """Run as deep as the open panels need now (a panel opened, a layer selected)."""
        depth = None
        if self.session.display.shown_layers_only and self._depth_source is not None:
            depth = self._depth_source()
        self.engine.set_depth(depth)

    def reset_pace(self) -> None:
        """Forget the slowdown seen so far (its remedy was just applied): judge afresh."""
        self.pace.reset()
        self.slowdown = None

    def poll(self) -> None:
        """Publish whatever arrived now, without waiting for the timer (tests, screenshots)."""
        self._poll()

    # -- session handlers (GUI thread) ----------------------------------------------------
    def _on_session_pipeline(self, pipeline) -> None:
        self.engine.set_pipeline(pipeline)

    def _on_session_source(self, spec: SourceSpec) -> None:
        self.capture.set_source(spec)

    def _on_session_display(self, display) -> None:
        self.capture.set_resolution(display.resolution)
        self.refresh_depth()

    def _on_session_layer(self, _index: int) -> None:
        self.refresh_depth()

    def _on_session_paused(self, paused: bool) -> None:
        self.capture.set_paused(paused)

    # -- worker -> GUI --------------------------------------------------------------------
    def _post(self, level: str, text: str) -> None:
        """Called from the worker threads: queue a message for the GUI thread."""
        self._messages.put((level, text))

    def _poll(self) -> None:
        while not self._messages.empty():
            self.session.message.emit(*self._messages.get())
        self._revert_failed_sources()
        info = self.capture.info
        if info is not self.source_info:
            self.source_info = info
            self.sourceInfoChanged.emit(info)
        result = self.engine.latest
        if result is None or result.seq == self._seen_seq:
            return
        self._seen_seq = result.seq
        if result.pipeline is not self.session.pipeline:
            return  # a run of a pipeline already replaced: stale, the new one is coming
        self._set_error(result.error)
        if result.error is None:
            self._latest = result
            self._shown = [*self._shown[-59:], time.perf_counter()]
            self.shown_count += 1
            self.resultUpdated.emit(result)

    def _set_error(self, error: str | None) -> None:
        if error != self.error:
            self.error = error
            self.errorChanged.emit(error or "")
            if error:
                self.session.message.emit("error", error)

    def _revert_failed_sources(self) -> None:
        # A source that failed to open must not stay in the session (nor be restored next time):
        # go back to the one still showing, or to the default sample.
        while not self.capture.failed.empty():
            spec = self.capture.failed.get()
            if self.session.source == spec:
                current = self.capture.current_spec
                self.session.set_source(current if current is not None else SourceSpec())

    def _emit_stats(self) -> None:
        now = time.perf_counter()
        latest = self._latest
        capture_fps = 0.0 if self.capture.still or self.session.paused else _rate(
            self.capture.capture_times, now)
        display_fps = _rate(self._shown, now)
        self._watch_pace(now, capture_fps, display_fps, latest)
        self.statsUpdated.emit(
            Stats(
                capture_fps=capture_fps,
                engine_ms=latest.total_ms if latest is not None else 0.0,
                display_fps=display_fps,
                dropped=self._slot.dropped,
                limit=self.slowdown.text if self.slowdown is not None else "",
            )
        )

    def _watch_pace(self, now: float, capture_fps: float, display_fps: float, latest) -> None:
        """Feed the pace monitor; say when the loop stops (or starts again) keeping up."""
        cpu, shown = time.thread_time(), self.shown_count
        last_cpu, last_shown = self._gui_clock
        self._gui_clock = (cpu, shown)
        gui_ms = (cpu - last_cpu) * 1000.0 / max(shown - last_shown, 1)  # per shown frame
        engine_ms, slowest = 0.0, ""
        if latest is not None:
            engine_ms = latest.total_ms + sum(latest.prepare_ms.values())
            if latest.timings_ms:
                slowest = max(latest.timings_ms, key=latest.timings_ms.get)
        before = self.slowdown
        self.slowdown = self.pace.update(now, display_fps, capture_fps, engine_ms, gui_ms,
                                         slowest)
        if (before is None) != (self.slowdown is None) or (
                before is not None and before.stage != self.slowdown.stage):
            self.slowdownChanged.emit(self.slowdown)


def _rate(times: list[float], now: float, window: float = 2.0) -> float:
    """Events per second over the last ``window`` seconds."""
    recent = [t for t in times if now - t <= window]
    if len(recent) < 2:
        return 0.0
    return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)
