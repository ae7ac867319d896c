"""A grid of numbered cells drawn with QPainter, for the step-by-step players.

Each cell shows its value (when the cell is large enough for the text) on a pale background
coloured by sign and size. Layers drawn on top tell the story of a step: zero padding is
hatched grey, the cells under the kernel are highlighted, cells the floor drops are tinted red,
and single cells (the output being written, the winner of a max window) get a thick outline.
Every cell has a tooltip with its position, its value and its role.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from engine.lecture.text import format_value
from gui.ui_scale import factor, halo_pen, outline_pen, presenting, px

__all__ = ["CellGrid", "format_value", "titled"]

_HIGHLIGHT = QColor(255, 200, 40, 150)
_HIGHLIGHT_EDGE = QColor(230, 120, 0)
_TINT = QColor(220, 40, 40, 90)
_PADDING = QColor(200, 200, 200)
_MARK = QColor(20, 60, 200)
_HEADER = 14
_MAX_CELL = 60.0  # bigger cells only make a small output harder to take in at a glance
# A big grid (a 16x16 crop with padding) may shrink below min_cell down to this many pixels a
# side: its numbers then move to the cell tooltips, but it no longer widens the whole panel.
_MIN_CAP = 130
# The smallest cell drawn: the lecture's 36x36 padded volume still fits _MIN_CAP at its
# minimum size (its colours and the outlined window stay visible; numbers are on hover).
_MIN_PX = 3


def titled(title: QLabel, grid: QWidget) -> QWidget:
    """A grid with its title label above it, as one widget."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.setSpacing(2)
    title.setToolTip(grid.toolTip())
    title.setWordWrap(True)  # a long title ("Input 16x16x3, channel R, padding 2") wraps
    layout.addWidget(title)
    layout.addWidget(grid, 1)
    return box


class CellGrid(QWidget):
    """A 2-D array of numbers as a grid of cells, with highlight layers for teaching views.

    Signals
    -------
    cellClicked(int, int)
        Row and column of a clicked cell.
    """

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None, *, cell_size: int = 30,
                 min_cell: int = 10) -> None:
        super().__init__(parent)
        self._values = np.zeros((0, 0), np.float32)
        self._known = np.zeros((0, 0), bool)
        self._padding = np.zeros((0, 0), bool)
        self._highlight = np.zeros((0, 0), bool)
        self._tint = np.zeros((0, 0), bool)
        self._marks: dict[tuple[int, int], QColor] = {}
        self._pad_text = "0"
        self._row_offset = 0
        self._col_offset = 0
        self._cell_size = cell_size
        self._min_cell = min_cell
        self._scale = 1.0
        self._hover: tuple[int, int] | None = None  # the cell under the mouse
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    # -- data ---------------------------------------------------------------------------------
    def set_values(self, values, known=None) -> None:
        """Show ``values`` (H, W); cells where ``known`` is False are drawn empty."""
        values = np.asarray(values, np.float32)
        if values.ndim != 2:
            raise ValueError(f"a cell grid shows a 2-D array, not shape {values.shape}")
        known = np.ones(values.shape, bool) if known is None else np.asarray(known, bool)
        if (np.array_equal(values, self._values, equal_nan=True)
                and np.array_equal(known, self._known)):
            return  # the same cells (a layer's weights, frame after frame): no repaint
        shape_changed = values.shape != self._values.shape
        self._values = values.copy()  # a caller's array changed in place must still repaint
        self._known = known.copy()
        if shape_changed:
            empty = np.zeros(values.shape, bool)
            self._padding, self._highlight, self._tint = empty, empty.copy(), empty.copy()
            self._marks = {}
            self.updateGeometry()
        finite = np.abs(values[np.isfinite(values) & self._known])
        self._scale = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        self.update()

    def set_padding(self, mask, text: str = "0") -> None:
        """Mark the zero border (or -inf border of max pooling) and the text shown in it."""
        self._padding = self._mask(mask)
        self._pad_text = text
        self.update()

    def set_highlight(self, mask) -> None:
        """Highlight cells, e.g. the receptive field under the kernel; None clears."""
        self._highlight = self._mask(mask)
        self.update()

    def set_tint(self, mask) -> None:
        """Tint cells red, e.g. the rows and columns that a floored output size drops."""
        self._tint = self._mask(mask)
        self.update()

    def set_marks(self, cells, color: QColor | None = None) -> None:
        """Outline single cells thickly (the output being written, a window's winner)."""
        color = color or _MARK
        self._marks = {(int(r), int(c)): color for r, c in cells}
        self.update()

    def set_index_offset(self, rows: int, cols: int) -> None:
        """Number the rows and columns from these values (e.g. -padding on a padded input)."""
        self._row_offset, self._col_offset = rows, cols
        self.update()

    def _mask(self, mask) -> np.ndarray:
        if mask is None:
            return np.zeros(self._values.shape, bool)
        mask = np.asarray(mask, bool)
        if mask.shape != self._values.shape:
            raise ValueError(f"mask shape {mask.shape} differs from the grid {self._values.shape}")
        return mask

    # -- read back (tests, tooltips) ------------------------------------------------------------
    @property
    def values(self) -> np.ndarray:
        return self._values

    @property
    def highlight(self) -> np.ndarray:
        return self._highlight

    @property
    def tint(self) -> np.ndarray:
        return self._tint

    @property
    def marks(self) -> list[tuple[int, int]]:
        return sorted(self._marks)

    def text_at(self, row: int, col: int) -> str:
        """The text drawn in a cell ("" when the cell is empty)."""
        if self._padding[row, col]:
            return self._pad_text
        if not self._known[row, col]:
            return ""
        return format_value(float(self._values[row, col]))

    # -- geometry -----------------------------------------------------------------------------
    def _shape(self) -> tuple[int, int]:
        h, w = self._values.shape
        return max(h, 1), max(w, 1)

    # Sizes are given at normal scale and read through px(): presenter mode and the zoom
    # (gui.ui_scale) make the cells, their numbers and the headers larger together.
    def sizeHint(self) -> QSize:
        h, w = self._shape()
        cell, header = px(self._cell_size), px(_HEADER)
        return QSize(w * cell + header + 2, h * cell + header + 2)

    def minimumSizeHint(self) -> QSize:
        h, w = self._shape()
        cell, header, cap = px(self._min_cell), px(_HEADER), px(_MIN_CAP)
        return QSize(min(w * cell + header + 2, max(cap, _MIN_PX * w + header + 2)),
                     min(h * cell + header + 2, max(cap, _MIN_PX * h + header + 2)))

    def _layout(self) -> tuple[float, float, float]:
        h, w = self._shape()
        header = px(_HEADER)
        cell = min((self.width() - header - 2) / w, (self.height() - header - 2) / h)
        cell = min(max(cell, float(_MIN_PX)), float(px(_MAX_CELL)))
        left = header + (self.width() - header - cell * w) / 2
        top = header + (self.height() - header - cell * h) / 2
        return cell, left, top

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        cell, left, top = self._layout()
        row, col = int((pos.y() - top) // cell), int((pos.x() - left) // cell)
        h, w = self._values.shape
        if 0 <= row < h and 0 <= col < w and pos.x() >= left and pos.y() >= top:
            return row, col
        return None

    # -- painting -----------------------------------------------------------------------------
    def _background(self, value: float) -> QColor:
        if not np.isfinite(value):
            return QColor(235, 235, 235)
        t = min(abs(value) / self._scale, 1.0)
        # Pale colours only, so that black text stays readable: red positive, blue negative.
        if value >= 0:
            return QColor(255, int(255 - 110 * t), int(255 - 120 * t))
        return QColor(int(255 - 120 * t), int(255 - 80 * t), 255)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        h, w = self._values.shape
        if h == 0 or w == 0:
            return
        cell, left, top = self._layout()
        font = QFont(self.font())
        # Presenter mode tries larger numbers first (the smaller font below is the fallback).
        font.setPixelSize(min(max(int(cell * (0.5 if presenting() else 0.36)), 7), px(16)))
        painter.setFont(font)
        small = QFont(font)
        small.setPixelSize(max(int(cell * 0.3), 6))
        fonts = (font, QFontMetrics(font)), (small, QFontMetrics(small))
        # Cells too small for even one digit (a 36x36 padded volume in a narrow panel) skip
        # the text: measuring it for every cell would cost most of a repaint, for nothing.
        if fonts[1][1].horizontalAdvance("0") > cell - 4:
            fonts = ()
        grid_pen = QPen(QColor(150, 150, 150), 1)
        for r in range(h):
            for c in range(w):
                rect = QRectF(left + c * cell, top + r * cell, cell, cell)
                self._paint_cell(painter, rect, r, c, fonts, grid_pen)
        self._paint_headers(painter, cell, left, top)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        mark = 3.0 * factor() * (2 if presenting() else 1)  # presenter mode: twice as thick
        for (r, c), color in self._marks.items():
            if 0 <= r < h and 0 <= c < w:
                painter.setPen(QPen(color, mark))
                inset = mark / 2
                painter.drawRect(QRectF(left + c * cell + inset, top + r * cell + inset,
                                        cell - mark, cell - mark))
        if presenting():
            self._paint_pointer(painter, cell, left, top)

    def _paint_pointer(self, painter, cell, left, top) -> None:
        """Presenter mode: the sliding window and the hovered cell in a thick, bright outline."""
        rects = []
        rows, cols = np.nonzero(self._highlight)
        if rows.size:  # the window under the kernel, as one rectangle around it
            rects.append(QRectF(left + cols.min() * cell, top + rows.min() * cell,
                                (cols.max() - cols.min() + 1) * cell,
                                (rows.max() - rows.min() + 1) * cell))
        if self._hover is not None and self._hover[0] < self._values.shape[0] \
                and self._hover[1] < self._values.shape[1]:
            r, c = self._hover
            rects.append(QRectF(left + c * cell, top + r * cell, cell, cell))
        for pen in (halo_pen(2), outline_pen(_HIGHLIGHT_EDGE, 2)):
            painter.setPen(pen)
            for rect in rects:
                painter.drawRect(rect)

    def _paint_cell(self, painter, rect, r, c, fonts, grid_pen) -> None:
        value = float(self._values[r, c])
        if self._padding[r, c]:
            painter.fillRect(rect, _PADDING)
            painter.fillRect(rect, QBrush(QColor(160, 160, 160), Qt.BrushStyle.BDiagPattern))
        elif self._known[r, c]:
            painter.fillRect(rect, self._background(value))
        else:
            painter.fillRect(rect, QColor(250, 250, 250))
        if self._tint[r, c]:
            # Hatched as well as tinted: a plain red tint alone is lost on red (positive) cells.
            painter.fillRect(rect, _TINT)
            painter.fillRect(rect, QBrush(QColor(170, 0, 0), Qt.BrushStyle.FDiagPattern))
        if self._highlight[r, c]:
            painter.fillRect(rect, _HIGHLIGHT)
        painter.setPen(grid_pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)
        if self._highlight[r, c]:
            painter.setPen(QPen(_HIGHLIGHT_EDGE, 1))
            painter.drawRect(rect.adjusted(1, 1, -1, -1))
        if not fonts:
            return
        text = self.text_at(r, c)
        if not text:
            return
        gray = self._padding[r, c] or not self._known[r, c]
        painter.setPen(QColor(110, 110, 110) if gray else QColor(0, 0, 0))
        # Shrink the text (and drop a leading zero) before giving up; the cell's tooltip
        # always has the number.
        short = text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text
        for font, metrics in fonts:
            for candidate in (text, short):
                if metrics.horizontalAdvance(candidate) <= rect.width() - 4:
                    painter.setFont(font)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, candidate)
                    return

    def _paint_headers(self, painter, cell, left, top) -> None:
        h, w = self._values.shape
        font = QFont(self.font())
        font.setPixelSize(px(9))
        header = px(_HEADER)
        painter.setFont(font)
        painter.setPen(QColor(90, 90, 90))
        every = 1 if cell >= 16 else 2 if cell >= 8 else 4
        for c in range(0, w, every):
            painter.drawText(QRectF(left + c * cell, top - header, cell, header),
                             Qt.AlignmentFlag.AlignCenter, str(c + self._col_offset))
        for r in range(0, h, every):
            painter.drawText(QRectF(left - header - 2, top + r * cell, header, cell),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             str(r + self._row_offset))

    # -- interaction --------------------------------------------------------------------------
    def mouseMoveEvent(self, event) -> None:
        hover = self.cell_at(event.position().toPoint())
        if hover != self._hover:
            self._hover = hover
            if presenting():  # only presenter mode draws the hovered cell
                self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self._hover = None
        if presenting():
            self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position().toPoint())
        if hit is not None:
            self.cellClicked.emit(*hit)
        super().mousePressEvent(event)

    def tooltip_at(self, row: int, col: int) -> str:
        """The tooltip of one cell: position, value and role."""
        where = f"row {row + self._row_offset}, column {col + self._col_offset}"
        if self._padding[row, col]:
            text = f"{where}: padding ({self._pad_text}), added around the input"
        elif not self._known[row, col]:
            text = f"{where}: not computed yet"
        else:
            text = f"{where}: {float(self._values[row, col]):.4g}"
        if self._highlight[row, col]:
            text += "\nunder the kernel at this step"
        if self._tint[row, col]:
            text += "\nno window reaches this cell: the floor in the size formula drops it"
        if (row, col) in self._marks:
            text += "\nthe cell this step is about"
        return text

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.cell_at(event.pos())
            if hit is None:
                QToolTip.showText(event.globalPos(), self.toolTip(), self)
            else:
                QToolTip.showText(event.globalPos(), self.tooltip_at(*hit), self)
            return True
        return super().event(event)
