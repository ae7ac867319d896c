"""A horizontal colour bar that shows which colour stands for which real value."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.i18n import _
from gui.ui_scale import scaled


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
    frame (cheap: it only repaints). :meth:`set_note` names what the range belongs to (under
    per-map normalization one colour stands for other values in every map, so the bar shows
    one map's real range, "map 5"); the bar then shows only its two end values, the note
    between them.
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
        scaled(self.setMinimumWidth, 160)
        self.setToolTip(_("Colour scale: the value each colour stands for."))

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
        """Show ``note`` between the two end values instead of five ticks ("": ticks again)."""
        if note != self._note:
            self._note = note
            self.update()

    @property
    def note(self) -> str:
        """What the range belongs to ("" when the ticks hold for every colour shown)."""
        return self._note

    @property
    def range(self) -> tuple[float, float]:
        return self._lo, self._hi

    def tick_labels(self) -> list[str]:
        """The values written under the bar, left to right (the two ends when a note is shown)."""
        if self._note:
            return [format_value(self._lo), format_value(self._hi)]
        return [format_value(v) for v in np.linspace(self._lo, self._hi, 5)]

    def describe(self) -> str:
        """The bar in words, e.g. ``"map 5: -0.31 ... 1.2"`` or ``"0 ... 4.7"``."""
        span = f"{format_value(self._lo)} ... {format_value(self._hi)}"
        return f"{self._note}: {span}" if self._note else span

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
        labels = self.tick_labels()
        if self._note:
            self._paint_note(p, fm, bar, text_y, labels)
            p.end()
            return
        for i, text in enumerate(labels):
            x = bar.left() + bar.width() * i / (len(labels) - 1)
            p.drawLine(int(x), int(bar.bottom()), int(x), int(bar.bottom()) + 3)
            w = fm.horizontalAdvance(text)
            left = min(max(x - w / 2, 0), self.width() - w)
            p.drawText(QRectF(left, text_y, w + 1, fm.height()), Qt.AlignmentFlag.AlignLeft, text)
        p.end()

    def _paint_note(self, p: QPainter, fm: QFontMetrics, bar: QRectF, text_y: int,
                    labels: list[str]) -> None:
        """The two end values under the bar's ends and the note, shortened if need be, between."""
        lo, hi = labels
        w_lo, w_hi = fm.horizontalAdvance(lo), fm.horizontalAdvance(hi)
        for x in (bar.left(), bar.right()):
            p.drawLine(int(x), int(bar.bottom()), int(x), int(bar.bottom()) + 3)
        left = max(bar.left() - w_lo / 2, 0)
        right = min(bar.right() + w_hi / 2, self.width()) - w_hi
        p.drawText(QRectF(left, text_y, w_lo + 1, fm.height()), Qt.AlignmentFlag.AlignLeft, lo)
        p.drawText(QRectF(right, text_y, w_hi + 1, fm.height()), Qt.AlignmentFlag.AlignLeft, hi)
        room = QRectF(left + w_lo + 8, text_y, max(right - left - w_lo - 16, 0), fm.height())
        note = fm.elidedText(self._note, Qt.TextElideMode.ElideRight, int(room.width()))
        p.drawText(room, Qt.AlignmentFlag.AlignCenter, note)
