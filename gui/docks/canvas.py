"""Drawing canvas dock: draw with the mouse and let the network look at the drawing, live.

The canvas is a white square the user draws on in black. With "Use as source" on, the session's
source becomes ``SourceSpec(kind="canvas")`` and the capture thread reads the drawing through
:class:`CanvasSource`: the GUI thread publishes a copy of the picture after every stroke into a
:class:`CanvasBoard` (lock + newest copy); the capture thread takes it from there. Qt objects
never cross threads, only numpy arrays.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.ui_scale import scaled

SIZE = 256  # canvas pixels (square); the engine's preprocessing scales it to the network
DEFAULT_WIDTH = 10  # pen width in canvas pixels: like a marker on a sheet held to a camera
SHAPES_HINT = N_("Draw a circle, triangle, square, star, cross, heart, arrow or smiley.")
GENERIC_HINT = N_("Draw with the mouse; turn on \"Use as source\" to send the drawing to the "
                  "network.")
WAIT_S = 0.1  # how long a read waits for a new stroke before it returns the same drawing


class CanvasBoard:
    """The newest drawing as an (H, W, 3) uint8 RGB array, shared between threads."""

    def __init__(self, size: int = SIZE) -> None:
        self._changed = threading.Condition()
        self._image = np.full((size, size, 3), 255, np.uint8)
        self.version = 0

    def publish(self, image: np.ndarray) -> None:
        """GUI thread: store a copy of the drawing and wake a waiting reader."""
        copy = np.array(image, dtype=np.uint8, copy=True)
        with self._changed:
            self._image = copy
            self.version += 1
            self._changed.notify_all()

    def latest(self) -> tuple[np.ndarray, int]:
        """The newest drawing (never written to again: safe to keep) and its version."""
        with self._changed:
            return self._image, self.version

    def wait_newer(self, version: int, timeout: float) -> tuple[np.ndarray, int]:
        """The drawing once its version is past ``version``, or the same after ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != version, timeout)
            return self._image, self.version


BOARD = CanvasBoard()
"""The app's one canvas: the dock draws into it, :class:`CanvasSource` reads from it."""


class CanvasSource:
    """A frame source for the capture thread (``open_source`` for ``kind == "canvas"``).

    ``read()`` returns the newest drawing; when nothing changed it first waits up to
    :data:`WAIT_S` for a stroke, so an idle canvas costs the engine about 10 runs a second
    rather than 30. It has the interface of ``gui.capture.FrameSource``.
    """

    still = False

    def __init__(self, spec=None, board: CanvasBoard = BOARD) -> None:
        self.spec = spec
        self.board = board
        self.fps: float | None = 30.0
        self._seen = -1

    def read(self) -> np.ndarray:
        image, self._seen = self.board.wait_newer(self._seen, WAIT_S if self._seen >= 0 else 0)
        return image

    def close(self) -> None:
        """Nothing to release: the board outlives the source."""


class DrawingCanvas(QWidget):
    """A white square picture drawn on with black strokes; shown scaled to the widget."""

    def __init__(self, board: CanvasBoard = BOARD, parent=None) -> None:
        super().__init__(parent)
        self.board = board
        self.pen_width = DEFAULT_WIDTH
        self.image = QImage(SIZE, SIZE, QImage.Format.Format_RGB888)
        self._last: QPointF | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        scaled(self.setMinimumSize, 128, 128)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(_("Draw with the left mouse button"))
        self.clear()

    def sizeHint(self) -> QSize:
        return QSize(SIZE + 20, SIZE + 20)

    def array(self) -> np.ndarray:
        """The drawing as an (H, W, 3) uint8 RGB copy."""
        bits = self.image.constBits()
        stride = self.image.bytesPerLine()
        raw = np.frombuffer(bits, np.uint8, count=stride * SIZE).reshape(SIZE, stride)
        return raw[:, : SIZE * 3].reshape(SIZE, SIZE, 3).copy()  # (H, W, 3)

    def clear(self) -> None:
        self.image.fill(QColor(255, 255, 255))
        self._publish()

    def set_image(self, rgb: np.ndarray) -> None:
        """Replace the drawing with an (SIZE, SIZE, 3) uint8 RGB picture."""
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        if rgb.shape != (SIZE, SIZE, 3):
            raise ValueError(_("the canvas is {SIZE} x {SIZE} RGB, got shape {shape}")
                               .format(SIZE=SIZE, shape=rgb.shape))
        self.image = QImage(rgb.data, SIZE, SIZE, 3 * SIZE, QImage.Format.Format_RGB888).copy()
        self._publish()

    def _publish(self) -> None:
        self.board.publish(self.array())
        self.update()

    def _target(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_canvas(self, pos: QPointF) -> QPointF:
        """Widget coordinates -> canvas pixels."""
        r = self._target()
        return QPointF((pos.x() - r.x()) * SIZE / r.width(), (pos.y() - r.y()) * SIZE / r.height())

    def _stroke(self, a: QPointF, b: QPointF) -> None:
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(0, 0, 0), self.pen_width, Qt.PenStyle.SolidLine,
                   Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(a, b)
        painter.end()
        self._publish()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = self.to_canvas(event.position())
            self._stroke(self._last, self._last)  # a click leaves a dot

    def mouseMoveEvent(self, event) -> None:
        if self._last is not None and event.buttons() & Qt.MouseButton.LeftButton:
            point = self.to_canvas(event.position())
            self._stroke(self._last, point)
            self._last = point

    def mouseReleaseEvent(self, event) -> None:
        self._last = None

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        target = self._target()
        painter.drawImage(target, self.image)
        painter.setPen(QColor(150, 150, 150))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.end()


class DrawingCanvasDock(QWidget):
    """The canvas with pen width, Clear and "Use as source"."""

    def __init__(self, session, live, parent=None, board: CanvasBoard = BOARD):
        super().__init__(parent)
        self.session, self.live = session, live
        self._previous_source = None  # restored when "Use as source" is turned off
        self.canvas = DrawingCanvas(board)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.width_box = QSpinBox()
        self.width_box.setRange(1, 40)
        self.width_box.setValue(DEFAULT_WIDTH)
        self.width_box.setSuffix(" px")
        self.width_box.setToolTip(_("Pen width, in canvas pixels (the canvas is 256 x 256)"))
        self.width_box.valueChanged.connect(self._on_width_changed)
        self.clear_button = QPushButton(_("Clear"))
        self.clear_button.setToolTip(_("Erase the drawing and start again on a blank canvas"))
        self.clear_button.clicked.connect(self.canvas.clear)
        self.use_box = QCheckBox(_("Use as source"))
        self.use_box.setToolTip(_("Send the drawing to the network instead of the image or camera"))
        self.use_box.toggled.connect(self._on_use_toggled)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(_("Pen")))
        bar.addWidget(self.width_box)
        bar.addWidget(self.clear_button)
        bar.addStretch(1)
        bar.addWidget(self.use_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        session.source_changed.connect(self._on_session_source_changed)
        self._on_session_pipeline_changed(session.pipeline)
        self._on_session_source_changed(session.source)

    def _on_width_changed(self, value: int) -> None:
        self.canvas.pen_width = value

    def _on_session_pipeline_changed(self, pipeline) -> None:
        self.hint.setText(_(SHAPES_HINT if pipeline.name == "shapes" else GENERIC_HINT))

    def _on_session_source_changed(self, spec) -> None:
        self.use_box.blockSignals(True)
        self.use_box.setChecked(spec.kind == "canvas")
        self.use_box.blockSignals(False)

    def _on_use_toggled(self, on: bool) -> None:
        from gui.session import SourceSpec

        if on and self.session.source.kind != "canvas":
            self._previous_source = self.session.source
            try:
                self.session.set_source(SourceSpec(kind="canvas"))
            except ValueError as error:
                self.session.message.emit("error", _("The canvas cannot be a source: {error}")
                                                     .format(error=error))
                self._on_session_source_changed(self.session.source)
        elif not on and self.session.source.kind == "canvas":
            self.session.set_source(self._previous_source or SourceSpec())
