"""The Network panel: which network to train, and its ledger with the classifier head sized to
the number of classes."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _
from gui.train.controller import controller_for
from gui.train.networks import ARCHITECTURES, CURRENT
from gui.ui_scale import scale_rows

__all__ = ["TrainNetworkDock", "planned_network"]


def planned_network(plan, current):
    """The network a run of ``plan`` would start from (weights aside) and its class names;
    DatasetError (or NetworkMismatch) when it cannot be made."""
    from engine.graph.autograd import logits_node
    from engine.train.dataset import DatasetError
    from engine.train.network import check_fits, fit_head
    from gui.train.networks import build_network
    from gui.train.plan import input_for, source_classes

    classes = source_classes(plan.data)
    (h, w), channels = input_for(plan, current)
    if plan.network == CURRENT:
        net = fit_head(current, len(classes), plan.config.seed)
        from engine.train.dataset import ArrayDataset

        probe = ArrayDataset(np.zeros((1, h, w, channels), np.uint8), np.zeros(1, np.int64),
                             classes)
        check_fits(net, probe)
    else:
        net = build_network(plan.network, channels, (h, w), len(classes))
    try:
        logits_node(net)
    except ValueError as error:  # pragma: no cover - every choice above ends in a head
        raise DatasetError(str(error)) from None
    return net, classes, (channels, h, w)


class TrainNetworkDock(QWidget):
    """The Network panel (registered as "train_network")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.controller = c = controller_for(session, live)
        self.choice = QComboBox()
        for arch in ARCHITECTURES:
            self.choice.addItem(_(arch.title), arch.key)
            self.choice.setItemData(self.choice.count() - 1, _(arch.description), 3)
        self.choice.setToolTip(_("The network to train: a small architecture with random"
                                 " weights, or the pipeline the window shows now"))
        self.choice.activated.connect(
            lambda _i: c.set_plan(network=self.choice.currentData()))
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.head = QLabel()
        self.head.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([_("Layer"), _("Output"), _("Parameters")])
        self.table.setToolTip(_("The ledger of the network to train: each layer's output size"
                                " and how many weights it learns; the last row is the"
                                " classifier head, one score per class"))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.total = QLabel()
        self.locked_note = QLabel(_("The run in progress uses this network; press Reset to"
                                    " choose another."))
        self.locked_note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.choice)
        layout.addWidget(self.description)
        layout.addWidget(self.head)
        layout.addWidget(self.table, 1)
        scale_rows(self.table)
        layout.addWidget(self.total)
        layout.addWidget(self.locked_note)
        c.planChanged.connect(self._show_plan)
        c.runChanged.connect(self._on_snapshot)
        c.snapshotUpdated.connect(self._on_snapshot)
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        self.destroyed.connect(lambda *_: session.pipeline_changed.disconnect(
            self._on_session_pipeline_changed, missing_ok=True))
        self._show_plan(c.plan)
        self._on_snapshot(c.latest)

    def _on_session_pipeline_changed(self, _pipeline) -> None:
        if self.controller.plan.network == CURRENT:
            self._show_plan(self.controller.plan)

    def _on_snapshot(self, _snapshot) -> None:
        locked = self.controller.locked
        self.choice.setEnabled(not locked)
        self.locked_note.setVisible(locked)

    def _show_plan(self, plan) -> None:
        from engine.train.dataset import DatasetError

        self.choice.blockSignals(True)
        self.choice.setCurrentIndex(self.choice.findData(plan.network))
        self.choice.blockSignals(False)
        arch = next(a for a in ARCHITECTURES if a.key == plan.network)
        self.description.setText(_(arch.description))
        try:
            net, classes, shape = planned_network(plan, self.session.pipeline)
            ledger = net.summary(shape)
        except (DatasetError, ValueError) as error:
            self.head.setText(str(error))
            self.head.setStyleSheet("color: #c62828;")
            self.table.setRowCount(0)
            self.total.setText("")
            return
        self.head.setStyleSheet("")
        rows = ledger.rows
        self.table.setRowCount(len(rows))
        bold = QFont(self.table.font())
        bold.setBold(True)
        from engine.graph.autograd import logits_node

        head = logits_node(net)
        for r, row in enumerate(rows):
            shape_text = " x ".join(str(s) for s in row.out_shape)
            cells = (f"{row.name} ({row.type_name})", shape_text, f"{row.params:,}")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if row.name == head:
                    item.setFont(bold)
                    item.setToolTip(_("The classifier head: one score per class"))
                self.table.setItem(r, column, item)
        layer = net[head].layer
        self.head.setText(_("The output layer {name} gives {k} scores, one per class ({names}):"
                            " sized to the data automatically.").format(
            name=head, k=len(classes), names=", ".join(classes[:6]) + (
                ", ..." if len(classes) > 6 else "")))
        self.head.setToolTip(repr(layer))
        self.total.setText(_("{params:,} weights to learn; input {c} x {h} x {w}.").format(
            params=ledger.total_params, c=shape[0], h=shape[1], w=shape[2]))
