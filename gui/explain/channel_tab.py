"""The Explain panel's second tab, "What drives this channel?", for the selected map.

It follows the session's selected layer and map (a click in the activation maps panel) and
shows three answers: the input that excites the channel most (activation maximization, computed
on demand with progress and Cancel, cached per pipeline, layer, channel and steps), its top 9
patches from the last folder or video run, and its Grad-CAM weight alpha_c for the top class
on the live frame. Maximization and the folder run have a task runner each, so a click on
another map does not stop a long folder run.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.explain import input_shape
from engine.i18n import _
from gui.explain.jobs import AlphaOutcome, Request
from gui.explain.methods import class_count
from gui.explain.patches_job import MaximizeResult, PatchesRun, maximize_job, patches_job, run_text
from gui.explain.task_row import TaskRow, button
from gui.explain.views import PatchGrid, TitledPicture

__all__ = ["CACHE_SIZE", "ChannelTab", "rank"]

CACHE_SIZE = 64  # maximized pictures kept (pipeline, layer, channel, steps)
VIDEO_FILTER = "*.avi *.mp4 *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv"


def rank(alpha: np.ndarray, channel: int) -> int:
    """1 for the largest weight of the layer, 2 for the next, ..."""
    return int(np.sum(alpha > alpha[channel])) + 1


class ChannelTab(QWidget):
    """Layer and channel; the maximizing input, the top 9 patches, the Grad-CAM weight.

    ``runners`` are two :class:`~gui.explain.workers.TaskRunner`: maximization, folder runs.
    ``names`` maps a class index to its name.
    """

    def __init__(self, session, live, runners, names, parent=None):
        super().__init__(parent)
        self.session, self.live = session, live
        self.max_tasks, self.patch_tasks = runners
        self.names = names
        self._maximizing: tuple | None = None  # (cache key, pipeline) of the run going on
        self.cache: OrderedDict[tuple, tuple[object, MaximizeResult]] = OrderedDict()
        self.patches_run: PatchesRun | None = None
        self.alpha: AlphaOutcome | None = None
        self._build()
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        session.selected_layer_changed.connect(self._on_session_selection_changed)
        session.selected_map_changed.connect(self._on_session_selection_changed)
        self._fill_layers()

    def _build(self) -> None:
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(_("The layer of the channel (the same as in the activation"
                                      " maps panel)"))
        self.layer_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_combo.setMinimumContentsLength(10)
        self.layer_combo.currentIndexChanged.connect(self.session.set_selected_layer)
        self.channel_spin = QSpinBox()
        self.channel_spin.setToolTip(_("The channel (map) to explain; a click on a map in the"
                                       " activation maps panel chooses it too"))
        self.channel_spin.valueChanged.connect(self.session.set_selected_map)
        self.weight = QLabel("")
        self.weight.setWordWrap(True)
        self.weight.setToolTip(_(
            "Grad-CAM's weight of this channel for the top class: the mean over the map of"
            " d score / d map. Positive: more of this channel raises the class score on the"
            " frame shown."))
        self.maximized = TitledPicture(
            _("Input that excites it most"),
            _("Activation maximization: gradient ascent from noise on the channel's mean"
              " activation, with jitter, blur and decay so the picture stays readable"))
        self.steps = QSpinBox()
        self.steps.setRange(5, 2000)
        self.steps.setValue(200)
        self.steps.setToolTip(_("Steps of gradient ascent"))
        self.max_row = TaskRow(self.max_tasks, [button(
            _("Compute"), _("Run activation maximization for this channel"), self.compute)])
        self.patches = PatchGrid()
        self.patches.setToolTip(_("The 9 inputs of the last folder or video run that excite"
                                  " this channel most, cut to the unit's receptive field, with"
                                  " their activations"))
        self.patches_note = QLabel("")
        self.patches_note.setWordWrap(True)
        self.patches_note.setToolTip(self.patches.toolTip())
        self.patch_row = TaskRow(self.patch_tasks, [
            button(_("Folder..."), _("Find the top 9 patches of every channel of this layer in"
                                     " a folder of pictures"),
                   lambda: self.choose_source("folder")),
            button(_("Video..."), _("Find the top 9 patches of every channel of this layer in"
                                    " a video file"), lambda: self.choose_source("video"))])

        top = QHBoxLayout()
        for text, widget, stretch in ((_("Layer"), self.layer_combo, 1),
                                      (_("Channel"), self.channel_spin, 0)):
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            top.addWidget(label)
            top.addWidget(widget, stretch)
        steps = QLabel(_("Steps"))
        steps.setToolTip(self.steps.toolTip())
        self.max_row.layout().insertWidget(0, steps)
        self.max_row.layout().insertWidget(1, self.steps)
        left = QVBoxLayout()
        left.addWidget(self.maximized, 1)
        left.addWidget(self.max_row)
        right = QVBoxLayout()
        title = QLabel(_("Top 9 patches"))
        title.setToolTip(self.patches.toolTip())
        right.addWidget(title)
        right.addWidget(self.patches, 1)
        right.addWidget(self.patches_note)
        right.addWidget(self.patch_row)
        # Stacked, never side by side: two columns of buttons would double the panel's
        # minimum width, and a dock cannot be narrower than that.
        self.answers = QVBoxLayout()
        self.answers.addLayout(left, 1)
        self.answers.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.weight)
        layout.addLayout(self.answers, 1)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._on_session_selection_changed()

    # -- what is selected ---------------------------------------------------------------------
    @property
    def layer(self) -> str:
        nodes = self.session.pipeline.nodes
        return nodes[min(self.session.selected_layer, len(nodes) - 1)].name if nodes else ""

    @property
    def channel(self) -> int:
        return max(self.session.selected_map, 0)

    def channels(self) -> int:
        """How many channels (or vector entries) the selected layer gives."""
        pipeline, layer = self.session.pipeline, self.layer
        latest = self.live.latest
        try:
            if latest is not None and layer in latest.activations:
                return int(latest.activations[layer].shape[0])
            return int(pipeline.shapes(input_shape(pipeline))[layer][0])
        except (ValueError, KeyError, IndexError):
            return 0

    def _fill_layers(self) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for i, node in enumerate(self.session.pipeline.nodes):
            self.layer_combo.addItem(_("{i} · {name} ({type})").format(
                i=i, name=node.name, type=node.layer.type_name))
        self.layer_combo.blockSignals(False)
        self._on_session_selection_changed()

    def _on_session_pipeline_changed(self, _pipeline) -> None:
        self.patch_tasks.cancel()  # patches of the network replaced would be stale
        self.alpha = None
        self._fill_layers()

    def _on_session_selection_changed(self, *_args) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.setCurrentIndex(self.session.selected_layer)
        self.layer_combo.blockSignals(False)
        self.channel_spin.blockSignals(True)
        self.channel_spin.setRange(0, max(self.channels() - 1, 0))
        self.channel_spin.setValue(self.channel)
        self.channel_spin.blockSignals(False)
        self.refresh()

    # -- showing ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show what is known about the selected channel; compute its maximization if missing
        (only while the tab is on screen: a hidden panel does no work)."""
        self._show_weight()
        self._show_patches()
        key = self._cache_key()
        if key in self.cache:
            self._show_maximized(self.cache[key][1])
        elif self._maximizing is None or self._maximizing[0] != key:
            self.maximized.view.blank()
            self.maximized.caption.setText(_("Not computed yet."))
            if self.isVisible() and self.channels():
                self.compute()

    def _cache_key(self) -> tuple:
        return (id(self.session.pipeline), self.layer, self.channel, self.steps.value())

    def _show_maximized(self, r: MaximizeResult) -> None:
        self.maximized.view.set_picture(r.picture)
        text = _("Mean activation {start:.3g} at the start, {end:.3g} after {steps} steps.")
        if r.stopped:
            text = _("Stopped: mean activation {start:.3g} at the start, {end:.3g} after {steps}"
                     " steps.")
        elif r.initial == r.objective == 0:
            text = _("The channel stays at 0 from noise (its ReLU never opens), so the ascent"
                     " has no gradient to follow.")
        self.maximized.caption.setText(text.format(start=r.initial, end=r.objective,
                                                   steps=r.steps))

    def _show_patches(self) -> None:
        run = self.patches_run
        if run is None or run.pipeline is not self.session.pipeline or run.layer != self.layer:
            self.patches.set_empty(_("No folder or video run for {layer} yet.").format(
                layer=self.layer))
            self.patches_note.setText(_("Choose a folder of pictures or a video: every input"
                                        " runs through the network once."))
            return
        found = run.for_channel(self.channel)
        if found:
            self.patches.set_patches(found)
        else:
            self.patches.set_empty(_("No patches for channel {c}.").format(c=self.channel))
        self.patches_note.setText(run_text(run))

    def _show_weight(self) -> None:
        a = self.alpha
        if not class_count(self.session.pipeline):
            self.weight.setText(_("This network gives no class scores, so its channels have no"
                                  " weight for a class."))
        elif (a is None or a.layer != self.layer or a.request.pipeline is not self.session.pipeline
              or self.channel >= len(a.alpha)):
            self.weight.setText(_("Grad-CAM weight: waiting for a frame."))
        else:
            self.weight.setText(_(
                "Grad-CAM weight for {name}: α = {alpha:.3g}, rank {rank} of the layer's {n}"
                " (1: the largest).").format(
                name=self.names(a.target), alpha=a.alpha[self.channel],
                rank=rank(a.alpha, self.channel), n=len(a.alpha)))

    # -- live ---------------------------------------------------------------------------------
    def live_request(self, result) -> Request | None:
        """The Grad-CAM weights of the selected layer on ``result``'s frame."""
        if not class_count(result.pipeline, result.input.shape):
            return None
        return Request("alpha", result.pipeline, result.frame, result.input, None,
                       {"layer": self.layer}, result.seq, result.captured_at)

    def show_outcome(self, outcome) -> None:
        if isinstance(outcome, AlphaOutcome):
            self.alpha = outcome
            self._show_weight()
        elif outcome.request.kind == "alpha":
            self.weight.setText(outcome.text)

    # -- activation maximization --------------------------------------------------------------
    def compute(self) -> None:
        """Run activation maximization for the selected channel (cached when done)."""
        pipeline, layer, channel, steps = (self.session.pipeline, self.layer, self.channel,
                                           self.steps.value())
        if not layer:
            return
        self._maximizing = (self._cache_key(), pipeline)
        self.max_tasks.start("maximize", partial(maximize_job, pipeline, layer, channel, steps))
        self.maximized.caption.setText(_("Computing..."))
        self.max_row.set_running(True)

    def on_maximize_progress(self, value) -> None:
        step, steps, objective, picture = value
        self.max_row.set_progress(step, steps)
        self.maximized.view.set_picture(picture)
        self.maximized.caption.setText(_("Step {step} of {steps}: mean activation {value:.3g}.")
                                       .format(step=step, steps=steps, value=objective))

    def on_maximize_done(self, done) -> None:
        self.max_row.set_running(False)
        key, pipeline = self._maximizing or (None, None)
        self._maximizing = None
        r = done.result
        if done.error or r is None:
            self.maximized.caption.setText(done.error or _("Stopped."))
            return
        if not r.stopped:
            self.cache[key] = (pipeline, r)  # holding the pipeline keeps its id unique
            while len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)
        if key == self._cache_key():
            self._show_maximized(r)

    # -- top 9 patches ------------------------------------------------------------------------
    def choose_source(self, kind: str) -> None:
        """Ask for a folder or a video, then find the top patches of the selected layer."""
        if kind == "folder":
            path = QFileDialog.getExistingDirectory(self, _("Folder of pictures"))
        else:
            path, _filter = QFileDialog.getOpenFileName(
                self, _("Video"), "", _("Videos ({patterns})").format(patterns=VIDEO_FILTER))
        if path:
            self.find_patches(kind, path)

    def find_patches(self, kind: str, path: str) -> None:
        """Run the top-patches search over a folder or a video for the selected layer."""
        job = partial(patches_job, self.session.pipeline, self.layer, kind, str(path))
        self.patch_tasks.start("patches", job)
        self.patches.set_empty(_("Reading {path}...").format(path=path))
        self.patch_row.set_running(True)

    def on_patches_progress(self, value) -> None:
        seen, total = value
        self.patch_row.set_progress(seen, total)
        self.patches.set_empty(_("{n} inputs read...").format(n=seen))

    def on_patches_done(self, done) -> None:
        self.patch_row.set_running(False)
        if done.error or done.result is None:
            self.patches.set_empty(done.error or _("Stopped."))
            return
        self.patches_run = done.result
        self._show_patches()
