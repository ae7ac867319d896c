"""A small picture with clickable pixels and boxes drawn over it.

The receptive-field, 1x1-convolution and translation docks all show maps this way: scaled to
fit with nearest-neighbour pixels, a tooltip with the value under the mouse, a click that names
the pixel, and boxes or a marker in image coordinates (also for thumbnails of larger maps).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from engine.i18n import _
from gui.colormaps import (
    finite_range,
    indexed_lookup_table,
    levels_for,
    nonfinite_mask,
    to_indices,
)

__all__ = ["PixelView", "colorize"]

MARK_COLOR = QColor(255, 200, 0)


def colorize(values: np.ndarray, colormap: str = "viridis", levels=None) -> np.ndarray:
    """An (H, W) float map as an (H, W, 3) uint8 image through a colormap."""
    values = np.asarray(values, np.float32)
    mask = nonfinite_mask(values)  # NaN and infinity get their own colour
    if levels is None:
        levels = levels_for(*finite_range(values), colormap == "coolwarm")
    idx = to_indices(values, levels, nonfinite=False if mask is None else mask).astype(np.uint8)
    return np.ascontiguousarray(indexed_lookup_table(colormap)[idx][..., :3])


class PixelView(QWidget):
    """A small image scaled to fit, nearest-neighbour, with boxes and a marker on top.

    Signals
    -------
    pixelClicked(int, int)
        Row and column (image pixels) under a left click.
    """

    pixelClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None, min_side: int = 100) -> None:
        super().__init__(parent)
        self._rgb = np.zeros((1, 1, 3), np.uint8)
        self._values: np.ndarray | None = None
        self._image = QImage()
        self._boxes: list[tuple[int, int, int, int, QColor]] = []
        self._marker: tuple[int, int] | None = None
        self._extent: tuple[int, int] | None = None  # (H, W) of the map a thumbnail stands for
        self._min_side = min_side
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def set_rgb(self, rgb: np.ndarray, values: np.ndarray | None = None,
                extent: tuple[int, int] | None = None) -> None:
        """Show an (H, W, 3) uint8 image; ``values`` (H, W) are shown in tooltips.

        ``extent`` (rows, columns): the image is a thumbnail of a map this large; boxes,
        markers and clicks then use that map's coordinates.
        """
        self._rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        self._values = values
        self._extent = None if extent is None else (int(extent[0]), int(extent[1]))
        h, w = self._rgb.shape[:2]
        # QImage borrows the buffer: self._rgb keeps it alive as long as the image.
        self._image = QImage(self._rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self.update()

    def set_map(self, values: np.ndarray, colormap: str = "viridis", levels=None,
                extent: tuple[int, int] | None = None) -> None:
        """Show an (H, W) float map through a colormap (``extent``: see :meth:`set_rgb`)."""
        values = np.asarray(values)
        self.set_rgb(colorize(values, colormap, levels), None if extent else values, extent)

    def set_boxes(self, boxes) -> None:
        """Draw ``[(y0, y1, x0, x1, color), ...]`` (inclusive pixel bounds) over the image."""
        self._boxes = [(int(a), int(b), int(c), int(d), QColor(col)) for a, b, c, d, col in boxes]
        self.update()

    def set_marker(self, yx: tuple[int, int] | None) -> None:
        """Outline one pixel (the chosen unit), or nothing."""
        self._marker = yx
        self.update()

    @property
    def image_shape(self) -> tuple[int, int]:
        """(rows, columns) of the map shown: the thumbnail's extent, else the image's size."""
        return self._extent or (self._rgb.shape[0], self._rgb.shape[1])

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        """The boxes drawn, as ``(y0, y1, x0, x1)`` without their colours."""
        return [b[:4] for b in self._boxes]

    def image_rect(self) -> QRectF:
        """Where the image is drawn in the widget (aspect kept, centred)."""
        h, w = self.image_shape
        scale = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2,
                      w * scale, h * scale)

    def pixel_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(row, column) of the map under a widget point, or None off the image."""
        rect = self.image_rect()
        h, w = self.image_shape
        row = int((pos.y() - rect.top()) / rect.height() * h)
        col = int((pos.x() - rect.left()) / rect.width() * w)
        return (row, col) if 0 <= row < h and 0 <= col < w else None

    def position_of(self, row: int, col: int) -> QPointF:
        """The widget point at the centre of a pixel (for tests and tours)."""
        rect = self.image_rect()
        h, w = self.image_shape
        return QPointF(rect.left() + (col + 0.5) * rect.width() / w,
                       rect.top() + (row + 0.5) * rect.height() / h)

    def sizeHint(self) -> QSize:
        return QSize(2 * self._min_side, int(1.5 * self._min_side))

    def minimumSizeHint(self) -> QSize:
        return QSize(self._min_side, self._min_side * 3 // 4)

    def _to_widget(self, y0, y1, x0, x1) -> QRectF:
        rect = self.image_rect()
        h, w = self.image_shape
        sy, sx = rect.height() / h, rect.width() / w
        return QRectF(rect.left() + x0 * sx, rect.top() + y0 * sy, (x1 - x0 + 1) * sx,
                      (y1 - y0 + 1) * sy)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(32, 33, 36))
        if self._image.isNull():
            return
        painter.drawImage(self.image_rect(), self._image)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for y0, y1, x0, x1, color in self._boxes:
            painter.setPen(QPen(color, 2))
            painter.drawRect(self._to_widget(y0, y1, x0, x1))
        if self._marker is not None:
            painter.setPen(QPen(MARK_COLOR, 2))
            y, x = self._marker
            painter.drawRect(self._to_widget(y, y, x, x).adjusted(-2, -2, 2, 2))

    def mousePressEvent(self, event) -> None:
        hit = self.pixel_at(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.pixelClicked.emit(*hit)
        super().mousePressEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.pixel_at(QPointF(event.pos()))
            text = self.toolTip()
            if hit is not None:
                r, c = hit
                where = _("row {r}, column {c}").format(r=r, c=c)
                if self._values is not None:
                    where += f": {float(self._values[r, c]):.4g}"
                text = f"{where}\n{text}" if text else where
            QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)
