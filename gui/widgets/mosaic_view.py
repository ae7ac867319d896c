"""A view of a whole stack of maps tiled into one image, with each map's index on it.

All maps go into ONE ``ImageItem`` (one item per map is several times slower at 32+ maps).
The grid and the index labels are placed by :meth:`MosaicView.set_grid`, which a dock calls
only when the layer or its shape changes; every frame only calls :meth:`MosaicView.set_maps`,
which turns the values into colour-table indices, tiles them into buffers kept between frames
and hands an 8-bit image to ``setImage`` (Qt draws it as an indexed image: no per-pixel colour
work in Python, and no NaN scan, because gaps are index 0, a transparent entry of the table).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from engine.io.mosaic import grid_shape, map_at, mosaic_shape, tile_origin
from gui.colormaps import indexed_lookup_table
from gui.mosaic_prepare import indexed_mosaic
from gui.ui_scale import follow, halo_pen, outline_pen, presenting, scaled_font

# Index labels are hidden when a tile is drawn smaller than this (they would cover it).
_MIN_TILE_PX_FOR_LABEL = 44
_LABEL_POINTS = 8  # the index labels' size at normal scale
_LABEL_PAD = 2  # pixels around a label's text, inside its dark background


def _index_label(text: str, font: QFont, view, x: float, y: float) -> QGraphicsSimpleTextItem:
    """A map's index in white on a dark box at ``(x, y)`` of ``view`` (a ViewBox, which owns
    it from then on), the same size in pixels at any zoom.

    Plain Qt items, not ``pg.TextItem``: the scene asks every item for its bounding rectangle
    at every paint, and TextItem answers in Python (about 1.5 ms of the GUI thread per frame
    for the 32 labels of a mosaic); these answer in C++ and ignore the view's scaling natively.
    """
    box = QGraphicsRectItem()
    box.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    box.setBrush(QBrush(QColor(0, 0, 0, 150)))
    box.setPen(QPen(Qt.PenStyle.NoPen))
    box.setZValue(5)
    label = QGraphicsSimpleTextItem(text, box)
    label.setBrush(QBrush(QColor("#ffffff")))
    label.setPos(_LABEL_PAD, 0)
    _fit_label(label, font)
    # Drawn from a cached pixmap: the image under it changes every frame, the label does not.
    for item in (box, label):
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    box.setPos(x, y)
    view.addItem(box)  # before the box's Python wrapper goes: the view's item owns it now
    return label


def _fit_label(label: QGraphicsSimpleTextItem, font: QFont) -> None:
    """Give ``label`` ``font`` and size its background box to the text."""
    label.setFont(font)
    rect = label.boundingRect()
    label.parentItem().setRect(0, 0, rect.width() + 2 * _LABEL_PAD, rect.height())


class MosaicView(pg.GraphicsLayoutWidget):
    """Maps of one layer tiled in a grid; reports the map, x and y under the mouse.

    Signals
    -------
    mapHovered(int, int, int)
        ``(map, x, y)`` under the mouse; map is -1 when the mouse is over no map.
    mapClicked(int)
        The map that was clicked with the left button.
    mapMenuRequested(int, QPoint)
        The map that was clicked with the right button, and where on the screen.
    gridChanged()
        A resize changed the grid while a prepared mosaic (no values kept) was shown.
    """

    mapHovered = Signal(int, int, int)
    mapClicked = Signal(int)
    mapMenuRequested = Signal(int, QPoint)
    gridChanged = Signal()  # the grid changed while a prepared mosaic was shown

    def __init__(self, parent=None, *, labels: bool = True, gap: int = 1):
        super().__init__(parent)
        self.setBackground("#202124")
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        self._view = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._view.addItem(self._image)
        # Outline of the selected map (placed by set_highlight; hidden when none is selected).
        # In presenter mode a dark halo under it keeps it visible on any colormap.
        self._outline = QGraphicsRectItem()
        self._halo = QGraphicsRectItem()
        for item, z in ((self._halo, 9), (self._outline, 10)):
            item.setZValue(z)
            item.hide()
            self._view.addItem(item)
        self._highlight = -1
        self._labels_wanted = labels
        self._labels: list[QGraphicsSimpleTextItem] = []  # each on its background box
        self._gap = gap
        self._n_maps = 0
        self._map_shape = (0, 0)
        self._grid = (0, 0)
        self._rgb = False
        self.tiled: np.ndarray | None = None
        self.levels = (0.0, 1.0)
        self.nonfinite = 0  # values of the last maps that are NaN or infinite
        self._last = None
        self._pending_autorange = True
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self._view.sigRangeChanged.connect(self._update_label_visibility)
        self._apply_scale()
        follow(self, self._apply_scale)

    def _apply_scale(self) -> None:
        """Pens and label fonts at the interface scale (presenter mode: thick, bright)."""
        self._outline.setPen(outline_pen(QColor("#ffb300"), 2, cosmetic=True))
        halo = halo_pen(2, cosmetic=True)
        if halo is not None:
            self._halo.setPen(halo)
        font = scaled_font(QFont(), _LABEL_POINTS)
        for label in self._labels:
            _fit_label(label, font)
        self.set_highlight(self._highlight)

    # -- structure ---------------------------------------------------------------------------
    @property
    def grid(self) -> tuple[int, int]:
        """``(rows, columns)`` of the current layout."""
        return self._grid

    @property
    def n_maps(self) -> int:
        """Number of maps in the current layout."""
        return self._n_maps

    def set_grid(self, n_maps: int, map_h: int, map_w: int) -> None:
        """Lay out ``n_maps`` maps of ``map_h`` x ``map_w`` and place their index labels.

        Call this only when the number or the size of the maps changes.
        """
        self._rgb = False
        self._n_maps = n_maps
        self._map_shape = (map_h, map_w)
        self._grid = (0, 0)
        self._index = None
        if n_maps:
            w, h = max(self.width(), 1), max(self.height(), 1)
            self._grid = grid_shape(n_maps, aspect=map_w / map_h, target=w / h)
            shape = mosaic_shape((n_maps, map_h, map_w), self._grid[1], self._gap)
            self._index = np.empty(shape, dtype=np.uint8)  # the 8-bit mosaic, reused
        for item in self._labels:
            self._view.removeItem(item.parentItem())
        self._labels = []
        if self._labels_wanted and n_maps > 1:
            font = scaled_font(QFont(), _LABEL_POINTS)
            for i in range(n_maps):
                y, x = tile_origin(i, self._stack_shape, self._grid[1], self._gap)
                self._labels.append(_index_label(str(i), font, self._view, x, y))
        self.tiled = None
        self._image.clear()
        self._pending_autorange = True
        self.set_highlight(self._highlight)

    def set_highlight(self, index: int) -> None:
        """Outline map ``index`` (the selected one); -1 or a missing map hides the outline."""
        self._highlight = index
        if not 0 <= index < self._n_maps or self._rgb:
            self._outline.hide()
            self._halo.hide()
            return
        y, x = tile_origin(index, self._stack_shape, self._grid[1], self._gap)
        h, w = self._map_shape
        self._outline.setRect(x, y, w, h)
        self._halo.setRect(x, y, w, h)
        self._outline.show()
        self._halo.setVisible(presenting())

    @property
    def _stack_shape(self) -> tuple[int, int, int]:
        return (self._n_maps, *self._map_shape)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not hasattr(self, "_last"):
            return  # pyqtgraph resizes once inside its own __init__, before ours has run
        # A new widget shape may want another number of columns: re-lay out (not per frame).
        if self._n_maps and not self._rgb and self._last is not None:
            h, w = self._map_shape
            target = max(self.width(), 1) / max(self.height(), 1)
            if grid_shape(self._n_maps, aspect=w / h, target=target) != self._grid:
                last = self._last
                self.set_grid(self._n_maps, h, w)
                self.set_maps(*last)
        elif self._n_maps and not self._rgb and self.tiled is not None:
            h, w = self._map_shape
            target = max(self.width(), 1) / max(self.height(), 1)
            if grid_shape(self._n_maps, aspect=w / h, target=target) != self._grid:
                self.set_grid(self._n_maps, h, w)
                self.gridChanged.emit()  # a prepared mosaic was shown: its owner draws anew
        self._update_label_visibility()

    # -- pixels ------------------------------------------------------------------------------
    def set_maps(self, shown: np.ndarray, levels: tuple[float, float], colormap: str) -> None:
        """Tile ``shown`` ``(C, H, W)`` into the grid and display it (pixels only).

        ``levels`` are the values drawn with the first and the last colour of ``colormap``.
        After the call :attr:`tiled` holds the uint8 colour-table indices (0 in the gaps, 255
        where a value is NaN or infinite) and :attr:`nonfinite` how many such values there are.
        """
        if shown.shape[0] != self._n_maps or shown.shape[1:] != self._map_shape:
            self.set_grid(shown.shape[0], shown.shape[1], shown.shape[2])
        self._last = (shown, levels, colormap)
        self._index, self.nonfinite = indexed_mosaic(shown, levels, self._grid[1], self._gap,
                                                     out=self._index)
        self._show_indices(self._index, levels, colormap)

    def set_prepared(self, prepared) -> bool:
        """Show a :class:`~gui.mosaic_prepare.PreparedMosaic` made off the GUI thread as it is.

        Returns False (and shows nothing) when it was made for another grid than this one:
        the caller then draws the maps with :meth:`set_maps`.
        """
        request = prepared.request
        if (prepared.maps_shape != self._stack_shape or request.columns != self._grid[1]
                or request.gap != self._gap or self._rgb):
            return False
        self._last = None  # no values kept here: a new grid asks the owner (gridChanged)
        self.nonfinite = prepared.nonfinite
        self.levels = prepared.levels
        self.tiled = prepared.image
        # Already coloured: no levels, no table, so that Qt paints the pixels as they are.
        self._image.setImage(prepared.rgba, levels=None, lut=None, autoLevels=False)
        self._finish_first_frame()
        return True

    def _show_indices(self, image: np.ndarray, levels, colormap: str) -> None:
        self.levels = (float(levels[0]), float(levels[1]))
        self.tiled = image
        self._image.setImage(image, levels=(0, 255), lut=indexed_lookup_table(colormap),
                             autoLevels=False)
        self._finish_first_frame()

    def set_rgb(self, frame: np.ndarray) -> None:
        """Show an ``(H, W, 3)`` RGB or ``(H, W)`` gray uint8 image instead of maps."""
        h, w = frame.shape[:2]
        if not self._rgb or self._map_shape != (h, w):
            self.set_grid(0, h, w)
            self._rgb = True
            self._n_maps = 1
            self._grid = (1, 1)
        self.tiled = None
        self._image.setImage(np.ascontiguousarray(frame), levels=(0, 255), lut=None,
                             autoLevels=False)
        self._finish_first_frame()

    def _finish_first_frame(self) -> None:
        if self._pending_autorange:
            self._pending_autorange = False
            self._view.autoRange(padding=0.01)
            self._update_label_visibility()

    def _update_label_visibility(self, *_args) -> None:
        if not self._labels:
            return
        (x0, x1), _ = self._view.viewRange()
        width_px = max(self._view.width(), 1)
        tile_px = self._map_shape[1] * width_px / max(x1 - x0, 1e-9)
        visible = tile_px >= _MIN_TILE_PX_FOR_LABEL
        for label in self._labels:
            label.parentItem().setVisible(visible)

    # -- mouse ---------------------------------------------------------------------------------
    def map_at_view(self, x: float, y: float) -> tuple[int, int, int] | None:
        """The ``(map, x, y)`` at view coordinates, or None over a gap or outside."""
        if self._n_maps == 0 or x < 0 or y < 0:
            return None
        hit = map_at(y, x, self._stack_shape, self._grid[1], self._gap)
        if hit is None:
            return None
        index, my, mx = hit
        return index, mx, my

    def view_point(self, index: int, x: int, y: int) -> QPointF:
        """Scene position of pixel ``(x, y)`` of map ``index`` (for tests and tooltips)."""
        oy, ox = tile_origin(index, self._stack_shape, self._grid[1], self._gap)
        return self._view.mapViewToScene(QPointF(ox + x + 0.5, oy + y + 0.5))

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        p = self._view.mapSceneToView(scene_pos)
        hit = None
        if self._view.sceneBoundingRect().contains(scene_pos):
            hit = self.map_at_view(p.x(), p.y())
        if hit is None:
            self.mapHovered.emit(-1, -1, -1)
        else:
            self.mapHovered.emit(*hit)

    def _on_scene_mouse_clicked(self, event) -> None:
        right = event.button() == Qt.MouseButton.RightButton
        if (event.button() != Qt.MouseButton.LeftButton and not right) or self._rgb:
            return
        p = self._view.mapSceneToView(event.scenePos())
        hit = self.map_at_view(p.x(), p.y())
        if hit is not None and right:
            self.mapMenuRequested.emit(hit[0], event.screenPos().toPoint())
        elif hit is not None:
            self.mapClicked.emit(hit[0])


def as_maps(activation: np.ndarray) -> np.ndarray | None:
    """The activation as ``(C, H, W)`` maps, or None when it is a vector (drawn as bars).

    A ``(C, 1, 1)`` output (global average pooling) is a vector too: 1-pixel maps show nothing.
    """
    if activation.ndim == 2:
        return activation[None]  # (1, H, W)
    if activation.ndim == 3 and activation.shape[1] * activation.shape[2] > 1:
        return activation
    return None
