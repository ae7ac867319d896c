"""The main window: docks from the registry, saved layout, session wiring, status bar.

Its menus, toolbar and the slots they call live in :mod:`gui.actions`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QTabWidget,
    QWidget,
)

from engine.i18n import _
from gui import help as help_
from gui import live_offer, tooltips
from gui.actions import MenuActions, build_menus
from gui.autosave import Autosaver
from gui.capture import classify_path
from gui.dock_image import install_menu
from gui.guards import open_problem, sentence
from gui.layout import DEFAULT_SIZE, DOCKS, DockSpec
from gui.lazy_dock import LazyDock
from gui.live import LiveResults, Stats
from gui.presenter import install as install_presenter
from gui.session import Session, SourceSpec, config_dir

LAYOUT_VERSION = 6  # bump when the dock set or default layout changes (an old one is not applied)
_GROW = 0.9  # on a bigger screen than DEFAULT_SIZE the window takes this share of it
_CHROME_HEIGHT = 100  # menu bar, toolbar and status bar
_SPLITTER = 6  # pixels between two stacked docks
_AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "top": Qt.DockWidgetArea.TopDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}
# Docks sharing an area are stacked top to bottom, except along the bottom edge.
_STACKING = {
    "left": Qt.Orientation.Vertical,
    "right": Qt.Orientation.Vertical,
    "top": Qt.Orientation.Vertical,
    "bottom": Qt.Orientation.Horizontal,
}
# Default sizes as shares of the window: (key, share, along which direction); widths are shares
# of the window's width, heights of the height left by the menus, toolbar and status bar.
# At 1280 x 800 the side columns are 430 and 390 pixels wide; the middle gets the rest.
_DEFAULT_SHARES = (
    ("source", 0.42, Qt.Orientation.Vertical),
    ("maps", 0.336, Qt.Orientation.Horizontal),
    ("kernels", 0.55, Qt.Orientation.Vertical),
    ("pipeline", 0.305, Qt.Orientation.Horizontal),
    ("stepper", 0.46, Qt.Orientation.Vertical),
)
# When a column is too short to stack its docks and they become tabs, this one is in front: the
# kernels sit beside the maps they make (the layers are listed by the stepper and the ledger).
_FRONT_WHEN_TABBED = ("kernels",)


def initial_size(available: QSize) -> QSize:
    """The window's first size on a screen whose free area is ``available``.

    1280 x 800 on a laptop-sized screen (all of it when smaller), 90% of a bigger one.
    """
    width, height = DEFAULT_SIZE
    return QSize(min(available.width(), max(width, round(available.width() * _GROW))),
                 min(available.height(), max(height, round(available.height() * _GROW))))


def _too_tall(column: list[QDockWidget], room: int) -> bool:
    """Would these docks, stacked, need more than ``room`` pixels of height?"""
    needed = sum(d.minimumSizeHint().height() for d in column) + _SPLITTER * (len(column) - 1)
    return needed > room


class MainWindow(MenuActions, QMainWindow):
    """CNN Explorer's window.

    Parameters
    ----------
    session, live : Session, LiveResults
        The state the docks mirror and the live results they show.
    docks : tuple of DockSpec
        The panels to build (the registry by default).
    persist : bool
        Save the layout and the session on close and restore the layout on start
        (off for screenshot runs, which must not depend on or change the user's state).
    """

    def __init__(
        self,
        session: Session,
        live: LiveResults,
        docks: tuple[DockSpec, ...] = DOCKS,
        persist: bool = True,
    ) -> None:
        super().__init__()
        self.session, self.live, self.persist = session, live, persist
        self.setObjectName("CnnExplorerMainWindow")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        # Tabs of docks that share a place go on top, where a newcomer sees them, not below.
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        # Left and right columns run the full height; top and bottom fit between them.
        for corner, area in (
            (Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
            (Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
            (Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea),
            (Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea),
        ):
            self.setCorner(corner, area)
        self.dock_specs = docks
        self.workspace = "explore"  # the workspace last chosen (View > Workspaces)
        self.docks: dict[str, QDockWidget] = {}
        for spec in docks:
            self.docks[spec.key] = self._make_dock(spec)
        # Without a central widget, every relayout (a label's new text) hands width from the
        # middle column to the side ones; an empty expanding centre keeps the columns still.
        spacer = QWidget()
        spacer.setObjectName("central_spacer")
        spacer.setMaximumHeight(0)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCentralWidget(spacer)
        self.resize(self._first_size())
        self.apply_default_layout()
        self._help_window: help_.ShortcutsWindow | None = None
        self._welcome_window = None  # gui.welcome.WelcomeDialog, made when first shown
        self.message_label = QLabel()
        self.message_label.setToolTip(_("The latest message from the app"))
        self.stats_label = QLabel(_("starting..."))
        self.stats_label.setToolTip(
            _("Frames read per second, engine time per frame, frames shown per second, "
            "and frames skipped because the engine was busy (the newest frame always wins)")
        )
        self.statusBar().addWidget(self.message_label, 1)
        self.statusBar().addPermanentWidget(self.stats_label)
        self.last_message: tuple[str, str] | None = None
        self.show_message("info", _("Open an image, video or camera from the File menu, or drop "
                          "a file on the window. F1 lists the keyboard shortcuts."))
        self.actions_by_name: dict[str, QAction] = {}
        self._last_network_name: str | None = None
        self.menus = build_menus(self)
        self._sync_from_session()
        self._show_predictions_for_a_new_classifier(session.pipeline)
        session.message.connect(self.show_message)
        session.pipeline_changed.connect(self._on_session_pipeline)
        session.source_changed.connect(self._on_session_source)
        session.display_changed.connect(self._on_session_display)
        session.paused_changed.connect(self._on_session_paused)
        live.statsUpdated.connect(self._on_live_stats)
        live_offer.install(self)  # says when the live view cannot keep up, offers remedies
        self.autosaver = None  # screenshot runs save nothing
        if persist:
            self.restore_layout()
            self.autosaver = Autosaver(session, parent=self)
        self.presenter = install_presenter(self, LAYOUT_VERSION)  # View > Presenter mode, zoom
        tooltips.install(self)  # dock tabs and submenus explain themselves too

    # -- docks and layout -----------------------------------------------------------------
    def _make_dock(self, spec: DockSpec) -> QDockWidget:
        def build(parent: QWidget) -> QWidget:
            return spec.load()(self.session, self.live, parent=parent)

        title = _(spec.title)
        if spec.shown:
            dock = QDockWidget(title, self)
            dock.setWidget(build(dock))
        else:  # hidden at start: built when first shown (start-up time)
            dock = LazyDock(title, self, build)
        dock.setObjectName(f"dock_{spec.key}")
        install_menu(dock, self)  # Copy as image, Save as image..., Fill the screen
        dock.setToolTip(_(spec.tooltip))
        toggle = dock.toggleViewAction()
        toggle.setToolTip(_("Show or hide the {title} panel").format(title=title))
        if spec.shortcut:
            toggle.setShortcut(QKeySequence(spec.shortcut))
        return dock

    def _first_size(self) -> QSize:
        """:func:`initial_size` for this window's screen; 1280 x 800 without a real screen
        (the offscreen platform of tests and screenshot runs has an 800 x 800 one)."""
        screen = self.screen()
        if screen is None or QGuiApplication.platformName() in ("offscreen", "minimal"):
            return QSize(*DEFAULT_SIZE)
        return initial_size(screen.availableGeometry().size())

    def apply_default_layout(self) -> None:
        """Put every dock back in its default place and size, docked and visible.

        Docks sharing an area are stacked while their minimum heights fit the window; one that
        would not fit becomes a tab of the area's first dock instead (at 1280 x 800 the
        pipeline and the kernels share the right column as tabs; at 1920 x 1080 both show).
        """
        self.workspace = "explore"
        room = self.height() - _CHROME_HEIGHT
        for spec in self.dock_specs:  # panels added later by other code stay where they are
            dock = self.docks[spec.key]
            dock.setFloating(False)
            self.removeDockWidget(dock)
        placed: dict[str, list[QDockWidget]] = {}
        tabbed: list[QDockWidget] = []
        for spec in self.dock_specs:
            dock = self.docks[spec.key]
            column = placed.setdefault(spec.area, [])
            if spec.tab_with in self.docks:
                self.tabifyDockWidget(self.docks[spec.tab_with], dock)
                dock.setVisible(spec.shown)
                continue
            if not column:
                self.addDockWidget(_AREAS[spec.area], dock)
                column.append(dock)
            elif (_STACKING[spec.area] == Qt.Orientation.Vertical
                  and _too_tall([*column, dock], room)):
                self.tabifyDockWidget(column[0], dock)
                tabbed.append(dock)
            else:
                self.splitDockWidget(column[-1], dock, _STACKING[spec.area])
                column.append(dock)
            dock.setVisible(spec.shown)
        for column in placed.values():
            column[0].raise_()  # the first dock of a tab group is the one in front
        for dock in tabbed:
            if dock.objectName().removeprefix("dock_") in _FRONT_WHEN_TABBED:
                dock.raise_()
        for key, share, orientation in _DEFAULT_SHARES:
            if key in self.docks:
                total = self.width() if orientation == Qt.Orientation.Horizontal else room
                self.resizeDocks([self.docks[key]], [round(share * total)], orientation)

    def _settings(self) -> QSettings:
        return QSettings(str(config_dir() / "layout.ini"), QSettings.Format.IniFormat)

    def save_layout(self) -> None:
        settings = self._settings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("state", self.presenter.state_to_save())
        settings.sync()

    def restore_layout(self) -> bool:
        """Apply the saved geometry and dock layout; False when none was saved."""
        settings = self._settings()
        geometry, state = settings.value("geometry"), settings.value("state")
        if not isinstance(geometry, QByteArray) or not isinstance(state, QByteArray):
            return False
        self.restoreGeometry(geometry)
        return self.restoreState(state, LAYOUT_VERSION)

    # -- opening files --------------------------------------------------------------------
    def open_path(self, path: str | Path) -> bool:
        """Open an image, video or pipeline file by its extension; a message says what failed."""
        path = Path(path)
        kind = classify_path(path)
        if kind is None:
            self._error(_("{name}: not an image, video or pipeline file CNN Explorer knows.")
                          .format(name=path.name))
            return False
        problem = open_problem(path, kind)  # a FIFO named x.png, a header declaring 400 MP
        if problem is not None:
            self._error(sentence(problem))
            return False
        if kind == "pipeline":
            return self.open_pipeline(path)
        if kind == "model":
            from gui.dialogs.preprocess import open_model_flow

            return open_model_flow(self, path, self.session)
        self.open_source(SourceSpec(kind=kind, path=str(path)))
        return True

    def open_source(self, spec: SourceSpec) -> None:
        """Show ``spec``; choosing the current source again opens it anew (a camera back)."""
        if spec == self.session.source:
            self.live.reopen()
        else:
            self.session.set_source(spec)

    def _error(self, text: str) -> None:
        self.session.message.emit("error", text)

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls and all(classify_path(u.toLocalFile()) for u in urls if u.isLocalFile()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
        event.acceptProposedAction()

    # -- session -> window ----------------------------------------------------------------
    def _sync_from_session(self) -> None:
        self._on_session_display(self.session.display)
        self._on_session_paused(self.session.paused)
        self._on_session_pipeline(self.session.pipeline)

    def _update_title(self) -> None:
        name = getattr(self.session.pipeline, "name", "") or "pipeline"
        self.setWindowTitle(_("CNN Explorer - {name} on {describe}")
                              .format(name=name, describe=self.session.source.describe()))

    def _on_session_pipeline(self, pipeline) -> None:
        self.actions_by_name["undo"].setEnabled(self.session.can_undo)
        self.actions_by_name["redo"].setEnabled(self.session.can_redo)
        self._update_title()
        self._show_predictions_for_a_new_classifier(pipeline)

    def _show_predictions_for_a_new_classifier(self, pipeline) -> None:
        """A newly opened classifier brings its predictions into view, and a network whose
        output is a map as large as its input (segmentation, autoencoder) its output map
        (edits do not)."""
        from engine.graph.output import CLASSES, output_info

        if pipeline.name == self._last_network_name:
            return
        self._last_network_name = pipeline.name
        dock = self.docks.get("predictions")
        output = output_info(pipeline)
        if dock is not None and output is not None and (output.kind == CLASSES or output.dense):
            dock.show()
            dock.raise_()
            # Before the window is shown a tab group may not take the raise yet: repeat it
            # once the event loop runs.
            QTimer.singleShot(0, dock.raise_)

    def _on_session_source(self, _spec) -> None:
        self._update_title()

    def _on_session_display(self, display) -> None:
        for action in self.resolution_group.actions():
            if action.data() == display.resolution:
                action.setChecked(True)
        combo: QComboBox = self.resolution_combo
        combo.blockSignals(True)
        combo.setCurrentIndex(combo.findData(display.resolution))
        combo.blockSignals(False)
        channels = self.actions_by_name["channels"]
        channels.blockSignals(True)
        channels.setChecked(display.show_channels)
        channels.blockSignals(False)

    def _on_session_paused(self, paused: bool) -> None:
        action = self.actions_by_name["pause"]
        action.blockSignals(True)
        action.setChecked(paused)
        action.blockSignals(False)
        action.setText(_("Resume") if paused else _("Pause"))

    def show_message(self, level: str, text: str) -> None:
        self.last_message = (level, text)
        colors = {"error": "#c62828", "warning": "#b26a00"}
        color = colors.get(level)
        self.message_label.setStyleSheet(f"color: {color};" if color else "")
        self.message_label.setText(text)
        self.message_label.setToolTip(text)

    def _on_live_stats(self, stats: Stats) -> None:
        self.stats_label.setText(stats.describe())

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.persist:
            self.save_layout()
            try:  # the final save, not marked as running: the next start knows the run ended
                self.autosaver.close()
            except (OSError, ValueError) as exc:
                self._error(_("Could not save the session: {exc}").format(exc=exc))
        self.live.stop()
        training = sys.modules.get("gui.train.controller")  # loaded once training was used
        if training is not None:
            training.shutdown(self.session)  # a running run keeps a checkpoint to resume
        for signal, slot in (
            (self.session.message, self.show_message),
            (self.session.pipeline_changed, self._on_session_pipeline),
            (self.session.source_changed, self._on_session_source),
            (self.session.display_changed, self._on_session_display),
            (self.session.paused_changed, self._on_session_paused),
        ):
            signal.disconnect(slot, missing_ok=True)
        for child in (self._help_window, self._welcome_window):
            if child is not None:
                child.close()
        super().closeEvent(event)
