"""All filters of a conv layer as small images (the colour bar beside them: diverging_colorbar).

One row per filter, one column per input channel, and (for 3 input channels) a colour
column that shows each filter as an RGB picture, the way cs231n shows first-layer filters.
The whole grid is built as one RGB array with numpy and painted as a single QImage, so a
layer with hundreds of kernels still repaints in a few milliseconds.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QToolTip, QWidget

from engine.i18n import _
from gui.colormaps import diverging_rgb
from gui.ui_scale import halo_pen, outline_pen, px

_BACKGROUND = (60, 60, 60)
_GAP = 4  # dark line between kernels, in screen pixels
MIN_VISIBLE_ROWS = 4  # filters the grid view always has room for; the rest scroll


def channel_label(channel: int, in_channels: int) -> str:
    """Short header for an input channel: R, G, B for colour input, else its index."""
    if in_channels == 3:
        return "RGB"[channel]
    return _("in {channel}").format(channel=channel)


def filter_as_rgb(kernel: np.ndarray) -> np.ndarray:
    """One 3-channel filter as a picture, scaled to [0, 1] on its own (cs231n style).

    Parameters
    ----------
    kernel : np.ndarray
        (3, kh, kw) weights.

    Returns
    -------
    np.ndarray
        (kh, kw, 3) uint8.
    """
    img = np.transpose(kernel, (1, 2, 0)).astype(np.float64)  # (kh, kw, 3)
    lo, hi = img.min(), img.max()
    img = (img - lo) / (hi - lo) if hi > lo else np.full_like(img, 0.5)
    return np.round(img * 255).astype(np.uint8)


class KernelGrid(QWidget):
    """Paints every kernel of one conv weight; click a cell to pick filter and channel.

    Signals
    -------
    cellClicked(int, int)
        (filter, input channel); the channel is -1 for a click on the colour column.
    """

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._weight = np.zeros((0, 0, 1, 1), np.float32)
        self._scale = 1.0
        self._selected = (0, 0)
        self._image: QImage | None = None
        self._buffer: np.ndarray | None = None  # keeps the QImage's memory alive
        self._pix = 8
        self._available: QSize | None = None
        self.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Minimum)
        self.setMouseTracking(False)
        self.setToolTip(_("Click a kernel to edit it below."))

    # ----- data -------------------------------------------------------------------------
    @property
    def scale(self) -> float:
        """The shared colour scale: the largest absolute weight of the layer."""
        return self._scale

    @property
    def has_color_column(self) -> bool:
        """True when each filter has 3 input channels and gets an RGB picture."""
        return self._weight.shape[1] == 3

    def set_weight(self, weight: np.ndarray) -> None:
        """Show a new weight array of shape (C_out, C_in, kh, kw)."""
        self._weight = np.asarray(weight, dtype=np.float32)
        self._scale = float(np.abs(self._weight).max()) if self._weight.size else 1.0
        if self._scale == 0.0:
            self._scale = 1.0
        self._relayout()

    def fit(self, available: QSize) -> None:
        """Grow the kernel pixels while the whole grid still fits in ``available``."""
        self._available = QSize(available)
        self._relayout()

    def _base_pixel(self) -> int:
        _, _, kh, kw = self._weight.shape
        # Small kernels get big pixels, large kernels small ones, so cells stay about 30-50 px.
        return int(np.clip(px(42) // max(kh, kw), 3, px(14)))

    def base_cell_height(self) -> int:
        """Height of one row of kernels at the smallest pixel size the grid uses."""
        return self._weight.shape[2] * self._base_pixel() + _GAP

    def _choose_pixel(self) -> int:
        _, _, kh, kw = self._weight.shape
        base = self._base_pixel()
        if self._available is None or self._weight.shape[0] == 0:
            return base
        left, top = self._margins()
        width = (self._available.width() - left - 6) / self._n_columns() - _GAP
        height = (self._available.height() - top - 6) / self._weight.shape[0] - _GAP
        fitting = int(min(width / kw, height / kh))
        # Few filters: show them large (up to 28 px a weight); many: keep the base and scroll.
        return max(base, min(fitting, px(28)))

    def _relayout(self) -> None:
        self._pix = self._choose_pixel()
        self._build_image()
        self.updateGeometry()
        # Inside a non-resizing scroll area the widget must take its own size.
        self.resize(self.sizeHint())
        self.update()

    def set_selected(self, filter_index: int, channel: int) -> None:
        """Highlight one filter (row) and one input channel (column)."""
        self._selected = (filter_index, channel)
        self.update()

    # ----- geometry ---------------------------------------------------------------------
    def _cell(self) -> tuple[int, int]:
        _, _, kh, kw = self._weight.shape
        return kh * self._pix + _GAP, kw * self._pix + _GAP

    def _margins(self) -> tuple[int, int]:
        # Labels live in the view's fixed rulers, so they stay visible while scrolling.
        return 3, 3

    def column_labels(self) -> list[str]:
        """Header text of every column: the input channels, then "color" if there is one."""
        c_in = self._weight.shape[1]
        return [channel_label(c, c_in) for c in range(c_in)] + (
            [_("color")] if self.has_color_column else [])

    def row_count(self) -> int:
        """Number of filters (rows)."""
        return self._weight.shape[0]

    def cell_size(self) -> tuple[int, int]:
        """(height, width) of one cell including the gap, in pixels."""
        return self._cell()

    def _n_columns(self) -> int:
        return self._weight.shape[1] + (1 if self.has_color_column else 0)

    def sizeHint(self) -> QSize:
        ch, cw = self._cell()
        left, top = self._margins()
        return QSize(left + self._n_columns() * cw + 4, top + self._weight.shape[0] * ch + 4)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def cell_rect(self, filter_index: int, channel: int) -> QRect:
        """Where a kernel is drawn, in widget coordinates (channel -1: the colour column)."""
        ch, cw = self._cell()
        left, top = self._margins()
        col = self._weight.shape[1] if channel < 0 else channel
        return QRect(left + col * cw, top + filter_index * ch, cw, ch)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        """(filter, channel) under a widget position; channel -1 on the colour column."""
        ch, cw = self._cell()
        left, top = self._margins()
        col, row = (pos.x() - left) // cw, (pos.y() - top) // ch
        if pos.x() < left or pos.y() < top:
            return None
        if not (0 <= row < self._weight.shape[0] and 0 <= col < self._n_columns()):
            return None
        return int(row), (-1 if col == self._weight.shape[1] else int(col))

    # ----- rendering --------------------------------------------------------------------
    def _build_image(self) -> None:
        c_out, c_in, kh, kw = self._weight.shape
        if c_out == 0 or c_in == 0:
            self._image = None
            return
        cells = diverging_rgb(self._weight, self._scale)  # (C_out, C_in, kh, kw, 3)
        if self.has_color_column:
            rgb = np.stack([filter_as_rgb(f) for f in self._weight])  # (C_out, kh, kw, 3)
            cells = np.concatenate([cells, rgb[:, None]], axis=1)  # (C_out, C_in+1, kh, kw, 3)
        p = self._pix
        cells = cells.repeat(p, axis=2).repeat(p, axis=3)  # (R, C, kh*p, kw*p, 3)
        pad = ((0, 0), (0, 0), (0, _GAP), (0, _GAP), (0, 0))
        cells = np.pad(cells, pad)
        cells[:, :, kh * p:, :, :] = _BACKGROUND
        cells[:, :, :, kw * p:, :] = _BACKGROUND
        rows, cols, hh, ww, _ = cells.shape
        img = cells.transpose(0, 2, 1, 3, 4).reshape(rows * hh, cols * ww, 3)  # (H, W, 3)
        self._buffer = np.ascontiguousarray(img)
        h, w, _ = self._buffer.shape
        self._image = QImage(self._buffer.data, w, h, 3 * w, QImage.Format.Format_RGB888)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(*_BACKGROUND))
        if self._image is None:
            painter.end()
            return
        c_out, c_in, _, _ = self._weight.shape
        ch, cw = self._cell()
        left, top = self._margins()
        painter.drawImage(QPoint(left, top), self._image)
        f, c = self._selected
        if 0 <= f < c_out:
            painter.setPen(QPen(QColor(255, 200, 0), 1))
            painter.drawRect(left - 1, top + f * ch - 1, self._n_columns() * cw, ch)
            if 0 <= c < c_in:
                halo = halo_pen(3)
                if halo is not None:  # presenter mode: dark under the bright outline
                    painter.setPen(halo)
                    painter.drawRect(left + c * cw - 1, top + f * ch - 1, cw, ch)
                painter.setPen(outline_pen(QColor(255, 200, 0), 3))
                painter.drawRect(left + c * cw - 1, top + f * ch - 1, cw, ch)
        painter.end()

    # ----- interaction ------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position().toPoint())
        if hit is not None:
            self.cellClicked.emit(*hit)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.FontChange:  # the interface scale changed
            self._relayout()
        super().changeEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.cell_at(event.pos())
            if hit is None:
                QToolTip.showText(event.globalPos(), self.toolTip(), self)
                return True
            f, c = hit
            if c < 0:
                text = _(
                    "filter {f} as a color picture (scaled to its own range); click to select"
                ).format(f=f)
            else:
                k = self._weight[f, c]
                text = (_(
                    "filter {f}, input {channel_label}: min {min:.3g}, max {max:.3g}; click "
                    "to edit"
                ).format(
                    f=f, channel_label=channel_label(c, self._weight.shape[1]), min=k.min(),
                    max=k.max()
                ))
            QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)


class _Ruler(QWidget):
    """Row numbers (left) or column names (top) of a KernelGridView, fixed while scrolling."""

    def __init__(self, view: KernelGridView, horizontal: bool) -> None:
        super().__init__(view)
        self._view = view
        self._horizontal = horizontal
        self.setToolTip(_("Columns: input channels (and the filter as a color picture).")
                        if horizontal else _("Rows: filters, numbered like the maps they make."))

    def paintEvent(self, event) -> None:
        grid = self._view.grid
        ch, cw = grid.cell_size()
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(*_BACKGROUND))
        painter.setPen(QColor(230, 230, 230))
        fm = self.fontMetrics()
        left, top = grid._margins()
        viewport = self._view.viewport()
        if self._horizontal:
            x0 = viewport.x() - self.x() + grid.x() + left
            for col, text in enumerate(grid.column_labels()):
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, cw)
                painter.drawText(QRect(x0 + col * cw, 0, cw - _GAP, self.height()),
                                 Qt.AlignmentFlag.AlignCenter, text)
        else:
            y0 = viewport.y() - self.y() + grid.y() + top
            for row in range(grid.row_count()):
                painter.drawText(QRect(0, y0 + row * ch, self.width() - 4, ch - _GAP),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 str(row))
        painter.end()


class KernelGridView(QScrollArea):
    """A scroll area around a :class:`KernelGrid` that enlarges the grid to its own size,
    with row numbers and column names that stay in view while scrolling."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = KernelGrid()
        self.setWidget(self.grid)
        self.setWidgetResizable(False)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setToolTip(self.grid.toolTip())
        # Dark around the grid too, so small grids do not float on a light background.
        palette = self.viewport().palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(*_BACKGROUND))
        self.viewport().setPalette(palette)
        self.viewport().setAutoFillBackground(True)
        self._top = _Ruler(self, horizontal=True)
        self._left = _Ruler(self, horizontal=False)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(self._update_rulers)
        self._place_rulers()

    def set_weight(self, weight: np.ndarray) -> None:
        """Show a new (C_out, C_in, kh, kw) weight and relabel the rulers."""
        self.grid.set_weight(weight)
        self._place_rulers()
        self.updateGeometry()

    def _height_for_rows(self, rows: int) -> int:
        # Taken at the grid's smallest pixel size, not its current one, so that growing the
        # pixels to fit never raises the wanted size (and the dock) in a loop.
        rows = min(max(self.grid.row_count(), 1), rows)
        return (self.fontMetrics().height() + 6 + rows * self.grid.base_cell_height()
                + 6 + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        """Room for two rows of kernels (one when there is one filter); more rows scroll."""
        hint = super().minimumSizeHint()
        return QSize(hint.width(), max(hint.height(), self._height_for_rows(MIN_VISIBLE_ROWS)))

    def sizeHint(self) -> QSize:
        """Room for up to five rows of kernels, so the grid asks for its share of a column."""
        hint = super().sizeHint()
        return QSize(hint.width(), max(hint.height(), self._height_for_rows(5)))

    def _place_rulers(self) -> None:
        fm = self.fontMetrics()
        left = fm.horizontalAdvance(str(max(self.grid.row_count() - 1, 0))) + 10
        top = fm.height() + 6
        self.setViewportMargins(left, top, 0, 0)
        frame = self.frameWidth()
        viewport = self.viewport().geometry()
        # The top ruler also covers the corner above the row numbers.
        self._top.setGeometry(frame, frame, viewport.right() + 1 - frame, top)
        self._left.setGeometry(frame, viewport.y(), left, viewport.height())
        self._update_rulers()

    def _update_rulers(self) -> None:
        self._top.update()
        self._left.update()

    def show_cell(self, filter_index: int, channel: int) -> None:
        """Scroll so that a kernel is in view."""
        rect = self.grid.cell_rect(filter_index, channel)
        self.ensureVisible(rect.center().x(), rect.center().y(),
                           rect.width() // 2 + 4, rect.height() // 2 + 4)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.FontChange:  # the interface scale changed
            self._place_rulers()
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.grid.fit(self.viewport().size())
        self._place_rulers()
