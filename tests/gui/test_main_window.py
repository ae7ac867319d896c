"""The main window: docks from the registry, menus, layout and session restore, files."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from gui.docks import DOCKS
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


def test_shortcuts_window_lists_every_shortcut(qtbot, main_window):
    expected = {
        a.text().replace("&", "")
        for a in [*main_window.actions_by_name.values()]
        + [d.toggleViewAction() for d in main_window.docks.values()]
        if not a.shortcut().isEmpty()
    }
    window = main_window.show_shortcuts()
    listed = {window.table.item(r, 1).text() for r in range(window.table.rowCount())}
    assert listed == expected
    assert {"Pause", "Next layer", "Open image...", "Save snapshot..."} <= listed
    keys = {window.table.item(r, 1).text(): window.table.item(r, 2).text()
            for r in range(window.table.rowCount())}
    assert keys["Pause"] == "Space"


def test_bad_files_give_messages_not_exceptions(qtbot, main_window, tmp_path):
    s = main_window.session
    before = s.pipeline
    bad_json = tmp_path / "net.json"
    bad_json.write_text("{ truncated")
    for path, words in (
        (tmp_path / "missing.png", "does not exist"),
        (tmp_path / "notes.txt", "not an image, video or pipeline"),
        (bad_json, "Could not open the pipeline"),
    ):
        (tmp_path / "notes.txt").write_text("hello")
        assert not main_window.open_path(path)
        level, text = main_window.last_message
        assert level == "error" and words in text, text
        assert main_window.message_label.text() == text
    assert s.pipeline is before


def test_open_and_save_pipeline_and_snapshot(qtbot, main_window, tmp_path):
    s = main_window.session
    assert main_window.open_pipeline("edges")
    assert s.pipeline.name == "edges" and s.can_undo
    out = tmp_path / "mine.json"
    assert main_window.save_pipeline(out)
    s.undo()
    assert main_window.open_path(out)
    assert s.pipeline_path == str(out) and s.pipeline.name == "edges"
    assert main_window.open_pipeline("lecture")
    assert s.pipeline_path is None and s.pipeline.name == "lecture"
    shot = tmp_path / "shot.png"
    assert main_window.save_snapshot(shot)
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (main_window.width(), main_window.height())


def test_dropping_files_opens_them(qtbot, main_window, video_file):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(video_file))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    main_window.dropEvent(event)
    assert main_window.session.source == SourceSpec(kind="video", path=str(video_file))
    qtbot.waitUntil(lambda: main_window.live.source_info is not None
                    and main_window.live.source_info.kind == "video", timeout=5000)
    source = main_window.docks["source"].widget()
    assert "clip.avi" in source.info.text()


def test_no_thread_outlives_the_window(qtbot, session, video_file, app_threads):
    before = app_threads()
    live = LiveResults(session)
    window = MainWindow(session, live, persist=False)
    qtbot.addWidget(window)
    window.show()
    session.set_source(SourceSpec(kind="video", path=str(video_file)))
    qtbot.waitUntil(lambda: live.latest is not None, timeout=5000)
    window.close()
    assert not live.running
    assert app_threads() <= before


def test_source_panel_shows_the_frame_and_its_channels(qtbot, main_window):
    live, s = main_window.live, main_window.session
    qtbot.waitUntil(lambda: live.latest is not None, timeout=5000)
    source = main_window.docks["source"].widget()
    assert not source.channels_view.isVisibleTo(source)
    s.set_display(show_channels=True)
    frame = live.latest.frame
    assert source.channels_view.isVisibleTo(source)
    np.testing.assert_array_equal(source.image.image, frame)
    h, w = frame.shape[:2]
    gray = np.zeros((h, w), np.float64)
    for y in range(0, h, 37):  # a plain per-pixel reference on a sample of rows
        for x in range(w):
            r, g, b = (float(v) for v in frame[y, x])
            gray[y, x] = 0.299 * r + 0.587 * g + 0.114 * b
    red, green, blue, luma = (item.image for item in source.channel_items)
    np.testing.assert_array_equal(red, frame[..., 0])
    np.testing.assert_array_equal(blue, frame[..., 2])
    np.testing.assert_array_equal(green, frame[..., 1])
    np.testing.assert_allclose(luma[::37], gray[::37], atol=1e-3)
    info = source.info.text()
    assert "Sample" in info and f"{w} x {h}" in info


def test_no_camera_gives_a_clear_message(qtbot, main_window, monkeypatch):
    import engine.media

    monkeypatch.setattr(engine.media, "list_cameras", lambda max_index=4: [])
    before = main_window.session.source
    main_window.actions_by_name["open_camera"].trigger()
    level, text = main_window.last_message
    assert level == "error" and text.startswith("No camera found")
    assert main_window.session.source == before


def test_no_widget_outlives_the_window(qtbot, session, video_file):
    import gc

    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    before = set(QApplication.topLevelWidgets())
    live = LiveResults(session)
    window = MainWindow(session, live, persist=False)
    window.show()
    window.show_shortcuts()
    window.docks["ledger"].setFloating(True)  # a floating dock is a top-level window
    qtbot.waitUntil(lambda: live.latest is not None, timeout=5000)
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # The session lives on (as in a test or a notebook): its signals must not reach dead docks.
    session.set_display(show_channels=True, colormap="magma")
    session.set_selected_layer(2)
    session.set_pipeline(session.pipeline.remove_layer(0))
    del window
    gc.collect()
    assert set(QApplication.topLevelWidgets()) <= before


def test_default_layout_fits_a_1280_by_800_screen_and_holds_still(qtbot, main_window):
    live = main_window.live
    qtbot.waitUntil(lambda: live.latest is not None, timeout=10000)
    qtbot.wait(300)  # every dock paints the first result
    hint = main_window.minimumSizeHint()
    assert hint.width() <= 1100 and hint.height() <= 760, hint
    middle = main_window.docks["stepper"].width()
    for layer in (1, 3, 6, 0):  # new captions and readouts must not squeeze the middle column
        main_window.session.set_selected_layer(layer)
        qtbot.wait(100)
    assert abs(main_window.docks["stepper"].width() - middle) <= 2
