"""The Explain dock: "Why this class?" and "What drives this channel?" as two tabs.

It owns the threads (:mod:`gui.explain.workers`): a live worker that serves the newest request
of the tab in front, one per live frame, and three task runners for the long methods. A timer
in the GUI thread reads their one-slot holders and hands outcomes to the tabs; it runs only
while the dock is on screen or a long job is going on. A hidden dock sends no requests, and its
live worker is stopped; closing the window cancels the long jobs and joins every thread.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from engine.i18n import _
from gui.explain.channel_tab import ChannelTab
from gui.explain.class_tab import ClassTab
from gui.explain.jobs import Failure, FgsmOutcome, HeatOutcome
from gui.explain.workers import JOIN_TIMEOUT_S, LiveWorker, TaskRunner

__all__ = ["POLL_MS", "ExplainDock"]

POLL_MS = 15  # reading the worker's slot costs microseconds; a map waits at most this long


class ExplainDock(QWidget):
    """Explanations of the live frame (first tab) and of the selected channel (second tab).

    Signals
    -------
    mapShown(object)
        A live map (or FGSM's pictures) was drawn: its outcome (for benchmarks and tests).
    """

    mapShown = Signal(object)

    def __init__(self, session, live, parent=None):
        super().__init__(parent)
        self.session, self.live = session, live
        self.worker: LiveWorker | None = None
        self.class_tasks, self.max_tasks, self.patch_tasks = (TaskRunner(), TaskRunner(),
                                                              TaskRunner())
        self._seen = 0  # number of the worker's last outcome handled
        self.shown: list[float] = []  # when live maps were drawn (for maps a second)
        self.class_tab = ClassTab(session, live, self.class_tasks)
        self.channel_tab = ChannelTab(session, live, (self.max_tasks, self.patch_tasks),
                                      self.class_tab.names)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.class_tab, _("Why this class?"))
        self.tabs.setTabToolTip(0, _("Which parts of the frame made the network give its"
                                     " answer: saliency, Grad-CAM, occlusion, FGSM and more"))
        self.tabs.addTab(self.channel_tab, _("What drives this channel?"))
        self.tabs.setTabToolTip(1, _("For the map selected in the activation maps panel: the"
                                     " input that excites it most, its top 9 patches, its"
                                     " weight for the top class"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.class_tab.changed.connect(self.resubmit)
        session.selected_layer_changed.connect(self._on_session_selection_changed)
        live.resultUpdated.connect(self._on_live_result)

    # -- showing and hiding -------------------------------------------------------------------
    def show_channel(self) -> None:
        """Bring the "What drives this channel?" tab to the front."""
        self.tabs.setCurrentWidget(self.channel_tab)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.worker is None:
            self.worker, self._seen = LiveWorker(), 0  # a new worker counts from 1 again
            self.worker.start()
        self.timer.start()
        self.resubmit()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._stop_worker()
        window = self.window()
        if window is self or not window.isVisible():  # the window is closing
            self.shutdown()

    def shutdown(self) -> None:
        """Cancel the long jobs and join every thread (the window is closing)."""
        self._stop_worker()
        for runner in (self.class_tasks, self.max_tasks, self.patch_tasks):
            runner.shutdown()
        self.timer.stop()

    def _stop_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()
            worker.join(JOIN_TIMEOUT_S)

    # -- requests -----------------------------------------------------------------------------
    def _on_live_result(self, result) -> None:
        if self.isVisible():
            self._submit(result)

    def _on_tab_changed(self, _index: int) -> None:
        self.resubmit()

    def _on_session_selection_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.channel_tab:
            self.resubmit()

    def resubmit(self) -> None:
        """Compute the tab in front again on the newest frame (a setting changed)."""
        latest = self.live.latest
        if latest is not None and self.isVisible():
            self._submit(latest)

    def _submit(self, result) -> None:
        if self.worker is None:
            return
        request = self.tabs.currentWidget().live_request(result)
        if request is not None:
            self.worker.submit(request)

    # -- results ------------------------------------------------------------------------------
    def poll(self) -> None:
        """Hand the newest outcome and the long jobs' progress to the tabs (GUI thread)."""
        latest = self.worker.latest if self.worker is not None else None
        if latest is not None and latest[0] != self._seen:
            self._seen, outcome = latest
            self._show(outcome)
        for runner, on_progress, on_done in (
            (self.class_tasks, self.class_tab.on_task_progress, self.class_tab.on_task_done),
            (self.max_tasks, self.channel_tab.on_maximize_progress,
             self.channel_tab.on_maximize_done),
            (self.patch_tasks, self.channel_tab.on_patches_progress,
             self.channel_tab.on_patches_done),
        ):
            progress, done = runner.take()
            if progress is not None:
                on_progress(progress)
            if done is not None:
                on_done(done)
        busy = any(r.running for r in (self.class_tasks, self.max_tasks, self.patch_tasks))
        if not self.isVisible() and not busy:
            self.timer.stop()

    def _show(self, outcome) -> None:
        if outcome.request.pipeline is not self.session.pipeline:
            return  # computed for a pipeline replaced since: the new one's is coming
        if outcome.request.kind == "alpha":
            self.channel_tab.show_outcome(outcome)
            return
        if isinstance(outcome, HeatOutcome | FgsmOutcome):
            now = time.perf_counter()
            self.shown = [*self.shown[-59:], now]
            recent = [t for t in self.shown if now - t <= 2.0]
            self.class_tab.rate = ((len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)
                                   if len(recent) > 1 else 0.0)
        if isinstance(outcome, HeatOutcome | FgsmOutcome | Failure):
            self.class_tab.show_outcome(outcome)
        if isinstance(outcome, HeatOutcome | FgsmOutcome):
            self.mapShown.emit(outcome)
