"""Pooling player: max or average pooling over a small map, one window per step.

The window is highlighted on the (padded) input, for max pooling its winning cell is outlined,
and the result is written into its output cell. "Lecture example" loads the lecture's 4x4 map,
whose 2x2 max pooling with stride 2 gives [[6, 8], [3, 4]]. The numbers come from
:func:`engine.lecture.traces.trace_pool`, which the tests hold equal to ``engine.ops``.
"""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.i18n import N_, _
from engine.lecture.examples import LECTURE_POOL_INPUT, lecture_7x7
from engine.lecture.text import channel_name, pool_text
from engine.lecture.traces import PoolTrace, trace_pool
from gui.docks.player_base import PlayerDock
from gui.widgets.cell_grid import CellGrid, titled
from gui.widgets.player_controls import labelled_row

__all__ = ["PoolPlayerDock"]

SOURCES = (
    ("lecture_4x4", N_("Lecture: 4x4 map"), N_("The lecture's max-pooling example")),
    ("lecture_7x7", N_("Lecture: 7x7 map"), N_("The 7x7 input of the convolution lecture")),
    ("crop", N_("Crop of the frame"),
     N_("A square cut out of the current frame, one channel at a time")),
)
MODES = (("max", N_("max"), N_("Each window gives its largest value")),
         ("avg", N_("average"),
          N_("Each window gives the mean of its values (padding counts as 0)")))
_WINNER = QColor(0, 140, 0)


class PoolPlayerDock(PlayerDock):
    """The pooling player dock (registered as "pool_player")."""

    SOURCES = SOURCES
    ERROR_PREFIX = N_("Cannot pool this way")

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(session, live, LECTURE_POOL_INPUT[None].copy(), parent)  # (C, H, W)
        self.trace: PoolTrace | None
        self._build()
        self.load_lecture_example()

    def _build(self) -> None:
        self.lecture_button = QPushButton(_("Lecture example"))
        self.lecture_button.setToolTip(_("The lecture's 4x4 map with 2x2 max pooling, stride 2: "
                                       "gives [[6, 8], [3, 4]]"))
        self.lecture_button.clicked.connect(self.load_lecture_example)
        self._build_source(_("The map the window slides over"))
        self.mode = QComboBox()
        for key, label, tip in MODES:
            self.mode.addItem(_(label), key)
            self.mode.setItemData(self.mode.count() - 1, _(tip), 3)
        self.mode.setToolTip(_("Max pooling keeps the largest value of each window; average "
                             "pooling keeps their mean"))
        self.mode.activated.connect(self._on_settings_changed)
        self.kernel = self._spin(1, 5, 2, _("Window size F (F x F cells)"))
        self.stride = self._spin(1, 5, 2, _("Stride S: how many cells the window moves per step"))
        self.padding = self._spin(0, 2, 0, _("Padding P: a border that never wins a max "
                                  "(-∞) and counts as 0 in an average; at most half the window"))
        self.channel = QSpinBox()
        self.channel.setToolTip(_("Which channel of the input is pooled"))
        self.channel.valueChanged.connect(self._on_settings_changed)

        top = labelled_row(((None, self.lecture_button), (None, self.source, 1),
                            (None, self.mode)), end_stretch=False)
        second = labelled_row(((_("window F"), self.kernel), ("S", self.stride),
                               ("P", self.padding), (_("channel"), self.channel)))

        self.input_grid = CellGrid(cell_size=40)
        self.input_grid.setToolTip(_("The map; the window of this step is highlighted and, for "
                                   "max pooling, its winner outlined in green"))
        self.output_grid = CellGrid(cell_size=40)
        self.output_grid.setToolTip(_("The pooled map, filled in one cell per step"))
        self.input_title, self.output_title = QLabel(), QLabel()
        grids = QHBoxLayout()
        grids.addWidget(titled(self.input_title, self.input_grid), 3)
        grids.addWidget(titled(self.output_title, self.output_grid), 2)

        self.window_label = QLabel()
        self.window_label.setWordWrap(True)
        self.value_label = QLabel()
        self.value_label.setToolTip(_("The value written into the outlined output cell"))
        self.window_label.setToolTip(_("This step's window and what pooling makes of it"))
        self._build_status(_("Whether the windows tile the padded map exactly"))
        self._lay_out([top, second], grids, [self.window_label, self.value_label])

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

    def _trace(self) -> PoolTrace:
        """The pooling of the current map (one channel) with the current settings."""
        channel = min(self.channel.value(), self._x.shape[0] - 1)
        return trace_pool(self._x[channel], self.mode.currentData(), self.kernel.value(),
                          self.stride.value(), self.padding.value())

    # -- one step -----------------------------------------------------------------------------
    def _draw_step(self, trace: PoolTrace, s) -> None:
        """Show the window of step ``s``: highlighted cells, the winner (max), the output cell."""
        ph, pw = trace.padding
        self._show_window(s, trace.padded, "-∞" if trace.mode == "max" else "0")
        self.input_grid.set_marks([s.winner] if s.winner else [], _WINNER)
        self._show_output(s)
        h, w = trace.input.shape
        c = self._x.shape[0]
        name = channel_name(min(self.channel.value(), c - 1), c)
        self.input_title.setText(_("Map {h}x{w}").format(h=h, w=w)
                                 + (_(", channel {name}").format(name=name) if c > 1 else "")
                                 + (_(", padding {ph}").format(ph=ph) if ph or pw else ""))
        mode = _("Max pooling") if trace.mode == "max" else _("Average pooling")
        kh, kw = trace.kernel_size
        self.output_title.setText(
            _("{mode} {kh}x{kw}, stride {stride}: {out_h}x{out_w}").format(
                mode=mode, kh=kh, kw=kw, stride=trace.stride[0], out_h=trace.out_shape[0],
                out_w=trace.out_shape[1]
            ))
        self.window_label.setText(
            _("Window: {window}").format(window=pool_text(trace, s))
            + (_("; the winner is at row {row}, column {col}").format(
                row=s.winner[0] - ph, col=s.winner[1] - pw) if s.winner else ""))
