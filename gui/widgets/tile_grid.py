"""A grid of small image tiles that can be clicked, and a scroll area that reports resizes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QSize, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QScrollArea,
    QSizePolicy,
    QWidget,
)

GAP = 3  # pixels between tiles
BACKGROUND = (60, 60, 60)  # behind the tiles


class TileGrid(QWidget):
    """Paints (rows x columns) small RGB tiles as one image; a click reports (row, column)."""

    cellClicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tiles = np.zeros((0, 0, 1, 1, 3), np.uint8)  # (rows, cols, h, w, 3)
        self._pix = 8
        self._image: QImage | None = None
        self._buffer: np.ndarray | None = None
        self.selected: tuple[int, int] | None = None  # (row, column) outlined; column -1: row
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of tiles."""
        return self._tiles.shape[:2]

    def set_tiles(self, tiles: np.ndarray, target: int = 44) -> None:
        """Show (rows, cols, h, w, 3) uint8 tiles, each enlarged to about ``target`` pixels."""
        self._tiles = tiles
        h, w = tiles.shape[2:4]
        self._pix = int(np.clip(target // max(h, w, 1), 1, 24))
        rows, cols = tiles.shape[:2]
        th, tw = h * self._pix, w * self._pix
        out = np.empty((rows * (th + GAP) + GAP, cols * (tw + GAP) + GAP, 3), np.uint8)
        out[:] = BACKGROUND
        big = tiles.repeat(self._pix, axis=2).repeat(self._pix, axis=3)  # (rows, cols, th, tw, 3)
        for r in range(rows):
            for c in range(cols):
                y, x = GAP + r * (th + GAP), GAP + c * (tw + GAP)
                out[y : y + th, x : x + tw] = big[r, c]
        self._buffer = np.ascontiguousarray(out)
        hh, ww = out.shape[:2]
        self._image = QImage(self._buffer.data, ww, hh, 3 * ww, QImage.Format.Format_RGB888)
        self.setFixedSize(ww, hh)
        self.update()

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        rows, cols = self.shape
        if not rows:
            return None
        th, tw = (s * self._pix + GAP for s in self._tiles.shape[2:4])
        r, c = (pos.y() - GAP) // th, (pos.x() - GAP) // tw
        return (r, c) if 0 <= r < rows and 0 <= c < cols else None

    def cell_center(self, row: int, col: int) -> QPoint:
        th, tw = (s * self._pix + GAP for s in self._tiles.shape[2:4])
        return QPoint(GAP + col * tw + tw // 2, GAP + row * th + th // 2)

    def sizeHint(self) -> QSize:
        return self.size()

    def set_selected(self, cell: tuple[int, int] | None) -> None:
        self.selected = cell
        self.update()

    def paintEvent(self, event) -> None:
        if self._image is None:
            return
        painter = QPainter(self)
        painter.drawImage(0, 0, self._image)
        if self.selected is not None:
            th, tw = (s * self._pix for s in self._tiles.shape[2:4])
            r, c = self.selected
            width = tw + 1 if c >= 0 else self.width() - 2 * GAP + 1  # column -1: the whole row
            painter.setPen(QPen(QColor(255, 200, 0), 2))
            painter.drawRect(GAP + max(c, 0) * (tw + GAP) - 1, GAP + r * (th + GAP) - 1, width,
                             th + 1)
        painter.end()

    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position().toPoint())
        if hit is not None:
            self.cellClicked.emit(*hit)


class _ResizingScrollArea(QScrollArea):
    """A scroll area that tells when its size changed (the tiles grow to fill it)."""

    resized = Signal()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize() != event.size():
            self.resized.emit()
