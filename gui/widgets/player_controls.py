"""The transport bar shared by the convolution and pooling players.

Also small helpers other docks use for their settings: a labelled row, a shrinkable combo box
and a warning colour. The players' crop box lives in :mod:`gui.widgets.crop_controls`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QToolButton,
    QWidget,
)

from engine.i18n import _
from gui.ui_scale import follow, px, scaled

__all__ = [
    "SPEEDS",
    "PlayerControls",
    "labelled_row",
    "set_warning",
    "shrinkable",
]

_WARNING = QColor(176, 0, 0)


def set_warning(label: QLabel, on: bool) -> None:
    """Draw a label's text in dark red (a warning) or in the normal text colour."""
    palette = label.palette()
    normal = QApplication.palette(label).color(QPalette.ColorRole.WindowText)
    color = _WARNING if on else normal
    palette.setColor(QPalette.ColorRole.WindowText, color)
    label.setPalette(palette)


def labelled_row(items, end_stretch: bool = True) -> QHBoxLayout:
    """A row of setting widgets, each after a short label that shows the widget's tooltip too.

    Parameters
    ----------
    items : iterable of tuple
        ``(text, widget)`` or ``(text, widget, stretch)``; a text of None adds no label.
    end_stretch : bool
        Push the row to the left with a stretch at its end.
    """
    row = QHBoxLayout()
    for text, widget, *stretch in items:
        if text:
            label = QLabel(text)
            label.setToolTip(widget.toolTip())
            row.addWidget(label)
        row.addWidget(widget, *stretch)
    if end_stretch:
        row.addStretch(1)
    return row


def shrinkable(combo: QComboBox, chars: int = 10) -> QComboBox:
    """Let a combo box shrink to about ``chars`` characters when space is short.

    Its natural width is its longest entry, which would set the whole panel's minimum width;
    the open list still shows every entry in full, and the tooltip says what the box is for.
    """
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo


#: Steps per second offered in the speed box.
SPEEDS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


class PlayerControls(QWidget):
    """A transport bar over ``count`` steps: the current step is 0 to count - 1.

    Signals
    -------
    stepChanged(int)
        The current step changed (by a button, the slider, the timer or :meth:`set_step`).
    """

    stepChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._count = 1
        self._step = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)

        style = self.style()
        icon = QStyle.StandardPixmap
        self.first_button = self._button(style.standardIcon(icon.SP_MediaSkipBackward),
                                         _("Go to the first step (Home)"), self.first)
        self.back_button = self._button(style.standardIcon(icon.SP_MediaSeekBackward),
                                        _("One step back (Left arrow)"), self.back)
        self.play_button = self._button(style.standardIcon(icon.SP_MediaPlay),
                                        _("Play the steps one after another, or pause (P)"),
                                        self.toggle)
        self.forward_button = self._button(style.standardIcon(icon.SP_MediaSeekForward),
                                           _("One step forward (Right arrow)"), self.forward)
        self.last_button = self._button(style.standardIcon(icon.SP_MediaSkipForward),
                                        _("Go to the last step (End)"), self.last)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip(_("Drag to jump to any step"))
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.label = QLabel()
        self.label.setToolTip(_("The current step and how many there are (one per output cell)"))
        self._fit_label()
        follow(self, self._fit_label)  # the label's width follows the text size
        self.speed = QComboBox()
        for value in SPEEDS:
            self.speed.addItem(_("{value:g} steps/s").format(value=value), value)
        self.speed.setCurrentIndex(SPEEDS.index(2.0))
        self.speed.setToolTip(_("How fast Play moves through the steps"))
        self.speed.currentIndexChanged.connect(self._on_speed_changed)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for button in (self.first_button, self.back_button, self.play_button,
                       self.forward_button, self.last_button):
            row.addWidget(button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        row.addWidget(self.speed)
        self._on_speed_changed()
        self._sync()

    def install_shortcuts(self, widget: QWidget) -> None:
        """Home, End, Left, Right and P drive the player while ``widget`` has the focus.

        Not Space: that is the window-wide Pause, and two shortcuts on one key cancel out.
        """
        for key, slot in (("Home", self.first), ("End", self.last), ("Left", self.back),
                          ("Right", self.forward), ("P", self.toggle)):
            shortcut = QShortcut(QKeySequence(key), widget)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def _button(self, icon, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setIcon(icon)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        scaled(button.setIconSize, 16, 16)
        button.clicked.connect(slot)
        return button

    # -- state --------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return self._count

    @property
    def step(self) -> int:
        return self._step

    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def _fit_label(self) -> None:
        longest = self.label.fontMetrics().horizontalAdvance(
            _("step {value} of {count}").format(value=self._count, count=self._count))
        self.label.setMinimumWidth(max(px(90), longest + 8))

    def set_count(self, count: int) -> None:
        """Set the number of steps; the current step is kept when it still exists."""
        self._count = max(int(count), 1)
        # Wide enough for the longest label of this count, so scrubbing never cuts it off.
        self._fit_label()
        if self._step >= self._count:
            self._step = self._count - 1
        self._sync()

    def set_step(self, step: int) -> None:
        """Go to a step (clamped to the range); emits stepChanged when it changes."""
        step = min(max(int(step), 0), self._count - 1)
        if step == self._step:
            return
        self._step = step
        self._sync()
        self.stepChanged.emit(step)

    # -- actions ------------------------------------------------------------------------------
    def first(self) -> None:
        self.set_step(0)

    def last(self) -> None:
        self.set_step(self._count - 1)

    def forward(self) -> None:
        self.set_step(self._step + 1)

    def back(self) -> None:
        self.set_step(self._step - 1)

    def play(self) -> None:
        if self._step >= self._count - 1:
            self.set_step(0)  # Play at the end starts over
        self._timer.start()
        self._sync()

    def pause(self) -> None:
        self._timer.stop()
        self._sync()

    def toggle(self) -> None:
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def _on_timer_timeout(self) -> None:
        if self._step >= self._count - 1:
            self.pause()
        else:
            self.forward()

    def _on_speed_changed(self, *_args) -> None:
        self._timer.setInterval(int(1000 / self.speed.currentData()))

    def _on_slider_value_changed(self, value: int) -> None:
        self.set_step(value)

    def _sync(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, self._count - 1)
        self.slider.setValue(self._step)
        self.slider.blockSignals(False)
        self.label.setText(_("step {value} of {count}")
                             .format(value=self._step + 1, count=self._count))
        icon = QStyle.StandardPixmap.SP_MediaPause if self.is_playing else \
            QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        at_start, at_end = self._step == 0, self._step >= self._count - 1
        self.first_button.setEnabled(not at_start)
        self.back_button.setEnabled(not at_start)
        self.forward_button.setEnabled(not at_end)
        self.last_button.setEnabled(not at_end)
