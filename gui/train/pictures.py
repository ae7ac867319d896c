"""Small views for the Train panels: numpy arrays as pictures, a thumbnail grid, text and
progress that change often without laying the window out again, and staggered redraws."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QWidget,
)

from gui.ui_scale import follow

__all__ = ["ProgressLine", "Redraw", "ScaledPicture", "StatusText", "ThumbGrid", "to_image",
           "to_pixmap"]


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


class StatusText(QWidget):
    """A few lines of text that change several times a second, painted in a fixed height.

    A QLabel asks its layout, and so the whole window, to lay out again whenever its text
    changes; a busy Train workspace paid for that with stalls of the event loop. This widget's
    size never depends on its text: a new text only repaints it. Long text is cut at the last
    line (the tooltip has all of it).
    """

    def __init__(self, lines: int = 1, bold: bool = False, parent=None) -> None:
        super().__init__(parent)
        self._text, self._lines, self._color = "", lines, None
        if bold:
            font = self.font()
            font.setBold(True)
            self.setFont(font)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit_height()
        follow(self, self._fit_height)  # the lines grow with the interface scale

    def _fit_height(self) -> None:
        self.setFixedHeight(self.fontMetrics().lineSpacing() * self._lines + 4)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # the QLabel name: panels and tests read it so
        if text != self._text:
            self._text = text
            self.update()

    def set_color(self, color: str | None) -> None:
        """A colour for the text (``"#c62828"`` for errors), None for the palette's."""
        if color != self._color:
            self._color = color
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(200, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(40, self.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self._color:
            painter.setPen(QColor(self._color))
        else:
            painter.setPen(self.palette().windowText().color())
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.drawText(self.rect().adjusted(1, 2, -1, 0), flags, self._text)
        painter.end()


class ProgressLine(QWidget):
    """A progress bar that repaints later, like every other widget (QProgressBar repaints at
    once, inside setValue: a few milliseconds of the event loop at every new step)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._done, self._total = 0, 1
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 6)

    def set_progress(self, done: int, total: int) -> None:
        done, total = int(done), max(int(total), 1)
        if (done, total) != (self._done, self._total):
            self._done, self._total = done, total
            self.update()

    def value(self) -> int:
        return self._done

    def maximum(self) -> int:
        return self._total

    def sizeHint(self) -> QSize:
        return QSize(200, self.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        rect = self.rect().adjusted(0, 0, -1, -1)
        painter.fillRect(rect, palette.base())
        share = min(self._done / self._total, 1.0)
        filled = rect.adjusted(0, 0, -round(rect.width() * (1 - share)), 0)
        painter.fillRect(filled, palette.highlight())
        painter.setPen(palette.mid().color())
        painter.drawRect(rect)
        painter.setPen(palette.text().color())
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{share:.0%}")
        painter.end()


class Redraw(QObject):
    """A panel's redraw, run in an event-loop turn of its own and only while it is visible.

    Every Train panel redrawing at once on a new snapshot made one long turn of the event loop
    (the window stalled); each panel redraws ``delay_ms`` after the snapshot instead, so the
    turns are short and interleave with everything else. At most every ``min_ms``; a hidden
    panel (a tab behind another) catches up when it is shown.
    """

    def __init__(self, widget, callback, delay_ms: int = 0, min_ms: int = 0) -> None:
        super().__init__(widget)
        self._widget, self._callback = widget, callback
        self._delay, self._min = delay_ms, min_ms
        self._last = -1e9
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._run)
        widget.installEventFilter(self)

    def request(self, *_args) -> None:
        if not self._timer.isActive():
            wait = max(self._delay, int(self._min - (time.perf_counter() - self._last) * 1000))
            self._timer.start(max(wait, 0))

    def _run(self) -> None:
        if not self._widget.isVisible():
            self._dirty = True
            return
        self._dirty = False
        self._last = time.perf_counter()
        self._callback()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Show and self._dirty:
            self.request()
        return False
