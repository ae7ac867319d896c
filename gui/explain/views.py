"""Pictures for the Explain panel: a picture with a heat map over it, and a grid of patches.

Both take uint8 arrays made in a worker (:mod:`gui.explain.render`); per frame they only call
``setImage`` with explicit levels and a lookup table, so pyqtgraph never scans the pixels.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui.ui_scale import scaled

__all__ = ["PatchGrid", "PictureView", "TitledPicture"]


class PictureView(pg.GraphicsLayoutWidget):
    """An RGB picture with an optional heat map drawn over it, stretched to the same rectangle.

    Scroll to zoom and drag to pan; :meth:`set_picture` with a new size fits the view again.
    """

    def __init__(self, parent=None, minimum: int = 120):
        super().__init__(parent)
        self.setBackground("#202124")
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        scaled(self.setMinimumSize, minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._box = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.picture = pg.ImageItem(axisOrder="row-major")
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setZValue(1)
        self._box.addItem(self.picture)
        self._box.addItem(self.heat)
        self._shape: tuple[int, int] = (0, 0)
        self.has_picture = False

    def sizeHint(self) -> QSize:
        return QSize(240, 240)

    def set_picture(self, rgb: np.ndarray) -> None:
        """Show an ``(H, W, 3)`` uint8 picture (the heat map, if any, is stretched over it)."""
        self.picture.setImage(rgb, levels=(0, 255), lut=None, autoLevels=False)
        self.picture.setOpacity(1.0)
        self.has_picture = True
        h, w = rgb.shape[:2]
        if (h, w) != self._shape:
            self._shape = (h, w)
            self._box.autoRange(padding=0.01)

    def set_heat(self, indices: np.ndarray | None, lut: np.ndarray | None = None,
                 opacity: float = 1.0) -> None:
        """Draw uint8 colour-table ``indices`` over the picture; None removes the heat map."""
        if indices is None:
            self.heat.setOpacity(0.0)
            return
        self.heat.setImage(indices, levels=(0, 255), lut=lut, autoLevels=False)
        h, w = self._shape
        self.heat.setRect(QRectF(0, 0, w or indices.shape[1], h or indices.shape[0]))
        self.heat.setOpacity(opacity)

    def set_opacity(self, opacity: float) -> None:
        self.heat.setOpacity(opacity)

    def blank(self) -> None:
        """Show nothing until the next :meth:`set_picture` (not ``clear``: pyqtgraph's
        GraphicsLayoutWidget sets its own ``clear`` on every instance, emptying the layout)."""
        self.picture.setOpacity(0.0)  # hiding or clearing the item upsets the view's range
        self.set_heat(None)
        self.has_picture = False


class TitledPicture(QWidget):
    """A :class:`PictureView` with a line of text above it and one below."""

    def __init__(self, title: str, tooltip: str, parent=None, minimum: int = 120):
        super().__init__(parent)
        self.title = QLabel(title)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setToolTip(tooltip)
        self.view = PictureView(minimum=minimum)
        self.view.setToolTip(tooltip)
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.caption.setToolTip(tooltip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)


def _qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PatchGrid(QWidget):
    """Up to nine pictures in a 3 x 3 grid, each scaled to its cell, with its value under it."""

    COLUMNS = 3

    def __init__(self, parent=None):
        super().__init__(parent)
        self._cells: list[tuple[QImage, str]] = []
        self._empty = ""
        scaled(self.setMinimumSize, 150, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def count(self) -> int:
        return len(self._cells)

    def set_patches(self, patches: list[tuple[np.ndarray, float]]) -> None:
        """``(picture (h, w, 3) uint8, activation)`` pairs, best first."""
        self._cells = [(_qimage(p), f"{v:.3g}") for p, v in patches]
        self.update()

    def set_empty(self, text: str) -> None:
        """Show ``text`` instead of patches."""
        self._cells, self._empty = [], text
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(240, 240)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#202124"))
        p.setPen(QColor("#e8eaed"))
        if not self._cells:
            p.drawText(self.rect().adjusted(8, 8, -8, -8),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._empty)
            p.end()
            return
        fm = p.fontMetrics()
        cols = self.COLUMNS
        rows = (len(self._cells) + cols - 1) // cols
        cell_w = self.width() / cols
        cell_h = self.height() / max(rows, cols)
        side = max(min(cell_w, cell_h - fm.height()) - 6, 4)
        for i, (image, text) in enumerate(self._cells):
            r, c = divmod(i, cols)
            x0 = c * cell_w + (cell_w - side) / 2
            y0 = r * cell_h + 3
            scale = side / max(image.width(), image.height())
            w, h = image.width() * scale, image.height() * scale
            target = QRectF(x0 + (side - w) / 2, y0 + (side - h) / 2, w, h)
            p.drawImage(target, image)
            p.drawText(QRectF(c * cell_w, y0 + side, cell_w, fm.height()),
                       Qt.AlignmentFlag.AlignCenter, text)
        p.end()
