"""Receptive fields: click a unit of a layer's map and see which input pixels can change it.

The box comes from :func:`engine.lecture.receptive.receptive_field`, which walks back through the
kernels, strides, paddings and dilations before the unit. The dock draws it on the input frame
and on every earlier layer that changes the geometry (convolutions and pooling), and prints its
size: clipped to the image, and as the textbook formula gives it without the border.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _
from engine.lecture.receptive import ReceptiveField, receptive_field
from gui.live_follow import LiveFollow
from gui.ui_scale import scaled
from gui.widgets.crop_controls import frame_thumbnail
from gui.widgets.pixel_view import PixelView
from gui.widgets.player_controls import labelled_row, shrinkable

__all__ = ["ReceptiveFieldDock", "describe_field"]

BOX_COLOR = QColor(255, 60, 60)
STRIP_TYPES = {"Conv2d", "MaxPool2d", "AvgPool2d"}  # the layers that change the box
STRIP_SIDE = 160  # thumbnail width in the strip of earlier layers
INPUT_SIDE = 320
"""The input picture keeps at most this many rows and columns (every s-th pixel; its boxes stay
in the input's own coordinates): the panel shows it a few hundred pixels wide, and converting a
whole 480 x 640 input for every frame cost the window's thread about 4 ms."""


def describe_field(rf: ReceptiveField) -> str:
    """One or two sentences: the unit, its clipped region on the input, the full size."""
    unit = _("Unit ({y}, {x}) of {node}, map {channel},").format(
        y=rf.y, x=rf.x, node=rf.node, channel=rf.channel)
    r = rf.input_region
    if r is None:
        return _("{unit} sees only zero padding: no input pixel can change it.").format(unit=unit)
    text = (_(
        "{unit} sees a {height} x {width} pixel region of the input: rows {y0}-{y1}, columns "
        "{x0}-{x1}."
    ).format(unit=unit, height=r.height, width=r.width, y0=r.y0, y1=r.y1, x0=r.x0, x1=r.x1))
    full_h, full_w = rf.size
    if (full_h, full_w) == (r.height, r.width):
        return text + _(
            " Its full field (no border in the way) is the same {full_h} x {full_w}."
        ).format(full_h=full_h, full_w=full_w)
    return text + (_(
        " Without the image border its field would be {full_h} x {full_w}; the rest falls on "
        "zero padding, which holds no information."
    ).format(full_h=full_h, full_w=full_w))


class ReceptiveFieldDock(QWidget):
    """The receptive-field dock (registered as "receptive_field")."""

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session, self._live = session, live
        self.field: ReceptiveField | None = None
        self._unit: tuple[int, int] | None = None
        self._key = None  # (pipeline, node, input shape) the strip was built for
        self._strip_views: dict[str, PixelView] = {}
        self._build()
        session.pipeline_changed.connect(self._on_session_pipeline)
        session.selected_layer_changed.connect(self._on_session_layer)
        session.selected_map_changed.connect(self._on_session_map)
        self._follow = LiveFollow(self, self._refresh)
        live.resultUpdated.connect(self._on_live_result)
        self._fill_layers()
        if live.latest is not None:
            self._on_live_result(live.latest)

    # -- construction -------------------------------------------------------------------------
    def _spin(self, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setToolTip(tip)
        spin.valueChanged.connect(self._on_spin_changed)
        return spin

    def _build(self) -> None:
        self.layer = QComboBox()
        self.layer.setToolTip(_("The layer whose unit you pick (the app's selected layer)"))
        self.layer.activated.connect(self._on_layer_activated)
        self.map_spin = QSpinBox()
        self.map_spin.setToolTip(_("Which map (channel) of the layer is shown"))
        self.map_spin.valueChanged.connect(self._on_map_spin)
        self.row = self._spin(_("Row of the unit on the layer's map (or click the map)"))
        self.col = self._spin(_("Column of the unit on the layer's map (or click the map)"))
        # The layer box may shrink (its list shows the full names): the panel shares the
        # middle column with others and must not widen the window.
        shrinkable(self.layer, 7)
        controls = labelled_row(((_("Layer"), self.layer, 1), (_("map"), self.map_spin),
                                 (_("row"), self.row), (_("col"), self.col)), end_stretch=False)

        self.input_view = PixelView()
        self.input_view.setToolTip(_("What enters the pipeline; the red box is the region that can "
                                   "influence the chosen unit. Click to pick the unit nearest "
                                   "that spot."))
        self.input_view.pixelClicked.connect(self._on_input_clicked)
        self.map_view = PixelView()
        self.map_view.setToolTip(_(
            "One map of the layer; click any unit to see its receptive field"
        ))
        self.map_view.pixelClicked.connect(self._on_map_clicked)
        self.input_title, self.map_title = QLabel(_("Input")), QLabel(_("Layer map"))
        views = self.views = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        for title, view in ((self.input_title, self.input_view), (self.map_title, self.map_view)):
            title.setWordWrap(True)  # "conv3, map 31 (90 x 120)" must not widen the panel
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(view, 1)
            views.addLayout(column, 1)

        self.strip = QWidget()
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        scroll = self.strip_scroll = QScrollArea()
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(True)
        scaled(scroll.setFixedHeight, 150)
        scroll.setToolTip(_("The same region traced on every earlier convolution and pooling "
                          "layer (mean of its maps); a ReLU keeps its input's box"))

        self.info = QLabel(_("Waiting for the first frame."))
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(views, 1)
        self.strip_heading = QLabel(_("On the layers in between:"))
        self.strip_heading.setWordWrap(True)
        layout.addWidget(self.strip_heading)
        layout.addWidget(scroll)
        layout.addWidget(self.info)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange_views()

    def _arrange_views(self) -> None:
        """Input and map side by side in a wide panel, one above the other in a tall one:
        whichever shows the pictures larger."""
        area = self.views.geometry()
        h, w = self.input_view.image_shape
        aspect = w / h if h else 4 / 3
        title_h = 2 * self.input_title.sizeHint().height()  # a title may wrap to two lines
        beside = min(area.width() / 2, (area.height() - title_h) * aspect)
        stacked = min(area.width(), (area.height() / 2 - title_h) * aspect)
        direction = (QBoxLayout.Direction.TopToBottom if stacked > 1.15 * beside
                     else QBoxLayout.Direction.LeftToRight)
        if direction != self.views.direction():
            self.views.setDirection(direction)

    # -- helpers ------------------------------------------------------------------------------
    def _node(self):
        nodes = self._session.pipeline.nodes
        return nodes[min(self._session.selected_layer, len(nodes) - 1)]

    def _fill_layers(self) -> None:
        self.layer.blockSignals(True)
        self.layer.clear()
        for node in self._session.pipeline.nodes:
            self.layer.addItem(_("{name} ({type_name})")
                                 .format(name=node.name, type_name=node.layer.type_name))
        self.layer.setCurrentIndex(self._session.selected_layer)
        self.layer.blockSignals(False)

    def _set_spin(self, spin: QSpinBox, top: int, value: int) -> None:
        spin.blockSignals(True)
        spin.setRange(0, max(top - 1, 0))
        spin.setValue(value)
        spin.blockSignals(False)

    # -- session and live handlers ------------------------------------------------------------
    def _on_session_pipeline(self, _pipeline) -> None:
        self._fill_layers()
        self._key = None

    def _on_session_layer(self, index: int) -> None:
        self.layer.blockSignals(True)
        self.layer.setCurrentIndex(index)
        self.layer.blockSignals(False)
        self._unit = None
        self._refresh()

    def _on_session_map(self, _index: int) -> None:
        self._refresh()

    def _on_live_result(self, _result) -> None:
        self._follow.frame()  # at a readable rate; hidden: nothing (showEvent catches up)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._refresh()

    # -- widget handlers ----------------------------------------------------------------------
    def _on_layer_activated(self, index: int) -> None:
        self._session.set_selected_layer(index)

    def _on_map_spin(self, value: int) -> None:
        self._session.set_selected_map(value)  # the session's signal redraws

    def _on_spin_changed(self, _value: int) -> None:
        self.select_unit(self.row.value(), self.col.value())

    def _on_map_clicked(self, row: int, col: int) -> None:
        self.select_unit(row, col)

    def _on_input_clicked(self, row: int, col: int) -> None:
        (h, w), (mh, mw) = self.input_view.image_shape, self.map_view.image_shape
        self.select_unit(row * mh // h, col * mw // w)

    def select_unit(self, row: int, col: int) -> None:
        """Pick the unit at (row, col) of the shown map and trace its receptive field."""
        self._unit = (int(row), int(col))
        self._refresh()

    # -- drawing ------------------------------------------------------------------------------
    def _refresh(self) -> None:
        result = self._live.latest
        if result is None:
            return
        node = self._node()
        act = result.activations.get(node.name)
        if act is None or act.ndim != 3:
            self.info.setText(_(
                "{name} gives a vector, not maps: pick a layer with maps (a convolution, "
                "activation or pooling layer)."
            ).format(name=node.name))
            self.field = None
            return
        c, h, w = act.shape
        channel = min(max(self._session.selected_map, 0), c - 1)
        if self._unit is None or not (0 <= self._unit[0] < h and 0 <= self._unit[1] < w):
            self._unit = (h // 2, w // 2)
        y, x = self._unit
        self._set_spin(self.map_spin, c, channel)
        self._set_spin(self.row, h, y)
        self._set_spin(self.col, w, x)
        key = (result.pipeline, node.name, result.input.shape)
        if key != self._key:
            self._key = key
            self._build_strip(result, node.name)
        self.field = receptive_field(result.pipeline, result.input.shape, node.name, channel,
                                     y, x)
        # The boxes are in the coordinates of what entered the pipeline, which for a
        # fixed-size network is a resized or cropped frame: show that, not the frame.
        picture, extent = frame_thumbnail(result.input, INPUT_SIDE)
        self.input_view.set_rgb(picture, extent=extent)
        self._arrange_views()  # the frame's shape decides which arrangement is larger
        self.input_view.set_boxes(self._boxes(result.pipeline.input_name))
        self.map_view.set_map(act[channel])
        self.map_view.set_marker((y, x))
        self.map_title.setText(_("{name}, map {channel} ({h} x {w})")
                                 .format(name=node.name, channel=channel, h=h, w=w))
        self.input_title.setText(_("Input ({shape} x {shape2})").format(
            shape=result.input.shape[1], shape2=result.input.shape[2]))
        for name, view in self._strip_views.items():
            act = result.activations[name]
            # Thumbnails: every s-th pixel is plenty and keeps a 480-line frame cheap per frame.
            s = max(1, act.shape[2] // STRIP_SIDE)
            view.set_map(np.abs(act[:, ::s, ::s]).mean(axis=0), extent=act.shape[1:])
            view.set_boxes(self._boxes(name))
        self.info.setText(describe_field(self.field))

    def _boxes(self, name: str) -> list:
        region = self.field.regions.get(name) if self.field is not None else None
        return [] if region is None else [(region.y0, region.y1, region.x0, region.x1,
                                           BOX_COLOR)]

    def _build_strip(self, result, node_name: str) -> None:
        while self.strip_layout.count():
            item = self.strip_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # at once: deleteLater waits for the event loop
                item.widget().deleteLater()
        self._strip_views = {}
        for node in result.pipeline.nodes:
            if node.name == node_name:
                break
            act = result.activations.get(node.name)
            if node.layer.type_name not in STRIP_TYPES or act is None or act.ndim != 3:
                continue
            view = PixelView(min_side=90)
            view.setToolTip(_(
                "{name}: mean of its {shape} maps; the box is the part the chosen unit "
                "depends on"
            ).format(name=node.name, shape=act.shape[0]))
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(QLabel(_("{name} ({shape} x {shape2})").format(
                name=node.name, shape=act.shape[1], shape2=act.shape[2])))
            column.addWidget(view, 1)
            self.strip_layout.addWidget(box)
            self._strip_views[node.name] = view
        # With no layer in between, one line says so instead of an empty 150-pixel strip.
        self.strip_scroll.setVisible(bool(self._strip_views))
        self.strip_heading.setText(
            _("On the layers in between:") if self._strip_views else
            _("No convolution or pooling layer comes before this one: the box on the input is "
            "all there is."))
        self.strip_layout.addStretch(1)
