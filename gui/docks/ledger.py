"""Ledger dock: the engine's summary of every layer (sizes, parameters, cost, measured time)."""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QEvent, QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _, format_number, ngettext
from gui.docks.ledger_detail import LedgerDetail
from gui.pipeline_edits import short_name
from gui.ui_scale import scale_rows

TIMES_EVERY_S = 0.2
"""The ms column is refreshed at most this often: figures that change 30 times a second cannot
be read, and repainting the column for every frame cost the window's thread about a millisecond
per frame."""

# (title, header tooltip); the order is the column order. What a reader looks at first comes
# first, so that the dock at its default width (about 440 px) shows name, type, output shape,
# measured time and parameters; the formulas and costs follow to the right.
COLUMNS = (
    (N_("Layer"), N_("The layer's name in the pipeline")),
    (N_("Type"), N_("What kind of layer it is")),
    (N_("Output"), N_("Shape of the layer's output: channels × height × width")),
    (N_("ms"), N_("Time the layer took on the last live frame, in milliseconds")),
    (N_("Params"), N_("Number of learned weights and biases")),
    (N_("Inputs"), N_("Which layers feed this one (↑: the row just above). Shown for networks with "
               "branches; a layer with several inputs joins branches")),
    (N_("Output size"), N_("How the output height and width follow from the input: "
                           "(n − F + 2P)/S + 1 with the numbers filled in")),
    (N_("Param formula"), N_("How the parameter count is computed")),
    (N_("FC equivalent"), N_("Parameters a fully connected layer would need for the same input "
                             "and output sizes: what weight sharing saves")),
    (N_("MACs"), N_("Multiply-accumulate operations for one image")),
    (N_("Memory"), N_("Memory taken by the layer's output (float32)")),
)
COL = {title: i for i, (title, _) in enumerate(COLUMNS)}
MS_COLUMN = COL["ms"]
_NUMERIC = {COL[t] for t in ("Params", "FC equivalent", "MACs", "Memory", "ms")}
_ELIDED_WIDTH = 210  # the parameter formula is cut to this; the tooltip has the full text
_NAME_WIDTH = 150  # the layer and inputs columns are cut to this (imported models have long names)
_MIN_NAME_WIDTH = 80  # ... and the layer column to no less than this when the dock is narrow
_FIRST = ("Layer", "Type", "Output", "ms", "Params")  # the columns visible at the default width
_MIN_FORMULA_WIDTH = 150  # the size formula never gets narrower than this
FLOORED_TIP = N_("The output size was rounded down: the kernel does not fit a whole number of "
                 "times, so some border pixels are dropped.")


def format_count(n: int | None) -> str:
    """``1234567`` -> ``"1,234,567"``; None -> an em dash (not applicable)."""
    return "—" if n is None else format_number(int(n))


def format_bytes(n: int) -> str:
    """Memory in B, KiB or MiB with thousands separators, e.g. ``"4,800.0 KiB"``."""
    if n < 1024:
        return f"{n:,} B"
    if n < 1024 * 1024:
        return _("{value:,.1f} KiB").format(value=n / 1024)
    return _("{value:,.1f} MiB").format(value=n / 1024 / 1024)


def format_shape(shape) -> str:
    return "×".join(str(int(s)) for s in shape)


class _MiddleElide(QStyledItemDelegate):
    """Cuts text in the middle: a long layer name keeps its distinctive end (``…ation_23``)."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class LedgerModel(QAbstractTableModel):
    """Table model over a Ledger: one row per layer plus a totals row."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ledger = None
        self.timings: dict[str, float] = {}
        self.total_ms: float | None = None

    def set_ledger(self, ledger) -> None:
        self.beginResetModel()
        self.ledger = ledger
        self.endResetModel()

    def set_timings(self, timings: dict[str, float], total_ms: float | None) -> None:
        """New measured times: only the ms column is repainted."""
        self.timings, self.total_ms = dict(timings), total_ms
        if self.rowCount():
            self.dataChanged.emit(self.index(0, MS_COLUMN),
                                  self.index(self.rowCount() - 1, MS_COLUMN),
                                  [Qt.ItemDataRole.DisplayRole])

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's own signature)
        if parent.isValid() or self.ledger is None:
            return 0
        return len(self.ledger.rows) + 1

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _(COLUMNS[section][0])
        if role == Qt.ItemDataRole.ToolTipRole:
            return _(COLUMNS[section][1])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.ledger is None:
            return None
        row, col = index.row(), index.column()
        totals = row == len(self.ledger.rows)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._totals_text(col) if totals else self._text(self.ledger.rows[row], col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and totals:
            font = QFont()
            font.setBold(True)
            return font
        if totals:
            return None
        r = self.ledger.rows[row]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, col)
        # The warning sits on the layer's name too: the size formula is off screen at first.
        if (role == Qt.ItemDataRole.DecorationRole and col in (COL["Layer"], COL["Output size"])
                and r.floored):
            return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return None

    def _text(self, r, col: int) -> str:
        if col == COL["Layer"]:
            return r.name
        if col == COL["Type"]:
            return r.type_name
        if col == COL["Output"]:
            return format_shape(r.out_shape)
        if col == COL["Inputs"]:
            return ", ".join(short_name(name, 14) for name in r.inputs)
        if col == COL["Output size"]:
            if r.size_formula:
                return r.size_formula
            return _("unchanged") if r.in_shapes and r.in_shapes[0] == r.out_shape else ""
        if col == COL["Params"]:
            return format_count(r.params)
        if col == COL["Param formula"]:
            return r.params_formula or ("none" if not r.params else "")
        if col == COL["FC equivalent"]:
            return format_count(r.fc_equivalent)
        if col == COL["MACs"]:
            return format_count(r.macs)
        if col == COL["Memory"]:
            return format_bytes(r.memory_bytes)
        ms = self.timings.get(r.name)
        return "" if ms is None else f"{ms:,.2f}"

    def _totals_text(self, col: int) -> str:
        led = self.ledger
        if col == COL["Layer"]:
            return "Total"
        if col == COL["Params"]:
            return format_count(led.total_params)
        if col == COL["MACs"]:
            return format_count(led.total_macs)
        if col == COL["Memory"]:
            return format_bytes(led.total_memory_bytes)
        if col == MS_COLUMN and self.total_ms is not None:
            return f"{self.total_ms:,.2f}"
        return ""

    def _tooltip(self, r, col: int) -> str:
        if col == COL["Output size"]:
            text = r.size_formula or self._text(r, col) or _("No size formula for this layer")
            if r.floored:
                text += "\n" + _(FLOORED_TIP) + (f"\n{r.note}" if r.note else "")
            return text
        if col == COL["Memory"]:
            return _("{memory_bytes:,} bytes").format(memory_bytes=r.memory_bytes)
        if col == COL["Layer"]:
            lines = [f"{r.name} ({r.type_name})"]
            if not self.ledger.is_chain:
                lines.append(self._inputs_tip(r))
            if r.floored:
                lines.append(_(FLOORED_TIP))
            if r.note:
                lines.append(r.note)
            return "\n".join(lines)
        if col == COL["Inputs"]:
            return self._inputs_tip(r)
        return self._text(r, col) or None

    @staticmethod
    def _inputs_tip(r) -> str:
        if len(r.inputs) > 1:
            return _("Joins {n} branches: ").format(n=len(r.inputs)) + ", ".join(r.inputs)
        return "Takes " + ", ".join(r.inputs)


class LedgerDock(QWidget):
    """The summary table for the live input size; selecting a row selects the layer."""

    def __init__(self, session, live, parent=None):
        super().__init__(parent)
        self.session = session
        self.live = live
        self._input_shape: tuple[int, ...] | None = None
        self._pipeline = None
        self._syncing = False
        self._times: tuple | None = None  # (timings, total) waiting for their refresh
        self._times_at = -TIMES_EVERY_S  # time.monotonic() of the last refresh
        self._times_for = None  # the pipeline whose times the ms column shows
        self._times_timer = QTimer(self)
        self._times_timer.setSingleShot(True)
        self._times_timer.timeout.connect(self._show_times)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setToolTip(_("The input size the table is computed for"))
        self.model = LedgerModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setToolTip(_("One row per layer; click a row to select that layer"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6)
        scale_rows(self.table)
        self._elide_middle = _MiddleElide(self.table)
        for col in (COL["Layer"], COL["Inputs"]):
            self.table.setItemDelegateForColumn(col, self._elide_middle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(40)
        self._formula_width = _ELIDED_WIDTH
        self._name_width = _NAME_WIDTH
        self.table.selectionModel().currentRowChanged.connect(self._on_table_row_changed)
        self.table.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.info)
        layout.addWidget(self.table, 1)
        # The formula columns do not fit a laptop-sized dock: the selected row's, whole, here.
        self.detail = LedgerDetail()
        layout.addWidget(self.detail)
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        session.selected_layer_changed.connect(self._select_row)
        live.resultUpdated.connect(self._on_live_result)
        latest = live.latest
        if latest is not None and latest.error is None:
            self._input_shape = tuple(latest.input.shape)
        self._rebuild()
        if latest is not None:
            self._on_live_result(latest)

    def declared_input_shape(self) -> tuple[int, int, int]:
        """The pipeline's own input size: its hints, or a 480×640 frame when it gives none."""
        spec = self.session.pipeline.input_spec
        return spec.channels, spec.height or 480, spec.width or 640

    def _rebuild(self) -> None:
        self._pipeline = self.session.pipeline
        shape = self._input_shape or self.declared_input_shape()
        where = _("the live frame") if self._input_shape else _("the declared input (no frame yet)")
        try:
            ledger = self._pipeline.summary(shape)
        except ValueError as exc:
            self.model.set_ledger(None)
            self.detail.clear_row()
            self.info.setText(_(
                "<span style='color:#c62828'>The pipeline does not fit an input of "
                "{format_shape}: {exc}</span>"
            ).format(format_shape=format_shape(shape), exc=exc))
            return
        self.model.set_ledger(ledger)
        # A chain's inputs are always the row above: the column only matters for branches.
        self.table.setColumnHidden(COL["Inputs"], ledger.is_chain)
        floored = sum(r.floored for r in ledger.rows)
        warn = (ngettext(
            " ⚠ {floored} layer drops border pixels (see the warning icons).",
            " ⚠ {floored} layers drop border pixels (see the warning icons).", floored
        ).format(floored=floored) if floored else "")
        output = (" " + _("Output: {description}.").format(description=ledger.output)
                  if ledger.output else "")
        self.info.setText(_("Input {format_shape} from {where}.{output}{warn}")
                          .format(format_shape=format_shape(shape), where=where, output=output,
                                  warn=warn))
        self._fit_columns()
        self._select_row(self.session.selected_layer)

    def _fit_columns(self) -> None:
        """Size every column to its content, then cap the two formula columns."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        col = COL["Param formula"]
        header.resizeSection(col, min(header.sectionSize(col), _ELIDED_WIDTH))
        for col in (COL["Layer"], COL["Inputs"]):
            if not self.table.isColumnHidden(col):
                header.resizeSection(col, min(header.sectionSize(col), _NAME_WIDTH))
        self._name_width = header.sectionSize(COL["Layer"])
        header.resizeSection(MS_COLUMN, max(header.sectionSize(MS_COLUMN),
                                            self.fontMetrics().horizontalAdvance("0,000.00 ")))
        self._formula_width = header.sectionSize(COL["Output size"])
        self._fit_size_column()

    def _fit_size_column(self) -> None:
        header = self.table.horizontalHeader()
        # Long layer names (imported models) give way first, so that the columns a reader
        # looks at first (layer, type, output, ms, params) fit a narrow dock.
        first = sum(header.sectionSize(COL[t]) for t in _FIRST[1:])
        room = self.table.viewport().width() - first
        header.resizeSection(COL["Layer"], max(min(self._name_width, room), _MIN_NAME_WIDTH))
        # The size formula is the longest text: it gets whatever width the other columns
        # leave, between a readable minimum (elided, full text in the tooltip) and its own.
        col = COL["Output size"]
        others = sum(header.sectionSize(c) for c in range(len(COLUMNS)) if c != col)
        spare = self.table.viewport().width() - others
        header.resizeSection(col, max(min(self._formula_width, spare), _MIN_FORMULA_WIDTH))

    def eventFilter(self, watched, event) -> bool:
        # The viewport, not the dock: a vertical scroll bar appearing narrows it too.
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_size_column()
        return super().eventFilter(watched, event)

    def _on_session_pipeline_changed(self, _pipeline) -> None:
        self._rebuild()

    def _on_live_result(self, result) -> None:
        if result.error is None and tuple(result.input.shape) != self._input_shape:
            self._input_shape = tuple(result.input.shape)
            self._rebuild()
        if self.isVisible():  # hidden: no per-frame work; showEvent catches up
            self._times = (result.timings_ms, result.total_ms)
            wait = self._times_at + TIMES_EVERY_S - time.monotonic()
            if wait <= 0 or result.pipeline is not self._times_for:  # a new network: at once
                self._times_for = result.pipeline
                self._show_times()
            elif not self._times_timer.isActive():  # the newest times then, whichever they are
                self._times_timer.start(int(wait * 1000) + 1)

    def _show_times(self) -> None:
        if self._times is not None:
            self.model.set_timings(*self._times)
            self._times = None
            self._times_at = time.monotonic()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        latest = self.live.latest
        if latest is not None:
            self.model.set_timings(latest.timings_ms, latest.total_ms)

    def _select_row(self, index: int) -> None:
        if self.model.ledger is None or not 0 <= index < len(self.model.ledger.rows):
            self.detail.clear_row()
            return
        row = self.model.ledger.rows[index]
        self.detail.show_row(row, format_shape(row.out_shape), _(FLOORED_TIP))
        # A flag, not blockSignals: the view itself must still hear the selection change.
        self._syncing = True
        try:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(index, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
        finally:
            self._syncing = False

    def _on_table_row_changed(self, current, _previous) -> None:
        if self._syncing or self.model.ledger is None:
            return
        if 0 <= current.row() < len(self.model.ledger.rows):
            self.session.set_selected_layer(current.row())
