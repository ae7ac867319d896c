"""Receptive fields: click a unit of a layer's map and see which input pixels can change it.

The box comes from :func:`engine.receptive.receptive_field`, which walks back through the
kernels, strides, paddings and dilations before the unit. The dock draws it on the input frame
and on every earlier layer that changes the geometry (convolutions and pooling), and prints its
size: clipped to the image, and as the textbook formula gives it without the border.

:class:`PixelView` (a picture with clickable pixels and boxes drawn over it) lives here too; the
1x1-convolution and translation docks reuse it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from engine.receptive import ReceptiveField, receptive_field
from gui.colormaps import indexed_lookup_table, levels_for, to_indices

__all__ = ["PixelView", "ReceptiveFieldDock", "colorize", "describe_field"]

BOX_COLOR = QColor(255, 60, 60)
MARK_COLOR = QColor(255, 200, 0)
STRIP_TYPES = {"Conv2d", "MaxPool2d", "AvgPool2d"}  # the layers that change the box


def colorize(values: np.ndarray, colormap: str = "viridis", levels=None) -> np.ndarray:
    """An (H, W) float map as an (H, W, 3) uint8 image through a colormap."""
    values = np.nan_to_num(np.asarray(values, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if levels is None:
        levels = levels_for(float(values.min()), float(values.max()), colormap == "coolwarm")
    idx = to_indices(values, levels).astype(np.uint8)
    return np.ascontiguousarray(indexed_lookup_table(colormap)[idx][..., :3])


class PixelView(QWidget):
    """A small image scaled to fit, nearest-neighbour, with boxes and a marker on top.

    Signals
    -------
    pixelClicked(int, int)
        Row and column (image pixels) under a left click.
    """

    pixelClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None, min_side: int = 100) -> None:
        super().__init__(parent)
        self._rgb = np.zeros((1, 1, 3), np.uint8)
        self._values: np.ndarray | None = None
        self._image = QImage()
        self._boxes: list[tuple[int, int, int, int, QColor]] = []
        self._marker: tuple[int, int] | None = None
        self._min_side = min_side
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def set_rgb(self, rgb: np.ndarray, values: np.ndarray | None = None) -> None:
        """Show an (H, W, 3) uint8 image; ``values`` (H, W) are shown in tooltips."""
        self._rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        self._values = values
        h, w = self._rgb.shape[:2]
        # QImage borrows the buffer: self._rgb keeps it alive as long as the image.
        self._image = QImage(self._rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        self.update()

    def set_map(self, values: np.ndarray, colormap: str = "viridis", levels=None) -> None:
        """Show an (H, W) float map through a colormap."""
        self.set_rgb(colorize(values, colormap, levels), np.asarray(values))

    def set_boxes(self, boxes) -> None:
        """Draw ``[(y0, y1, x0, x1, color), ...]`` (inclusive pixel bounds) over the image."""
        self._boxes = [(int(a), int(b), int(c), int(d), QColor(col)) for a, b, c, d, col in boxes]
        self.update()

    def set_marker(self, yx: tuple[int, int] | None) -> None:
        """Outline one pixel (the chosen unit), or nothing."""
        self._marker = yx
        self.update()

    @property
    def image_shape(self) -> tuple[int, int]:
        return self._rgb.shape[0], self._rgb.shape[1]

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        return [b[:4] for b in self._boxes]

    def image_rect(self) -> QRectF:
        """Where the image is drawn in the widget (aspect kept, centred)."""
        h, w = self.image_shape
        scale = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2,
                      w * scale, h * scale)

    def pixel_at(self, pos: QPointF) -> tuple[int, int] | None:
        rect = self.image_rect()
        h, w = self.image_shape
        row = int((pos.y() - rect.top()) / rect.height() * h)
        col = int((pos.x() - rect.left()) / rect.width() * w)
        return (row, col) if 0 <= row < h and 0 <= col < w else None

    def position_of(self, row: int, col: int) -> QPointF:
        """The widget point at the centre of a pixel (for tests and tours)."""
        rect = self.image_rect()
        h, w = self.image_shape
        return QPointF(rect.left() + (col + 0.5) * rect.width() / w,
                       rect.top() + (row + 0.5) * rect.height() / h)

    def sizeHint(self) -> QSize:
        return QSize(2 * self._min_side, int(1.5 * self._min_side))

    def minimumSizeHint(self) -> QSize:
        return QSize(self._min_side, self._min_side * 3 // 4)

    def _to_widget(self, y0, y1, x0, x1) -> QRectF:
        rect = self.image_rect()
        h, w = self.image_shape
        sy, sx = rect.height() / h, rect.width() / w
        return QRectF(rect.left() + x0 * sx, rect.top() + y0 * sy, (x1 - x0 + 1) * sx,
                      (y1 - y0 + 1) * sy)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(32, 33, 36))
        if self._image.isNull():
            return
        painter.drawImage(self.image_rect(), self._image)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for y0, y1, x0, x1, color in self._boxes:
            painter.setPen(QPen(color, 2))
            painter.drawRect(self._to_widget(y0, y1, x0, x1))
        if self._marker is not None:
            painter.setPen(QPen(MARK_COLOR, 2))
            y, x = self._marker
            painter.drawRect(self._to_widget(y, y, x, x).adjusted(-2, -2, 2, 2))

    def mousePressEvent(self, event) -> None:
        hit = self.pixel_at(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.pixelClicked.emit(*hit)
        super().mousePressEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.pixel_at(QPointF(event.pos()))
            text = self.toolTip()
            if hit is not None:
                r, c = hit
                where = f"row {r}, column {c}"
                if self._values is not None:
                    where += f": {float(self._values[r, c]):.4g}"
                text = f"{where}\n{text}" if text else where
            QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)


def describe_field(rf: ReceptiveField) -> str:
    """One or two sentences: the unit, its clipped region on the input, the full size."""
    unit = f"Unit ({rf.y}, {rf.x}) of {rf.node}, map {rf.channel},"
    r = rf.input_region
    if r is None:
        return f"{unit} sees only zero padding: no input pixel can change it."
    text = (f"{unit} sees a {r.height} x {r.width} pixel region of the input: rows "
            f"{r.y0}-{r.y1}, columns {r.x0}-{r.x1}.")
    full_h, full_w = rf.size
    if (full_h, full_w) == (r.height, r.width):
        return text + f" Its full field (no border in the way) is the same {full_h} x {full_w}."
    return text + (f" Without the image border its field would be {full_h} x {full_w}; the "
                   f"rest falls on zero padding, which holds no information.")


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
        self.layer.setToolTip("The layer whose unit you pick (the app's selected layer)")
        self.layer.activated.connect(self._on_layer_activated)
        self.map_spin = QSpinBox()
        self.map_spin.setToolTip("Which map (channel) of the layer is shown")
        self.map_spin.valueChanged.connect(self._on_map_spin)
        self.row = self._spin("Row of the unit on the layer's map (or click the map)")
        self.col = self._spin("Column of the unit on the layer's map (or click the map)")
        controls = QHBoxLayout()
        for text, widget in (("Layer", self.layer), ("map", self.map_spin), ("row", self.row),
                             ("column", self.col)):
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            controls.addWidget(label)
            controls.addWidget(widget)
        controls.addStretch(1)

        self.input_view = PixelView()
        self.input_view.setToolTip("The input frame; the red box is the region that can "
                                   "influence the chosen unit. Click to pick the unit nearest "
                                   "that spot.")
        self.input_view.pixelClicked.connect(self._on_input_clicked)
        self.map_view = PixelView()
        self.map_view.setToolTip("One map of the layer; click any unit to see its receptive field")
        self.map_view.pixelClicked.connect(self._on_map_clicked)
        self.input_title, self.map_title = QLabel("Input"), QLabel("Layer map")
        views = QHBoxLayout()
        for title, view in ((self.input_title, self.input_view), (self.map_title, self.map_view)):
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(view, 1)
            views.addLayout(column, 1)

        self.strip = QWidget()
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(True)
        scroll.setFixedHeight(150)
        scroll.setToolTip("The same region traced on every earlier convolution and pooling "
                          "layer (mean of its maps); a ReLU keeps its input's box")

        self.info = QLabel("Waiting for the first frame.")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(views, 1)
        layout.addWidget(QLabel("On the layers in between:"))
        layout.addWidget(scroll)
        layout.addWidget(self.info)

    # -- helpers ------------------------------------------------------------------------------
    def _node(self):
        nodes = self._session.pipeline.nodes
        return nodes[min(self._session.selected_layer, len(nodes) - 1)]

    def _fill_layers(self) -> None:
        self.layer.blockSignals(True)
        self.layer.clear()
        for node in self._session.pipeline.nodes:
            self.layer.addItem(f"{node.name} ({node.layer.type_name})")
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
            self.info.setText(f"{node.name} gives a vector, not maps: pick a layer with maps "
                              f"(a convolution, activation or pooling layer).")
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
        self.input_view.set_rgb(result.frame)
        self.input_view.set_boxes(self._boxes(result.pipeline.input_name))
        self.map_view.set_map(act[channel])
        self.map_view.set_marker((y, x))
        self.map_title.setText(f"{node.name}, map {channel} ({h} x {w})")
        self.input_title.setText(f"Input ({result.input.shape[1]} x {result.input.shape[2]})")
        for name, view in self._strip_views.items():
            view.set_map(np.abs(result.activations[name]).mean(axis=0))
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
                item.widget().deleteLater()
        self._strip_views = {}
        for node in result.pipeline.nodes:
            if node.name == node_name:
                break
            act = result.activations.get(node.name)
            if node.layer.type_name not in STRIP_TYPES or act is None or act.ndim != 3:
                continue
            view = PixelView(min_side=90)
            view.setToolTip(f"{node.name}: mean of its {act.shape[0]} maps; the box is the part "
                            f"the chosen unit depends on")
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(QLabel(f"{node.name} ({act.shape[1]} x {act.shape[2]})"))
            column.addWidget(view, 1)
            self.strip_layout.addWidget(box)
            self._strip_views[node.name] = view
        if not self._strip_views:
            self.strip_layout.addWidget(QLabel("No convolution or pooling layer comes before "
                                               "this one: the box on the input is all there is."))
        self.strip_layout.addStretch(1)
