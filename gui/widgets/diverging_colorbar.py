"""The colour bar beside the kernel grid: -scale (blue) through 0 (white) to +scale (red)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.i18n import _
from gui.colormaps import DIVERGING_LUT

__all__ = ["DivergingColorbar"]


class DivergingColorbar(QWidget):
    """A horizontal bar from -scale (blue) through 0 (white) to +scale (red)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scale = 1.0
        ramp = DIVERGING_LUT[None, :, :].repeat(8, axis=0)  # (8, 256, 3)
        self._ramp = np.ascontiguousarray(ramp)
        self._image = QImage(self._ramp.data, 256, 8, 3 * 256, QImage.Format.Format_RGB888)
        # The height follows the font (presenter mode scales it): sizeHint, not a fixed height.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setToolTip(_("Color scale shared by all kernels of the layer: blue negative, "
                        "white zero, red positive."))

    def set_scale(self, scale: float) -> None:
        """Show +-scale at the ends."""
        self._scale = float(scale)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(256, 2 * self.fontMetrics().height() + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(64, self.sizeHint().height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        fm = self.fontMetrics()
        line = fm.height()  # first line: -scale, the bar, +scale; second line: 0
        lo, hi = f"{-self._scale:.3g}", f"{self._scale:.3g}"
        left = fm.horizontalAdvance(lo) + 6
        right = fm.horizontalAdvance(hi) + 6
        bar_h = max(line // 2, 8)
        bar = QRect(left, (line - bar_h) // 2, max(self.width() - left - right, 10), bar_h)
        painter.drawImage(bar, self._image)
        painter.setPen(self.palette().windowText().color())
        middle = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRect(0, 0, left - 4, line), Qt.AlignmentFlag.AlignRight | middle, lo)
        painter.drawText(QRect(bar.right() + 4, 0, right, line),
                         Qt.AlignmentFlag.AlignLeft | middle, hi)
        painter.drawText(QRect(bar.left(), line, bar.width(), line),
                         Qt.AlignmentFlag.AlignHCenter, "0")
        painter.end()
