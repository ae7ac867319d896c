"""Activation maps dock: every map of the selected layer, tiled, with colour scale and readout."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _, format_number, ngettext
from gui.colormaps import (
    COLORMAP_TIPS,
    COLORMAPS,
    DIVERGING,
    NONFINITE_RGB,
    NORMALIZATION_LABELS,
    NORMALIZATION_TIPS,
    NORMALIZATIONS,
    finite_range,
    indexed_lookup_table,
    is_signed,
    levels_for,
    lookup_table,
    per_map_levels,
    scale_maps,
    suggest_colormap,
    value_range,
)
from gui.docks.map_detail import MapDetail, is_or_follows_relu
from gui.docks.maps_readout import HOVER_HINT, readout_text
from gui.explain.entry import explain_channel, show_channel_menu
from gui.mosaic_prepare import MosaicRequest, PreparedFeed
from gui.widgets.colorbar import ColorBar
from gui.widgets.histogram import BarChart
from gui.widgets.mosaic_view import MosaicView, as_maps

# Short enough to fit between the end values at the dock's minimum width (about 270 pixels).
PER_MAP_NOTE = N_("range of map {index}")
PER_MAP_TIP = (N_("Each map is scaled to its own range, so a colour stands for other values in "
               "every map. The numbers are the real values at the ends of the bar for the map "
               "under the mouse (else the selected map, else map 0)."))
BAR_TIP = N_("Colour scale: the real value each colour stands for.")
NONFINITE_NOTE = N_("{n} values are NaN or infinite (a number overflowed during the run); they"
                    " are drawn in {color} and left out of the colour scale.")


class MapsDock(QWidget):
    """The selected layer's maps, with colormap, normalization, colour bar and map detail."""

    def __init__(self, session, live, parent=None):
        super().__init__(parent)
        self.session = session
        self.live = live
        self._result = None
        self._key = None  # (node name, activation shape): a change rebuilds the grid
        self._global = (None, (0.0, 0.0))  # (result seq, range over every layer)
        self._hover = (-1, -1, -1)
        self._activation: np.ndarray | None = None
        self._description = ""  # what the layer outputs; a NaN/inf note may follow it
        self._nonfinite = 0
        self._feed = PreparedFeed(live, "maps")
        self._build()
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        session.selected_layer_changed.connect(self._on_session_layer_changed)
        session.selected_map_changed.connect(self._on_session_map_changed)
        session.display_changed.connect(self._on_session_display_changed)
        live.resultUpdated.connect(self._on_live_result)
        live.errorChanged.connect(self._on_live_error)
        self._fill_layer_combo()
        self._on_session_display_changed(session.display)
        if live.latest is not None:
            self._on_live_result(live.latest)

    # -- widgets -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(_("The layer whose output maps are shown"))
        # Imported models have long layer names: a fixed width keeps the dock narrow.
        self.layer_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_combo.setMinimumContentsLength(16)
        self.layer_combo.currentIndexChanged.connect(self.session.set_selected_layer)
        self.cmap_combo = QComboBox()
        self.cmap_combo.setToolTip(_("Colormap: how values are turned into colours"))
        for i, name in enumerate(COLORMAPS):
            self.cmap_combo.addItem(_(name), name)  # only gray is a word to translate
            self.cmap_combo.setItemData(i, _(COLORMAP_TIPS[name]), Qt.ItemDataRole.ToolTipRole)
        self.cmap_combo.currentIndexChanged.connect(
            lambda i: self.session.set_display(colormap=self.cmap_combo.itemData(i)))
        self.auto_cmap = QCheckBox(_("auto"))
        self.auto_cmap.setChecked(True)
        self.auto_cmap.toggled.connect(self._on_auto_toggled)
        self.auto_cmap.setToolTip(_("Switch to the blue-white-red colormap when a layer has "
                                    "negative values, and back when it has none"))
        self.norm_combo = QComboBox()
        self.norm_combo.setToolTip(_("Normalization: which values share one colour scale"))
        for i, mode in enumerate(NORMALIZATIONS):
            self.norm_combo.addItem(_(NORMALIZATION_LABELS[mode]), mode)
            self.norm_combo.setItemData(i, _(NORMALIZATION_TIPS[mode]), Qt.ItemDataRole.ToolTipRole)
        self.norm_combo.currentIndexChanged.connect(
            lambda i: self.session.set_display(normalization=self.norm_combo.itemData(i)))

        # Two rows, so that the dock fits beside the others on a 1280-pixel screen: the layer
        # on its own row (its names can be long), the colour settings below it.
        bar = QVBoxLayout()
        bar.setSpacing(2)
        for row_widgets in (
            ((_("Layer"), self.layer_combo, 1),),
            ((_("Colormap"), self.cmap_combo, 0), (None, self.auto_cmap, 0),
             (_("Scale"), self.norm_combo, 0)),
        ):
            row = QHBoxLayout()
            for text, widget, stretch in row_widgets:
                if text:
                    label = QLabel(text)
                    label.setToolTip(widget.toolTip())
                    row.addWidget(label)
                row.addWidget(widget, stretch)
            if not any(stretch for _, _, stretch in row_widgets):
                row.addStretch(1)
            bar.addLayout(row)

        self.info = QLabel(_("Waiting for the first frame…"))
        self.info.setToolTip(_("The layer shown and the shape of its output"))
        self.info.setWordWrap(True)

        self.mosaic = MosaicView()
        self.mosaic.setToolTip(_("Every map of the layer. Hover to read values, click to enlarge, "
                               "scroll to zoom."))
        self.mosaic.mapHovered.connect(self._on_mosaic_hovered)
        self.mosaic.gridChanged.connect(self._render)
        self.mosaic.mapClicked.connect(self.session.set_selected_map)
        self.mosaic.mapMenuRequested.connect(  # right click: "What drives map N?"
            lambda i, pos: show_channel_menu(self, self.session, i, pos))
        self.bars = BarChart()
        self.bars.setToolTip(_("This layer outputs a vector: one bar per feature"))
        self.bars.barHovered.connect(self._on_bars_hovered)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.mosaic)
        self.stack.addWidget(self.bars)

        self.detail = MapDetail()
        self.detail.closeRequested.connect(lambda: self.session.set_selected_map(-1))
        self.detail.explainRequested.connect(
            lambda: explain_channel(self, self.session, self.session.selected_map))
        self.detail.pixelHovered.connect(self._on_detail_hovered)
        self.detail.hide()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        self.colorbar = ColorBar()
        self.colorbar.setToolTip(_(BAR_TIP))
        self.readout = QLabel(_(HOVER_HINT))
        self.readout.setToolTip(_("Layer, map, position and real value under the mouse"))
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Wrapped, so a long layer name under the mouse never widens the dock (or the window).
        self.readout.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.info)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.colorbar)
        layout.addWidget(self.readout)

    def _fill_layer_combo(self) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for i, node in enumerate(self.session.pipeline.nodes):
            self.layer_combo.addItem(f"{i} · {node.name} ({node.layer.type_name})")
        self.layer_combo.setCurrentIndex(self.session.selected_layer)
        self.layer_combo.blockSignals(False)

    # -- session -----------------------------------------------------------------------------
    def _on_session_pipeline_changed(self, _pipeline) -> None:
        self._fill_layer_combo()
        self._key = None
        self._render()

    def _on_session_layer_changed(self, index: int) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.setCurrentIndex(index)
        self.layer_combo.blockSignals(False)
        self._render()

    def _on_session_map_changed(self, index: int) -> None:
        self.detail.setVisible(index >= 0)
        self.mosaic.set_highlight(index)
        self._render()

    def _on_session_display_changed(self, display) -> None:
        for combo, value in ((self.cmap_combo, display.colormap),
                             (self.norm_combo, display.normalization)):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findData(value), 0))
            combo.blockSignals(False)
        self._render()

    def _on_live_result(self, result) -> None:
        self._result = result
        if self.isVisible():  # a closed or tabbed-away dock costs nothing per frame
            self._render()

    def _on_auto_toggled(self, _checked: bool) -> None:
        self._key = None  # look at the layer's sign again
        self._render()

    def _on_live_error(self, error: str) -> None:
        if error:
            self.info.setText(_("The pipeline cannot run on this frame: {e}").format(e=error))
        else:
            self._key = None  # running again: the next frame restores the description

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._render()

    def hideEvent(self, event) -> None:  # hidden: the engine thread prepares nothing for it
        super().hideEvent(event)
        self._feed.stop()

    # -- drawing -------------------------------------------------------------------------------
    @property
    def colormap(self) -> str:
        name = self.session.display.colormap
        return name if name in COLORMAPS else "viridis"

    def _global_range(self, result) -> tuple[float, float]:
        # One pass over every activation per result, not per redraw.
        if self._global[0] != result.seq:
            self._global = (result.seq, value_range(result.activations.values()))
        return self._global[1]

    def _render(self) -> None:
        result = self._result
        if result is None:
            return
        if result.error:
            self.info.setText(_("The pipeline cannot run on this frame: {e}").format(
                e=result.error))
            return
        nodes = self.session.pipeline.nodes
        if not nodes:
            self.info.setText(_("The pipeline has no layers yet."))
            return
        index = min(self.session.selected_layer, len(nodes) - 1)
        node = nodes[index]
        activation = result.activations.get(node.name)
        if activation is None:
            return  # a result from before the last edit; the next one will have this layer
        self._activation = activation
        maps = as_maps(activation)
        key = (node.name, activation.shape)
        if key != self._key:
            self._restructure(node, index, activation, maps)
        if maps is None:
            self.bars.set_values(activation)
            self._show_nonfinite(self.bars.nonfinite)
        else:
            self._draw_maps(node, index, maps, result)
            self._show_nonfinite(self.mosaic.nonfinite)
        self._show_readout()

    def _describe(self, text: str) -> None:
        self._description = text
        self._show_nonfinite(0)

    def _show_nonfinite(self, n: int) -> None:
        """Say in the dock's status text how many values are NaN or infinite (none: nothing)."""
        self._nonfinite = n
        text = self._description
        if n:
            color = "#{:02x}{:02x}{:02x}".format(*NONFINITE_RGB)
            magenta = _("magenta ({color})").format(color=color)
            text += " " + _(NONFINITE_NOTE).format(n=format_number(n), color=magenta)
        if self.info.text() != text:  # a new text relays the dock out: only when it changes
            self.info.setText(text)

    def _restructure(self, node, index, activation, maps) -> None:
        self._key = (node.name, activation.shape)
        self._hover = (-1, -1, -1)
        shape = "×".join(str(s) for s in activation.shape)
        if maps is None:
            self.stack.setCurrentWidget(self.bars)
            self.colorbar.hide()
            self._describe(_("{name} ({type_name}) outputs a vector of {size} values ({shape}), "
                             "shown as bars.").format(name=node.name, size=activation.size,
                                                      type_name=node.layer.type_name, shape=shape))
            return
        self.stack.setCurrentWidget(self.mosaic)
        self.colorbar.show()
        c, h, w = maps.shape
        self.mosaic.set_grid(c, h, w)
        self._describe(ngettext("{name} ({type_name}): {c} map of {h}×{w} pixels (output {shape})",
                                "{name} ({type_name}): {c} maps of {h}×{w} pixels (output "
                                "{shape})", c).format(name=node.name, c=c, h=h, w=w, shape=shape,
                                                      type_name=node.layer.type_name))
        if self.auto_cmap.isChecked():
            wanted = suggest_colormap(is_signed(maps), self.colormap)
            if wanted != self.session.display.colormap:
                self.session.set_display(colormap=wanted)  # re-enters _render; harmless

    def _draw_maps(self, node, index, maps, result) -> None:
        mode = self.session.display.normalization
        diverging = self.colormap in DIVERGING
        lut = lookup_table(self.colormap)
        detail_lut = indexed_lookup_table(self.colormap)
        # The engine thread colours and tiles the frames (made ready for exactly this request).
        request = MosaicRequest(node.name, mode, self.colormap, self.mosaic.grid[1])
        prepared = self._feed.take(result, request)
        if prepared is not None and self.mosaic.set_prepared(prepared):
            levels = prepared.levels
        else:  # the first frame after a change: drawn here, the next ones come prepared
            global_range = self._global_range(result) if mode == "global" else None
            shown, levels = scale_maps(maps, mode, diverging, global_range)
            self.mosaic.set_maps(shown, levels, self.colormap)
        if self.isVisible():  # hidden: the engine thread prepares nothing for this dock
            self._feed.want(request)
        self.colorbar.set_lut(lut)
        if mode == "map":
            self._show_map_range()
        else:
            self.colorbar.set_range(*levels)
            self.colorbar.set_note("")
            self.colorbar.setToolTip(_(BAR_TIP))
        selected = self.session.selected_map
        if 0 <= selected < maps.shape[0] and self.detail.isVisible():
            m = maps[selected]
            detail_levels = levels_for(*finite_range(m), diverging) if mode == "map" else levels
            self.detail.show_map(node.name, selected, maps.shape[0], m, detail_levels, detail_lut,
                                 is_or_follows_relu(self.session.pipeline, index))

    def bar_map(self) -> int:
        """The map whose real range the colour bar shows under per-map normalization:
        the one under the mouse, else the selected one, else map 0."""
        maps = as_maps(self._activation) if self._activation is not None else None
        n = 0 if maps is None else maps.shape[0]
        for index in (self._hover[0], self.session.selected_map):
            if 0 <= index < n:
                return index
        return 0

    def _show_map_range(self) -> None:
        """Label the bar with one map's real values (per-map normalization)."""
        maps = as_maps(self._activation) if self._activation is not None else None
        if maps is None or self.session.display.normalization != "map":
            return
        index = self.bar_map()
        self.colorbar.set_range(*per_map_levels(maps[index], self.colormap in DIVERGING))
        self.colorbar.set_note(_(PER_MAP_NOTE).format(index=index))
        self.colorbar.setToolTip(_(PER_MAP_TIP))

    # -- hover -----------------------------------------------------------------------------------
    def _on_mosaic_hovered(self, index: int, x: int, y: int) -> None:
        self._hover = (index, x, y)
        self._show_readout()
        self._show_map_range()

    def _on_detail_hovered(self, x: int, y: int) -> None:
        self._hover = (self.session.selected_map if x >= 0 else -1, x, y)
        self._show_readout()
        self._show_map_range()

    def _on_bars_hovered(self, index: int) -> None:
        self._hover = (index, -1, -1)
        self._show_readout()

    def _show_readout(self) -> None:
        """Refresh the readout; values under a still mouse change with every frame."""
        if self._activation is None or self._key is None:
            return
        text = readout_text(self._key[0], self._activation, self._hover)
        if text is not None:
            self.readout.setText(text)
