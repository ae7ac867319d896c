"""Where the live loop's time goes: per stage, per shown result (``benchmarks/live.py --stages``).

Stages on the worker threads come with every Result (capture and resize, preprocessing, each
layer, each dock's preparation in the engine thread). Stages on the GUI thread are timed by
wrapping, for the run only, each dock's result slot, the colour and mosaic helpers, pyqtgraph's
``setImage`` and the painting of every pyqtgraph view; the GUI thread's own CPU time
(``time.thread_time``) gives the total, the rest of which is Qt's (layouts, plain widgets'
painting, timers). The engine is also run alone in the same process on the same frame before the
window opens: the in-app time against that one is what the GUI thread costs the engine (the GIL
and the second core shared).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

_RESULT_SLOTS = ("_on_live_result", "_on_live_result_updated")


def engine_alone(pipeline, frame: np.ndarray, runs: int = 20) -> dict[str, float]:
    """Median ms per layer (and ``"preprocess"``, ``"total"``) with nothing else running."""
    from engine.io.preprocess import frame_to_input

    rows: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs + 3):
        start = time.perf_counter()
        x = frame_to_input(frame, pipeline)
        rows["preprocess"].append((time.perf_counter() - start) * 1000.0)
        timings: dict[str, float] = {}
        pipeline.forward(x, timings)
        rows["total"].append((time.perf_counter() - start) * 1000.0)
        for name, ms in timings.items():
            rows[name].append(ms)
    return {name: float(np.median(v[3:])) for name, v in rows.items()}


def _queued_s() -> float:
    """Seconds the calling thread has waited for a core (Linux schedstat), 0 elsewhere."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class _PaintTimer(QObject):
    """Delivers each window's repaint and relayout itself, to time it."""

    def __init__(self, probe: StageProbe) -> None:
        super().__init__()
        self.probe = probe
        self._inside = False

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if self._inside or kind not in (QEvent.Type.UpdateRequest, QEvent.Type.LayoutRequest):
            return False
        if not isinstance(obj, QWidget):
            return False
        stage = ("Qt painting (every window)" if kind == QEvent.Type.UpdateRequest
                 else "Qt layout")
        self._inside = True
        try:
            self.probe._timed(stage, obj.event, waits=True)(event)
        finally:
            self._inside = False
        return True


@dataclass(frozen=True)
class _Times:
    """A shown result's timings (ms)."""

    capture_ms: float
    preprocess_ms: float
    timings_ms: dict[str, float]
    total_ms: float
    prepare_ms: dict[str, float]


class StageProbe:
    """Times the GUI thread's stages of a shown window until :meth:`detach`."""

    def __init__(self, window) -> None:
        self.window, self.live = window, window.live
        self.gui_ms: dict[str, float] = defaultdict(float)  # stage -> total ms
        self.calls: dict[str, int] = defaultdict(int)
        self.waits: dict[str, float] = defaultdict(float)  # GUI-thread painting and slots
        self.results: list = []
        self._undo: list = []
        self._painting = _PaintTimer(self)
        self._cpu0 = self._t0 = 0.0
        self.cpu_ms = self.wall_ms = 0.0

    # -- wrapping ---------------------------------------------------------------------------
    def _timed(self, stage: str, fn, waits: bool = False):
        """``fn`` timed into ``stage``; ``waits``: also split its wall time into CPU, waiting
        for a core (the kernel's run-queue delay) and the rest: blocked, i.e. waiting for
        the GIL (a GUI-thread stage never sleeps otherwise)."""
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            if waits:
                cpu0, queued0 = time.thread_time(), _queued_s()
            try:
                return fn(*args, **kwargs)
            finally:
                wall = (time.perf_counter() - start) * 1000.0
                self.gui_ms[stage] += wall
                self.calls[stage] += 1
                if waits:
                    cpu = (time.thread_time() - cpu0) * 1000.0
                    queued = (_queued_s() - queued0) * 1000.0
                    self.waits["on a core (CPU)"] += cpu
                    self.waits["waiting for a core (machine load)"] += queued
                    self.waits["waiting for the GIL"] += max(wall - cpu - queued, 0.0)
        return wrapper

    def _patch(self, owner, name: str, stage: str) -> None:
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name)
        if original is None:
            return
        setattr(owner, name, self._timed(stage, original))
        self._undo.append(lambda: setattr(owner, name, original))

    def attach(self) -> None:
        import pyqtgraph as pg

        from gui.docks import maps
        from gui.widgets import mosaic_view

        for module, name, stage in (
            (maps, "scale_maps", "colormap scaling (GUI)"),
            (mosaic_view, "to_indices", "mosaic: values to colour indices (GUI)"),
            (mosaic_view, "tile_maps", "mosaic: tiling (GUI)"),
            (maps, "value_range", "colormap ranges (GUI)"),
        ):
            if hasattr(module, name):
                self._patch(module, name, stage)
        self._patch(pg.ImageItem, "setImage", "pyqtgraph setImage")
        app = QApplication.instance()
        app.installEventFilter(self._painting)
        self._undo.append(lambda: app.removeEventFilter(self._painting))
        live = self.live
        for key, dock in self.window.docks.items():
            if getattr(dock, "is_built", True) is False:
                continue  # never opened: not built, connected to nothing
            widget = dock.widget()
            for slot_name in _RESULT_SLOTS:
                slot = getattr(widget, slot_name, None)
                if slot is None:
                    continue
                try:
                    connected = live.resultUpdated.disconnect(slot)
                except (RuntimeError, TypeError):
                    connected = False
                if connected is False:
                    continue
                timed = self._timed(f"dock {key}: per-result slot", slot)
                live.resultUpdated.connect(timed)
                self._undo.append(lambda t=timed, s=slot: (live.resultUpdated.disconnect(t),
                                                           live.resultUpdated.connect(s)))
        live.resultUpdated.connect(self._keep)
        self._undo.append(lambda: live.resultUpdated.disconnect(self._keep))
        live._timer.timeout.disconnect(live._poll)
        timed_poll = self._timed("poll: every result slot together", live._poll, waits=True)
        live._timer.timeout.connect(timed_poll)
        self._undo.append(lambda: (live._timer.timeout.disconnect(timed_poll),
                                   live._timer.timeout.connect(live._poll)))
        self._cpu0, self._t0 = time.thread_time(), time.perf_counter()

    def _keep(self, result) -> None:
        # Only the figures: holding results would keep every frame's activations alive.
        if result.error is None:
            self.results.append(_Times(getattr(result, "capture_ms", 0.0),
                                       getattr(result, "preprocess_ms", 0.0),
                                       dict(result.timings_ms), result.total_ms,
                                       dict(getattr(result, "prepare_ms", {}))))

    def detach(self) -> None:
        self.cpu_ms = (time.thread_time() - self._cpu0) * 1000.0
        self.wall_ms = (time.perf_counter() - self._t0) * 1000.0
        for undo in reversed(self._undo):
            undo()
        self._undo = []

    # -- report -----------------------------------------------------------------------------
    def table(self, alone: dict[str, float]) -> str:
        """A markdown table: each stage's ms per shown result, and the engine alone."""
        results = self.results or [None]
        n = max(len(self.results), 1)
        lines = ["| stage | thread | ms per shown result | alone (ms) |",
                 "| --- | --- | --- | --- |"]

        def med(values) -> float:
            values = list(values)
            return float(np.median(values)) if values else 0.0

        r0 = results[-1]
        if r0 is None:
            return "no result was shown"
        lines.append(f"| capture and resize | capture | {med(r.capture_ms for r in results):.1f}"
                     " | |")
        lines.append(f"| preprocess (frame to input) | engine |"
                     f" {med(r.preprocess_ms for r in results):.1f} |"
                     f" {alone.get('preprocess', 0):.1f} |")
        for name in r0.timings_ms:
            lines.append(f"| layer {name} | engine | "
                         f"{med(r.timings_ms.get(name, 0.0) for r in results):.1f} |"
                         f" {alone.get(name, 0):.1f} |")
        lines.append(f"| engine total | engine | {med(r.total_ms for r in results):.1f} |"
                     f" {alone.get('total', 0):.1f} |")
        for key in sorted({k for r in results for k in r.prepare_ms}):
            lines.append(f"| prepare for dock {key} (mosaic, colours) | engine |"
                         f" {med(r.prepare_ms.get(key, 0.0) for r in results):.1f} | |")
        for stage in sorted(self.gui_ms, key=lambda s: -self.gui_ms[s]):
            lines.append(f"| {stage} | GUI | {self.gui_ms[stage] / n:.2f} | |")
        lines.append(f"| GUI thread CPU, all of it | GUI | {self.cpu_ms / n:.1f} | |")
        for what in sorted(self.waits):
            lines.append(f"| GUI thread in painting and result slots: {what} | GUI |"
                         f" {self.waits[what] / n:.2f} | |")
        busy = 100.0 * self.cpu_ms / max(self.wall_ms, 1e-9)
        lines.append(f"| GUI thread busy (share of one core) | GUI | {busy:.0f} % | |")
        return "\n".join(lines)
