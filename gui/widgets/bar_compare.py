"""Horizontal bars on a log scale, for numbers that differ by many powers of ten.

A conv layer with 760 weights and its fully connected twin with 94,402,560 cannot share a linear
axis: the small bar would vanish. On a log axis each power of ten takes the same width, so the
gap between two bars reads as "how many zeros apart". Every bar carries its exact count with
thousands separators, and the axis is marked at each power of ten.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.i18n import _, format_number

__all__ = ["BarCompare", "power_of_ten", "thousands"]

_BAR_H = 22
_GAP = 8
_AXIS_H = 18


def thousands(n: int | float) -> str:
    """A count with the language's thousands separators: ``94402560`` -> ``"94,402,560"``
    (pt-BR: ``"94.402.560"``)."""
    return format_number(int(n), ",")


def power_of_ten(n: int | float, exponent: int | None = None, html: bool = False) -> str:
    """A count as ``a.b x 10^k``, e.g. ``"1.4 × 10¹⁰"``; counts below 1,000 stay whole.

    ``exponent`` fixes k (the lecture writes 14.4 x 10^9); ``html`` gives ``10<sup>k</sup>``
    for rich-text labels instead of Unicode superscripts.
    """
    n = float(n)
    if n < 1000 and exponent is None:
        return thousands(n)
    exp = math.floor(math.log10(n)) if exponent is None else exponent
    mantissa = n / 10**exp
    if exponent is None and round(mantissa, 1) >= 10:  # 9.96e7 would read "10.0 x 10^7"
        mantissa, exp = mantissa / 10, exp + 1
    return f"{format_number(mantissa, '.1f')} × {_ten(exp, html)}"


def _ten(exp: int, html: bool = False) -> str:
    if html:
        return f"10<sup>{exp}</sup>"
    return "10" + str(exp).translate(str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"))


class BarCompare(QWidget):
    """Labelled bars whose length is ``log10(value)``; each shows its exact value.

    Call :meth:`set_bars` with ``(label, value, color)`` rows; values must be positive.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bars: list[tuple[str, int, QColor]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(_("Log scale: every power of ten takes the same width, so bars that "
                        "differ by a factor of 1,000 are three steps apart"))

    def set_bars(self, bars) -> None:
        """Show ``[(label, value, color), ...]``; a value below 1 is drawn as 1."""
        self._bars = [(str(label), max(int(value), 1), QColor(color)) for label, value, color
                      in bars]
        self.updateGeometry()
        self.update()

    @property
    def bars(self) -> list[tuple[str, int]]:
        """The labels and values shown (for tests)."""
        return [(label, value) for label, value, _ in self._bars]

    def _decades(self) -> int:
        top = max((v for _, v, _ in self._bars), default=10)
        return max(1, math.ceil(math.log10(top) + 1e-9))

    def sizeHint(self) -> QSize:
        n = max(len(self._bars), 1)
        return QSize(420, n * (_BAR_H + _GAP) + _AXIS_H + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(260, self.sizeHint().height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        font = QFont(self.font())
        metrics = QFontMetrics(font)
        label_w = max((metrics.horizontalAdvance(label) for label, _, _ in self._bars),
                      default=0) + 8
        value_w = max((metrics.horizontalAdvance(thousands(v)) for _, v, _ in self._bars),
                      default=0) + 8
        left, right = label_w, self.width() - value_w
        span = max(right - left, 20)
        decades = self._decades()
        # The axis: one tick per power of ten, labelled 10^k.
        axis_y = len(self._bars) * (_BAR_H + _GAP) + 2
        painter.setPen(QPen(QColor(150, 150, 150), 1))
        # Label only as many decades as fit without the labels touching.
        step = max(1, math.ceil(36 / (span / decades)))
        for k in range(0, decades + 1):
            x = left + span * k / decades
            painter.drawLine(int(x), 0, int(x), axis_y)
            if k % step == 0:
                text = thousands(10**k) if k < 3 else _ten(k)
                painter.drawText(QRectF(x - 24, axis_y, 48, _AXIS_H),
                                 Qt.AlignmentFlag.AlignCenter, text)
        painter.setFont(font)
        for i, (label, value, color) in enumerate(self._bars):
            y = i * (_BAR_H + _GAP)
            width = span * math.log10(value) / decades
            painter.fillRect(QRectF(left, y, max(width, 2), _BAR_H), color)
            painter.setPen(QColor(30, 30, 30))
            painter.drawText(QRectF(0, y, label_w - 6, _BAR_H),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            # On the window colour: a tick line of the axis must not cross out a digit.
            text = thousands(value)
            box = QRectF(left + width + 3, y + (_BAR_H - metrics.height()) / 2,
                         metrics.horizontalAdvance(text) + 2, metrics.height())
            painter.fillRect(box, self.palette().color(QPalette.ColorRole.Window))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
