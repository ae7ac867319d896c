"""The Train workspace's hub in the GUI thread: the plan, the commands, the latest snapshot.

One :class:`TrainController` per window (per Session): every Train panel gets it with
:func:`controller_for`. It owns the training process (a
:class:`~gui.train.process.TrainProcess`, started on the first command) and a 20 Hz timer that
looks at its newest snapshot; when a new one is there it appends the new curve points to
:attr:`curves` in place and emits ``snapshotUpdated`` once. Nothing here waits for training.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from engine.i18n import _
from gui.train.curves_data import CurveStore
from gui.train.plan import TrainPlan, check_plan
from gui.train.process import TrainProcess
from gui.train.recording import DEFAULT_DATASET, RecordedClasses, datasets_dir
from gui.train.snapshot import Snapshot
from gui.train.worker import ACTIVE

__all__ = ["POLL_MS", "TrainController", "controller_for", "set_persist", "shutdown"]

POLL_MS = 50
_CONTROLLERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PERSIST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def set_persist(session, persist: bool) -> None:
    """Whether the session's training runs are kept (call before the first panel is built)."""
    _PERSIST[session] = persist


def controller_for(session, live) -> TrainController:
    """The session's controller, made on first use."""
    controller = _CONTROLLERS.get(session)
    if controller is None:
        controller = TrainController(session, live, _PERSIST.get(session, True))
        _CONTROLLERS[session] = controller
    return controller


def shutdown(session) -> None:
    """Stop the session's training thread, if one was made (the window closes)."""
    controller = _CONTROLLERS.pop(session, None)
    if controller is not None:
        controller.shutdown()


class TrainController(QObject):
    """Plan, commands and the newest snapshot of the session's training."""

    snapshotUpdated = Signal(object)  # Snapshot, at most 20 times a second, only when new
    runChanged = Signal(object)  # Snapshot of a new run, a reset or a resumed run: views clear
    planChanged = Signal(object)  # TrainPlan
    replayChanged = Signal(object)  # index into the snapshot's epoch_filters, or None: live
    message = Signal(str, str)  # (level, text) for the Training panel
    recordedChanged = Signal(object)  # RecordedClasses: another set, or its classes or frames

    def __init__(self, session, live, persist: bool = True, parent=None) -> None:
        super().__init__(parent if parent is not None else live)
        self.session, self.live, self.persist = session, live, persist
        self.plan = TrainPlan()
        self.latest = Snapshot(0, 0, "idle")
        self.curves = CurveStore()
        self.replay: int | None = None
        self.recorded = RecordedClasses(datasets_dir() / DEFAULT_DATASET)
        self._worker: TrainProcess | None = None
        self._seen_seq = self._seen_points = 0
        self._generation = 0
        self._last_message = ""
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    # -- state ----------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self.latest.state

    @property
    def busy(self) -> bool:
        """Preparing or training."""
        return self.state in ("preparing", "running")

    @property
    def pending(self) -> bool:
        """Commands sent that the window has not seen the outcome of yet."""
        worker = self._worker
        return worker is not None and (worker.has_commands or worker.latest.seq != self._seen_seq)

    @property
    def locked(self) -> bool:
        """A run is being made or can go on: the panels that define it cannot change it."""
        return self.state in ("preparing", *ACTIVE)

    @property
    def has_run(self) -> bool:
        """A run that can go on (ready, running or paused)."""
        return self.state in ACTIVE

    def set_plan(self, **changes) -> None:
        """Change the plan (data, samples, network, config, val_split); the next run uses it."""
        plan = self.plan.replace(**changes)
        if plan != self.plan:
            self.plan = plan
            self.planChanged.emit(plan)

    @property
    def uses_recorded(self) -> bool:
        """Does the plan train on the recorded classes?"""
        return self.plan.data == str(self.recorded.folder)

    def set_recorded(self, name: str) -> None:
        """Record into (and train on, when chosen) the recorded data set ``name``."""
        uses = self.uses_recorded
        self.recorded = RecordedClasses(datasets_dir() / name)
        if uses:
            self.set_plan(data=str(self.recorded.folder))
        self.recordedChanged.emit(self.recorded)

    def recorded_edited(self) -> None:
        """The recorded classes or their frames changed (the classes panel says so)."""
        self.recordedChanged.emit(self.recorded)

    # -- commands -------------------------------------------------------------------------------
    def _send(self, *command) -> None:
        if self._worker is None:
            self._worker = TrainProcess(self.persist)
            self._worker.start()
            self._timer.start()
        self._worker.command(*command)

    def _prepare_if_needed(self) -> bool:
        """Queue a new run from the plan unless one can go on; False (and a message) when the
        plan cannot make one."""
        from engine.train.dataset import DatasetError

        if self.has_run or self.state == "preparing":
            return True
        try:
            check_plan(self.plan)
        except DatasetError as error:
            self.say("error", str(error))
            return False
        problem = self.recorded.problem() if self.uses_recorded else None
        if problem:
            self.say("error", problem)
            return False
        self.set_replay(None)
        self._send("prepare", self.plan, self.session.pipeline)
        return True

    def start(self, max_steps: int | None = None) -> None:
        """Train (a new run from the plan when none can go on); ``max_steps``: then pause."""
        if self._prepare_if_needed():
            self._send("run", max_steps)

    def pause(self) -> None:
        if self._worker is not None:
            self._worker.command("pause")

    def step_batch(self) -> None:
        if self._prepare_if_needed():
            self._send("step")

    def step_epoch(self) -> None:
        if self._prepare_if_needed():
            self._send("epoch")

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.command("stop")

    def reset(self) -> None:
        """Forget the run (its checkpoint stays on disk); the next Start begins anew."""
        self.set_replay(None)
        self._send("reset")

    def resume(self, folder) -> None:
        """Go on with the run saved in ``folder`` (paused at its last checkpoint)."""
        self.set_replay(None)
        self._send("resume", Path(folder))

    def set_replay(self, index: int | None) -> None:
        """Show the filters and curves as they were at stored epoch ``index`` (None: live)."""
        if index != self.replay:
            self.replay = index
            self.replayChanged.emit(index)

    def say(self, level: str, text: str) -> None:
        self.message.emit(level, text)
        self.session.message.emit(level, text)

    # -- results --------------------------------------------------------------------------------
    def network(self):
        """The trained network as it is now, or None before a run."""
        snapshot = self.latest
        return snapshot.pipeline if snapshot.has_network else None

    def save(self, path) -> bool:
        """Save the network as a pipeline file (and its class names beside it)."""
        from engine.graph.spec import save_pipeline
        from gui.labels import labels_path

        network = self.network()
        if network is None:
            self.say("error", _("There is no trained network to save yet: press Start first."))
            return False
        try:
            save_pipeline(network, path)
            names = "".join(f"{c}\n" for c in self.latest.class_names)
            labels_path(path).write_text(names, encoding="utf-8")
        except (OSError, ValueError) as error:
            self.say("error", _("Could not save the network: {reason}").format(reason=error))
            return False
        self.say("info", _("The trained network is saved to {path}; it opens like any pipeline"
                           " file.").format(path=path))
        return True

    def export(self, fmt: str, path) -> bool:
        """Export the trained network as ONNX, PyTorch source or a numpy script (File > Export's
        formats); the class names go beside it."""
        from engine.export import export_pipeline
        from gui.labels import labels_path

        network = self.network()
        if network is None:
            self.say("error", _("There is no trained network to export yet: press Start"
                                " first."))
            return False
        spec = network.input_spec
        try:
            files = export_pipeline(network, fmt, path, (spec.channels, spec.height, spec.width)
                                    if spec.height and spec.width else None)
            names = "".join(f"{c}\n" for c in self.latest.class_names)
            labels_path(path).write_text(names, encoding="utf-8")
        except (OSError, ValueError) as error:
            self.say("error", _("Could not export the network: {reason}").format(reason=error))
            return False
        self.say("info", _("The trained network is exported to {files}.").format(
            files=", ".join(str(f) for f in files)))
        return True

    def use_network(self) -> bool:
        """Put the trained network into the window: the Explore panels and the Predictions
        panel run it on the input (a camera, a video, the drawing canvas)."""
        network = self.network()
        folder = self.latest.run_folder
        if network is None or folder is None:
            self.say("error", _("There is no trained network to use yet: press Start first."))
            return False
        path = Path(folder) / "current.json"
        if not self.save(path):
            return False
        self.session.set_pipeline(network, path=str(path))
        self.say("info", _("The trained network now runs on the Input: open a camera (Ctrl+K)"
                           " or a video, or draw on the drawing canvas, and watch its"
                           " predictions."))
        return True

    # -- the timer ------------------------------------------------------------------------------
    def poll(self) -> None:
        """Take the worker's newest snapshot, if it is new (the timer calls this)."""
        if self._worker is None:
            return
        snapshot = self._worker.latest
        if snapshot.seq == self._seen_seq:
            return
        self._seen_seq = snapshot.seq
        self.latest = snapshot
        if snapshot.generation != self._generation:
            self._generation = snapshot.generation
            self._seen_points = 0
            self.curves.clear()
            self.set_replay(None)
            self.runChanged.emit(snapshot)
        if snapshot.curve_len > self._seen_points:
            self.curves.extend(snapshot.curve[self._seen_points:snapshot.curve_len])
            self._seen_points = snapshot.curve_len
        self.curves.set_epochs(snapshot.history)
        if snapshot.message != self._last_message:
            self._last_message = snapshot.message
            if snapshot.message:
                self.say("error" if snapshot.state == "error" else "info", snapshot.message)
        self.snapshotUpdated.emit(snapshot)

    def shutdown(self) -> None:
        """Stop the thread (a resumable checkpoint is kept) and the timer."""
        self._timer.stop()
        if self._worker is not None:
            self._worker.shutdown()
            self._worker = None

