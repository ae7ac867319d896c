"""The Pipeline dock's list of layers: one row per layer with its output shape.

Rows can be dragged to reorder a plain chain; a network with branches names each layer's
inputs and shows the layers that join branches in bold, and cannot be reordered.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from engine.i18n import N_, _
from gui.pipeline_edits import is_join, shape_text, short_name, short_params

MIN_ROWS = 5  # layers the list always has room for; a longer pipeline scrolls
_CHAIN_TIP = (N_("The layers in order, each with its output shape. Drag to reorder; "
                 "right-click for "
              "actions."))
_GRAPH_TIP = (N_("The layers in the order they run; ← names each layer's inputs. Layers that join "
              "branches are in bold."))


def floor_note(layer, in_shape) -> str:
    """What ``layer`` drops at the border of an ``in_shape`` input ("" when nothing, or when
    the input does not fit at all: the row says that already)."""
    try:
        return layer.floor_note(in_shape)
    except ValueError:
        return ""


class LayerList(QListWidget):
    """A row per layer; dragging a row emits ``layerDragged(start, target)``.

    The list never changes the pipeline itself: the dock applies the move (or refuses it and
    shows the list again).
    """

    #: A row was dragged from ``start`` to ``target``; emitted once the drop is over.
    layerDragged = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setToolTip(_(_CHAIN_TIP))
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setAlternatingRowColors(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.model().rowsMoved.connect(self._on_rows_moved)

    def show_pipeline(self, pipeline, shapes: dict, input_shape: tuple, selected: int) -> None:
        """Fill the list from ``pipeline`` without emitting any signal.

        Parameters
        ----------
        pipeline : Pipeline
            The layers to list.
        shapes : dict of str to tuple
            Output shape by layer name, for the layers that run on this input.
        input_shape : tuple of int
            ``(C, H, W)`` of the pipeline's input.
        selected : int
            The row to make current.
        """
        self.blockSignals(True)
        self.model().blockSignals(True)
        self.clear()
        chain = pipeline.is_chain
        for index, node in enumerate(pipeline.nodes):
            out = shapes.get(node.name)
            words = short_params(node.layer)
            head = f"{index}  {node.name} · {node.layer.type_name}" + (f" {words}" if words else "")
            if is_join(node):
                head += _("   [joins {n} branches]").format(n=len(node.inputs))
            tail = ("→ " + shape_text(out) if out is not None
                    else _("→ cannot run on this input"))
            if not chain:
                # A graph: say what feeds each layer, so branches and joins can be read.
                tail = "← " + ", ".join(short_name(n, 20) for n in node.inputs) + "   " + tail
            in_shape = shapes.get(node.inputs[0], input_shape) if node.inputs else input_shape
            note = floor_note(node.layer, in_shape) if out is not None else ""
            item = QListWidgetItem(f"{head}\n      {tail}" + ("   ⚠ floored" if note else ""))
            tip = repr(node.layer) + (f"\n{note}" if note else "")
            if not chain:
                tip += "\ninputs: " + ", ".join(node.inputs)
            if is_join(node):
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            item.setToolTip(tip)
            self.addItem(item)
        self.setCurrentRow(selected)
        self.model().blockSignals(False)
        self.blockSignals(False)
        self._fit_rows()

    def _fit_rows(self) -> None:
        """Ask for room for :data:`MIN_ROWS` rows, so the main window never squeezes the list
        to a row or two (it stacks the panel with another only when both fit)."""
        rows = min(self.count(), MIN_ROWS)
        height = sum(self.sizeHintForRow(i) for i in range(rows))
        self.setMinimumHeight(height + 2 * self.frameWidth() + 2)

    def select_quietly(self, row: int) -> None:
        """Make ``row`` current without emitting ``currentRowChanged``."""
        self.blockSignals(True)
        self.setCurrentRow(row)
        self.blockSignals(False)

    def set_chain(self, chain: bool) -> None:
        """Dragging is a move: on for a plain chain, off for a network with branches."""
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove if chain
                             else QAbstractItemView.DragDropMode.NoDragDrop)
        self.setToolTip(_(_CHAIN_TIP if chain else _GRAPH_TIP))

    def _on_rows_moved(self, _parent, start, _end, _dest, row) -> None:
        target = row if row < start else row - 1
        # Rebuilding the list inside Qt's drop handler is unsafe: report once the drop is over.
        QTimer.singleShot(0, lambda: self.layerDragged.emit(start, target))
