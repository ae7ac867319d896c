"""The window's menus and toolbar: declared as data, built here, and the slots they call."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QInputDialog, QLabel, QMenu

from engine.i18n import _
from gui import help as help_
from gui.guards import live_memory_problem
from gui.menus import MENU_ACTIONS, MENUS, RESOLUTIONS, TOOLBAR
from gui.session import SourceSpec


def build_menus(window: MenuActions) -> list[QMenu]:
    """Fill the window's menu bar and toolbar from MENUS, MENU_ACTIONS and TOOLBAR.

    Sets ``window.menu_by_key``, ``window.resolution_group`` and ``window.resolution_combo``
    and fills ``window.actions_by_name``; returns the menus in menu-bar order.
    """
    from engine.graph.spec import BUNDLED, BUNDLED_MODELS
    from gui.samples_menu import fill_samples_menu

    bar = window.menuBar()
    window.menu_by_key = {key: bar.addMenu(_(title)) for key, title in MENUS}
    window.resolution_group, window.resolution_combo = make_resolution_group(window)
    targets = {"session": window.session, "live": window.live, "window": window}
    for menu, entry in MENU_ACTIONS:
        target = window.menu_by_key[menu]
        if entry == "-":
            target.addSeparator()
        elif entry == "docks":
            for group in dict.fromkeys(spec.group for spec in window.dock_specs):
                target.addSection(_(group))
                target.addActions([window.docks[spec.key].toggleViewAction()
                                   for spec in window.dock_specs if spec.group == group])
            target.addSeparator()
        elif entry == "workspaces":
            from gui.layout import WORKSPACES

            sub = target.addMenu(_("&Workspaces"))
            sub.setToolTipsVisible(True)
            for spec in WORKSPACES:
                window.add_menu_action(
                    menu, f"workspace_{spec.key}", _(spec.title),
                    lambda _checked=False, k=spec.key: window.show_workspace(k),
                    spec.shortcut, _(spec.tooltip), menu_object=sub)
            target.addSeparator()
        elif entry == "resolution":
            target.addMenu(_("Working &resolution")).addActions(window.resolution_group.actions())
        elif entry == "samples":
            fill_samples_menu(target.addMenu(_("&Samples")), window.open_source)
        elif entry == "bundled":
            sub = target.addMenu(_("&Bundled pipelines"))
            sub.setToolTipsVisible(True)
            for name in (*BUNDLED, *BUNDLED_MODELS):
                action = sub.addAction(name.capitalize(), lambda n=name: window.open_pipeline(n))
                action.setToolTip(_("Load the bundled pipeline '{name}'").format(name=name))
        else:
            name, text, slot, shortcut, tip, checkable = entry
            owner, _dot, method = slot.partition(".")
            window.add_menu_action(menu, name, _(text), getattr(targets[owner], method),
                                   shortcut, _(tip), checkable)
    for menu in window.menu_by_key.values():
        menu.setToolTipsVisible(True)
    tools = window.addToolBar("Playback")
    tools.setObjectName("toolbar_playback")
    for name in TOOLBAR:
        if name == "-":
            tools.addSeparator()
        elif name == "resolution":
            label = QLabel(_(" Resolution "))
            label.setToolTip(window.resolution_combo.toolTip())
            tools.addWidget(label)
            tools.addWidget(window.resolution_combo)
        else:
            tools.addAction(window.actions_by_name[name])
    return list(window.menu_by_key.values())


def make_resolution_group(window: MenuActions) -> tuple[QActionGroup, QComboBox]:
    """The working-resolution choices, as a radio group for the menu and a toolbar combo."""
    group = QActionGroup(window)
    combo = QComboBox()
    combo.setToolTip(
        _("Working resolution: the longest side of the frame the network sees. "
        "Smaller is faster; Full keeps the source's size.")
    )
    for value, label in RESOLUTIONS:
        action = QAction(_("{label} pixels").format(label=label) if value else _("Full size"),
                         group, checkable=True)
        action.setData(value)
        action.setToolTip(_("Process frames with their longest side at {lower}")
                            .format(lower=_(label).lower()))
        action.triggered.connect(
            lambda _checked=False, v=value: window.session.set_display(resolution=v))
        combo.addItem(_(label), value)
    combo.currentIndexChanged.connect(
        lambda i: window.session.set_display(resolution=combo.itemData(i))
    )
    return group, combo


class MenuActions:
    """The slots the menus and toolbar call, mixed into :class:`~gui.main_window.MainWindow`.

    Relies on the window's ``session``, ``menus``, ``menu_by_key``, ``actions_by_name``,
    ``_help_window``, ``_welcome_window``, ``open_path``, ``open_source`` and ``_error``.
    """

    def add_menu_action(
        self, menu: str, name: str, text: str, slot, shortcut=None, tip: str = "",
        checkable: bool = False, menu_object: QMenu | None = None,
    ) -> QAction:
        """Add an action to a menu ("file", "edit", "view", "playback", "train", "help") by name
        (or to ``menu_object``, a submenu of it).

        For panels and features added later; the shortcuts window lists it automatically.
        """
        action = QAction(text, self, checkable=checkable)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text.replace("&", "").rstrip("."))
        action.setStatusTip(action.toolTip())
        action.triggered.connect(slot)
        self.actions_by_name[name] = action
        (menu_object or self.menu_by_key[menu]).addAction(action)
        return action

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
        self._ask_open(_("Open image"), _("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff "
                                          "*.webp *.gif)"))

    def ask_open_video(self) -> None:
        self._ask_open(_("Open video"), _("Videos (*.avi *.mp4 *.mov *.mkv *.webm *.m4v *.mpg "
                                          "*.wmv)"))

    def ask_open_model(self) -> None:
        self._ask_open(_("Open model"), _("ONNX models (*.onnx)"))

    def ask_export(self) -> None:
        from gui.dialogs.export import ask_export

        ask_export(self)

    def show_gallery(self):
        """File > Model gallery (modal); a downloaded model opens like File > Open model."""
        from gui.dialogs.gallery import GalleryDialog

        dialog = GalleryDialog(self.open_path, parent=self)
        dialog.opened.connect(dialog.accept)
        dialog.open()
        return dialog

    def edit_preprocessing(self) -> None:
        from gui.dialogs.preprocess import edit_preprocessing_flow

        edit_preprocessing_flow(self, self.session)

    def ask_open_lesson(self) -> None:
        from gui.lesson.files import ask_open_lesson

        ask_open_lesson(self)

    def ask_save_lesson(self) -> None:
        from gui.lesson.files import ask_save_lesson

        ask_save_lesson(self)

    def ask_open_pipeline(self) -> None:
        self._ask_open(_("Open pipeline"), _("Pipelines (*.json)"))

    def _ask_open(self, title: str, filters: str) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, title, "", filters)
        if path:
            self.open_path(path)

    def ask_open_camera(self) -> None:
        from engine.io.media import list_cameras

        # Probing absent cameras takes a moment; say so with the cursor.
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            cameras = list_cameras()
        finally:
            QApplication.restoreOverrideCursor()
        if not cameras:
            self._error(_("No camera found: none of cameras 0 to 4 opens. Is one connected?"))
            return
        items = [_("Camera {i}").format(i=i) for i in cameras]
        item, ok = QInputDialog.getItem(self, _("Open camera"), _("Camera:"), items, 0, False)
        if ok:
            index = cameras[items.index(item)]
            self.open_source(SourceSpec(kind="camera", camera_index=index))

    def ask_save_pipeline(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save pipeline as"), self.session.pipeline_path or "pipeline.json",
            _("Pipelines (*.json)"),
        )
        if path:
            self.save_pipeline(path)

    def ask_snapshot(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save snapshot"), "cnn-explorer.png", _("PNG images (*.png)")
        )
        if path:
            self.save_snapshot(path)

    # -- workspaces and training ----------------------------------------------------------
    def show_workspace(self, key: str) -> None:
        """Show the panels of workspace ``key`` ("explore", "lecture", "train")."""
        from gui.workspaces import apply_workspace

        apply_workspace(self, key)

    def reset_layout(self) -> None:
        """Lay the current workspace's panels out as at first (Explore: the default layout)."""
        from gui.workspaces import current_workspace

        self.show_workspace(current_workspace(self))

    def train_controller(self):
        from gui.train.controller import controller_for

        return controller_for(self.session, self.live)

    def _train_shown(self) -> None:
        dock = self.docks.get("train_curves")
        if dock is not None and dock.visibleRegion().isEmpty():
            self.show_workspace("train")

    def train_start(self) -> None:
        self._train_shown()
        self.train_controller().start()

    def train_pause(self) -> None:
        self.train_controller().pause()

    def train_step(self) -> None:
        self._train_shown()
        self.train_controller().step_batch()

    def train_epoch(self) -> None:
        self._train_shown()
        self.train_controller().step_epoch()

    def train_stop(self) -> None:
        self.train_controller().stop()

    def train_reset(self) -> None:
        self.train_controller().reset()

    def train_use(self) -> None:
        if self.train_controller().use_network():
            self.show_workspace("explore")

    def train_save(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save the trained network"), "trained.json", _("Pipelines (*.json)"))
        if path:
            self.train_controller().save(path)

    def train_export(self) -> None:
        self.show_workspace("train")
        self.docks["train_controls"].widget().ask_export()

    # -- help and pipeline or snapshot files ---------------------------------------------
    def show_welcome(self):
        """The welcome window (non-modal): workspaces, three things to try, the tour."""
        from gui.welcome import WelcomeDialog

        if self._welcome_window is None:
            self._welcome_window = WelcomeDialog(self.start_guided_tour, parent=self)
        self._welcome_window.show()
        self._welcome_window.raise_()
        return self._welcome_window

    def start_guided_tour(self) -> None:
        from gui.tour import start_tour

        start_tour(self, 1)

    def show_preferences(self) -> None:
        from gui.dialogs.preferences import show_preferences

        show_preferences(self)

    def show_about(self) -> None:
        help_.show_about(self)

    def show_shortcuts(self) -> help_.ShortcutsWindow:
        if self._help_window is None:
            self._help_window = help_.ShortcutsWindow(self.menus, parent=self)
        self._help_window.show()
        self._help_window.raise_()
        return self._help_window

    def open_pipeline(self, path_or_name: str | Path) -> bool:
        from engine.resolve import resolve_pipeline

        try:
            pipeline = resolve_pipeline(str(path_or_name))
        except (OSError, ValueError) as exc:
            self._error(_("Could not open the pipeline: {problem}").format(problem=exc))
            return False
        problem = live_memory_problem(pipeline, self.live.frame_hw)
        if problem is not None:  # refused before it replaces the pipeline that runs
            self._error(_("Could not open the pipeline: {problem}.").format(problem=problem))
            return False
        is_file = Path(str(path_or_name)).suffix.lower() == ".json"
        self.session.set_pipeline(pipeline, path=str(path_or_name) if is_file else None)
        return True

    def save_pipeline(self, path: str | Path) -> bool:
        from engine.graph.spec import save_pipeline

        try:
            save_pipeline(self.session.pipeline, path)
        except (OSError, ValueError) as exc:
            self._error(_("Could not save the pipeline: {exc}").format(exc=exc))
            return False
        self.session.pipeline_path = str(path)
        self.session.message.emit("info", _("Pipeline saved to {path}.").format(path=path))
        return True

    def save_snapshot(self, path: str | Path) -> bool:
        """Save a PNG of the whole window."""
        if not self.grab().save(str(path), "PNG"):
            self._error(_("Could not write the snapshot to {path}.").format(path=path))
            return False
        self.session.message.emit("info", _("Snapshot saved to {path}.").format(path=path))
        return True
