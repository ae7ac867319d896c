"""A numeric grid editor for one 2-D kernel (one filter, one input channel).

Each cell holds one weight, coloured with the same diverging scale as the kernel grid; a
double click (or typing) opens a spin box. The table never keeps the truth: it emits
``valueEdited`` and waits for the owner to write the new kernel back with ``set_kernel``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from engine.i18n import _
from gui.ui_scale import scale_rows
from gui.widgets.kernel_grid import diverging_rgb

#: Largest magnitude a single weight may be given in the editor.
WEIGHT_LIMIT = 1000.0
#: Rows of a kernel the editor always shows without scrolling.
MIN_ROWS = 3


class WeightDelegate(QStyledItemDelegate):
    """Edits a cell with a spin box: 4 decimals, steps of 0.1, limited to +-WEIGHT_LIMIT."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex) -> QWidget:
        editor = QDoubleSpinBox(parent)
        editor.setRange(-WEIGHT_LIMIT, WEIGHT_LIMIT)
        editor.setDecimals(4)
        editor.setSingleStep(0.1)
        editor.setFrame(False)
        editor.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.UserRole)
        editor.setValue(float(value) if value is not None else 0.0)

    def setModelData(self, editor: QWidget, model, index: QModelIndex) -> None:
        editor.interpretText()
        model.setData(index, float(editor.value()), Qt.ItemDataRole.UserRole)


class KernelTable(QTableWidget):
    """Shows and edits the weights of one (kh, kw) kernel.

    Signals
    -------
    valueEdited(int, int, float)
        (row, column, new value) after the user finished editing a cell.
    """

    valueEdited = Signal(int, int, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kernel = np.zeros((0, 0), np.float32)
        self.setItemDelegate(WeightDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(28)
        # Rows just tall enough for a number: the stretch makes them taller when there is room.
        row_h = self.fontMetrics().height() + 8
        self.verticalHeader().setMinimumSectionSize(row_h)
        self.verticalHeader().setDefaultSectionSize(row_h)
        scale_rows(self)
        self.setToolTip(_("The weights of the selected kernel. Double-click a cell (or select it "
                        "and type) to change one weight; the maps update at once."))
        self.itemChanged.connect(self._on_item_changed)

    def sizeHint(self) -> QSize:
        """Room for every row up to 7; the kernel grid above gets the rest of the dock."""
        hint = super().sizeHint()
        rows = min(max(self.rowCount(), 1), 7)
        row_h = self.verticalHeader().defaultSectionSize()
        header_h = self.horizontalHeader().sizeHint().height()
        return QSize(hint.width(), rows * row_h + header_h + 2 * self.frameWidth())

    def kernel(self) -> np.ndarray:
        """The kernel currently shown, (kh, kw) float32 (a copy)."""
        return self._kernel.copy()

    def set_kernel(self, kernel: np.ndarray, scale: float | None = None) -> None:
        """Show a (kh, kw) kernel; colours use +-scale (default: its own largest magnitude)."""
        kernel = np.asarray(kernel, dtype=np.float32)
        self._kernel = kernel.copy()
        kh, kw = kernel.shape
        if scale is None or scale <= 0:
            scale = float(np.abs(kernel).max()) or 1.0
        colors = diverging_rgb(kernel, scale)  # (kh, kw, 3)
        self.blockSignals(True)
        try:
            if (self.rowCount(), self.columnCount()) != (kh, kw):
                self.setRowCount(kh)
                self.setColumnCount(kw)
                self.setHorizontalHeaderLabels([str(i) for i in range(kw)])
                self.setVerticalHeaderLabels([str(i) for i in range(kh)])
                # At least 3 rows visible; rows stretch when there is room, else the table
                # scrolls, so a 7x7 kernel does not make the dock taller than the screen.
                row_h = self.verticalHeader().defaultSectionSize()
                header_h = self.horizontalHeader().sizeHint().height()
                self.setMinimumHeight(min(kh, MIN_ROWS) * row_h + header_h
                                      + 2 * self.frameWidth())
            for r in range(kh):
                for c in range(kw):
                    self._fill(r, c, float(kernel[r, c]), colors[r, c])
        finally:
            self.blockSignals(False)
        self.viewport().update()

    def _fill(self, row: int, col: int, value: float, rgb: np.ndarray) -> None:
        item = self.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.setItem(row, col, item)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setText(f"{value:.3g}")  # a kernel cell: the lecture's notation (docs/i18n.md)
        item.setToolTip(_("row {row}, column {col}: {value:.6g}")
                          .format(row=row, col=col, value=value))
        r, g, b = (int(v) for v in rgb)
        item.setBackground(QBrush(QColor(r, g, b)))
        # Dark text on the pale middle of the scale, white text on the saturated ends.
        light = 0.299 * r + 0.587 * g + 0.114 * b > 140
        item.setForeground(QBrush(QColor(0, 0, 0) if light else QColor(255, 255, 255)))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        value = item.data(Qt.ItemDataRole.UserRole)
        if value is None:
            return
        row, col = item.row(), item.column()
        if float(value) == float(self._kernel[row, col]):
            return
        self.valueEdited.emit(row, col, float(value))
