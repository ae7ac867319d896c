"""Where recorded frames come from: the window's Input (a camera, a video, an image) or a
drawing, with a live preview of what Record takes."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _
from gui.train.pictures import to_pixmap

__all__ = ["FrameSourceView"]

PREVIEW_MS = 200
PREVIEW_SIDE = 120


class FrameSourceView(QWidget):
    """The source choice, Camera and Video buttons, and the preview (or the canvas)."""

    problem = Signal(str)  # a sentence for the panel, e.g. no camera

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.session, self.live = session, live
        self.source = QComboBox()
        self.source.addItem(_("the Input (camera, video, image)"), "input")
        self.source.addItem(_("a drawing"), "canvas")
        self.source.setToolTip(_("Where frames come from: the window's Input, or a drawing"))
        self.source.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(12)
        self.source.currentIndexChanged.connect(self._on_source_chosen)
        self.camera = QPushButton(_("Camera"))
        self.camera.setToolTip(_("Make the first webcam the Input"))
        self.camera.clicked.connect(self.open_camera)
        self.video = QPushButton(_("Video..."))
        self.video.setToolTip(_("Make a video file the Input"))
        self.video.clicked.connect(self.ask_video)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedHeight(PREVIEW_SIDE)
        self.preview.setToolTip(_("What Record takes now"))
        from gui.docks.canvas import CanvasBoard, DrawingCanvas

        self.canvas = DrawingCanvas(CanvasBoard())  # its own board: not the Input's canvas
        self.canvas.setFixedHeight(PREVIEW_SIDE)
        self.canvas.setMinimumWidth(PREVIEW_SIDE)
        self.clear = QPushButton(_("Clear drawing"))
        self.clear.setToolTip(_("Erase the drawing canvas"))
        self.clear.clicked.connect(self.canvas.clear)
        self.view = QStackedWidget()
        self.view.addWidget(self.preview)
        self.view.addWidget(self.canvas)
        source_row = QHBoxLayout()
        source_row.addWidget(QLabel(_("Frames from")))
        source_row.addWidget(self.source, 1)
        buttons = QHBoxLayout()
        for button in (self.camera, self.video, self.clear):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(source_row)
        layout.addLayout(buttons)
        layout.addWidget(self.view)
        self._timer = QTimer(self)
        self._timer.setInterval(PREVIEW_MS)
        self._timer.timeout.connect(self._update_preview)
        self._on_source_chosen()

    def current_frame(self):
        """The frame Record would take now ((H, W, 3) uint8 RGB), or None."""
        if self.source.currentData() == "canvas":
            return self.canvas.array()
        result = self.live.engine.latest  # the newest frame, even if the network fails on it
        return None if result is None else result.frame

    def _update_preview(self) -> None:
        frame = self.current_frame() if self.source.currentData() == "input" else None
        if frame is not None:
            self.preview.setPixmap(to_pixmap(frame, PREVIEW_SIDE, smooth=True))

    def showEvent(self, event) -> None:
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def _on_source_chosen(self, *_args) -> None:
        canvas = self.source.currentData() == "canvas"
        self.view.setCurrentWidget(self.canvas if canvas else self.preview)
        self.clear.setVisible(canvas)
        self.camera.setVisible(not canvas)
        self.video.setVisible(not canvas)
        self._update_preview()

    def open_camera(self) -> None:
        """Make the first camera that opens the Input; a message when there is none."""
        from engine.io.media import list_cameras
        from gui.session import SourceSpec

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            cameras = list_cameras()
        finally:
            QApplication.restoreOverrideCursor()
        if not cameras:
            self.problem.emit(_("No camera found: none of cameras 0 to 4 opens. Record from a"
                                " video file or a drawing instead."))
            return
        self.source.setCurrentIndex(self.source.findData("input"))
        self.session.set_source(SourceSpec(kind="camera", camera_index=cameras[0]))

    def ask_video(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from gui.session import SourceSpec

        path, _f = QFileDialog.getOpenFileName(
            self, _("Open video"), "", _("Videos (*.avi *.mp4 *.mov *.mkv *.webm *.m4v)"))
        if path:
            self.source.setCurrentIndex(self.source.findData("input"))
            self.session.set_source(SourceSpec(kind="video", path=path))
