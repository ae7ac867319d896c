"""The Curves panel: loss and accuracy, training and validation, smoothed, and the learning
rate; pyqtgraph plots fed from the controller's growing arrays (views, no copies)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from engine.i18n import _
from gui.train.controller import controller_for
from gui.train.pictures import Redraw, StatusText
from gui.train.snapshot import nice_ceiling

__all__ = ["TrainCurvesDock"]

RAW = (120, 150, 200)
TRAIN = (90, 170, 255)
VAL = (255, 160, 40)
LR = (170, 220, 120)
DEFAULT_SMOOTHING = 60  # of 100: TensorBoard's default 0.6
LOSS_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)  # finer: the loss should fill its plot


def _plot(label: str, unit: str = "") -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setMenuEnabled(False)
    plot.hideButtons()
    # No grid: with one, each change of range repainted 5 times slower (28.7 against 6.0 ms
    # for the three plots here), and ranges change as the run grows.
    plot.setLabel("left", label, units=unit)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(54)
    plot.setMouseEnabled(x=False, y=False)
    plot.disableAutoRange()  # ranges set in steps (each change redraws the axes: slow)
    plot.setClipToView(True)
    plot.setDownsampling(auto=True, mode="peak")
    return plot


class TrainCurvesDock(QWidget):
    """The Curves panel (registered as "train_curves")."""

    def __init__(self, session, live, parent=None) -> None:
        super().__init__(parent)
        self.controller = c = controller_for(session, live)
        self.loss_plot = _plot(_("loss"))
        self.loss_plot.setToolTip(_("Cross-entropy loss: how wrong the network is, lower is"
                                    " better. Faint: each batch; bright: smoothed; orange:"
                                    " the validation pictures after each epoch"))
        self.acc_plot = _plot(_("accuracy"), "%")
        self.acc_plot.setToolTip(_("Share of pictures classified right: each batch (faint),"
                                   " smoothed (bright) and on the validation pictures after"
                                   " each epoch (orange)"))
        self.acc_plot.setYRange(0, 100, padding=0.02)
        self.lr_plot = _plot("")
        self.lr_plot.getAxis("left").setStyle(showValues=False)  # the title says the rate
        self.lr_plot.getAxis("left").setTicks([[], []])
        self.lr_plot.setToolTip(_("The learning rate at every step, as the schedule sets it"))
        self.lr_plot.setLabel("bottom", _("step (batches trained)"))
        for plot in (self.acc_plot, self.lr_plot):
            plot.setXLink(self.loss_plot)
        self.lr_plot.setMaximumHeight(120)
        self.lr_plot.setMinimumHeight(90)
        legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.loss_raw = self.loss_plot.plot(pen=pg.mkPen((*RAW, 110), width=1))
        self.loss_smooth = self.loss_plot.plot(pen=pg.mkPen(TRAIN, width=2),
                                               name=_("training (smoothed)"))
        self.loss_val = self.loss_plot.plot(pen=pg.mkPen(VAL, width=2), symbol="o",
                                            symbolSize=6, symbolBrush=VAL, name=_("validation"))
        legend.setBrush(pg.mkBrush(20, 20, 20, 170))
        self.acc_raw = self.acc_plot.plot(pen=pg.mkPen((*RAW, 110), width=1))
        self.acc_smooth = self.acc_plot.plot(pen=pg.mkPen(TRAIN, width=2))
        self.acc_val = self.acc_plot.plot(pen=pg.mkPen(VAL, width=2), symbol="o",
                                          symbolSize=6, symbolBrush=VAL)
        self.lr_curve = self.lr_plot.plot(pen=pg.mkPen(LR, width=2))
        self.markers = [pg.InfiniteLine(angle=90, pen=pg.mkPen((230, 230, 230), width=1,
                                                               style=Qt.PenStyle.DashLine))
                        for _p in range(3)]
        for plot, marker in zip((self.loss_plot, self.acc_plot, self.lr_plot), self.markers,
                                strict=True):
            plot.addItem(marker)
            marker.hide()
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(DEFAULT_SMOOTHING)
        self.smoothing.setToolTip(_("Smoothing: an average over the recent batches (0: none),"
                                    " so the trend shows through the noise of single batches"))
        self.smoothing.valueChanged.connect(self.redraw)
        self.smoothing_label = QLabel()
        self._ranges: tuple | None = None
        self._lr_text = ""
        self.summary = StatusText(lines=2)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Smoothing")))
        row.addWidget(self.smoothing, 1)
        row.addWidget(self.smoothing_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.acc_plot, 3)
        layout.addWidget(self.lr_plot, 1)
        layout.addLayout(row)
        self._redraw = Redraw(self, self.redraw, delay_ms=10, min_ms=0)
        c.snapshotUpdated.connect(self._redraw.request)
        c.runChanged.connect(self.redraw)
        c.replayChanged.connect(self.redraw)
        self.redraw()

    @property
    def weight(self) -> float:
        return self.smoothing.value() / 100

    def limit(self) -> int:
        """How many per-step points to draw: all, or those up to the replayed epoch."""
        store, index = self.controller.curves, self.controller.replay
        stored = self.controller.latest.epoch_filters
        if index is None or index >= len(stored):
            return store.n
        return int(np.searchsorted(store.step[: store.n], stored[index][1], side="right"))

    def redraw(self, *_args) -> None:
        store = self.controller.curves
        self.smoothing_label.setText(_("{weight:.2f}").format(weight=self.weight))
        n = self.limit()
        step = store.step[:n]
        self.loss_raw.setData(step, store.loss[:n], skipFiniteCheck=False)
        self.loss_smooth.setData(step, store.smoothed("loss", self.weight)[:n])
        self.acc_raw.setData(step, 100 * store.accuracy[:n])
        self.acc_smooth.setData(step, 100 * store.smoothed("accuracy", self.weight)[:n])
        self.lr_curve.setData(step, store.lr[:n])
        self._lr_title(store.lr[:n])
        epochs = store.epochs
        shown = epochs["step"] <= (step[-1] if n else 0)
        val_x = epochs["step"][shown]
        self.loss_val.setData(val_x, epochs["val_loss"][shown], connect="finite")
        self.acc_val.setData(val_x, 100 * epochs["val_accuracy"][shown], connect="finite")
        replaying = n < store.n
        for marker in self.markers:
            marker.setVisible(replaying)
            if replaying and n:
                marker.setValue(float(step[-1]))
        # The whole run's width while replaying: the curves grow back as the epochs replay.
        last = float(store.step[store.n - 1]) if store.n else 0.0
        self._set_ranges(last if replaying else (float(step[-1]) if n else 0.0), store, n)
        self.summary.setText(self._summary(n))

    def _set_ranges(self, last_step: float, store, n: int) -> None:
        """Axis ranges in round steps, changed only when the data outgrow them."""
        loss = np.concatenate([store.loss[:n], store.epochs["val_loss"]])
        loss = loss[np.isfinite(loss)]
        lr = store.lr[:n]
        ranges = (nice_ceiling(max(last_step, 10.0)),
                  nice_ceiling(float(loss.max()), LOSS_STEPS) if loss.size else 1.0,
                  nice_ceiling(float(lr.max()), LOSS_STEPS) if lr.size else 1.0)
        if ranges == self._ranges:
            return
        self._ranges = ranges
        x, top, lr_top = ranges
        self.loss_plot.setXRange(0, x, padding=0.02)
        self.loss_plot.setYRange(0, top, padding=0.02)
        self.acc_plot.setYRange(0, 100, padding=0.02)
        self.lr_plot.setYRange(0, lr_top, padding=0.05)

    def _lr_title(self, lr: np.ndarray) -> None:
        """The rate in the title: the plot is too short for readable tick labels."""
        title = (_("learning rate: {now:.2g} (from {first:.2g})").format(now=lr[-1], first=lr[0])
                 if len(lr) else _("learning rate"))
        if title != self._lr_text:
            self._lr_text = title
            self.lr_plot.setTitle(title, size="8pt")

    def _summary(self, n: int) -> str:
        store = self.controller.curves
        if not n:
            return _("The curves appear here once training starts: the loss should fall and"
                     " the accuracy rise.")
        parts = [_("Step {step}: loss {loss:.3f}, accuracy {acc:.0%} (smoothed)").format(
            step=int(store.step[n - 1]), loss=store.smoothed("loss", self.weight)[n - 1],
            acc=store.smoothed("accuracy", self.weight)[n - 1])]
        epochs = store.epochs
        shown = np.flatnonzero(epochs["step"] <= store.step[n - 1])
        if shown.size and np.isfinite(epochs["val_accuracy"][shown[-1]]):
            i = shown[-1]
            parts.append(_("validation after epoch {epoch}: loss {loss:.3f}, accuracy"
                           " {acc:.0%}").format(epoch=i + 1, loss=epochs["val_loss"][i],
                                               acc=epochs["val_accuracy"][i]))
        return "; ".join(parts) + "."
