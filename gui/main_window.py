"""The main window: docks from the registry, menus, toolbar, status bar, saved layout."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QWidget,
)

from gui import help as help_
from gui import tooltips
from gui.capture import classify_path
from gui.docks import DOCKS, DockSpec
from gui.live import LiveResults, Stats
from gui.session import Session, SourceSpec, config_dir

LAYOUT_VERSION = 3  # bump when the dock set changes so an old saved layout is not applied
DEFAULT_SIZE = (1280, 800)
_CHROME_HEIGHT = 100  # menu bar, toolbar and status bar
_SPLITTER = 6  # pixels between two stacked docks
RESOLUTIONS = ((320, "320"), (480, "480"), (640, "640"), (None, "Full"))
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
# Default sizes at 1280 x 800: (key, pixels, along which direction). The maps get the rest.
_DEFAULT_SIZES = (
    ("source", 300, Qt.Orientation.Vertical),
    ("maps", 430, Qt.Orientation.Horizontal),
    ("kernels", 400, Qt.Orientation.Vertical),
    ("pipeline", 390, Qt.Orientation.Horizontal),
    ("stepper", 340, Qt.Orientation.Vertical),
)


MENUS = (("file", "&File"), ("edit", "&Edit"), ("view", "&View"), ("playback", "&Playback"),
         ("help", "&Help"))
_STD = QKeySequence.StandardKey  # platform keys for undo / redo
# (menu, (name, text, "owner.method", shortcut, tooltip, checkable)), or a marker for a separator
# ("-") or a generated group ("samples", "bundled", "docks", "resolution").
MENU_ACTIONS = (
    ("file", ("open_image", "Open &image...", "window.ask_open_image", "Ctrl+O",
              "Open a PNG, JPEG, BMP, TIFF or WebP image", False)),
    ("file", ("open_video", "Open &video...", "window.ask_open_video", "Ctrl+Shift+O",
              "Open a video file; it plays in a loop", False)),
    ("file", ("open_camera", "Open &camera...", "window.ask_open_camera", "Ctrl+K",
              "Use a webcam as the source", False)),
    ("file", "samples"),
    ("file", "-"),
    ("file", ("open_pipeline", "Open &pipeline...", "window.ask_open_pipeline", "Ctrl+Shift+P",
              "Open a pipeline file (.json)", False)),
    ("file", ("open_model", "Open &model...", "window.ask_open_model", "Ctrl+M",
              "Open a trained network in ONNX format (.onnx)", False)),
    ("file", ("save_pipeline", "&Save pipeline as...", "window.ask_save_pipeline", "Ctrl+S",
              "Save the current pipeline to a file", False)),
    ("file", "bundled"),
    ("file", "-"),
    ("file", ("snapshot", "Save s&napshot...", "window.ask_snapshot", "Ctrl+Shift+S",
              "Save a picture of the whole window as PNG", False)),
    ("file", "-"),
    ("file", ("quit", "&Quit", "window.close", "Ctrl+Q", "Close CNN Explorer", False)),
    ("edit", ("undo", "&Undo", "session.undo", _STD.Undo,
              "Undo the last change to the pipeline", False)),
    ("edit", ("redo", "&Redo", "session.redo", _STD.Redo,
              "Redo the pipeline change last undone", False)),
    ("edit", "-"),
    ("edit", ("preprocess", "Input &preprocessing...", "window.edit_preprocessing", None,
              "How frames are resized and scaled for a trained network", False)),
    ("view", "docks"),
    ("view", ("reset_layout", "&Reset layout", "window.apply_default_layout", None,
              "Put every panel back where it was at first", False)),
    ("view", "-"),
    ("view", "resolution"),
    ("view", ("channels", "Show R, G, B &channels", "window.set_show_channels", "Ctrl+R",
              "Show the input's red, green, blue and gray channels", True)),
    ("playback", ("pause", "Pause", "window.set_paused", "Space",
                  "Pause or resume the video or camera", True)),
    ("playback", ("step", "Step &frame", "live.step", ".", "Pause and advance one frame", False)),
    ("playback", "-"),
    ("playback", ("next_layer", "&Next layer", "window.next_layer", "PgDown",
                  "Select the next layer", False)),
    ("playback", ("previous_layer", "P&revious layer", "window.previous_layer", "PgUp",
                  "Select the previous layer", False)),
    ("help", ("shortcuts", "&Keyboard shortcuts", "window.show_shortcuts", "F1",
              "List every keyboard shortcut", False)),
    ("help", ("about", "&About CNN Explorer", "window.show_about", None,
              "What CNN Explorer is", False)),
)
TOOLBAR = ("open_image", "open_video", "open_camera", "-", "pause", "step", "previous_layer",
           "next_layer", "-", "resolution", "channels")


def _too_tall(column: list[QDockWidget]) -> bool:
    """Would these docks, stacked, need more height than the default window offers?"""
    needed = sum(d.minimumSizeHint().height() for d in column) + _SPLITTER * (len(column) - 1)
    return needed > DEFAULT_SIZE[1] - _CHROME_HEIGHT


class MainWindow(QMainWindow):
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
        # Left and right columns run the full height; top and bottom fit between them.
        for corner, area in (
            (Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
            (Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea),
            (Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea),
            (Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea),
        ):
            self.setCorner(corner, area)
        self.dock_specs = docks
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
        self.resize(*DEFAULT_SIZE)
        self.apply_default_layout()
        self._help_window: help_.ShortcutsWindow | None = None
        self.message_label = QLabel()
        self.message_label.setToolTip("The latest message from the app")
        self.stats_label = QLabel("starting...")
        self.stats_label.setToolTip(
            "Frames read per second, engine time per frame, frames shown per second, "
            "and frames skipped because the engine was busy (the newest frame always wins)"
        )
        self.statusBar().addWidget(self.message_label, 1)
        self.statusBar().addPermanentWidget(self.stats_label)
        self.last_message: tuple[str, str] | None = None
        self.show_message("info", "Open an image, video or camera from the File menu, or drop "
                          "a file on the window. F1 lists the keyboard shortcuts.")
        self.actions_by_name: dict[str, QAction] = {}
        self._last_network_name: str | None = None
        self.menus = self._build_menus()
        self._sync_from_session()
        self._show_predictions_for_a_new_classifier(session.pipeline)
        session.message.connect(self.show_message)
        session.pipeline_changed.connect(self._on_session_pipeline)
        session.source_changed.connect(self._on_session_source)
        session.display_changed.connect(self._on_session_display)
        session.paused_changed.connect(self._on_session_paused)
        live.statsUpdated.connect(self._on_live_stats)
        if persist:
            self.restore_layout()
        tooltips.install(self)  # dock tabs and submenus explain themselves too

    # -- menus and toolbar ----------------------------------------------------------------
    def add_menu_action(
        self, menu: str, name: str, text: str, slot, shortcut=None, tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        """Add an action to a menu ("file", "edit", "view", "playback", "help") by name.

        For panels and features added later; the shortcuts window lists it automatically.
        """
        action = QAction(text, self, checkable=checkable)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text.replace("&", "").rstrip("."))
        action.setStatusTip(action.toolTip())
        action.triggered.connect(slot)
        self.actions_by_name[name] = action
        self.menu_by_key[menu].addAction(action)
        return action

    def _build_menus(self) -> list[QMenu]:
        from engine.spec import BUNDLED, BUNDLED_MODELS
        from gui.session import list_samples

        bar = self.menuBar()
        self.menu_by_key = {key: bar.addMenu(title) for key, title in MENUS}
        self.resolution_group, self.resolution_combo = make_resolution_group(self)
        targets = {"session": self.session, "live": self.live, "window": self}
        for menu, entry in MENU_ACTIONS:
            target = self.menu_by_key[menu]
            if entry == "-":
                target.addSeparator()
            elif entry == "docks":
                for group in dict.fromkeys(spec.group for spec in self.dock_specs):
                    target.addSection(group)
                    target.addActions([self.docks[spec.key].toggleViewAction()
                                       for spec in self.dock_specs if spec.group == group])
                target.addSeparator()
            elif entry == "resolution":
                target.addMenu("Working &resolution").addActions(self.resolution_group.actions())
            elif entry == "samples":
                sub = target.addMenu("&Samples")
                sub.setToolTipsVisible(True)
                for name in list_samples():
                    spec = SourceSpec(kind="sample", sample=name)
                    action = sub.addAction(name.replace("_", " ").capitalize(),
                                           lambda s=spec: self.open_source(s))
                    action.setToolTip(f"Show the bundled sample image '{name}'")
            elif entry == "bundled":
                sub = target.addMenu("&Bundled pipelines")
                sub.setToolTipsVisible(True)
                for name in (*BUNDLED, *BUNDLED_MODELS):
                    action = sub.addAction(name.capitalize(), lambda n=name: self.open_pipeline(n))
                    action.setToolTip(f"Load the bundled pipeline '{name}'")
            else:
                name, text, slot, shortcut, tip, checkable = entry
                owner, _, method = slot.partition(".")
                self.add_menu_action(menu, name, text, getattr(targets[owner], method),
                                     shortcut, tip, checkable)
        for menu in self.menu_by_key.values():
            menu.setToolTipsVisible(True)
        tools = self.addToolBar("Playback")
        tools.setObjectName("toolbar_playback")
        for name in TOOLBAR:
            if name == "-":
                tools.addSeparator()
            elif name == "resolution":
                label = QLabel(" Resolution ")
                label.setToolTip(self.resolution_combo.toolTip())
                tools.addWidget(label)
                tools.addWidget(self.resolution_combo)
            else:
                tools.addAction(self.actions_by_name[name])
        return list(self.menu_by_key.values())

    # -- small slots the menus call -------------------------------------------------------
    def next_layer(self) -> None:
        self.session.set_selected_layer(self.session.selected_layer + 1)

    def previous_layer(self) -> None:
        self.session.set_selected_layer(self.session.selected_layer - 1)

    def set_paused(self, on: bool) -> None:
        self.session.set_paused(bool(on))

    def set_show_channels(self, on: bool) -> None:
        self.session.set_display(show_channels=bool(on))

    def ask_open_image(self) -> None:
        self._ask_open("Open image", "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)")

    def ask_open_video(self) -> None:
        self._ask_open("Open video", "Videos (*.avi *.mp4 *.mov *.mkv *.webm *.m4v *.mpg *.wmv)")

    def ask_open_model(self) -> None:
        self._ask_open("Open model", "ONNX models (*.onnx)")

    def edit_preprocessing(self) -> None:
        from gui.dialogs.preprocess import edit_preprocessing_flow

        edit_preprocessing_flow(self, self.session)

    def ask_open_pipeline(self) -> None:
        self._ask_open("Open pipeline", "Pipelines (*.json)")

    def _ask_open(self, title: str, filters: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", filters)
        if path:
            self.open_path(path)

    def ask_open_camera(self) -> None:
        from engine.media import list_cameras

        # Probing absent cameras takes a moment; say so with the cursor.
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            cameras = list_cameras()
        finally:
            QApplication.restoreOverrideCursor()
        if not cameras:
            self._error("No camera found: none of cameras 0 to 4 opens. Is one connected?")
            return
        items = [f"Camera {i}" for i in cameras]
        item, ok = QInputDialog.getItem(self, "Open camera", "Camera:", items, 0, False)
        if ok:
            index = cameras[items.index(item)]
            self.open_source(SourceSpec(kind="camera", camera_index=index))

    def ask_save_pipeline(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save pipeline as", self.session.pipeline_path or "pipeline.json",
            "Pipelines (*.json)",
        )
        if path:
            self.save_pipeline(path)

    def ask_snapshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save snapshot", "cnn-explorer.png", "PNG images (*.png)"
        )
        if path:
            self.save_snapshot(path)

    def show_about(self) -> None:
        help_.show_about(self)

    # -- docks and layout -----------------------------------------------------------------
    def _make_dock(self, spec: DockSpec) -> QDockWidget:
        dock = QDockWidget(spec.title, self)
        dock.setObjectName(f"dock_{spec.key}")
        dock.setToolTip(spec.tooltip)
        dock.setWidget(spec.load()(self.session, self.live, parent=dock))
        toggle = dock.toggleViewAction()
        toggle.setToolTip(f"Show or hide the {spec.title} panel")
        if spec.shortcut:
            toggle.setShortcut(QKeySequence(spec.shortcut))
        return dock

    def apply_default_layout(self) -> None:
        """Put every dock back in its default place and size, docked and visible.

        Docks sharing an area are stacked while their minimum heights fit the default window;
        one that would not fit becomes a tab of the area's first dock instead.
        """
        for spec in self.dock_specs:  # panels added later by other code stay where they are
            dock = self.docks[spec.key]
            dock.setFloating(False)
            self.removeDockWidget(dock)
        placed: dict[str, list[QDockWidget]] = {}
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
            elif _STACKING[spec.area] == Qt.Orientation.Vertical and _too_tall([*column, dock]):
                self.tabifyDockWidget(column[0], dock)
            else:
                self.splitDockWidget(column[-1], dock, _STACKING[spec.area])
                column.append(dock)
            dock.setVisible(spec.shown)
        for column in placed.values():
            column[0].raise_()  # the first dock of a tab group is the one in front
        for key, size, orientation in _DEFAULT_SIZES:
            if key in self.docks:
                self.resizeDocks([self.docks[key]], [size], orientation)

    def _settings(self) -> QSettings:
        return QSettings(str(config_dir() / "layout.ini"), QSettings.Format.IniFormat)

    def save_layout(self) -> None:
        settings = self._settings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("state", self.saveState(LAYOUT_VERSION))
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
            self._error(f"{path.name}: not an image, video or pipeline file CNN Explorer knows.")
            return False
        if not path.is_file():
            self._error(f"{path}: the file does not exist.")
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

    def open_pipeline(self, path_or_name: str | Path) -> bool:
        from engine.spec import resolve_pipeline

        try:
            pipeline = resolve_pipeline(str(path_or_name))
        except (OSError, ValueError) as exc:
            self._error(f"Could not open the pipeline: {exc}")
            return False
        is_file = Path(str(path_or_name)).suffix.lower() == ".json"
        self.session.set_pipeline(pipeline, path=str(path_or_name) if is_file else None)
        return True

    def save_pipeline(self, path: str | Path) -> bool:
        from engine.spec import save_pipeline

        try:
            save_pipeline(self.session.pipeline, path)
        except (OSError, ValueError) as exc:
            self._error(f"Could not save the pipeline: {exc}")
            return False
        self.session.pipeline_path = str(path)
        self.session.message.emit("info", f"Pipeline saved to {path}.")
        return True

    def save_snapshot(self, path: str | Path) -> bool:
        """Save a PNG of the whole window."""
        if not self.grab().save(str(path), "PNG"):
            self._error(f"Could not write the snapshot to {path}.")
            return False
        self.session.message.emit("info", f"Snapshot saved to {path}.")
        return True

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

    # -- help -----------------------------------------------------------------------------
    def show_shortcuts(self) -> help_.ShortcutsWindow:
        if self._help_window is None:
            self._help_window = help_.ShortcutsWindow(self.menus, parent=self)
        self._help_window.show()
        self._help_window.raise_()
        return self._help_window

    # -- session -> window ----------------------------------------------------------------
    def _sync_from_session(self) -> None:
        self._on_session_display(self.session.display)
        self._on_session_paused(self.session.paused)
        self._on_session_pipeline(self.session.pipeline)

    def _update_title(self) -> None:
        name = getattr(self.session.pipeline, "name", "") or "pipeline"
        self.setWindowTitle(f"CNN Explorer - {name} on {self.session.source.describe()}")

    def _on_session_pipeline(self, pipeline) -> None:
        self.actions_by_name["undo"].setEnabled(self.session.can_undo)
        self.actions_by_name["redo"].setEnabled(self.session.can_redo)
        self._update_title()
        self._show_predictions_for_a_new_classifier(pipeline)

    def _show_predictions_for_a_new_classifier(self, pipeline) -> None:
        """A newly opened classifier brings its predictions into view (edits do not)."""
        from gui.docks.predictions import ends_in_class_scores

        if pipeline.name == self._last_network_name:
            return
        self._last_network_name = pipeline.name
        dock = self.docks.get("predictions")
        if dock is not None and ends_in_class_scores(pipeline):
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
        action.setText("Resume" if paused else "Pause")

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
            try:
                self.session.save()
            except (OSError, ValueError) as exc:
                self._error(f"Could not save the session: {exc}")
        self.live.stop()
        for signal, slot in (
            (self.session.message, self.show_message),
            (self.session.pipeline_changed, self._on_session_pipeline),
            (self.session.source_changed, self._on_session_source),
            (self.session.display_changed, self._on_session_display),
            (self.session.paused_changed, self._on_session_paused),
        ):
            signal.disconnect(slot, missing_ok=True)
        if self._help_window is not None:
            self._help_window.close()
        super().closeEvent(event)


def make_resolution_group(window: MainWindow) -> tuple[QActionGroup, QComboBox]:
    """The working-resolution choices, as a radio group for the menu and a toolbar combo."""
    group = QActionGroup(window)
    combo = QComboBox()
    combo.setToolTip(
        "Working resolution: the longest side of the frame the network sees. "
        "Smaller is faster; Full keeps the source's size."
    )
    for value, label in RESOLUTIONS:
        action = QAction(f"{label} pixels" if value else "Full size", group, checkable=True)
        action.setData(value)
        action.setToolTip(f"Process frames with their longest side at {label.lower()}")
        action.triggered.connect(lambda _=False, v=value: window.session.set_display(resolution=v))
        combo.addItem(label, value)
    combo.currentIndexChanged.connect(
        lambda i: window.session.set_display(resolution=combo.itemData(i))
    )
    return group, combo

