"""1x1 convolutions as channel mixing: at every pixel, C values in, C' values out.

A 1x1 filter looks at one pixel only, through all C channels, so a layer of C' such filters is
the same small matrix product ``y = W x + b`` (W of shape C' x C) at every pixel. Pick a pixel
and the dock shows its C input values, the weight matrix, the bias and the C' outputs, with the
arithmetic of one output written out, and what the channel reduction saves in the next layer.
Without a 1x1 layer in the pipeline a seeded demo layer is used, and one click inserts it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _
from engine.layers import Conv2d
from engine.lecture.text import format_value
from engine.ops.shapes import conv_params, pair
from gui.live_follow import LiveFollow
from gui.widgets.cell_grid import CellGrid
from gui.widgets.pixel_view import PixelView
from gui.widgets.player_controls import labelled_row

__all__ = ["DEMO_SEED", "ChannelMixingDock", "demo_layer", "is_pointwise_conv", "mix_text"]

DEMO_SEED = 11
HYPOTHETICAL_NEXT = (64, 3)  # filters and kernel of the "following layer" when there is none
MAX_TERMS = 8  # a longer sum is shortened to its first terms and "..."


def is_pointwise_conv(layer) -> bool:
    """A 1x1 convolution that keeps the map size: one matrix product per pixel."""
    if layer.type_name != "Conv2d":
        return False
    padding = layer.padding if isinstance(layer.padding, str) else pair(layer.padding)
    return (pair(layer.kernel_size) == (1, 1) and pair(layer.stride) == (1, 1)
            and padding in ("valid", "same", (0, 0)) and layer.groups == 1)


def demo_layer(in_channels: int) -> Conv2d:
    """The seeded 1x1 layer shown (and inserted) when the pipeline has none: C -> 3 (or 1)."""
    out = 3 if in_channels > 3 else 1
    return Conv2d(in_channels, out, 1, seed=DEMO_SEED)


def _product(w: float, v: float) -> str:
    text = f"{format_value(w)}×{format_value(v)}"
    return f"({text})" if w < 0 or v < 0 else text


def mix_text(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, k: int) -> str:
    """``y[k] = w·x + b`` with the numbers, shortened after :data:`MAX_TERMS` terms."""
    terms = [_product(w, v) for w, v in zip(weight[k], x, strict=True)]
    if len(terms) > MAX_TERMS:
        terms = [*terms[:MAX_TERMS - 1], _("... ({value} more)").format(
            value=len(terms) - MAX_TERMS + 1)]
    value = float(weight[k] @ x + bias[k])
    return (_("y[{k}] = {join} + bias {format_value} = <b>{format_value2}</b>").format(
        k=k, join=" + ".join(terms), format_value=format_value(bias[k]),
        format_value2=format_value(value)
    ))


class ChannelMixingDock(QWidget):
    """The 1x1 convolution dock (registered as "channel_mixing")."""

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session, self._live = session, live
        self.pixel: tuple[int, int] | None = None
        self.layer: Conv2d | None = None
        self.node_index: int | None = None  # None: the demo layer
        self.source = np.zeros((1, 1, 1), np.float32)  # (C, H, W) the 1x1 layer's input
        self.inputs = self.outputs = np.zeros(0, np.float32)
        self._frame = np.zeros((1, 1, 3), np.uint8)
        self._build()
        session.pipeline_changed.connect(self._on_session_changed)
        session.selected_layer_changed.connect(self._on_session_changed)
        self._follow = LiveFollow(self, self.refresh)
        live.resultUpdated.connect(self._on_live_result)
        self.refresh()

    # -- construction -------------------------------------------------------------------------
    def _spin(self, tip: str, slot) -> QSpinBox:
        spin = QSpinBox()
        spin.setToolTip(tip)
        spin.valueChanged.connect(slot)
        return spin

    def _build(self) -> None:
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.insert = QPushButton(_("Insert this layer"))
        self.insert.setToolTip(_("Insert a 1x1 conv after the selected layer: add the demo 1x1 "
                               "layer to the pipeline right after the selected "
                               "layer (Undo takes it out again); a following conv layer is "
                               "adapted to the fewer channels"))
        self.insert.clicked.connect(self.insert_layer)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.insert)

        self.map_spin = self._spin(_("Which input map is shown on the right"), self._redraw)
        self.row = self._spin(_("Row of the pixel (or click a picture)"), self._on_spin)
        self.col = self._spin(_("Column of the pixel (or click a picture)"), self._on_spin)
        self.out_spin = self._spin(_("The output channel whose sum is written out"), self._redraw)
        controls = labelled_row(((_("Pixel row"), self.row), (_("col"), self.col),
                                 (_("map"), self.map_spin), (_("output"), self.out_spin)))

        self.frame_view = PixelView(min_side=80)
        self.frame_view.setToolTip(_("The input frame: click to pick the pixel"))
        self.frame_view.pixelClicked.connect(self._on_frame_clicked)
        self.map_view = PixelView(min_side=80)
        self.map_view.setToolTip(_(
            "One of the maps entering the 1x1 layer: click to pick the pixel"
        ))
        self.map_view.pixelClicked.connect(self.select_pixel)
        self.map_title = QLabel()
        pictures = QGridLayout()
        pictures.addWidget(QLabel(_("Input frame")), 0, 0)
        pictures.addWidget(self.map_title, 0, 1)
        pictures.addWidget(self.frame_view, 1, 0)
        pictures.addWidget(self.map_view, 1, 1)

        self.x_grid = CellGrid(cell_size=34, min_cell=14)
        self.x_grid.setToolTip(_("x: the pixel's value in each of the C input channels"))
        self.w_grid = CellGrid(cell_size=34, min_cell=14)
        self.w_grid.setToolTip(_("W: one row per output channel, one column per input channel"))
        self.b_grid = CellGrid(cell_size=34, min_cell=14)
        self.b_grid.setToolTip(_("b: one bias per output channel"))
        self.y_grid = CellGrid(cell_size=34, min_cell=14)
        self.y_grid.setToolTip(_("y = W x + b: the pixel's C' output values"))
        grids = self.grids = QGridLayout()
        # Titles beside the grids, b's and y's in the otherwise empty row of x: the height goes
        # to the cells, which is what a short panel runs out of.
        self.grid_titles = [QLabel(_("x\n(C inputs)")), QLabel(_("W\n(C' x C)")), QLabel("b"),
                            QLabel("y")]
        bottom = Qt.AlignmentFlag.AlignBottom
        for title in self.grid_titles[:2]:
            title.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        grids.addWidget(self.grid_titles[0], 0, 0)
        grids.addWidget(self.x_grid, 0, 1)
        grids.addWidget(self.grid_titles[1], 1, 0)
        grids.addWidget(self.w_grid, 1, 1)
        for col, (title, grid) in enumerate(((self.grid_titles[2], self.b_grid),
                                             (self.grid_titles[3], self.y_grid)), start=2):
            title.setAlignment(bottom | Qt.AlignmentFlag.AlignHCenter)
            title.setWordWrap(True)
            grids.addWidget(title, 0, col)
            grids.addWidget(grid, 1, col)
        for title, grid in zip(self.grid_titles, (self.x_grid, self.w_grid, self.b_grid,
                                                  self.y_grid), strict=True):
            title.setToolTip(grid.toolTip())
        self._stretch_grids(1, 1)

        self.sum = QLabel()
        self.sum.setWordWrap(True)
        self.savings = QLabel()
        self.savings.setWordWrap(True)
        for label in (self.sum, self.savings):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(controls)
        # The pictures are only for picking the pixel; the numbers get most of the height.
        layout.addLayout(pictures, 1)
        layout.addLayout(grids, 2)
        layout.addWidget(self.sum)
        layout.addWidget(self.savings)

    def _stretch_grids(self, c_in: int, c_out: int) -> None:
        """Share the grids' room in proportion to their cells, so that every cell of x, W, b
        and y gets the same (largest possible) size instead of W's being squeezed. A grid's
        row and column numbers take about half a cell: hence 2 per cell plus 1."""
        self.grids.setColumnStretch(1, 2 * c_in + 1)
        self.grids.setColumnStretch(2, 3)
        self.grids.setColumnStretch(3, 3)
        self.grids.setRowStretch(0, 3)
        self.grids.setRowStretch(1, 2 * c_out + 1)

    # -- model --------------------------------------------------------------------------------
    def _choose(self, result) -> tuple[Conv2d | None, int | None, np.ndarray | None]:
        """The 1x1 layer to show, its node index (None: demo) and its input maps."""
        nodes = result.pipeline.nodes
        selected = min(self._session.selected_layer, len(nodes) - 1)
        order = [selected, *(i for i in range(len(nodes)) if i != selected)]
        for i in order:
            if is_pointwise_conv(nodes[i].layer):
                name = nodes[i].inputs[0]
                maps = (result.input if name == result.pipeline.input_name
                        else result.activations[name])
                return nodes[i].layer, i, maps
        maps = result.activations.get(nodes[selected].name)
        if maps is None or maps.ndim != 3:
            return None, None, None
        return demo_layer(maps.shape[0]), None, maps

    def refresh(self) -> None:
        """Pick the layer and the maps from the newest result and redraw everything."""
        result = self._live.latest
        self.insert.setEnabled(False)
        if result is None:
            self.status.setText(_("Waiting for a frame from the current pipeline."))
            return
        layer, index, maps = self._choose(result)
        if layer is None:
            self.layer = None
            self.status.setText(_("The selected layer gives a vector, not maps: select a layer "
                                "with maps to mix its channels."))
            return
        self.layer, self.node_index, self.source = layer, index, maps
        self._frame = result.frame
        nodes = result.pipeline.nodes
        c_in, c_out = layer.in_channels, layer.out_channels
        if index is None:
            selected = nodes[min(self._session.selected_layer, len(nodes) - 1)].name
            self.status.setText(
                _(
                    "The pipeline has no 1x1 convolution, so a demo layer (seeded, {c_in} → "
                    "{c_out} channels) is shown on the output of {selected}."
                ).format(c_in=c_in, c_out=c_out, selected=selected))
            self.insert.setEnabled(result.pipeline.is_chain)
        else:
            self.status.setText(_(
                "{name}: {layer!r}, a 1x1 convolution in the pipeline, mixing {c_in} "
                "channels into {c_out}."
            ).format(name=nodes[index].name, layer=layer, c_in=c_in, c_out=c_out))
        h, w = maps.shape[1:]
        if self.pixel is None or not (0 <= self.pixel[0] < h and 0 <= self.pixel[1] < w):
            self.pixel = (h // 2, w // 2)
        for spin, top, value in ((self.row, h, self.pixel[0]), (self.col, w, self.pixel[1]),
                                 (self.map_spin, c_in, self.map_spin.value()),
                                 (self.out_spin, c_out, self.out_spin.value())):
            spin.blockSignals(True)
            spin.setRange(0, top - 1)
            spin.setValue(min(value, top - 1))
            spin.blockSignals(False)
        self._redraw()

    def _redraw(self, *_args) -> None:
        if self.layer is None or self.pixel is None:
            return
        y, x = self.pixel
        weight = self.layer.weight[:, :, 0, 0]  # (C', C)
        c_out = weight.shape[0]
        self._stretch_grids(weight.shape[1], c_out)
        bias = self.layer.bias if self.layer.bias is not None else np.zeros(c_out, np.float32)
        self.inputs = self.source[:, y, x].astype(np.float32)
        self.outputs = weight @ self.inputs + bias  # (C',): the 1x1 conv at this pixel
        self.x_grid.set_values(self.inputs[None, :])
        self.w_grid.set_values(weight)
        self.b_grid.set_values(bias[:, None])
        self.y_grid.set_values(self.outputs[:, None])
        self.frame_view.set_rgb(self._frame)
        fh, fw = self._frame.shape[:2]
        h, w = self.source.shape[1:]
        self.frame_view.set_boxes([(y * fh // h, (y + 1) * fh // h - 1, x * fw // w,
                                    (x + 1) * fw // w - 1, "#ffb300")])
        channel = self.map_spin.value()
        self.map_view.set_map(self.source[channel])
        self.map_view.set_marker((y, x))
        self.map_title.setText(_(
            "Input map {channel} of {shape} ({h} x {w}), pixel ({y}, {x})"
        ).format(channel=channel, shape=self.source.shape[0], h=h, w=w, y=y, x=x))
        self.sum.setText(mix_text(weight, bias, self.inputs, self.out_spin.value()))
        self.savings.setText(self._savings_text(weight.shape[1], c_out))

    def _savings_text(self, c_in: int, c_out: int) -> str:
        result = self._live.latest
        nodes = result.pipeline.nodes
        start = (self.node_index if self.node_index is not None
                 else min(self._session.selected_layer, len(nodes) - 1)) + 1
        nxt = next((nodes[i] for i in range(start, len(nodes))
                    if nodes[i].layer.type_name == "Conv2d"), None)
        if nxt is not None:
            n, k, what = nxt.layer.out_channels, pair(nxt.layer.kernel_size), _(
                "the next conv layer ({name})"
            ).format(name=nxt.name)
        else:
            n, k = HYPOTHETICAL_NEXT[0], pair(HYPOTHETICAL_NEXT[1])
            what = _("a following {k}x{k2} conv layer with {n} filters").format(
                k=k[0], k2=k[1], n=n)
        before, after = conv_params(c_in, n, k), conv_params(c_out, n, k)
        change = 100 * (1 - c_out / c_in)
        fewer = (_("Per pixel {c_in} values become {c_out}: {share:.0%} fewer numbers to "
                   "store and pass on.") if change >= 0 else
                 _("Per pixel {c_in} values become {c_out}: {share:.0%} more numbers to "
                   "store and pass on."))
        return fewer.format(c_in=c_in, c_out=c_out, share=abs(change) / 100) + " " + _(
            "For {what}: {n} x ({k} x {k2} x {c_in} + 1) = {before:,} weights on "
            "the {c_in} channels, {n} x ({k} x {k2} x {c_out} + 1) = {after:,} on the "
            "{c_out}."
        ).format(c_in=c_in, c_out=c_out, what=what, n=n, k=k[0], k2=k[1], before=before,
                 after=after)

    # -- handlers -----------------------------------------------------------------------------
    def _on_session_changed(self, *_args) -> None:
        self.refresh()

    def _on_live_result(self, _result) -> None:
        self._follow.frame()  # at a readable rate; hidden: nothing (showEvent catches up)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def _on_spin(self, _value: int) -> None:
        self.select_pixel(self.row.value(), self.col.value())

    def _on_frame_clicked(self, row: int, col: int) -> None:
        fh, fw = self._frame.shape[:2]
        _, h, w = self.source.shape
        self.select_pixel(row * h // fh, col * w // fw)

    def select_pixel(self, row: int, col: int) -> None:
        """Show the mixing at pixel (row, col) of the 1x1 layer's input maps."""
        self.pixel = (int(row), int(col))
        self.refresh()

    def insert_layer(self) -> None:
        """Insert the demo 1x1 layer after the selected layer (one undoable edit)."""
        if self.layer is None or self.node_index is not None:
            return
        pipeline, index = self._session.pipeline, self._session.selected_layer
        c_out = self.layer.out_channels
        try:
            new = pipeline.insert_layer(index + 1, self.layer)
            # The next conv layer must now take the fewer channels.
            for i in range(index + 2, len(new.nodes)):
                layer = new.nodes[i].layer
                if layer.type_name == "Conv2d":
                    new = new.replace_layer(i, layer.replace(in_channels=c_out))
                    break
            new.shapes(self._live.latest.input.shape)
        except ValueError as exc:  # ShapeError and LayerError too: a layer that cannot adapt
            self.status.setText(_("Cannot insert a 1x1 layer here: {exc}").format(exc=exc))
            return
        self._session.set_pipeline(new)
        self._session.set_selected_layer(index + 1)
