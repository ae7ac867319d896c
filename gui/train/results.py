"""The Mistakes panel: the confusion matrix of the validation pictures after the latest epoch
(click a cell to see those pictures) and the mistakes the network was surest of."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _
from gui.train.controller import controller_for
from gui.train.pictures import Redraw, ThumbGrid
from gui.ui_scale import scale_rows

__all__ = ["MAX_SHOWN", "TrainResultsDock", "confident_mistakes"]

MAX_SHOWN = 60  # pictures in the grid at most


def confident_mistakes(labels: np.ndarray, predictions: np.ndarray,
                       confidence: np.ndarray) -> np.ndarray:
    """Indices of the wrongly classified examples, the most confident first.

    >>> confident_mistakes(np.array([0, 1, 1]), np.array([1, 1, 0]), np.array([.6, .9, .8]))
    array([2, 0])
    """
    wrong = np.flatnonzero(labels != predictions)
    return wrong[np.argsort(-confidence[wrong], kind="stable")]


class TrainResultsDock(QWidget):
    """The Mistakes panel (registered as "train_results")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.controller = c = controller_for(session, live)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setToolTip(_("Confusion matrix: row = the true class, column = the class the"
                                " network chose; the diagonal is right. Click a cell to see"
                                " its pictures"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for header in (self.table.horizontalHeader(), self.table.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(18)
        self.table.cellClicked.connect(self.show_cell)
        self.grid_caption = QLabel()
        self.grid_caption.setWordWrap(True)
        self.mistakes = QPushButton(_("Surest mistakes"))
        self.mistakes.setToolTip(_("Show the wrongly classified pictures the network was most"
                                   " sure of"))
        self.mistakes.clicked.connect(self.show_mistakes)
        self.grid = ThumbGrid(48)
        self.grid.setToolTip(_("Validation pictures: each says the true class and what the"
                               " network chose, with its confidence"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 3)
        scale_rows(self.table)
        layout.addWidget(self.mistakes)
        layout.addWidget(self.grid_caption)
        layout.addWidget(self.grid, 2)
        self._evaluation = None
        self._cell: tuple[int, int] | None = None
        self._redraw = Redraw(self, self.redraw, delay_ms=180, min_ms=0)
        c.snapshotUpdated.connect(self._redraw.request)
        c.runChanged.connect(self.redraw)
        self.redraw()

    def redraw(self, *_args) -> None:
        s = self.controller.latest
        evaluation = s.evaluation
        if evaluation is self._evaluation:
            return
        self._evaluation = evaluation
        if evaluation is None or s.val is None:
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            self.grid.set_items([])
            self.mistakes.setEnabled(False)
            self.caption.setText(_("After each epoch the validation pictures are scored: the"
                                   " confusion matrix and the network's mistakes appear here."))
            self.grid_caption.setText("")
            return
        self.mistakes.setEnabled(True)
        confusion = evaluation.confusion
        names = evaluation.class_names
        k = len(names)
        self.table.setRowCount(k)
        self.table.setColumnCount(k)
        # Columns by number (names would not fit), rows by name and number.
        self.table.setHorizontalHeaderLabels([str(i) for i in range(k)])
        self.table.setVerticalHeaderLabels([f"{name} ({i})" for i, name in enumerate(names)])
        totals = np.maximum(confusion.sum(axis=1, keepdims=True), 1)
        shares = confusion / totals
        for r in range(k):
            for col in range(k):
                item = QTableWidgetItem(str(int(confusion[r, col])))
                level = float(shares[r, col])
                base = (60, 160, 90) if r == col else (220, 80, 60)
                alpha = int(255 * min(level * 1.5, 1.0)) if confusion[r, col] else 0
                item.setBackground(QColor(*base, alpha))
                item.setToolTip(_("{n} pictures of {true} classified as {guess}").format(
                    n=int(confusion[r, col]), true=names[r], guess=names[col]))
                self.table.setItem(r, col, item)
        self.caption.setText(_("Validation after epoch {epoch}: {right:,} of {n:,} right"
                               " ({acc:.1%}).").format(epoch=s.history[-1].epoch if s.history
                                                       else s.epoch, right=int(np.trace(
                                                           confusion)), n=int(confusion.sum()),
                                                       acc=evaluation.accuracy))
        if self._cell is not None and max(self._cell) < k:
            self.show_cell(*self._cell)
        else:
            self.show_mistakes()

    def _show(self, indices: np.ndarray) -> None:
        s = self.controller.latest
        evaluation, val = s.evaluation, s.val
        names = evaluation.class_names
        items = []
        for i in indices[:MAX_SHOWN]:
            true, guess = int(val.labels[i]), int(evaluation.predictions[i])
            p = float(evaluation.confidence[i])
            caption = f"{names[guess][:10]}\n{p:.0%}"
            tip = _("true class: {true}; the network says {guess} ({p:.0%})").format(
                true=names[true], guess=names[guess], p=p)
            items.append((val.images[i], caption, tip, int(i)))
        self.grid.set_items(items)

    def show_mistakes(self) -> None:
        """Fill the grid with the most confident mistakes."""
        s = self.controller.latest
        self._cell = None
        self.table.clearSelection()
        wrong = confident_mistakes(s.val.labels, s.evaluation.predictions,
                                   s.evaluation.confidence)
        self._show(wrong)
        self.grid_caption.setText(_("The {n} mistakes the network was surest of (of {total});"
                                    " each says what the network chose.").format(
            n=min(len(wrong), MAX_SHOWN), total=len(wrong)) if len(wrong) else _(
            "No mistakes on the validation pictures."))

    def show_cell(self, row: int, column: int) -> None:
        """Fill the grid with the pictures of true class ``row`` classified as ``column``."""
        s = self.controller.latest
        if s.evaluation is None:
            return
        self._cell = (row, column)
        names = s.evaluation.class_names
        chosen = np.flatnonzero((s.val.labels == row) & (s.evaluation.predictions == column))
        order = chosen[np.argsort(-s.evaluation.confidence[chosen], kind="stable")]
        self._show(order)
        self.grid_caption.setText(_("{n} pictures of {true} that the network classified as"
                                    " {guess}.").format(n=len(chosen), true=names[row],
                                                        guess=names[column]))
