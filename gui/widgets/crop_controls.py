"""The crop box of the convolution and pooling players, and the frame thumbnail it shows.

``frame_thumbnail`` turns a pipeline input into a small picture; the receptive-field dock uses
it too.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from engine.i18n import _
from engine.lecture.examples import crop_around
from engine.lecture.traces import MAX_SIDE
from gui.ui_scale import scaled
from gui.widgets.pixel_view import MARK_COLOR, PixelView

__all__ = ["CropControls", "frame_thumbnail"]

BOX_COLOR = MARK_COLOR  # the crop's square on the thumbnail

THUMB_SIDE = 160  # at most this many rows and columns of the frame go into the thumbnail


def frame_thumbnail(image: np.ndarray, max_side: int | None = THUMB_SIDE
                    ) -> tuple[np.ndarray, tuple[int, int]]:
    """A (h, w, 3) uint8 picture of a (C, H, W) pipeline input, and the input's (H, W).

    Three channels are shown as colour, any other number as the gray mean of the channels.
    Values in [0, 1] (the app's convention) are shown as they are; a normalised input with
    values outside that range is stretched from its minimum to its maximum. With
    ``max_side``, only every s-th pixel is kept so that at most that many rows and columns
    remain: a large frame then costs little on every update.
    """
    image = np.asarray(image, np.float32)
    c, h, w = image.shape
    s = 1 if max_side is None else max(1, -(-max(h, w) // max_side))
    small = image[:, ::s, ::s]  # (C, h/s, w/s)
    if c != 3:
        small = small.mean(axis=0, keepdims=True).repeat(3, axis=0)
    lo, hi = float(small.min()), float(small.max())
    if lo < 0.0 or hi > 1.0:
        small = (small - lo) / (hi - lo) if hi > lo else np.zeros_like(small)
    rgb = np.clip(small, 0.0, 1.0).transpose(1, 2, 0) * 255.0  # (h/s, w/s, 3)
    return np.ascontiguousarray(rgb.round().astype(np.uint8)), (h, w)


class CropControls(QWidget):
    """Where to crop the current frame: a thumbnail to click, size and centre boxes, a button.

    ``live`` is the app's LiveResults hub (anything with a ``latest`` Result whose ``input`` is
    (C, H, W) float32 will do). A click on the thumbnail centres the crop there and takes it;
    the thumbnail outlines the square that the crop cuts out.

    Signals
    -------
    cropTaken(object)
        The crop, an array (C, h, w).
    failed(str)
        Why no crop could be taken (no frame yet).
    """

    cropTaken = Signal(object)
    failed = Signal(str)

    def __init__(self, live, parent: QWidget | None = None, size: int = 8) -> None:
        super().__init__(parent)
        self._live = live
        self._stale = True  # the thumbnail waits for the next show when hidden
        self.view = PixelView(min_side=72)
        # Small and fixed: the crop row must not push the players past a 800-pixel window.
        scaled(self.view.setFixedSize, 96, 72)
        self.view.setToolTip(_("The current frame: click a point to crop around it. The yellow "
                             "box is the square the crop cuts out."))
        self.view.pixelClicked.connect(self._on_view_pixel_clicked)
        self.size = QSpinBox()
        self.size.setRange(2, MAX_SIDE)
        self.size.setValue(size)
        self.size.setToolTip(_(
            "Side of the square crop in pixels (at most {MAX_SIDE}, so every number stays "
            "readable)"
        ).format(MAX_SIDE=MAX_SIDE))
        self.center_y = QSpinBox()
        self.center_x = QSpinBox()
        for spin, what in ((self.center_y, "row"), (self.center_x, "column")):
            spin.setRange(0, 9999)
            spin.setToolTip(_(
                "The {what} of the frame the crop is centred on (or click the picture)"
            ).format(what=what))
        for spin in (self.size, self.center_y, self.center_x):
            spin.valueChanged.connect(self._draw_box)
        self.button = QPushButton(_("Crop frame"))
        self.button.setToolTip(_("Cut the square around the chosen point out of the current frame "
                               "(what enters the pipeline) and play it"))
        self.button.clicked.connect(self.take)
        hint = QLabel(_("Click the picture to crop there."))
        hint.setWordWrap(True)
        spins = QHBoxLayout()
        for label, widget in ((_("size"), self.size), (_("row"), self.center_y),
                              (_("col"), self.center_x)):
            text = QLabel(label)
            text.setToolTip(widget.toolTip())
            spins.addWidget(text)
            spins.addWidget(widget)
        spins.addStretch(1)
        action = QHBoxLayout()
        action.addWidget(self.button)
        action.addWidget(hint, 1)
        column = QVBoxLayout()
        column.addLayout(spins)
        column.addLayout(action)
        column.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.view)
        row.addLayout(column, 1)
        signal = getattr(live, "resultUpdated", None)
        if signal is not None:
            signal.connect(self._on_live_result_updated)
        self._on_live_result_updated(getattr(live, "latest", None))

    def _image(self) -> np.ndarray | None:
        image = getattr(getattr(self._live, "latest", None), "input", None)
        return image if image is not None and np.ndim(image) == 3 else None

    def _on_live_result_updated(self, result) -> None:
        image = getattr(result, "input", None)
        if image is None or np.ndim(image) != 3:
            return
        _, h, w = np.shape(image)
        if self.center_y.maximum() != h - 1 or self.center_x.maximum() != w - 1:
            first = self.center_y.maximum() == 9999
            for spin in (self.center_y, self.center_x):
                spin.blockSignals(True)
            self.center_y.setRange(0, h - 1)
            self.center_x.setRange(0, w - 1)
            if first:  # start in the middle of the frame
                self.center_y.setValue(h // 2)
                self.center_x.setValue(w // 2)
            for spin in (self.center_y, self.center_x):
                spin.blockSignals(False)
        self._stale = True
        if self.isVisible():  # a hidden crop row does no per-frame work; showEvent catches up
            self._draw_thumbnail(image)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        image = self._image()
        if self._stale and image is not None:
            self._draw_thumbnail(image)

    def _draw_thumbnail(self, image: np.ndarray) -> None:
        rgb, extent = frame_thumbnail(image)
        self.view.set_rgb(rgb, extent=extent)
        self._stale = False
        self._draw_box()

    def _draw_box(self, *_args) -> None:
        """Outline the square the crop would cut out at the current size and centre."""
        image = self._image()
        if image is None:
            self.view.set_boxes([])
            return
        _, (y0, x0) = crop_around(image, self.center_y.value(), self.center_x.value(),
                                  self.size.value())
        side_y, side_x = min(self.size.value(), image.shape[1]), min(self.size.value(),
                                                                     image.shape[2])
        self.view.set_boxes([(y0, y0 + side_y - 1, x0, x0 + side_x - 1, BOX_COLOR)])
        # On a large frame the square is a few screen pixels: the marker keeps it findable.
        self.view.set_marker((self.center_y.value(), self.center_x.value()))

    def _on_view_pixel_clicked(self, row: int, col: int) -> None:
        self.center_y.setValue(row)
        self.center_x.setValue(col)
        self.take()

    def take(self) -> np.ndarray | None:
        """Crop the current frame; emits cropTaken, or failed when there is no frame."""
        result = getattr(self._live, "latest", None)
        image = getattr(result, "input", None)
        if image is None or np.ndim(image) != 3:
            self.failed.emit(_("There is no frame yet: open an image, a video or the camera "
                               "first."))
            return None
        self._on_live_result_updated(result)
        crop, _center = crop_around(image, self.center_y.value(), self.center_x.value(),
                              self.size.value())
        self._draw_box()
        self.cropTaken.emit(crop)
        return crop
