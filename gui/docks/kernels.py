"""The Kernels dock: see and edit the filters of a conv layer.

Shows every filter of the selected conv layer (or of the nearest conv layer above the
selection) as small images, a numeric editor for one kernel, presets and seeded random weights
(:class:`gui.widgets.kernel_tools.KernelTools`), the bias and the true-convolution switch.
Every edit builds a new Conv2d with ``replace`` and hands a new pipeline to the Session; the
dock redraws only when the Session says so.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.layer_explanations import LAYER_EXPLANATIONS, explain_layer_type
from gui.widgets.diverging_colorbar import DivergingColorbar
from gui.widgets.kernel_grid import KernelGridView, channel_label
from gui.widgets.kernel_table import WEIGHT_LIMIT, KernelTable
from gui.widgets.kernel_tools import KernelTools

FLIP_TIP = (
    N_("Off: cross-correlation, what PyTorch's Conv2d and the lecture's formula "
    "g(x, y) = sum w(s, t) f(x + s, y + t) compute; the kernel slides as you see it.\n"
    "On: true convolution, as in the mathematical definition: the kernel is rotated by 180 "
    "degrees before it slides. Symmetric kernels (blur) give the same maps; Sobel flips sign.\n"
    "This is a setting of this conv layer and is saved with the pipeline.")
)


def conv_index_for(pipeline, index: int) -> int | None:
    """Index of the conv layer whose kernels to show for selection ``index``.

    The selected layer if it is a Conv2d, else the nearest Conv2d above it, else None.
    """
    for i in range(min(index, len(pipeline.nodes) - 1), -1, -1):
        if pipeline.nodes[i].layer.type_name == "Conv2d":
            return i
    return None


class KernelsDock(QWidget):
    """Filters of the selected (or nearest earlier) conv layer, with editors."""

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._live = live
        self._conv: int | None = None  # pipeline index of the conv layer shown
        self._filter = 0
        self._channel = 0
        self._build()
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        session.selected_layer_changed.connect(self._on_session_selected_layer_changed)
        session.selected_map_changed.connect(self._on_session_selected_map_changed)
        self._refresh()

    # ----- construction -----------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        # One label says both what the selected layer does (when it has no kernels) and whose
        # kernels are shown: a second label made the dock too tall for its column at 1280x800.
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setToolTip(_("Which layer's kernels are shown: one row per filter, one "
                                "column per input channel. For a layer without kernels, "
                                "what it does."))
        layout.addWidget(self.caption)

        self.panel = QWidget()
        panel = QVBoxLayout(self.panel)
        panel.setContentsMargins(0, 0, 0, 0)
        self.colorbar = DivergingColorbar()
        panel.addWidget(self.colorbar)
        self.grid_view = view = KernelGridView()
        self.grid = view.grid
        self.grid.cellClicked.connect(self._on_grid_clicked)
        panel.addWidget(view, stretch=1)
        # The editor and the weight tools share one place as tabs: stacked, they made the
        # dock too tall to sit under the pipeline on an 800-pixel-high screen.
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_editor(), _("Edit filter"))
        self.tabs.setTabToolTip(0, _("Type the weights and the bias of the selected filter."))
        self.tools = tools = KernelTools()
        tools.apply_preset.clicked.connect(self._on_apply_preset)
        tools.randomize.clicked.connect(self._on_randomize)
        # The tools' controls keep the names they had on the dock, where tests drive them.
        self.scope, self.preset, self.expand = tools.scope, tools.preset, tools.expand
        self.apply_preset, self.init, self.seed = tools.apply_preset, tools.init, tools.seed
        self.randomize = tools.randomize
        self.tabs.addTab(tools, _("Set weights"))
        self.tabs.setTabToolTip(1, _("Load a preset kernel or seeded random weights."))
        panel.addWidget(self.tabs)
        layout.addWidget(self.panel, stretch=1)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setToolTip(_("The result of the last kernel action."))
        self.status.hide()  # until there is something to say: the grid gets the room
        layout.addWidget(self.status)

    def _build_editor(self) -> QGroupBox:
        self.editor_box = QGroupBox()
        self.editor_box.setFlat(True)
        editor = QVBoxLayout(self.editor_box)
        editor.setContentsMargins(4, 4, 4, 4)
        self.table = KernelTable()
        self.table.valueEdited.connect(self._on_table_edited)
        editor.addWidget(self.table, stretch=1)
        self.bias = QDoubleSpinBox()
        self.bias.setRange(-WEIGHT_LIMIT, WEIGHT_LIMIT)
        self.bias.setDecimals(4)
        self.bias.setSingleStep(0.1)
        self.bias.setKeyboardTracking(False)
        self.bias.setToolTip(_("The number added to every value of this filter's map."))
        self.bias.valueChanged.connect(self._on_bias_changed)
        # Short text on the box; the tooltip says what it means.
        self.flip = QCheckBox(_("True convolution"))
        self.flip.setToolTip(_(FLIP_TIP))
        self.flip.toggled.connect(self._on_flip_toggled)
        row = QHBoxLayout()
        bias_label = QLabel(_("Bias"))
        bias_label.setToolTip(self.bias.toolTip())
        row.addWidget(bias_label)
        row.addWidget(self.bias, stretch=1)
        row.addWidget(self.flip)
        editor.addLayout(row)
        return self.editor_box

    # ----- model -> view ----------------------------------------------------------------
    def _layer(self):
        return self._session.pipeline.nodes[self._conv].layer

    def _refresh(self) -> None:
        pipeline = self._session.pipeline
        selected = min(self._session.selected_layer, len(pipeline.nodes) - 1)
        conv = conv_index_for(pipeline, selected) if len(pipeline.nodes) else None
        if conv != self._conv:
            self._filter, self._channel = 0, 0
        self._conv = conv
        node = pipeline.nodes[selected] if len(pipeline.nodes) else None
        self.panel.setVisible(conv is not None)
        if conv is None:
            self._set_caption(self.explain(node) + _(" No conv layer at or above it, so there "
                              "are no kernels to show."))
            return
        layer = self._layer()
        weight = layer.weight  # (C_out, C_in/groups, kh, kw)
        c_out, c_in, kh, kw = weight.shape
        flipped = (_(" It runs as true convolution: each kernel is applied rotated by 180°.")
                   if layer.flip else "")
        shape = _("{c_out} filters (rows) of {c_in} x {kh} x {kw}.{flipped}").format(
            c_out=c_out, c_in=c_in, kh=kh, kw=kw, flipped=flipped)
        conv_name = pipeline.nodes[conv].name
        if conv == selected:
            self._set_caption(f"<b>{conv_name}</b>: {shape}")
        else:
            self._set_caption(_(
                "{explain} Shown: <b>{conv_name}</b>, the nearest conv layer above, {shape}"
            ).format(explain=self.explain(node), conv_name=conv_name, shape=shape))
        self._filter = min(self._filter, c_out - 1)
        self._channel = min(self._channel, c_in - 1)
        self.grid_view.set_weight(weight)
        self._select_cell()
        self.colorbar.set_scale(self.grid.scale)
        self.tools.set_channels(c_in)
        self._show_filter()

    @staticmethod
    def explain(node) -> str:
        """One sentence on what the selected layer (without kernels) does."""
        if node is None:
            return _("The pipeline is empty: add a conv layer to see kernels.")
        type_name = node.layer.type_name
        if type_name not in LAYER_EXPLANATIONS:
            return f"<b>{node.name}</b>: " + _("{type_name} has no kernels to show.").format(
                type_name=type_name)
        return f"<b>{node.name}</b>: " + explain_layer_type(type_name)

    def _set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self._fit_caption()

    def _fit_caption(self) -> None:
        """Reserve the wrapped caption's real height.

        A word-wrapped label reports a minimum height for a guessed width, so the main window
        gave the dock too little room and the weight table slid over the bias row. Telling the
        label its height at the width it has makes the dock ask for the room it needs.
        """
        margins = self.layout().contentsMargins()
        width = self.width() - margins.left() - margins.right()
        self.caption.setMinimumHeight(0)  # heightForWidth never answers below the minimum
        # Hidden, the dock has no real width yet (a new child is 100 pixels wide), and a
        # height for that width would make the window think the dock cannot fit its column.
        if self.isVisible() and width > 0:
            self.caption.setMinimumHeight(self.caption.heightForWidth(width))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_caption()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_caption()

    def _select_cell(self) -> None:
        self.grid.set_selected(self._filter, self._channel)
        self.grid_view.show_cell(self._filter, self._channel)

    def _show_filter(self) -> None:
        layer = self._layer()
        c_in = layer.weight.shape[1]
        label = channel_label(self._channel, c_in)
        self.editor_box.setTitle(_("Filter {filter}, input {label}: double-click a cell")
                                   .format(filter=self._filter, label=label))
        self.table.set_kernel(layer.weight[self._filter, self._channel], self.grid.scale)
        bias = getattr(layer, "bias", None)
        self.bias.blockSignals(True)
        self.bias.setEnabled(bias is not None)
        self.bias.setValue(float(bias[self._filter]) if bias is not None else 0.0)
        self.bias.blockSignals(False)
        self.flip.blockSignals(True)
        self.flip.setChecked(bool(getattr(layer, "flip", False)))
        self.flip.blockSignals(False)

    def _on_session_pipeline_changed(self, _pipeline) -> None:
        self._refresh()

    def _on_session_selected_layer_changed(self, _index: int) -> None:
        self._refresh()

    def _on_session_selected_map_changed(self, index: int) -> None:
        # The filter and the map it makes share an index when the conv layer itself is selected.
        if (self._conv is not None and self._conv == self._session.selected_layer
                and 0 <= index < self._layer().weight.shape[0] and index != self._filter):
            self._filter = index
            self._select_cell()
            self._show_filter()

    # ----- view -> model ----------------------------------------------------------------
    def _commit(self, text: str, **changes) -> None:
        """Replace the shown conv layer with ``changes`` and hand the pipeline to the Session."""
        try:
            layer = self._layer().replace(**changes)
            if layer == self._layer():
                self._say(_("Nothing changed: the layer already has these weights."))
                return
            pipeline = self._session.pipeline.replace_layer(self._conv, layer)
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        self._session.set_pipeline(pipeline)
        self._say(text)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self._session.message.emit("error" if error else "info", text)

    def _on_grid_clicked(self, filter_index: int, channel: int) -> None:
        self._filter = filter_index
        if channel >= 0:
            self._channel = channel
        self._select_cell()
        self._show_filter()
        if self._conv == self._session.selected_layer:
            self._session.set_selected_map(filter_index)

    def _on_table_edited(self, row: int, col: int, value: float) -> None:
        weight = np.array(self._layer().weight, dtype=np.float32)
        weight[self._filter, self._channel, row, col] = value
        self._commit(_("Filter {filter}: weight ({row}, {col}) set to {value:.4g}.")
                       .format(filter=self._filter, row=row, col=col, value=value),
                     weight=weight)

    def _on_bias_changed(self, value: float) -> None:
        bias = np.array(self._layer().bias, dtype=np.float32)
        bias[self._filter] = value
        self._commit(_("Filter {filter}: bias set to {value:.4g}.")
                       .format(filter=self._filter, value=value), bias_values=bias)

    def _on_flip_toggled(self, checked: bool) -> None:
        what = _("true convolution (kernel rotated 180°)") if checked else _("cross-correlation")
        self._commit(_("{name} now runs {what}.")
                       .format(name=self._session.pipeline.nodes[self._conv].name, what=what),
                     flip=checked)

    def _on_apply_preset(self) -> None:
        try:
            text, changes = self.tools.preset_change(self._layer().weight, self._filter)
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        self._commit(text, **changes)

    def _on_randomize(self) -> None:
        text, changes = self.tools.random_change(self._layer().weight, self._filter)
        self._commit(text, **changes)
