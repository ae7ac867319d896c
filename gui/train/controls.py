"""The Training panel: Start, Pause, Step, Stop, Reset; progress, speed and time left; the
epoch scrubber; Use and Save for the trained network; resuming a run that did not finish."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.train.controller import controller_for
from gui.train.pictures import ProgressLine, StatusText
from gui.train.runs import set_status, unfinished_run
from gui.train.worker import ACTIVE

__all__ = ["BUTTONS", "TrainControlsDock", "duration"]

# (name, text, controller method, shortcut shown in the tooltip, tooltip)
BUTTONS = (
    ("start", N_("Start"), "start", "F5",
     N_("Train: a new run from the Data, Network and Settings panels, or go on with the"
        " paused one")),
    ("pause", N_("Pause"), "pause", "F6",
     N_("Pause after the current batch; Start goes on from there")),
    ("stop", N_("Stop"), "stop", "Shift+F5",
     N_("End the run here: the network keeps the weights learned so far")),
    ("step", N_("Step batch"), "step_batch", "F10",
     N_("Train on one batch of pictures, then pause: watch a single update")),
    ("epoch", N_("Step epoch"), "step_epoch", "Shift+F10",
     N_("Train until every training picture was seen once more, then pause")),
    ("reset", N_("Reset"), "reset", "Ctrl+Shift+F5",
     N_("Forget this run: the next Start begins with fresh weights and empty curves")),
)
REPLAY_MS = 600  # one stored epoch per this many milliseconds when replaying
STATES = {
    "idle": N_("Ready to train: choose the data, the network and the settings, then press"
               " Start."),
    "preparing": N_("Preparing the data and the network..."),
    "ready": N_("Ready: press Start, or step one batch at a time."),
    "running": N_("Training..."),
    "paused": N_("Paused."),
    "done": N_("Finished."),
    "stopped": N_("Stopped."),
    "error": N_("Training stopped with an error."),
}


def duration(seconds: float) -> str:
    """``75`` -> ``"1:15"``; an hour or more -> ``"1:02:03"``."""
    seconds = max(round(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainControlsDock(QWidget):
    """The Training panel (registered as "train_controls")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.controller = c = controller_for(session, live)
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        for i, (name, text, method, key, tip) in enumerate(BUTTONS):
            button = QPushButton(_(text))
            button.setToolTip(_("{what} ({key})").format(what=_(tip), key=key))
            button.clicked.connect(getattr(c, method))
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[name] = button
        self.status = StatusText(lines=2, bold=True)
        self.progress = ProgressLine()
        self.progress.setToolTip(_("Steps done of the whole run"))
        self.stats = StatusText(lines=2)
        self.stats.setToolTip(_("Training speed in batches (steps) per second, pictures seen"
                                " so far, time spent training and the time left at this speed"))
        self.replay = QSlider(Qt.Orientation.Horizontal)
        self.replay.setToolTip(_("Drag back to see the filters and the curves as they were at"
                                 " the end of an earlier epoch; far right is live"))
        self.replay.valueChanged.connect(self._on_replay_moved)
        self.replay_label = QLabel()
        self.play = QPushButton(_("Replay"))
        self.play.setToolTip(_("Play the stored epochs from the first, then back to live"))
        self.play.clicked.connect(self._on_play)
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(REPLAY_MS)
        self._play_timer.timeout.connect(self._on_play_tick)
        scrub = QHBoxLayout()
        scrub.addWidget(QLabel(_("Epoch")))
        scrub.addWidget(self.replay, 1)
        scrub.addWidget(self.replay_label)
        scrub.addWidget(self.play)
        self.use = QPushButton(_("Use this network"))
        self.use.setToolTip(_("Run the trained network on the Input in the Explore workspace,"
                              " with its predictions: hold things up to the camera"))
        self.use.clicked.connect(self._on_use)
        self.save = QPushButton(_("Save network..."))
        self.save.setToolTip(_("Save the trained network as a pipeline file that opens like"
                               " any other (File > Open pipeline)"))
        self.save.clicked.connect(self.ask_save)
        self.export = QPushButton(_("Export..."))
        self.export.setToolTip(_("Export the trained network as ONNX, PyTorch source or a"
                                 " numpy-only script"))
        self.export.clicked.connect(self.ask_export)
        results = QHBoxLayout()
        results.addWidget(self.use)
        results.addWidget(self.save)
        results.addWidget(self.export)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self._resume_banner())
        layout.addLayout(grid)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.stats)
        layout.addLayout(scrub)
        layout.addLayout(results)
        layout.addWidget(self.message)
        layout.addStretch(1)
        c.snapshotUpdated.connect(self._on_snapshot)
        c.runChanged.connect(self._on_snapshot)
        c.replayChanged.connect(self._on_replay_changed)
        c.message.connect(self._on_message)
        self._on_snapshot(c.latest)

    def _resume_banner(self) -> QFrame:
        self.banner = QFrame()
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        resume = QPushButton(_("Resume"))
        resume.setToolTip(_("Load the run's last checkpoint and go on from there"))
        resume.clicked.connect(self._on_resume)
        dismiss = QPushButton(_("Dismiss"))
        dismiss.setToolTip(_("Leave that run as it is and do not offer it again"))
        dismiss.clicked.connect(self._on_dismiss)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(resume)
        row.addWidget(dismiss)
        box = QVBoxLayout(self.banner)
        box.addWidget(self.banner_text)
        box.addLayout(row)
        self._unfinished = unfinished_run() if self.controller.persist else None
        if self._unfinished is None or self.controller.state != "idle":
            self.banner.hide()
        else:
            run = self._unfinished
            from gui.train.plan import describe_source

            self.banner_text.setText(_(
                "The last training run ({data}, saved at step {step}, epoch {epoch}) did not"
                " finish. Resume it?").format(data=describe_source(run.plan.get("data", "")),
                                             step=run.step, epoch=run.epoch))
        return self.banner

    # -- actions ----------------------------------------------------------------------------
    def _on_resume(self) -> None:
        self.banner.hide()
        self.controller.resume(self._unfinished.folder)

    def _on_dismiss(self) -> None:
        self.banner.hide()
        set_status(self._unfinished.folder, "stopped")

    def _on_use(self) -> None:
        if self.controller.use_network():
            window = self.window()
            if hasattr(window, "show_workspace"):
                window.show_workspace("explore")
                predictions = window.docks.get("predictions")
                if predictions is not None:
                    predictions.show()
                    predictions.raise_()

    def ask_save(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save the trained network"), "trained.json", _("Pipelines (*.json)"))
        if path:
            self.controller.save(path)

    def ask_export(self) -> None:
        from gui.dialogs.export import FORMAT_NAMES

        names = [_(name) for name, _filter in FORMAT_NAMES.values()]
        chosen, ok = QInputDialog.getItem(self, _("Export the trained network"), _("Format:"),
                                          names, 0, False)
        if not ok:
            return
        fmt = list(FORMAT_NAMES)[names.index(chosen)]
        path, _f = QFileDialog.getSaveFileName(
            self, _("Export the trained network"), "trained" + (".onnx" if fmt == "onnx"
                                                                else ".py"),
            _(FORMAT_NAMES[fmt][1]))
        if path:
            self.controller.export(fmt, path)

    def _on_play(self) -> None:
        if self._play_timer.isActive():
            self._play_timer.stop()
            self.controller.set_replay(None)
        elif self.replay.maximum() > 0:
            self.controller.set_replay(0)
            self._play_timer.start()

    def _on_play_tick(self) -> None:
        index = self.controller.replay
        nxt = None if index is None or index + 1 >= self.replay.maximum() else index + 1
        self.controller.set_replay(nxt)
        if nxt is None:
            self._play_timer.stop()

    def _on_replay_moved(self, value: int) -> None:
        live = value >= self.replay.maximum()
        self.controller.set_replay(None if live else value)

    # -- views ------------------------------------------------------------------------------
    def _on_message(self, level: str, text: str) -> None:
        self.message.setStyleSheet("color: #c62828;" if level == "error" else "")
        self.message.setText(text)

    def _on_replay_changed(self, index) -> None:
        stored = self.controller.latest.epoch_filters
        self.replay.blockSignals(True)
        self.replay.setValue(self.replay.maximum() if index is None else index)
        self.replay.blockSignals(False)
        if index is None or index >= len(stored):
            self.replay_label.setText(_("live"))
        else:
            epoch, step, _filters = stored[index]
            self.replay_label.setText(_("start") if step == 0 else
                                      _("{epoch} (step {step})").format(epoch=epoch, step=step))
        self.play.setText(_("Stop replay") if self._play_timer.isActive() else _("Replay"))

    def _on_snapshot(self, s) -> None:
        state = s.state
        for name, enabled in (
                ("start", state not in ("running", "preparing")),
                ("pause", state in ("running", "preparing")),
                ("stop", state in ACTIVE), ("step", state not in ("running", "preparing")),
                ("epoch", state not in ("running", "preparing")),
                ("reset", state not in ("idle", "preparing"))):
            self.buttons[name].setEnabled(enabled)
        self.buttons["start"].setText(_("Go on") if state == "paused" else _("Start"))
        for button in (self.use, self.save, self.export):
            button.setEnabled(s.has_network)
        text = _(STATES.get(state, state))
        if s.epochs and state not in ("idle", "preparing"):
            text = _("{state} Epoch {epoch} of {epochs}, step {step} of {total}.").format(
                state=text, epoch=min(s.epoch + 1, s.epochs), epochs=s.epochs, step=s.step,
                total=s.total_steps)
        elif state == "preparing" and s.progress:
            text = _("Reading pictures: {done} of {total}...").format(
                done=s.progress[0], total=s.progress[1])
        self.status.setText(text)
        self.progress.set_progress(s.step, s.total_steps)
        if s.total_steps:
            rate = _("{rate:.1f} steps/s").format(rate=s.rate) if s.rate else _("- steps/s")
            eta = s.eta
            left = (_("about {time} left").format(time=duration(eta)) if eta is not None
                    and state == "running" else "")
            self.stats.setText(" · ".join(t for t in (
                rate, _("{n:,} pictures seen").format(n=s.examples),
                _("{time} training").format(time=duration(s.elapsed)), left) if t))
        else:
            self.stats.setText("")
        stored = len(s.epoch_filters)
        self.replay.blockSignals(True)
        self.replay.setRange(0, max(stored - 1, 0) + (1 if stored else 0))
        if self.controller.replay is None:
            self.replay.setValue(self.replay.maximum())
        self.replay.blockSignals(False)
        self.replay.setEnabled(stored > 0)
        self.play.setEnabled(stored > 1)
        self._on_replay_changed(self.controller.replay)
        if state not in ("idle",):
            self.banner.hide()
