"""The window's files, drops, cameras, status bar, threads and layout at 1280 x 800."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QImage,
)

from gui.live import LiveResults
from gui.main_window import MainWindow
from gui.session import SourceSpec


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
    import engine.io.media

    monkeypatch.setattr(engine.io.media, "list_cameras", lambda max_index=4: [])
    before = main_window.session.source
    main_window.actions_by_name["open_camera"].trigger()
    level, text = main_window.last_message
    assert level == "error" and text.startswith("No camera found")
    assert main_window.session.source == before


def test_camera_list_offers_the_cameras_that_open(qtbot, main_window, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    import engine.io.media

    monkeypatch.setattr(engine.io.media, "list_cameras", lambda max_index=4: [0, 2])
    offered = []

    def choose(parent, title, label, items, current=0, editable=True):
        offered.append(list(items))
        return "Camera 2", True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(choose))
    main_window.actions_by_name["open_camera"].trigger()
    assert offered == [["Camera 0", "Camera 2"]]
    assert main_window.session.source == SourceSpec(kind="camera", camera_index=2)
    # Cancelling the list leaves the source alone.
    before = main_window.session.source
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("", False)))
    main_window.actions_by_name["open_camera"].trigger()
    assert main_window.session.source == before


def drag_enter(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(event)
    return event


def test_drag_enter_accepts_images_and_refuses_other_files(qtbot, main_window, tmp_path):
    picture, notes = tmp_path / "cat.png", tmp_path / "notes.txt"
    picture.write_bytes(b"")
    notes.write_text("hello")
    assert drag_enter(main_window, [picture]).isAccepted()
    assert not drag_enter(main_window, [notes]).isAccepted()
    assert not drag_enter(main_window, [picture, notes]).isAccepted()  # all or nothing
    assert not drag_enter(main_window, []).isAccepted()


def test_status_bar_shows_the_live_statistics(qtbot, main_window, video_file):
    stats = []
    main_window.live.statsUpdated.connect(stats.append)
    main_window.session.set_source(SourceSpec(kind="video", path=str(video_file)))
    # Stats come twice a second; wait for one with the video running and frames shown.
    qtbot.waitUntil(lambda: any(s.capture_fps > 0 and s.display_fps > 0 and s.engine_ms > 0
                                for s in stats), timeout=10000)
    last = stats[-1]
    expected = (f"capture {last.capture_fps:.0f} fps · engine {last.engine_ms:.1f} ms · "
                f"display {last.display_fps:.0f} fps · dropped {last.dropped}")
    assert main_window.stats_label.text() == expected
    assert re.fullmatch(r"capture [1-9]\d* fps · engine \d+\.\d ms · display [1-9]\d* fps · "
                        r"dropped \d+", main_window.stats_label.text())


def test_no_widget_outlives_the_window(qtbot, session, video_file):
    import gc

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


def test_a_shorter_pipeline_never_shows_a_view_a_layer_it_lacks(qtbot, main_window):
    from engine.resolve import resolve_pipeline
    from gui.tour import start_tour

    session = main_window.session
    session.set_selected_layer(7)
    session.set_pipeline(resolve_pipeline("lecture"))  # one layer: every view must follow
    assert session.selected_layer == 0
    for stop in range(1, 11):  # each stop's pipeline replaces one whose last layer is selected
        session.set_selected_layer(len(session.pipeline.nodes) - 1)
        start_tour(main_window, stop)
        qtbot.wait(20)
