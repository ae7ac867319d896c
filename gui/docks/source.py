"""The input panel: the working frame and, on request, its R, G, B and gray channels."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.i18n import N_, _
from engine.io.color import LUMA
from gui.session import DisplayOptions


def _ramp(r: float, g: float, b: float) -> np.ndarray:
    """A 256-entry lookup table from black to the color (r, g, b)."""
    t = np.linspace(0.0, 255.0, 256, dtype=np.float32)[:, None]  # (256, 1)
    return (t * np.array([r, g, b], np.float32)).astype(np.uint8)  # (256, 3)


# (caption, tooltip, lookup table); the lecture's "digital image" slides show these four
CHANNELS = (
    (N_("Red"), N_("The red value of every pixel, 0 (black) to 255"), _ramp(1, 0, 0)),
    (N_("Green"), N_("The green value of every pixel, 0 to 255"), _ramp(0, 1, 0)),
    (N_("Blue"), N_("The blue value of every pixel, 0 to 255"), _ramp(0, 0, 1)),
    (N_("Gray"), N_("Brightness: 0.299 R + 0.587 G + 0.114 B, what a gray pipeline sees"),
     _ramp(1, 1, 1)),
)


def _image_view() -> tuple[pg.ViewBox, pg.ImageItem]:
    view = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
    item = pg.ImageItem(axisOrder="row-major")
    view.addItem(item)
    return view, item


def best_columns(width: float, height: float, frame_w: int, frame_h: int) -> int:
    """1 row of 4 or 2 rows of 2 channel images: whichever shows them larger."""

    def scale(cols: int) -> float:
        return min(width / cols / frame_w, height / (4 // cols) / frame_h)

    return 4 if scale(4) >= scale(2) else 2


class SourceDock(QWidget):
    """Shows the frame that enters the pipeline, with a line about where it comes from."""

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.live = session, live
        self.info = QLabel(_("Opening the source..."))
        self.info.setWordWrap(True)
        self.info.setToolTip(_("The open source: its kind, name, full size and frame rate"))
        self.view = pg.GraphicsLayoutWidget()
        self.view.setToolTip(_("The working frame, after scaling to the working resolution"))
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self._view_box, self.image = _image_view()
        self.view.ci.addItem(self._view_box)
        self.channels_view = pg.GraphicsLayoutWidget()
        self.channels_view.ci.setContentsMargins(2, 2, 2, 2)
        self.channel_items: list[pg.ImageItem] = []
        self._cells: list[pg.ViewBox] = []
        for caption, tip, lut in CHANNELS:
            view, item = _image_view()
            item.setLookupTable(lut)
            item.setToolTip(_(tip))
            # The caption sits on the image's top-left corner, so it stays with its image.
            label = pg.TextItem(_(caption), color="w", fill=(0, 0, 0, 170), anchor=(0, 0))
            label.setParentItem(item)
            self._cells.append(view)
            self.channel_items.append(item)
        self._columns = 0
        self._arrange(2)
        self.channels_view.setToolTip(_("The frame split into its channels, each 0 to 255"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.info)
        layout.addWidget(self.view, 3)
        layout.addWidget(self.channels_view, 2)
        self._frame_shape: tuple[int, ...] | None = None
        self._channels_shape: tuple[int, ...] | None = None
        self._on_session_display(session.display)
        self._on_live_source_info(live.source_info)
        session.display_changed.connect(self._on_session_display)
        live.resultUpdated.connect(self._on_live_result)
        live.sourceInfoChanged.connect(self._on_live_source_info)
        if live.latest is not None:
            self._on_live_result(live.latest)

    def _arrange(self, columns: int) -> None:
        """Lay the four channel images out in ``columns`` columns."""
        if columns == self._columns:
            return
        self._columns = columns
        grid = self.channels_view.ci
        grid.clear()
        for i, view in enumerate(self._cells):
            grid.addItem(view, row=i // columns, col=i % columns)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        h, w = (self._frame_shape or (3, 4))[:2]
        size = self.channels_view.size()
        self._arrange(best_columns(size.width(), size.height(), w, h))

    def _on_session_display(self, display: DisplayOptions) -> None:
        self.channels_view.setVisible(display.show_channels)
        if display.show_channels and self.live.latest is not None:
            self._show_channels(self.live.latest.frame)

    def _on_live_source_info(self, info) -> None:
        self._source_text = info.describe() if info is not None else _("No source open")
        self._update_info()

    def _update_info(self) -> None:
        text = self._source_text
        if self._frame_shape is not None:
            h, w = self._frame_shape[:2]
            text += _(
                "\nWorking frame: {w} x {h} pixels, 3 channels (R, G, B), values 0 to 255"
            ).format(w=w, h=h)
        self.info.setText(text)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.live.latest is not None:  # catch up with the frames skipped while hidden
            self._on_live_result(self.live.latest)

    def _on_live_result(self, result) -> None:
        if not self.isVisible():  # a closed or tabbed-away dock costs nothing per frame
            return
        frame = result.frame  # (H, W, 3) uint8
        # No levels: uint8 RGB goes to Qt as it is (levels (0, 255) made pyqtgraph rescale it,
        # which doubled the cost of painting it).
        self.image.setImage(frame, levels=None, autoLevels=False)
        if frame.shape != self._frame_shape:
            self._frame_shape = frame.shape
            self._update_info()
            self._view_box.autoRange(padding=0)
        if self.session.display.show_channels:
            self._show_channels(frame)

    def _show_channels(self, frame: np.ndarray) -> None:
        gray = (frame.reshape(-1, 3).astype(np.float32) @ LUMA).reshape(frame.shape[:2])  # (H, W)
        planes = [np.ascontiguousarray(frame[..., c]) for c in range(3)] + [gray]
        for item, plane in zip(self.channel_items, planes, strict=True):
            item.setImage(plane, levels=(0, 255), autoLevels=False)
        if frame.shape != self._channels_shape:
            self._channels_shape = frame.shape
            for item in self.channel_items:
                item.getViewBox().autoRange(padding=0)
