"""The Weights and gradients panel: per layer, how the weights are spread and how large the
latest gradients are (log scale), so vanishing or exploding gradients show at a glance."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.i18n import _
from gui.train.controller import controller_for
from gui.train.pictures import Redraw, StatusText
from gui.train.snapshot import GRAD_RANGE, nice_ceiling

__all__ = ["TrainHistogramsDock", "gradient_note"]

COLORS = ((90, 170, 255), (255, 160, 40), (120, 220, 120), (240, 90, 110), (200, 140, 255),
          (240, 220, 90), (90, 220, 220), (250, 250, 250))
VANISHING = 1e-7  # a layer whose gradients are this small (RMS) barely learns
EXPLODING = 1e2


def gradient_note(names, rms) -> str:
    """One sentence on the gradients' sizes: each layer's RMS, and a warning when a layer's
    gradients vanish or explode.

    >>> gradient_note(("conv1.weight", "fc.weight"), np.array([1e-9, 1e-2]))[:25]
    'Gradient size (RMS): conv'
    """
    if not len(names) or not np.isfinite(rms).any():
        return _("The gradients appear after the first step.")
    parts = ", ".join(f"{n.removesuffix('.weight')} {r:.1e}" for n, r in zip(names, rms,
                                                                           strict=True))
    text = _("Gradient size (RMS): {parts}.").format(parts=parts)
    small = [n.removesuffix(".weight") for n, r in zip(names, rms, strict=True) if r < VANISHING]
    large = [n.removesuffix(".weight") for n, r in zip(names, rms, strict=True)
             if r >= EXPLODING]  # NaN (no gradient yet) is neither
    if small:
        text += " " + _("The gradients of {names} vanish: those layers barely learn.").format(
            names=", ".join(small))
    if large:
        text += " " + _("The gradients of {names} explode: try a smaller learning rate.").format(
            names=", ".join(large))
    return text


def _plot(label: str, tip: str) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    plot.disableAutoRange()  # ranges in round steps: each change redraws the axes
    plot.setLabel("bottom", label)
    plot.setLabel("left", _("share"))
    plot.getAxis("left").setWidth(44)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    plot.setToolTip(tip)
    return plot


class TrainHistogramsDock(QWidget):
    """The Weights and gradients panel (registered as "train_histograms")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.controller = c = controller_for(session, live)
        self.weights = _plot(_("weight value"), _(
            "How the weights of each layer are spread: they start as a narrow random bump and"
            " spread out as the layer learns"))
        self.grads = _plot(_("gradient size, log10 |g| (-4 means 0.0001)"), _(
            "How large the latest gradients of each layer are, on a log scale: a layer far to"
            " the left hardly changes (vanishing gradients); far to the right, steps are huge"
            " (exploding gradients)"))
        self.key = QLabel()  # the layers' colours, above the plots rather than over the curves
        self.key.setToolTip(_("The colour of each layer in both plots"))
        self.note = StatusText(lines=3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.key)
        layout.addWidget(self.weights, 1)
        layout.addWidget(self.grads, 1)
        layout.addWidget(self.note)
        self._names: tuple[str, ...] = ()
        self._weight_curves: list = []
        self._grad_curves: list = []
        self._ranges: tuple | None = None
        self._redraw = Redraw(self, self.redraw, delay_ms=120, min_ms=1000)  # once a second
        c.snapshotUpdated.connect(self._redraw.request)
        c.runChanged.connect(self.redraw)
        self.redraw()

    def _make_curves(self, names) -> None:
        for plot in (self.weights, self.grads):
            for item in list(plot.listDataItems()):
                plot.removeItem(item)
        self._weight_curves, self._grad_curves = [], []
        key = []
        for i, name in enumerate(names):
            color = COLORS[i % len(COLORS)]
            label = html.escape(name.removesuffix(".weight"))
            key.append(f"<span style='color: rgb{color}; background: #202124'>"
                       f"&nbsp;&#9632; {label}&nbsp;</span>")
            self._weight_curves.append(self.weights.plot(
                stepMode="center", pen=pg.mkPen(color, width=2)))
            self._grad_curves.append(self.grads.plot(stepMode="center",
                                                     pen=pg.mkPen(color, width=2)))
        self._names = tuple(names)
        self.key.setText(" ".join(key))

    def redraw(self, *_args) -> None:
        h = self.controller.latest.hist
        if h is None:
            if self._names:
                self._make_curves(())
            self.note.setText(_("Per layer, the spread of the weights and the size of the"
                                " gradients appear here when a run starts."))
            return
        if h.names != self._names:
            self._make_curves(h.names)
        for i in range(len(h.names)):
            self._weight_curves[i].setData(h.weight_edges, h.weights[i])
            self._grad_curves[i].setData(h.grad_edges, h.grads[i])
        ranges = (float(h.weight_edges[-1]), nice_ceiling(float(h.weights.max(initial=0))),
                  nice_ceiling(float(h.grads.max(initial=0))))
        if ranges != self._ranges:
            self._ranges = ranges
            top, w_share, g_share = ranges
            self.weights.setXRange(-top, top, padding=0.02)
            self.weights.setYRange(0, w_share, padding=0.02)
            self.grads.setXRange(*GRAD_RANGE, padding=0.02)
            self.grads.setYRange(0, g_share, padding=0.02)
        self.note.setText(gradient_note(h.names, h.grad_rms))
