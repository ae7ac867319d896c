"""A horizontal colour bar that shows which colour stands for which real value."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


def format_value(v: float) -> str:
    """Short, readable number for a tick: 3 significant digits, no scientific noise near 0."""
    if v == 0 or not np.isfinite(v):
        return "0" if v == 0 else str(v)
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.3g}"


class ColorBar(QWidget):
    """The lookup table drawn left to right with tick labels in real values.

    Call :meth:`set_lut` when the colormap changes and :meth:`set_range` with the levels every
    frame (cheap: it only repaints). :meth:`set_note` replaces the ticks by a sentence, for
    per-map normalization where one colour does not stand for one value.
    """

    _BAR_H = 14

    def __init__(self, parent=None):
        super().__init__(parent)
        self._image: QImage | None = None
        self._lut: np.ndarray | None = None
        self._source: np.ndarray | None = None
        self._lo = 0.0
        self._hi = 1.0
        self._note = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(160)
        self.setToolTip("Colour scale: the value each colour stands for.")

    def sizeHint(self) -> QSize:
        fm = QFontMetrics(self.font())
        return QSize(300, self._BAR_H + fm.height() + 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.sizeHint().height())

    # -- state -------------------------------------------------------------------------------
    def set_lut(self, lut: np.ndarray) -> None:
        """Use a ``(256, 4)`` uint8 RGBA lookup table (cheap when it is the same one again)."""
        if lut is self._source:
            return
        self._source = lut
        self._lut = np.ascontiguousarray(lut[None, :, :4], dtype=np.uint8)  # (1, 256, 4)
        h, w = self._lut.shape[:2]
        self._image = QImage(self._lut.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.update()

    def set_range(self, lo: float, hi: float) -> None:
        """Values at the left and right ends of the bar."""
        if (lo, hi) != (self._lo, self._hi):
            self._lo, self._hi = float(lo), float(hi)
            self.update()

    def set_note(self, note: str) -> None:
        """Show ``note`` under the bar instead of value ticks ("" shows ticks again)."""
        if note != self._note:
            self._note = note
            self.update()

    @property
    def range(self) -> tuple[float, float]:
        return self._lo, self._hi

    def tick_labels(self) -> list[str]:
        """The texts under the bar, left to right (empty when a note is shown)."""
        if self._note:
            return []
        return [format_value(v) for v in np.linspace(self._lo, self._hi, 5)]

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        fm = QFontMetrics(self.font())
        margin = max(fm.horizontalAdvance("-0.000") // 2, 4)
        bar = QRectF(margin, 2, max(self.width() - 2 * margin, 1), self._BAR_H)
        if self._image is not None:
            p.drawImage(bar, self._image)
        p.setPen(QPen(self.palette().color(self.foregroundRole())))
        p.drawRect(bar)
        text_y = int(bar.bottom()) + 4
        if self._note:
            p.drawText(QRectF(0, text_y, self.width(), fm.height()),
                       Qt.AlignmentFlag.AlignCenter, self._note)
            p.end()
            return
        labels = self.tick_labels()
        for i, text in enumerate(labels):
            x = bar.left() + bar.width() * i / (len(labels) - 1)
            p.drawLine(int(x), int(bar.bottom()), int(x), int(bar.bottom()) + 3)
            w = fm.horizontalAdvance(text)
            left = min(max(x - w / 2, 0), self.width() - w)
            p.drawText(QRectF(left, text_y, w + 1, fm.height()), Qt.AlignmentFlag.AlignLeft, text)
        p.end()
