"""The main window: docks from the registry, menus, layout and session restore, files."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import (
    QAction,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView

from gui.help import shortcut_entries
from gui.layout import DOCKS
from gui.live import LiveResults
from gui.main_window import MainWindow
from gui.session import Session, SourceSpec

AREA = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "top": Qt.DockWidgetArea.TopDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}


def test_every_registered_dock_is_built_in_its_area(main_window):
    assert list(main_window.docks) == [spec.key for spec in DOCKS]
    for spec in DOCKS:
        dock = main_window.docks[spec.key]
        assert isinstance(dock.widget(), spec.load())
        assert dock.windowTitle() == spec.title and dock.toolTip()
        assert main_window.dockWidgetArea(dock) == AREA[spec.area]
        assert not dock.isFloating()
    title = main_window.windowTitle()
    assert main_window.session.pipeline.name in title and "sample" in title


def test_view_menu_toggles_docks_and_reset_layout_restores_them(qtbot, main_window):
    ledger, maps, source = (main_window.docks[k] for k in ("ledger", "maps", "source"))
    ledger.toggleViewAction().trigger()
    assert ledger.isHidden()
    ledger.toggleViewAction().trigger()
    assert not ledger.isHidden()
    ledger.toggleViewAction().trigger()
    main_window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, maps)
    source.setFloating(True)
    main_window.actions_by_name["reset_layout"].trigger()
    for spec in DOCKS:
        dock = main_window.docks[spec.key]
        assert dock.isHidden() != spec.shown and not dock.isFloating(), spec.key
        assert main_window.dockWidgetArea(dock) == AREA[spec.area], spec.key


def test_lecture_panels_open_as_tabs_from_the_view_menu(qtbot, main_window):
    player = main_window.docks["conv_player"]
    assert player.isHidden()
    player.toggleViewAction().trigger()
    assert not player.isHidden()
    assert player in main_window.tabifiedDockWidgets(main_window.docks["stepper"])
    sections = [a.text() for a in main_window.menu_by_key["view"].actions() if a.isSeparator()]
    assert "Explore" in sections and "Lecture" in sections


def test_layout_and_session_survive_a_restart(qtbot, config_dir, video_file):
    session = Session()
    live = LiveResults(session)
    first = MainWindow(session, live)
    qtbot.addWidget(first)
    first.show()
    first.docks["ledger"].hide()
    first.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, first.docks["maps"])
    session.set_source(SourceSpec(kind="video", path=str(video_file)))
    session.set_display(resolution=320, show_channels=True)
    edited = session.pipeline.remove_layer(len(session.pipeline.nodes) - 1)
    session.set_pipeline(edited)
    session.set_selected_layer(3)
    first.close()
    assert (config_dir / "session.json").is_file() and (config_dir / "layout.ini").is_file()

    restored = Session()
    assert restored.load()
    live2 = LiveResults(restored)
    second = MainWindow(restored, live2)
    qtbot.addWidget(second)
    second.show()
    try:
        assert second.docks["ledger"].isHidden()
        assert second.dockWidgetArea(second.docks["maps"]) == Qt.DockWidgetArea.BottomDockWidgetArea
        assert restored.pipeline == edited
        assert restored.source == session.source
        assert restored.display == session.display
        assert restored.selected_layer == 3
        assert second.resolution_combo.currentText() == "320"
        assert second.actions_by_name["channels"].isChecked()
    finally:
        second.close()


def test_menus_drive_the_session(qtbot, main_window):
    s, act = main_window.session, main_window.actions_by_name
    act["next_layer"].trigger()
    act["next_layer"].trigger()
    act["previous_layer"].trigger()
    assert s.selected_layer == 1
    assert not act["undo"].isEnabled()
    s.set_pipeline(s.pipeline.remove_layer(0))
    assert act["undo"].isEnabled() and not act["redo"].isEnabled()
    act["undo"].trigger()
    assert act["redo"].isEnabled() and not s.can_undo
    act["pause"].trigger()
    assert s.paused and act["pause"].text() == "Resume"
    s.set_paused(False)
    assert not act["pause"].isChecked()
    main_window.resolution_combo.setCurrentIndex(main_window.resolution_combo.findText("Full"))
    assert s.display.resolution is None
    s.set_display(resolution=640)
    checked = [a for a in main_window.resolution_group.actions() if a.isChecked()]
    assert [a.data() for a in checked] == [640]
    act["channels"].trigger()
    assert s.display.show_channels
    source = main_window.docks["source"].widget()
    assert source.channels_view.isVisibleTo(source)


def every_shortcut_object(window):
    """Walk the whole window by hand: each QAction and QShortcut (and button shortcut) that
    has a key sequence, wherever it lives."""
    found = []
    for action in window.findChildren(QAction):
        if any(not k.isEmpty() for k in action.shortcuts()):
            found.append(action)
    for shortcut in window.findChildren(QShortcut):
        if not shortcut.key().isEmpty():
            found.append(shortcut)
    for button in window.findChildren(QAbstractButton):
        if not button.shortcut().isEmpty():
            found.append(button)
    return found


def table_rows(help_window):
    table = help_window.table
    return [tuple(table.item(r, c).text() if table.item(r, c) else "" for c in range(2))
            for r in range(table.rowCount())]


def test_shortcuts_window_lists_every_shortcut_of_the_window(qtbot, main_window):
    assert not main_window.docks["conv_player"].is_built  # hidden panels are built lazily...
    window = main_window.show_shortcuts()
    assert main_window.docks["conv_player"].is_built  # ... and listed all the same
    expected = every_shortcut_object(main_window)
    listed = [e.source for e in window.entries]
    assert len({id(o) for o in listed}) == len(listed)  # each once
    assert {id(o) for o in listed} == {id(o) for o in expected}
    rows = table_rows(window)
    for entry in window.entries:
        assert any(r[0].split("\n")[0] == entry.action and r[1] == entry.keys
                   for r in rows), entry
        if entry.clash:  # said in the row, as the heading says the panel is where it works
            assert any(r[0].startswith(f"{entry.action}\nDoes nothing") for r in rows), entry
        assert (f"{entry.group}: {entry.where}", "") in rows  # its heading
    by_group = {}
    for e in window.entries:
        by_group.setdefault(e.group, {})[e.keys] = e
    assert by_group["Playback menu"]["Space"].action == "Pause"
    assert by_group["File menu"]["Ctrl+O"].where == "anywhere in the window"
    panels = {
        "Pipeline panel": {"Del", "Ctrl+D", "Alt+Up", "Alt+Down"},
        "Layer by layer panel": {"Left", "Right"},
        "Convolution player panel": {"Home", "End", "Left", "Right", "P"},
        "Pooling player panel": {"Home", "End", "Left", "Right", "P"},
        "Guided tour panel": {"Alt+Left", "Alt+Right", "Alt+L"},
    }
    for group, keys in panels.items():
        assert keys <= set(by_group[group]), group
    title = "Pipeline"
    assert by_group["Pipeline panel"]["Ctrl+D"].where == f"when the {title} panel has the focus"
    assert "duplicate" in by_group["Pipeline panel"]["Ctrl+D"].action.lower() or \
        "copy" in by_group["Pipeline panel"]["Ctrl+D"].action.lower()
    assert by_group["Layer by layer panel"]["Left"].action == "Previous layer"
    assert by_group["Guided tour panel"]["Alt+Right"].where == \
        "while the Guided tour panel is shown"


def test_a_shortcut_added_to_a_dock_later_is_listed(qtbot, main_window):
    help_window = main_window.show_shortcuts()
    ledger = main_window.docks["ledger"].widget()
    extra = QShortcut(QKeySequence("Ctrl+Shift+F12"), ledger)
    extra.setWhatsThis("Test shortcut")
    extra.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    help_window.hide()
    main_window.show_shortcuts()
    entry = next(e for e in help_window.entries if e.source is extra)
    assert (entry.group, entry.action, entry.keys) == ("Ledger panel", "Test shortcut",
                                                      "Ctrl+Shift+F12")
    assert entry.where == "when the Ledger panel has the focus"


def test_shortcut_entries_say_where_each_works_and_mark_clashes(qtbot):
    from PySide6.QtWidgets import QDockWidget, QMainWindow, QPushButton, QWidget

    window = QMainWindow()
    qtbot.addWidget(window)
    menu = window.menuBar().addMenu("&Play")
    pause = menu.addAction("Pause")
    pause.setShortcut(QKeySequence("Space"))
    dock = QDockWidget("Toy", window)
    body = QWidget()
    dock.setWidget(body)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    focus_only = QShortcut(QKeySequence("Space"), body)
    focus_only.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    focus_only.setWhatsThis("Play the toy")
    shown = QPushButton("Go", body)
    shown.setShortcut(QKeySequence("Alt+G"))
    shown.setToolTip("Go on (Alt+G)")
    loose = QShortcut(QKeySequence("Ctrl+F11"), window)
    loose.setContext(Qt.ShortcutContext.ApplicationShortcut)
    entries = {e.source: e for e in shortcut_entries([menu], window)}
    assert entries[pause].where == "anywhere in the window" and entries[pause].clash == ""
    assert (entries[focus_only].group, entries[focus_only].action) == ("Toy panel",
                                                                       "Play the toy")
    assert entries[focus_only].where == "when the Toy panel has the focus"
    assert entries[focus_only].clash == "Play > Pause"
    assert (entries[shown].action, entries[shown].keys) == ("Go on", "Alt+G")
    assert entries[shown].where == "while the Toy panel is shown"
    assert (entries[loose].group, entries[loose].where) == ("Window", "anywhere in the window")
    assert len(entries) == 4


def _focus_inside(qtbot, widget):
    """Give the focus to ``widget`` or a button or list inside it (not a text field, which
    keeps the keys it types). The offscreen platform now and then leaves the window without
    focus (a tooltip or popup coming and going), so the window is activated again as needed."""
    from PySide6.QtWidgets import QApplication

    candidates = [widget, *widget.findChildren(QAbstractButton),
                  *widget.findChildren(QAbstractItemView)]
    target = next(w for w in candidates
                  if w.isVisible() and w.isEnabled()
                  and w.focusPolicy() & Qt.FocusPolicy.TabFocus)

    def has_focus():
        if QApplication.focusWidget() is target:
            return True
        widget.window().activateWindow()
        target.setFocus()
        return False

    qtbot.waitUntil(has_focus, timeout=3000)
    return target


def press(widget, key, modifiers):
    """Press and release ``key`` with ``modifiers`` held, as one event each. (QTest.keyClick
    also presses Alt on its own, which hands the focus to the menu bar.) A key press sent by
    the application is offered to the shortcuts first, as a typed one is."""
    from PySide6.QtWidgets import QApplication

    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, key, modifiers))


def test_panel_shortcuts_work_where_the_help_says(qtbot, main_window):
    """Every panel shortcut that works "when the panel has the focus" fires with the focus
    there and not with the focus in another panel; a marked clash fires nowhere."""
    main_window.activateWindow()
    qtbot.waitActive(main_window)
    for key in ("conv_player", "pool_player"):
        main_window.docks[key].toggleViewAction().trigger()
    entries = [e for e in shortcut_entries(main_window.menus, main_window)
               if e.where.endswith("panel has the focus")]
    assert len(entries) >= 16
    docks = {f"{d.windowTitle()} panel": d for d in main_window.docks.values()}
    elsewhere = main_window.docks["ledger"].widget()
    for entry in entries:
        main_window.session.set_selected_layer(2)  # a middle layer: up and down both apply
        dock = docks[entry.group]
        dock.show()
        dock.raise_()
        hits = []
        signal = (entry.source.activated if isinstance(entry.source, QShortcut)
                  else entry.source.triggered)
        signal.connect(lambda *_, h=hits: h.append(1))
        sequence = QKeySequence(entry.keys)
        combo = sequence[0]
        for target in (elsewhere, dock.widget()):
            focused = _focus_inside(qtbot, target)
            paused = main_window.session.paused  # Space elsewhere is Pause, as it should be
            press(focused, combo.key(), combo.keyboardModifiers())
            qtbot.wait(10)
            if target is elsewhere:
                assert hits == [], f"{entry} fired outside its panel"
        assert hits == ([] if entry.clash else [1]), entry
        if entry.clash:  # "here neither works": the window-wide one did not run either
            assert main_window.session.paused == paused, entry
