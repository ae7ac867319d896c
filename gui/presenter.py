"""Presenter mode: the interface scaled for a projector, the secondary panels out of the way,
one panel able to fill the screen.

The session holds the choice (:class:`gui.session_state.PresenterOptions`: on or off, 1.5x or
2x, and the zoom that Ctrl+= / Ctrl+- / Ctrl+0 change at any time); :class:`Presenter` applies
it to the window: :func:`gui.ui_scale.apply_scale` scales every panel, and entering presenter
mode hides the toolbar and the panels in :data:`SECONDARY` after keeping the layout, which
leaving restores. "Fill the screen" (F11, a panel's context menu, or a double-click on its title
in presenter mode) shows one panel alone, full screen, until Esc.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QActionGroup, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QToolBar

from engine.i18n import _
from gui import ui_scale
from gui.dock_image import active_dock, ask_save_dock_image, copy_dock_image
from gui.presenter_fit import fit_to_screen, room
from gui.session_state import PRESENTER_SCALES, ZOOM_STEPS

__all__ = ["SECONDARY", "Presenter", "install"]

# Panels hidden in presenter mode: the editing and bookkeeping ones, which the lecture points
# at less than at the pictures. View > panels brings any of them back.
SECONDARY = ("pipeline", "stepper", "ledger", "train_data", "train_classes", "train_network",
             "train_settings", "train_histograms")


class Presenter(QObject):
    """Applies the session's presenter options to ``window`` and offers the View menu's
    presenter, zoom and fill-the-screen actions.

    ``layout_version`` is the version the window saves its layout with (kept states are
    written to the layout file when the window closes in presenter mode).
    """

    def __init__(self, window: QMainWindow, layout_version: int) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self._version = layout_version
        self._normal_state: QByteArray | None = None  # the layout before presenter mode
        self._normal_workspace = "explore"  # and the workspace it showed
        self._fill: tuple[QDockWidget, QByteArray, Qt.WindowState] | None = None
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), window, self.unfill)
        self._escape.setWhatsThis(_("Back to all panels from one filling the screen"))
        self._escape.setEnabled(False)
        self._add_actions()
        # A panel shown or hidden in presenter mode (a workspace, a tour stop) may stack a
        # column taller than the screen: tabs then, a moment later, once the layout ran.
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.timeout.connect(self.fit)
        for dock in window.findChildren(QDockWidget):
            dock.installEventFilter(self)
            dock.visibilityChanged.connect(self._schedule_fit)
        # A secondary panel stays hidden in presenter mode when a workspace or a tour stop
        # shows it, not when the user opens it from the View menu.
        self._asked: set[str] = set()
        for key in SECONDARY:
            if key in window.docks:
                window.docks[key].toggleViewAction().triggered.connect(
                    lambda on, k=key: self._asked.add(k) if on else self._asked.discard(k))
        self.session.presenter_changed.connect(self._on_session_presenter)
        self._on_session_presenter(self.session.presenter)

    # -- menus ----------------------------------------------------------------------------
    def _add_actions(self) -> None:
        window = self.window
        view = window.menu_by_key["view"]
        view.addSeparator()
        self.toggle = window.add_menu_action(
            "view", "presenter", _("&Presenter mode"), self._on_toggle, "Ctrl+Alt+P",
            _("Everything larger for a projector; the toolbar and the secondary panels hidden"),
            checkable=True)
        sub = view.addMenu(_("Presenter &scale"))
        sub.setToolTipsVisible(True)
        self.scale_group = QActionGroup(self)
        for scale in PRESENTER_SCALES:
            action = window.add_menu_action(
                "view", f"presenter_scale_{scale:g}", _("{scale}x").format(scale=f"{scale:g}"),
                lambda _checked=False, s=scale: self.session.set_presenter(scale=s),
                tip=_("Presenter mode draws everything {scale} times larger").format(
                    scale=f"{scale:g}"), checkable=True, menu_object=sub)
            action.setData(scale)
            self.scale_group.addAction(action)
        zoom_in = window.add_menu_action("view", "zoom_in", _("Zoom &in"), self.zoom_in,
                                         "Ctrl+=", _("Draw everything larger"))
        zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        window.add_menu_action("view", "zoom_out", _("Zoom &out"), self.zoom_out, "Ctrl+-",
                               _("Draw everything smaller"))
        window.add_menu_action("view", "zoom_reset", _("&Actual size"), self.zoom_reset,
                               "Ctrl+0", _("Undo the zoom (presenter mode keeps its scale)"))
        window.add_menu_action(
            "view", "fill_screen", _("&Fill the screen with this panel"), self.fill_active,
            "F11", _("Show the panel with the keyboard focus (or under the pointer) alone, full"
                     " screen; Esc brings the others back"))
        edit = window.menu_by_key["edit"]
        edit.addSeparator()
        window.add_menu_action(
            "edit", "copy_dock_image", _("&Copy panel as image"), self.copy_active,
            "Ctrl+Shift+C", _("Copy the panel with the keyboard focus (or under the pointer) to"
                              " the clipboard as a picture at twice its size, for slides"))
        window.add_menu_action(
            "edit", "save_dock_image", _("Save panel as &image..."), self.save_active, None,
            _("Save the panel with the keyboard focus (or under the pointer) as a PNG picture"
              " at twice its size"))

    def _schedule_fit(self, _visible: bool = True) -> None:
        if self.active and self._fill is None:
            self._fit_timer.start(0)

    def fit(self) -> None:
        """In presenter mode, make stacked panels tabs until the window fits its screen."""
        if self.active and self._fill is None:
            window = self.window
            self._hide_secondary()
            window.layout().activate()
            fit_to_screen(window)
            height = room(window) - (window.frameGeometry().height() - window.height())
            if window.height() > height and not window.isFullScreen():
                window.resize(window.width(), max(height, window.minimumSizeHint().height()))

    def _on_toggle(self, on: bool) -> None:
        self.session.set_presenter(on=bool(on))

    def zoom_in(self) -> None:
        self._step_zoom(+1)

    def zoom_out(self) -> None:
        self._step_zoom(-1)

    def zoom_reset(self) -> None:
        self.session.set_presenter(zoom=1.0)

    def _step_zoom(self, direction: int) -> None:
        zoom = self.session.presenter.zoom
        if direction > 0:
            larger = [z for z in ZOOM_STEPS if z > zoom + 1e-6]
            new = larger[0] if larger else ZOOM_STEPS[-1]
        else:
            smaller = [z for z in ZOOM_STEPS if z < zoom - 1e-6]
            new = smaller[-1] if smaller else ZOOM_STEPS[0]
        self.session.set_presenter(zoom=new)

    # -- session -> window ----------------------------------------------------------------
    def _on_session_presenter(self, options) -> None:
        was_on = self._normal_state is not None
        if options.on and not was_on:
            self._enter()
        ui_scale.apply_scale(options.factor, options.on)
        self._scale_dock_titles()
        self._schedule_fit()
        if was_on and not options.on:
            self._leave()
        self.toggle.blockSignals(True)
        self.toggle.setChecked(options.on)
        self.toggle.blockSignals(False)
        for action in self.scale_group.actions():
            action.setChecked(action.data() == options.scale)

    def _scale_dock_titles(self) -> None:
        # QDockWidget paints its title with the font the application had when the dock was
        # made, unless the dock's own font differs from its class default: give scaled docks
        # the application font with a style strategy that renders the same but compares unequal.
        font = QFont(QApplication.font())
        font.setStyleStrategy(QFont.StyleStrategy.PreferQuality)
        for dock in self.window.findChildren(QDockWidget):
            dock.setFont(font if ui_scale.factor() != 1.0 else QFont())

    def _enter(self) -> None:
        self.unfill()
        self._normal_state = self.window.saveState(self._version)
        self._normal_workspace = getattr(self.window, "workspace", "explore")
        for bar in self.window.findChildren(QToolBar):
            bar.hide()
        self._asked.clear()
        self._hide_secondary()
        self.window.centralWidget().hide()  # the panels left share the whole window

    def _hide_secondary(self) -> None:
        for key in SECONDARY:
            dock = self.window.docks.get(key)
            if dock is not None and key not in self._asked and not dock.isHidden():
                dock.hide()

    def _leave(self) -> None:
        self.unfill()
        state, self._normal_state = self._normal_state, None
        self.window.restoreState(state, self._version)
        self.window.workspace = self._normal_workspace  # a workspace chosen meanwhile is gone
        self.window.centralWidget().show()

    @property
    def active(self) -> bool:
        """True while presenter mode is on."""
        return self._normal_state is not None

    def state_to_save(self) -> QByteArray:
        """The layout to keep when the window closes: the one before presenter mode or the
        filled screen, so that the next start (which enters them again) can leave them."""
        if self._fill is not None and self._normal_state is None:
            return self._fill[1]
        if self._normal_state is not None:
            return self._normal_state
        return self.window.saveState(self._version)

    # -- one panel fills the screen -------------------------------------------------------
    @property
    def filled(self) -> QDockWidget | None:
        """The panel filling the screen, or None."""
        return self._fill[0] if self._fill is not None else None

    def fill(self, dock: QDockWidget) -> None:
        """Show ``dock`` alone, full screen; Esc (:meth:`unfill`) brings the layout back."""
        if self._fill is not None:
            self.unfill()
        window = self.window
        self._fill = (dock, window.saveState(self._version), window.windowState())
        for other in window.findChildren(QDockWidget):
            if other is not dock:
                other.hide()
        for bar in window.findChildren(QToolBar):
            bar.hide()
        dock.setFloating(False)
        dock.show()
        dock.raise_()
        window.centralWidget().hide()  # without it, the lone panel takes the whole window
        window.statusBar().hide()
        window.showFullScreen()
        self._escape.setEnabled(True)
        dock.setFocus()

    def unfill(self) -> None:
        """Bring back the layout a filled screen replaced; nothing when none fills it."""
        if self._fill is None:
            return
        _dock, state, window_state = self._fill
        self._fill = None
        self._escape.setEnabled(False)
        window = self.window
        window.setWindowState(window_state)
        window.restoreState(state, self._version)
        window.centralWidget().setVisible(self._normal_state is None)
        window.statusBar().show()

    def fill_active(self) -> None:
        dock = active_dock(self.window)
        if dock is not None:
            self.fill(dock)

    def copy_active(self) -> None:
        dock = active_dock(self.window)
        if dock is not None:
            copy_dock_image(dock)
            self.session.message.emit("info", _("Copied the {panel} panel as a picture.").format(
                panel=dock.windowTitle()))

    def save_active(self) -> None:
        dock = active_dock(self.window)
        if dock is not None:
            ask_save_dock_image(self.window, dock)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # In presenter mode a double-click on a panel's title fills the screen with it
        # (elsewhere it keeps Qt's meaning: float or dock the panel).
        if (event.type() == QEvent.Type.MouseButtonDblClick and self.active
                and isinstance(watched, QDockWidget) and watched.widget() is not None
                and event.position().y() < watched.widget().geometry().top()):
            self.fill(watched)
            return True
        return super().eventFilter(watched, event)


def install(window: QMainWindow, layout_version: int) -> Presenter:
    """Add presenter mode to ``window`` (after its menus and docks are built)."""
    return Presenter(window, layout_version)
