"""Convolution player: one filter slides over a small input, one output cell per step.

At every step the cells under the kernel light up on the (padded) input, the element-wise
products appear in their own grid, the per-channel sums and the bias add up to the output value,
and that value is written into its output cell. The numbers come from
:func:`engine.lecture.traces.trace_conv`, which the tests hold equal to ``engine.ops.conv2d``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from engine.i18n import N_, _
from engine.layers.kernels import PRESET_DESCRIPTIONS, PRESETS, expand_kernel
from engine.lecture.examples import VOLUME_SIDE, lecture_7x7, lecture_volume
from engine.lecture.text import channel_name, conv_sum_text, parse_kernel
from engine.lecture.traces import ConvTrace, trace_conv
from gui.docks.player_base import PlayerDock
from gui.ui_scale import scaled
from gui.widgets.cell_grid import CellGrid, titled
from gui.widgets.player_controls import labelled_row, shrinkable

__all__ = ["ConvPlayerDock"]

VOLUME = "lecture_volume"
SOURCES = (
    ("lecture_7x7", N_("Lecture: 7x7 input"),
     N_("The lecture's 7x7 input (small whole numbers) with a 3x3 filter")),
    (VOLUME, N_("Lecture: 32x32x3 volume"),
     N_("The lecture's 32x32x3 input (a sample picture in whole numbers 0 to 9) with the "
        "lecture pipeline's ten 5x5x3 filters, stride 1, padding 2; pick the filter to step "
        "through its map")),
    ("crop", N_("Crop of the frame"),
     N_("A square cut out of the current frame, every channel")),
)
LECTURE_FILTER = N_("lecture filter")
CUSTOM = "custom"


class ConvPlayerDock(PlayerDock):
    """The convolution player dock (registered as "conv_player")."""

    SOURCES = SOURCES
    ERROR_PREFIX = N_("Cannot run this convolution")

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(session, live, np.zeros((1, 7, 7), np.float32), parent)
        self._lecture_weight = np.zeros((1, 1, 3, 3), np.float32)  # (filters, C, kh, kw)
        self._lecture_bias = np.zeros(1, np.float32)  # (filters,)
        self._custom = np.zeros((1, 3, 3), np.float32)  # (C, kh, kw), every channel
        self._values_shown = ""  # the text the values line was last set to
        self.trace: ConvTrace | None
        self._build()
        self.load_source("lecture_7x7")

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self._build_source(_("What the filter slides over"))
        self.kernel = QComboBox()
        self.kernel.setToolTip(_("The filter: a named kernel (spread over the channels the way "
                               "the app's conv layers do), the example's own filter, or your "
                               "own values"))
        for name in PRESETS:
            self.kernel.addItem(name.replace("_", " "), name)
            tip = PRESET_DESCRIPTIONS.get(name)
            self.kernel.setItemData(self.kernel.count() - 1, _(tip) if tip else "", 3)
        self.kernel.addItem(_(LECTURE_FILTER), LECTURE_FILTER)
        self.kernel.addItem(CUSTOM, CUSTOM)
        self.kernel.activated.connect(self._on_kernel_activated)
        self.values = QLineEdit()
        self.values.setToolTip(_("The kernel's values for the channel shown: numbers separated by "
                               "spaces, rows by ';' (e.g. -1 0 1; -2 0 2; -1 0 1). Press Enter "
                               "to use them; the other channels keep theirs (zeros if you "
                               "change the size)."))
        self.values_label = QLabel("w =")
        self.values_label.setToolTip(_("Which channel of the filter the values line shows and "
                                     "edits"))
        self.values.editingFinished.connect(self._on_values_edited)
        scaled(self.values.setMinimumWidth, 110)
        self.stride = self._spin(1, 5, 1, _("Stride S: how many cells the window moves per step"))
        self.padding = self._spin(0, 4, 0,
                                  _("Padding P: width of the zero border around the input"))
        self.dilation = self._spin(1, 4, 1, _("Dilation D: spacing between the kernel's taps"))
        self.bias = QDoubleSpinBox()
        self.bias.setRange(-99, 99)
        self.bias.setDecimals(2)
        self.bias.setToolTip(_("Bias b: added once to the sum of all products"))
        self.bias.valueChanged.connect(self._on_settings_changed)
        self.channel = QSpinBox()
        self.channel.setToolTip(_("Which input channel's values, weights and products are shown"))
        self.channel.valueChanged.connect(self._on_channel_changed)
        self.filter = QSpinBox()
        self.filter.setToolTip(_("Which of the layer's filters slides over the input; each one "
                               "makes its own output map"))
        self.filter.valueChanged.connect(self._on_filter_changed)
        self.filter_label = QLabel(_("filter"))
        self.filter_label.setToolTip(self.filter.toolTip())

        shrinkable(self.kernel, 8)
        # Two rows that fit the middle column; the box sizes shrink before anything is cut.
        top = labelled_row(((None, self.source, 3), (_("kernel"), self.kernel, 2),
                            (_("bias"), self.bias)), end_stretch=False)
        settings = labelled_row(((None, self.values, 1), ("S", self.stride),
                                 ("P", self.padding), ("D", self.dilation),
                                 ("ch", self.channel)), end_stretch=False)
        settings.insertWidget(0, self.values_label)

        self.input_grid = CellGrid()
        self.input_grid.setToolTip(_("The input with its zero border (hatched)"))
        self.kernel_grid = CellGrid(min_cell=18)
        self.kernel_grid.setToolTip(_("The filter's weights for the channel shown"))
        self.products_grid = CellGrid(min_cell=18)
        self.products_grid.setToolTip(_("Input value times weight, cell by cell, at this step"))
        self.output_grid = CellGrid()
        self.output_grid.setToolTip(_("The output map, filled in one cell per step"))
        self.input_title, self.kernel_title = QLabel(), QLabel()
        self.products_title, self.output_title = QLabel(), QLabel()
        grids = QGridLayout()
        grids.addWidget(titled(self.input_title, self.input_grid), 0, 0, 2, 1)
        # The filter choice sits over the weights it picks, where the middle column has room.
        kernel_box = titled(self.kernel_title, self.kernel_grid)
        kernel_box.layout().insertLayout(0, labelled_row(((None, self.filter_label),
                                                          (None, self.filter))))
        grids.addWidget(kernel_box, 0, 1)
        grids.addWidget(titled(self.products_title, self.products_grid), 1, 1)
        grids.addWidget(titled(self.output_title, self.output_grid), 0, 2, 2, 1)
        grids.setColumnStretch(0, 5)
        grids.setColumnStretch(1, 3)
        grids.setColumnStretch(2, 4)

        self.sum_label = QLabel()
        self.sum_label.setWordWrap(True)
        self.sum_label.setToolTip(_("How this step's output value is computed"))
        self.value_label = QLabel()
        self.value_label.setToolTip(_("The value written into the outlined output cell"))
        self.layer_label = QLabel()
        self.layer_label.setWordWrap(True)
        self.layer_label.setToolTip(_("The whole layer: every filter's map, and what it learns"))
        self._build_status(_("Whether the windows tile the padded input exactly"))
        self._lay_out([top, settings], grids,
                      [self.sum_label, self.value_label, self.layer_label])

    # -- sources and settings -----------------------------------------------------------------
    def load_source(self, key: str) -> None:
        """Load one of SOURCES ("lecture_7x7", "lecture_volume") or take a crop ("crop")."""
        if key == "crop":
            self.crop.take()  # cropTaken sets everything up; failed shows why not
            return
        if key == "lecture_7x7":
            x, w = lecture_7x7()
            self._lecture_weight, self._lecture_bias = w[None], np.zeros(1, np.float32)
            kernel, padding = "sobel_x", 0
        else:
            x, self._lecture_weight, self._lecture_bias = lecture_volume()
            kernel, padding = LECTURE_FILTER, 2
        self.filter.blockSignals(True)
        self.filter.setRange(0, self._lecture_weight.shape[0] - 1)
        self.filter.setValue(0)
        self.filter.blockSignals(False)
        self._set_input(x, key, kernel=kernel, stride=1, padding=padding, dilation=1,
                        bias=float(self._lecture_bias[0]))

    def set_custom_kernel(self, weights) -> None:
        """Use ``weights`` (C, kh, kw) as the custom kernel, as if typed into the values line."""
        self._custom = np.asarray(weights, np.float32)  # (C, kh, kw)
        self.kernel.setCurrentIndex(self.kernel.findData(CUSTOM))
        self.rebuild()

    def _on_crop_taken(self, crop) -> None:
        kernel = "sobel_x" if self.kernel.currentData() == LECTURE_FILTER else None
        self._set_input(np.asarray(crop, np.float32), "crop", kernel=kernel)

    def _on_values_edited(self) -> None:
        text = self.values.text()
        if text == self._values_shown:
            return  # focus left the line without a change: keep the kernel as it is
        try:
            typed = parse_kernel(text)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        # Only the shown channel takes the typed values; the others keep theirs when the size
        # stays, and start at zero when it changes.
        current = self._current_kernel()
        ch = self._shown_channel()
        if current.shape[1:] == typed.shape:
            custom = current.copy()
        else:
            custom = np.zeros((current.shape[0], *typed.shape), np.float32)
        custom[ch] = typed
        self._custom = custom
        self.kernel.setCurrentIndex(self.kernel.findData(CUSTOM))
        self.rebuild()

    def _on_kernel_activated(self, *_args) -> None:
        if self.kernel.currentData() == CUSTOM and self.trace is not None:
            # Start the custom kernel from the one on show (every channel), to edit it.
            self._custom = self.trace.weight.copy()
        self.rebuild()

    def _on_channel_changed(self, *_args) -> None:
        self.show_step(self.controls.step)

    def _on_filter_changed(self, index: int) -> None:
        """Another filter of the lecture's layer, with its own bias; the step stays."""
        self.bias.blockSignals(True)  # one rebuild for filter and bias together
        self.bias.setValue(float(self._lecture_bias[min(index, len(self._lecture_bias) - 1)]))
        self.bias.blockSignals(False)
        self.rebuild()

    def _lecture_layer_shown(self) -> bool:
        """True when the player steps one filter of the lecture's 10-filter layer."""
        return (self.kernel.currentData() == LECTURE_FILTER
                and self._lecture_weight.shape[0] > 1
                and self._lecture_weight.shape[1] == self._x.shape[0])

    def _shown_channel(self) -> int:
        return min(self.channel.value(), self._x.shape[0] - 1)

    def _current_kernel(self) -> np.ndarray:
        """The filter on show (C, kh, kw); the one the settings ask for when none is."""
        trace = self.trace
        if trace is not None and trace.weight.shape[0] == self._x.shape[0]:
            return trace.weight
        return self.weight()

    def weight(self) -> np.ndarray:
        """The filter (C, kh, kw) for the current input and kernel choice."""
        choice, c = self.kernel.currentData(), self._x.shape[0]
        if choice == LECTURE_FILTER:
            if self._lecture_weight.shape[1] == c:
                index = min(self.filter.value(), self._lecture_weight.shape[0] - 1)
                return self._lecture_weight[index]
            choice = "sobel_x"
        if choice == CUSTOM:
            if self._custom.shape[0] != c:
                # Another input depth: every channel starts from the mean of the old ones.
                mean = self._custom.mean(axis=0, keepdims=True)
                self._custom = np.repeat(mean, c, axis=0).astype(np.float32)
            return self._custom
        kernel2d = PRESETS[choice]
        return expand_kernel(kernel2d, c) if c > 1 else np.asarray(kernel2d, np.float32)[None]

    def _show_values(self, trace: ConvTrace, ch: int) -> None:
        """The values line shows the shown channel's weights, and its label says which."""
        c = trace.weight.shape[0]
        self.values_label.setText(f"w[{channel_name(ch, c)}] =" if c > 1 else "w =")
        text = "; ".join(" ".join(_number(v) for v in row) for row in trace.weight[ch])
        # Set only on a change: stepping redraws every grid, and must not undo typing.
        if text != self._values_shown:
            self._values_shown = text
            self.values.setText(text)

    def _trace(self) -> ConvTrace:
        """The convolution of the current input with the current filter and settings."""
        # Crops stay within MAX_SIDE (their controls see to it); only the lecture's volume is
        # larger, and its 32x32 cells show their numbers as colours and on hover.
        return trace_conv(self._x, self.weight(), self.bias.value(), self.stride.value(),
                          self.padding.value(), self.dilation.value(), max_side=VOLUME_SIDE)

    def rebuild(self) -> None:
        """Trace again, then show or hide the filter choice and the whole layer's numbers."""
        super().rebuild()
        layer = self._lecture_layer_shown()
        self.filter.setVisible(layer)
        self.filter_label.setVisible(layer)
        self.layer_label.setVisible(layer and self.trace is not None)
        if layer and self.trace is not None:
            self.layer_label.setText(_layer_text(self._lecture_weight.shape, self.trace))

    # -- one step -----------------------------------------------------------------------------
    def _draw_step(self, trace: ConvTrace, s) -> None:
        """Show the arithmetic of step ``s`` on every grid and label."""
        ch = min(self.channel.value(), trace.input.shape[0] - 1)
        name = channel_name(ch, trace.input.shape[0])
        ph, pw = trace.padding
        self._show_window(s, trace.padded[ch])
        self.kernel_grid.set_values(trace.weight[ch])
        self.products_grid.set_values(s.products[ch])
        self._show_output(s)
        c, h, w = trace.input.shape
        self.input_title.setText(_("Input {h}x{w}").format(h=h, w=w)
                                 + (_("x{c}, channel {name}").format(c=c, name=name)
                                    if c > 1 else "")
                                 + (_(", padding {ph}").format(ph=ph) if ph or pw else ""))
        kh, kw = trace.weight.shape[1:]
        layer = self._lecture_layer_shown()
        kernel = (_("Filter {n}, {kh}x{kw}").format(n=self.filter.value(), kh=kh, kw=kw)
                  if layer else _("Kernel {kh}x{kw}").format(kh=kh, kw=kw))
        self.kernel_title.setText(kernel + (_(", channel {name}").format(name=name)
                                            if c > 1 else ""))
        self.products_title.setText(_("Input x weight"))
        out_h, out_w = trace.out_shape[0], trace.out_shape[1]
        self.output_title.setText(
            _("Output map {n}: {out_h}x{out_w}").format(n=self.filter.value(), out_h=out_h,
                                                        out_w=out_w) if layer
            else _("Output {out_h}x{out_w}").format(out_h=out_h, out_w=out_w))
        self.sum_label.setText(conv_sum_text(trace, s, ch))
        self._show_values(trace, ch)


def _layer_text(shape: tuple[int, ...], trace: ConvTrace) -> str:
    """The whole layer's output volume and parameters, e.g. 32x32x10 = 10,240 and 760."""
    n, c, kh, kw = shape  # (filters, C, kh, kw)
    oh, ow = trace.out_shape
    params = n * (c * kh * kw + 1)  # every filter's weights and its one bias
    return (_(
        "Whole layer: {n} maps, {oh}x{ow}x{n} = {value:,} values; {n} x ({kh}x{kw}x{c} + 1) "
        "= {params:,} parameters"
    ).format(n=n, oh=oh, ow=ow, value=oh * ow * n, kh=kh, kw=kw, c=c, params=params))


def _number(value: float) -> str:
    """A weight as typed: up to four significant digits, no "-0"."""
    text = f"{float(value):.4g}"
    return "0" if text == "-0" else text
