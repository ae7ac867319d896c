"""Small pictures for the Train panels: numpy arrays to QImage/QPixmap, and a thumbnail grid."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QWidget,
)

__all__ = ["ScaledPicture", "ThumbGrid", "to_image", "to_pixmap"]


def to_image(picture: np.ndarray) -> QImage:
    """An (H, W, 3) RGB or (H, W) / (H, W, 1) gray uint8 array as a QImage (a copy)."""
    a = np.asarray(picture)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    a = np.ascontiguousarray(a)
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def to_pixmap(picture: np.ndarray, side: int, smooth: bool = False) -> QPixmap:
    """The picture scaled to fit ``side`` x ``side`` pixels (sharp squares unless ``smooth``)."""
    mode = (Qt.TransformationMode.SmoothTransformation if smooth
            else Qt.TransformationMode.FastTransformation)
    return QPixmap.fromImage(to_image(picture)).scaled(
        side, side, Qt.AspectRatioMode.KeepAspectRatio, mode)


class ThumbGrid(QListWidget):
    """Pictures in a wrapping grid with a caption each; several can be selected."""

    def __init__(self, side: int = 64, parent=None) -> None:
        super().__init__(parent)
        self.side = side
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(side, side))
        self.setGridSize(QSize(side + 24, side + 40))  # two lines of caption
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def set_items(self, items) -> None:
        """``items``: (picture array, caption, tooltip, data) each; replaces the grid."""
        self.setUpdatesEnabled(False)
        self.clear()
        for picture, caption, tip, data in items:
            item = QListWidgetItem(QIcon(to_pixmap(picture, self.side, smooth=True)), caption)
            item.setToolTip(tip)
            item.setData(Qt.ItemDataRole.UserRole, data)
            self.addItem(item)
        self.setUpdatesEnabled(True)

    def add_item(self, picture, caption: str, tip: str, data) -> None:
        item = QListWidgetItem(QIcon(to_pixmap(picture, self.side, smooth=True)), caption)
        item.setToolTip(tip)
        item.setData(Qt.ItemDataRole.UserRole, data)
        self.addItem(item)

    def selected_data(self) -> list:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.selectedItems()]


class ScaledPicture(QWidget):
    """One picture drawn as large as the widget allows, pixels kept sharp, aspect kept."""

    def __init__(self, parent=None, min_side: int = 64) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self.setMinimumSize(min_side, min_side)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_picture(self, picture: np.ndarray | None) -> None:
        self._image = None if picture is None else to_image(picture)
        self.update()

    @property
    def picture_size(self) -> tuple[int, int]:
        """(height, width) of the picture shown, (0, 0) when none."""
        return (0, 0) if self._image is None else (self._image.height(), self._image.width())

    def paintEvent(self, event) -> None:
        if self._image is None:
            return
        h, w = self._image.height(), self._image.width()
        scale = min(self.width() / w, self.height() / h)
        if scale >= 1:
            scale = float(int(scale))  # whole pixels: every weight the same size
        tw, th = w * scale, h * scale
        target = QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)
        painter = QPainter(self)
        painter.drawImage(target, self._image)
        painter.end()
