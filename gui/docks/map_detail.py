"""One activation map enlarged, with its histogram and statistics (a panel of the maps dock)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import N_, _
from gui.colormaps import nonfinite_mask, to_indices
from gui.explain.entry import TIP
from gui.ui_scale import scaled
from gui.widgets.histogram import HistogramView

ZEROS_LABEL = N_("share of zeros")
ZEROS_LABEL_RELU = N_("share of zeros (dead after ReLU)")


def map_statistics(m: np.ndarray) -> dict[str, float]:
    """Summary numbers of one map.

    Returns
    -------
    dict
        ``min``, ``max``, ``mean``, ``std`` and ``zeros`` (the fraction of pixels exactly 0).

    Examples
    --------
    >>> map_statistics(np.array([[0.0, 2.0]], dtype=np.float32))["zeros"]
    0.5
    """
    m = np.asarray(m, dtype=np.float32)
    if nonfinite_mask(m) is not None:  # NaN or infinity: the numbers of the finite values
        m = m[np.isfinite(m)]
    if m.size == 0:
        return {"min": 0.0, "max": 0.0, "mean": 0.0, "std": 0.0, "zeros": 0.0}
    # float64 accumulators: a float32 sum over a 640x480 map loses digits in the mean.
    return {
        "min": float(m.min()),
        "max": float(m.max()),
        "mean": float(m.mean(dtype=np.float64)),
        "std": float(m.std(dtype=np.float64)),
        "zeros": float(np.count_nonzero(m == 0) / m.size),
    }


def is_or_follows_relu(pipeline, index: int) -> bool:
    """True when node ``index`` is a ReLU or takes a ReLU's output (its zeros are dead units)."""
    node = pipeline.nodes[index]
    if node.layer.type_name == "ReLU":
        return True
    names = {n.name: n for n in pipeline.nodes}
    return any(name in names and names[name].layer.type_name == "ReLU" for name in node.inputs)


class MapDetail(QWidget):
    """The enlarged map, its histogram and min / max / mean / std / share of zeros.

    Signals
    -------
    closeRequested()
        The user pressed the close button.
    explainRequested()
        The user asked what drives this map (the Explain panel's channel tab).
    pixelHovered(int, int)
        ``(x, y)`` of the enlarged map under the mouse; ``(-1, -1)`` when off the map.
    """

    closeRequested = Signal()
    explainRequested = Signal()
    pixelHovered = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel(_("No map selected"))
        self.title.setStyleSheet("font-weight: bold")
        self.title.setToolTip(_("The enlarged map: its layer, index and size"))
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip(_("Close the enlarged map"))
        close.clicked.connect(self.closeRequested)
        explain = QToolButton()  # on a line of its own: long layer names fill the header
        explain.setText(_("What drives this map? ›"))
        explain.setAutoRaise(True)
        explain.setToolTip(_(TIP))
        explain.clicked.connect(self.explainRequested)
        self.explain_button = explain
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(close)

        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("#202124")
        self.view.setToolTip(_("The selected map, enlarged. Scroll to zoom, drag to pan."))
        self._box = self.view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._box.addItem(self._image)
        self._shape: tuple[int, ...] = ()
        self.view.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

        self.histogram = HistogramView()
        scaled(self.histogram.setMinimumHeight, 120)

        self._values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        self._zeros_name = QLabel(_(ZEROS_LABEL) + ":")
        tips = {
            "min": _("Smallest value in this map"),
            "max": _("Largest value in this map"),
            "mean": _("Average value over all pixels of this map"),
            "std": _("Standard deviation: how far values spread around the mean"),
            "zeros": _("Fraction of pixels that are exactly zero"),
        }
        names = {"min": _("min"), "max": _("max"), "mean": _("mean"), "std": _("std")}
        # Two pairs per line (min max / mean std), the long zeros label on its own line.
        places = {"min": (0, 0), "max": (0, 2), "mean": (1, 0), "std": (1, 2), "zeros": (2, 0)}
        for key, (row, col) in places.items():
            value = QLabel("–")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setToolTip(tips[key])
            self._values[key] = value
            name = self._zeros_name if key == "zeros" else QLabel(names[key] + ":")
            name.setToolTip(tips[key])
            if key == "zeros":
                line = QHBoxLayout()
                line.setSpacing(8)
                line.addWidget(name)
                line.addWidget(value, 1)
                grid.addLayout(line, row, 0, 1, 4)
            else:
                grid.addWidget(name, row, col, Qt.AlignmentFlag.AlignRight)
                grid.addWidget(value, row, col + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        stats = QWidget()
        stats.setLayout(grid)
        stats.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(self.view)
        lower.addWidget(self.histogram)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        lower.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(header)
        layout.addWidget(explain, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(lower, 1)
        layout.addWidget(stats)
        self.stats: dict[str, float] = {}

    def _on_scene_mouse_moved(self, scene_pos) -> None:
        p = self._box.mapSceneToView(scene_pos)
        x, y = int(np.floor(p.x())), int(np.floor(p.y()))
        inside = len(self._shape) == 2 and 0 <= y < self._shape[0] and 0 <= x < self._shape[1]
        self.pixelHovered.emit(*((x, y) if inside else (-1, -1)))

    def zeros_label(self) -> str:
        """The name shown in front of the share of zeros."""
        return self._zeros_name.text().rstrip(":")

    def show_map(
        self,
        layer_name: str,
        index: int,
        n_maps: int,
        m: np.ndarray,
        levels: tuple[float, float],
        lut: np.ndarray,
        relu: bool,
    ) -> None:
        """Display map ``index`` of ``layer_name``: ``m`` is ``(H, W)`` in real values,
        ``lut`` an indexed table (:func:`gui.colormaps.indexed_lookup_table`): NaN and
        infinite values get its own colour, the statistics count finite values only."""
        h, w = m.shape
        title = _("{layer} · map {index} of {n} · {h}×{w}").format(
            layer=layer_name, index=index, n=n_maps, h=h, w=w)
        mask = nonfinite_mask(m)
        if mask is not None:
            title += " · " + _("{n} NaN or infinite").format(n=int(np.count_nonzero(mask)))
        self.title.setText(title)
        indices = to_indices(m, levels, nonfinite=False if mask is None else mask)
        self._image.setImage(indices.astype(np.uint8), levels=(0, 255), lut=lut,
                             autoLevels=False)
        if self._shape != m.shape:
            self._shape = m.shape
            self._box.autoRange(padding=0.01)
        self.histogram.set_values(m, skip_zeros=relu)
        self.stats = map_statistics(m)
        self._zeros_name.setText(_(ZEROS_LABEL_RELU if relu else ZEROS_LABEL) + ":")
        for key, value in self.stats.items():
            text = f"{value:.1%}" if key == "zeros" else f"{value:.4g}"
            self._values[key].setText(text)

    def value_text(self, key: str) -> str:
        """The displayed text of one statistic (``"min"``, ..., ``"zeros"``)."""
        return self._values[key].text()
