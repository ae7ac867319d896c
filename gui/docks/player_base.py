"""What the convolution and pooling players share: sources, settings, status lines, stepping.

Both players slide a window over a small input and show one output position per step. A
subclass builds its own settings and grids and supplies ``load_source(key)``, ``_trace()`` (the
trace for the current input and settings; TraceError or ValueError when there is none) and
``_draw_step(trace, step)`` (the drawing of one step). This base holds the rest: the source
box with its crop controls, the formula / fit / error lines and the transport bar, loading an
input with new settings with one rebuild instead of one per widget, stepping, and the common
drawing of the window on the padded input and of the output filled in so far.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLayout, QSpinBox, QVBoxLayout, QWidget

from engine.i18n import N_, _
from engine.lecture.text import fit_text, format_value, formula_text
from engine.lecture.traces import TraceError
from gui.widgets.crop_controls import CropControls
from gui.widgets.player_controls import PlayerControls, set_warning, shrinkable

__all__ = ["PlayerDock"]


class PlayerDock(QWidget):
    """Base of the player docks; see the module docstring for what a subclass supplies.

    Class attributes
    ----------------
    SOURCES
        ``(key, label, tooltip)`` for every entry of the source box; the key "crop" takes a
        crop of the current frame.
    ERROR_PREFIX
        Start of the message shown when the settings cannot be traced.
    """

    SOURCES: tuple[tuple[str, str, str], ...] = ()
    ERROR_PREFIX = N_("Cannot show this")

    def __init__(self, session, live, x: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session, self._live = session, live
        self._x = x  # (C, H, W), the input the window slides over
        self.trace = None

    # -- construction pieces ------------------------------------------------------------------
    def _spin(self, low: int, high: int, value: int, tip: str) -> QSpinBox:
        """A setting spin box that traces again when it changes."""
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        spin.valueChanged.connect(self._on_settings_changed)
        return spin

    def _build_source(self, tip: str) -> None:
        """The source box (``self.source``) and the crop controls (``self.crop``)."""
        self.source = QComboBox()
        for key, label, item_tip in self.SOURCES:
            self.source.addItem(_(label), key)
            self.source.setItemData(self.source.count() - 1, _(item_tip),
                                    Qt.ItemDataRole.ToolTipRole)
        self.source.setToolTip(tip)
        shrinkable(self.source, 8)
        self.source.activated.connect(self._on_source_activated)
        self.crop = CropControls(self._live)
        self.crop.cropTaken.connect(self._on_crop_taken)
        self.crop.failed.connect(self._show_error)

    def _build_status(self, fit_tip: str) -> None:
        """The formula, fit and error lines and the transport bar (``self.controls``)."""
        self.formula_label = QLabel()
        self.formula_label.setWordWrap(True)
        self.formula_label.setToolTip(_("Output size = (N - F + 2P)/S + 1, with the numbers"))
        self.fit_label = QLabel()
        self.fit_label.setWordWrap(True)
        self.fit_label.setToolTip(fit_tip)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        set_warning(self.error_label, True)
        self.error_label.setToolTip(_("Why the last change could not be shown"))
        self.controls = PlayerControls()
        self.controls.stepChanged.connect(self.show_step)
        self.controls.install_shortcuts(self)

    def _lay_out(self, rows: list[QLayout], grids: QLayout, labels: list[QLabel]) -> None:
        """Rows of settings, the crop row, the grids (taking the spare height), the step's
        labels, then the formula, fit and error lines and the transport bar."""
        layout = QVBoxLayout(self)
        for row in rows:
            layout.addLayout(row)
        # The crop row only matters for a crop; hidden otherwise, it leaves the grids the room.
        layout.addWidget(self.crop)
        self.crop.setVisible(False)
        layout.addLayout(grids, 1)
        for label in (*labels, self.formula_label, self.fit_label, self.error_label):
            layout.addWidget(label)
        layout.addWidget(self.controls)

    # -- sources and settings -----------------------------------------------------------------
    def _on_source_activated(self, index: int) -> None:
        self.load_source(self.source.itemData(index))

    def _on_crop_taken(self, crop) -> None:
        self._set_input(np.asarray(crop, np.float32), "crop")

    def _set_input(self, x: np.ndarray, key: str, **settings) -> None:
        """Show input ``x`` (C, H, W) as source ``key`` with some settings changed, tracing once.

        ``settings`` name widgets of the dock: a combo box is set to the entry with that data,
        a spin box to that value; None leaves the widget as it is.
        """
        self._x = x
        widgets = [self.source, self.channel, *(getattr(self, name) for name in settings)]
        for widget in widgets:
            widget.blockSignals(True)  # one rebuild at the end, not one per widget
        self.source.setCurrentIndex(self.source.findData(key))
        for name, value in settings.items():
            widget = getattr(self, name)
            if value is None:
                continue
            if isinstance(widget, QComboBox):
                widget.setCurrentIndex(widget.findData(value))
            else:
                widget.setValue(value)
        self.channel.setRange(0, x.shape[0] - 1)
        self.crop.setVisible(key == "crop")
        for widget in widgets:
            widget.blockSignals(False)
        self.rebuild()

    def _on_settings_changed(self, *_args) -> None:
        self.rebuild()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))  # no empty line under the grids

    # -- tracing and drawing ------------------------------------------------------------------
    def rebuild(self) -> None:
        """Trace again with the current input and settings and show the current step."""
        try:
            trace = self._trace()
        except (TraceError, ValueError) as exc:
            self._show_error(_("{problem}: {error}").format(problem=_(self.ERROR_PREFIX),
                                                            error=exc))
            return
        self._show_error("")
        self.trace = trace
        self.formula_label.setText(formula_text(trace))
        self.fit_label.setText(fit_text(trace, "stride"))
        set_warning(self.fit_label, not trace.fits)
        self.controls.set_count(len(trace))
        self.show_step(self.controls.step)

    def show_step(self, k: int) -> None:
        """Show output position ``k`` (row-major; clamped to the last one) on every grid."""
        trace = self.trace
        if trace is None:
            return
        self._draw_step(trace, trace.step(min(k, len(trace) - 1)))

    def _show_window(self, step, padded: np.ndarray, pad_text: str = "0") -> None:
        """The padded input (H', W') with the window of ``step`` highlighted and the rows and
        columns no window reaches tinted."""
        trace = self.trace
        ph, pw = trace.padding
        self.input_grid.set_values(padded)
        self.input_grid.set_padding(trace.pad_mask, pad_text)
        self.input_grid.set_index_offset(-ph, -pw)
        under = np.zeros(trace.pad_mask.shape, bool)
        under[step.rows[:, None], step.cols[None, :]] = True
        self.input_grid.set_highlight(under)
        dropped = np.zeros(trace.pad_mask.shape, bool)
        dropped[list(trace.fit_rows.dropped), :] = True
        dropped[:, list(trace.fit_cols.dropped)] = True
        self.input_grid.set_tint(dropped)

    def _show_output(self, step) -> None:
        """The output known up to ``step``, its cell outlined, and its value spelled out."""
        trace = self.trace
        done = np.arange(len(trace)).reshape(trace.out_shape) <= step.index
        self.output_grid.set_values(trace.output, known=done)
        self.output_grid.set_marks([(step.row, step.col)])
        self.value_label.setText(
            _("<b>output[{row}, {col}] = {format_value}</b>").format(
                row=step.row, col=step.col, format_value=format_value(step.value)))
