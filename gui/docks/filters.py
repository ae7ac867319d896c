"""Filter gallery dock: the learned filters of the current network as pictures.

The first convolution of a color network shows each filter as one small RGB picture (the
cs231n picture of edge and color detectors); a gray network's filters are gray pictures.
Deeper layers have one kernel per input channel: rows are filters, columns input channels,
drawn with the kernels dock's diverging colors and paged 16 x 16 at a time. A click enlarges
a filter and lists its values.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.ui_scale import scaled
from gui.widgets.kernel_grid import diverging_rgb
from gui.widgets.tile_grid import BACKGROUND, GAP, TileGrid, _ResizingScrollArea

PAGE = 16  # filters (rows) and input channels (columns) per page of the per-channel view
NO_CONV = (N_("This network has no convolution layer, so it has no filters to show. The "
           "bundled shapes classifier (File > Bundled pipelines > Shapes) has three."))


def conv_layers(pipeline) -> list[tuple[int, str, np.ndarray]]:
    """(node index, node name, weight (C_out, C_in/groups, kh, kw)) of every convolution."""
    found = []
    for i, node in enumerate(pipeline.nodes):
        weight = getattr(node.layer, "weight", None)
        if node.layer.type_name == "Conv2d" and isinstance(weight, np.ndarray) and weight.ndim == 4:
            found.append((i, node.name, weight))
    return found


def scaled_to_unit(values: np.ndarray) -> np.ndarray:
    """Values mapped linearly to [0, 1] by their own minimum and maximum (flat -> 0.5)."""
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.full(values.shape, 0.5)
    return (values - lo) / (hi - lo)


def filter_tiles(weight: np.ndarray, shared_scale: bool = False) -> np.ndarray:
    """Each filter as a picture, (C_out, kh, kw, 3) uint8; needs 1 or 3 input channels.

    A 3-channel filter becomes RGB with its three channels scaled jointly to [0, 1] (so its
    colors keep their balance); a 1-channel filter becomes gray. ``shared_scale`` uses one
    range for the whole layer instead, so weak filters look weak.
    """
    w = np.asarray(weight, dtype=np.float64)
    if w.shape[1] not in (1, 3):
        raise ValueError(_("a filter picture needs 1 or 3 input channels, not {shape}")
                           .format(shape=w.shape[1]))
    if shared_scale:
        unit = scaled_to_unit(w)
    else:
        unit = np.stack([scaled_to_unit(f) for f in w]) if len(w) else w
    pictures = unit.transpose(0, 2, 3, 1)  # (C_out, kh, kw, C_in)
    if pictures.shape[3] == 1:
        pictures = np.repeat(pictures, 3, axis=3)
    return np.round(pictures * 255).astype(np.uint8)




class FilterGalleryDock(QWidget):
    """Every filter of a chosen conv layer; the first one by default."""

    def __init__(self, session, live, parent=None):
        super().__init__(parent)
        self.session, self.live = session, live
        self.convs: list[tuple[int, str, np.ndarray]] = []
        self.filter_page = 0
        self.channel_page = 0
        self.selected = 0  # filter index shown in the detail
        self._build()
        session.pipeline_changed.connect(self._on_session_pipeline_changed)
        self._on_session_pipeline_changed(session.pipeline)

    # -- widgets ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip(_("Which convolution layer's filters to show"))
        self.layer_combo.currentIndexChanged.connect(self._on_layer_chosen)
        self.shared = QCheckBox(_("One scale for the layer"))
        self.shared.setToolTip(_("Scale every filter by the layer's range (weak filters look"
                               " dim) instead of each by its own"))
        self.shared.toggled.connect(self._refresh)
        self.per_channel = QCheckBox(_("Per input channel"))
        self.per_channel.setToolTip(_("One kernel per input channel: rows are filters, columns"
                                    " input channels"))
        self.per_channel.toggled.connect(self._refresh)
        top = QHBoxLayout()
        top.addWidget(self.layer_combo, 1)
        top.addWidget(self.shared)
        top.addWidget(self.per_channel)
        self.grid = TileGrid()
        self.grid.cellClicked.connect(self._on_grid_clicked)
        scroll = _ResizingScrollArea()
        scroll.resized.connect(self._on_scroll_resized)
        scroll.setWidget(self.grid)
        scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.scroll = scroll
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.prev_filters = QPushButton(_("< Filters"))
        self.next_filters = QPushButton(_("Filters >"))
        self.prev_channels = QPushButton(_("< Channels"))
        self.next_channels = QPushButton(_("Channels >"))
        for button, tip in (
            (self.prev_filters, _("Show the previous {PAGE} filters (rows)").format(PAGE=PAGE)),
            (self.next_filters, _("Show the next {PAGE} filters (rows)").format(PAGE=PAGE)),
            (self.prev_channels, _("Show the previous {PAGE} input channels (columns)")
                                   .format(PAGE=PAGE)),
            (self.next_channels, _("Show the next {PAGE} input channels (columns)")
                                   .format(PAGE=PAGE)),
        ):
            button.setToolTip(tip)
        for button, step in ((self.prev_filters, (-1, 0)), (self.next_filters, (1, 0)),
                             (self.prev_channels, (0, -1)), (self.next_channels, (0, 1))):
            button.clicked.connect(lambda _=False, s=step: self.turn_page(*s))
        paging = QHBoxLayout()
        for button in (self.prev_filters, self.next_filters, self.prev_channels,
                       self.next_channels):
            paging.addWidget(button)
        paging.addStretch(1)
        self.detail_image = QLabel()
        scaled(self.detail_image.setFixedSize, 120, 120)
        self.detail_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail_text = QLabel()
        self.detail_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        font = self.detail_text.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.detail_text.setFont(font)
        detail_scroll = QScrollArea()
        detail_scroll.setWidget(self.detail_text)
        detail_scroll.setWidgetResizable(True)
        detail = QHBoxLayout()
        detail.addWidget(self.detail_image, 0, Qt.AlignmentFlag.AlignTop)
        detail.addWidget(detail_scroll, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(scroll, 3)
        layout.addLayout(paging)
        layout.addLayout(detail, 2)

    # -- state --------------------------------------------------------------------------------
    @property
    def weight(self) -> np.ndarray | None:
        i = self.layer_combo.currentIndex()
        return self.convs[i][2] if 0 <= i < len(self.convs) else None

    @property
    def mode(self) -> str:
        """"color", "gray" (one picture per filter) or "channels" (one per input channel)."""
        w = self.weight
        if w is None or self.per_channel.isChecked() or w.shape[1] not in (1, 3):
            return "channels"
        return "color" if w.shape[1] == 3 else "gray"

    def _on_session_pipeline_changed(self, pipeline) -> None:
        old = self.layer_combo.currentText().split(" ", 1)[0]
        self.convs = conv_layers(pipeline)
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for _index, name, w in self.convs:
            c_out, c_in, kh, kw = w.shape
            self.layer_combo.addItem(_("{name}  ({c_out} filters of {c_in} x {kh} x {kw})")
                                       .format(name=name, c_out=c_out, c_in=c_in, kh=kh, kw=kw))
        names = [name for _, name, _ in self.convs]
        self.layer_combo.setCurrentIndex(names.index(old) if old in names else 0)
        self.layer_combo.blockSignals(False)
        self.filter_page = self.channel_page = 0
        self.selected = 0
        self._refresh()

    def _on_layer_chosen(self, _index: int) -> None:
        self.filter_page = self.channel_page = 0
        self.selected = 0
        self._refresh()

    def pages(self) -> tuple[int, int]:
        """How many pages of filters and of input channels the current layer has."""
        w = self.weight
        if w is None:
            return 0, 0
        if self.mode != "channels":
            return 1, 1
        return -(-w.shape[0] // PAGE), -(-w.shape[1] // PAGE)

    def turn_page(self, filters: int, channels: int) -> None:
        """Move ``filters`` pages down and ``channels`` pages right (clamped)."""
        n_f, n_c = self.pages()
        self.filter_page = int(np.clip(self.filter_page + filters, 0, max(n_f - 1, 0)))
        self.channel_page = int(np.clip(self.channel_page + channels, 0, max(n_c - 1, 0)))
        self._refresh()

    def _refresh(self, *_args) -> None:
        w = self.weight
        has = w is not None
        for widget in (self.layer_combo, self.shared, self.scroll):
            widget.setVisible(has)
        self.per_channel.setVisible(has and w.shape[1] in (1, 3))
        if not has:
            self.caption.setText(_(NO_CONV))
            self._set_paging(False, False)
            self.detail_image.clear()
            self.detail_text.clear()
            return
        c_out, c_in, kh, kw = w.shape
        if self.mode != "channels":
            tiles = filter_tiles(w, self.shared.isChecked())  # (C_out, kh, kw, 3)
            cols = int(np.ceil(np.sqrt(c_out)))
            rows = -(-c_out // cols)
            grid = np.empty((rows * cols, kh, kw, 3), np.uint8)
            grid[:] = BACKGROUND
            grid[:c_out] = tiles
            self.grid.set_tiles(grid.reshape(rows, cols, kh, kw, 3), self._target(rows, cols))
            how = _("its 3 channels as red, green and blue") if self.mode == "color" else _("gray")
            scale = (_("one range for the layer") if self.shared.isChecked()
                     else _("each to its own range"))
            self.caption.setText(_(
                "All {c_out} filters of {kh} x {kw}, each as a picture ({how}; {scale}). "
                "Click one to enlarge it."
            ).format(c_out=c_out, kh=kh, kw=kw, how=how, scale=scale))
            self._set_paging(False, False)
        else:
            f0, c0 = self.filter_page * PAGE, self.channel_page * PAGE
            part = w[f0 : f0 + PAGE, c0 : c0 + PAGE]  # (rows, cols, kh, kw)
            scale = float(np.abs(w).max()) or 1.0
            self.grid.set_tiles(diverging_rgb(part, scale), self._target(*part.shape[:2]))
            f1, c1 = f0 + part.shape[0], c0 + part.shape[1]
            self.caption.setText(
                _(
                    "Showing filters {f0}-{value} of {c_out} (rows) and input channels "
                    "{c0}-{value2} of {c_in} (columns); blue negative, red positive, white "
                    "zero (scale +-{scale:.3g})."
                ).format(
                    f0=f0, value=f1 - 1, c_out=c_out, c0=c0, value2=c1 - 1, c_in=c_in, scale=scale
                ))
            n_f, n_c = self.pages()
            self._set_paging(n_f > 1, n_c > 1)
        self.selected = min(self.selected, c_out - 1)
        self._show_detail(self.selected)

    def _target(self, rows: int, cols: int) -> int:
        """Tile size (pixels) that lets the grid fill the visible area, within 24-96."""
        view = self.scroll.size()  # not the viewport: it shrinks when scroll bars appear
        # Leave room for scroll bars, which appear once the grid is larger than the view.
        fit = min((view.width() - 24) // cols, (view.height() - 24) // rows) - GAP
        return int(np.clip(fit, 24, 96))

    def _on_scroll_resized(self) -> None:
        if self.weight is not None:
            self._refresh()

    def _set_paging(self, filters: bool, channels: bool) -> None:
        n_f, n_c = self.pages()
        for button, shown, enabled in (
                (self.prev_filters, filters, self.filter_page > 0),
                (self.next_filters, filters, self.filter_page < n_f - 1),
                (self.prev_channels, channels, self.channel_page > 0),
                (self.next_channels, channels, self.channel_page < n_c - 1)):
            button.setVisible(shown)
            button.setEnabled(enabled)

    def _on_grid_clicked(self, row: int, col: int) -> None:
        if self.mode == "channels":
            index = self.filter_page * PAGE + row
        else:
            index = row * self.grid.shape[1] + col
        if index < self.weight.shape[0]:
            self.selected = index
            self._show_detail(index)

    def _show_detail(self, index: int) -> None:
        """Enlarge filter ``index`` and list its values, one block per input channel."""
        if self.mode == "channels":
            row = index - self.filter_page * PAGE
            self.grid.set_selected((row, -1) if 0 <= row < self.grid.shape[0] else None)
        else:
            self.grid.set_selected(divmod(index, self.grid.shape[1]))
        w = self.weight[index]  # (C_in, kh, kw)
        if w.shape[0] in (1, 3):
            picture = filter_tiles(w[None], False)[0]  # (kh, kw, 3)
        else:
            picture = diverging_rgb(w.mean(axis=0), float(np.abs(w).max()) or 1.0)
        self._detail_buffer = np.ascontiguousarray(picture)
        h, wd = picture.shape[:2]
        image = QImage(self._detail_buffer.data, wd, h, 3 * wd, QImage.Format.Format_RGB888)
        size = self.detail_image.size()
        self.detail_image.setPixmap(_scaled(image, size))
        names = ((_("R"), _("G"), _("B")) if w.shape[0] == 3 else
                 tuple(_("in {c}").format(c=c) for c in range(len(w))))
        shown = w[:8]
        lines = [_(
            "filter {index}: {shape} x {shape2} x {shape3}, min {min:.3g}, max {max:.3g}"
        ).format(
            index=index, shape=w.shape[0], shape2=w.shape[1], shape3=w.shape[2], min=w.min(),
            max=w.max()
        )]
        for name, kernel in zip(names, shown, strict=False):
            lines.append(f"{name}:")
            lines += ["  " + " ".join(f"{v:+.3f}" for v in row) for row in kernel[:11, :11]]
        if len(w) > len(shown):
            lines.append(_("(first {n} of {n2} input channels listed)")
                           .format(n=len(shown), n2=len(w)))
        if w.shape[1] > 11 or w.shape[2] > 11:
            lines.append(_("(first 11 x 11 values listed)"))
        if w.shape[0] not in (1, 3):
            lines.insert(1, _("picture: the mean over input channels"))
        self.detail_text.setText("\n".join(lines))


def _scaled(image: QImage, size: QSize):
    """The image enlarged without smoothing (each weight stays a sharp square)."""
    pixmap = QPixmap.fromImage(image)
    return pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.FastTransformation)

