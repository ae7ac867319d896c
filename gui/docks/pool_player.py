"""Pooling player: max or average pooling over a small map, one window per step.

The window is highlighted on the (padded) input, for max pooling its winning cell is outlined,
and the result is written into its output cell. "Lecture example" loads the lecture's 4x4 map,
whose 2x2 max pooling with stride 2 gives [[6, 8], [3, 4]]. The numbers come from
:func:`engine.teaching.trace_pool`, which the tests hold equal to ``engine.functional``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.teaching import PoolTrace, TraceError, trace_pool
from engine.teaching_examples import LECTURE_POOL_INPUT, lecture_7x7
from engine.teaching_text import channel_name, fit_text, format_value, formula_text, pool_text
from gui.widgets.cell_grid import CellGrid, titled
from gui.widgets.player_controls import CropControls, PlayerControls, set_warning

__all__ = ["PoolPlayerDock"]

SOURCES = (
    ("lecture_4x4", "Lecture: 4x4 map", "The lecture's max-pooling example"),
    ("lecture_7x7", "Lecture: 7x7 map", "The 7x7 input of the convolution lecture"),
    ("crop", "Crop of the frame", "A square cut out of the current frame, one channel at a time"),
)
MODES = (("max", "max", "Each window gives its largest value"),
         ("avg", "average", "Each window gives the mean of its values (padding counts as 0)"))
_WINNER = QColor(0, 140, 0)


class PoolPlayerDock(QWidget):
    """The pooling player dock (registered as "pool_player")."""

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session, self._live = session, live
        self._x = LECTURE_POOL_INPUT[None].copy()  # (C, H, W)
        self.trace: PoolTrace | None = None
        self._build()
        self.load_lecture_example()

    def _spin(self, low, high, value, tip) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        spin.valueChanged.connect(self._on_settings_changed)
        return spin

    def _build(self) -> None:
        self.lecture_button = QPushButton("Lecture example")
        self.lecture_button.setToolTip("The lecture's 4x4 map with 2x2 max pooling, stride 2: "
                                       "gives [[6, 8], [3, 4]]")
        self.lecture_button.clicked.connect(self.load_lecture_example)
        self.source = QComboBox()
        for key, label, tip in SOURCES:
            self.source.addItem(label, key)
            self.source.setItemData(self.source.count() - 1, tip, 3)  # Qt.ToolTipRole
        self.source.setToolTip("The map the window slides over")
        self.source.activated.connect(self._on_source_activated)
        self.crop = CropControls(self._live)
        self.crop.cropTaken.connect(self._on_crop_taken)
        self.crop.failed.connect(self._show_error)
        self.mode = QComboBox()
        for key, label, tip in MODES:
            self.mode.addItem(label, key)
            self.mode.setItemData(self.mode.count() - 1, tip, 3)
        self.mode.setToolTip("Max pooling keeps the largest value of each window; average "
                             "pooling keeps their mean")
        self.mode.activated.connect(self._on_settings_changed)
        self.kernel = self._spin(1, 5, 2, "Window size F (F x F cells)")
        self.stride = self._spin(1, 5, 2, "Stride S: how many cells the window moves per step")
        self.padding = self._spin(0, 2, 0, "Padding P: a border that never wins a max "
                                  "(-∞) and counts as 0 in an average; at most half the window")
        self.channel = QSpinBox()
        self.channel.setToolTip("Which channel of the input is pooled")
        self.channel.valueChanged.connect(self._on_settings_changed)

        top = QHBoxLayout()
        top.addWidget(self.lecture_button)
        top.addWidget(self.source)
        top.addWidget(self.crop)
        top.addStretch(1)
        second = QHBoxLayout()
        for text, widget in (("pooling", self.mode), ("F", self.kernel), ("S", self.stride),
                             ("P", self.padding), ("channel", self.channel)):
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            second.addWidget(label)
            second.addWidget(widget)
        second.addStretch(1)

        self.input_grid = CellGrid(cell_size=40)
        self.input_grid.setToolTip("The map; the window of this step is highlighted and, for "
                                   "max pooling, its winner outlined in green")
        self.output_grid = CellGrid(cell_size=40)
        self.output_grid.setToolTip("The pooled map, filled in one cell per step")
        self.input_title, self.output_title = QLabel(), QLabel()
        grids = QHBoxLayout()
        grids.addWidget(titled(self.input_title, self.input_grid), 3)
        grids.addWidget(titled(self.output_title, self.output_grid), 2)

        self.window_label = QLabel()
        self.window_label.setWordWrap(True)
        self.value_label = QLabel()
        self.value_label.setToolTip("The value written into the outlined output cell")
        self.window_label.setToolTip("This step's window and what pooling makes of it")
        self.formula_label = QLabel()
        self.formula_label.setWordWrap(True)
        self.formula_label.setToolTip("Output size = (N - F + 2P)/S + 1, with the numbers")
        self.fit_label = QLabel()
        self.fit_label.setWordWrap(True)
        self.fit_label.setToolTip("Whether the windows tile the padded map exactly")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        set_warning(self.error_label, True)
        self.error_label.setToolTip("Why the last change could not be shown")
        self.controls = PlayerControls()
        self.controls.stepChanged.connect(self.show_step)
        self.controls.install_shortcuts(self)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addLayout(grids, 1)
        for label in (self.window_label, self.value_label, self.formula_label, self.fit_label,
                      self.error_label):
            layout.addWidget(label)
        layout.addWidget(self.controls)

    # -- sources and settings -----------------------------------------------------------------
    def load_lecture_example(self) -> None:
        """The lecture's 4x4 map, 2x2 max pooling with stride 2, at the first step."""
        self._set_input(LECTURE_POOL_INPUT[None].copy(), "lecture_4x4", mode="max", kernel=2,
                        stride=2, padding=0)
        self.controls.first()

    def load_source(self, key: str) -> None:
        """Load one of SOURCES by key; "crop" takes a crop of the current frame."""
        if key == "lecture_4x4":
            self.load_lecture_example()
        elif key == "lecture_7x7":
            self._set_input(lecture_7x7()[0], key)
        else:
            self.crop.take()

    def _on_source_activated(self, index: int) -> None:
        self.load_source(self.source.itemData(index))

    def _on_crop_taken(self, crop) -> None:
        self._set_input(np.asarray(crop, np.float32), "crop")

    def _set_input(self, x, key, mode=None, **settings) -> None:
        self._x = x
        widgets = [self.source, self.mode, self.kernel, self.stride, self.padding, self.channel]
        for widget in widgets:
            widget.blockSignals(True)
        self.source.setCurrentIndex(self.source.findData(key))
        if mode is not None:
            self.mode.setCurrentIndex(self.mode.findData(mode))
        for name, value in settings.items():
            getattr(self, name).setValue(value)
        self.channel.setRange(0, x.shape[0] - 1)
        for widget in widgets:
            widget.blockSignals(False)
        self.rebuild()

    def _on_settings_changed(self, *_args) -> None:
        self.rebuild()

    def rebuild(self) -> None:
        """Trace the pooling again with the current map and settings."""
        channel = min(self.channel.value(), self._x.shape[0] - 1)
        try:
            trace = trace_pool(self._x[channel], self.mode.currentData(), self.kernel.value(),
                               self.stride.value(), self.padding.value())
        except (TraceError, ValueError) as exc:
            self._show_error(f"Cannot pool this way: {exc}")
            return
        self.error_label.clear()
        self.trace = trace
        self.formula_label.setText(formula_text(trace))
        self.fit_label.setText(fit_text(trace, "stride"))
        set_warning(self.fit_label, not trace.fits)
        self.controls.set_count(len(trace))
        self.show_step(self.controls.step)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)

    # -- one step -----------------------------------------------------------------------------
    def show_step(self, k: int) -> None:
        """Show window ``k``: highlighted cells, the winner (max) and the output cell."""
        trace = self.trace
        if trace is None:
            return
        s = trace.step(min(k, len(trace) - 1))
        ph, pw = trace.padding
        self.input_grid.set_values(trace.padded)
        self.input_grid.set_padding(trace.pad_mask, "-∞" if trace.mode == "max" else "0")
        self.input_grid.set_index_offset(-ph, -pw)
        under = np.zeros(trace.pad_mask.shape, bool)
        under[s.rows[:, None], s.cols[None, :]] = True
        self.input_grid.set_highlight(under)
        dropped = np.zeros(trace.pad_mask.shape, bool)
        dropped[list(trace.fit_rows.dropped), :] = True
        dropped[:, list(trace.fit_cols.dropped)] = True
        self.input_grid.set_tint(dropped)
        self.input_grid.set_marks([s.winner] if s.winner else [], _WINNER)
        done = np.arange(len(trace)).reshape(trace.out_shape) <= s.index
        self.output_grid.set_values(trace.output, known=done)
        self.output_grid.set_marks([(s.row, s.col)])
        h, w = trace.input.shape
        c = self._x.shape[0]
        name = channel_name(min(self.channel.value(), c - 1), c)
        self.input_title.setText(f"Map {h}x{w}" + (f", channel {name}" if c > 1 else "")
                                 + (f", padding {ph}" if ph or pw else ""))
        mode = "Max" if trace.mode == "max" else "Average"
        kh, kw = trace.kernel_size
        self.output_title.setText(
            f"{mode} pooling {kh}x{kw}, stride {trace.stride[0]}: "
            f"{trace.out_shape[0]}x{trace.out_shape[1]}")
        self.window_label.setText(
            f"Window: {pool_text(trace, s)}"
            + (f"; the winner is at row {s.winner[0] - ph}, column {s.winner[1] - pw}"
               if s.winner else ""))
        self.value_label.setText(f"<b>output[{s.row}, {s.col}] = {format_value(s.value)}</b>")
