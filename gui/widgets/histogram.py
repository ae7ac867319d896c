"""Small plots of values: a histogram of one map and a bar chart of a feature vector."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from engine.i18n import _
from gui.colormaps import NONFINITE_RGB, nonfinite_mask

_BINS = 64
_BRUSH = (90, 140, 220)
_NONFINITE_BRUSH = NONFINITE_RGB


def value_histogram(values: np.ndarray, bins: int = _BINS) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin edges of the finite values; a flat array gets one bin around its value.

    Returns
    -------
    counts : numpy.ndarray
        ``(bins,)`` int.
    edges : numpy.ndarray
        ``(bins + 1,)`` float.
    """
    values = np.asarray(values, dtype=np.float32).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.zeros(1, dtype=np.int64), np.array([0.0, 1.0])
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        # np.histogram would make 64 empty bins around one value; one wide bar reads better.
        return np.array([values.size]), np.array([lo - 0.5, lo + 0.5])
    return np.histogram(values, bins=bins, range=(lo, hi))


class HistogramView(pg.PlotWidget):
    """How often each value occurs in one map (a stepped outline, filled)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setLabel("bottom", "value")
        self.setLabel("left", "pixels")
        for axis in ("bottom", "left"):
            self.getAxis(axis).enableAutoSIPrefix(False)
        self.setToolTip(_("Histogram: how many pixels of this map have each value."))
        self._curve = self.plot(
            [0.0, 1.0], [0], stepMode="center", fillLevel=0, brush=(90, 140, 220, 160),
            pen=pg.mkPen((140, 180, 240), width=1),
        )
        self.counts = np.zeros(0, dtype=np.int64)
        self.edges = np.zeros(0)

    def set_values(self, values: np.ndarray, skip_zeros: bool = False) -> None:
        """Recount and redraw for new values (any shape).

        ``skip_zeros`` leaves exact zeros out (after a ReLU they can be 90% of a map and
        flatten every other bar); the title then says how many were left out.
        """
        values = np.asarray(values)
        title = ""
        if skip_zeros:
            nonzero = values[values != 0]
            if nonzero.size < values.size:
                share = 1 - nonzero.size / max(values.size, 1)
                title = _("zeros left out ({share:.1%})").format(share=share)
                values = nonzero
        self.setTitle(title or None, size="8pt")
        self.counts, self.edges = value_histogram(values)
        self._curve.setData(self.edges, self.counts)


class BarChart(pg.PlotWidget):
    """A feature vector (a Linear, Flatten or Softmax output) as one bar per feature.

    Signals
    -------
    barHovered(int)
        The feature index under the mouse, or -1.
    """

    barHovered = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setLabel("bottom", "feature")
        self.setLabel("left", "value")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.showGrid(y=True, alpha=0.25)
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=_BRUSH,
                                     pen=pg.mkPen(None))
        self.addItem(self._bars)
        self._n = 0
        self.nonfinite = 0
        self.values = np.zeros(0, dtype=np.float32)
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    def set_values(self, values: np.ndarray) -> None:
        """Show ``values`` ``(F,)``; the x positions are rebuilt only when F changes.

        A NaN or infinite value is drawn as a full-height bar in the colour no colormap uses
        (:data:`gui.colormaps.NONFINITE_RGB`); :attr:`nonfinite` counts them.
        """
        self.values = np.ascontiguousarray(values, dtype=np.float32).ravel()
        mask = nonfinite_mask(self.values)
        self.nonfinite = 0 if mask is None else int(np.count_nonzero(mask))
        heights, brushes = self.values, None
        if mask is not None:
            top = float(np.abs(self.values[~mask]).max()) if self.nonfinite < mask.size else 1.0
            heights = np.where(mask, top or 1.0, self.values)
            brushes = [_NONFINITE_BRUSH if bad else _BRUSH for bad in mask.tolist()]
        if self.values.size != self._n:
            self._n = self.values.size
            self._bars.setOpts(x=np.arange(self._n), height=heights, brushes=brushes,
                               width=0.8 if self._n < 200 else 1.0)
            self.getPlotItem().enableAutoRange()
        else:
            self._bars.setOpts(height=heights, brushes=brushes)

    def _on_scene_mouse_moved(self, scene_pos) -> None:
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos) or self._n == 0:
            self.barHovered.emit(-1)
            return
        i = round(vb.mapSceneToView(scene_pos).x())
        self.barHovered.emit(i if 0 <= i < self._n else -1)
