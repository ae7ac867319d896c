"""Predictions dock: the top-5 classes of a classifier as horizontal bars, live.

Works for any network whose last node gives one score per class (a vector, or ``(K, 1, 1)``
maps after global pooling). When the last layer is a Softmax (or the values already are
probabilities) the bars show them as they are; otherwise the bars show the softmax of the raw
scores, and the panel says so. A network whose output is a map (a segmentation network, an
autoencoder: :func:`engine.graph.output.output_kind`) gets its output drawn as pictures instead
(:class:`gui.docks.output_map.OutputMapPage`); any other output gets an explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from engine.graph.output import CLASSES, MAP, OTHER, kind_of_shape, output_kind
from engine.i18n import N_, _
from gui.docks.output_map import OutputMapPage
from gui.labels import ClassNames, class_names, model_path_of
from gui.live_follow import LiveFollow
from gui.ui_scale import set_font

TOP_K = 5
NOT_SCORES = N_(
    "This network's output is neither class scores nor a map, so there is nothing to predict. "
    "Open the bundled shapes classifier (File > Bundled pipelines > Shapes) or an ONNX "
    "classifier (File > Open model...).")
WAITING = N_("Waiting for the first frame...")


@dataclass(frozen=True)
class Prediction:
    """The top classes of one output vector."""

    indices: tuple[int, ...]
    probabilities: tuple[float, ...]
    kind: str  # "probabilities" (the network's own) or "scores" (we applied a softmax)
    n_classes: int


def class_vector(activation: np.ndarray) -> np.ndarray | None:
    """The output as a 1-D vector of class scores, or None when it is not one.

    A vector of 2 or more values, or ``(K, 1, 1)`` maps (after global pooling), counts.
    """
    a = np.asarray(activation)
    if a.ndim == 0 or a.size < 2 or np.count_nonzero(np.array(a.shape) > 1) != 1:
        return None
    return a.reshape(-1)


def looks_like_probabilities(values: np.ndarray) -> bool:
    """True for values in [0, 1] that sum to 1 (within float32 rounding)."""
    return bool(values.min() >= 0.0 and values.max() <= 1.0
                and abs(float(values.sum(dtype=np.float64)) - 1.0) < 1e-3)


def predict(activation: np.ndarray, last_is_softmax: bool, k: int = TOP_K) -> Prediction | None:
    """Top-``k`` classes of a class-score output; None when it is not a vector of scores.

    Examples
    --------
    >>> predict(np.array([0.0, 2.0, 1.0]), last_is_softmax=False, k=2).indices
    (1, 2)
    """
    scores = class_vector(activation)
    if scores is None or not np.isfinite(scores).all():
        return None
    scores = scores.astype(np.float64)
    if last_is_softmax or looks_like_probabilities(scores):
        probs, kind = scores, "probabilities"
    else:
        e = np.exp(scores - scores.max())
        probs, kind = e / e.sum(), "scores"
    k = min(k, len(probs))
    top = np.argpartition(-probs, k - 1)[:k]
    top = top[np.argsort(-probs[top], kind="stable")]
    return Prediction(tuple(int(i) for i in top), tuple(float(probs[i]) for i in top), kind,
                      len(probs))


def ends_in_class_scores(pipeline) -> bool | None:
    """Does the network end in a vector of class scores? None when its input size is unknown.

    Arithmetic only (no forward pass), so the answer is there before the first frame.
    """
    if not pipeline.nodes:
        return False
    kind = output_kind(pipeline)
    return None if kind is None else kind == CLASSES


class TopBars(QWidget):
    """Paints the top classes: name, a bar as long as the probability, and the percentage."""

    ROW = 26

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple[str, float]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.ROW * TOP_K)

    def set_rows(self, rows: list[tuple[str, float]]) -> None:
        self.rows = rows
        self.setToolTip("\n".join(f"{name}: {p:.1%}" for name, p in rows))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, self.ROW * TOP_K)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        fm = self.fontMetrics()
        name_w = min(max((fm.horizontalAdvance(n) for n, _ in self.rows), default=0) + 14,
                     self.width() // 2)
        value_w = fm.horizontalAdvance("100.0 %") + 8
        bar_w = max(self.width() - name_w - value_w, 10)
        for i, (name, p) in enumerate(self.rows):
            y = i * self.ROW
            text = fm.elidedText(name, Qt.TextElideMode.ElideRight, name_w - 6)
            painter.setPen(self.palette().windowText().color())
            painter.drawText(QRectF(0, y, name_w - 6, self.ROW),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
            painter.fillRect(QRectF(name_w, y + 4, bar_w, self.ROW - 8), QColor(225, 225, 225))
            color = QColor(40, 110, 200) if i == 0 else QColor(120, 160, 210)
            painter.fillRect(QRectF(name_w, y + 4, bar_w * max(0.0, min(p, 1.0)), self.ROW - 8),
                             color)
            painter.drawText(QRectF(name_w + bar_w + 4, y, value_w, self.ROW),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{p * 100:.1f} %")
        painter.end()


class PredictionsDock(QWidget):
    """Top-5 classes of the current network's output, updated with every result."""

    def __init__(self, session, live, parent=None):
        super().__init__(parent)
        self.session, self.live = session, live
        self.prediction: Prediction | None = None
        self.names: ClassNames | None = None
        self._names_key = None  # (pipeline id, n_classes): names are looked up once per network
        self._unshown = None  # the newest result with a map output, while the panel is hidden
        self._map_result = None  # the newest result with a map output, to draw when due
        self._map_follow = LiveFollow(self, self._draw_map)
        self._build()
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        live.resultUpdated.connect(self._on_live_result)
        self._on_session_pipeline_changed(session.pipeline)
        if live.latest is not None:
            self._on_live_result(live.latest)

    def _build(self) -> None:
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.best = QLabel()  # the top class in large type, readable from across a room
        set_font(self.best, 1.8, bold=True)
        self.bars = TopBars()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # quieter than the bars
        bars_page = QWidget()
        column = QVBoxLayout(bars_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.best)
        column.addWidget(self.title)
        column.addWidget(self.bars)
        column.addWidget(self.note)
        column.addStretch(1)
        self.explanation = QLabel(_(WAITING))
        self.explanation.setWordWrap(True)
        self.explanation.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.output_map = OutputMapPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(bars_page)
        self.stack.addWidget(self.explanation)
        self.stack.addWidget(self.output_map)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.stack.setCurrentWidget(self.explanation)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._unshown is not None:
            result, self._unshown = self._unshown, None
            self._on_live_result(result)

    @property
    def showing_predictions(self) -> bool:
        return self.stack.currentWidget() is self.stack.widget(0)

    @property
    def showing_map(self) -> bool:
        """The output is a map and its pictures are shown."""
        return self.stack.currentWidget() is self.output_map

    def top(self) -> list[tuple[str, float]]:
        """The rows shown now: (class name, probability), best first."""
        return list(self.bars.rows) if self.showing_predictions else []

    def _on_session_pipeline_changed(self, pipeline) -> None:
        self._names_key = None
        other = not pipeline.nodes or output_kind(pipeline) == OTHER
        self._explain(_(NOT_SCORES) if other else _(WAITING))

    def _explain(self, text: str) -> None:
        self.prediction = None
        self.explanation.setText(text)
        self.stack.setCurrentWidget(self.explanation)

    def _on_live_result(self, result) -> None:
        pipeline = result.pipeline
        if not result.activations or not pipeline.nodes:
            return
        last = pipeline.nodes[-1]
        activation = result.activations.get(last.name)
        if activation is None:
            return
        if kind_of_shape(activation.shape) == MAP:
            self.prediction = None
            self.stack.setCurrentWidget(self.output_map)
            self._unshown = None if self.isVisible() else result
            if self._unshown is None:  # pictures of a large map cost; a hidden panel waits
                self._map_result = result  # drawn at a readable rate (gui.live_follow)
                self._map_follow.frame()
            return
        prediction = predict(activation, last.layer.type_name == "Softmax")
        if prediction is None:
            self._explain(_(NOT_SCORES))
            return
        key = (id(pipeline), prediction.n_classes)
        if key != self._names_key:
            self._names_key = key
            path = model_path_of(pipeline, self.session.pipeline_path)
            self.names = class_names(prediction.n_classes, pipeline, path)
            self._update_note(prediction)
        elif prediction.kind != getattr(self.prediction, "kind", None):
            self._update_note(prediction)
        self.prediction = prediction
        rows = [(self.names[i], p) for i, p in
                zip(prediction.indices, prediction.probabilities, strict=True)]
        self.bars.set_rows(rows)
        self.best.setText(_("{rows}  {rows2:.0%}").format(rows=rows[0][0], rows2=rows[0][1]))
        self.stack.setCurrentIndex(0)

    def _draw_map(self) -> None:
        result, self._map_result = self._map_result, None
        if result is not None and result.pipeline is self.session.pipeline:
            self.output_map.show_output(result.activations[result.pipeline.nodes[-1].name],
                                        result.input, result.pipeline,
                                        self.session.pipeline_path)

    def _update_note(self, prediction: Prediction) -> None:
        n = prediction.n_classes
        self.title.setText(_("Top {min} of {n} classes").format(min=min(TOP_K, n), n=n))
        if prediction.kind == "probabilities":
            how = _("The network's last layer gives probabilities; the bars show them.")
        else:
            how = (_("The network ends in raw class scores (logits); the bars show their "
                   "softmax, so that they read as probabilities."))
        names = self.names
        where = _("Class names: {source}.").format(source=names.source) if names else ""
        if names is not None and names.note:
            where += f" ({names.note})"
        self.note.setText(_("{how} {where}").format(how=how, where=where))
