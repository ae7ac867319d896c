"""The guided tour panel: one stop of the lecture at a time, with Back, Next and Leave.

The panel only shows text; :func:`gui.tour.apply_stop` does the setting up. It finds the main
window through its parents (the dock's parent is the window), so it is built like every other
panel, as ``TourDock(session, live, parent)``. Nothing happens to the user's setup until they
press a button: opening the panel does not apply a stop.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.i18n import _
from gui.tour import TOUR_KEY, apply_stop, apply_to_session, stops
from gui.ui_scale import set_font

__all__ = ["TourDock"]


class TourDock(QWidget):
    """The tour panel (registered as "tour").

    Parameters
    ----------
    session, live : Session, LiveResults
        As for every panel; the session is set up directly when no main window is found.
    parent : QWidget, optional
        The QDockWidget holding the panel; its parent is the main window.
    """

    def __init__(self, session, live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.live = session, live
        self._index = 0
        self._build()
        self.show_stop(0)

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.progress_label = QLabel()
        self.progress_label.setToolTip(_("Where you are in the tour"))
        self.progress = QProgressBar()
        self.progress.setRange(0, len(stops()))
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.setToolTip(_("Where you are in the tour"))
        self.stop_combo = QComboBox()
        self.stop_combo.setToolTip(_("Jump to any stop of the tour"))
        # Long stop titles must not widen the panel: the combo elides them instead.
        self.stop_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.stop_combo.setMinimumContentsLength(12)
        for i, stop in enumerate(stops()):
            self.stop_combo.addItem(_("{value}. {title}").format(value=i + 1, title=stop.title), i)
        self.stop_combo.activated.connect(self._on_stop_combo_activated)
        self.title = QLabel()
        set_font(self.title, 1.3, bold=True)
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setToolTip(_("What this stop is about"))
        self.text.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.formula = QLabel()
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_font(self.formula, fixed_pitch=True)
        self.formula.setToolTip(_("The formula of this stop, with the lecture's numbers"))
        self.formula_box = QFrame()
        self.formula_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.formula_box.setFrameShadow(QFrame.Shadow.Sunken)
        # The window's "base" colour (white in light themes) sets the box off from the panel.
        self.formula_box.setBackgroundRole(QPalette.ColorRole.Base)
        self.formula_box.setAutoFillBackground(True)
        box = QVBoxLayout(self.formula_box)
        box.setContentsMargins(8, 6, 8, 6)
        box.addWidget(self.formula)
        self.own_source = QCheckBox(_("Use my own source"))
        self.own_source.setToolTip(_("Keep the image, video or camera you opened instead of the "
                                   "sample each stop picks"))
        self.missing = QLabel()
        self.missing.setWordWrap(True)
        self.missing.setToolTip(_("Panels this stop would show that this window does not have"))
        self.back_button = self._button(_("◀ Back"), "Alt+Left", _("Go to the previous stop"),
                                        self.back)
        self.next_button = self._button(_("Next ▶"), "Alt+Right", _("Go to the next stop"),
                                        self.next)
        self.setup_button = self._button(_("Set up again"), "", _(
            "Set the panels up for this stop again, after you changed things"),
            self.apply_current)
        self.leave_button = self._button(_("Leave tour"), "Alt+L", _(
            "Close the tour and keep everything it set up"), self.leave)

        header = QHBoxLayout()
        header.addWidget(self.progress_label)
        header.addWidget(self.progress, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        more = QHBoxLayout()
        more.addWidget(self.setup_button)
        more.addWidget(self.leave_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.stop_combo)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addWidget(self.formula_box)
        layout.addWidget(self.missing)
        layout.addStretch(1)
        layout.addWidget(self.own_source)
        layout.addLayout(buttons)
        layout.addLayout(more)

    def _button(self, text: str, shortcut: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        if shortcut:
            button.setShortcut(shortcut)
            tip = f"{tip} ({shortcut})"
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    # -- state --------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """The stop on show, 0-based."""
        return self._index

    @property
    def use_own_source(self) -> bool:
        return self.own_source.isChecked()

    def set_use_own_source(self, on: bool) -> None:
        self.own_source.setChecked(bool(on))

    def show_stop(self, index: int, missing: tuple[str, ...] | list[str] = ()) -> None:
        """Show stop ``index``'s text (0-based) without setting anything up."""
        all_stops = stops()
        self._index = max(0, min(int(index), len(all_stops) - 1))
        stop = all_stops[self._index]
        n = len(all_stops)
        self.progress_label.setText(_("Stop {value} of {n}").format(value=self._index + 1, n=n))
        self.progress.setValue(self._index + 1)
        self.stop_combo.blockSignals(True)
        self.stop_combo.setCurrentIndex(self._index)
        self.stop_combo.blockSignals(False)
        self.title.setText(stop.title)
        self.text.setText(stop.text)
        self.formula.setText(stop.formula)
        self.back_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(self._index < n - 1)
        self.missing.setText(
            _("Not available in this window: {panels}.").format(panels=", ".join(missing))
            if missing else "")
        self.missing.setVisible(bool(missing))

    def _main_window(self):
        """The window holding this panel (it has ``docks``), or None when shown on its own."""
        widget = self.parentWidget()
        while widget is not None and not hasattr(widget, "docks"):
            widget = widget.parentWidget()
        return widget

    # -- actions ------------------------------------------------------------------------------
    def go_to(self, index: int) -> None:
        """Set up stop ``index`` (0-based) and show it."""
        index = max(0, min(int(index), len(stops()) - 1))
        window = self._main_window()
        if window is None:
            apply_to_session(self.session, stops()[index], self.use_own_source)
            self.show_stop(index)
            return
        missing = apply_stop(window, index, self.use_own_source)
        self.show_stop(index, missing)

    def next(self) -> None:
        self.go_to(self._index + 1)

    def back(self) -> None:
        self.go_to(self._index - 1)

    def apply_current(self) -> None:
        self.go_to(self._index)

    def leave(self) -> None:
        """Close the tour panel; the pipeline, source and panels stay as the stop left them."""
        window = self._main_window()
        dock = window.docks.get(TOUR_KEY) if window is not None else None
        if dock is not None:
            dock.hide()
        else:
            self.hide()
        self.session.message.emit(
            "info", _("You left the tour; everything it set up stays. "
                      "It is in the View menu when you want it back."))

    def _on_stop_combo_activated(self, row: int) -> None:
        self.go_to(row)
