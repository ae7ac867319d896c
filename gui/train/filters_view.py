"""The Filters panel: the first layer's filters as colour pictures, and the maps of a chosen
layer on one fixed picture, redrawn a few times a second while the network learns; the epoch
scrubber shows the stored filters of earlier epochs."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.i18n import _
from gui.train.controller import controller_for
from gui.train.pictures import Redraw, ScaledPicture, StatusText

__all__ = ["TrainFiltersDock", "filter_mosaic", "maps_mosaic"]

GAP_COLOR = (60, 60, 60)


def _grid(tiles: np.ndarray, columns: int) -> np.ndarray:
    """(N, h, w, 3) uint8 tiles in rows of ``columns`` with a 1-pixel gap -> one picture."""
    n, h, w = tiles.shape[:3]
    rows = -(-n // columns)
    out = np.empty((rows * (h + 1) + 1, columns * (w + 1) + 1, 3), np.uint8)
    out[:] = GAP_COLOR
    for i in range(n):
        r, c = divmod(i, columns)
        out[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = tiles[i]
    return out


def filter_mosaic(weight: np.ndarray) -> np.ndarray:
    """Every filter of a first layer (C_out, C_in, kh, kw) as one picture: RGB filters in
    colour, gray ones in gray, each scaled to its own range.

    >>> filter_mosaic(np.random.default_rng(0).normal(size=(8, 3, 5, 5))).shape
    (13, 25, 3)
    """
    from gui.docks.filters import filter_tiles

    w = np.asarray(weight)
    if w.shape[1] not in (1, 3):
        w = w.mean(axis=1, keepdims=True)
    tiles = filter_tiles(w)  # (C_out, kh, kw, 3)
    columns = int(np.ceil(np.sqrt(len(tiles) * 2)))  # wider than tall: a panel is wide
    return _grid(tiles, min(columns, len(tiles)))


def maps_mosaic(maps: np.ndarray, colormap: str = "viridis") -> np.ndarray:
    """(C, H, W) maps, each scaled to its own range, tiled and coloured -> (h, w, 3) uint8."""
    from engine.io.mosaic import tile_maps
    from gui.colormaps import lookup_table

    m = np.asarray(maps, np.float32)
    lo = m.min(axis=(1, 2), keepdims=True)
    span = m.max(axis=(1, 2), keepdims=True) - lo
    unit = np.where(span > 0, (m - lo) / np.where(span > 0, span, 1), 0.5)
    tiled = tile_maps(unit, gap=1)
    lut = lookup_table(colormap)[:, :3]
    index = np.clip(np.nan_to_num(tiled, nan=0.0) * 255, 0, 255).astype(np.uint8)
    out = lut[index]
    out[np.isnan(tiled)] = GAP_COLOR
    return out


class TrainFiltersDock(QWidget):
    """The Filters panel (registered as "train_filters")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.controller = c = controller_for(session, live)
        self.filters_caption = QLabel()
        self.filters_caption.setWordWrap(True)
        self.filters = ScaledPicture(min_side=80)
        self.filters.setToolTip(_("Each filter of the first convolution as a small picture,"
                                  " as it is now: the random start still shows through"))
        self.change = ScaledPicture(min_side=80)
        self.change.setToolTip(_("What training has added to each filter: the filter now"
                                 " minus the filter at the start. The random start cancels"
                                 " out, and the edge and colour detectors that training"
                                 " builds show"))
        self.now_label, self.change_label = QLabel(), QLabel()
        pictures = QHBoxLayout()
        for label, picture in ((self.now_label, self.filters), (self.change_label, self.change)):
            column = QVBoxLayout()
            column.addWidget(label)
            column.addWidget(picture, 1)
            pictures.addLayout(column, 1)
        self.probe = ScaledPicture(min_side=64)
        self.probe.setMaximumWidth(96)
        self.probe.setToolTip(_("A fixed picture from the validation data: the maps on the"
                                " right are what the network makes of it"))
        self.prediction = StatusText(lines=4)
        self.prediction.setFixedWidth(96)
        self.layer = QComboBox()
        self.layer.setToolTip(_("The layer whose maps are shown"))
        self.layer.activated.connect(lambda _i: self.redraw())
        self.maps = ScaledPicture(min_side=96)
        self.maps.setToolTip(_("Every map of the chosen layer for the fixed picture, each"
                               " scaled to its own range (viridis: dark low, yellow high)"))
        probe_column = QVBoxLayout()
        probe_column.addWidget(self.probe)
        probe_column.addWidget(self.prediction)
        probe_column.addStretch(1)
        maps_column = QVBoxLayout()
        maps_column.addWidget(self.layer)
        maps_column.addWidget(self.maps, 1)
        row = QHBoxLayout()
        row.addLayout(probe_column)
        row.addLayout(maps_column, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters_caption)
        layout.addLayout(pictures, 2)
        layout.addLayout(row, 3)
        self._structure = None  # (node names) the layer combo was filled for
        self._redraw = Redraw(self, self.redraw, delay_ms=60, min_ms=400)
        c.snapshotUpdated.connect(self._redraw.request)
        c.runChanged.connect(self.redraw)
        c.replayChanged.connect(self.redraw)
        self.redraw()

    def learn_for_tour(self, steps: int = 80) -> None:
        """The tour's "How filters learn": train the shapes network (fresh weights) on drawn
        shapes for a few seconds, and pause (the tour calls this)."""
        from engine.train.config import TrainConfig

        c = self.controller
        if c.locked:
            c.reset()
        c.set_plan(data="shapes", samples=1200, network="small",
                   config=TrainConfig(epochs=10, batch_size=32, lr=0.003, seed=0))
        c.start(max_steps=steps)

    def _fill_layers(self, snapshot) -> None:
        names = tuple(name for name, a in snapshot.activations.items() if np.ndim(a) == 3)
        if names == self._structure:
            return
        self._structure = names
        current = self.layer.currentText()
        self.layer.blockSignals(True)
        self.layer.clear()
        for name in names:
            self.layer.addItem(name)
        if current in names:
            self.layer.setCurrentText(current)
        self.layer.blockSignals(False)

    def redraw(self, *_args) -> None:
        c = self.controller
        s = c.latest
        stored = s.epoch_filters
        weight, when = s.filters, _("now")
        if c.replay is not None and c.replay < len(stored):
            epoch, step, weight = stored[c.replay]
            when = _("after epoch {epoch} (step {step})").format(epoch=epoch, step=step)
            if step == 0:
                when = _("at the start (random weights)")
        if weight is None:
            self.filters.set_picture(None)
            self.change.set_picture(None)
            self.now_label.setText("")
            self.change_label.setText("")
            self.filters_caption.setText(_("The first layer's filters appear here when a run"
                                           " starts."))
        else:
            n, c_in, kh, kw = weight.shape
            start_step, start = stored[0][1], stored[0][2]
            self.filters.set_picture(filter_mosaic(weight))
            self.change.set_picture(filter_mosaic(weight - start))
            self.now_label.setText(_("the filters {when}").format(when=when))
            self.change_label.setText(_("minus their start: what was learned") if start_step == 0
                                      else _("minus step {step}: what was learned").format(
                                          step=start_step))
            self.filters_caption.setText(_(
                "First layer: {n} filters of {kh} x {kw} x {c}, each scaled to its own range."
            ).format(n=n, kh=kh, kw=kw, c=c_in))
        self._fill_layers(s)
        maps = s.activations.get(self.layer.currentText())
        self.maps.set_picture(None if maps is None else maps_mosaic(maps))
        self.probe.set_picture(s.probe)
        self.prediction.setText(self._prediction(s))

    def _prediction(self, s) -> str:
        if s.probe_probs is None or not s.class_names or s.probe_label < 0:
            return ""
        probs = s.probe_probs
        if not np.isfinite(probs).all():
            return _("no prediction (the scores are not numbers)")
        best = int(np.argmax(probs))
        return _("{true}: the network says {guess} ({p:.0%})").format(
            true=s.class_names[s.probe_label], guess=s.class_names[best], p=probs[best])
