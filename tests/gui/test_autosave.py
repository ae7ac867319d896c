"""Autosave: debounced saves after changes, marked as running until the close, failures said
once, nothing in screenshot runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui.session import Session
from tests.gui.test_session_recovery import Messages


def _tmp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_autosave_follows_changes_debounced_and_marks_the_run(qtbot, tmp_path, app_threads):
    from gui.autosave import Autosaver

    before = app_threads()
    s = Session()
    path = tmp_path / "session.json"
    saver = Autosaver(s, path, delay_ms=150)
    qtbot.waitUntil(lambda: saver.saves == 1 and not saver.pending, timeout=5000)
    for i in range(1, 5):  # a burst of edits: one save
        s.set_selected_layer(i)
        s.set_display(colormap=("gray", "magma")[i % 2])
    qtbot.waitUntil(lambda: saver.saves >= 2 and not saver.pending, timeout=5000)
    assert saver.saves == 2
    data = json.loads(path.read_text())
    assert data["running"] is True and data["selected_layer"] == 4
    assert data["display"]["colormap"] == "gray"
    saver.close()
    assert json.loads(path.read_text())["running"] is False
    assert _tmp_files(tmp_path) == []
    s.set_selected_layer(1)  # after close: nothing follows the session any more
    qtbot.wait(300)
    assert json.loads(path.read_text())["selected_layer"] == 4
    assert app_threads() <= before


def test_autosave_that_cannot_write_says_so_once_and_the_window_goes_on(qtbot, tmp_path):
    from gui.autosave import Autosaver

    blocker = tmp_path / "config"
    blocker.write_text("a file where the folder should be")
    s = Session()
    messages = Messages(s)
    saver = Autosaver(s, blocker / "session.json", delay_ms=50)
    qtbot.waitUntil(lambda: not saver.pending, timeout=5000)
    for i in range(3):
        s.set_selected_layer(i + 1)
        qtbot.waitUntil(lambda: not saver.pending, timeout=5000)
    saver.wait()
    qtbot.wait(100)
    saver._on_timer()  # reports what the last write met
    saver.wait()
    warnings = [text for level, text in messages.calls if level == "warning"]
    assert len(warnings) == 1 and "could not be autosaved" in warnings[0], messages.calls
    with pytest.raises(OSError):
        saver.close()


def test_a_screenshot_run_starts_no_autosave(qtbot, main_window):
    from gui.live import LiveResults
    from gui.main_window import MainWindow

    live = LiveResults(main_window.session, start=False)
    window = MainWindow(main_window.session, live, persist=False)
    qtbot.addWidget(window)
    assert window.autosaver is None and main_window.autosaver is not None
    window.close()
