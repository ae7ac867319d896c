"""The Explain panel's first tab, "Why this class?": a method, a class, its settings, the map.

Live methods (saliency, gradient x input, Grad-CAM, guided backprop, FGSM) are computed by the
panel's live worker on every new frame (:meth:`ClassTab.live_request`); SmoothGrad and
occlusion run on request in the task runner, with progress and Cancel. A network with a layer
that cannot be differentiated gets its gradient methods switched off, the layer named, and
occlusion offered.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.explain import default_cam_layer, input_shape
from engine.explain.occlusion import patch_positions
from engine.graph.output import MAP, output_info
from engine.i18n import N_, _
from gui.explain.class_names import ClassChoice
from gui.explain.heat_page import FgsmPage, HeatPage
from gui.explain.jobs import (
    FgsmOutcome,
    HeatOutcome,
    Request,
    count_text,
    occlusion_job,
    smoothgrad_job,
)
from gui.explain.methods import (
    METHODS,
    class_count,
    gradcam_layers,
    method,
    not_differentiable_text,
    percent,
)
from gui.explain.task_row import TaskRow, button

__all__ = ["ClassTab"]

NOT_A_CLASSIFIER = N_("This network ends in feature maps, not class scores, so there is no"
                    " answer to explain. Open the bundled shapes classifier (File > Bundled"
                    " pipelines > Shapes) or an ONNX classifier (File > Open model...). The"
                    " second tab works on every network.")
NEEDS_A_CLASSIFIER = N_("This network's output is {description}, not class scores: these"
                        " methods explain one class of a classifier, so they do not apply here."
                        " The Predictions panel draws the output map (for a segmentation"
                        " network, a class for every pixel); the second tab (what drives a"
                        " channel) works on every network.")


def _row(*items) -> QHBoxLayout:
    """A row of (label text or None, widget, stretch)."""
    row = QHBoxLayout()
    for text, widget, stretch in items:
        if text:
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            row.addWidget(label)
        row.addWidget(widget, stretch)
    return row


class ClassTab(QWidget):
    """Method, class, layer and settings; the heat map (or FGSM's pictures) below them."""

    changed = Signal()  # a setting changed: the live map must be computed again

    def __init__(self, session, live, tasks, parent=None):
        super().__init__(parent)
        self.session, self.live, self.tasks = session, live, tasks
        self._key = None  # (pipeline, input shape) the choices below were made for
        self.n_classes: int | None = None
        self.output = None  # the network's OutputInfo for the input size, when known
        self.blocked = ""  # why gradient methods are off ("" when they are on)
        self.rate = 0.0  # live maps shown per second, set by the dock
        self.classes = ClassChoice()
        self._build()
        self.method_combo.currentIndexChanged.connect(self._on_method_changed)
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        self._update_for_pipeline(session.pipeline, None)
        self._on_method_changed()

    # -- widgets ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.method_combo = QComboBox()
        self.method_combo.setToolTip(_("How to explain the network's answer"))
        for i, m in enumerate(METHODS):
            self.method_combo.addItem(_(m.label), m.key)
            self.method_combo.setItemData(i, _(m.tooltip), Qt.ItemDataRole.ToolTipRole)
        self.class_combo = self.classes.combo
        self.class_combo.activated.connect(lambda _i: self.changed.emit())
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(_("The layer whose maps Grad-CAM weighs (default: the last"
                                      " one with maps larger than 1 x 1)"))
        self.layer_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_combo.setMinimumContentsLength(10)
        self.layer_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())

        self.copies = QSpinBox()
        self.copies.setRange(2, 200)
        self.copies.setValue(25)
        self.copies.setToolTip(_("SmoothGrad: how many noisy copies of the frame to average"))
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 0.5)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(0.15)
        self.noise.setToolTip(_("SmoothGrad: the noise's spread as a fraction of the input"
                                " range"))
        self.patch = QSpinBox()
        self.patch.setRange(1, 256)
        self.patch.setValue(8)
        self.patch.setToolTip(_("Occlusion: the side of the grey patch, in input pixels"))
        self.stride = QSpinBox()
        self.stride.setRange(1, 256)
        self.stride.setValue(4)
        self.stride.setToolTip(_("Occlusion: how far the patch moves between two positions"))
        for box in (self.copies, self.patch, self.stride):
            box.valueChanged.connect(self._update_hint)
        self.epsilon = QSlider(Qt.Orientation.Horizontal)
        self.epsilon.setRange(0, 32)
        self.epsilon.setValue(2)
        self.epsilon.setToolTip(_("FGSM: epsilon, the largest change of a pixel, in 1/255 of"
                                  " the input range"))
        self.epsilon.valueChanged.connect(self._on_epsilon_changed)
        self.epsilon_label = QLabel()
        self.epsilon_label.setToolTip(self.epsilon.toolTip())
        self.settings = QStackedWidget()
        self._settings_pages = {}
        for key, rows in (
            ("", ()),
            ("smoothgrad", ((_("Copies"), self.copies, 0), (_("Noise"), self.noise, 0))),
            ("occlusion", ((_("Patch"), self.patch, 0), (_("Stride"), self.stride, 0))),
            ("fgsm", ((_("Epsilon"), self.epsilon, 1), (None, self.epsilon_label, 0))),
        ):
            page = QWidget()
            row = _row(*rows)
            row.setContentsMargins(0, 0, 0, 0)
            if key != "fgsm":
                row.addStretch(1)
            page.setLayout(row)
            self._settings_pages[key] = self.settings.addWidget(page)

        self.run_button = button(_("Run"), _("Compute the map on the frame shown now"),
                                 self.run)
        self.run_row = TaskRow(self.tasks, [self.run_button])

        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setToolTip(_("Why the map is missing, or what to do next"))
        self.use_occlusion = QPushButton(_("Use occlusion"))
        self.use_occlusion.setToolTip(_("Occlusion needs no gradients: it hides patches of the"
                                        " frame and watches the answer"))
        self.use_occlusion.clicked.connect(self.choose_occlusion)
        self.heat_page, self.fgsm_page = HeatPage(), FgsmPage()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.heat_page)
        self.pages.addWidget(self.fgsm_page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(_row((_("Method"), self.method_combo, 1),
                              (_("Class"), self.class_combo, 1)))
        self.layer_row = QWidget()
        row = _row((_("Layer"), self.layer_combo, 1))
        row.setContentsMargins(0, 0, 0, 0)
        self.layer_row.setLayout(row)
        layout.addWidget(self.layer_row)
        layout.addWidget(self.settings)
        layout.addWidget(self.run_row)
        layout.addLayout(_row((None, self.note, 1), (None, self.use_occlusion, 0)))
        layout.addWidget(self.pages, 1)
        self._on_epsilon_changed(self.epsilon.value())

    # -- state -----------------------------------------------------------------------------
    @property
    def method(self):
        return method(self.method_combo.currentData())

    def names(self, k: int) -> str:
        return self.classes.name(k)

    def select_method(self, key: str) -> None:
        self.method_combo.setCurrentIndex(self.method_combo.findData(key))

    def choose_occlusion(self) -> None:
        self.select_method("occlusion")
        self.run()

    def _on_session_pipeline_changed(self, pipeline) -> None:
        self.tasks.cancel()  # a map of the network replaced would be stale
        self._update_for_pipeline(pipeline, None)

    def _update_for_pipeline(self, pipeline, shape) -> None:
        """Class names, Grad-CAM layers and the gradient check for a pipeline and input size."""
        shape = tuple(shape) if shape is not None else input_shape(pipeline)
        if self._key is not None and self._key[0] is pipeline and self._key[1] == shape:
            return
        self._key = (pipeline, shape)
        self.n_classes = class_count(pipeline, shape)
        self.output = output_info(pipeline, shape)
        self.blocked = not_differentiable_text(pipeline) if self.n_classes else ""
        self.classes.update(pipeline, self.n_classes, self.session.pipeline_path)
        layers = gradcam_layers(pipeline, shape) if self.n_classes else []
        chosen = self.layer_combo.currentData()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for name in layers:
            self.layer_combo.addItem(name, name)
        if chosen not in layers and layers:  # a new network: its default layer
            try:
                chosen = default_cam_layer(pipeline, shape)
            except ValueError:
                chosen = layers[-1]
        self.layer_combo.setCurrentIndex(max(self.layer_combo.findData(chosen), 0))
        self.layer_combo.blockSignals(False)
        model = self.method_combo.model()
        for i, m in enumerate(METHODS):
            model.item(i).setEnabled(not (m.gradient and self.blocked))
        self._on_method_changed()

    def _on_method_changed(self, *_args) -> None:
        m = self.method
        self.layer_row.setVisible(m.key == "gradcam")
        self.settings.setCurrentIndex(self._settings_pages.get(m.key, 0))
        self.settings.setVisible(m.key in self._settings_pages)
        self.run_row.setVisible(not m.live)
        self.pages.setCurrentWidget(self.fgsm_page if m.key == "fgsm" else self.heat_page)
        self.heat_page.clear_heat()
        self._set_running(self.tasks.running.startswith("class"))
        self.changed.emit()

    def _on_epsilon_changed(self, value: int) -> None:
        self.epsilon_label.setText(_("{step}/255").format(step=value))
        self.changed.emit()

    def _update_hint(self, *_args) -> None:
        """The note under the settings: what blocks the method, or how to start it."""
        m = self.method
        self.use_occlusion.setVisible(bool(self.blocked))
        if not self.n_classes and self.output is not None and self.output.kind == MAP:
            text = _(NEEDS_A_CLASSIFIER).format(description=self.output.describe())
        elif not self.n_classes:
            text = _(NOT_A_CLASSIFIER)
        elif m.gradient and self.blocked:
            text = self.blocked
        elif not m.live:
            text = _("Press Run to compute {method} on the frame shown ({cost}).").format(
                method=_(m.label), cost=count_text(self._cost()))
        else:
            text = ""
        self.note.setText(text)
        self.note.setVisible(bool(text))
        self.run_button.setToolTip(_("Compute the map on the frame shown now: {cost}").format(
            cost=count_text(self._cost())))
        self.run_button.setEnabled(bool(self.n_classes) and not (m.gradient and self.blocked)
                                   and not self.tasks.running.startswith("class"))

    def _cost(self) -> int:
        """Forward passes a run of the current long method makes."""
        if self.method.key == "smoothgrad":
            return self.copies.value()
        _c, h, w = self._key[1] if self._key else (0, 0, 0)
        if not h or not w:
            return 0
        rows = patch_positions(h, min(self.patch.value(), h), self.stride.value())
        cols = patch_positions(w, min(self.patch.value(), w), self.stride.value())
        return len(rows) * len(cols) + 1

    def _settings_for(self, key: str) -> dict:
        if key == "gradcam":
            return {"layer": self.layer_combo.currentData()} if self.layer_combo.count() else {}
        if key == "fgsm":
            return {"epsilon": self.epsilon.value() / 255.0}
        if key == "smoothgrad":
            return {"n": self.copies.value(), "sigma": self.noise.value()}
        if key == "occlusion":
            return {"patch": self.patch.value(), "stride": self.stride.value()}
        return {}

    def _request(self, result) -> Request | None:
        self._update_for_pipeline(result.pipeline, result.input.shape)
        m = self.method
        if not self.n_classes or (m.gradient and self.blocked):
            return None
        return Request(m.key, result.pipeline, result.frame, result.input, self.classes.target,
                       self._settings_for(m.key), result.seq,
                       result.captured_at)

    # -- live ------------------------------------------------------------------------------
    def live_request(self, result) -> Request | None:
        """The request for ``result`` when the current method follows the live frame."""
        return self._request(result) if self.method.live else None

    def show_outcome(self, outcome) -> None:
        """Draw a worker's outcome (a late one for another method is dropped)."""
        if outcome.request.kind != self.method.key:
            return
        if isinstance(outcome, HeatOutcome):
            self.heat_page.show_outcome(outcome, self._title(outcome), self._caption(outcome))
        elif isinstance(outcome, FgsmOutcome):
            self.fgsm_page.show_outcome(outcome, self.names)
        else:  # a Failure: said above the pictures, where every method's page shows it
            self.heat_page.clear_heat()
            self.note.setText(outcome.text)
            self.note.setVisible(True)
            return
        if self.method.live and self.note.isVisible() and not self.blocked:
            self._update_hint()  # a failure said before is over

    def _title(self, outcome: HeatOutcome) -> str:
        return _("{method} over the frame").format(method=_(self.method.label))

    def _caption(self, outcome: HeatOutcome) -> str:
        e = outcome.explanation
        text = _("Class {name}: probability {p}, score {score:.3g}; computed in {ms:.0f} ms.")
        text = text.format(name=self.names(e.target), p=percent(e.probability), score=e.score,
                           ms=outcome.ms)
        if e.layer:
            text += " " + _("Layer {layer}.").format(layer=e.layer)
        if self.method.live and self.rate:
            text += " " + _("{rate:.0f} maps a second.").format(rate=self.rate)
        return text

    # -- long methods ----------------------------------------------------------------------
    def run(self) -> None:
        """Start the current long method on the newest frame."""
        result = self.live.latest
        m = self.method
        if result is None:
            self.heat_page.clear_heat(_("Waiting for the first frame..."))
            return
        request = self._request(result)
        if request is None or m.live:
            self._update_hint()
            return
        job = occlusion_job if m.key == "occlusion" else smoothgrad_job
        self.tasks.start(f"class:{m.key}", partial(job, request))
        self._set_running(True)

    def on_task_progress(self, value) -> None:
        self.run_row.set_progress(*value[:2])

    def on_task_done(self, done) -> None:
        self._set_running(False)
        stale = done.result is not None and done.result.request.pipeline is not (
            self.session.pipeline)
        if done.name != f"class:{self.method.key}" or stale:
            return
        if done.error:
            self.heat_page.clear_heat(done.error)
        elif done.cancelled or done.result is None:
            self.heat_page.clear_heat(_("Stopped. Press Run to start again."))
        else:
            self.show_outcome(done.result)

    def _set_running(self, running: bool) -> None:
        self.run_row.set_running(running)
        self._update_hint()
